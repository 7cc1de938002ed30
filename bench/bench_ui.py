"""UI: time to first byte and full load of a use-case page with 1,000 entries.

The server runs in-process (uvicorn on loopback); requests come from httpx over real
TCP. ``/healthz`` (no ledger read) is the baseline measured in the same run, so the
ratio shows what the page itself costs. Target: ≤ 300 ms server time for the page.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

USECASE = "uc-00000"


@dataclass(frozen=True)
class Size:
    per_chain: int  # entries in the use case's chain
    runs: int  # requests to each page; the median is reported


FULL = Size(per_chain=1000, runs=15)
SMOKE = Size(per_chain=20, runs=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(client, url: str, runs: int) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    """Median time to first byte, full load and server time (ms), and the body size."""
    ttfb, full, server = [], [], []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        with client.stream("GET", url) as response:
            first = None
            body = bytearray()
            for chunk in response.iter_raw():
                if first is None:
                    first = time.perf_counter()
                body.extend(chunk)
            end = time.perf_counter()
        assert response.status_code == 200, response.status_code
        ttfb.append(((first or end) - start) * 1000)
        full.append((end - start) * 1000)
        timing = response.headers.get("server-timing", "app;dur=nan")
        server.append(float(timing.split("dur=")[1]))
        size = len(body)
    return statistics.median(ttfb), statistics.median(full), statistics.median(server), size


def verify_floor(session) -> float:  # type: ignore[no-untyped-def]
    from gates.ledger.verify import verify_ledger

    samples = []
    for _ in range(5):
        start = time.perf_counter()
        verify_ledger(session.ledger, [USECASE])
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(size: Size = FULL) -> None:
    import httpx
    import uvicorn

    from bench.ledger_gen import generate, workspace
    from gates.ui.app import create_app
    from gates.workspace.session import Session

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        session = workspace(root)
        start = time.perf_counter()
        generate(session, usecases=1, per_chain=size.per_chain)
        print(f"generated {size.per_chain} signed entries in {time.perf_counter() - start:.1f} s")
        port = free_port()
        app = create_app(lambda: Session.open(root))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                client.get(f"/usecases/{USECASE}")  # warm up templates and imports
                middle = size.per_chain // 2  # an entry in the middle of the chain
                rows = [
                    ("GET /healthz (baseline)", "/healthz"),
                    (f"GET /usecases/{USECASE}", f"/usecases/{USECASE}"),
                    (f"GET /entries/{USECASE}/{middle}", f"/entries/{USECASE}/{middle}"),
                    ("GET / (index)", "/"),
                ]
                results = {name: measure(client, url, size.runs) for name, url in rows}
        finally:
            server.should_exit = True
            thread.join(timeout=10)
        floor = verify_floor(Session.open(root))
    base_ttfb = results[rows[0][0]][0]
    print(
        f"median of {size.runs} requests each, chain of {size.per_chain} entries, server on loopback"
    )
    for name, (ttfb, full, server_ms, size) in results.items():
        print(
            f"{name:32s} TTFB {ttfb:7.1f} ms  full {full:7.1f} ms  server {server_ms:7.1f} ms  "
            f"{size / 1024:7.0f} KiB  (TTFB {ttfb / base_ttfb:6.1f}× baseline)"
        )
    print(
        f"{'verify_ledger of that chain alone':32s} {floor:7.1f} ms in-process: the floor of any "
        "page with a verification banner"
    )
    page = results[rows[1][0]]
    verdict = "ok" if page[2] <= 300 else "OVER TARGET"
    print(f"use-case page server time {page[2]:.0f} ms; target ≤ 300 ms: {verdict}")

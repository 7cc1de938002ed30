"""UI: a use-case page with 1,000 entries, cold and once its head is verified, alone and
under 20 concurrent clients. The page verifies the whole chain; its timeline shows the
newest 100 entries (``gates.ui.app.TIMELINE_PAGE``).

The server runs in-process (uvicorn on loopback); requests come from httpx over real
TCP. Measured in the same run:

- ``verify_ledger`` of the chain in-process: the floor of any first view;
- the page served with no verified heads and no memo (every signature checked on
  every request, as before): the "before" figure;
- listing, reading and hashing the chain's entries in-process: what a page verified
  before still pays (it never takes the store's word for what it holds);
- the first view (cold: no verified heads, nothing remembered), the page with its head
  verified but its memo dropped (heads only: what a chain with a new entry costs), and
  the page once verified and remembered (warm), the entry page and the index alike;

each request interleaved with the floors, so that all see the same machine load;
- 20 clients (threads of another process) requesting the use-case page at once, each
  several times: p50 and p95.

Targets: warm use-case page ≤ 50 ms server time; first view ≤ 1.2× ``verify_ledger``;
20 concurrent clients p95 ≤ 200 ms.
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
    clients: int  # concurrent clients
    rounds: int  # requests each concurrent client makes


FULL = Size(per_chain=1000, runs=15, clients=20, rounds=5)
SMOKE = Size(per_chain=20, runs=2, clients=4, rounds=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(client, url: str) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    """Time to first byte, full load and server time (ms), and the body size."""
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
    timing = response.headers.get("server-timing", "app;dur=nan")
    server = float(timing.split("dur=")[1])
    return ((first or end) - start) * 1000, (end - start) * 1000, server, len(body)


def concurrent(port: int, url: str, clients: int, rounds: int) -> list[float]:
    """Full-load latencies (ms) of ``clients`` clients each requesting ``url`` ``rounds``
    times, all starting together, from a process of their own (so that the clients do
    not take the server's interpreter lock)."""
    import json
    import subprocess
    import sys

    script = f"from bench.bench_ui import client_burst; client_burst({port}, {url!r}, {clients}, {rounds})"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    return [float(v) for v in json.loads(done.stdout)]


def client_burst(port: int, url: str, clients: int, rounds: int) -> None:
    """Print, as JSON, the latencies of ``clients`` threads each requesting ``url``."""
    import json

    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client_loop() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            client.get("/healthz")  # connect before the clock starts
            start.wait()
            for _ in range(rounds):
                _, full, _, _ = fetch(client, url)
                with lock:
                    latencies.append(full)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(latencies))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def verify_once(root: Path) -> float:
    """``verify_ledger`` of the chain in-process (ms): the floor of any first view."""
    from gates.ledger.verify import verify_ledger
    from gates.workspace.session import Session

    ledger = Session.open(root).ledger
    start = time.perf_counter()
    verify_ledger(ledger, [USECASE])
    return (time.perf_counter() - start) * 1000


def read_once(root: Path) -> float:
    """Listing, reading and hashing every entry of the chain (ms): what a page verified
    before still pays, since it never takes the store's word for what it holds."""
    import hashlib

    from gates.workspace.session import Session

    store = Session.open(root).store
    start = time.perf_counter()
    listed = store.list_objects(f"chains/{USECASE}/")
    for _, raw in store.get_many(info.key for info in listed):
        hashlib.sha256(raw).digest()
    return (time.perf_counter() - start) * 1000


class Memory:
    """What the UI process keeps: verified heads and its memo, forgettable for a cold view."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.forget()

    def forget(self) -> None:
        from gates.ledger.verified_heads import HeadsMemory
        from gates.workspace.memo import Memo

        self.heads = HeadsMemory() if self.keep else None
        self.memo = Memo() if self.keep else None

    def forget_memo(self) -> None:
        from gates.workspace.memo import Memo

        self.memo = Memo() if self.keep else None

    def session_factory(self, root: Path):  # type: ignore[no-untyped-def]
        from gates.workspace.session import Session

        return lambda: Session.open(root, heads_keeper=self.heads, memo=self.memo)


def main(size: Size = FULL) -> None:
    import httpx
    import uvicorn

    from bench.ledger_gen import generate, workspace
    from gates.ui.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        session = workspace(root)
        start = time.perf_counter()
        generate(session, usecases=1, per_chain=size.per_chain)
        print(f"generated {size.per_chain} signed entries in {time.perf_counter() - start:.1f} s")
        before, now = Memory(keep=False), Memory(keep=True)
        servers = []
        ports = {}
        for name, memory in (("before", before), ("now", now)):
            port = free_port()
            app = create_app(memory.session_factory(root))
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.02)
            servers.append((server, thread))
            ports[name] = port
        page = f"/usecases/{USECASE}"
        middle = size.per_chain // 2  # an entry in the middle of the chain
        pages = [
            ("GET /healthz (baseline)", "/healthz"),
            (f"GET {page}", page),
            (f"GET /entries/{USECASE}/{middle}", f"/entries/{USECASE}/{middle}"),
            ("GET / (index)", "/"),
        ]
        samples: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
        floors: dict[str, list[float]] = {"verify": [], "read": []}
        try:
            with (
                httpx.Client(base_url=f"http://127.0.0.1:{ports['before']}", timeout=60) as old,
                httpx.Client(base_url=f"http://127.0.0.1:{ports['now']}", timeout=60) as new,
            ):
                old.get(page)  # warm up templates and imports
                new.get(page)
                # Interleaved, so that every figure and its floor see the same machine load.
                for _ in range(size.runs):
                    floors["verify"].append(verify_once(root))
                    floors["read"].append(read_once(root))
                    samples.setdefault(("before", pages[1][0]), []).append(fetch(old, page))
                    for name, url in pages:
                        now.forget()
                        samples.setdefault(("cold", name), []).append(fetch(new, url))
                    for name, url in pages:
                        now.forget_memo()  # heads kept: only parsing and folding again
                        samples.setdefault(("heads only", name), []).append(fetch(new, url))
                    for name, url in pages:
                        fetch(new, url)  # remembered from here
                        samples.setdefault(("warm", name), []).append(fetch(new, url))
            now.forget()
            with httpx.Client(base_url=f"http://127.0.0.1:{ports['now']}", timeout=60) as new:
                fetch(new, page)  # the first view verifies the head
            latencies = concurrent(ports["now"], page, size.clients, size.rounds)
        finally:
            for server, thread in servers:
                server.should_exit = True
                thread.join(timeout=10)
    floor = statistics.median(floors["verify"])
    read_floor = statistics.median(floors["read"])
    results = {
        key: (
            statistics.median(s[0] for s in got),
            statistics.median(s[1] for s in got),
            statistics.median(s[2] for s in got),
            got[-1][3],
        )
        for key, got in samples.items()
    }
    print(
        f"median of {size.runs} requests each, chain of {size.per_chain} entries, "
        "server on loopback; server = the app's own time (Server-Timing)"
    )
    print(f"{'verify_ledger of that chain (floor)':44s} {floor:8.1f} ms in-process")
    print(f"{'list + read + hash its entries':44s} {read_floor:8.1f} ms in-process")
    for (mode, name), (ttfb, full, server_ms, body) in results.items():
        print(
            f"{mode + ' ' + name:44s} server {server_ms:8.1f} ms  TTFB {ttfb:8.1f} ms  "
            f"full {full:8.1f} ms  {body / 1024:6.0f} KiB  ({server_ms / floor:5.2f}× floor)"
        )
    before_ms = results[("before", f"GET {page}")][2]
    cold_ms = results[("cold", f"GET {page}")][2]
    warm_ms = results[("warm", f"GET {page}")][2]
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER TARGET"

    heads_ms = results[("heads only", f"GET {page}")][2]
    print(f"use-case page: before {before_ms:.1f} ms → cold {cold_ms:.1f} ms → heads only "
          f"{heads_ms:.1f} ms → warm {warm_ms:.1f} ms ({before_ms / warm_ms:.1f}× faster once "
          "verified)")  # fmt: skip
    print(
        f"  warm {warm_ms:.1f} ms ({read_floor:.1f} ms of it reading and hashing the chain); "
        f"target ≤ 50 ms: {verdict(warm_ms <= 50)}"
    )
    print(
        f"  first view {cold_ms / floor:.2f}× verify_ledger; target ≤ 1.2×: "
        f"{verdict(cold_ms <= 1.2 * floor)}"
    )
    print(
        f"{size.clients} concurrent clients × {size.rounds} requests of the use-case page: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms; target p95 ≤ 200 ms: {verdict(p95 <= 200)}"
    )

"""The live UI over real HTTP on loopback: pages, 404s, traversal attempts, read-only, headers."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gates.ui.app import SECURITY_HEADERS
from tests.support.forge import flip_payload_byte, non_ascii_in_base64
from tests.support.ui_server import live_server

REPO = Path(__file__).resolve().parents[2]
SECRETS = ("PRIVATE KEY", "[store]", "trusted_keys", "root:x:0:0")


@pytest.fixture(scope="module")
def root(ui_demo_root: Path) -> Path:
    return ui_demo_root  # read-only tests share the pristine demo


@pytest.fixture(scope="module")
def base(root: Path) -> Iterator[str]:
    with live_server(root) as url:
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        yield c


def test_index_lists_the_demo_use_cases_with_stage_and_health(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/usecases/support-bot"' in r.text and 'href="/usecases/invoice-ocr"' in r.text
    assert "Customer support assistant" in r.text and "Invoice data extraction" in r.text
    assert "re-check warns" in r.text and "stopped" in r.text
    assert "Verified: the ledger is intact" in r.text


@pytest.mark.parametrize("path", ["/", "/usecases/support-bot", "/entries/support-bot/0"])
def test_pages_of_a_simulated_ledger_say_timings_are_not_evidence(
    client: httpx.Client, path: str
) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert "Simulated time: timings are not evidence." in r.text


def test_usecase_page_shows_the_timeline_with_blocked_and_passed_gates(
    client: httpx.Client,
) -> None:
    r = client.get("/usecases/support-bot")
    assert r.status_code == 200
    assert "gate PoC → Pilot: blocked (metric:accuracy)" in r.text
    assert "gate Pilot → Production: pass" in r.text
    assert 'href="/entries/support-bot/5"' in r.text


def test_entry_page_shows_checks_evidence_and_signature(client: httpx.Client) -> None:
    r = client.get("/entries/support-bot/5")
    assert r.status_code == 200
    assert "metric:accuracy" in r.text and "signature verified" in r.text
    assert 'href="/entries/support-bot/4" rel="prev"' in r.text
    assert 'href="/entries/support-bot/6" rel="next"' in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/usecases/no-such-case",
        "/usecases/Support-Bot",
        "/entries/support-bot/12",
        "/entries/support-bot/-1",
        "/entries/support-bot/1e3",
        "/entries/no-such-case/0",
        "/nothing-here",
    ],
)
def test_unknown_pages_are_404_html_pages(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and "Not found" in r.text
    assert r.headers["content-type"].startswith("text/html")


def raw_get(base: str, target: str) -> tuple[int, str]:
    """Send the request target byte for byte: HTTP clients would normalise ``..`` away."""
    parts = urlsplit(base)
    assert parts.hostname and parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    text = b"".join(chunks).decode("utf-8", "replace")
    return int(text.split(" ", 2)[1]), text


@pytest.mark.parametrize(
    "target",
    [
        "/usecases/../stagegate.toml",
        "/usecases/../../../../etc/passwd",
        "/entries/support-bot/../../keys/gate.pem",
        "/entries/../../keys/gate.pem",
        "/../stagegate.toml",
        "/usecases/..%2F..%2Fstagegate.toml",
        "/usecases/%2e%2e",
        "/usecases/%2E%2E/%2e%2e/stagegate.toml",
        "/usecases/%2e%2e%2fkeys%2fgate.pem",
        "/usecases/..%5c..%5cstagegate.toml",
        "/entries/..%2Fkeys/0",
        "/entries/support-bot/..%2F..%2F..%2Fkeys%2Fgate.pem",
        "/entries/%2e%2e/%2e%2e",
        "/entries/support-bot/5%00",
        "/usecases/support-bot%00.yaml",
        "/usecases/support-bot%2f..%2f..%2fstagegate.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_traversal_attempts_on_the_wire_are_404_and_read_no_file(base: str, target: str) -> None:
    status, text = raw_get(base, target)
    assert status in (400, 404, 422), (target, status)
    assert not any(secret in text for secret in SECRETS), target


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/", "/usecases/support-bot", "/entries/support-bot/0", "/x"])
def test_every_write_method_is_405_on_every_path(
    client: httpx.Client, method: str, path: str
) -> None:
    r = client.request(method, path, content=b"stage=production")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_head_is_answered_like_get_without_a_body(client: httpx.Client) -> None:
    r = client.head("/usecases/support-bot")
    assert r.status_code == 200 and r.content == b""


@pytest.mark.parametrize("path", ["/", "/usecases/invoice-ocr", "/nope", "/healthz"])
def test_every_response_carries_the_security_headers(client: httpx.Client, path: str) -> None:
    for r in (client.get(path), client.post(path)):
        for name, value in SECURITY_HEADERS.items():
            assert r.headers[name] == value
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["server-timing"].startswith("app;dur=")


def test_no_api_docs_or_schema_are_served(client: httpx.Client) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404


def test_healthz_answers_without_reading_the_ledger(tmp_path: Path) -> None:
    with live_server(tmp_path / "missing") as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def test_an_unreadable_workspace_is_a_503_page_naming_the_problem(tmp_path: Path) -> None:
    with live_server(tmp_path / "missing") as url:
        r = httpx.get(f"{url}/")
    assert r.status_code == 503 and "Ledger unavailable" in r.text
    assert "missing" in r.text and r.headers["x-frame-options"] == "DENY"


def test_each_request_reads_the_ledger_as_it_is_now(copy_demo: Callable[[], Path]) -> None:
    root = copy_demo()
    with live_server(root) as url, httpx.Client(base_url=url) as c:
        assert "Verified: the ledger is intact" in c.get("/").text
        flip_payload_byte(root, "support-bot", 7)
        index = c.get("/").text
        page = c.get("/usecases/support-bot").text
        entry = c.get("/entries/support-bot/7")
    assert "Verification failed" in index and 'href="/entries/support-bot/7">#7</a>' in index
    assert "signature-invalid" in page and "Verification failed" in page
    assert entry.status_code == 200 and "This entry fails verification" in entry.text


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_non_ascii_base64_in_a_stored_entry_shows_the_banner_not_a_500(
    copy_demo: Callable[[], Path], field: str
) -> None:
    root = copy_demo()
    non_ascii_in_base64(root, "support-bot", 4, field)
    with live_server(root) as url, httpx.Client(base_url=url, timeout=30) as c:
        pages = {p: c.get(p) for p in ("/", "/usecases/support-bot", "/scale", "/explore")}
        entry = c.get("/entries/support-bot/4")
    for path, r in pages.items():
        assert r.status_code == 200, (path, r.status_code)
        assert "Verification failed" in r.text, path
        assert "envelope-malformed" in r.text, path
    assert 'href="/entries/support-bot/4">#4</a>' in pages["/"].text
    assert entry.status_code == 200 and "This entry fails verification" in entry.text
    assert "envelope-malformed" in entry.text


def test_the_ui_imports_none_of_prefect_mlflow_or_gx(root: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "import httpx\n"
        "from tests.support.ui_server import live_server\n"
        f"with live_server(Path({str(root)!r})) as url:\n"
        "    assert httpx.get(url + '/usecases/support-bot').status_code == 200\n"
        "    assert httpx.get(url + '/entries/support-bot/5').status_code == 200\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'prefect', 'mlflow', 'great_expectations'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_explore_and_scale_pages_are_served_and_linked(client: httpx.Client) -> None:
    index = client.get("/")
    assert 'href="/explore"' in index.text and 'href="/scale"' in index.text
    explore = client.get("/explore")
    assert explore.status_code == 200
    assert "support-bot" in explore.text and "cv-screening" in explore.text
    assert explore.text.count("<svg") >= 1  # the priority matrix
    scale = client.get("/scale")
    assert scale.status_code == 200 and "<svg" in scale.text

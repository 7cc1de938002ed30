"""A real RFC 3161 timestamp authority on loopback: OpenSSL's ``ts -reply`` behind HTTP.

The fixture makes a root CA and a TSA certificate (extendedKeyUsage timeStamping,
critical) with the ``openssl`` command, then answers ``application/timestamp-query``
POSTs on 127.0.0.1 with what ``openssl ts -reply`` signs (``application/timestamp-reply``).
Nothing is simulated: the tokens are OpenSSL's, over the bytes the client hashed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"

_CONFIG = """\
[tsa]
default_tsa = tsa_config

[tsa_config]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed for the loopback TSA (Debian: openssl)")
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {done.stderr.decode()}")


def make_ca_and_tsa(folder: Path, *, name: str = "Loopback") -> None:
    """``ca.pem``/``ca.key``, and ``tsa.pem``/``tsa.key`` issued by it, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
        "-subj", f"/CN={name} Test Root CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    openssl("req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name} TSA",
            cwd=folder)  # fmt: skip
    (folder / "tsa.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.pem", "-days", "3650", "-extfile", "tsa.ext",
        cwd=folder,
    )  # fmt: skip
    (folder / "chain.pem").write_bytes(
        (folder / "tsa.pem").read_bytes() + (folder / "ca.pem").read_bytes()
    )


class LoopbackTsa:
    """OpenSSL's TSA served on 127.0.0.1 until ``stop``; ``chain`` is its PEM chain."""

    def __init__(self, folder: Path | None = None) -> None:
        self._tmp = None if folder is not None else tempfile.TemporaryDirectory(prefix="tsa-")
        self.folder = folder or Path(self._tmp.name if self._tmp else ".")
        make_ca_and_tsa(self.folder)
        (self.folder / "serial").write_text("01\n")
        (self.folder / "tsa.cnf").write_text(_CONFIG.format(dir=self.folder))
        self.chain = self.folder / "chain.pem"
        self.requests = 0
        self._sign_lock = threading.Lock()  # openssl bumps one serial file per reply
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def reply(self, query: bytes) -> bytes:
        """What ``openssl ts -reply`` answers to ``query``."""
        with self._sign_lock, tempfile.TemporaryDirectory(dir=self.folder) as work:
            (Path(work) / "query.tsq").write_bytes(query)
            openssl(
                "ts", "-reply", "-config", str(self.folder / "tsa.cnf"),
                "-queryfile", "query.tsq", "-out", "reply.tsr",
                cwd=Path(work),
            )  # fmt: skip
            self.requests += 1
            return (Path(work) / "reply.tsr").read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.headers.get_content_type() != QUERY_TYPE:
                    self.send_error(415, f"expected {QUERY_TYPE}")
                    return
                query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body = tsa.reply(query)
                except RuntimeError as e:
                    self.send_error(400, str(e).splitlines()[0])
                    return
                self.send_response(200)
                self.send_header("Content-Type", REPLY_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: pytest shows failures, not access logs

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackTsa:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

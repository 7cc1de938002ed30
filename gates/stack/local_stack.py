"""The local stack: SeaweedFS S3, an MLflow tracking server and a Prefect server on loopback.

For people who want real servers on a laptop. All three bind 127.0.0.1 and keep their
data under one folder; ``up`` starts them side by side, waits until each answers (S3
ListBuckets, MLflow ``/health``, Prefect's client health check of ``/api/health``),
creates the ledger bucket with versioning and Object Lock, and records pids, ports and
credentials in a state file, so that ``status``, ``env`` and ``down`` work from any
later command. If a service fails to start, the ones this ``up`` started are stopped and
nothing is recorded; if an earlier stack is partly gone, the services that still answer
are kept and the others restarted.

Layout of the data folder::

    stack.json      state while the stack is up (removed by down)
    s3/             SeaweedFS data, credentials.json, weed.log
    mlflow/         mlflow.db, artifacts/, mlflow.log
    prefect/        PREFECT_HOME: prefect.db, prefect.log
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gates.errors import StagegateError
from gates.stack.mlflow_server import MLflowServer
from gates.stack.prefect_server import PrefectServer, prefect_api_healthy
from gates.stack.process import (
    LOOPBACK,
    LoopbackServer,
    StackError,
    StopOutcome,
    free_ports,
    group_alive,
    http_ok,
    port_in_use,
    process_start_time,
    stop_groups,
    wait_until_ready,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

    from gates.stack.seaweedfs import SeaweedFS

__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_DIR_NAME",
    "SERVICES",
    "STATE_FILE",
    "ServiceRecord",
    "ServiceStatus",
    "StackState",
    "StackStatus",
    "UpResult",
    "default_stack_dir",
    "read_state",
    "stack_down",
    "stack_status",
    "stack_up",
]

DEFAULT_DIR_NAME = ".stagegate-stack"
STATE_FILE = "stack.json"
STATE_VERSION = 1
DEFAULT_BUCKET = "stagegate"
LEDGER_PREFIX = "ledger"
REGION = "us-east-1"
#: Service keys, in the order they are listed, with the names messages use.
SERVICES = {"s3": "SeaweedFS S3", "mlflow": "MLflow tracking server", "prefect": "Prefect server"}


def default_stack_dir(workspace: Path | None) -> Path:
    """``.stagegate-stack`` in the workspace folder when there is one, else in the cwd."""
    return (workspace if workspace is not None else Path.cwd()).absolute() / DEFAULT_DIR_NAME


# -- state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRecord:
    """One running service as ``up`` left it: enough to probe and to stop it later."""

    pid: int
    #: The leader's start time (``process_start_time``): a recycled pid is never ours.
    start_time: str | None
    port: int
    url: str
    log: str
    #: Every other port the service listens on (SeaweedFS opens several).
    other_ports: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "startTime": self.start_time,
            "port": self.port,
            "url": self.url,
            "log": self.log,
            "otherPorts": list(self.other_ports),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ServiceRecord:
        return cls(
            pid=int(raw["pid"]),
            start_time=raw.get("startTime"),
            port=int(raw["port"]),
            url=str(raw["url"]),
            log=str(raw["log"]),
            other_ports=tuple(int(p) for p in raw.get("otherPorts", [])),
        )


@dataclass(frozen=True)
class StackState:
    """The state file: where the stack lives, its services and its S3 credentials."""

    dir: Path
    started_at: str
    bucket: str
    access_key: str
    secret_key: str
    services: dict[str, ServiceRecord] = field(default_factory=dict)

    @property
    def store_uri(self) -> str:
        return f"s3://{self.bucket}/{LEDGER_PREFIX}"

    def env(self) -> dict[str, str]:
        """What clients set to use this stack (``stagegate stack env`` prints it)."""
        return {
            "AWS_ENDPOINT_URL": self.services["s3"].url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": REGION,
            "MLFLOW_TRACKING_URI": self.services["mlflow"].url,
            "PREFECT_API_URL": self.services["prefect"].url,
            "STAGEGATE_STORE": self.store_uri,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "dir": str(self.dir),
            "startedAt": self.started_at,
            "bucket": self.bucket,
            "accessKey": self.access_key,
            "secretKey": self.secret_key,
            "services": {name: rec.to_json() for name, rec in self.services.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StackState:
        return cls(
            dir=Path(raw["dir"]),
            started_at=str(raw["startedAt"]),
            bucket=str(raw["bucket"]),
            access_key=str(raw["accessKey"]),
            secret_key=str(raw["secretKey"]),
            services={n: ServiceRecord.from_json(r) for n, r in raw["services"].items()},
        )


def _state_path(stack_dir: Path) -> Path:
    return stack_dir / STATE_FILE


def read_state(stack_dir: Path) -> StackState | None:
    """The recorded state of the stack in ``stack_dir``, or None when it is not up."""
    path = _state_path(stack_dir)
    try:
        raw = json.loads(path.read_text("utf-8"))
        if raw.get("version") != STATE_VERSION:
            raise ValueError(f"version {raw.get('version')!r}, expected {STATE_VERSION}")
        state = StackState.from_json(raw)
        if set(state.services) != set(SERVICES):
            raise ValueError(f"services {sorted(state.services)}, expected {sorted(SERVICES)}")
        return state
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StackError(
            f"{path}: not a stack state file ({e})",
            hint="stop any servers it started by hand, then delete the file",
        ) from e


def _write_state(state: StackState) -> None:
    path = _state_path(state.dir)
    fd, tmp = tempfile.mkstemp(prefix=".stack-", suffix=".json", dir=state.dir)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state.to_json(), f, indent=2)
        f.write("\n")
    # The file holds the S3 secret key: owner only (mkstemp's mode), swapped in whole.
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(stack_dir: Path) -> Iterator[None]:
    """One ``up`` or ``down`` at a time per data folder."""
    stack_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (stack_dir / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _credentials(s3_dir: Path) -> tuple[str, str]:
    """The S3 key pair of this data folder: generated once, then kept (owner-only file)."""
    path = s3_dir / "credentials.json"
    try:
        raw = json.loads(path.read_text("utf-8"))
        return str(raw["accessKey"]), str(raw["secretKey"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StackError(f"{path}: unreadable S3 credentials ({e})") from e
    access, secret = "stagegate-local", secrets.token_urlsafe(30)
    s3_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"accessKey": access, "secretKey": secret}, f)
    return access, secret


# -- status --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    pid: int
    port: int
    url: str
    log: str
    alive: bool
    healthy: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "alive": self.alive,
            "port": self.port,
            "url": self.url,
            "healthy": self.healthy,
            "log": self.log,
        }


@dataclass(frozen=True)
class StackStatus:
    """Each service's pid, whether it is alive and healthy; ``up`` when all are."""

    dir: Path
    services: tuple[ServiceStatus, ...]
    state: StackState | None

    @property
    def up(self) -> bool:
        return bool(self.services) and all(s.alive and s.healthy for s in self.services)

    def to_json(self) -> dict[str, Any]:
        return {
            "dir": str(self.dir),
            "up": self.up,
            "startedAt": self.state.started_at if self.state else None,
            "bucket": self.state.store_uri if self.state else None,
            "services": [s.to_json() for s in self.services],
        }


def _s3_client(url: str, access_key: str, secret_key: str) -> S3Client:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
        ),
    )


def _s3_healthy(state: StackState) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _s3_client(state.services["s3"].url, state.access_key, state.secret_key)
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


def _probe(name: str, record: ServiceRecord, state: StackState) -> bool:
    if name == "s3":
        return _s3_healthy(state)
    if name == "prefect":
        return prefect_api_healthy(record.url, timeout=2.0)
    # MLflow answers at <tracking URI>/health.
    return http_ok(f"{record.url}/health")


def stack_status(stack_dir: Path) -> StackStatus:
    """Probe every recorded service: process alive, port, health check answered."""
    stack_dir = stack_dir.absolute()
    state = read_state(stack_dir)
    if state is None:
        return StackStatus(dir=stack_dir, services=(), state=None)
    services = []
    for name, record in state.services.items():
        alive = group_alive(record.pid, record.start_time)
        services.append(
            ServiceStatus(
                name=name,
                pid=record.pid,
                port=record.port,
                url=record.url,
                log=record.log,
                alive=alive,
                healthy=alive and _probe(name, record, state),
            )
        )
    return StackStatus(dir=stack_dir, services=tuple(services), state=state)


# -- up ------------------------------------------------------------------------------------

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PORT_OPTION = {"s3": "--s3-port", "mlflow": "--mlflow-port", "prefect": "--prefect-port"}


@dataclass(frozen=True)
class UpResult:
    state: StackState
    #: True when the stack was up already and nothing was started.
    already_up: bool
    seconds: float
    #: Services of an earlier ``up`` that were dead or not answering, and were restarted
    #: while the healthy ones kept running.
    restarted: tuple[str, ...] = ()


def _choose_ports(
    requested: dict[str, int | None], previous: dict[str, int], kept: dict[str, int]
) -> dict[str, int]:
    """A port per service to start: as requested, else as before when free, else free.

    ``kept`` are the ports of services that keep running; a requested port must not
    collide with them, with each other, or with anything listening now.
    """
    given = {name: port for name, port in requested.items() if port is not None}
    for name, port in given.items():
        option = _PORT_OPTION[name]
        if not 0 < port < 65536:
            raise StackError(f"{option}: {port} is not a TCP port (1-65535)")
        clash = [n for n, p in (given | kept).items() if p == port and n != name]
        if clash:
            raise StackError(
                f"{option} {port} is also the port of {SERVICES[clash[0]]}; "
                "each service needs its own port"
            )
        if port_in_use(port):
            raise StackError(
                f"port {port} for the {SERVICES[name]} is already in use on {LOOPBACK}",
                hint=f"stop what is using it, or choose another with {option}",
            )
    taken = set(given.values()) | set(kept.values())
    chosen = dict(given)
    for name in requested:
        before = previous.get(name)
        if name not in chosen and before and before not in taken and not port_in_use(before):
            chosen[name] = before  # clients that kept the old address keep working
            taken.add(before)
    free = iter(p for p in free_ports(len(requested) + len(taken)) if p not in taken)
    return {name: chosen[name] if name in chosen else next(free) for name in requested}


def _ensure_bucket(client: S3Client, bucket: str) -> None:
    """Create the ledger bucket with versioning and Object Lock, or check the existing one."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise
            client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
            return
        try:
            config = client.get_object_lock_configuration(Bucket=bucket)
            locked = config["ObjectLockConfiguration"].get("ObjectLockEnabled")
        except ClientError:
            locked = None
        versioning = client.get_bucket_versioning(Bucket=bucket).get("Status")
    except (BotoCoreError, ClientError) as e:
        raise StackError(
            f"could not create or inspect the ledger bucket {bucket!r}: {e}",
            hint="bucket names are 3-63 lower-case letters, digits, dots and hyphens",
        ) from e
    if locked != "Enabled" or versioning != "Enabled":
        raise StackError(
            f"bucket {bucket!r} exists without versioning and Object Lock "
            f"(versioning: {versioning or 'off'}, Object Lock: {locked or 'off'})",
            hint="choose another --bucket; Object Lock can only be enabled when a bucket is created",
        )


def _start(
    stack_dir: Path,
    names: tuple[str, ...],
    ports: dict[str, int],
    credentials: tuple[str, str],
    timeout: float,
    asked_for: frozenset[str] = frozenset(),
) -> dict[str, ServiceRecord]:
    """Start the named services side by side and return their records once all answer.

    A service whose port was not ``asked_for`` by the user is moved to a free port when
    another process takes its port before it binds; its record has the port it ended on.
    On any failure, every service this call started is stopped before the error
    propagates, so nothing half-started is left behind.
    """
    from gates.stack.seaweedfs import SeaweedFS

    # Detached: they keep running after `stack up` returns, until `stack down`.
    servers: dict[str, LoopbackServer] = {}
    if "mlflow" in names:
        servers["mlflow"] = MLflowServer(
            stack_dir / "mlflow",
            ports["mlflow"],
            detached=True,
            port_may_move="mlflow" not in asked_for,
        )
    if "prefect" in names:
        servers["prefect"] = PrefectServer(
            stack_dir / "prefect",
            ports["prefect"],
            detached=True,
            port_may_move="prefect" not in asked_for,
        )
    s3: SeaweedFS | None = None
    records: dict[str, ServiceRecord] = {}
    try:
        # MLflow and Prefect take seconds to import; S3 starts while they do.
        for server in servers.values():
            server.launch()
        if "s3" in names:
            s3 = SeaweedFS(
                data_dir=stack_dir / "s3",
                access_key=credentials[0],
                secret_key=credentials[1],
                startup_timeout=timeout,
                s3_port=ports["s3"],
                s3_port_may_move="s3" not in asked_for,
                detached=True,
            )
            try:
                s3.start()
            except StagegateError as e:
                raise StackError(
                    f"the SeaweedFS S3 server did not start (log: {stack_dir / 's3' / 'weed.log'})"
                    f"\n{e.message}",
                    hint=e.hint,
                ) from e
            # SeaweedFS keeps its process private, but a later command must be able to
            # stop it: the stack records the pid.
            weed = s3._process
            assert weed is not None  # started above
            s3_port = s3.ports["s3.port"]
            records["s3"] = ServiceRecord(
                pid=weed.pid,
                start_time=process_start_time(weed.pid),
                port=s3_port,
                url=s3.endpoint_url,
                log=str(s3.log_path),
                other_ports=tuple(p for p in s3.ports.values() if p != s3_port),
            )
        wait_until_ready(list(servers.values()), timeout)
    except BaseException:
        for server in servers.values():
            server.stop()
        if s3 is not None:
            s3.stop()
        raise
    for name, server in servers.items():
        records[name] = ServiceRecord(
            pid=server.pid,
            start_time=process_start_time(server.pid),
            port=server.port,
            url=server.url,
            log=str(server.log_path),
        )
    return records


def _stop_started(state: StackState, names: tuple[str, ...]) -> None:
    groups = {n: (r.pid, r.start_time) for n, r in state.services.items() if n in names}
    stop_groups(groups)
    if "s3" in groups:
        _remove_weed_sockets(state.services["s3"])


def stack_up(
    stack_dir: Path,
    *,
    s3_port: int | None = None,
    mlflow_port: int | None = None,
    prefect_port: int | None = None,
    bucket: str | None = None,
    timeout: float = 120.0,
) -> UpResult:
    """Start the three servers, detached, and record them; or report that they are up.

    Ports left as None are chosen free. When an earlier stack in ``stack_dir`` is partly
    up, the services that answer keep running and the others are restarted, on their
    former ports when those are free. When a service fails to start, every service
    this call started is stopped and StackError names the service and its log.
    """
    began = time.monotonic()
    stack_dir = stack_dir.absolute()
    requested = {"s3": s3_port, "mlflow": mlflow_port, "prefect": prefect_port}
    if bucket is not None and not _BUCKET_NAME.fullmatch(bucket):
        raise StackError(
            f"--bucket: {bucket!r} is not an S3 bucket name",
            hint="3-63 lower-case letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit",
        )
    with _locked(stack_dir):
        previous = read_state(stack_dir)
        kept: dict[str, ServiceRecord] = {}
        if previous is not None:
            current = stack_status(stack_dir)
            if current.up:
                return UpResult(previous, already_up=True, seconds=time.monotonic() - began)
            kept = {
                s.name: previous.services[s.name] for s in current.services if s.alive and s.healthy
            }
            for name, record in kept.items():
                if requested[name] not in (None, record.port):
                    raise StackError(
                        f"the {SERVICES[name]} of this stack is running on port {record.port}",
                        hint=f"run `stagegate stack down` first to move it to {requested[name]}",
                    )
            # Dead or not answering: whatever is left of them goes before they restart.
            _stop_started(previous, tuple(n for n in SERVICES if n not in kept))
        to_start = tuple(n for n in SERVICES if n not in kept)
        ports = _choose_ports(
            {n: requested[n] for n in to_start},
            previous={n: r.port for n, r in previous.services.items()} if previous else {},
            kept={n: r.port for n, r in kept.items()},
        )
        credentials = _credentials(stack_dir / "s3")
        bucket = bucket or (previous.bucket if previous else DEFAULT_BUCKET)
        try:
            asked_for = frozenset(n for n in to_start if requested[n] is not None)
            started = _start(stack_dir, to_start, ports, credentials, timeout, asked_for)
            state = StackState(
                dir=stack_dir,
                started_at=previous.started_at if previous and kept else _now(),
                bucket=bucket,
                access_key=credentials[0],
                secret_key=credentials[1],
                services={n: kept[n] if n in kept else started[n] for n in SERVICES},
            )
            try:
                _ensure_bucket(_s3_client(state.services["s3"].url, *credentials), bucket)
                _write_state(state)
            except BaseException:
                _stop_started(state, to_start)
                raise
        except StackError as failure:
            note = "the services this command started were stopped" + (
                f"; {', '.join(kept)} kept running" if kept else ""
            )
            hint = f"{failure.hint}; {note}" if failure.hint else note
            raise StackError(failure.message, hint=hint) from failure
    restarted = to_start if previous is not None else ()
    return UpResult(state, already_up=False, seconds=time.monotonic() - began, restarted=restarted)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- down ----------------------------------------------------------------------------------


def _remove_weed_sockets(record: ServiceRecord) -> None:
    # weed leaves gRPC unix sockets named after its ports in the temp folder; once it is
    # stopped, the ones named after this stack's ports are ours to remove.
    folders = {Path("/tmp"), Path(tempfile.gettempdir())}
    for port in (record.port, *record.other_ports):
        for folder in folders:
            for sock in folder.glob(f"seaweedfs-*-{port}.sock"):
                if sock.is_socket():
                    with contextlib.suppress(OSError):
                        sock.unlink()


def stack_down(stack_dir: Path, *, timeout: float = 20.0) -> dict[str, StopOutcome]:
    """Stop every recorded service (SIGTERM, SIGKILL after ``timeout``), drop the state.

    Returns the outcome per service; an empty dict when the stack was not up.
    """
    stack_dir = stack_dir.absolute()
    if not stack_dir.is_dir():
        return {}
    with _locked(stack_dir):
        state = read_state(stack_dir)
        if state is None:
            return {}
        groups = {n: (r.pid, r.start_time) for n, r in state.services.items()}
        outcome = stop_groups(groups, timeout=timeout)
        _remove_weed_sockets(state.services["s3"])
        _state_path(stack_dir).unlink(missing_ok=True)
    return {name: outcome[name] for name in groups}

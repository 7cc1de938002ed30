"""Servers as detached process groups on loopback: launch, wait until healthy, stop.

The local stack's servers outlive the command that starts them (``stagegate stack up``
returns while they keep running) and are stopped later by another process (``stagegate
stack down``) that knows only their pids. So each server leads its own process group,
which is signalled as a whole (MLflow's uvicorn worker and anything else a server spawns
go with it), writes a log file in its data folder, and is identified by pid *and* start
time, so that a recycled pid is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from gates.errors import StagegateError

__all__ = [
    "LOOPBACK",
    "LoopbackServer",
    "StackError",
    "free_ports",
    "group_alive",
    "http_ok",
    "log_tail",
    "port_in_use",
    "process_start_time",
    "stop_groups",
    "wait_until_ready",
]

LOOPBACK = "127.0.0.1"
#: How long a server gets to exit after SIGTERM before its group is killed.
STOP_TIMEOUT_SECONDS = 20.0

StopOutcome = Literal["stopped", "killed", "gone"]


class StackError(StagegateError):
    """A local server could not be started, reached or stopped."""


# -- ports ------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that are free right now."""
    sockets: list[socket.socket] = []
    try:
        # Hold every socket until all are chosen so the ports differ from each other.
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_in_use(port: int) -> bool:
    """Whether a server could not bind ``127.0.0.1:port`` now.

    SO_REUSEADDR as servers set it, so connections lingering in TIME_WAIT after a
    server stopped do not count; a listener on the port (or on 0.0.0.0) does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


# -- processes --------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None (no /proc, or no pid)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return raw[raw.rindex(")") + 2 :].split()


def process_start_time(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot (Linux); None where unknown.

    Stored next to a pid so that a later command can tell the process it started from
    an unrelated one that was given the same pid after a reboot or a crash.
    """
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _live_group_members(pgid: int) -> bool:
    # Zombies count as gone: their parent (init, for a detached server) reaps them.
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def group_alive(pgid: int, start_time: str | None = None) -> bool:
    """Whether process group ``pgid`` still has a live process, and its leader is ours.

    ``start_time`` (from ``process_start_time``) guards against a recycled pid: when the
    leader's start time differs, the group is not the one that was recorded.
    """
    if start_time is not None:
        current = process_start_time(pgid)
        if current is not None and current != start_time:
            return False
    if Path("/proc/self/stat").is_file():
        return _live_group_members(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_groups(
    groups: Mapping[str, tuple[int, str | None]], *, timeout: float = STOP_TIMEOUT_SECONDS
) -> dict[str, StopOutcome]:
    """SIGTERM every group at once, SIGKILL what is left after ``timeout`` seconds.

    ``groups`` maps a name to (pgid, start time). Works from any process, not only the
    parent. Returns, per name, ``stopped`` (exited after SIGTERM), ``killed`` (needed
    SIGKILL) or ``gone`` (nothing of it was running).
    """
    outcome: dict[str, StopOutcome] = {}
    pending: dict[str, int] = {}
    for name, (pgid, start_time) in groups.items():
        if group_alive(pgid, start_time):
            _signal_group(pgid, signal.SIGTERM)
            pending[name] = pgid
        else:
            outcome[name] = "gone"
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, pgid in list(pending.items()):
            if not group_alive(pgid):
                outcome[name] = "stopped"
                del pending[name]
        time.sleep(0.05)
    for name, pgid in pending.items():
        _signal_group(pgid, signal.SIGKILL)
        outcome[name] = "killed"
    kill_deadline = time.monotonic() + 5
    while any(group_alive(p) for p in pending.values()) and time.monotonic() < kill_deadline:
        time.sleep(0.05)
    return outcome


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a server log, framed, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = "\n".join(text.rstrip().splitlines()[-lines:])
    return f"--- last lines of {path} ---\n{tail}"


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether GET ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


# -- a server process ---------------------------------------------------------------------


class LoopbackServer:
    """One server process on 127.0.0.1, in its own process group, logging to a file.

    Subclasses say how to run it (``command``, ``environment``) and where it answers
    (``url``; the health check is ``url`` + ``/health``). ``start()`` launches it and waits until it is healthy; the stack
    instead calls ``launch()`` on several servers and then ``wait_until_ready`` on all,
    so they start side by side. As a context manager it is stopped on exit; a server
    that is never stopped keeps running after this process exits.
    """

    #: Name used in messages, e.g. "MLflow tracking server".
    display_name = "server"
    #: Log file name inside the data folder.
    log_name = "server.log"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_ports(1)[0]
        self._process: subprocess.Popen[bytes] | None = None
        #: Seconds the last start took until the server answered its health check.
        self.startup_seconds: float | None = None
        self._launched_at: float | None = None

    # -- what subclasses define ------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The server's environment, derived from ``base`` (this process's)."""
        return dict(base)

    @property
    def url(self) -> str:
        """The base URL clients are given."""
        raise NotImplementedError

    @property
    def health_url(self) -> str:
        return f"{self.url}/health"

    def healthy(self) -> bool:
        return http_ok(self.health_url)

    # -- lifecycle -------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.data_dir / self.log_name

    @property
    def pid(self) -> int:
        if self._process is None:
            raise StackError(f"the {self.display_name} has not been started")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def launch(self) -> None:
        """Start the process (detached, its own process group) without waiting for it."""
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(os.environ),
                start_new_session=True,
            )
        self._launched_at = time.monotonic()

    def ready(self) -> bool:
        """Whether it answers now; raises StackError, naming the log, if it has exited."""
        if self._process is None:
            raise StackError(f"the {self.display_name} has not been started")
        code = self._process.poll()
        if code is not None:
            raise StackError(
                f"the {self.display_name} exited with code {code} while starting "
                f"(log: {self.log_path})\n{log_tail(self.log_path)}"
            )
        if not self.healthy():
            return False
        if self.startup_seconds is None and self._launched_at is not None:
            self.startup_seconds = time.monotonic() - self._launched_at
        return True

    def start(self, timeout: float = 120.0) -> Self:
        """Launch it and return once it answers its health check; stop it on failure."""
        try:
            self.launch()
            wait_until_ready([self], timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout`` seconds; reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        # The leader is reaped; whatever it spawned into its group must not outlive it.
        stop_groups({self.display_name: (process.pid, None)}, timeout=5)


def wait_until_ready(servers: Sequence[LoopbackServer], timeout: float) -> None:
    """Wait until every server answers; the first one to exit or time out raises.

    Polls all of them together, so a server that fails at once is reported at once
    rather than after the slowest one is up.
    """
    pending = list(servers)
    deadline = time.monotonic() + timeout
    while pending:
        for server in list(pending):
            if server.ready():
                pending.remove(server)
        if not pending:
            return
        if time.monotonic() > deadline:
            server = pending[0]
            raise StackError(
                f"the {server.display_name} did not answer {server.health_url} within "
                f"{timeout:.0f} s (log: {server.log_path})\n{log_tail(server.log_path)}",
                hint="a slow machine may need a longer --timeout",
            )
        time.sleep(0.2)

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
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import psutil

from gates.errors import StagegateError
from gates.stack.lifetime import end_with_this_process

__all__ = [
    "LOOPBACK",
    "PORT_ATTEMPTS",
    "LoopbackServer",
    "StackError",
    "free_ports",
    "group_alive",
    "http_ok",
    "log_tail",
    "port_in_use",
    "process_start_time",
    "stop_groups",
    "stop_own_group",
    "wait_until_ready",
]

LOOPBACK = "127.0.0.1"
#: How long a server gets to exit after SIGTERM before its group is killed.
STOP_TIMEOUT_SECONDS = 20.0
#: Launches on fresh free ports before a server whose free-picked port keeps being taken
#: is an error.
PORT_ATTEMPTS = 3

StopOutcome = Literal["stopped", "killed", "gone"]

#: The unit of recorded start times (what /proc/PID/stat counts in on Linux).
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def process_start_time(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot; None when it is not running.

    Stored next to a pid so that a later command can tell the process it started from
    an unrelated one that was given the same pid after a reboot or a crash. Counted
    from boot rather than taken as psutil's wall-clock ``create_time()`` alone, which
    moves when the system clock is stepped: a server must still be recognised (and
    stopped) after an NTP correction.
    """
    try:
        started = psutil.Process(pid).create_time()
        booted = psutil.boot_time()
    except psutil.Error:
        return None
    return str(round((started - booted) * _CLOCK_TICKS))


def _exited(process: psutil.Process) -> bool:
    """Whether every thread of ``process`` has exited: a zombie with no other thread left.

    Zombies count as gone: their parent (init, for a detached server) reaps them, and
    one whose parent is slow to do so must not hold up a stop until the timeout. But the
    kernel shows a process as a zombie as soon as its *main* thread has exited, while
    its other threads may still be exiting and still hold its files and listening
    sockets: weed's threads were seen keeping its ports for milliseconds after that,
    longer on a busy machine. Only when the zombie is its own last thread are its ports
    free.
    """
    return process.status() == psutil.STATUS_ZOMBIE and process.num_threads() <= 1


def _live_groups(pgids: Collection[int]) -> set[int]:
    """Those of the process groups ``pgids`` that still have a live process (``_exited``)."""
    live: set[int] = set()
    for process in psutil.process_iter():
        try:
            pgid = os.getpgid(process.pid)
            if pgid in pgids and pgid not in live and not _exited(process):
                live.add(pgid)
        except (OSError, psutil.Error):
            continue  # exited while we looked
    return live


def _leader_is_ours(pgid: int, start_time: str | None) -> bool:
    # A leader that has exited cannot be checked; members it left behind still count.
    if start_time is None:
        return True
    current = process_start_time(pgid)
    return current is None or current == start_time


def group_alive(pgid: int, start_time: str | None = None) -> bool:
    """Whether process group ``pgid`` still has a live process, and its leader is ours.

    ``start_time`` (from ``process_start_time``) guards against a recycled pid: when the
    leader's start time differs, the group is not the one that was recorded.
    """
    return _leader_is_ours(pgid, start_time) and pgid in _live_groups({pgid})


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The whole group at once, so a process spawned since we looked gets it too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_for_groups(pgids: Mapping[str, int], timeout: float) -> set[str]:
    """Wait until the named groups have no live process; the names still running.

    Polls the groups rather than ``psutil.wait_procs``, which reaps members that are this
    process's children and so takes their exit status from the ``Popen`` that owns them.
    """
    deadline = time.monotonic() + timeout
    pending = dict(pgids)
    while True:
        live = _live_groups(set(pending.values()))
        pending = {name: pgid for name, pgid in pending.items() if pgid in live}
        if not pending or time.monotonic() >= deadline:
            return set(pending)
        time.sleep(0.05)


def stop_groups(
    groups: Mapping[str, tuple[int, str | None]], *, timeout: float = STOP_TIMEOUT_SECONDS
) -> dict[str, StopOutcome]:
    """SIGTERM every group at once, SIGKILL what is left after ``timeout`` seconds.

    ``groups`` maps a name to (pgid, start time). Works from any process, not only the
    parent. Returns, per name, ``stopped`` (exited after SIGTERM), ``killed`` (needed
    SIGKILL) or ``gone`` (nothing of it was running, or its leader's start time says
    the pid now belongs to another process, which is never signalled).
    """
    outcome: dict[str, StopOutcome] = {}
    running: dict[str, int] = {}
    for name, (pgid, start_time) in groups.items():
        if group_alive(pgid, start_time):
            _signal_group(pgid, signal.SIGTERM)
            running[name] = pgid
        else:
            outcome[name] = "gone"
    lingering = _wait_for_groups(running, timeout)
    for name, pgid in running.items():
        if name in lingering:
            _signal_group(pgid, signal.SIGKILL)
            outcome[name] = "killed"
        else:
            outcome[name] = "stopped"
    _wait_for_groups({name: running[name] for name in lingering}, 5)
    return outcome


def stop_own_group(process: subprocess.Popen[bytes], name: str, timeout: float) -> StopOutcome:
    """Stop the group led by ``process``, a child of this process, and reap the leader.

    No start time is needed: the pid is that of our own child, which is not recycled
    before we reap it, and a group keeps its id while any member lives.
    """
    outcome = stop_groups({name: (process.pid, None)}, timeout=timeout)[name]
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
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
    so they start side by side. As a context manager it is stopped on exit. A server
    that is never stopped ends with this process, even when it is killed, unless it is
    ``detached``: then it keeps running after this process exits.

    A port is picked free when the server is created and bound seconds later, once the
    server has imported its framework: any process may bind it, or connect from it, in
    between, and the server then exits at once. Unless the port was asked for
    (``port_may_move`` False, the default for a given port), it is relaunched on a fresh
    free port, as Prefect's own temporary server does; ``port`` is where it ended up.
    """

    #: Name used in messages, e.g. "MLflow tracking server".
    display_name = "server"
    #: Log file name inside the data folder.
    log_name = "server.log"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        detached: bool = False,
        port_may_move: bool | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_ports(1)[0]
        #: Whether a port lost before the server bound it may be given up for another.
        self.port_may_move = port is None if port_may_move is None else port_may_move
        #: The ports given up so far, in order.
        self.ports_lost: list[int] = []
        self._log_start = 0
        #: Whether it keeps running after this process ends (the local stack's servers);
        #: otherwise it is stopped when this process is killed (``gates.stack.lifetime``).
        self.detached = detached
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
            self._log_start = log.tell()  # where this launch's lines start
            self._process = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(os.environ),
                start_new_session=True,
                preexec_fn=None if self.detached else end_with_this_process(),
            )
        self._launched_at = time.monotonic()

    def ready(self) -> bool:
        """Whether it answers now; raises StackError, naming the log, if it has exited."""
        if self._process is None:
            raise StackError(f"the {self.display_name} has not been started")
        code = self._process.poll()
        if code is not None:
            if self._relaunched_on_a_free_port():
                return False
            raise StackError(
                f"the {self.display_name} exited with code {code} while starting "
                f"(log: {self.log_path})\n{log_tail(self.log_path)}"
            )
        if not self.healthy():
            return False
        if self.startup_seconds is None and self._launched_at is not None:
            self.startup_seconds = time.monotonic() - self._launched_at
        return True

    def _lost_its_port(self) -> bool:
        """Whether the last launch exited because its port was taken before it could bind.

        uvicorn reports a failed bind ("address already in use"); ``prefect server
        start`` checks the port first ("Port N is already in use", wrapped by Rich).
        """
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_start)
                said = " ".join(log.read().decode(errors="replace").lower().split())
        except OSError:
            return False
        return "address already in use" in said or f"port {self.port} is already in use" in said

    def _relaunched_on_a_free_port(self) -> bool:
        """Relaunch an exited server on a fresh port if it lost a port it may give up."""
        if not self.port_may_move or len(self.ports_lost) >= PORT_ATTEMPTS - 1:
            return False
        if not self._lost_its_port():
            return False
        process, self._process = self._process, None
        if process is not None:  # anything it spawned into its group goes with it
            stop_own_group(process, self.display_name, timeout=5)
        self.ports_lost.append(self.port)
        self.port = free_ports(1)[0]
        self.launch()
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
        if process is not None:
            # Whatever the server spawned into its group goes with it.
            stop_own_group(process, self.display_name, timeout)


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

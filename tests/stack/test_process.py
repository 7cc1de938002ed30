"""Process-group supervision with real child processes: stop, escalate, never a stranger."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from gates.stack.process import (
    LOOPBACK,
    LoopbackServer,
    StackError,
    free_ports,
    group_alive,
    http_ok,
    port_in_use,
    process_start_time,
    stop_groups,
    stop_own_group,
)

#: Launch a group (``sh -c SCRIPT``) in its own session and return its leader.
Launch = Callable[[str], subprocess.Popen[bytes]]


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_pids(pgid: int) -> list[int]:
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getpgid(process.pid) == pgid and running(process.pid):
                found.append(process.pid)
    return found


@pytest.fixture
def launch() -> Iterator[Launch]:
    started: list[subprocess.Popen[bytes]] = []

    def start(script: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(["sh", "-c", script], start_new_session=True)
        started.append(process)
        return process

    yield start
    # Whatever a failing test left behind must not outlive it.
    for process in started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def wait_for_members(pgid: int, count: int) -> None:
    """Wait until the group has ``count`` live processes (its children are spawned)."""
    deadline = time.monotonic() + 10
    while len(group_pids(pgid)) < count:
        assert time.monotonic() < deadline, f"group {pgid} never had {count} processes"
        time.sleep(0.02)


def test_a_group_that_exits_on_sigterm_is_stopped_with_every_member(launch: Launch) -> None:
    leader = launch("sleep 60 & sleep 60 & wait")
    wait_for_members(leader.pid, 3)
    members = group_pids(leader.pid)
    started = process_start_time(leader.pid)
    assert started is not None and group_alive(leader.pid, started)

    assert stop_groups({"sleepers": (leader.pid, started)}, timeout=30) == {"sleepers": "stopped"}
    assert not group_alive(leader.pid)
    assert [pid for pid in members if running(pid)] == []
    # Stopping it again finds nothing to stop.
    assert stop_groups({"sleepers": (leader.pid, started)}, timeout=1) == {"sleepers": "gone"}


def test_a_group_ignoring_sigterm_is_killed_after_the_timeout(launch: Launch) -> None:
    # An ignored signal stays ignored in the children sh starts.
    leader = launch("trap '' TERM; sleep 60 & sleep 60 & wait")
    wait_for_members(leader.pid, 3)
    members = group_pids(leader.pid)

    outcome = stop_groups({"stubborn": (leader.pid, process_start_time(leader.pid))}, timeout=0.5)
    assert outcome == {"stubborn": "killed"}
    assert [pid for pid in members if running(pid)] == []
    leader.wait(timeout=5)
    assert leader.returncode == -signal.SIGKILL


def test_a_start_time_that_does_not_match_is_gone_and_never_signalled(launch: Launch) -> None:
    leader = launch("sleep 60")
    started = process_start_time(leader.pid)
    assert started is not None
    # What a state file holds when the recorded server is gone and its pid was given to
    # another process: the same pid, another start time.
    recycled = str(int(started) + 1)
    assert not group_alive(leader.pid, recycled)
    assert stop_groups({"old": (leader.pid, recycled)}, timeout=1) == {"old": "gone"}
    assert leader.poll() is None and running(leader.pid)


def test_a_group_started_by_another_process_is_stopped_by_pid_and_start_time() -> None:
    """``stack up`` and ``stack down`` are different processes: the second knows the pid
    and start time the first recorded, and the group is not its child."""
    starter = (
        "import json, subprocess\n"
        "from gates.stack.process import process_start_time\n"
        "p = subprocess.Popen(\n"
        "    ['sleep', '60'], start_new_session=True,\n"
        "    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,\n"
        ")\n"
        "print(json.dumps([p.pid, process_start_time(p.pid)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", starter], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    pid, started = json.loads(out.stdout)
    try:
        assert started is not None and process_start_time(pid) == started
        assert group_alive(pid, started)
        assert stop_groups({"server": (pid, started)}, timeout=30) == {"server": "stopped"}
        assert not running(pid)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def test_members_left_by_a_leader_that_exited_are_still_stopped(launch: Launch) -> None:
    leader = launch("sleep 60 & echo started")
    started = process_start_time(leader.pid)
    leader.wait(timeout=10)
    wait_for_members(leader.pid, 1)
    [orphan] = group_pids(leader.pid)
    # The leader's start time cannot be checked any more; its group is still ours.
    assert group_alive(leader.pid, started)
    assert stop_groups({"orphan": (leader.pid, started)}, timeout=30) == {"orphan": "stopped"}
    assert not running(orphan)


def test_stopping_an_own_group_reaps_its_leader(launch: Launch) -> None:
    leader = launch("trap '' TERM; sleep 60 & wait")
    wait_for_members(leader.pid, 2)  # the trap is set
    assert stop_own_group(leader, "own", timeout=0.5) == "killed"
    assert leader.returncode == -signal.SIGKILL
    assert not group_alive(leader.pid)


#: A server whose main thread exits at once on SIGTERM while another of its threads keeps
#: the listening socket 1.5 s longer before the process exits.
MAIN_THREAD_EXITS_FIRST = """
import ctypes, os, signal, socket, sys, threading, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
stopping = threading.Event()

def hold_the_socket():
    stopping.wait()
    time.sleep(1.5)
    os._exit(0)

def on_sigterm(signum, frame):
    stopping.set()
    ctypes.CDLL(None).pthread_exit(None)

threading.Thread(target=hold_the_socket).start()
signal.signal(signal.SIGTERM, on_sigterm)
print("listening", flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux thread exit semantics")
def test_a_server_counts_as_stopped_only_once_its_last_thread_has_let_go_of_its_port() -> None:
    """Linux shows a process as a zombie as soon as its main thread has exited, while its
    other threads may still hold its sockets. weed's threads do so for milliseconds (longer
    on a busy machine), which made ``stack down`` return with ports still taken now and then;
    here the main thread exits at SIGTERM and another thread holds the port for 1.5 s."""
    port = free_ports(1)[0]
    server = subprocess.Popen(
        [sys.executable, "-c", MAIN_THREAD_EXITS_FIRST, str(port)],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None and server.stdout.readline() == b"listening\n"
        assert port_in_use(port)

        assert stop_groups({"server": (server.pid, None)}, timeout=30) == {"server": "stopped"}
        assert not port_in_use(port)
        assert not group_alive(server.pid)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
        if server.stdout is not None:
            server.stdout.close()


# -- a server's free port taken before it binds it -----------------------------------------


class FileServer(LoopbackServer):
    """Python's ``http.server`` over its data folder: a server that binds late, like the
    real ones (they import their framework first), in a fraction of their start time."""

    display_name = "file server"

    def __init__(self, data_dir: Path, port: int | None = None, *, argv: list[str] | None = None):
        super().__init__(data_dir, port)
        self.argv = argv

    def command(self) -> list[str]:
        if self.argv is not None:
            return self.argv
        return [sys.executable, "-m", "http.server", "--bind", LOOPBACK, str(self.port)]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def healthy(self) -> bool:
        return http_ok(f"{self.url}/")


def test_a_free_picked_port_taken_before_the_server_binds_it_is_given_up_for_another(
    tmp_path: Path,
) -> None:
    server = FileServer(tmp_path)
    taken = server.port
    with socket.create_server((LOOPBACK, taken)), server.start(timeout=60):
        assert server.ports_lost == [taken]
        assert server.port != taken
        assert http_ok(f"{server.url}/")
    assert "address already in use" in server.log_path.read_text().lower()


def test_a_port_that_was_asked_for_is_never_moved(tmp_path: Path) -> None:
    with socket.create_server((LOOPBACK, 0)) as other:
        taken = other.getsockname()[1]
        server = FileServer(tmp_path, taken)
        with pytest.raises(StackError, match="exited with code 1 while starting"):
            server.start(timeout=60)
    assert server.port == taken and server.ports_lost == []


def test_a_server_that_fails_for_another_reason_is_not_relaunched(tmp_path: Path) -> None:
    server = FileServer(tmp_path, argv=[sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(StackError, match="exited with code 3 while starting"):
        server.start(timeout=60)
    assert server.ports_lost == []

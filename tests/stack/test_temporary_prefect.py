"""The temporary Prefect server stagegate launches when no Prefect API is configured."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gates.stack.prefect_server import prefect_api_healthy
from gates.stack.process import LOOPBACK, StackError
from gates.stack.temporary_prefect import TemporaryPrefectServer


def test_a_temporary_server_that_cannot_start_is_one_error_naming_its_kept_log(
    tmp_path: Path,
) -> None:
    unreachable = tmp_path / "missing-folder" / "prefect.db"
    server = TemporaryPrefectServer(
        {
            "PREFECT_HOME": str(tmp_path / "home"),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{unreachable}",
        },
        startup_timeout=180,
    )
    try:
        with pytest.raises(StackError) as raised:
            server.wait_ready()
    finally:
        server.stop()

    message = raised.value.message
    assert "temporary Prefect server exited" in message
    assert str(server.log_path) in message
    assert "unable to open database file" in message
    assert server.log_path.is_file()  # kept: the message sends the reader there


def test_a_port_taken_before_the_temporary_server_binds_it_is_given_up_for_a_free_one(
    tmp_path: Path,
) -> None:
    """The port is picked free when the server is created and bound seconds later, once
    the server has imported Prefect; any process on the machine may take it meanwhile
    (here a listening socket of this one)."""
    server = TemporaryPrefectServer({"PREFECT_HOME": str(tmp_path / "home")}, startup_timeout=180)
    taken = server.port
    try:
        with socket.socket() as other:
            other.bind((LOOPBACK, taken))
            other.listen()
            url = server.wait_ready()
        assert server.port != taken
        assert url == f"http://{LOOPBACK}:{server.port}/api"
        assert prefect_api_healthy(url, timeout=10)
        assert "address already in use" in server.log_path.read_text().lower()
    finally:
        server.stop()
    assert not server.data_dir.exists()  # started in the end: its log folder goes

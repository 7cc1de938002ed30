"""The temporary Prefect server stagegate launches when no Prefect API is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.stack.process import StackError
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

"""Start and stop a Prefect server on 127.0.0.1 with its home (database, settings) in one folder.

``PREFECT_HOME`` is the data folder, so the server's SQLite database and profiles never
mix with the user's own ``~/.prefect``; the working directory is that folder too, so a
``prefect.toml`` or ``.env`` wherever the command was typed does not reconfigure it.
The task-run recorder writes in batches (``RECORDER_BATCHING``, the same values
``flows.gate_flow`` gives the servers it starts; flows/README.md, "Back-to-back runs"):
on SQLite this keeps a gate started right after another from waiting ~2 s.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from gates.stack.process import LOOPBACK, LoopbackServer

__all__ = ["RECORDER_BATCHING", "PrefectServer"]

#: Equal to ``flows.gate_flow.RECORDER_BATCHING`` (a test keeps them equal); repeated
#: here so that starting a server does not import Prefect into the command.
RECORDER_BATCHING = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "10",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
}

#: Client settings of the user's own (another server, Cloud, a profile) that must not
#: leak into the server process.
_SCRUBBED_ENV = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH")


class PrefectServer(LoopbackServer):
    """``prefect server start`` on 127.0.0.1:``port``, ``PREFECT_HOME`` = ``data_dir``.

    ``data_dir`` holds the server's ``prefect.db`` and the log ``prefect.log``; it is
    kept on stop, so schedules and run history survive a restart.
    """

    display_name = "Prefect server"
    log_name = "prefect.log"

    @property
    def api_url(self) -> str:
        """What clients set as ``PREFECT_API_URL``."""
        return f"http://{LOOPBACK}:{self.port}/api"

    @property
    def url(self) -> str:
        return self.api_url

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
        ]

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in base.items() if k not in _SCRUBBED_ENV}
        env["PREFECT_HOME"] = str(self.data_dir)
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        # Only when neither recorder setting is given: the two are tuned together.
        if not any(name in env for name in RECORDER_BATCHING):
            env.update(RECORDER_BATCHING)
        return env

"""Prefect's temporary server, launched early and without loading Prefect's server code here.

When no Prefect API is configured, Prefect starts a temporary server of its own the
first time a flow needs one (``SubprocessASGIServer``): it imports the server's modules
into the calling process (~2.5 s), only then launches the subprocess, and waits idle
while it starts. This launches the same server (Prefect's app factory, the same flags,
the same database under ``PREFECT_HOME``, the same settings) as soon as the caller knows
it will need one, so the server starts while the caller goes on importing and opening
its workspace, and the caller never imports the server's code.

Like Prefect's, it binds 127.0.0.1 on a free port, serves no UI, and lives until it is
stopped (the flows stop it when their process exits). Its output goes to a log file
in a temporary folder, removed when it stops, or kept and named in the error when it
does not start.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from gates.stack.prefect_server import default_recorder_batching
from gates.stack.process import LOOPBACK, LoopbackServer, StackError, log_tail

#: What Prefect sets for the temporary server it starts itself (``SubprocessASGIServer``):
#: no UI, ephemeral services only, one app per process.
EPHEMERAL_FLAGS = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
#: How long Prefect waits for its temporary server (``server.ephemeral.startup_timeout_seconds``).
DEFAULT_STARTUP_TIMEOUT = 20.0
#: How long a stopping server gets before it is killed (Prefect's own choice).
STOP_TIMEOUT_SECONDS = 5.0


class TemporaryPrefectServer(LoopbackServer):
    """Prefect's app factory under uvicorn on 127.0.0.1, as Prefect's temporary server.

    ``settings_env`` is the caller's Prefect settings as environment variables (Prefect's
    ``Settings.to_environment_variables(exclude_unset=True)``), so that the server uses
    the database and options the caller's settings name, as Prefect's own does.
    """

    display_name = "temporary Prefect server"
    log_name = "prefect-server.log"

    def __init__(
        self,
        settings_env: Mapping[str, str] | None = None,
        *,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix="stagegate-prefect-")))
        self.settings_env = dict(settings_env or {})
        self.startup_timeout = startup_timeout
        self._failed = False

    @property
    def api_url(self) -> str:
        """What the caller's Prefect client uses as ``PREFECT_API_URL``."""
        return f"http://{LOOPBACK}:{self.port}/api"

    @property
    def url(self) -> str:
        return self.api_url

    def command(self) -> list[str]:
        spec = importlib.util.find_spec("prefect")
        if spec is None or spec.origin is None:
            raise StackError("Prefect is not installed: no temporary Prefect server")
        # Prefect's own command line for its temporary server (its package's parent
        # folder on the app path, lifespan on, errors only).
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(Path(spec.origin).parent.parent),
            "--factory",
            "prefect.server.api.server:create_app",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--log-level",
            "error",
            "--lifespan",
            "on",
        ]

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {**base, **EPHEMERAL_FLAGS, **self.settings_env}
        # The flows ask the servers their process starts for a batched task-run recorder
        # (flows/README.md, "Back-to-back runs"); this server starts before they load.
        default_recorder_batching(env)
        return env

    def wait_ready(self) -> str:
        """Wait until it answers (launching it if needed); its API URL. StackError if not."""
        self.launch()
        deadline = time.monotonic() + self.startup_timeout
        try:
            while not self.ready():
                if time.monotonic() > deadline:
                    raise StackError(
                        f"the {self.display_name} did not answer {self.health_url} within "
                        f"{self.startup_timeout:.0f} s (log: {self.log_path})\n"
                        f"{log_tail(self.log_path)}",
                        hint="raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or "
                        "promote with --in-process, or against a running server "
                        "(PREFECT_API_URL)",
                    )
                time.sleep(0.05)
        except StackError:
            self._failed = True  # its log stays where the message says
            raise
        return self.api_url

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop it, and remove its log folder unless it failed to start."""
        super().stop(timeout)
        if not self._failed:
            shutil.rmtree(self.data_dir, ignore_errors=True)

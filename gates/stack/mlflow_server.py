"""Start and stop an MLflow tracking server on 127.0.0.1 with its data in one folder.

Metadata goes to a SQLite database and artifacts to a local folder that the server
proxies (``mlflow-artifacts:/``), so clients need only the tracking URI, never access to
the folder. One worker and no server-side job runner: stagegate reads runs and moves
registered-model aliases, and MLflow's job consumers would add seven processes and
seconds of start-up on a laptop for nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from gates.stack.process import LOOPBACK, LoopbackServer

__all__ = ["MLflowServer"]

#: Client-side settings of the user's own that must not steer the server.
_SCRUBBED_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


class MLflowServer(LoopbackServer):
    """``mlflow server`` on 127.0.0.1:``port``; data in ``data_dir`` (kept on stop).

    ``data_dir`` holds ``mlflow.db`` (runs, experiments, registered models),
    ``artifacts/`` and the log ``mlflow.log``.
    """

    display_name = "MLflow tracking server"
    log_name = "mlflow.log"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        workers: int = 1,
        detached: bool = False,
        port_may_move: bool | None = None,
    ) -> None:
        super().__init__(data_dir, port, detached=detached, port_may_move=port_may_move)
        self.workers = workers

    @property
    def database_path(self) -> Path:
        return self.data_dir / "mlflow.db"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"

    @property
    def tracking_uri(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return self.tracking_uri

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--backend-store-uri",
            f"sqlite:///{self.database_path}",
            "--artifacts-destination",
            str(self.artifacts_dir),
        ]

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in base.items() if k not in _SCRUBBED_ENV}
        env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
        return env

"""Move an MLflow registered-model alias (``pilot``, ``production``) to a gated version.

Deploy pipelines that load ``models:/NAME@production`` then get exactly the version a
passing gate admitted. Every MLflow failure is an EvidenceError naming model, alias,
version and tracking store.
"""

from __future__ import annotations

from gates.errors import EvidenceError
from gates.evidence.mlflow_source import client_for, mlflow_errors, redact_uri


def move_alias(tracking_uri: str, model_name: str, alias: str, version: str) -> None:
    """Point ``alias`` of ``model_name`` at ``version`` (creating or moving the alias)."""
    what = f"moving alias {alias!r} of models:/{model_name}/{version}"
    if not alias.strip() or not model_name.strip() or not str(version).strip():
        raise EvidenceError(f"{what}: model name, alias and version must all be set")
    try:
        client = client_for(tracking_uri)
    except EvidenceError as e:
        raise EvidenceError(f"{what}: {e.message}", hint=e.hint) from e
    with mlflow_errors(f"{what} at MLflow {redact_uri(tracking_uri)}"):
        # Checking the version first gives a clear message instead of the registry's own.
        client.get_model_version(model_name, str(version))
        client.set_registered_model_alias(model_name, alias, str(version))

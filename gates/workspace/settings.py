"""The workspace settings file (``stagegate.toml``): store, MLflow, keys and trust."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Strict):
    #: ``s3://bucket/prefix`` or a directory path (relative paths are relative to the workspace).
    uri: str = "ledger"


class MlflowSettings(_Strict):
    #: Empty means ``MLFLOW_TRACKING_URI`` from the environment. A relative
    #: ``sqlite:///file.db`` is resolved against the workspace folder.
    tracking_uri: str = ""


class SigningSettings(_Strict):
    #: The gate service's signing key by URI: ``file:keys/gate.pem`` (relative to the workspace).
    key: str = "file:keys/gate.pem"
    actor: str = "stagegate"


class TrustedKey(_Strict):
    """A public key the verifier trusts, and the roles it may sign for."""

    name: str = Field(min_length=1)
    path: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    revoked: bool = False


class PolicySettings(_Strict):
    #: Optional policy file replacing the shipped defaults (same shape as defaults.yaml).
    path: str | None = None


class Settings(_Strict):
    store: StoreSettings = StoreSettings()
    mlflow: MlflowSettings = MlflowSettings()
    signing: SigningSettings = SigningSettings()
    trusted_keys: list[TrustedKey] = Field(default_factory=list)
    policy: PolicySettings = PolicySettings()

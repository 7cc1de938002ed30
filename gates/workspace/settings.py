"""The workspace settings file (``stagegate.toml``): store, MLflow, keys and trust."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The settings file of a workspace, at its root.
SETTINGS_FILE = "stagegate.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StoreSettings(_Strict):
    """Where the signed ledger lives."""

    uri: str = Field(
        "ledger",
        description="`s3://bucket/prefix` or a folder (relative to the workspace); "
        "`STAGEGATE_STORE` overrides it.",
    )


class MlflowSettings(_Strict):
    """The MLflow tracking server that metric thresholds and monitoring runs are read from."""

    tracking_uri: str = Field(
        "",
        description="Empty means `MLFLOW_TRACKING_URI` from the environment. A relative "
        "`sqlite:///file.db` is resolved against the workspace folder.",
    )


class SigningSettings(_Strict):
    """The gate service's key, which signs registrations, gates, amendments and decisions."""

    key: str = Field(
        "file:keys/gate.pem",
        description="The gate key by URI: `file:keys/gate.pem` (relative to the workspace), "
        "`pkcs11:…`, `awskms:…` or `ssh-agent:…` (docs/adr/0006-signer-uris.md).",
    )
    actor: str = Field(
        "stagegate", description="The name the gate's own entries record as their actor."
    )


class TrustedKey(_Strict):
    """A public key the verifier trusts, and the roles it may sign for."""

    name: str = Field(
        min_length=1, description="Who holds the key; approvals record the approver by it."
    )
    path: str = Field(
        min_length=1,
        description="The public key file (PEM or OpenSSH `.pub`), relative to the workspace.",
    )
    roles: list[str] = Field(
        min_length=1,
        description="What the key may sign for: `gate`, `sponsor`, `budget_owner`, "
        "`operations_lead` (or a role your criteria name).",
    )
    revoked: bool = Field(
        False, description="A leaked key: refused at write, a violation at verify."
    )


class PolicySettings(_Strict):
    """The exit criteria every use case starts from."""

    path: str | None = Field(
        None,
        description="A policy file replacing the shipped defaults (same shape as "
        "gates/policy/defaults.yaml); empty: the playbook's defaults.",
    )


class AlertSettings(_Strict):
    """Webhook notifications (Slack-compatible JSON) on failed or newly warning re-checks
    and blocked promotions. ``STAGEGATE_WEBHOOK_URL`` overrides ``webhook_url``."""

    webhook_url: str = Field("", description="Where alerts are posted; empty: no alerts.")
    link_base: str = Field(
        "", description="Base URL of the report or `stagegate ui` that alerts link entries to."
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="How long a post may take before it counts as failed."
    )


class ScheduleSettings(_Strict):
    """The nightly re-check: when it runs and how it fans out."""

    cron: str = Field("0 2 * * *", description="When the nightly re-check runs (cron syntax).")
    timezone: str = Field("UTC", description="The time zone `cron` is read in.")
    workers: int = Field(
        default=8, ge=1, le=256, description="Concurrent re-checks in the thread pool."
    )
    # A Prefect task run costs tens of milliseconds of orchestration, as much as a whole
    # re-check: past this many use cases they are re-checked in batches.
    max_tasks: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="At most this many task runs a night: beyond it, use cases are "
        "re-checked in even, contiguous batches (each still signs its own entry).",
    )
    task_runner: Literal["threads", "dask"] = Field(
        "threads", description="Where re-checks run: a thread pool, or Dask (`stagegate[dask]`)."
    )
    dask_address: str = Field(
        "",
        description="Address of a running Dask scheduler (`tcp://host:8786`); empty starts "
        "a local cluster.",
    )


class PromotionSettings(_Strict):
    """How long a promotion flow waits for missing approvals before it ends blocked."""

    approval_timeout_seconds: float = Field(
        default=0,
        ge=0,
        description="How long a promotion flow waits for missing approvals; 0: it does not wait.",
    )
    approval_poll_seconds: float = Field(
        default=10, gt=0, description="How often a waiting flow re-reads the ledger."
    )


class ExploreSettings(_Strict):
    """Explore's candidates file and the workspace's weight overrides for scoring it."""

    candidates: str = Field(
        "explore/candidates.yaml",
        description="The candidates file (YAML or CSV), relative to the workspace.",
    )
    weights: dict[
        Literal["impact", "complexity", "data", "measurability", "stakeholders"],
        float,
    ] = Field(
        default_factory=dict,
        description="Relative weights per criterion over the shipped ones; the candidates "
        "file's own `weights` win (docs/explore.md).",
    )


class ClockSettings(_Strict):
    """Whose time entries carry. Writers record their own clock; only a workspace that
    declares a simulated clock (demos, tests) may record a chosen time (``--at``), and
    every entry written under it says so."""

    simulated: bool = Field(
        False,
        description="Demos and tests only: entries may record a chosen time (`--at`) and "
        "say `clock: simulated`.",
    )
    tolerance_seconds: float = Field(
        default=300,
        gt=0,
        le=86_400,
        description="How far an entry's time may stray from the writer's clock (refused at "
        "write) and from the store's clock (reported by `audit verify`).",
    )


class TimestampSettings(_Strict):
    """Optional RFC 3161 timestamps from a timestamp authority, kept beside each entry."""

    tsa_url: str = Field(
        "",
        description="Where writers ask for a token over every entry (`http(s)://`); a TSA "
        "that cannot be reached refuses the write.",
    )
    tsa_certificate: str = Field(
        "",
        description="PEM file with the TSA's certificate chain, its certificate first "
        "(relative to the workspace); tokens are verified offline against it. Set alone, "
        "it only verifies.",
    )

    @model_validator(mode="after")
    def _url_needs_chain(self) -> TimestampSettings:
        if self.tsa_url and not self.tsa_url.startswith(("http://", "https://")):
            raise ValueError(f"tsa_url {self.tsa_url!r} is not an http(s):// URL")
        if self.tsa_url and not self.tsa_certificate:
            raise ValueError(
                "tsa_url needs tsa_certificate: tokens are checked against the TSA's chain "
                "before an entry is written"
            )
        return self


class EvidenceSettings(_Strict):
    """Where evidence may live: the workspace, plus these folders (absolute or relative)."""

    roots: list[str] = Field(
        default_factory=list,
        description="Folders besides the workspace that evidence may be read from.",
    )


class LinkSettings(_Strict):
    """Web UIs that the report and `stagegate ui` link evidence out to (optional)."""

    mlflow_ui: str = Field(
        "",
        description="Base URL of the MLflow UI (`http://127.0.0.1:5000`): runs, experiments "
        "and model versions named in entries link to it; empty: shown as text.",
    )
    prefect_ui: str = Field(
        "",
        description="Base URL of the Prefect UI (`http://127.0.0.1:4200`): gates evaluated "
        "by a Prefect flow run link to the run; empty: shown as text.",
    )

    @field_validator("mlflow_ui", "prefect_ui")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s):// URL")
        if any(c.isspace() or c in "\"'<>" for c in value):
            raise ValueError(f"{value!r} is not a plain URL (no spaces, quotes or angle brackets)")
        return value.rstrip("/")


class Settings(_Strict):
    """The settings file of a workspace (`stagegate.toml`)."""

    store: StoreSettings = StoreSettings()
    mlflow: MlflowSettings = MlflowSettings()
    signing: SigningSettings = SigningSettings()
    trusted_keys: list[TrustedKey] = Field(
        default_factory=list,
        description="Public keys that may sign, and for which roles (`[[trusted_keys]]` blocks).",
    )
    policy: PolicySettings = PolicySettings()
    alerts: AlertSettings = AlertSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    promotion: PromotionSettings = PromotionSettings()
    explore: ExploreSettings = ExploreSettings()
    clock: ClockSettings = ClockSettings()
    timestamp: TimestampSettings = TimestampSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    links: LinkSettings = LinkSettings()

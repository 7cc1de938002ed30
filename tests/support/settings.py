"""The one ``stagegate.toml`` template every test workspace is written from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Trusted:
    """A ``[[trusted_keys]]`` entry: its name (recorded as the approver), key file and roles."""

    name: str
    key: str
    roles: tuple[str, ...]


GATE = Trusted("gate", "gate", ("gate",))
SPONSOR = Trusted("dana", "sponsor", ("sponsor",))
BUDGET_OWNER = Trusted("lee", "budget", ("budget_owner",))
OPERATIONS_LEAD = Trusted("ops", "ops", ("operations_lead",))
#: Who every workspace trusts unless told otherwise: the gate service and two approvers.
TRUSTED = (GATE, SPONSOR, BUDGET_OWNER)


@dataclass(frozen=True)
class SettingsOptions:
    """What may differ between test workspaces' settings; the rest is the template."""

    #: ``ledger`` (a folder in the workspace), another folder, or ``s3://bucket/prefix``.
    store: str = "ledger"
    #: ``simulated`` lets writers choose entry times; ``None`` leaves the section out.
    clock: Literal["simulated", "system"] | None = "simulated"
    #: A policy file replacing the shipped defaults, relative to the workspace.
    policy: str | None = None
    #: The gate service's actor name (the product's default when ``None``).
    actor: str | None = None
    mlflow_tracking_uri: str | None = None
    #: Keys trusted besides ``TRUSTED`` (say ``OPERATIONS_LEAD``).
    extra_trusted: tuple[Trusted, ...] = ()
    #: Raw TOML appended at the end (``[schedule]``, ``[alerts]``, ``[promotion]``...).
    extra: str = ""


#: The template as it stands, with no option changed.
DEFAULTS = SettingsOptions()


def settings_toml(options: SettingsOptions = DEFAULTS) -> str:
    """The settings file's text for ``options``."""
    lines = ["[store]", f'uri = "{options.store}"']
    if options.policy is not None:
        lines += ["[policy]", f'path = "{options.policy}"']
    lines += ["[signing]", 'key = "file:keys/gate.pem"']
    if options.actor is not None:
        lines.append(f'actor = "{options.actor}"')
    if options.clock is not None:
        lines += ["[clock]", f"simulated = {'true' if options.clock == 'simulated' else 'false'}"]
    if options.mlflow_tracking_uri is not None:
        lines += ["[mlflow]", f'tracking_uri = "{options.mlflow_tracking_uri}"']
    for trusted in (*TRUSTED, *options.extra_trusted):
        roles = ", ".join(f'"{role}"' for role in trusted.roles)
        lines += [
            "[[trusted_keys]]",
            f'name = "{trusted.name}"',
            f'path = "keys/{trusted.key}.pub"',
            f"roles = [{roles}]",
        ]
    return "\n".join(lines) + "\n" + options.extra

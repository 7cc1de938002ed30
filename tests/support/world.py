"""One World: a real workspace on disk that tests write to and drive through the real actions.

A World owns a workspace folder: its settings (from the one template in ``settings.py``),
its key pairs, use-case specs and evidence files, and an open ``Session``. Its actions
are the engine's own (``register``, ``approve``, ``promote``, ``amend``, ``decide``, the
re-check), at times counted in days from the World's ``t0`` on the simulated clock.
Anything that writes what the product never would lives in ``forge.py``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gates.canonical import digest_of
from gates.engine.actions import PromotionOutcome, amend, approve, decide, promote, register
from gates.engine.checkpoints import write_checkpoint
from gates.ledger.checkpoint import Checkpoint
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.ledger.statement import EntryKind
from gates.ledger.time_evidence import SIMULATED_NOTE
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.policy.effective import criteria_digest
from gates.recheck.run import RecheckOutcome, recheck_usecase
from gates.signing.keys import PublicKey, generate_keypair
from gates.signing.signers import Signer, load_signer
from gates.stages import Stage, next_stage
from gates.workspace.session import Session
from tests.support.settings import DEFAULTS, SettingsOptions, settings_toml

#: When a World's history starts unless told otherwise: a Monday morning, UTC.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: The key pairs every World holds (``keys/<name>.pem`` and ``.pub``); ``outsider`` is
#: never trusted, ``ops`` only where the settings add it.
KEYS = ("gate", "sponsor", "budget", "ops", "outsider")
#: Which key file signs for each approver role, and in which order roles sign off.
ROLE_KEYS = {"sponsor": "sponsor", "budget_owner": "budget", "operations_lead": "ops"}

Spec = str | Mapping[str, Any]


def other_notes(report: VerificationReport) -> list[str]:
    """A report's notes but the simulated-time one every simulated-clock ledger gets."""
    return [note for note in report.notes if not note.startswith(SIMULATED_NOTE)]


def write_keys(folder: Path, names: tuple[str, ...] = KEYS, *, seed: int | None = None) -> None:
    """Write an Ed25519 key pair per name: random, or derived from ``seed`` so that
    every run signs the same bytes (Ed25519 signatures are deterministic)."""
    for name in names:
        if seed is None:
            generate_keypair(folder / f"{name}.pem")
            continue
        key = Ed25519PrivateKey.from_private_bytes(
            hashlib.sha256(f"{seed}:{name}".encode()).digest()
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        public = PublicKey.of(key.public_key())
        (folder / f"{name}.pub").write_bytes(public.pem())


@dataclass
class World:
    """A workspace at ``root`` and the session open on it."""

    root: Path
    session: Session
    settings: SettingsOptions
    t0: datetime = T0
    _signers: dict[str, Signer] = field(default_factory=dict, repr=False)

    # --- building ----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        t0: datetime = T0,
        settings: SettingsOptions = DEFAULTS,
        usecases: Mapping[str, Spec] | None = None,
        files: Mapping[str, str] | None = None,
        key_seed: int | None = None,
    ) -> World:
        """Write a workspace at ``root`` (which must not exist yet) and open it.

        ``usecases`` maps ids to specs (YAML text or a mapping); ``files`` maps
        workspace-relative paths to their text (evidence, policy, alert rules).
        """
        (root / "usecases").mkdir(parents=True)
        write_keys(root / "keys", seed=key_seed)
        (root / "stagegate.toml").write_text(settings_toml(settings))
        for path, text in (files or {}).items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        for usecase, spec in (usecases or {}).items():
            _write_spec(root, usecase, spec)
        return cls(root, Session.open(root), settings, t0)

    def reopen(self) -> Session:
        """Open the workspace again, reading every file anew (as a new command would)."""
        self.session = Session.open(self.root)
        return self.session

    def new_session(self) -> Session:
        """A session of its own on the workspace, as another process would open it."""
        return Session.open(self.root)

    def configure(self, **changes: Any) -> Session:
        """Rewrite the settings from the template with ``changes`` (see ``SettingsOptions``);
        edits made to the file by hand are replaced too."""
        self.settings = replace(self.settings, **changes)
        (self.root / "stagegate.toml").write_text(settings_toml(self.settings))
        return self.reopen()

    def use_store(self, uri: str) -> Session:
        return self.configure(store=uri)

    def append_settings(self, toml: str) -> Session:
        """Add raw TOML (a ``[timestamp]`` or ``[alerts]`` section...) after the template's."""
        return self.configure(extra=f"{self.settings.extra}\n{toml}")

    # --- files -------------------------------------------------------------------------

    def write(self, path: str, text: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def edit(self, path: str, old: str, new: str) -> None:
        """Replace ``old`` (which must be there) in a workspace file."""
        target = self.root / path
        text = target.read_text()
        assert old in text, f"{path} has no {old!r}"
        target.write_text(text.replace(old, new))

    def add_usecase(self, usecase: str, spec: Spec) -> Session:
        _write_spec(self.root, usecase, spec)
        return self.reopen()

    def edit_spec(self, usecase: str, old: str, new: str) -> Session:
        self.edit(f"usecases/{usecase}.yaml", old, new)
        return self.reopen()

    def append_spec(self, usecase: str, yaml_text: str) -> Session:
        """Append YAML to a use case's spec (e.g. ``start_date`` or a ``roadmap`` block)."""
        path = self.root / "usecases" / f"{usecase}.yaml"
        path.write_text(path.read_text() + yaml_text)
        return self.reopen()

    def write_monitoring(
        self,
        usecase: str,
        end: datetime,
        days: int = 30,
        *,
        availability: float = 0.9995,
        daily_cost: float = 600.0,
        quality: float = 0.9,
        error_rate: float = 0.002,
        p95: float = 700.0,
        incidents: int = 0,
        last: Callable[[dict[str, object]], None] | None = None,
    ) -> Path:
        """Write ``days`` daily production rows ending at ``end`` as
        ``data/<usecase>-monitoring.csv``; ``last`` edits the newest row."""
        rows: list[dict[str, object]] = []
        for i in range(days):
            day = (end - timedelta(days=days - 1 - i)).date()
            rows.append(
                {
                    "date": day.isoformat(),
                    "availability": availability,
                    "latency_p50_ms": 200.0,
                    "latency_p95_ms": p95,
                    "latency_p99_ms": 1500.0,
                    "error_rate": error_rate,
                    "quality_score": quality,
                    "cost": daily_cost,
                    "major_incidents": 0,
                    "requests": 10000,
                }
            )
        rows[-1]["major_incidents"] = incidents
        if last is not None:
            last(rows[-1])
        path = self.root / "data" / f"{usecase}-monitoring.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path

    # --- time, state and keys ----------------------------------------------------------

    def at(self, days: float) -> datetime:
        return self.t0 + timedelta(days=days)

    def state(self, usecase: str) -> ChainState:
        """The use case's chain state as a newly opened session reads it."""
        return self.new_session().ledger.state(usecase)

    def violations(self) -> set[tuple[str, int | None, str]]:
        """What verifying the whole ledger finds: (use case, sequence, rule) of each violation."""
        report = verify_ledger(self.session.ledger)
        return {(v.usecase, v.sequence, v.rule) for v in report.violations}

    def signer(self, key: str) -> Signer:
        """The signer of ``keys/<key>.pem``."""
        if key not in self._signers:
            self._signers[key] = load_signer(f"file:keys/{key}.pem", self.root)
        return self._signers[key]

    @property
    def sponsor(self) -> Signer:
        return self.signer(ROLE_KEYS["sponsor"])

    @property
    def budget_owner(self) -> Signer:
        return self.signer(ROLE_KEYS["budget_owner"])

    @property
    def outsider(self) -> Signer:
        """A key pair no settings trust."""
        return self.signer("outsider")

    # --- the real actions --------------------------------------------------------------

    def register(self, usecase: str, day: float = 0) -> Entry:
        return register(self.session, usecase, now=self.at(day))

    def approve(
        self,
        usecase: str,
        role: str,
        day: float,
        *,
        note: str = "",
        purpose: Literal["promotion", "amendment"] = "promotion",
    ) -> Entry:
        """The approver holding ``role`` signs with their own key."""
        return approve(
            self.session,
            usecase,
            self.signer(ROLE_KEYS[role]),
            role=role,
            note=note,
            purpose=purpose,
            now=self.at(day),
        )

    def approve_exit(self, usecase: str, day: float) -> list[int]:
        """Every approval the locked criteria require, in role order; their sequences."""
        state = self.session.ledger.state(usecase)
        assert state.lock is not None
        required = {r: n for r, n in state.lock.criteria.get("approvals", {}).items() if n}
        assert set(required) <= set(ROLE_KEYS), f"no key for the roles {sorted(required)}"
        assert all(n == 1 for n in required.values()), f"one key per role: {required}"
        roles = [role for role in ROLE_KEYS if role in required]
        return [self.approve(usecase, role, day).sequence for role in roles]

    def promote(self, usecase: str, target: Stage, day: float) -> PromotionOutcome:
        return promote(self.session, usecase, target, now=self.at(day))

    def promote_approved(self, usecase: str, target: Stage, day: float) -> Entry:
        """The real gate to ``target`` after every approval it needs; it must pass."""
        self.approve_exit(usecase, day)
        outcome = self.promote(usecase, target, day)
        if not outcome.promoted:
            blocking = outcome.evaluation.failing if outcome.evaluation else ()
            raise AssertionError(f"{usecase} -> {target.value}: {[str(r) for r in blocking]}")
        return outcome.entry

    def advance(self, usecase: str, stage: Stage, start_day: float = 0) -> float:
        """Register ``usecase`` and pass each gate up to ``stage``, ten days apart;
        return the day it got there."""
        self.register(usecase, start_day)
        day = start_day
        order = [Stage.POC, Stage.PILOT, Stage.PRODUCTION, Stage.SCALE]
        for target in order[: order.index(stage) + 1] if stage is not Stage.EXPLORE else []:
            day += 10
            self.promote_approved(usecase, target, day)
        return day

    def amend(self, usecase: str, reason: str, day: float) -> Entry:
        return amend(self.session, usecase, reason=reason, now=self.at(day))

    def decide(
        self,
        usecase: str,
        decision: Literal["no-go", "rollback"],
        day: float,
        *,
        reason: str,
        to: Stage | None = None,
        sponsor: Signer | Literal["own"] | None = "own",
    ) -> Entry:
        """A No-Go or rollback: by default the sponsor signs it with her own key, then the
        gate records it; ``sponsor=None`` records an approval already in the ledger."""
        signer = self.sponsor if sponsor == "own" else sponsor
        return decide(
            self.session, usecase, decision, reason=reason, to=to, now=self.at(day), sponsor=signer
        )

    def recheck(self, usecase: str, day: float, *, notify: bool = False) -> RecheckOutcome:
        return recheck_usecase(self.session, usecase, self.at(day), notify=notify)

    def checkpoint(self, day: float) -> Checkpoint:
        return write_checkpoint(self.session.ledger, self.session.signer, self.at(day))

    def run_gate_flow(self, usecase: str, to: str = "poc", **options: Any) -> Any:
        """The Prefect gate flow (``flows.gate_flow``) on this workspace, run as stagegate
        runs it (``run_gate``), with ``options`` (``now`` as ISO text, ``return_state``...)
        as the flow takes them."""
        from flows.gate_flow import run_gate

        return run_gate(usecase=usecase, to=to, workspace=str(self.root), **options)

    # --- entries signed as the gate service signs them, without running its checks ------

    def record_pass(self, usecase: str, day: float) -> Entry:
        """A passing gate to the next stage citing real approvals, signed by the gate key."""
        cited = self.approve_exit(usecase, day)
        state = self.session.ledger.state(usecase)
        assert state.stage is not None and state.lock is not None
        target = next_stage(state.stage)
        assert target is not None
        records: dict[str, Any] = {
            "gate": {
                "from": state.stage.value,
                "to": target.value,
                "verdict": "pass",
                "criteriaDigest": state.lock.digest,
                "checks": [
                    {"check": "time-box", "kind": "timebox", "status": "pass", "reason": "ok"}
                ],
                "approvals": cited,
            }
        }
        if target is not Stage.SCALE:
            records["lock"] = self.lock(usecase, target)
        return self.append(usecase, "gate", target, day, records)

    def record_blocked(self, usecase: str, day: float) -> Entry:
        """A blocked gate to the next stage (a failed metric), signed by the gate key."""
        state = self.session.ledger.state(usecase)
        assert state.stage is not None and state.lock is not None
        target = next_stage(state.stage)
        assert target is not None
        record = {
            "from": state.stage.value,
            "to": target.value,
            "verdict": "blocked",
            "criteriaDigest": state.lock.digest,
            "checks": [{"check": "metric:x", "kind": "metric", "status": "fail", "reason": "low"}],
        }
        return self.append(usecase, "gate", state.stage, day, {"gate": record})

    def record_recheck(self, usecase: str, day: float, verdict: str = "ok") -> Entry:
        """A re-check entry with ``verdict`` and one SLO check, signed by the gate key."""
        state = self.session.ledger.state(usecase)
        assert state.stage is not None
        record = {
            "stage": state.stage.value,
            "verdict": verdict,
            "policyDigest": digest_of({"recheck": "policy"}),
            "checks": [{"check": "slo", "kind": "slo", "status": "pass", "reason": "healthy"}],
        }
        return self.append(usecase, "recheck", state.stage, day, {"recheck": record})

    def lock(self, usecase: str, stage: Stage) -> dict[str, Any]:
        """The criteria lock the spec gives ``stage``, as entries record it."""
        workspace = self.session.workspace
        criteria = workspace.criteria(workspace.usecase(usecase), stage)
        return {
            "stage": stage.value,
            "digest": criteria_digest(criteria),
            "criteria": criteria.model_dump(mode="json"),
        }

    def append(
        self, usecase: str, kind: EntryKind, after: Stage, day: float, records: dict[str, Any]
    ) -> Entry:
        """Sign and write the next entry through the ledger's own writer."""
        state = self.session.ledger.state(usecase)
        return self.session.ledger.append(
            state,
            self.session.signer,
            kind=kind,
            after=after,
            actor="stagegate-gate",
            time=self.at(day),
            records=records,
        )


def _write_spec(root: Path, usecase: str, spec: Spec) -> None:
    text = spec if isinstance(spec, str) else yaml.safe_dump(dict(spec), sort_keys=False)
    (root / "usecases" / f"{usecase}.yaml").write_text(text)

"""What follows a recorded passing gate: the model alias moved, or a lost one finished.

The ledger, not the alias, is the source of truth (``admit`` reads the ledger), so a
failed alias move does not undo a promotion: it is reported as ``alias_not_moved``,
naming the recorded entry. Every follow-up is idempotent, so a promotion whose passing
entry landed but whose follow-ups never ran is finished (``recorded_promotion`` finds
it, ``finish_promotion`` finishes it) instead of being gated twice.
"""

from __future__ import annotations

from gates.engine.failures import problem_text
from gates.engine.gate import GateEvaluation
from gates.errors import EvidenceError
from gates.ledger.entry import Entry
from gates.ledger.replay import ChainState
from gates.results import Verdict
from gates.stages import Stage
from gates.workspace.session import Session


def recorded_promotion(state: ChainState, target: Stage) -> Entry | None:
    """The passing gate that moved the use case into ``target``, if it is the latest gate.

    The use case must be in ``target`` by that very entry: a later rollback, a No-Go or
    another gate means the promotion is history, not something left to finish.
    """
    entry = state.last_gate
    if entry is None or state.stage is not target or state.entered_sequence != entry.sequence:
        return None
    gate = entry.predicate.gate
    if gate is None or gate.verdict != "pass" or gate.to_stage != target.value:
        return None
    return entry


def finish_promotion(session: Session, state: ChainState, entry: Entry) -> str | None:
    """Run a recorded passing gate's follow-ups again; each is idempotent.

    The follow-up is the model alias (setting it to the same version again changes
    nothing). A pass raises no alert, so none can be due. Returns the alias moved.
    """
    due = recorded_alias(session, state, entry)
    return _point_alias(session, *due) if due else None


def recorded_alias(
    session: Session, state: ChainState, entry: Entry
) -> tuple[str, str, str] | None:
    """(model, alias, version) a recorded passing gate points at, or None if none is due.

    The alias is the one in the criteria the gate was judged under, as the ledger
    locked them; whether to move it at all is the use case's ``model.move_alias``.
    """
    gate = entry.predicate.gate
    if gate is None or gate.verdict != "pass" or gate.model is None:
        return None
    alias = _locked_alias(state, gate.from_stage, gate.criteria_digest)
    model = session.workspace.usecase(state.usecase).model
    if not alias or model is None or not model.move_alias:
        return None
    return gate.model.name, alias, gate.model.version


def _locked_alias(state: ChainState, stage: str, digest: str) -> str | None:
    for entry in reversed(state.history):
        lock = entry.predicate.lock
        if lock is not None and lock.stage == stage and lock.digest == digest:
            alias = lock.criteria.get("alias")
            return alias if isinstance(alias, str) and alias else None
    return None


def alias_due(evaluation: GateEvaluation) -> tuple[str, str, str] | None:
    """(model, alias, version) a passing gate's evaluation moves, or None if none is due."""
    plan = evaluation.plan
    model = plan.context.usecase.model
    alias = plan.criteria.alias
    if evaluation.verdict is not Verdict.PASS or not alias or evaluation.model is None:
        return None
    if model is None or not model.move_alias:
        return None
    name, version = evaluation.model
    return name, alias, version


def move_model_alias(session: Session, evaluation: GateEvaluation) -> str | None:
    """After a recorded pass, point the registered model's stage alias at the gated version."""
    due = alias_due(evaluation)
    return _point_alias(session, *due) if due else None


def _point_alias(session: Session, name: str, alias: str, version: str) -> str:
    from gates.promotion.mlflow_alias import move_alias

    move_alias(session.workspace.tracking_uri, name, alias, version)
    return alias_text(name, alias, version)


def alias_text(name: str, alias: str, version: str) -> str:
    """How a moved alias is reported: ``models:/NAME@ALIAS -> VERSION``."""
    return f"models:/{name}@{alias} -> {version}"


def alias_not_moved(usecase_id: str, entry: Entry, problem: BaseException) -> EvidenceError:
    """The error for a recorded pass whose alias did not move: the promotion stands."""
    return EvidenceError(
        f"{usecase_id}: the gate passed and is recorded as {entry.key}, "
        f"but the model alias was not moved: {problem_text(problem)}",
        hint="move the alias once MLflow is reachable; the ledger already admits the version",
    )

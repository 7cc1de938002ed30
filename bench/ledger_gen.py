"""Generate a large, valid signed ledger quickly (for verify benchmarks)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gates.ledger.chain import Ledger
from gates.ledger.replay import ChainState, apply_entry
from gates.policy import criteria_digest, effective_criteria
from gates.signing.signers import load_signer
from gates.stages import Stage
from gates.store.interface import ObjectStore
from gates.workspace.session import Session

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def generate(session: Session, usecases: int, per_chain: int) -> int:
    """Write ``usecases`` chains of ``per_chain`` entries into the session's store."""
    ledger = session.ledger
    gate = session.signer
    sponsor = load_signer("file:keys/sponsor.pem", session.workspace.root)
    criteria = effective_criteria(Stage.EXPLORE)
    lock = {
        "stage": "explore",
        "digest": criteria_digest(criteria),
        "criteria": criteria.model_dump(mode="json"),
    }

    def chain(i: int) -> int:
        usecase = f"uc-{i:05d}"
        state = ChainState(usecase=usecase)
        entry = ledger.append(
            state,
            gate,
            kind="registration",
            after=Stage.EXPLORE,
            actor="bench",
            time=T0,
            records={"lock": lock},
        )
        state, _ = apply_entry(state, entry, ledger.trust, keep_history=False)
        for n in range(1, per_chain):
            record = {
                "purpose": "promotion",
                "role": "sponsor",
                "approver": "Dana Park",
                "from": "explore",
                "to": "poc",
                "criteriaDigest": lock["digest"],
                "note": f"review {n}",
            }
            entry = ledger.append(
                state,
                sponsor,
                kind="approval",
                after=Stage.EXPLORE,
                actor="Dana Park",
                time=T0 + timedelta(minutes=n),
                records={"approval": record},
            )
            state, _ = apply_entry(state, entry, ledger.trust, keep_history=False)
        return per_chain

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(pool.map(chain, range(usecases)))


def copy_store(source: ObjectStore, target: ObjectStore, prefix: str = "chains/") -> int:
    keys = source.list_keys(prefix)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda k: target.put_new(k, source.get(k)), keys))
    return len(keys)


def ledger_over(session: Session, store: ObjectStore) -> Ledger:
    return Ledger(store, session.trust, session.clock)


def workspace(root: Path) -> Session:
    """The test suite's two-use-case workspace at ``root`` (real keys, a folder store)."""
    from tests.support.presets import ledger_world

    return ledger_world(root).session

"""Thousands of seeded mutations of stored entries and export bundles, through the verifier.

The world: a small real ledger (``tests.support.presets.ledger_world``, keys from the seed) with
two chains, approvals, a passing gate, a No-Go, and two signed checkpoints, the newest
covering every entry and held by the auditor (``pinned``), as ``audit verify
--checkpoint`` does. Each case mutates the stored objects (or the exported bundle) with
a ``random.Random`` seeded by its number, so any case can be replayed alone; keys come
from the seed and the world is built at a fixed path (gate entries record absolute
evidence paths), so every run mutates the same bytes and prints the same counts.

Definitions (the counts printed at the end of the run):

- **tried**: mutations generated and run through ``verify_ledger``, ``Ledger.replay`` and
  ``Ledger.state`` (store family) or ``load_bundle`` and ``verify_bundle`` (bundles).
- **signed content** of a stored object (``signed_content``): its payload type, its
  payload bytes (after base64) and the set of trusted keys with a valid signature over
  them; of the ledger, the signed content of every object under ``chains/`` and
  ``checkpoints/`` by key (so deleting, adding or moving an object changes it). Of a
  bundle, the ordered list of its entries' keys and signed contents.
- **detected**: the signed content changed and verification reported at least one
  violation (or, for a bundle, ``load_bundle`` refused the file with a ``ConfigError``).
- **benign**: the signed content did not change (JSON spelled differently, base64 with
  different padding bits, a signature by an unknown key added, an informative bundle
  field edited): it may legitimately verify intact.
- **false pass**: the signed content changed, yet verification reported the ledger (or
  bundle) intact. Must be 0.
- **crash**: any exception out of the verifier other than the ``LedgerError`` that
  ``Ledger.state`` raises for a chain that fails verification (or the ``ConfigError`` of
  ``load_bundle``). Must be 0.
- **false alarm**: a benign mutation reported as a violation (strict, not wrong; shown).

Every twentieth store case also builds the report's pages (index, use case, every entry)
over the mutated store: their banner must say what ``verify_ledger`` says over the same
store (the pages hold no pinned checkpoint), and no page may raise.

Re-signing never uses a key with the ``gate`` role: a gate key signing anything is a
legitimate entry, not an attack this suite can tell apart from one.
"""

from __future__ import annotations

import contextlib
import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gates.engine.actions import approve, decide, promote, register
from gates.engine.checkpoints import write_checkpoint
from gates.errors import ConfigError, LedgerError
from gates.ledger.bundle import (
    bundle_trust,
    export_bundle,
    load_bundle,
    trust_notes,
    verify_bundle,
    write_bundle,
)
from gates.ledger.chain import Ledger
from gates.ledger.checkpoint import Checkpoint
from gates.ledger.verify import verify_ledger
from gates.report.entry_page import entry_view
from gates.report.index_page import index_view
from gates.report.models import PageNotFound
from gates.report.usecase_page import usecase_view
from gates.signing.trust import TrustStore
from gates.stages import Stage
from gates.store.factory import open_store
from gates.store.memory import MemoryStore
from gates.workspace.session import Session
from tests.adversarial.ledger_mutations import (
    Objects,
    Signers,
    bundle_content,
    ledger_content,
    mutate_bundle_doc,
    mutate_bundle_text,
    mutate_store,
    same_bundle_content,
)
from tests.adversarial.seeded import SEED, cases, fixed_folder
from tests.adversarial.tally import Tally
from tests.support.presets import ledger_world
from tests.support.world import World

STORE_CASES = 2500
BUNDLE_CASES = 1500
#: Every n-th store case also builds the report's pages over the mutated ledger.
VIEWS_EVERY = 20
S3_CASES = 30


@dataclass
class Pristine:
    world: World
    trust: TrustStore
    signers: Signers
    objects: Objects
    pinned: Checkpoint

    def ledger(self, objects: Objects) -> Ledger:
        store = MemoryStore("memory:adversarial")
        for key, data in objects.items():
            store.put_new(key, data)
        # The world records chosen times on its declared simulated clock.
        return Ledger(store, self.trust, self.world.session.clock)


@pytest.fixture(scope="module")
def pristine() -> Iterator[Pristine]:
    with fixed_folder(f"stagegate-adversarial-{SEED}") as base:
        yield build_world(base / "ws")


def build_world(root: Path) -> Pristine:
    world = ledger_world(root, key_seed=SEED)
    session = world.session
    register(session, "alpha", now=world.at(0))
    register(session, "beta", now=world.at(0))
    world.approve_exit("alpha", 9)
    assert promote(session, "alpha", Stage.POC, now=world.at(10)).promoted
    decide(session, "beta", "no-go", reason="no measurable outcome", now=world.at(3))
    write_checkpoint(session.ledger, session.signer, world.at(11))
    approve(session, "alpha", world.sponsor, role="sponsor", now=world.at(12))
    pinned = write_checkpoint(session.ledger, session.signer, world.at(13))
    store = session.store
    objects = {key: store.get(key) for key in store.list_keys("")}
    pristine = Pristine(
        world,
        session.trust,
        Signers(world.outsider, world.sponsor, world.budget_owner),
        objects,
        pinned,
    )
    report = verify_ledger(pristine.ledger(objects), pinned=[pinned])
    assert report.intact and report.entries == 7, [str(v) for v in report.violations]
    return pristine


def verify_store(pristine: Pristine, objects: Objects) -> bool:
    """Run every reader of a ledger over ``objects``; True when verification says intact."""
    ledger = pristine.ledger(objects)
    report = verify_ledger(ledger, pinned=[pristine.pinned])
    for usecase in ledger.usecases():
        replayed = ledger.replay(usecase)
        try:
            ledger.state(usecase)
        except LedgerError:
            assert replayed.violations, f"state() refused {usecase} that replays clean"
    return report.intact


def build_pages(pristine: Pristine, objects: Objects) -> bool:
    """The report's pages over the mutated ledger; True when the index banner says intact."""
    store = MemoryStore("memory:pages")
    for key, data in objects.items():
        store.put_new(key, data)
    session = Session(pristine.world.session.workspace, store_override=store)
    now = pristine.world.at(20)
    index = index_view(session, now)
    for row in index.rows:
        page = usecase_view(session, row.id, now)
        for sequence in range(len(page.timeline) + 1):
            with contextlib.suppress(PageNotFound):
                entry_view(session, row.id, sequence, now)
    return index.banner.intact


def judge(tally: Tally, case: str, changed: bool, intact: bool) -> None:
    if changed and intact:
        tally.false_passes.append(case)
    elif changed:
        tally.detected += 1
    else:
        tally.benign += 1
        tally.false_alarms += not intact
        if not intact:
            tally.alarms.append(case)


def test_mutated_stored_entries_never_crash_and_never_verify(pristine: Pristine) -> None:
    tally = Tally.open("stored entries and checkpoints")
    pages = Tally.open("report pages over mutated stores")
    original = ledger_content(pristine.objects, pristine.trust)
    for number, rng in cases(STORE_CASES, salt=1):
        what, objects = mutate_store(rng, pristine.objects, pristine.signers)
        case = f"store case {number} ({what})"
        tally.tried += 1
        changed = ledger_content(objects, pristine.trust) != original
        try:
            intact = verify_store(pristine, objects)
        except Exception as e:
            tally.crash(case, e)
            continue
        judge(tally, case, changed, intact)
        if number % VIEWS_EVERY == 0:
            pages.tried += 1
            # The pages hold no pinned checkpoint: their banner must say what the
            # verifier says over the store alone.
            try:
                verified = verify_ledger(pristine.ledger(objects)).intact
                shown_intact = build_pages(pristine, objects)
            except Exception as e:  # a StagegateError too: the UI's 503, not the banner
                pages.crash(case, e)
            else:
                judge(pages, case, not verified, shown_intact)
    tally.assert_clean()
    pages.assert_clean()
    assert tally.detected > STORE_CASES // 2  # the mutations are not mostly no-ops


def test_mutated_bundles_never_crash_and_never_verify(pristine: Pristine, tmp_path: Path) -> None:
    tally = Tally.open("export bundles")
    session = pristine.world.session
    bundle, report = export_bundle(session.ledger, "alpha", now=pristine.world.at(14))
    assert report.intact
    path = tmp_path / "alpha.bundle.json"
    write_bundle(bundle, path)
    # The world records chosen times on its declared simulated clock; the auditor here
    # declares the same, so that only the mutation can make a bundle fail.
    clock = session.clock
    assert verify_bundle(
        load_bundle(path), pristine.trust, pinned=[pristine.pinned], clock=clock
    ).intact
    text = path.read_bytes()
    doc = json.loads(text)
    original = bundle_content(doc, pristine.trust)
    target = tmp_path / "mutated.bundle.json"
    for number, rng in cases(BUNDLE_CASES, salt=2):
        if rng.random() < 0.2:
            what, data = mutate_bundle_text(rng, text)
        else:
            what, edited = mutate_bundle_doc(rng, doc, pristine.signers)
            data = json.dumps(edited, ensure_ascii=rng.random() < 0.5).encode(
                "utf-8", "surrogatepass"
            )
        case = f"bundle case {number} ({what})"
        tally.tried += 1
        target.write_bytes(data)
        try:
            loaded = load_bundle(target)
        except ConfigError:
            tally.detected += 1  # refused as a whole, naming the file
            continue
        except Exception as e:
            tally.crash(case, e)
            continue
        mutated = bundle_content(json.loads(data), pristine.trust)
        changed = not same_bundle_content(original, mutated)
        try:
            checked = verify_bundle(loaded, pristine.trust, pinned=[pristine.pinned], clock=clock)
            trust_notes(loaded, pristine.trust)
            with contextlib.suppress(ConfigError):  # --trust-bundle-keys
                verify_bundle(loaded, bundle_trust(loaded), clock=clock)
        except Exception as e:
            tally.crash(case, e)
            continue
        judge(tally, case, changed, checked.intact)
    tally.assert_clean()
    assert tally.detected > BUNDLE_CASES // 2


@pytest.mark.s3
def test_mutated_entries_in_a_real_s3_store_never_crash_and_never_verify(
    pristine: Pristine, s3_bucket: str
) -> None:
    """A small slice on SeaweedFS: listing, fast reads and verification over real S3."""
    tally = Tally.open("stored entries on S3 (SeaweedFS)")
    original = ledger_content(pristine.objects, pristine.trust)
    for number, rng in cases(S3_CASES, salt=3):
        what, objects = mutate_store(rng, pristine.objects, pristine.signers)
        case = f"s3 case {number} ({what})"
        tally.tried += 1
        store = open_store(f"s3://{s3_bucket}/case-{number}")
        for key, data in objects.items():
            store.put_new(key, data)
        changed = ledger_content(objects, pristine.trust) != original
        try:
            ledger = Ledger(store, pristine.trust, pristine.world.session.clock)
            intact = verify_ledger(ledger, pinned=[pristine.pinned]).intact
            for usecase in ledger.usecases():
                ledger.replay(usecase)
        except Exception as e:
            tally.crash(case, e)
            continue
        judge(tally, case, changed, intact)
    tally.assert_clean()


def test_the_mutated_world_has_two_chains_and_two_checkpoints(pristine: Pristine) -> None:
    keys = sorted(pristine.objects)
    assert keys == sorted(
        [
            *(f"chains/alpha/{n:012d}.dsse.json" for n in range(5)),
            *(f"chains/beta/{n:012d}.dsse.json" for n in range(2)),
            "checkpoints/000000000000.dsse.json",
            "checkpoints/000000000001.dsse.json",
        ]
    ), textwrap.shorten(str(keys), 300)

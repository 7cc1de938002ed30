"""Verification spread over processes, or over a Dask cluster, gives the serial report:
the same chains, the same violations in the same order, the same notes and counts.

The ledger is tampered with and forged in the ways ``test_tamper.py`` catches, across
several chains, so that chunks of chains go to different workers and every kind of
finding (per entry, per chain against a checkpoint, and across chains) has to come back
in its place. The Dask cluster is a real ``distributed.LocalCluster`` of two worker
processes that read the store themselves.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gates.engine.actions import approve, register
from gates.ledger.entry import entry_key
from gates.ledger.parallel_verify import Parallelism, WorkerError
from gates.ledger.timestamps import token_key
from gates.ledger.verify import VerificationReport, verify_ledger
from gates.stack.seaweedfs import SeaweedFS
from gates.stages import Stage
from gates.store.s3 import S3Store
from gates.workspace.session import Session
from tests.support.cli import run
from tests.support.forge import delete_object, forge_entry
from tests.support.presets import SPEC, ledger_world
from tests.support.world import World
from tests.tsa_authority import LoopbackTsa

#: Chains besides alpha and beta: enough for several chunks per worker.
MORE = ("gamma", "delta", "epsilon", "zeta", "eta")
#: What the tampering below must be caught as, by any of the three ways of verifying.
EXPECTED = {
    ("alpha", 1, "signature-invalid"),
    ("alpha", 2, "link-broken"),
    ("beta", None, "checkpoint-chain-missing"),
    ("gamma", 3, "signer-untrusted"),
    ("delta", 2, "sequence-gap"),
    ("delta", 2, "link-broken"),
    ("epsilon", 2, "checkpoint-truncated"),
    ("notes.txt", None, "stray-object"),
}


def tampered(world: World) -> World:
    """Seven chains, a checkpoint over the first ones, then tampering and forgeries."""
    for usecase in MORE:
        world.add_usecase(usecase, SPEC.format(id=usecase, title=usecase.title()))
    for usecase in ("alpha", "beta", *MORE):
        world.register(usecase, 0)
        world.approve(usecase, "sponsor", 1)
        if usecase != "beta":
            world.approve(usecase, "budget_owner", 2)
    world.checkpoint(3)
    world.decide("zeta", "no-go", 4, reason="priorities changed")
    session = world.session
    flip_payload_bit(session, entry_key("alpha", 1))
    delete_object(session, entry_key("beta", 0))
    delete_object(session, entry_key("beta", 1))
    forge_entry(session, "gamma", world.outsider, kind="decision", after=Stage.STOPPED,
                time=world.at(5), records={"decision": {"decision": "no-go", "reason": "forged", "to": "stopped"}})  # fmt: skip
    delete_object(session, entry_key("delta", 1))
    delete_object(session, entry_key("epsilon", 2))
    session.store.put_new("chains/notes.txt", b"not an entry")
    return world


def flip_payload_bit(session: Session, key: str) -> None:
    """Rewrite a stored entry, in a folder or S3, with one bit of its payload flipped."""
    doc = json.loads(session.store.get(key))
    payload = bytearray(base64.b64decode(doc["payload"]))
    payload[len(payload) // 2] ^= 0x01
    doc["payload"] = base64.b64encode(bytes(payload)).decode("ascii")
    delete_object(session, key)
    session.store.put_new(key, json.dumps(doc).encode("utf-8"))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return tampered(ledger_world(tmp_path / "ws"))


@pytest.fixture(scope="module")
def dask_scheduler(seaweedfs: SeaweedFS) -> Iterator[str]:
    """A real local Dask cluster: a scheduler and two single-threaded worker processes,
    started with the session's S3 settings in their environment (a cluster's workers
    find the store's credentials in their own)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def found(report: VerificationReport) -> set[tuple[str, int | None, str]]:
    return {(v.usecase, v.sequence, v.rule) for v in report.violations}


def workers_that_ran(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "gates.ledger.parallel_verify"]
    assert len(lines) == 1, lines
    return lines[0].rpartition(" on ")[2].split(", ")


def test_processes_and_dask_give_the_serial_report_of_a_tampered_ledger(
    world: World, dask_scheduler: str, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = world.session.ledger
    serial = verify_ledger(ledger)
    assert found(serial) == EXPECTED
    assert serial.entries == 20 and len(serial.chains) == 6

    caplog.set_level(logging.INFO, "gates.ledger.parallel_verify")
    processes = verify_ledger(
        ledger, parallel=Parallelism(workers=2, chunk_entries=1, min_entries=0)
    )
    ran = workers_that_ran(caplog)
    assert ran and all(not w.endswith(f":{os.getpid()}") for w in ran)
    caplog.clear()
    dask = verify_ledger(ledger, parallel=Parallelism(dask_address=dask_scheduler, chunk_entries=1))
    ran = workers_that_ran(caplog)
    assert ran and all(not w.endswith(f":{os.getpid()}") for w in ran)

    assert processes == serial
    assert dask == serial
    assert processes.to_json() == dask.to_json() == serial.to_json()


@pytest.mark.parametrize("where", ["folder", pytest.param("s3", marks=pytest.mark.s3)])
def test_chains_listed_out_of_name_order_come_back_in_the_serial_order(
    tmp_path: Path, where: str, request: pytest.FixtureRequest
) -> None:
    """Workers get chains as the listing reaches them: ``chains/churn-v2/`` before
    ``chains/churn/`` in a folder (by key), after it in SeaweedFS (folder by folder).
    Either way the report lists chains and violations by name, and stray keys by key,
    as the serial one does."""
    world = ledger_world(tmp_path / "ws")
    if where == "s3":
        world.use_store(f"s3://{request.getfixturevalue('s3_bucket')}/ledger")
    for usecase in ("churn", "churn-v2"):
        world.add_usecase(usecase, SPEC.format(id=usecase, title=usecase.title()))
    for usecase in ("alpha", "churn", "churn-v2"):
        world.register(usecase, 0)
        world.approve(usecase, "sponsor", 1)
        world.approve(usecase, "budget_owner", 2)
    flip_payload_bit(world.session, entry_key("churn", 1))
    flip_payload_bit(world.session, entry_key("churn-v2", 2))
    for stray in ("chains/churn/readme", "chains/churn-v2/readme"):
        world.session.store.put_new(stray, b"not an entry")
    ledger = world.session.ledger
    serial = verify_ledger(ledger)
    assert [c.usecase for c in serial.chains] == ["alpha", "churn", "churn-v2"]
    assert [(v.usecase, v.rule) for v in serial.violations][:2] == [
        ("churn-v2", "stray-object"),  # by key: "chains/churn-v2/" < "chains/churn/"
        ("churn", "stray-object"),
    ]
    assert [v.usecase for v in serial.violations[2:]] == ["churn", "churn", "churn-v2"]
    parallel = verify_ledger(
        ledger, parallel=Parallelism(workers=2, chunk_entries=1, min_entries=0)
    )
    assert parallel.to_json() == serial.to_json()


def test_one_use_case_in_parallel_is_that_chain_alone(world: World) -> None:
    ledger = world.session.ledger
    serial = verify_ledger(ledger, ["delta"])
    parallel = verify_ledger(
        ledger, ["delta"], parallel=Parallelism(workers=2, chunk_entries=1, min_entries=0)
    )
    assert found(serial) == {("delta", 2, "sequence-gap"), ("delta", 2, "link-broken")}
    assert parallel == serial


def test_timestamp_tokens_and_store_times_are_judged_alike_in_workers(
    tmp_path: Path, tsa: LoopbackTsa
) -> None:
    """On the system clock with a TSA: workers rebuild the TSA chain, judge each entry's
    token and its time against the store's, and their counts reach the report."""
    world = ledger_world(tmp_path / "ws")
    world.configure(clock="system")
    shutil.copy(tsa.chain, world.root / "tsa-chain.pem")
    world.append_settings(
        f'[timestamp]\ntsa_url = "{tsa.url}"\ntsa_certificate = "tsa-chain.pem"\n'
    )
    for usecase in ("alpha", "beta"):
        register(world.session, usecase)
        approve(world.session, usecase, world.sponsor, role="sponsor")
    raw = world.session.store.get(entry_key("beta", 1))
    token = world.root / "ledger" / token_key("beta", 1, raw)
    token.write_bytes(token.read_bytes()[:-12] + bytes(12))  # the TSA's signature broken
    delete_object(
        world.session, token_key("alpha", 1, world.session.store.get(entry_key("alpha", 1)))
    )
    ledger = world.session.ledger
    serial = verify_ledger(ledger)
    assert found(serial) == {("alpha", 1, "timestamp-missing"), ("beta", 1, "timestamp-invalid")}
    assert serial.time_evidence["timestampsChecked"] == 3
    assert serial.time_evidence["comparedWithStore"] == 4
    parallel = verify_ledger(
        ledger, parallel=Parallelism(workers=2, chunk_entries=1, min_entries=0)
    )
    assert parallel == serial


@pytest.mark.s3
def test_dask_workers_read_an_s3_store_themselves(
    tmp_path: Path, s3_bucket: str, dask_scheduler: str
) -> None:
    """The cluster's workers started before the bucket existed: they open the store from
    its URI, with the S3 settings of their own environment."""
    world = ledger_world(tmp_path / "ws")
    world.use_store(f"s3://{s3_bucket}/ledger")
    tampered(world)
    ledger = world.session.ledger
    assert isinstance(ledger.store, S3Store)
    serial = verify_ledger(ledger)
    assert found(serial) == EXPECTED
    dask = verify_ledger(ledger, parallel=Parallelism(dask_address=dask_scheduler, chunk_entries=3))
    assert dask == serial


def test_a_store_workers_cannot_open_is_verified_in_this_process(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    from gates.ledger.chain import Ledger
    from gates.store.memory import MemoryStore

    store = MemoryStore()
    source = world.session.store
    for key in source.list_keys(""):
        store.put_new(key, source.get(key))
    ledger = Ledger(store, world.session.trust, world.session.clock)
    caplog.set_level(logging.INFO, "gates.ledger.parallel_verify")
    report = verify_ledger(ledger, parallel=Parallelism(workers=2, min_entries=0))
    assert not caplog.records
    assert report == verify_ledger(ledger)


def test_an_unreachable_dask_scheduler_is_an_error_not_a_verdict(world: World) -> None:
    with pytest.raises(
        WorkerError, match=re.escape("cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'")
    ):
        verify_ledger(world.session.ledger, parallel=Parallelism(dask_address="tcp://127.0.0.1:9"))


def test_audit_verify_workers_gives_the_serial_report(world: World) -> None:
    serial = run("--workspace", str(world.root), "audit", "verify", "--workers", "1", "--json")
    spread = run("--workspace", str(world.root), "audit", "verify", "--workers", "2", "--json")
    default = run("--workspace", str(world.root), "audit", "verify", "--json")
    assert serial.returncode == spread.returncode == default.returncode == 1
    assert spread.stdout == serial.stdout == default.stdout
    assert '"signer-untrusted"' in serial.stdout


def test_audit_verify_parallel_options_that_do_not_apply_are_refused(
    world: World, tmp_path: Path
) -> None:
    zero = run("--workspace", str(world.root), "audit", "verify", "--workers", "0")
    assert zero.returncode == 2 and "--workers" in zero.stderr
    both = run("--workspace", str(world.root), "audit", "verify", "--workers", "2",
               "--dask", "tcp://127.0.0.1:9")  # fmt: skip
    assert both.returncode == 2 and "give --dask or --workers, not both" in both.stderr
    bundle = run("--workspace", str(world.root), "audit", "verify", "--bundle",
                 str(tmp_path / "b.json"), "--dask", "tcp://127.0.0.1:9")  # fmt: skip
    assert bundle.returncode == 2 and "not to --bundle or --proof" in bundle.stderr

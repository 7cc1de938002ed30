"""The nightly re-check flow against a real Prefect API: fan-out, artifact, final state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gates.ledger.verify import verify_ledger
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.presets import add_monitored, recheck_world
from tests.support.world import World


@pytest.fixture
def night(tmp_path: Path) -> tuple[World, str]:
    """A production service, a PoC in its 7th week, and one stopped use case."""

    world = recheck_world(tmp_path / "ws")
    for uc in ("svc", "bot", "gone"):
        add_monitored(world, uc)
    prod_day = world.advance("svc", Stage.PRODUCTION)
    poc_day = world.advance("bot", Stage.POC, start_day=1)
    world.advance("gone", Stage.EXPLORE)
    world.decide("gone", "no-go", 2, reason="no sponsor budget")
    now = world.at(poc_day + 43)  # the PoC's 7th week
    assert now > world.at(prod_day)
    world.write_monitoring("svc", now, daily_cost=500)
    return world, now.isoformat()


def run_night(world: World, at: str, **options: Any) -> Any:
    from flows.nightly import nightly_recheck

    return asyncio.run(
        nightly_recheck(workspace=str(world.root), at=at, return_state=True, **options)  # type: ignore[call-overload]
    )


def _by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["useCase"]: o for o in summary["outcomes"]}


def test_night_flags_the_overdue_poc_and_completes_when_production_is_healthy(
    night: tuple[World, str],
) -> None:
    world, at = night
    state = run_night(world, at)
    assert state.is_completed(), state.message
    outcomes = _by_id(state.result())
    bot = outcomes["bot"]
    assert bot["verdict"] == "fail"
    box = next(c for c in bot["checks"] if c["check"] == "time-box")
    assert box["status"] == "fail" and "Go/No-Go decision overdue" in box["reason"]
    assert outcomes["svc"]["verdict"] == "ok"
    assert outcomes["gone"]["verdict"] == "skipped"
    session = Session.open(world.root)
    for uc in ("svc", "bot"):
        last = session.ledger.state(uc).history[-1]
        assert last.predicate.kind == "recheck"
        assert last.key == outcomes[uc]["entry"]
    assert session.ledger.state("bot").stage is Stage.POC
    assert verify_ledger(session.ledger).intact


def test_night_fails_when_production_health_fails_and_publishes_a_table(
    night: tuple[World, str],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.nightly import ARTIFACT_KEY

    world, at = night
    from datetime import datetime

    world.write_monitoring("svc", datetime.fromisoformat(at), availability=0.9985, daily_cost=500)
    state = run_night(world, at)
    assert state.is_failed()
    assert "svc" in (state.message or "")
    summary = state.result(raise_on_failure=False)
    assert summary["healthFailed"] == ["svc"]
    assert _by_id(summary)["bot"]["entry"] is not None  # the others were still re-checked

    async def latest_table() -> Any:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])),
                limit=1,
                sort="CREATED_DESC",  # type: ignore[arg-type]
            )
            return found[0]

    artifact = asyncio.run(latest_table())
    assert artifact.type == "table"
    assert "svc" in str(artifact.data) and "health:availability fail" in str(artifact.data)
    rows = {row["use case"]: row for row in json.loads(artifact.data)}  # a table's JSON rows
    assert set(rows) == {"svc", "bot", "gone"}
    assert list(rows["svc"]) == ["use case", "stage", "verdict", "problems", "entry", "alert"]
    assert rows["svc"]["verdict"] == "fail" and rows["bot"]["entry"] != "—"


def test_night_runs_on_a_local_dask_cluster(
    night: tuple[World, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two worker processes on loopback; each opens the workspace and reports to the API."""
    from distributed import LocalCluster
    from prefect.settings import get_current_settings

    world, at = night
    api = get_current_settings().api.url
    assert api, "the test harness provides a Prefect API"
    monkeypatch.setenv("PREFECT_API_URL", api)  # inherited by the worker processes
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        settings = world.root / "stagegate.toml"
        settings.write_text(
            settings.read_text()
            + f'\n[schedule]\ntask_runner = "dask"\ndask_address = "{cluster.scheduler_address}"\n'
        )
        state = run_night(world, at)
        workers = len(cluster.scheduler_info["workers"])
    assert workers == 2
    assert state.is_completed(), state.message
    outcomes = _by_id(state.result())
    assert outcomes["bot"]["verdict"] == "fail" and outcomes["svc"]["verdict"] == "ok"


def test_night_in_one_batch_signs_one_entry_per_use_case(night: tuple[World, str]) -> None:
    world, at = night
    settings = world.root / "stagegate.toml"
    settings.write_text(settings.read_text() + "\n[schedule]\nmax_tasks = 1\n")
    state = run_night(world, at)
    assert state.is_completed(), state.message
    outcomes = _by_id(state.result())
    assert set(outcomes) == {"bot", "gone", "svc"}
    assert outcomes["bot"]["verdict"] == "fail" and outcomes["svc"]["verdict"] == "ok"
    assert outcomes["bot"]["entry"] != outcomes["svc"]["entry"]


def test_prefect_links_one_result_per_batch_not_one_per_use_case(
    night: tuple[World, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefect links each object a task returns (and each item of a returned list) to the
    task's state until the flow ends: a night of thousands must not hold a link per use
    case. Prefect's own links are read as the flow publishes its table, once every batch
    is done."""
    from prefect.client.schemas.objects import RunType
    from prefect.context import FlowRunContext

    import flows.nightly as nightly

    world, at = night
    settings = world.root / "stagegate.toml"
    settings.write_text(settings.read_text() + "\n[schedule]\nmax_tasks = 2\n")  # [2, 1]
    linked: list[tuple[Any, RunType]] = []
    publish = nightly.publish_table

    async def publish_and_note_links(table: Any, description: str) -> None:
        context = FlowRunContext.get()
        assert context is not None
        linked.extend((state, run_type) for state, run_type, _ in context.run_results.values())
        await publish(table, description)

    monkeypatch.setattr(nightly, "publish_table", publish_and_note_links)
    state = run_night(world, at)

    assert state.is_completed(), state.message
    assert len(state.result()["outcomes"]) == 3
    task_links = [s for s, run_type in linked if run_type is RunType.TASK_RUN]
    assert len(task_links) == 2  # one per batch, for three use cases
    assert len({s.state_details.task_run_id for s in task_links}) == 2


def test_the_night_s_final_state_formats_without_every_outcome(night: tuple[World, str]) -> None:
    """Prefect's state repr shows its result's, and asyncio.run formats it as it ends: the
    summary of a night of thousands must not be written out in full each time."""
    world, at = night
    state = run_night(world, at)
    summary = state.result()
    assert len(summary["outcomes"]) == 3
    shown = repr(state)
    assert "NightSummary(3 use case(s): " in shown
    assert "useCase" not in shown and "chains/" not in shown


def test_night_summary_keeps_only_the_checks_that_did_not_pass(night: tuple[World, str]) -> None:
    """Every check is in the signed entry; the night's summary keeps the problems only."""
    world, at = night
    state = run_night(world, at)
    outcomes = _by_id(state.result())
    session = Session.open(world.root)
    for uc in ("svc", "bot"):
        signed = session.ledger.state(uc).history[-1].predicate.recheck
        assert signed is not None
        problems = [c.check for c in signed.checks if c.status in ("warn", "fail", "error")]
        assert [c["check"] for c in outcomes[uc]["checks"]] == problems
        assert len(signed.checks) > len(problems)
    assert outcomes["svc"]["verdict"] == "ok" and outcomes["svc"]["checks"] == []


def test_a_broken_spec_is_an_error_for_its_use_case_and_the_night_goes_on(
    night: tuple[World, str],
) -> None:
    """The night reads each spec when its use case's turn comes, not all of them first."""
    world, at = night
    (world.root / "usecases" / "bot.yaml").write_text("id: bot\ntitle: owner gone\n")
    state = run_night(world, at)
    assert state.is_completed(), state.message
    outcomes = _by_id(state.result())
    assert outcomes["bot"]["verdict"] == "error" and outcomes["bot"]["entry"] is None
    assert "bot.yaml" in outcomes["bot"]["message"] and "owner" in outcomes["bot"]["message"]
    assert outcomes["svc"]["verdict"] == "ok" and outcomes["svc"]["entry"] is not None

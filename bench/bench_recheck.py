"""The nightly re-check of 1,000 generated use cases: Prefect flow vs a bare loop.

1,000 use cases in mixed stages (a quarter each in Explore, PoC, Pilot and Production),
the Production ones with 30 days of monitoring data validated by the GX suite, alert
rules and operations documents. Each mode runs in its own process (so peak RSS is its
own) over the same workspace: the bare loop calls ``recheck_usecase`` for each use case
in turn; the flow fans the same calls out as Prefect tasks on the thread pool
(``[schedule] workers``, default settings: at most 100 task runs, so batches of 10)
against the test harness's API. Both sign one entry per use
case. Targets: flow ≤ 120 s and ≤ 2× the bare loop.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Size:
    usecases: int  # a quarter in each stage
    workers: int  # `[schedule] workers`: the flow's thread pool


FULL = Size(
    usecases=int(os.environ.get("BENCH_RECHECK_USECASES", "1000")),
    workers=int(os.environ.get("BENCH_RECHECK_WORKERS", "8")),
)
SMOKE = Size(usecases=8, workers=2)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
STAGES = ("explore", "poc", "pilot", "production")

POLICY = """\
explore: {to_stage: poc, time_box: {planned_days: 14, max_days: 14}}
poc: {to_stage: pilot, time_box: {planned_days: 28, max_days: 42}}
pilot: {to_stage: production, time_box: {planned_days: 56, max_days: 90}}
production: {to_stage: scale, time_box: {planned_days: 90}}
"""
RULES = """\
groups:
  - name: service
    rules:
      - {alert: LatencyHigh, expr: latency_p95 > 1, labels: {covers: latency}}
      - {alert: ErrorRateSpike, expr: error_rate > 0.01, labels: {covers: error_rate}}
      - {alert: QualityDrop, expr: quality < 0.95 * target, labels: {covers: quality_drop}}
      - {alert: CostAt80Percent, expr: cost > 0.8 * budget, labels: {covers: cost_80}}
"""


def spec(uc: str, stage: str, i: int) -> str:
    text = (
        f"id: {uc}\ntitle: Generated use case {i}\nowner: owner{i % 17}@example.com\n"
        f"department: dept-{i % 12}\nsponsors: [{{name: A}}, {{name: B}}]\n"
        "budgets: {explore: 1000, poc: 5000, pilot: 20000, production: 30000}\n"
        "pilot_group: {early_adopters: true}\n"
    )
    if stage == "production":
        text += (
            "recheck: {production: {health: {quality: {target: 0.9}}}}\n"
            "evidence:\n"
            f"  datasets: {{monitoring: data/{uc}.csv}}\n"
            "  deliverables: {runbook: docs/runbook.md, incident_playbook: docs/incidents.md,"
            " rollback_plan: docs/rollback.md}\n"
            "  monitoring: {dataset: monitoring, alert_rules: alerts/rules.yaml}\n"
        )
    return text


def monitoring_rows(i: int) -> list[dict[str, object]]:
    rows = []
    for d in range(30):
        day = (NOW - timedelta(days=29 - d)).date().isoformat()
        rows.append(
            {
                "date": day,
                "availability": 0.9985 if i % 40 == 3 else 0.9995,  # a few unhealthy ones
                "latency_p50_ms": 180 + i % 50,
                "latency_p95_ms": 650,
                "latency_p99_ms": 1400,
                "error_rate": 0.002,
                "quality_score": 0.9,
                "cost": 500 + i % 300,
                "major_incidents": 0,
                "requests": 10000,
            }
        )
    return rows


def generate(root: Path, size: Size) -> list[str]:
    """Write the workspace and a valid ledger (entries appended directly, in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    from gates.ledger.replay import ChainState, apply_entry
    from gates.policy.effective import criteria_digest
    from gates.stages import Stage
    from gates.workspace.session import Session
    from tests.support.settings import SettingsOptions, settings_toml
    from tests.support.world import write_keys

    for folder in ("usecases", "data", "docs", "alerts"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in ("runbook", "incidents", "rollback"):
        (root / "docs" / f"{name}.md").write_text(f"# {name}\n")
    (root / "alerts" / "rules.yaml").write_text(RULES)
    (root / "policy.yaml").write_text(POLICY)
    write_keys(root / "keys")
    options = SettingsOptions(policy="policy.yaml", extra=f"[schedule]\nworkers = {size.workers}\n")
    (root / "stagegate.toml").write_text(settings_toml(options))
    ids = []
    for i in range(size.usecases):
        uc, stage = f"uc-{i:04d}", STAGES[i % len(STAGES)]
        ids.append(uc)
        (root / "usecases" / f"{uc}.yaml").write_text(spec(uc, stage, i))
        if stage == "production":
            rows = monitoring_rows(i)
            with (root / "data" / f"{uc}.csv").open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    session = Session.open(root)
    ledger, signer = session.ledger, session.signer

    def lock(uc: str, stage: Stage) -> dict[str, object]:
        criteria = session.workspace.criteria(session.workspace.usecase(uc), stage)
        return {
            "stage": stage.value,
            "digest": criteria_digest(criteria),
            "criteria": criteria.model_dump(mode="json"),
        }

    def chain(i: int) -> None:
        uc = ids[i]
        order = [Stage.EXPLORE, Stage.POC, Stage.PILOT, Stage.PRODUCTION]
        target = order.index(Stage(STAGES[i % len(STAGES)]))
        state = ChainState(usecase=uc)
        time = NOW - timedelta(days=3 + 10 * target)
        entry = ledger.append(
            state,
            signer,
            kind="registration",
            after=Stage.EXPLORE,
            actor="bench",
            time=time,
            records={"lock": lock(uc, Stage.EXPLORE)},
        )
        state, _ = apply_entry(state, entry, ledger.trust, keep_history=False)
        for source, dest in itertools.pairwise(order[: target + 1]):
            time += timedelta(days=10)
            assert state.lock is not None
            gate = {
                "from": source.value, "to": dest.value, "verdict": "pass",
                "criteriaDigest": state.lock.digest, "checks": [],
            }  # fmt: skip
            entry = ledger.append(
                state,
                signer,
                kind="gate",
                after=dest,
                actor="bench",
                time=time,
                records={"gate": gate, "lock": lock(uc, dest)},
            )
            state, _ = apply_entry(state, entry, ledger.trust, keep_history=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(chain, range(len(ids))))
    return ids


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not ``ru_maxrss``: a child started by (v)fork
    keeps its parent's high-water mark across exec, and the parent holds the generator."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_mode(mode: str, root: str) -> dict[str, object]:
    """One mode in this process: wall time of the night, verdict counts, peak RSS."""
    from gates.workspace.session import Session

    if mode == "bare":
        from gates.recheck.run import recheck_usecase, targets

        session = Session.open(Path(root))
        started = time.perf_counter()
        outcomes = [recheck_usecase(session, uc, NOW) for uc in targets(session)]
        wall = time.perf_counter() - started
        verdicts = [o.verdict for o in outcomes]
    else:
        import asyncio

        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=60):
            from flows.nightly import nightly_recheck

            started = time.perf_counter()
            state = asyncio.run(
                nightly_recheck(workspace=root, at=NOW.isoformat(), return_state=True)  # type: ignore[call-overload]
            )
            wall = time.perf_counter() - started
            summary = state.result(raise_on_failure=False)
            verdicts = [o["verdict"] for o in summary["outcomes"]]
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v] = counts.get(v, 0) + 1
    return {"mode": mode, "wall_s": wall, "counts": counts, "peak_rss_mb": peak_rss_mb()}


def _subprocess(mode: str, root: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_recheck", mode, str(root)],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PREFECT_LOGGING_LEVEL": "ERROR"},
    )
    if out.returncode != 0:
        raise RuntimeError(f"{mode} run exited {out.returncode}: {out.stderr[-3000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(size: Size = FULL) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        started = time.perf_counter()
        generate(root, size)
        print(
            f"generated {size.usecases} use cases ({', '.join(STAGES)}, a quarter each) "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        bare = _subprocess("bare", root)
        print(
            f"bare loop:    {bare['wall_s']:7.1f} s  peak RSS {bare['peak_rss_mb']:6.0f} MB  {bare['counts']}",
            flush=True,
        )
        flow = _subprocess("prefect", root)
        print(
            f"Prefect flow: {flow['wall_s']:7.1f} s  peak RSS {flow['peak_rss_mb']:6.0f} MB  {flow['counts']}"
            "  (client process; the API server runs apart)",
            flush=True,
        )
        ratio = float(flow["wall_s"]) / float(bare["wall_s"])  # type: ignore[arg-type]
        print(
            f"flow / bare = {ratio:.2f}x (target <= 2x); flow wall {flow['wall_s']:.1f} s (target <= 120 s)"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(run_mode(sys.argv[1], sys.argv[2])))
    else:
        main()

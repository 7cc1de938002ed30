"""The nightly re-check of generated use cases at two sizes: Prefect flow vs a bare loop.

Use cases in mixed stages (a quarter each in Explore, PoC, Pilot and Production), the
Production ones with 30 days of monitoring data validated by the GX suite, alert rules
and operations documents. Each mode runs in its own process (so peak RSS is its own)
over the same workspace: the bare loop calls ``recheck_usecase`` for each use case in
turn and keeps only the verdict counts; the flow fans the same calls out as Prefect
tasks on the thread pool (``[schedule] workers``; default settings: at most 100 task
runs, so batches of size/100) against the test harness's API. Both sign one entry per
use case. Each size gets its own workspace, and the same run prints the two sizes side
by side, so that memory growing with the number of use cases shows.

Targets: at the largest size the flow ≤ 300 s and ≤ 1.5× the bare loop; peak RSS ≤
600 MB and not growing with the number of use cases.
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
    usecases: tuple[int, ...]  # one night per size, a quarter of each in each stage
    workers: int  # `[schedule] workers`: the flow's thread pool


FULL = Size(
    usecases=tuple(
        int(n) for n in os.environ.get("BENCH_RECHECK_USECASES", "1000,10000").split(",")
    ),
    # As many threads as cores: the re-check is CPU-bound here (GX, signing, a local
    # store), and 8 threads on 2 cores measured 2.2x the bare loop against 1.2x with 2.
    workers=int(os.environ.get("BENCH_RECHECK_WORKERS", str(os.cpu_count() or 2))),
)
SMOKE = Size(usecases=(8,), workers=2)
#: The largest night's targets.
TARGET_FLOW_S, TARGET_RATIO, TARGET_RSS_MB = 300.0, 1.5, 600.0
#: A test harness starting next to a busy machine's other work can take minutes.
HARNESS_STARTUP_S = 300
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


def generate(root: Path, usecases: int, workers: int) -> list[str]:
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
    options = SettingsOptions(policy="policy.yaml", extra=f"[schedule]\nworkers = {workers}\n")
    (root / "stagegate.toml").write_text(settings_toml(options))
    ids = []
    for i in range(usecases):
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

    counts: dict[str, int] = {}
    if mode == "bare":
        from gates.recheck.run import recheck_usecase, targets

        session = Session.open(Path(root), specs_on_demand=True)  # as the flow opens it
        started = time.perf_counter()
        for uc in targets(session):  # as a night should: nothing kept but the counts
            verdict = recheck_usecase(session, uc, NOW).verdict
            counts[verdict] = counts.get(verdict, 0) + 1
        wall = time.perf_counter() - started
    else:
        import asyncio

        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=HARNESS_STARTUP_S):
            from flows.nightly import nightly_recheck

            started = time.perf_counter()
            state = asyncio.run(
                nightly_recheck(workspace=root, at=NOW.isoformat(), return_state=True)  # type: ignore[call-overload]
            )
            wall = time.perf_counter() - started
            summary = state.result(raise_on_failure=False)
            counts = dict(summary["counts"])
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


@dataclass(frozen=True)
class Night:
    usecases: int
    bare: dict[str, object]
    flow: dict[str, object]

    def figure(self, mode: str, key: str) -> float:
        return float(getattr(self, mode)[key])  # type: ignore[arg-type]

    @property
    def ratio(self) -> float:
        return self.figure("flow", "wall_s") / self.figure("bare", "wall_s")


def one_night(tmp: Path, usecases: int, workers: int) -> Night:
    root = tmp / f"ws-{usecases}"
    started = time.perf_counter()
    generate(root, usecases, workers)
    print(
        f"{usecases:,} use cases generated ({', '.join(STAGES)}, a quarter each) "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    night = Night(usecases, _subprocess("bare", root), _subprocess("prefect", root))
    for mode, label in (("bare", "bare loop:   "), ("flow", "Prefect flow:")):
        wall = night.figure(mode, "wall_s")
        print(
            f"  {label} {wall:7.1f} s  {wall / usecases * 1000:5.1f} ms/use case  "
            f"peak RSS {night.figure(mode, 'peak_rss_mb'):5.0f} MB  {getattr(night, mode)['counts']}",
            flush=True,
        )
    print(f"  flow / bare = {night.ratio:.2f}x", flush=True)
    return night


def main(size: Size = FULL) -> None:
    print(f"[schedule] workers = {size.workers} (the flow's thread pool)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        nights = [one_night(Path(tmp), n, size.workers) for n in size.usecases]
    print("\n(Prefect flow RSS is the client process's; the API server runs apart)")
    last = nights[-1]
    print(
        f"{last.usecases:,} use cases: flow {last.figure('flow', 'wall_s'):.1f} s "
        f"(target <= {TARGET_FLOW_S:.0f} s), flow / bare {last.ratio:.2f}x "
        f"(target <= {TARGET_RATIO}x), peak RSS bare "
        f"{last.figure('bare', 'peak_rss_mb'):.0f} MB, flow "
        f"{last.figure('flow', 'peak_rss_mb'):.0f} MB (target <= {TARGET_RSS_MB:.0f} MB)"
    )
    if len(nights) > 1:
        first = nights[0]
        growth = ", ".join(
            f"{mode} {first.figure(mode, 'peak_rss_mb'):.0f} -> {last.figure(mode, 'peak_rss_mb'):.0f} MB "
            f"({last.figure(mode, 'peak_rss_mb') / first.figure(mode, 'peak_rss_mb'):.2f}x)"
            for mode in ("bare", "flow")
        )
        print(f"peak RSS {first.usecases:,} -> {last.usecases:,} use cases: {growth}")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(run_mode(sys.argv[1], sys.argv[2])))
    else:
        main()

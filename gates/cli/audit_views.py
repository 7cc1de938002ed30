"""What ``audit verify`` (of the store's ledger) and ``audit log`` print, and their exit codes.

It imports no Typer: the quick path (``gates.cli.quick``) runs these straight from the
command line, and the Typer commands in ``gates.cli.audit`` call the same functions.
Exit codes: 0 intact, 1 integrity violation found (errors raise ``StagegateError``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gates.cli.context import CliState
from gates.errors import ConfigError
from gates.terminal import console, escape, print_json, stage_text

if TYPE_CHECKING:
    from gates.ledger.checkpoint import Checkpoint
    from gates.ledger.verify import VerificationReport
    from gates.signing.trust import TrustStore


def verify_store(
    state: CliState,
    usecase: str | None,
    trust: Path | None,
    pins: list[Path],
    workers: int | None,
    dask: str | None,
    since_checkpoint: bool,
    json_out: bool,
    packs: bool = True,
) -> int:
    """Verify the store's ledger (every chain, or ``usecase``'s) and print the report.
    ``packs``: read through the store's packs where they match its listing."""
    from gates.ledger.chain import Ledger
    from gates.ledger.incremental import full_mode, verify_since_checkpoint
    from gates.ledger.parallelism import DASK_NEED, Parallelism
    from gates.ledger.verify import verify_ledger

    if dask is not None and workers is not None:
        raise ConfigError("--dask", ["give --dask or --workers, not both"])
    if dask:
        from gates.extras import DASK, require

        require(DASK, DASK_NEED)
    parallel = (
        Parallelism(dask_address=dask)
        if dask
        else Parallelism(workers=workers)
        if workers is not None
        else Parallelism.all_cores()
    )
    session = state.session()
    keys = trust_file(trust) if trust is not None else session.trust
    pinned = [pinned_checkpoint(path, keys) for path in pins]
    ledger = Ledger(session.store, keys, session.clock, session.timestamping)
    chosen = [usecase] if usecase else None
    if since_checkpoint:
        report, mode = verify_since_checkpoint(ledger, chosen, pinned=pinned)
    else:
        report = verify_ledger(ledger, chosen, pinned=pinned, parallel=parallel, packs=packs)
        mode = full_mode(report)
    if usecase is not None and unknown_usecase(report, usecase, session.workspace.usecases):
        known = sorted(set(session.workspace.usecases) | set(session.ledger.usecases()))
        from gates.policy.merge import did_you_mean

        raise ConfigError(
            "USECASE",
            [
                f"no use case {usecase!r}{did_you_mean(usecase, known)} "
                f"(known: {', '.join(known) or 'none'})"
            ],
        )
    return print_report(report, json_out, {"mode": mode.to_json()}, mode_line=mode.describe())


def show_log(state: CliState, usecase: str, json_out: bool) -> int:
    """Print the timeline of one use case: registration, gates, approvals, decisions."""
    from gates.ledger.describe import summarize

    session = state.session()
    replayed = session.ledger.replay(usecase)
    names = {k: s.name for k, s in session.trust.by_keyid.items()}
    if json_out:
        print_json(
            {
                "useCase": usecase,
                "stage": replayed.state.stage.value if replayed.state.stage else None,
                "entries": [
                    {
                        "sequence": e.sequence,
                        "time": e.predicate.time.isoformat(),
                        "kind": e.predicate.kind,
                        "stage": e.predicate.stage.after,
                        "summary": summarize(e.predicate),
                        "digest": e.digest,
                        "signedBy": sorted(names.get(k, k) for k in e.signer_keyids),
                    }
                    for e in replayed.state.history
                ],
                "violations": [v.to_json() for v in replayed.violations],
            }
        )
    else:
        from rich.table import Table

        if not replayed.state.history and not replayed.violations:
            raise ConfigError(usecase, ["no ledger entries for this use case"])
        table = Table(title=f"{usecase} ledger", title_justify="left")
        for col in ("#", "time (UTC)", "kind", "stage", "what", "signed by"):
            table.add_column(col)
        for e in replayed.state.history:
            table.add_row(
                str(e.sequence),
                e.predicate.time.strftime("%Y-%m-%d %H:%M"),
                e.predicate.kind,
                stage_text(e.predicate.stage.after),
                summarize(e.predicate),
                ", ".join(sorted(names.get(k, k[:12]) for k in e.signer_keyids)),
            )
        console().print(table)
        for v in replayed.violations:
            console().print(f"[red]✗[/] {escape(str(v))}", soft_wrap=True)
    if replayed.violations:
        return 1
    return 0


def unknown_usecase(report: VerificationReport, usecase: str, specs: Iterable[str]) -> bool:
    """A use case nobody knows: no spec, no entry, no checkpoint that recorded its chain.

    That is a typo, not tampering. A chain that a checkpoint recorded, or whose spec is in
    the workspace, stays a violation when its entries are missing.
    """
    return (
        usecase not in specs
        and report.entries == 0
        and all(v.rule == "chain-missing" for v in report.violations)
    )


def trust_file(path: Path) -> TrustStore:
    from gates.workspace.auditor import trust_from_settings

    return trust_from_settings(path)


def pinned_checkpoint(path: Path, trust: TrustStore) -> Checkpoint:
    from gates.ledger.checkpoint import open_checkpoint

    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read the checkpoint: {e.strerror or e}"]) from e
    checkpoint, problems = open_checkpoint(str(path), raw, trust, None)
    if checkpoint is None or problems:
        raise ConfigError(str(path), [f"the pinned checkpoint does not verify: {problems[0]}"])
    return checkpoint


def print_report(
    report: VerificationReport,
    json_out: bool,
    about: dict[str, Any],
    title: str = "",
    mode_line: str = "",
) -> int:
    if json_out:
        print_json({**report.to_json(), **about})
    else:
        out = console()
        if mode_line:
            out.print(escape(mode_line), soft_wrap=True, highlight=False)
        for v in report.violations:
            out.print(f"[red]✗[/] {escape(str(v))}", soft_wrap=True)
        for note in report.notes:
            out.print(f"[yellow]![/] {escape(note)}", soft_wrap=True)
        verdict = (
            "[bold green]intact[/]"
            if report.intact
            else f"[bold red]{len(report.violations)} violation(s)[/]"
        )
        latest = report.latest_checkpoint
        checkpoints = (
            f", checked against {report.checkpoints} checkpoint(s) (latest #{latest.sequence}, "
            f"{latest.time.isoformat()})"
            if latest
            else ""
        )
        lead = f"{escape(title)}: " if title else ""
        simulated = (
            f" [bold yellow]({escape(report.simulated_note)})[/]" if report.simulated_clock else ""
        )
        out.print(
            f"{lead}{len(report.chains)} chain(s), {report.entries} entries{checkpoints}: "
            f"{verdict}{simulated}",
            soft_wrap=True,
        )
    return 0 if report.intact else 1

"""Auditor commands: verify the ledger, read a use case's history, show one entry.

These import none of Prefect, MLflow or Great Expectations, so they start fast and
run anywhere with read access to the store and the trusted public keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gates.cli.context import session_of
from gates.cli.render import check_details, console, print_json, stage_text, verdict_text
from gates.errors import ConfigError, StagegateError

if TYPE_CHECKING:
    from gates.ledger.entry import Entry

app = typer.Typer(help="Verify and read the signed ledger (read-only).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command()
def verify(
    ctx: typer.Context,
    usecase: Annotated[
        str | None, typer.Argument(help="One use case (default: every chain in the store).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check signatures, chain links, gaps, subject binding and stage legality. Exit 0 intact, 1 violations, 2 error."""
    from gates.ledger.verify import verify_ledger

    session = session_of(ctx)
    report = verify_ledger(session.ledger, [usecase] if usecase else None)
    if json_out:
        print_json(report.to_json())
    else:
        out = console()
        for v in report.violations:
            out.print(f"[red]✗[/] {v}", soft_wrap=True)
        verdict = (
            "[bold green]intact[/]"
            if report.intact
            else f"[bold red]{len(report.violations)} violation(s)[/]"
        )
        out.print(f"{len(report.chains)} chain(s), {report.entries} entries: {verdict}")
    raise typer.Exit(0 if report.intact else 1)


def _summary(entry: Entry) -> str:
    p = entry.predicate
    if p.gate:
        failing = [c.check for c in p.gate.checks if c.status in ("fail", "error")]
        tail = f" ({', '.join(failing)})" if failing else ""
        return f"gate {p.gate.from_stage}→{p.gate.to_stage}: {p.gate.verdict}{tail}"
    if p.approval:
        what = (
            "criteria amendment"
            if p.approval.purpose == "amendment"
            else f"{p.approval.from_stage}→{p.approval.to_stage}"
        )
        return f"approval by {p.approval.approver} as {p.approval.role} for {what}"
    if p.decision:
        return f"decision {p.decision.decision}: {p.decision.reason}"
    if p.amendment:
        return f"criteria amended: {p.amendment.reason}"
    if p.kind == "registration":
        return "registered; entered explore"
    return p.kind


def entry_json(entry: Entry, trust_names: dict[str, str]) -> dict[str, Any]:
    return {
        "sequence": entry.sequence,
        "entry": entry.key,
        "digest": entry.digest,
        "signedBy": sorted(trust_names.get(k, k) for k in entry.signer_keyids),
        "statement": entry.statement.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


@app.command()
def log(
    ctx: typer.Context,
    usecase: Annotated[str, typer.Argument(help="Use-case id.")],
    json_out: JsonOpt = False,
) -> None:
    """Timeline of one use case: registration, gates, approvals, decisions."""
    session = session_of(ctx)
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
                        "summary": _summary(e),
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
                _summary(e),
                ", ".join(sorted(names.get(k, k[:12]) for k in e.signer_keyids)),
            )
        console().print(table)
        for v in replayed.violations:
            console().print(f"[red]✗[/] {v}", soft_wrap=True)
    if replayed.violations:
        raise typer.Exit(1)


@app.command()
def show(
    ctx: typer.Context,
    entry_ref: Annotated[
        str, typer.Argument(metavar="ENTRY", help="USECASE#SEQUENCE, e.g. support-bot#4")
    ],
    json_out: JsonOpt = False,
) -> None:
    """One entry in full: checks with observed vs expected, evidence digests, signatures."""
    from gates.ledger.entry import entry_key, open_entry

    usecase, sep, seq_text = entry_ref.partition("#")
    if not sep or not seq_text.isdigit() or not usecase:
        raise ConfigError(
            "ENTRY", [f"{entry_ref!r}: expected USECASE#SEQUENCE, e.g. support-bot#4"]
        )
    session = session_of(ctx)
    key = entry_key(usecase, int(seq_text))
    entry, problems = open_entry(key, session.store.get(key), session.trust, usecase, int(seq_text))
    names = {k: s.name for k, s in session.trust.by_keyid.items()}
    if entry is None:
        raise StagegateError(f"{key}: {problems[0]}")
    if json_out:
        print_json({**entry_json(entry, names), "violations": [v.to_json() for v in problems]})
        raise typer.Exit(1 if problems else 0)
    out = console()
    p = entry.predicate
    out.print(f"[bold]{usecase} #{entry.sequence}[/] {p.kind} at {p.time.isoformat()} by {p.actor}")
    out.print("stage:", stage_text(p.stage.before or "-"), "→", stage_text(p.stage.after))
    out.print(f"digest: {entry.digest}   previous: {p.previous}")
    out.print(
        "signed by:",
        ", ".join(sorted(names.get(k, k) for k in entry.signer_keyids)),
        "[green](signature verified)[/]",
    )
    if p.gate:
        out.print("verdict:", verdict_text(p.gate.verdict), f"criteria {p.gate.criteria_digest}")
        out.print(check_details([c.model_dump(mode="json") for c in p.gate.checks]))
    if p.lock:
        out.print(f"locks {p.lock.stage} exit criteria: {p.lock.digest}")
    for record in (p.approval, p.amendment, p.decision):
        if record is not None:
            out.print(record.model_dump(mode="json", by_alias=True))
    for v in problems:
        out.print(f"[red]✗[/] {v}", soft_wrap=True)
    raise typer.Exit(1 if problems else 0)

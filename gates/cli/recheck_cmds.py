"""``stagegate recheck``: what the nightly schedule runs, from the shell."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gates.cli.context import parse_when, session_of
from gates.terminal import console, print_json, stage_text, verdict_text


def register_commands(app: typer.Typer) -> None:
    """Add ``recheck`` to the root app. Prefect, GX and MLflow load inside the command."""

    @app.command()
    def recheck(
        ctx: typer.Context,
        usecase: Annotated[
            str | None, typer.Argument(help="Use-case id (omit with --all).")
        ] = None,
        all_: Annotated[bool, typer.Option("--all", help="Every use case.")] = False,
        in_process: Annotated[
            bool,
            typer.Option("--in-process", help="Run without Prefect (same checks, same entries)."),
        ] = False,
        task_runner: Annotated[
            str | None,
            typer.Option(help="threads or dask (default: schedule.task_runner in stagegate.toml)."),
        ] = None,
        no_alert: Annotated[
            bool, typer.Option("--no-alert", help="Do not send webhook alerts.")
        ] = False,
        at: Annotated[str | None, typer.Option(help="Judge as of this time (ISO 8601).")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Re-check current stages and sign one entry each. Exit 0 ok/warn, 1 fail, 2 error."""
        from gates.errors import ConfigError
        from gates.extras import GATE, require

        require(GATE, "stagegate recheck")
        if bool(usecase) == all_:
            raise ConfigError("recheck", ["name one USECASE or pass --all"])
        session = session_of(ctx)
        ids = [usecase] if usecase else None
        if usecase:
            session.workspace.usecase(usecase)  # unknown ids fail before anything runs
        when = parse_when(at)
        if in_process:
            from gates.recheck.run import recheck_all

            workers = session.workspace.settings.schedule.workers
            outcomes = [
                o.to_json()
                for o in recheck_all(session, ids, when, workers=workers, notify=not no_alert)
            ]
        else:
            outcomes = _through_prefect(
                str(session.workspace.root), ids, when, task_runner, not no_alert
            )
        if json_out:
            print_json(outcomes)
        else:
            _show(outcomes)
        from gates.recheck.run import exit_code

        raise typer.Exit(exit_code(o["verdict"] for o in outcomes))


def _through_prefect(
    workspace: str, ids: list[str] | None, when: Any, task_runner: str | None, notify: bool
) -> list[dict[str, Any]]:
    import asyncio

    from flows.nightly import nightly_recheck

    run: Any = nightly_recheck(
        workspace=workspace,
        usecases=ids,
        at=when.isoformat() if when else None,
        task_runner=task_runner,
        notify=notify,
        return_state=True,
    )
    state: Any = asyncio.run(run)
    data = state.result(raise_on_failure=False)
    if isinstance(data, BaseException):
        raise data
    outcomes: list[dict[str, Any]] = data["outcomes"]
    return outcomes


def _show(outcomes: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="Re-check", title_justify="left")
    for column in ("use case", "stage", "verdict", "problems", "entry", "alert"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        problems = [
            f"{c['check']} {c['status']}: {c.get('observed', '')} (expected {c.get('expected', '—')})"
            for c in o["checks"]
            if c["status"] in ("warn", "fail", "error")
        ]
        table.add_row(
            o["useCase"],
            stage_text(o["stage"]) if o["stage"] else "—",
            verdict_text(o["verdict"]),
            "\n".join(problems) or o["message"] or "—",
            f"#{o['sequence']}" if o["sequence"] is not None else "—",
            o["alert"],
        )
    console().print(table)

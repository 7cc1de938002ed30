"""`stagegate explore`: score use-case candidates, draw the priority matrix, select 1–2.

Exit codes: 0 done; 2 bad input (a malformed candidates file, an unknown id, more
than two selections without ``--force``, a use case already registered).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gates.cli.context import parse_when, session_of, state_of
from gates.terminal import console, err_console, print_json, stage_text

if TYPE_CHECKING:
    from gates.explore.scoring import Ranking

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

explore_app = typer.Typer(
    help="Explore: score use-case candidates on the playbook's five criteria, draw the "
    "impact × feasibility matrix, and select 1–2 use cases with a rationale.",
    no_args_is_help=True,
)


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""
    app.add_typer(explore_app, name="explore")


def _ranking(ctx: typer.Context, file: Path | None) -> Ranking:
    """Score ``file`` (or the workspace's candidates file) under the workspace's weights.

    With an explicit FILE and no workspace around, the shipped weights apply.
    """
    from gates.errors import ConfigError
    from gates.explore.scoring import score_file
    from gates.workspace.loader import SETTINGS_FILE, find_workspace, load_settings

    try:
        root = find_workspace(state_of(ctx).workspace)
    except ConfigError:
        if file is None:
            raise
        return score_file(file)
    settings = load_settings(root).explore
    path = file
    if path is None:
        configured = Path(settings.candidates).expanduser()
        path = configured if configured.is_absolute() else root / configured
        if not path.is_file():
            raise ConfigError(
                str(path),
                ["no candidates file"],
                hint="pass FILE, or set explore.candidates in stagegate.toml",
            )
    return score_file(path, settings.weights, str(root / SETTINGS_FILE))


def _write_matrix(ranking: Ranking, out: Path) -> None:
    import os

    from gates.errors import ConfigError
    from gates.explore.matrix import priority_matrix_svg

    svg = priority_matrix_svg(ranking, standalone=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(svg, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as e:
        raise ConfigError(str(out), [f"cannot write the matrix: {e.strerror}"]) from e


def _level(text: str) -> str:
    return text.replace("_", " ")


def _show_ranking(ranking: Ranking) -> None:
    from rich.table import Table
    from rich.text import Text

    from gates.explore.rules import CRITERIA, TIE_BREAK
    from gates.explore.scoring import FEASIBILITY_HOW

    table = Table(
        title=Text(f"Explore candidates ({len(ranking.ranked)}) from {ranking.source}"),
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("rank", justify="right")
    table.add_column("id", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("quadrant", no_wrap=True)
    table.add_column("feas.", justify="right")
    for criterion in CRITERIA:
        table.add_column(criterion, justify="right")
    for s in ranking.ranked:
        table.add_row(
            str(s.rank),
            Text(s.id),
            f"{s.score:.1f}",
            s.quadrant.label,
            f"{s.feasibility:.2f}",
            *(f"{c.score:.2f}" for c in s.criteria),
        )
    weights = " · ".join(f"{k} {v:g}" for k, v in ranking.rules.weights.items())
    table.caption = (
        "sub-scores 0–1 per criterion (levels and reasons: --json); "
        f"score = 100 × Σ weight·sub-score / Σ weight (weights: {weights})\n"
        f"{FEASIBILITY_HOW}; feasible at ≥ {ranking.rules.feasible_at:g}\n"
        f"ties: {TIE_BREAK} · candidates digest {ranking.digest[:19]}…"
    )
    out = console()
    out.print(table)
    for s in ranking.ranked:
        weak = [c for c in s.criteria if c.score < 0.5]
        if weak:
            reasons = "; ".join(f"{c.criterion} {_level(c.level)} ({c.explanation})" for c in weak)
            out.print(Text(f"{s.id}: held back by {reasons}"), soft_wrap=True)


@explore_app.command()
def score(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Candidates file (.yaml/.yml or .csv); default: explore.candidates of the workspace."
        ),
    ] = None,
    matrix: Annotated[
        Path | None,
        typer.Option("--matrix", help="Also write the priority matrix as an SVG file."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Score and rank the candidates; show sub-scores, quadrant and the reasons behind them."""
    ranking = _ranking(ctx, file)
    if matrix is not None:
        _write_matrix(ranking, matrix)
    if json_out:
        data: dict[str, Any] = ranking.to_json()
        data["matrix"] = str(matrix) if matrix is not None else None
        print_json(data)
        return
    _show_ranking(ranking)
    if matrix is not None:
        console().print(f"priority matrix written to {matrix}", highlight=False, markup=False)


@explore_app.command()
def select(
    ctx: typer.Context,
    ids: Annotated[
        list[str], typer.Argument(help="Candidate id(s) to select (the playbook: 1–2).")
    ],
    rationale: Annotated[
        str, typer.Option(help="Why these use cases; recorded in each signed registration.")
    ],
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidates", help="Candidates file (default: explore.candidates of the workspace)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Allow selecting more than two use cases.")
    ] = False,
    at: Annotated[
        str | None, typer.Option(help="Record this time instead of now (ISO 8601).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Register the chosen candidates in Explore, each with its score, rank and the rationale."""
    from rich.markup import escape

    from gates.explore.selection import select as do_select

    outcome = do_select(
        session_of(ctx),
        ids,
        rationale=rationale,
        candidates=candidates,
        force=force,
        now=parse_when(at),
    )
    for warning in outcome.warnings:
        err_console().print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if json_out:
        print_json(
            {
                "candidatesDigest": outcome.ranking.digest,
                "selected": [
                    {
                        "useCase": s.usecase,
                        "sequence": s.entry.sequence,
                        "entry": s.entry.key,
                        "stage": s.entry.predicate.stage.after,
                        "rank": s.scored.rank,
                        "of": s.of,
                        "score": s.scored.score,
                        "quadrant": s.scored.quadrant.label,
                        "specWritten": str(s.spec_written) if s.spec_written else None,
                    }
                    for s in outcome.selected
                ],
                "warnings": list(outcome.warnings),
            }
        )
        return
    out = console()
    for s in outcome.selected:
        if s.spec_written is not None:
            out.print(f"wrote starter spec {s.spec_written}", highlight=False, markup=False)
        out.print(
            f"{escape(s.usecase)} selected (rank {s.scored.rank} of {s.of}, score "
            f"{s.scored.score:g}, {s.scored.quadrant.label}) and registered: entered",
            stage_text("explore"),
            f"(entry #{s.entry.sequence})",
        )

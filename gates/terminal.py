"""Terminal output for the CLI and the demo: gate tables, verdicts, stages, JSON printing.

Rich loads on first use, not on import: a command printing JSON (``status --json``,
``audit verify --json``) never needs it.

Text prints as it is written: Rich's ``:name:`` emoji codes are off, so a use case, check
or file name that happens to hold one (``probe:fire:rate``) is not turned into a picture,
and Rich's table of emoji names is never loaded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from gates.stages import Stage

if TYPE_CHECKING:
    from rich.console import Console, Group
    from rich.table import Table
    from rich.text import Text

    from gates.engine.dry_run import DryRun
    from gates.engine.next_steps import Step
    from gates.ledger.entry import Entry

STATUS_STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "red",
    "error": "bold red",
    "skipped": "dim",
}
VERDICT_STYLE = {"pass": "bold green", "blocked": "bold yellow", "error": "bold red"}
STAGE_STYLE = {
    "explore": "cyan",
    "poc": "blue",
    "pilot": "magenta",
    "production": "green",
    "scale": "bold green",
    "stopped": "red",
    "unregistered": "dim",
}


@cache
def console() -> Console:
    from rich.console import Console

    # Piped output gets a readable width instead of Rich's 80-column fallback.
    probe = Console()
    return Console(
        highlight=False, emoji=False, width=None if probe.is_terminal else max(probe.width, 120)
    )


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")


def escape(text: str) -> str:
    """``text`` with its Rich markup escaped, to print it as it is."""
    from rich.markup import escape as escape_markup

    return escape_markup(text)


def _short(value: Any, width: int = 40) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def checks_table(checks: list[dict[str, Any]], title: str | None = None) -> Table:
    """One row per check; the reasons of the checks that did not pass follow as a caption."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", caption_justify="left", expand=False)
    table.add_column("check", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("status", no_wrap=True)
    table.add_column("observed", overflow="fold", max_width=40)
    table.add_column("expected", overflow="fold", max_width=50)
    notes = []
    for c in checks:
        status = c["status"]
        table.add_row(
            c["check"],
            Text(status, style=STATUS_STYLE.get(status, "")),
            _short(c.get("observed")),
            _short(c.get("expected"), 50),
        )
        if status != "pass":
            notes.append(
                f"[{STATUS_STYLE.get(status, '')}]{status}[/] {escape(c['check'])}: {escape(c.get('reason', ''))}"
            )
    if notes:
        table.caption = "\n".join(notes)
    return table


def check_details(checks: list[dict[str, Any]]) -> Group:
    """Every check in full, with its evidence: what ``audit show`` prints."""
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    for c in checks:
        status = c["status"]
        head = Text.assemble(
            (f"{status:7}", STATUS_STYLE.get(status, "")), " ", (c["check"], "bold")
        )
        parts.append(head)
        parts.append(Text(f"        {c.get('reason', '')}"))
        if c.get("observed") is not None or c.get("expected") is not None:
            parts.append(
                Text(
                    f"        observed {_short(c.get('observed'), 200)}  ·  expected {_short(c.get('expected'), 200)}"
                )
            )
        for ev in c.get("evidence", []):
            digest = ev.get("digest", "")
            parts.append(
                Text(f"        evidence {ev.get('kind')}: {ev.get('uri')} {digest}", style="dim")
            )
    return Group(*parts)


def verdict_text(verdict: str) -> Text:
    from rich.text import Text

    return Text(verdict.upper(), style=VERDICT_STYLE.get(verdict, ""))


def stage_text(stage: str) -> Text:
    from rich.text import Text

    return Text(stage, style=STAGE_STYLE.get(stage, ""))


def show_resumed(entry: Entry, alias: str | None, out: Console | None = None) -> None:
    """A promotion that found its passing gate already recorded and finished it."""
    gate = entry.predicate.gate
    assert gate is not None
    out = out or console()
    source, target = Stage(gate.from_stage), Stage(gate.to_stage)
    usecase = entry.predicate.use_case
    out.print(
        f"{usecase}: found the existing gate entry #{entry.sequence} "
        f"({source.label} → {target.label}, pass); nothing was evaluated or written again.",
        soft_wrap=True,
    )
    finished = f"moved {alias}" if alias else "no model alias to move"
    out.print(f"finished the follow-ups: {finished}.", soft_wrap=True)
    out.print(verdict_text(gate.verdict), f"— {usecase} is in {target.label}.")


def show_gate(entry: Entry, out: Console | None = None) -> None:
    """A gate entry as a reader wants it: the checks, the verdict, and what blocked it."""
    gate = entry.predicate.gate
    assert gate is not None
    out = out or console()
    source, target = Stage(gate.from_stage), Stage(gate.to_stage)
    title = f"{entry.predicate.use_case}: {source.label} → {target.label} gate (signed entry #{entry.sequence})"
    out.print(checks_table([c.model_dump(mode="json") for c in gate.checks], title=title))
    failing = [c.check for c in gate.checks if c.status in ("fail", "error")]
    if gate.verdict == "pass":
        out.print(
            verdict_text(gate.verdict), f"— {entry.predicate.use_case} is now in {target.label}."
        )
    else:
        out.print(
            verdict_text(gate.verdict), f"— stays in {source.label}; not met: {', '.join(failing)}"
        )


def show_steps(steps: Sequence[Step], out: Console | None = None, *, lead: str = "next:") -> None:
    """What to do next, each with its command on a line of its own to copy."""
    out = out or console()
    if not steps:
        return
    out.print(lead)
    for number, step in enumerate(steps, start=1):
        out.print(f"  {number}. {escape(step.what)}", soft_wrap=True)
        if step.command:
            out.print(f"     [bold]$ {escape(step.command)}[/]", soft_wrap=True)


def show_dry_run(dry: DryRun, out: Console | None = None) -> None:
    """A rehearsed gate: the checks as they stand, the verdict it would get, and what to do."""
    from rich.text import Text

    out = out or console()
    out.print(
        "[bold]DRY RUN[/] — nothing was written: no ledger entry, no model alias moved, no alert.",
        soft_wrap=True,
    )
    if dry.recorded is not None:
        out.print(
            f"{dry.usecase_id} is already in {dry.target.label}: the passing gate is recorded "
            f"as entry #{dry.recorded.sequence}; `promote` would only finish its follow-ups.",
            soft_wrap=True,
        )
        return
    evaluation = dry.evaluation
    assert evaluation is not None
    source, target = evaluation.plan.stage, dry.target
    assumed = (
        " (not registered yet: judged as if it entered Explore now)" if dry.unregistered else ""
    )
    title = f"{dry.usecase_id}: {source.label} → {target.label} gate, evaluated now{assumed}"
    out.print(checks_table([r.to_json() for r in evaluation.results], title=title))
    verdict = evaluation.verdict.value
    failing = [r.check for r in evaluation.failing]
    label = {"pass": "WOULD PASS", "blocked": "WOULD BE BLOCKED", "error": "WOULD BE AN ERROR"}
    text = Text(label.get(verdict, verdict.upper()), style=VERDICT_STYLE.get(verdict, ""))
    if verdict == "pass" and not dry.steps:
        out.print(text, f"— `promote` would move {dry.usecase_id} to {target.label}.")
    else:
        out.print(text, f"— not met: {', '.join(failing)}" if failing else "")
    show_steps(dry.steps, out, lead="to pass:")

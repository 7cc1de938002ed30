"""Commands that move use cases: register, promote, approve, amend, decide, admit, status."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from gates.cli.context import parse_when, session_of, state_of
from gates.errors import ConfigError
from gates.terminal import (
    console,
    err_console,
    escape,
    print_json,
    show_dry_run,
    show_gate,
    show_resumed,
    show_steps,
    stage_text,
)

if TYPE_CHECKING:
    from flows.submit import SubmittedRun
    from gates.engine.next_steps import Commands
    from gates.ledger.entry import Entry
    from gates.signing.signers import Signer
    from gates.workspace.session import Session
from gates.stages import Stage, parse_stage

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _stage(value: str, option: str) -> Stage:
    try:
        return parse_stage(value)
    except ValueError as e:
        raise ConfigError(option, [str(e)]) from None


def _decision(value: str) -> Literal["no-go", "rollback"]:
    if value not in ("no-go", "rollback"):
        raise ConfigError("DECISION", [f"{value!r}: expected no-go or rollback"])
    return "no-go" if value == "no-go" else "rollback"


def _own_signer(session: Session, key: str) -> Signer:
    """A person's own key from ``--key``: a relative key file is found from where they
    stand, else in the workspace."""
    from gates.signing.signers import key_argument_uri, load_signer

    uri = key_argument_uri(key)
    here = uri.startswith("file:") and Path(uri[5:]).expanduser().exists()
    return load_signer(uri, Path.cwd() if here else session.workspace.root)


def gate_json(entry: Entry) -> dict[str, object]:
    gate = entry.predicate.gate
    assert gate is not None
    return {
        "useCase": entry.predicate.use_case,
        "sequence": entry.sequence,
        "entry": entry.key,
        "digest": entry.digest,
        "from": gate.from_stage,
        "to": gate.to_stage,
        "verdict": gate.verdict,
        "stage": entry.predicate.stage.after,
        "model": gate.model.model_dump() if gate.model else None,
        "checks": [c.model_dump(mode="json") for c in gate.checks],
    }


def _commands(ctx: typer.Context) -> Commands:
    """Commands to suggest, with ``--workspace`` when the user named one."""
    from gates.engine.next_steps import Commands

    workspace = state_of(ctx).workspace
    if workspace is None:
        return Commands()
    return Commands(f"stagegate --workspace {shlex.quote(str(workspace))}")


def _show_next(ctx: typer.Context, usecase: str) -> None:
    from gates.engine.next_steps import after_approvals

    session = session_of(ctx)
    state = session.ledger.state(usecase)
    show_steps(after_approvals(session.workspace, state, usecase, _commands(ctx)))


def _dry_run(
    ctx: typer.Context, usecase: str, target: Stage, now: datetime | None, json_out: bool
) -> NoReturn:
    from gates.engine.dry_run import dry_run_promotion

    dry = dry_run_promotion(session_of(ctx), usecase, target, now, commands=_commands(ctx))
    code = {"pass": 0, "blocked": 1}.get(dry.verdict.value, 2)
    if json_out:
        evaluation = dry.evaluation
        print_json(
            {
                "dryRun": True,
                "useCase": usecase,
                "from": evaluation.plan.stage.value if evaluation else None,
                "to": target.value,
                "verdict": dry.verdict.value,
                "unregistered": dry.unregistered,
                "recorded": dry.recorded.key if dry.recorded else None,
                "checks": [r.to_json() for r in evaluation.results] if evaluation else [],
                "steps": [step.to_json() for step in dry.steps],
                "written": False,
            }
        )
    else:
        show_dry_run(dry)
        console().print(
            f"[dim](dry run: exit {code} = "
            + {0: "would pass", 1: "would be blocked"}.get(code, "error")
            + ")[/]"
        )
    raise typer.Exit(code)


def register_commands(app: typer.Typer) -> None:
    @app.command()
    def register(
        ctx: typer.Context,
        usecase: Annotated[
            str, typer.Argument(help="Use-case id (its spec is usecases/<id>.yaml).")
        ],
        at: Annotated[
            str | None, typer.Option(help="Record this time instead of now (ISO 8601).")
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Register a use case: it enters Explore with its exit criteria locked."""
        from gates.engine.actions import register as do_register

        entry = do_register(session_of(ctx), usecase, now=parse_when(at))
        if json_out:
            print_json(
                {
                    "useCase": usecase,
                    "sequence": entry.sequence,
                    "entry": entry.key,
                    "stage": "explore",
                }
            )
        else:
            console().print(
                f"{usecase} registered: entered",
                stage_text("explore"),
                f"(entry #{entry.sequence})",
            )
            _show_next(ctx, usecase)

    @app.command()
    def promote(
        ctx: typer.Context,
        usecase: Annotated[str, typer.Argument(help="Use-case id.")],
        to: Annotated[str, typer.Option("--to", help="Target stage (the next one only).")],
        in_process: Annotated[
            bool,
            typer.Option(
                "--in-process", help="Evaluate without Prefect (same checks, same entry)."
            ),
        ] = False,
        local_flow: Annotated[
            bool,
            typer.Option(
                "--local-flow",
                help="Run the gate flow in this process, signing with the gate key here, "
                "even when a Prefect API is configured.",
            ),
        ] = False,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run",
                help="Evaluate every check and list what is missing, with the commands that "
                "supply it; write nothing (no entry, no alias move, no alert). Exit 0 would "
                "pass, 1 would be blocked, 2 error.",
            ),
        ] = False,
        at: Annotated[str | None, typer.Option(help="Evaluate as of this time (ISO 8601).")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Run the gate to the next stage. Exit 0 promoted, 1 blocked, 2 error.

        With a Prefect API configured, the gate service runs it (the stagegate-promote
        deployment, which holds the gate key); this command waits and shows the entry.
        With --dry-run it only rehearses the gate, in this process.
        """
        from gates.extras import GATE, require

        require(GATE, "stagegate promote")
        if in_process and local_flow:
            raise ConfigError("--in-process/--local-flow", ["choose one of the two"])
        if dry_run and local_flow:
            raise ConfigError("--dry-run/--local-flow", ["a dry run evaluates in this process"])
        target = _stage(to, "--to")
        if dry_run:
            _dry_run(ctx, usecase, target, parse_when(at), json_out)
        session = session_of(ctx)
        now = parse_when(at)
        from flows.promotion import choose_route, run_promotion

        notes = err_console() if json_out else console()

        def submitted(run: SubmittedRun) -> None:
            notes.print(
                f"{usecase}: submitted to the gate service as flow run {run.name}: "
                f"{run.url or run.id}",
                soft_wrap=True,
            )

        def waiting(message: str) -> None:
            notes.print(f"[yellow]{message}[/]", soft_wrap=True)

        def temporary_server() -> None:
            from flows.prefect_api import TEMPORARY_SERVER_NOTE

            notes.print(f"{usecase}: {escape(TEMPORARY_SERVER_NOTE)}", soft_wrap=True)

        report = run_promotion(
            session,
            usecase,
            target,
            route=choose_route(in_process=in_process, local_flow=local_flow),
            now=now,
            on_submitted=submitted,
            on_waiting=waiting,
            on_temporary_server=temporary_server,
        )
        entry = report.entry
        data = gate_json(entry)
        data["flowRun"] = report.flow_run
        data["flowRunUrl"] = report.flow_run_url
        data["resumed"] = report.resumed
        data["alias"] = report.alias
        if json_out:
            print_json(data)
        else:
            if report.resumed:
                show_resumed(entry, report.alias)
            else:
                show_gate(entry)
            if report.flow_run:
                where = f": {report.flow_run_url}" if report.flow_run_url else ""
                console().print(f"Prefect flow run {report.flow_run}{where}", soft_wrap=True)
        raise typer.Exit({"pass": 0, "blocked": 1}.get(str(data["verdict"]), 2))

    @app.command("next")
    def next_(
        ctx: typer.Context,
        usecase: Annotated[str, typer.Argument(help="Use-case id.")],
        json_out: JsonOpt = False,
    ) -> None:
        """What the use case needs before its next gate passes: `promote --dry-run` to the next stage.

        Writes nothing. Exit 0 the gate would pass, 1 it would be blocked, 2 error.
        """
        from gates.stages import next_stage

        state = session_of(ctx).ledger.state(usecase)
        target = next_stage(state.stage) if state.stage is not None else Stage.POC
        if target is None:
            stage = state.stage.value if state.stage else "none"
            raise ConfigError("USECASE", [f"{usecase} is in {stage}: there is no next gate"])
        _dry_run(ctx, usecase, target, None, json_out)

    @app.command()
    def approve(
        ctx: typer.Context,
        usecase: Annotated[str, typer.Argument(help="Use-case id.")],
        role: Annotated[
            str,
            typer.Option(help="Role you sign for (e.g. sponsor, budget_owner, operations_lead)."),
        ],
        key: Annotated[
            str,
            typer.Option(
                help="Your own signing key: a PEM path or a key URI (file:, ssh-agent:, "
                "pkcs11:, awskms:)."
            ),
        ],
        note: Annotated[str, typer.Option(help="Why you approve.")] = "",
        amendment: Annotated[
            bool,
            typer.Option(
                "--amendment", help="Approve the spec's changed criteria instead of the promotion."
            ),
        ] = False,
        decision: Annotated[
            str | None,
            typer.Option(
                "--decision",
                help="Approve a no-go or rollback instead (as sponsor, with --reason; "
                "--to for a rollback); `stagegate decide` then records it.",
            ),
        ] = None,
        reason: Annotated[
            str | None, typer.Option(help="The decision's reason (with --decision).")
        ] = None,
        to: Annotated[
            str | None, typer.Option(help="Stage a rollback returns to (with --decision).")
        ] = None,
        at: Annotated[
            str | None, typer.Option(help="Record this time instead of now (ISO 8601).")
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Sign off the move to the next stage with your own key (not the gate's).

        You are recorded by your key's name in the trusted-key list, and the approval
        names the criteria it approves: an amendment makes it stale.
        """
        from gates.engine.actions import approve as do_approve
        from gates.engine.actions import approve_decision

        session = session_of(ctx)
        signer = _own_signer(session, key)
        if decision is not None:
            if amendment:
                raise ConfigError("--decision/--amendment", ["choose one of the two"])
            if role != "sponsor":
                raise ConfigError("--role", [f"{role!r}: a decision is approved as sponsor"])
            if not reason:
                raise ConfigError("--reason", ["a decision approval needs its reason"])
            entry = approve_decision(
                session,
                usecase,
                signer,
                _decision(decision),
                reason=reason,
                to=_stage(to, "--to") if to else None,
                note=note,
                now=parse_when(at),
            )
        else:
            entry = do_approve(
                session,
                usecase,
                signer,
                role=role,
                note=note,
                purpose="amendment" if amendment else "promotion",
                now=parse_when(at),
            )
        if json_out:
            print_json(
                {"useCase": usecase, "sequence": entry.sequence, "entry": entry.key, "role": role}
            )
        else:
            approval = entry.predicate.approval
            name = approval.approver if approval else role
            console().print(f"{name} approved as {role} for {usecase} (entry #{entry.sequence}).")
            if not amendment:
                _show_next(ctx, usecase)

    @app.command()
    def amend(
        ctx: typer.Context,
        usecase: Annotated[str, typer.Argument(help="Use-case id.")],
        reason: Annotated[str, typer.Option(help="Why the criteria change.")],
        at: Annotated[
            str | None, typer.Option(help="Record this time instead of now (ISO 8601).")
        ] = None,
    ) -> None:
        """Re-lock the current stage's criteria from the spec (needs a sponsor's amendment approval)."""
        from gates.engine.actions import amend as do_amend

        entry = do_amend(session_of(ctx), usecase, reason=reason, now=parse_when(at))
        console().print(f"{usecase}: criteria amended and re-locked (entry #{entry.sequence}).")

    @app.command()
    def decide(
        ctx: typer.Context,
        usecase: Annotated[str, typer.Argument(help="Use-case id.")],
        decision: Annotated[str, typer.Argument(help="no-go (stop) or rollback.")],
        reason: Annotated[
            str | None,
            typer.Option(
                help="Why; recorded in the signed entries (needed with --key; without it, "
                "the sponsor's approved reason)."
            ),
        ] = None,
        to: Annotated[
            str | None, typer.Option(help="Stage to roll back to (one step back).")
        ] = None,
        key: Annotated[
            str | None,
            typer.Option(
                help="The deciding sponsor's own key (PEM path or key URI): signs the decision "
                "approval first. Without it, a sponsor's approval must be in the ledger "
                "(`stagegate approve … --decision`)."
            ),
        ] = None,
        wait: Annotated[
            float | None,
            typer.Option(
                help="Without --key: seconds to wait for the sponsor's approval to appear "
                r"(default \[promotion] approval_timeout_seconds).",
                min=0,
            ),
        ] = None,
        at: Annotated[
            str | None, typer.Option(help="Record this time instead of now (ISO 8601).")
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Record a No-Go (stops the use case) or a rollback one stage back.

        A sponsor decides, with their own key: given --key, the sponsor signs a decision
        approval (the decision, its reason and target stage, under the criteria in force),
        then the gate records the decision citing it; otherwise an existing approval is
        used, waited for up to --wait seconds.
        """
        from gates.engine.actions import decide as do_decide
        from gates.engine.actions import decision_target
        from gates.engine.approvals import wait_for_decision_approval

        kind = _decision(decision)
        session = session_of(ctx)
        target = _stage(to, "--to") if to else None
        sponsor = _own_signer(session, key) if key else None
        if sponsor is None:
            after = decision_target(session.ledger.state(usecase), usecase, kind, target)
            settings = session.workspace.settings.promotion
            timeout = settings.approval_timeout_seconds if wait is None else wait
            notes = err_console() if json_out else console()
            wait_for_decision_approval(
                session,
                usecase,
                kind,
                after.value,
                reason,
                timeout=timeout,
                poll=settings.approval_poll_seconds,
                on_waiting=lambda: notes.print(
                    f"{usecase}: waiting for a sponsor's signed approval of the {decision}…",
                    soft_wrap=True,
                ),
            )
        entry = do_decide(
            session, usecase, kind, reason=reason, to=target, now=parse_when(at), sponsor=sponsor
        )
        after_stage = entry.predicate.stage.after
        record = entry.predicate.decision
        assert record is not None
        if json_out:
            print_json(
                {
                    "useCase": usecase,
                    "sequence": entry.sequence,
                    "decision": decision,
                    "stage": after_stage,
                    "decider": record.decider,
                    "approvals": record.approvals,
                }
            )
        else:
            cited = ", ".join(f"#{n}" for n in record.approvals)
            console().print(
                f"{usecase}: {decision} by {escape(record.decider or '?')} recorded (entry "
                f"#{entry.sequence}, on the sponsor's approval {cited}); stage now",
                stage_text(after_stage),
                soft_wrap=True,
            )

    @app.command()
    def admit(
        ctx: typer.Context,
        usecase: Annotated[str, typer.Argument(help="Use-case id.")],
        stage: Annotated[str, typer.Option("--stage", help="Stage the deployment targets.")],
        model: Annotated[str, typer.Option("--model", help="models:/NAME/VERSION")],
        json_out: JsonOpt = False,
    ) -> None:
        """Exit 0 only if a verified, passing, signed gate admitted this model version to the stage."""
        from gates.engine.actions import admit as do_admit

        parts = model.split("/")
        if (
            not model.startswith("models:/")
            or len(parts) != 3
            or not (parts[2].isascii() and parts[2].isdigit())
        ):
            raise ConfigError("--model", [f"{model!r}: expected models:/NAME/VERSION"])
        result = do_admit(session_of(ctx), usecase, _stage(stage, "--stage"), parts[1], parts[2])
        if json_out:
            print_json(
                {
                    "useCase": usecase,
                    "stage": stage,
                    "model": model,
                    "admitted": result.admitted,
                    "reason": result.reason,
                    "entry": result.entry.key if result.entry else None,
                }
            )
        else:
            console().print(
                ("[green]admitted[/]" if result.admitted else "[red]not admitted[/]")
                + f": {result.reason}"
            )
        raise typer.Exit(0 if result.admitted else 1)

    @app.command()
    def status(
        ctx: typer.Context,
        usecase: Annotated[str | None, typer.Argument(help="One use case (default: all).")] = None,
        at: Annotated[str | None, typer.Option(help="As of this time (ISO 8601).")] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Stage, time box, last gate, health (last re-check), next checkpoint, risks, roadmap."""
        from gates.cli.status_view import show_status

        show_status(state_of(ctx), usecase, at, json_out)

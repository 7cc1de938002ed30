"""`stagegate stack up|down|status|env`: real S3, MLflow and Prefect servers on a laptop.

The servers run detached, so ``up`` returns while they keep serving; ``down`` stops them
from any later shell. Exit codes: 0 done (``status``: every service alive and healthy),
1 ``status`` found the stack down or a service unhealthy, 2 error (a service did not
start: the others were stopped and the message names its log).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gates.cli.context import state_of

if TYPE_CHECKING:
    from gates.stack.local_stack import StackStatus

stack_app = typer.Typer(
    name="stack",
    help="Run S3 (SeaweedFS), an MLflow tracking server and a Prefect server on 127.0.0.1.",
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Data folder of the stack (default: .stagegate-stack in the workspace folder, else here).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _require_stack(command: str) -> None:
    """The stack's servers and their supervision come with the ``stack`` extra."""
    from gates.extras import STACK, require

    require(STACK, f"stagegate stack {command}")


def _stack_dir(ctx: typer.Context, given: Path | None) -> Path:
    from gates.errors import ConfigError
    from gates.stack.local_stack import default_stack_dir
    from gates.workspace.loader import find_workspace

    if given is not None:
        return given.absolute()
    try:
        workspace: Path | None = find_workspace(state_of(ctx).workspace)
    except ConfigError:
        workspace = None
    return default_stack_dir(workspace)


def _print_status(status: StackStatus) -> None:
    from gates.terminal import console

    out = console()
    if not status.services:
        out.print(f"stack: not running ({status.dir})", highlight=False)
        return
    out.print(f"stack: {'up' if status.up else 'degraded'} ({status.dir})", highlight=False)
    for s in status.services:
        health = "healthy" if s.healthy else ("not answering" if s.alive else "not running")
        out.print(
            f"  {s.name:<8} {health:<14} pid {s.pid:<8} port {s.port:<6} {s.url}", highlight=False
        )
        if not s.healthy:
            out.print(f"           log: {s.log}", highlight=False)


@stack_app.command()
def up(
    ctx: typer.Context,
    dir: DirOpt = None,
    s3_port: Annotated[int | None, typer.Option(help="S3 port (default: a free port).")] = None,
    mlflow_port: Annotated[
        int | None, typer.Option(help="MLflow port (default: a free port).")
    ] = None,
    prefect_port: Annotated[
        int | None, typer.Option(help="Prefect port (default: a free port).")
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(
            help="Ledger bucket, created with versioning and Object Lock (default: stagegate)."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds each service gets to answer its health check."),
    ] = 120.0,
    json_out: JsonOpt = False,
) -> None:
    """Start the stack in the background and wait until every service answers."""
    _require_stack("up")
    from gates.stack.local_stack import stack_status, stack_up
    from gates.terminal import console, print_json

    stack_dir = _stack_dir(ctx, dir)
    result = stack_up(
        stack_dir,
        s3_port=s3_port,
        mlflow_port=mlflow_port,
        prefect_port=prefect_port,
        bucket=bucket,
        timeout=timeout,
    )
    if json_out:
        print_json(
            {
                **stack_status(stack_dir).to_json(),
                "alreadyUp": result.already_up,
                "restarted": list(result.restarted),
            }
        )
        return
    out = console()
    if result.already_up:
        out.print(f"stack already up ({stack_dir}); nothing started", highlight=False)
    else:
        if result.restarted:
            kept = [n for n in result.state.services if n not in result.restarted]
            out.print(
                f"restarted {', '.join(result.restarted)} (not answering)"
                + (f"; {', '.join(kept)} kept running" if kept else ""),
                highlight=False,
            )
        out.print(f"stack up in {result.seconds:.1f} s ({stack_dir})", highlight=False)
    for name, record in result.state.services.items():
        out.print(f"  {name:<8} {record.url:<32} pid {record.pid}", highlight=False)
    out.print(f"  ledger   {result.state.store_uri}", highlight=False)
    out.print('use it: eval "$(stagegate stack env)"', highlight=False)


@stack_app.command()
def down(ctx: typer.Context, dir: DirOpt = None, json_out: JsonOpt = False) -> None:
    """Stop every service of the stack (SIGTERM, then SIGKILL after a timeout)."""
    _require_stack("down")
    from gates.stack.local_stack import stack_down
    from gates.terminal import console, print_json

    stack_dir = _stack_dir(ctx, dir)
    outcome = stack_down(stack_dir)
    if json_out:
        print_json({"dir": str(stack_dir), "stopped": outcome})
        return
    out = console()
    if not outcome:
        out.print(f"stack not running ({stack_dir})", highlight=False)
        return
    for name, how in outcome.items():
        text = {
            "stopped": "stopped",
            "killed": "killed (did not stop in time)",
            "gone": "was not running",
        }
        out.print(f"  {name:<8} {text[how]}", highlight=False)
    out.print(f"stack down ({stack_dir}); data kept", highlight=False)


@stack_app.command()
def status(ctx: typer.Context, dir: DirOpt = None, json_out: JsonOpt = False) -> None:
    """Each service: pid alive, port, health check answered. Exit 1 unless all are up."""
    _require_stack("status")
    from gates.stack.local_stack import stack_status
    from gates.terminal import print_json

    result = stack_status(_stack_dir(ctx, dir))
    if json_out:
        print_json(result.to_json())
    else:
        _print_status(result)
    if not result.up:
        raise typer.Exit(1)


@stack_app.command()
def env(ctx: typer.Context, dir: DirOpt = None) -> None:
    """Print `export` lines pointing AWS, MLflow, Prefect and the ledger at the stack."""
    _require_stack("env")
    from gates.stack.local_stack import read_state
    from gates.stack.process import StackError

    stack_dir = _stack_dir(ctx, dir)
    state = read_state(stack_dir)
    if state is None:
        raise StackError(
            f"no stack is running in {stack_dir}", hint="start one with `stagegate stack up`"
        )
    for name, value in state.env().items():
        typer.echo(f"export {name}={shlex.quote(value)}")


def register_commands(app: typer.Typer) -> None:
    """Add this module's commands to the root app. Heavy imports stay inside commands."""
    app.add_typer(stack_app, name="stack")

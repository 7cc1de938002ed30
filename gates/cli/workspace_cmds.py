"""Commands about the workspace itself: validate specs, manage keys, build the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gates.cli.context import state_of
from gates.cli.render import console, print_json

keys_app = typer.Typer(help="Ed25519 signing keys.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate(
    out: Annotated[
        Path, typer.Argument(help="Private key path (PEM); the public key goes next to it as .pub.")
    ],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Generate an Ed25519 key pair (private key mode 0600; never overwrites)."""
    from gates.signing.keys import generate_keypair

    public = generate_keypair(out)
    if json_out:
        print_json(
            {"private": str(out), "public": str(out.with_suffix(".pub")), "keyid": public.keyid}
        )
    else:
        console().print(f"wrote {out} and {out.with_suffix('.pub')} (key id {public.keyid})")


@keys_app.command("list")
def keys_list(
    ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Trusted public keys of the workspace, their ids and roles."""
    session = state_of(ctx).session()
    rows: list[dict[str, Any]] = [
        {"name": s.name, "keyid": k, "roles": sorted(s.roles), "revoked": s.revoked}
        for k, s in session.trust.by_keyid.items()
    ]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Trusted keys", title_justify="left")
    for col in ("name", "key id", "roles", "revoked"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["keyid"])[:16] + "…",
            ", ".join(r["roles"]),
            "yes" if r["revoked"] else "",
        )
    console().print(table)


def register_commands(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

    @app.command()
    def validate(
        ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False
    ) -> None:
        """Check the settings and every use-case spec; list every problem with file and field."""
        from gates.errors import ConfigError
        from gates.workspace.loader import load_workspace, validate_workspace

        try:
            workspace = load_workspace(state_of(ctx).workspace)
            problems = validate_workspace(workspace)
        except ConfigError as e:
            problems = (
                [f"{e.source}: {p}" for p in e.problems] if len(e.problems) > 1 else [e.message]
            )
            workspace = None
        if json_out:
            print_json(
                {
                    "valid": not problems,
                    "problems": problems,
                    "useCases": sorted(workspace.usecases) if workspace else [],
                }
            )
        elif problems:
            for p in problems:
                console().print(f"[red]✗[/] {escape(p)}", soft_wrap=True)
        else:
            assert workspace is not None
            console().print(
                f"[green]✓[/] {workspace.root}: settings and {len(workspace.usecases)} use case(s) valid"
            )
        raise typer.Exit(2 if problems else 0)

    @app.command()
    def demo(
        ctx: typer.Context,
        workspace: Annotated[
            Path | None,
            typer.Option(
                "--workspace", "-w", help="Folder to build the demo in (must be empty or absent)."
            ),
        ] = None,
        store: Annotated[
            str | None,
            typer.Option(help="Store URI for the ledger (default: a folder inside the workspace)."),
        ] = None,
        in_process: Annotated[
            bool, typer.Option("--in-process", help="Run gates without Prefect.")
        ] = False,
    ) -> None:
        """Build a self-contained demo workspace and run a realistic scenario through every stage."""
        from gates.demo.scenario import run_demo
        from gates.errors import ConfigError

        folder = workspace or state_of(ctx).workspace
        if folder is None:
            raise ConfigError(
                "demo", ["--workspace DIR is required: the folder to build the demo in"]
            )
        run_demo(folder, store=store, use_prefect=not in_process)

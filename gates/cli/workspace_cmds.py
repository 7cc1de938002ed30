"""Commands about the workspace itself: validate specs, manage keys, build the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gates.cli.context import state_of
from gates.terminal import console, print_json

keys_app = typer.Typer(help="Ed25519 signing keys.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate(
    out: Annotated[
        str,
        typer.Argument(
            help="Private key path (PEM; the public key goes next to it as .pub), or a "
            "pkcs11: URI to generate the key on the token."
        ),
    ],
    public: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the public key (PEM); default: beside a key file as .pub, "
            "printed for a key made on a token."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Generate an Ed25519 key pair (private key mode 0600, or on a PKCS#11 token; never overwrites)."""
    from gates.signing.keys import generate_keypair

    if out.startswith("pkcs11:"):
        from gates.signing.pkcs11_signer import generate_token_key
        from gates.signing.signers import redacted

        key = generate_token_key(out)
        if public is not None:
            _write_public(public, key.pem())
        where, pub_where = redacted(out), str(public) if public else None
    else:
        key = generate_keypair(Path(out), public)
        where, pub_where = out, str(public or Path(out).with_suffix(".pub"))
    if json_out:
        print_json(
            {
                "private": where,
                "public": pub_where,
                "keyid": key.keyid,
                "pem": key.pem().decode("ascii"),
            }
        )
    elif pub_where:
        console().print(f"wrote {where} and {pub_where} (key id {key.keyid})", soft_wrap=True)
    else:
        console().print(f"generated {where} (key id {key.keyid})", soft_wrap=True)
        print(key.pem().decode("ascii"), end="")


@keys_app.command("public")
def keys_public(
    uri: Annotated[
        str,
        typer.Argument(help="A signer: key URI (file:, pkcs11:, awskms:, ssh-agent:) or PEM path."),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Write the public key (PEM) here instead of printing it.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The public key and key id of a signer, to list under [[trusted_keys]]."""
    from gates.signing.signers import key_argument_uri, load_signer

    signer = load_signer(key_argument_uri(uri), Path.cwd())
    pem = signer.public.pem()
    if out is not None:
        _write_public(out, pem)
    if json_out:
        print_json({"keyid": signer.keyid, "pem": pem.decode("ascii"), "written": str(out or "")})
    elif out is not None:
        console().print(f"wrote {out} (key id {signer.keyid})")
    else:
        print(pem.decode("ascii"), end="")
        console().print(f"key id {signer.keyid}")


def _write_public(path: Path, pem: bytes) -> None:
    from gates.errors import SigningError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as f:
            f.write(pem)
    except FileExistsError as e:
        raise SigningError(f"{path}: already exists; refusing to overwrite a key") from e
    except OSError as e:
        raise SigningError(f"{path}: cannot write the public key ({e.strerror})") from e


@keys_app.command("list")
def keys_list(
    ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Trusted public keys of the workspace: ids, roles and file format (PEM or OpenSSH)."""
    session = state_of(ctx).session()
    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "keyid": k,
            "roles": sorted(s.roles),
            "format": s.format,
            "revoked": s.revoked,
        }
        for k, s in session.trust.by_keyid.items()
    ]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Trusted keys", title_justify="left")
    for col in ("name", "key id", "roles", "format", "revoked"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["keyid"])[:16] + "…",
            ", ".join(r["roles"]),
            str(r["format"]),
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
        from gates.extras import GATE, require

        require(GATE, "stagegate demo")
        from gates.demo.scenario import run_demo
        from gates.errors import ConfigError

        folder = workspace or state_of(ctx).workspace
        if folder is None:
            raise ConfigError(
                "demo", ["--workspace DIR is required: the folder to build the demo in"]
            )
        run_demo(folder, store=store, use_prefect=not in_process)

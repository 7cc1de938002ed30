"""Commands about the workspace itself: validate specs, manage keys, build the demo."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from gates.cli.context import state_of
from gates.errors import StagegateError
from gates.stages import Stage
from gates.terminal import console, print_json

if TYPE_CHECKING:
    from gates.workspace.loader import Workspace
    from gates.workspace.validation import Finding

keys_app = typer.Typer(help="Ed25519 signing keys.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate(
    ctx: typer.Context,
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
    name: Annotated[
        str | None,
        typer.Option(
            help="Who holds the key, as approvals will record them (default: the file's name)."
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="A role the key signs for (gate, sponsor, budget_owner, operations_lead); repeatable.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    # Help is Rich markup: ``[\[`` keeps the brackets of [[trusted_keys]] on screen.
    r"""Generate an Ed25519 key pair (private key mode 0600, or on a PKCS#11 token; never overwrites).

    Prints the [\[trusted_keys]] block to paste into stagegate.toml.
    """
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
    block = _trusted_keys_block(ctx, name or _key_name(out), pub_where, role or [])
    if json_out:
        print_json(
            {
                "private": where,
                "public": pub_where,
                "keyid": key.keyid,
                "pem": key.pem().decode("ascii"),
                "trustedKeys": block,
            }
        )
        return
    if pub_where:
        console().print(f"wrote {where} and {pub_where} (key id {key.keyid})", soft_wrap=True)
    else:
        console().print(f"generated {where} (key id {key.keyid})", soft_wrap=True)
        print(key.pem().decode("ascii"), end="")
        console().print("save the public key above as a .pub file, and name it in path:")
    console().print("\nto trust it, add this block to stagegate.toml:\n", soft_wrap=True)
    print(block, end="")


def _key_name(out: str) -> str:
    """A key's default name: its file's, or the token object's."""
    if out.startswith("pkcs11:"):
        match = re.search(r"object=([^;?]+)", out)
        return match.group(1) if match else "token key"
    return Path(out).stem


def _trusted_keys_block(ctx: typer.Context, name: str, public: str | None, roles: list[str]) -> str:
    """The block to paste, the path relative to the workspace when the key is inside it."""
    from gates.scaffold import trusted_keys_block
    from gates.workspace.loader import find_workspace

    path = public or "keys/NAME.pub"
    if public is not None:
        try:
            root = find_workspace(state_of(ctx).workspace).resolve()
        except StagegateError:
            root = None
        absolute = Path(public).resolve()
        if root is not None and absolute.is_relative_to(root):
            path = absolute.relative_to(root).as_posix()
    block = trusted_keys_block(name, path, roles)
    if not roles:  # left empty on purpose: pasted as it is, validate refuses it
        block = block.replace(
            "roles = []", "roles = []  # fill in: gate, sponsor, budget_owner, operations_lead"
        )
    return block


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
    # Help is Rich markup: ``[\[`` keeps the brackets of [[trusted_keys]] on screen.
    r"""The public key and key id of a signer, to list under [\[trusted_keys]]."""
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


def _current_stages(
    workspace: Workspace,
) -> tuple[dict[str, Stage | None], list[Finding]]:
    """Each use case's stage from the ledger; one it cannot be read for is left out (and said)."""
    from gates.errors import StagegateError
    from gates.workspace.session import Session
    from gates.workspace.validation import Finding

    session = Session(workspace)
    stages: dict[str, Stage | None] = {}
    unread: list[Finding] = []
    for usecase in sorted(workspace.usecases):
        try:
            stages[usecase] = session.ledger.state(usecase).stage
        except StagegateError as e:
            unread.append(
                Finding(
                    "error",
                    f"{usecase}: cannot read its ledger at {workspace.store_uri} ({e.message}); "
                    "only its spec's structure was checked (--all-stages judges every stage "
                    "without the ledger)",
                )
            )
    return stages, unread


def register_commands(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

    @app.command()
    def validate(
        ctx: typer.Context,
        all_stages: Annotated[
            bool,
            typer.Option(
                "--all-stages",
                help="Judge every stage of every use case, not only each one's current stage "
                "(and read no ledger).",
            ),
        ] = False,
        json_out: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Check the settings and every use-case spec: errors (exit 2) apart from warnings.

        By default each use case is judged by what its current stage needs (from the
        ledger; not registered: Explore): its gate's evidence and its nightly re-check.
        """
        from gates.errors import ConfigError
        from gates.workspace.loader import load_workspace
        from gates.workspace.validation import Finding, check_workspace

        stages: dict[str, Stage | None] | None = None
        findings: list[Finding] = []
        try:
            workspace = load_workspace(state_of(ctx).workspace)
        except ConfigError as e:
            # A problem already naming a file inside the source (a spec) is shown as it is.
            findings = [
                Finding("error", p if p.startswith(e.source) else f"{e.source}: {p}")
                for p in e.problems
            ]
            workspace = None
        if workspace is not None:
            if not all_stages:
                stages, unread = _current_stages(workspace)
                findings.extend(unread)
            findings.extend(check_workspace(workspace, stages))
        errors = [f.message for f in findings if f.is_error]
        warnings = [f.message for f in findings if not f.is_error]
        if json_out:
            print_json(
                {
                    "valid": not errors,
                    "errors": errors,
                    "warnings": warnings,
                    "problems": errors,
                    "useCases": sorted(workspace.usecases) if workspace else [],
                    "allStages": all_stages,
                    "stages": (
                        {k: v.value if v else "unregistered" for k, v in sorted(stages.items())}
                        if stages is not None
                        else None
                    ),
                }
            )
            raise typer.Exit(2 if errors else 0)
        out = console()
        for message in errors:
            out.print(f"[red]✗ error[/] {escape(message)}", soft_wrap=True)
        for message in warnings:
            out.print(f"[yellow]! warning[/] {escape(message)}", soft_wrap=True)
        if workspace is not None:
            if stages is not None:
                judged = ", ".join(
                    f"{k} ({v.value if v else 'unregistered: explore'})"
                    for k, v in sorted(stages.items())
                )
                out.print(
                    f"judged by the current stage: {judged or 'no use cases'} "
                    "(--all-stages for every stage)",
                    soft_wrap=True,
                )
            counts = f"{len(errors)} error(s), {len(warnings)} warning(s)"
            if errors:
                out.print(f"[red]✗[/] {escape(str(workspace.root))}: {counts}", soft_wrap=True)
            else:
                out.print(
                    f"[green]✓[/] {escape(str(workspace.root))}: settings and "
                    f"{len(workspace.usecases)} use case(s) valid"
                    + (f"; {len(warnings)} warning(s)" if warnings else ""),
                    soft_wrap=True,
                )
        raise typer.Exit(2 if errors else 0)

    @app.command()
    def init(
        folder: Annotated[
            Path,
            typer.Argument(help="Folder for the new workspace: empty or absent (default: here)."),
        ] = Path("."),
        example: Annotated[
            bool,
            typer.Option(
                "--example",
                help="A richer use case, with evidence for every stage and its files.",
            ),
        ] = False,
        usecase: Annotated[
            str | None,
            typer.Option(
                "--usecase",
                help="The first use case's id (default: my-use-case; support-assistant with --example).",
            ),
        ] = None,
    ) -> None:
        """Start a workspace: settings, keys and trusted keys, a use-case template and a first use case."""
        from gates.engine.next_steps import Commands, Step
        from gates.scaffold import create_workspace
        from gates.terminal import show_steps

        created = create_workspace(folder, usecase=usecase, example=example)
        uc = created.usecase
        out = console()
        out.print(f"created a stagegate workspace in {escape(str(folder))}:", soft_wrap=True)
        for name, what in (
            (
                "stagegate.toml",
                "settings: the ledger in ledger/, the gate key, trusted keys and roles",
            ),
            (
                "keys/",
                "the gate key and three approver keys (sponsor, budget owner, operations lead)",
            ),
            (
                f"usecases/{uc}.yaml",
                "your first use case" + (", with evidence for every stage" if example else ""),
            ),
            ("templates/usecase.yaml", "every section of a use case, commented"),
            ("schemas/", "JSON Schemas editors use to complete and check both files"),
        ):
            out.print(f"  {name:28} {what}", soft_wrap=True)
        run = Commands()
        steps = []
        if folder.resolve() != Path.cwd().resolve():
            steps.append(Step("go into the workspace", f"cd {shlex.quote(str(folder))}"))
        steps.append(Step(f"check it: what {uc}'s first gate needs", run("validate")))
        if not example:
            steps.append(
                Step("write the three Explore deliverables the spec names (docs/explore/*.md)")
            )
        steps.append(Step("register the use case: it enters Explore", run("register", uc)))
        steps.append(
            Step("see what the gate to PoC still needs, with the commands", run("next", uc))
        )
        show_steps(steps)

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

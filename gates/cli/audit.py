"""Auditor commands: verify the ledger, read a use case's history, show one entry,
write and prove checkpoints, export a bundle and verify it offline.

These import none of Prefect, MLflow or Great Expectations, so they start fast and
run anywhere with read access to the store and the trusted public keys. Exit codes:
0 intact, 1 integrity violation found, 2 error (bad input, unreachable store).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from gates.cli.audit_views import pinned_checkpoint, print_report, trust_file
from gates.cli.context import parse_when, session_of, state_of
from gates.errors import ConfigError, LedgerError
from gates.terminal import check_details, console, escape, print_json, stage_text, verdict_text

if TYPE_CHECKING:
    from gates.ledger.bundle import Bundle
    from gates.ledger.entry import Entry
    from gates.ledger.packs import PackSummary
    from gates.signing.trust import TrustStore

app = typer.Typer(help="Verify and read the signed ledger (read-only).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command()
def verify(
    ctx: typer.Context,
    usecase: Annotated[
        str | None, typer.Argument(help="One use case (default: every chain in the store).")
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Verify an export bundle offline, with no store access."),
    ] = None,
    proof: Annotated[
        Path | None,
        typer.Option("--proof", help="Verify an entry proof written by `audit prove --out`."),
    ] = None,
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            # Help texts are Rich markup: "[\\[" keeps both brackets of [[trusted_keys]]
            # (escaped by hand, so that importing this module does not import Rich).
            help="Settings file (or folder with stagegate.toml) whose [\\[trusted_keys]] to trust "
            "instead of the workspace's.",
        ),
    ] = None,
    trust_bundle_keys: Annotated[
        bool,
        typer.Option(
            "--trust-bundle-keys",
            help="Trust the keys listed inside the bundle: shows the bundle is consistent, "
            "not that its keys are genuine.",
        ),
    ] = False,
    pins: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            metavar="FILE",
            help="A checkpoint envelope kept independently: the ledger must still hold it and "
            "extend it. Repeatable.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes to verify with (default: one per core; 1: this process "
            "only). A ledger under 1,000 entries is verified in this process.",
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            metavar="ADDRESS",
            help="Shard chains over the Dask cluster whose scheduler is at ADDRESS "
            r"(tcp://host:8786, as \[schedule] dask_address); needs stagegate\[dask].",
        ),
    ] = None,
    no_packs: Annotated[
        bool,
        typer.Option(
            "--no-packs",
            help="Read every stored object itself, not through packs (packs are used only "
            "where their members match the store's listed checksums).",
        ),
    ] = False,
    since_checkpoint: Annotated[
        bool,
        typer.Option(
            "--since-checkpoint",
            help="Incremental: trust the newest signed checkpoint (after verifying its "
            "signature and Merkle root) for the entries it covers, and verify only the "
            "entries after it in full. Default: every entry in full.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check signatures, links, gaps, binding, stage legality, approvals and checkpoints.

    Exit 0 intact, 1 violations found, 2 error. Trusted keys come from the workspace
    settings, or from --trust; a bundle's own keys only with --trust-bundle-keys. The
    output says which mode ran: full (the default) or --since-checkpoint.
    """
    if bundle is not None and proof is not None:
        raise ConfigError("--bundle", ["give --bundle or --proof, not both"])
    if (bundle is not None or proof is not None) and (workers is not None or dask):
        option = "--workers" if workers is not None else "--dask"
        raise ConfigError(option, ["applies to the store's ledger, not to --bundle or --proof"])
    if since_checkpoint and (bundle is not None or proof is not None):
        raise ConfigError("--since-checkpoint", ["applies to the store's ledger, not to "
                                                 "--bundle or --proof"])  # fmt: skip
    if since_checkpoint and (workers is not None or dask):
        option = "--workers" if workers is not None else "--dask"
        raise ConfigError(
            option, ["does not apply to --since-checkpoint (verified in this process)"]
        )
    if proof is not None:
        if pins:
            raise ConfigError("--checkpoint", ["does not apply to --proof (it names its own)"])
        _verify_proof(ctx, proof, usecase, trust, trust_bundle_keys, json_out)
    if bundle is not None:
        _verify_bundle(ctx, bundle, usecase, trust, trust_bundle_keys, pins or [], json_out)
    if trust_bundle_keys:
        raise ConfigError("--trust-bundle-keys", ["only applies with --bundle"])
    from gates.cli.audit_views import verify_store

    code = verify_store(
        state_of(ctx),
        usecase,
        trust,
        pins or [],
        workers,
        dask,
        since_checkpoint,
        json_out,
        packs=not no_packs,
    )
    raise typer.Exit(code)


def _auditor_trust(
    ctx: typer.Context, trust: Path | None, trust_bundle_keys: bool, bundle: Bundle | None
) -> tuple[TrustStore, str, Path | None]:
    """Which keys an offline verification trusts: never a bundle's own, unless told so.

    Also the settings file they came from, whose clock and TSA settings apply too (None
    for the bundle's own keys).
    """
    from gates.ledger.bundle import bundle_trust
    from gates.workspace.loader import SETTINGS_FILE, find_workspace

    if trust is not None and trust_bundle_keys:
        raise ConfigError("--trust", ["give --trust or --trust-bundle-keys, not both"])
    if trust is not None:
        return trust_file(trust), f"keys from {trust}", trust
    if trust_bundle_keys:
        if bundle is None:
            raise ConfigError("--trust-bundle-keys", ["only applies with --bundle"])
        return bundle_trust(bundle), "the bundle's own keys (--trust-bundle-keys)", None
    try:
        root = find_workspace(state_of(ctx).workspace)
    except ConfigError:
        raise ConfigError(
            "--trust",
            ["no workspace found to take trusted keys from, and a bundle cannot vouch for itself"],
            hint="pass --trust path/to/stagegate.toml (the keys you trust), run inside a "
            "workspace, or --trust-bundle-keys to check internal consistency only",
        ) from None
    settings = root / SETTINGS_FILE
    return trust_file(settings), f"keys from {settings}", settings


def _verify_bundle(
    ctx: typer.Context,
    path: Path,
    usecase: str | None,
    trust: Path | None,
    trust_bundle_keys: bool,
    pins: list[Path],
    json_out: bool,
) -> NoReturn:
    from dataclasses import replace

    from gates.clock import Clock
    from gates.ledger.bundle import load_bundle, trust_notes, verify_bundle
    from gates.workspace.auditor import time_from_settings

    loaded = load_bundle(path)
    if usecase is not None and usecase != loaded.use_case:
        raise ConfigError(
            str(path), [f"the bundle holds use case {loaded.use_case!r}, not {usecase!r}"]
        )
    keys, source, settings = _auditor_trust(ctx, trust, trust_bundle_keys, loaded)
    # The auditor's settings say whether simulated time is acceptable and which TSA to
    # check tokens against. The bundle's own keys check consistency only: its entries'
    # declared simulated time is then taken as declared (and reported as such).
    clock, timestamping = (
        time_from_settings(settings) if settings is not None else (Clock(simulated=True), None)
    )
    report = verify_bundle(
        loaded,
        keys,
        pinned=[pinned_checkpoint(p, keys) for p in pins],
        clock=clock,
        timestamping=timestamping,
    )
    notes = [*trust_notes(loaded, keys), *report.notes]
    if trust_bundle_keys:
        notes.insert(0, "trusting the keys the bundle itself lists: this shows the bundle is "
                     "internally consistent, not that its keys are genuine")  # fmt: skip
    report = replace(report, notes=tuple(notes))
    about = {
        "bundle": {
            "file": str(path),
            "useCase": loaded.use_case,
            "created": loaded.created.isoformat(),
            "trust": source,
        }
    }
    raise typer.Exit(
        print_report(report, json_out, about, title=f"bundle {path} ({loaded.use_case})")
    )


def _verify_proof(
    ctx: typer.Context,
    path: Path,
    usecase: str | None,
    trust: Path | None,
    trust_bundle_keys: bool,
    json_out: bool,
) -> NoReturn:
    from pydantic import ValidationError

    from gates.ledger.proof import EntryProof, verify_entry_proof

    try:
        proof = EntryProof.model_validate_json(path.read_bytes())
    except OSError as e:
        raise ConfigError(str(path), [f"cannot read the proof: {e.strerror or e}"]) from e
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(
            str(path), [f"not an entry proof: {'.'.join(map(str, err['loc']))}: {err['msg']}"]
        ) from e
    if usecase is not None and usecase != proof.use_case:
        raise ConfigError(str(path), [f"the proof is about {proof.use_case!r}, not {usecase!r}"])
    keys, source, _ = _auditor_trust(ctx, trust, trust_bundle_keys, None)
    result = verify_entry_proof(proof, keys)
    where = f"{proof.use_case}#{proof.sequence}"
    checkpoint = result.checkpoint
    if json_out:
        print_json(
            {
                "useCase": proof.use_case,
                "sequence": proof.sequence,
                "verified": result.verified,
                "entryDigest": result.entry.digest if result.entry else None,
                "checkpoint": checkpoint.summary() if checkpoint else None,
                "trust": source,
                "violations": [v.to_json() for v in result.violations],
            }
        )
    else:
        out = console()
        for v in result.violations:
            out.print(f"[red]✗[/] {escape(str(v))}", soft_wrap=True)
        if result.verified and checkpoint is not None:
            out.print(
                f"{escape(where)} is included in checkpoint {checkpoint.sequence} "
                f"({checkpoint.time.isoformat()}, root {checkpoint.root}): [bold green]verified[/]",
                soft_wrap=True,
            )
        else:
            out.print(f"proof of {escape(where)}: [bold red]does not verify[/]")
    raise typer.Exit(0 if result.verified else 1)


def _entry_ref(entry_ref: str) -> tuple[str, int]:
    usecase, sep, seq_text = entry_ref.partition("#")
    if not sep or not (seq_text.isascii() and seq_text.isdigit()) or not usecase:
        raise ConfigError(
            "ENTRY", [f"{entry_ref!r}: expected USECASE#SEQUENCE, e.g. support-bot#4"]
        )
    return usecase, int(seq_text)


@app.command()
def checkpoint(
    ctx: typer.Context,
    at: Annotated[
        str | None, typer.Option("--at", help="Record this time (ISO 8601) instead of now.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign every chain's head as the next checkpoint (after verifying the whole ledger).

    Run nightly: later verifications then catch deleted newest entries and rolled-back
    chains. Exit 0 written, 2 refused (e.g. the ledger fails verification; nothing written).
    """
    from gates.engine.checkpoints import write_checkpoint

    session = session_of(ctx)
    written = write_checkpoint(session.ledger, session.signer, parse_when(at))
    entries = sum(h.size for h in written.heads)
    packed = session.ledger.pack()
    if json_out:
        print_json({**written.summary(), "entries": entries, "packs": _packs_json(packed)})
    else:
        console().print(
            f"checkpoint {written.sequence}: {written.predicate.tree_size} chain(s), {entries} "
            f"entries, root {written.root} → {escape(session.store.uri)}/{written.key}",
            soft_wrap=True,
        )
        if packed is not None and packed.packs_written:
            console().print(_packs_line(packed))


@app.command()
def pack(
    ctx: typer.Context,
    usecase: Annotated[
        str | None, typer.Argument(help="One use case (default: every chain in the store).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy runs of stored entries into packs, so verifying from S3 reads one object per
    run instead of one per entry (`audit checkpoint` does this too).

    A pack is only a copy: verification takes a member only where its size and MD5
    match the store's listing of the entry itself. Exit 0 done (also when a folder
    store, which lists no checksums, needs no packs), 2 error.
    """
    packed = session_of(ctx).ledger.pack(usecase)
    if json_out:
        print_json(_packs_json(packed))
    elif packed is None:
        console().print("this store lists no checksums (a folder): packs would not be read")
    else:
        console().print(_packs_line(packed))


def _packs_json(packed: PackSummary | None) -> dict[str, Any]:
    if packed is None:
        return {"supported": False}
    return {
        "supported": True,
        "written": packed.packs_written,
        "entries": packed.entries_packed,
        "chains_left_loose": packed.chains_left_loose,
    }


def _packs_line(packed: PackSummary) -> str:
    return (
        f"packed {packed.entries_packed} entries into {packed.packs_written} pack(s); "
        f"{packed.chains_left_loose} chain(s) with too few new entries left as they are"
    )


@app.command()
def prove(
    ctx: typer.Context,
    entry_ref: Annotated[
        str, typer.Argument(metavar="ENTRY", help="USECASE#SEQUENCE, e.g. support-bot#4")
    ],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the proof here (check it with `audit verify --proof`)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Prove one entry is covered by the newest checkpoint: hash links to the checkpointed
    head, and the Merkle path of that head to the signed root."""
    from gates.ledger.checkpoint import read_checkpoints
    from gates.ledger.proof import prove_entry

    usecase, sequence = _entry_ref(entry_ref)
    session = session_of(ctx)
    covering = None
    for read in read_checkpoints(session.ledger):
        head = read.checkpoint.head(usecase) if read.sound and read.checkpoint else None
        if head is not None and head.size > sequence:
            covering = read.checkpoint
    if covering is None:
        raise LedgerError(
            f"no checkpoint covers {usecase}#{sequence} yet",
            hint="write one with `stagegate audit checkpoint`",
        )
    proof = prove_entry(session.ledger, usecase, sequence, covering)
    doc = proof.model_dump(mode="json", by_alias=True)
    if out_file is not None:
        try:
            out_file.write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
        except OSError as e:
            raise ConfigError(str(out_file), [f"cannot write the proof: {e.strerror or e}"]) from e
    if json_out:
        print_json(
            {
                "useCase": usecase,
                "sequence": sequence,
                "verified": True,
                "checkpoint": covering.summary(),
                "proof": doc,
            }
        )
        return
    out = console()
    out.print(
        f"{escape(usecase)}#{sequence} is included in checkpoint {covering.sequence} "
        f"({covering.time.isoformat()}, root {covering.root})",
        soft_wrap=True,
    )
    out.print(
        f"  {len(proof.links)} hash link(s) to the checkpointed head #{sequence + len(proof.links)}; "
        f"Merkle path of {len(proof.inclusion)} node(s) (leaf {proof.leaf_index} of {proof.tree_size})"
    )
    if out_file is not None:
        out.print(f"  proof written to {escape(str(out_file))}")


@app.command("export")
def export_(
    ctx: typer.Context,
    usecase: Annotated[str, typer.Argument(help="Use-case id.")],
    out_file: Annotated[Path, typer.Option("--out", help="Bundle file to write (JSON).")],
    json_out: JsonOpt = False,
) -> None:
    """Write a self-contained bundle: entries (exact bytes), public keys, the checkpoint
    covering the chain with its inclusion proof, and a verification report.

    Exit 0 written and intact, 1 written but the report found violations, 2 error.
    """
    from gates.ledger.bundle import export_bundle, write_bundle

    session = session_of(ctx)
    bundle, report = export_bundle(session.ledger, usecase)
    write_bundle(bundle, out_file)
    if json_out:
        print_json(
            {
                "file": str(out_file),
                "useCase": usecase,
                "entries": len(bundle.entries),
                "checkpoint": bundle.checkpoint.key if bundle.checkpoint else None,
                "report": bundle.report,
            }
        )
    else:
        out = console()
        for v in report.violations:
            out.print(f"[red]✗[/] {escape(str(v))}", soft_wrap=True)
        for note in report.notes:
            out.print(f"[yellow]![/] {escape(note)}", soft_wrap=True)
        covered = f"checkpoint {bundle.checkpoint.key}" if bundle.checkpoint else "no checkpoint"
        verdict = "intact" if report.intact else f"{len(report.violations)} violation(s)"
        out.print(
            f"wrote {escape(str(out_file))}: {len(bundle.entries)} entries of {escape(usecase)}, "
            f"{covered}, {len(bundle.keys)} key(s); report: {verdict}",
            soft_wrap=True,
        )
    raise typer.Exit(0 if report.intact else 1)


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
    from gates.cli.audit_views import show_log

    raise typer.Exit(show_log(state_of(ctx), usecase, json_out))


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
    if not sep or not (seq_text.isascii() and seq_text.isdigit()) or not usecase:
        raise ConfigError(
            "ENTRY", [f"{entry_ref!r}: expected USECASE#SEQUENCE, e.g. support-bot#4"]
        )
    session = session_of(ctx)
    key = entry_key(usecase, int(seq_text))
    entry, problems = open_entry(key, session.store.get(key), session.trust, usecase, int(seq_text))
    names = {k: s.name for k, s in session.trust.by_keyid.items()}
    if entry is None:
        # Stored bytes that do not open are a finding about the entry, not an error of ours.
        if json_out:
            print_json({"entry": key, "violations": [v.to_json() for v in problems]})
        else:
            for v in problems:
                console().print(f"[red]✗[/] {escape(str(v))}", soft_wrap=True)
        raise typer.Exit(1)
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
        if p.gate.flow_run:
            out.print(f"evaluated by Prefect flow run {escape(p.gate.flow_run)}", highlight=False)
        out.print(check_details([c.model_dump(mode="json") for c in p.gate.checks]))
    if p.recheck:
        r = p.recheck
        alert = f"; alert {r.alert.status}" if r.alert else ""
        out.print("re-check:", verdict_text(r.verdict), f"policy {r.policy_digest}{alert}")
        out.print(check_details([c.model_dump(mode="json") for c in r.checks]))
    if p.selection:
        sel = p.selection
        out.print(
            f"selected: rank {sel.rank} of {sel.of}, score {sel.score:g}: {escape(sel.rationale)}"
        )
    if p.lock:
        out.print(f"locks {p.lock.stage} exit criteria: {p.lock.digest}")
    for record in (p.approval, p.amendment, p.decision):
        if record is not None:
            out.print(record.model_dump(mode="json", by_alias=True))
    for v in problems:
        out.print(f"[red]✗[/] {escape(str(v))}", soft_wrap=True)
    raise typer.Exit(1 if problems else 0)

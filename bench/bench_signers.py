"""The demo's PoC → Pilot gate in-process, signed by the file key vs a PKCS#11 token key.

Same workspace, same ledger, same gate; only ``[signing] key`` differs: the PEM file in
``keys/gate.pem``, or an Ed25519 key generated on a SoftHSM2 token (Debian's softhsm2,
``make system-packages``) in a temporary folder. Each round runs both, one after the
other, so drift in the growing ledger hits both alike. Target: the PKCS#11 gate ≤ 1 s.
Also times one signature of a gate entry's PAE by each signer.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Size:
    rounds: int  # gates signed by each key; the median is reported
    signatures: int  # signatures timed by each signer


FULL = Size(rounds=7, signatures=200)
SMOKE = Size(rounds=1, signatures=5)
SOFTHSM2_MODULE = os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
PIN = "2468"
PINS = ("--pin", PIN, "--so-pin", "13579")
SO_PIN = "13579"


def softhsm_token_uri(folder: Path) -> str:
    """A fresh SoftHSM2 token in ``folder`` with an Ed25519 gate key generated on it."""
    from gates.signing.pkcs11_signer import generate_token_key

    if not Path(SOFTHSM2_MODULE).exists():
        raise SystemExit(f"{SOFTHSM2_MODULE} missing: run `make system-packages`")
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read once, when the module is first loaded
    os.environ["STAGEGATE_PKCS11_PIN"] = PIN
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "bench", *PINS],
        check=True,
        capture_output=True,
    )
    uri = f"pkcs11:token=bench;object=gate-key?module-path={SOFTHSM2_MODULE}"
    generate_token_key(uri)
    return uri


def main(size: Size = FULL) -> None:
    from bench.bench_gate import setup
    from gates.engine.actions import promote
    from gates.signing.dsse import pae, parse_envelope
    from gates.signing.signers import load_signer
    from gates.stages import Stage
    from gates.workspace.session import Session
    from gates.workspace.settings import SigningSettings, TrustedKey

    with tempfile.TemporaryDirectory() as tmp:
        uri = softhsm_token_uri(Path(tmp) / "softhsm")
        workspace = setup(Path(tmp) / "ws").workspace
        token_public = workspace.root / "keys" / "token-gate.pub"
        token_public.write_bytes(load_signer(uri, workspace.root).public.pem())
        # Both gate keys are trusted, so each session replays the other's entries.
        trusted = [
            *workspace.settings.trusted_keys,
            TrustedKey(name="gate-token", path=str(token_public), roles=["gate"]),
        ]
        file_key, actor = workspace.settings.signing.key, workspace.settings.signing.actor

        def session_signing_with(key: str) -> Session:
            settings = workspace.settings.model_copy(
                update={"signing": SigningSettings(key=key, actor=actor), "trusted_keys": trusted}
            )
            return Session(replace(workspace, settings=settings))

        file_session, token_session = session_signing_with(file_key), session_signing_with(uri)

        def gate(session: Session) -> float:
            start = time.perf_counter()
            outcome = promote(session, "support-bot", Stage.PILOT)
            elapsed = time.perf_counter() - start
            assert outcome.evaluation.verdict.value == "blocked"
            return elapsed

        for session in (file_session, token_session):  # warm: imports, GX, MLflow, module
            gate(session)
        samples: dict[str, list[float]] = {"file": [], "pkcs11": []}
        for _ in range(size.rounds):
            samples["file"].append(gate(file_session))
            samples["pkcs11"].append(gate(token_session))

        last = sorted((workspace.root / "ledger").rglob("*.dsse.json"))[-1]
        envelope = parse_envelope(last.read_bytes(), str(last))
        message = pae(envelope.payload_type, envelope.payload)
        per_signature: dict[str, float] = {}
        for name, session in (("file", file_session), ("pkcs11", token_session)):
            signer = session.signer
            start = time.perf_counter()
            for _ in range(size.signatures):
                signer.sign(message)
            per_signature[name] = (time.perf_counter() - start) / size.signatures

    file_ms = statistics.median(samples["file"]) * 1000
    token_ms = statistics.median(samples["pkcs11"]) * 1000
    print(f"gate signed by the file key (keys/gate.pem)  {file_ms:6.0f} ms median of {size.rounds}")
    print(
        f"gate signed by a SoftHSM2 token (pkcs11:)    {token_ms:6.0f} ms median of {size.rounds}"
        f"  ({token_ms / file_ms:4.2f}× file key; target ≤ 1000 ms)"
    )
    print(
        f"one signature over a {len(message):,}-byte gate PAE: file key "
        f"{per_signature['file'] * 1e6:.0f} µs, token {per_signature['pkcs11'] * 1e6:.0f} µs "
        f"({per_signature['pkcs11'] / per_signature['file']:.1f}×; session + login + sign + "
        "verify)"
    )

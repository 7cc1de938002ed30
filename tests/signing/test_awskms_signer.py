"""The ``awskms:`` signer: what can be tested here without AWS.

No offline AWS KMS here signs with Ed25519 keys (moto 5.2 and LocalStack's community
KMS know no ``ECC_NIST_EDWARDS25519`` key spec), so these tests cover URI parsing, the
size limit KMS puts on raw Ed25519 messages, unreachable or unconfigured AWS, and —
labelled as a stand-in below — the requests the signer makes, checked against
botocore's own KMS service model with botocore's Stubber.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gates.errors import SigningError
from gates.signing.awskms_signer import (
    MAX_MESSAGE_BYTES,
    AwsKmsSigner,
    parse_awskms_uri,
)
from gates.signing.keys import PublicKey, key_id
from gates.signing.signers import load_signer
from tests.support.ports import refusing_port

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no region, so nothing reaches a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.mark.parametrize(
    ("uri", "key", "region"),
    [
        (f"awskms:{KEY_ARN}", KEY_ARN, "eu-west-1"),
        (
            "awskms:1234abcd-12ab-34cd-56ef-1234567890ab?region=us-east-2",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "us-east-2",
        ),
        ("awskms:alias/stagegate-gate", "alias/stagegate-gate", None),
        (f"awskms:{KEY_ARN}?region=eu-west-1", KEY_ARN, "eu-west-1"),
    ],
)
def test_awskms_uris_name_the_key_and_its_region(uri: str, key: str, region: str | None) -> None:
    parsed = parse_awskms_uri(uri)
    assert (parsed.key, parsed.region) == (key, region)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("awskms:", "key: no KMS key id"),
        ("awskms:?region=eu-west-1", "key: no KMS key id"),
        ("awskms:k?endpoint=http://x", "endpoint: not a supported query parameter"),
        (f"awskms:{KEY_ARN}?region=us-east-1", "region: 'us-east-1' differs from the ARN's"),
        ("awskms:arn:aws:s3:::bucket", "is not a KMS key ARN"),
    ],
)
def test_malformed_awskms_uris_are_refused_naming_the_part(uri: str, expected: str) -> None:
    with pytest.raises(SigningError, match=expected):
        load_signer(uri, Path("."))


def test_an_awskms_key_without_a_region_is_one_message_naming_the_region(
    offline_aws: None,
) -> None:
    with pytest.raises(SigningError, match=r"awskms:alias/gate: region: no AWS region"):
        load_signer("awskms:alias/gate", Path("."))


def test_unreachable_kms_is_one_signing_error_naming_the_endpoint(
    offline_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with refusing_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", f"http://127.0.0.1:{port}")
        with pytest.raises(
            SigningError, match=r"endpoint: cannot reach AWS KMS to read the public key"
        ):
            load_signer(f"awskms:{KEY_ARN}", Path("."))


def test_entries_over_the_kms_raw_message_limit_are_refused_before_any_request() -> None:
    """KMS signs pure Ed25519 only over raw messages of ≤ 4096 bytes; no request is made
    (the client is absent, so any call would fail differently)."""
    key = Ed25519PrivateKey.generate()
    signer = AwsKmsSigner(
        parse_awskms_uri(f"awskms:{KEY_ARN}"),
        PublicKey.of(key.public_key()),
        client=None,
    )
    with pytest.raises(
        SigningError,
        match=r"message: AWS KMS signs Ed25519 messages of at most 4096 bytes; this entry's signed bytes are 4097",
    ):
        signer.sign(b"x" * (MAX_MESSAGE_BYTES + 1))


# -- Stand-in: botocore's Stubber in place of AWS KMS, which cannot run here. -------------


def _stubbed(
    key: Ed25519PrivateKey, *, key_spec: str = "ECC_NIST_EDWARDS25519"
) -> tuple[Any, Stubber]:
    client = boto3.client(
        "kms", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    stub = Stubber(client)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stub.add_response(
        "get_public_key",
        {
            "KeyId": KEY_ARN,
            "PublicKey": der,
            "KeySpec": key_spec,
            "KeyUsage": "SIGN_VERIFY",
            "SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
        },
        {"KeyId": KEY_ARN},
    )
    return client, stub


def test_kms_sign_requests_are_raw_pure_ed25519_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for AWS KMS (cannot run here): Stubber checks each request against
    botocore's KMS model and the parameters we expect; the answer is signed locally."""
    key = Ed25519PrivateKey.generate()
    client, stub = _stubbed(key)
    message = b"DSSEv1 28 application/vnd.in-toto+json 2 {}"
    stub.add_response(
        "sign",
        {"KeyId": KEY_ARN, "Signature": key.sign(message), "SigningAlgorithm": "ED25519_SHA_512"},
        {
            "KeyId": KEY_ARN,
            "Message": message,
            "MessageType": "RAW",
            "SigningAlgorithm": "ED25519_SHA_512",
        },
    )
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stub:
        signer = load_signer(f"awskms:{KEY_ARN}", Path("."))
        assert signer.keyid == key_id(key.public_key())  # our key id, not the KMS key id
        assert signer.public.verify(signer.sign(message), message)
    stub.assert_no_pending_responses()


def test_a_kms_signature_that_does_not_verify_is_refused_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stand-in for AWS KMS (cannot run here): an answer signed by another key."""
    key = Ed25519PrivateKey.generate()
    client, stub = _stubbed(key)
    stub.add_response(
        "sign",
        {
            "Signature": Ed25519PrivateKey.generate().sign(b"m"),
            "SigningAlgorithm": "ED25519_SHA_512",
        },
    )
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stub, pytest.raises(SigningError, match="does not verify under the key's public key"):
        load_signer(f"awskms:{KEY_ARN}", Path(".")).sign(b"m")


def test_a_kms_key_that_is_not_ed25519_is_refused_naming_its_key_spec_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stand-in for AWS KMS (cannot run here): GetPublicKey of an ECDSA key."""
    client, stub = _stubbed(Ed25519PrivateKey.generate(), key_spec="ECC_NIST_P256")
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with (
        stub,
        pytest.raises(
            SigningError, match="key spec is ECC_NIST_P256, expected ECC_NIST_EDWARDS25519"
        ),
    ):
        load_signer(f"awskms:{KEY_ARN}", Path("."))


def test_a_kms_refusal_names_the_error_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for AWS KMS (cannot run here): an access-denied answer to GetPublicKey."""
    client = boto3.client(
        "kms", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    stub = Stubber(client)
    stub.add_client_error("get_public_key", "AccessDeniedException", "not allowed", 400)
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with (
        stub,
        pytest.raises(
            SigningError,
            match="KMS: AWS KMS refused to read the public key: AccessDeniedException not allowed",
        ),
    ):
        load_signer(f"awskms:{KEY_ARN}", Path("."))

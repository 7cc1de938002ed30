"""Ed25519 signing in AWS KMS (key spec ``ECC_NIST_EDWARDS25519``) through boto3.

securesystemslib's ``AWSSigner`` signs ECDSA and RSA digests only; Ed25519 needs
``SigningAlgorithm=ED25519_SHA_512`` with ``MessageType=RAW``: KMS computes pure Ed25519
over the message itself, the signature our verifier accepts. (``ED25519_PH_SHA_512``
is Ed25519ph, a different signature that plain Ed25519 verification rejects.) KMS takes
raw messages of at most 4096 bytes, so larger entries are refused with that reason
before any request (docs/adr/0006-signer-uris.md).

URI: ``awskms:<key id | key ARN | alias/NAME | alias ARN>[?region=REGION]``; an ARN
carries its region; otherwise ``region=`` or the usual AWS configuration chain.
Credentials and ``AWS_ENDPOINT_URL(_KMS)`` come from the usual chain too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from gates.errors import SigningError
from gates.signing.keys import PublicKey

SCHEME = "awskms"
KEY_SPEC = "ECC_NIST_EDWARDS25519"
SIGNING_ALGORITHM = "ED25519_SHA_512"
#: KMS Sign: "Messages can be 0-4096 bytes" (RAW); pure Ed25519 cannot sign a digest.
MAX_MESSAGE_BYTES = 4096


@dataclass(frozen=True)
class KmsKeyUri:
    text: str
    key: str
    region: str | None

    def error(self, part: str, problem: str) -> SigningError:
        return SigningError(f"signing key {self.text}: {part}: {problem}")


def parse_awskms_uri(text: str) -> KmsKeyUri:
    scheme, sep, rest = text.partition(":")
    if not sep or scheme != SCHEME:
        raise SigningError(f"signing key {text}: not an awskms: URI")
    key, _, query = rest.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(params) - {"region"})
    if unknown:
        raise SigningError(
            f"signing key {text}: {unknown[0]}: not a supported query parameter (supported: region)"
        )
    if not key:
        raise SigningError(f"signing key {text}: key: no KMS key id, ARN or alias/NAME")
    region = params.get("region") or None
    if key.startswith("arn:"):
        parts = key.split(":")
        if len(parts) < 6 or parts[2] != "kms" or not parts[3]:
            raise SigningError(
                f"signing key {text}: key: {key!r} is not a KMS key ARN "
                "(arn:PARTITION:kms:REGION:ACCOUNT:key/ID)"
            )
        if region and region != parts[3]:
            raise SigningError(
                f"signing key {text}: region: {region!r} differs from the ARN's {parts[3]!r}"
            )
        region = parts[3]
    return KmsKeyUri(text, key, region)


def _boto() -> tuple[Any, Any]:
    try:
        import boto3
        import botocore.exceptions
    except ImportError as e:  # boto3 is a dependency; a broken install still gets a message
        raise SigningError("awskms: keys need boto3", hint=str(e)) from e
    return boto3, botocore.exceptions


def _kms_error(uri: KmsKeyUri, e: Exception, doing: str) -> SigningError:
    _, errors = _boto()
    if isinstance(e, errors.NoRegionError):
        return uri.error("region", "no AWS region: add ?region=... or set AWS_REGION")
    if isinstance(e, errors.NoCredentialsError | errors.PartialCredentialsError):
        return uri.error("credentials", f"no AWS credentials to {doing} ({e})")
    if isinstance(e, errors.ClientError):
        code = e.response.get("Error", {}).get("Code", "")
        message = e.response.get("Error", {}).get("Message", "")
        part = "key" if code in ("NotFoundException", "DisabledException") else "KMS"
        return uri.error(part, f"AWS KMS refused to {doing}: {code} {message}".rstrip())
    if isinstance(e, errors.BotoCoreError):
        return uri.error("endpoint", f"cannot reach AWS KMS to {doing} ({e})")
    return uri.error("KMS", f"cannot {doing} ({e!r})")


@dataclass(frozen=True)
class AwsKmsSigner:
    """Signs with an AWS KMS Ed25519 key; the key id is ours, from its public key."""

    uri: KmsKeyUri
    public: PublicKey
    #: A boto3 KMS client (thread-safe, so one signer serves concurrent gates).
    client: Any = field(repr=False)

    @property
    def keyid(self) -> str:
        return self.public.keyid

    @classmethod
    def open(cls, text: str) -> AwsKmsSigner:
        """Fetch and check the KMS key's public key now (key spec, usage, algorithm)."""
        uri = parse_awskms_uri(text)
        boto3, errors = _boto()
        from botocore.config import Config

        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5)
        try:
            client = boto3.client("kms", region_name=uri.region, config=config)
            answer = client.get_public_key(KeyId=uri.key)
        except (errors.BotoCoreError, errors.ClientError) as e:
            raise _kms_error(uri, e, "read the public key") from e
        return cls(uri, public_key_of(uri, answer), client)

    def sign(self, message: bytes) -> bytes:
        if len(message) > MAX_MESSAGE_BYTES:
            raise self.uri.error(
                "message",
                f"AWS KMS signs Ed25519 messages of at most {MAX_MESSAGE_BYTES} bytes; this "
                f"entry's signed bytes are {len(message)}. Use a pkcs11: key (an HSM such as "
                "AWS CloudHSM) for entries this large.",
            )
        _, errors = _boto()
        try:
            answer = self.client.sign(
                KeyId=self.uri.key,
                Message=message,
                MessageType="RAW",
                SigningAlgorithm=SIGNING_ALGORITHM,
            )
        except (errors.BotoCoreError, errors.ClientError) as e:
            raise _kms_error(self.uri, e, "sign") from e
        signature = bytes(answer.get("Signature", b""))
        if not self.public.verify(signature, message):
            raise self.uri.error(
                "key", "the signature AWS KMS returned does not verify under the key's public key"
            )
        return signature


def public_key_of(uri: KmsKeyUri, answer: dict[str, Any]) -> PublicKey:
    """The Ed25519 public key from a GetPublicKey answer, after checking the key is one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    spec = answer.get("KeySpec")
    if spec != KEY_SPEC:
        raise uri.error("key", f"key spec is {spec}, expected {KEY_SPEC} (an Ed25519 key)")
    if answer.get("KeyUsage") != "SIGN_VERIFY":
        raise uri.error("key", f"key usage is {answer.get('KeyUsage')}, expected SIGN_VERIFY")
    if SIGNING_ALGORITHM not in answer.get("SigningAlgorithms", []):
        raise uri.error("key", f"the key does not offer {SIGNING_ALGORITHM}")
    try:
        key = load_der_public_key(bytes(answer["PublicKey"]))
    except (KeyError, ValueError) as e:
        raise uri.error("key", "AWS KMS returned no readable public key") from e
    if not isinstance(key, Ed25519PublicKey):
        raise uri.error("key", f"the public key is {type(key).__name__}, not Ed25519")
    return PublicKey.of(key)

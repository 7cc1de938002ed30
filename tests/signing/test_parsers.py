"""Key URIs and public key files are untrusted text: any input parses or is one
``SigningError``, never another exception."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

from cryptography.exceptions import UnsupportedAlgorithm
from hypothesis import given
from hypothesis import strategies as st

from gates.errors import SigningError
from gates.signing.awskms_signer import parse_awskms_uri
from gates.signing.keys import _plain_ed25519_pem, parse_public_key
from gates.signing.pkcs11_uri import parse_pkcs11_uri

URI_ALPHABET = st.sampled_from(list("pkcs11:awms;?&=%/.-_tokenobjidpinvaluesourcermy0123456789AF"))


@given(st.text(URI_ALPHABET, max_size=80) | st.text(max_size=80))
def test_any_pkcs11_uri_text_parses_or_is_one_signing_error(text: str) -> None:
    try:
        uri = parse_pkcs11_uri("pkcs11:" + text)
    except SigningError as e:
        assert e.message.startswith("signing key ")
    else:
        assert uri.object is not None or uri.id is not None


@given(st.text(URI_ALPHABET, max_size=80) | st.text(max_size=80))
def test_any_awskms_uri_text_parses_or_is_one_signing_error(text: str) -> None:
    try:
        uri = parse_awskms_uri("awskms:" + text)
    except SigningError as e:
        assert e.message.startswith("signing key ")
    else:
        assert uri.key


@given(st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=8))
def test_pkcs11_labels_and_ids_survive_percent_encoding(label: str, key_id: bytes) -> None:
    uri = parse_pkcs11_uri(
        f"pkcs11:object={quote(label, safe='')};id={quote(key_id, safe='')}?module-path=/m.so"
    )
    assert (uri.object, uri.id) == (label, key_id)


@given(
    st.binary(max_size=200)
    | st.builds(lambda b: b"ssh-ed25519 " + b, st.binary(max_size=120))
    | st.builds(lambda b: b"-----BEGIN PUBLIC KEY-----\n" + b, st.binary(max_size=120))
)
def test_any_public_key_file_content_loads_or_is_one_signing_error(data: bytes) -> None:
    try:
        parse_public_key(data, "keys/x.pub")
    except SigningError as e:
        assert e.message.startswith("keys/x.pub: ")


def _cryptography_reads(data: bytes) -> bytes | None:
    """The raw key ``cryptography``'s own PEM parser finds in ``data`` (None: no Ed25519 key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key.public_bytes_raw() if isinstance(key, Ed25519PublicKey) else None


def _pem_of(raw: bytes, width: int, end: bytes) -> bytes:
    body = base64.b64encode(ED25519_SPKI_PREFIX + raw)
    lines = b"".join(body[i : i + width] + b"\n" for i in range(0, len(body), width))
    return b"-----BEGIN PUBLIC KEY-----\n" + lines + b"-----END PUBLIC KEY-----" + end


ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@given(
    st.binary(min_size=32, max_size=32),
    st.sampled_from([60, 64, 76, 20]),
    st.sampled_from([b"\n", b""]),
)
def test_a_plain_pem_public_key_reads_as_cryptography_reads_it(
    raw: bytes, width: int, end: bytes
) -> None:
    data = _pem_of(raw, width, end)
    public, fmt = parse_public_key(data, "keys/x.pub")
    assert (fmt, public.key.public_bytes_raw()) == ("pem", raw)
    assert _cryptography_reads(data) == raw
    assert public.keyid == hashlib.sha256(raw).hexdigest()


@given(
    st.binary(min_size=32, max_size=32),
    st.integers(min_value=0, max_value=200),
    st.binary(min_size=0, max_size=3),
    st.integers(min_value=0, max_value=3),
)
def test_a_public_key_file_read_without_cryptography_is_one_cryptography_reads_alike(
    raw: bytes, at: int, inserted: bytes, removed: int
) -> None:
    """Whatever an altered PEM file holds, the fast reading of it (``_plain_ed25519_pem``)
    either declines or finds the very key ``cryptography`` finds: it never accepts more."""
    pem = _pem_of(raw, 64, b"\n")
    at = min(at, len(pem))
    data = pem[:at] + inserted + pem[at + removed :]
    fast = _plain_ed25519_pem(data)
    if fast is not None:
        assert _cryptography_reads(data) == fast


def test_other_public_key_forms_still_read_through_cryptography() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes_raw()
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    crlf = _pem_of(raw, 64, b"\n").replace(b"\n", b"\r\n")
    for data, fmt in ((openssh + b" kim@laptop\n", "openssh"), (crlf, "pem")):
        assert _plain_ed25519_pem(data) is None
        public, found = parse_public_key(data, "keys/x.pub")
        assert (found, public.key.public_bytes_raw()) == (fmt, raw)

"""Key URIs and public key files are untrusted text: any input parses or is one
``SigningError``, never another exception."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from gates.errors import SigningError
from gates.signing.awskms_signer import parse_awskms_uri
from gates.signing.keys import parse_public_key
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

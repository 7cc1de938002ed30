"""Ed25519 signing inside a PKCS#11 token (an HSM, a smart card, SoftHSM2) with CKM_EDDSA.

securesystemslib's ``HSMSigner`` signs only with ECDSA keys, so this signer stands on
python-pkcs11 directly. The private key never leaves the token: the token computes a
plain (pure) Ed25519 signature over the DSSE PAE, which the usual Ed25519 verification
with the token's public key accepts. Each signature opens its own session and logs in,
so a wrong PIN is always found, and nothing stays logged in between entries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gates.errors import SigningError
from gates.signing.keys import PublicKey, public_key_from_raw
from gates.signing.pkcs11_uri import PIN_ENV, Pkcs11Uri, parse_pkcs11_uri

if TYPE_CHECKING:
    from pkcs11 import ObjectClass, Session, Token

#: DER of the curve OID id-Ed25519 (1.3.101.112), the CKA_EC_PARAMS of an Ed25519 key.
ED25519_EC_PARAMS = bytes.fromhex("06032b6570")

#: A token's login state is shared by every session of the process: signing one entry at
#: a time keeps one signer's login from hiding another's wrong PIN.
_TOKEN_LOCK = threading.Lock()


def _require_backend() -> None:
    try:
        import pkcs11  # noqa: F401
    except ImportError as e:
        raise SigningError(
            "pkcs11: keys need python-pkcs11: install stagegate[hsm]", hint=str(e)
        ) from e


def _token(uri: Pkcs11Uri) -> Token:
    import pkcs11
    from pkcs11.exceptions import MultipleTokensReturned, NoSuchToken

    module = uri.module()
    try:
        lib = pkcs11.lib(module)
    except pkcs11.PKCS11Error as e:
        raise uri.error("module-path", f"cannot load the PKCS#11 module {module} ({e})") from e
    try:
        return lib.get_token(
            token_label=uri.token,
            token_serial=uri.serial.encode() if uri.serial else None,
        )
    except NoSuchToken as e:
        which = f"labelled {uri.token!r}" if uri.token else "at all"
        which += f" with serial {uri.serial!r}" if uri.serial else ""
        raise uri.error("token", f"no token {which} in {module}") from e
    except MultipleTokensReturned as e:
        raise uri.error("token", "matches several tokens: add token=LABEL or serial=") from e
    except pkcs11.PKCS11Error as e:
        raise uri.error("token", f"cannot list the tokens of {module} ({e!r})") from e


def _open(uri: Pkcs11Uri, token: Token, *, rw: bool = False) -> Session:
    import pkcs11
    from pkcs11 import exceptions as x

    pin = uri.pin()
    try:
        return token.open(rw=rw, user_pin=pin)
    except (x.PinIncorrect, x.PinInvalid, x.PinLenRange) as e:
        part, source = _pin_part(uri)
        raise uri.error(part, f"wrong PIN {source}for token {token.label!r}") from e
    except (x.PinLocked, x.PinExpired) as e:
        part, source = _pin_part(uri)
        raise uri.error(part, f"PIN {source}of token {token.label!r}: {type(e).__name__}") from e
    except pkcs11.PKCS11Error as e:
        raise uri.error("token", f"cannot open token {token.label!r} ({e!r})") from e


def _pin_part(uri: Pkcs11Uri) -> tuple[str, str]:
    """The URI part a PIN came from, and its source, for error messages."""
    if uri.pin_value is not None:
        return "pin-value", "(given in the URI) "
    if uri.pin_source is not None:
        return "pin-source", f"(from {uri.pin_source}) "
    return "PIN", f"(from {PIN_ENV}) "


def _template(uri: Pkcs11Uri, object_class: ObjectClass) -> dict[Any, Any]:
    from pkcs11 import Attribute

    template: dict[Any, Any] = {Attribute.CLASS: object_class}
    if uri.object is not None:
        template[Attribute.LABEL] = uri.object
    if uri.id is not None:
        template[Attribute.ID] = uri.id
    return template


def _find_one(uri: Pkcs11Uri, session: Session, object_class: ObjectClass, what: str) -> Any:
    import pkcs11
    from pkcs11 import Attribute, KeyType

    try:
        found = list(session.get_objects(_template(uri, object_class)))
    except pkcs11.PKCS11Error as e:
        raise uri.error("object", f"cannot search the token ({e!r})") from e
    selector = "object" if uri.object is not None else "id"
    if not found:
        hint = "" if uri.pin() is not None else " (no PIN given: private keys may need one)"
        raise uri.error(selector, f"no {what} with this {selector} on the token{hint}")
    if len(found) > 1:
        raise uri.error(selector, f"{len(found)} {what}s match: add id= or a unique object=")
    key = found[0]
    key_type = key[Attribute.KEY_TYPE]
    if key_type != KeyType.EC_EDWARDS:
        name = getattr(key_type, "name", key_type)
        raise uri.error(selector, f"the {what} is of type {name}, not an Ed25519 key")
    return key


def _public_key(uri: Pkcs11Uri, session: Session) -> PublicKey:
    from pkcs11 import Attribute, ObjectClass

    key = _find_one(uri, session, ObjectClass.PUBLIC_KEY, "public key")
    point = bytes(key[Attribute.EC_POINT])
    # CKA_EC_POINT of an Edwards key is the raw key wrapped in a DER OCTET STRING;
    # some tokens store the raw 32 bytes.
    raw = point[2:] if len(point) == 34 and point[:2] == b"\x04\x20" else point
    return public_key_from_raw(raw, f"signing key {uri.redacted}: public key")


@dataclass(frozen=True)
class Pkcs11Signer:
    """Signs with the Ed25519 private key a ``pkcs11:`` URI names."""

    uri: Pkcs11Uri
    public: PublicKey

    @property
    def keyid(self) -> str:
        return self.public.keyid

    @classmethod
    def open(cls, text: str) -> Pkcs11Signer:
        """Find the key now, so a wrong PIN or a missing object fails before any work."""
        uri = parse_pkcs11_uri(text)
        _require_backend()
        from pkcs11 import ObjectClass

        with _TOKEN_LOCK:
            token = _token(uri)
            with _open(uri, token) as session:
                public = _public_key(uri, session)
                _find_one(uri, session, ObjectClass.PRIVATE_KEY, "private key")
        return cls(uri, public)

    def sign(self, message: bytes) -> bytes:
        import pkcs11
        from pkcs11 import Mechanism, ObjectClass

        with _TOKEN_LOCK:
            token = _token(self.uri)
            with _open(self.uri, token) as session:
                key = _find_one(self.uri, session, ObjectClass.PRIVATE_KEY, "private key")
                try:
                    signature = bytes(key.sign(message, mechanism=Mechanism.EDDSA))
                except pkcs11.PKCS11Error as e:
                    raise self.uri.error("object", f"the token refused to sign ({e!r})") from e
        if not self.public.verify(signature, message):
            raise self.uri.error(
                "object", "the token's signature does not verify under its public key"
            )
        return signature


def generate_token_key(text: str) -> PublicKey:
    """Generate an Ed25519 key pair on the token, labelled and identified as the URI says.

    Refuses when the URI already names a key, so an existing gate key is never shadowed.
    """
    uri = parse_pkcs11_uri(text)
    _require_backend()
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

    with _TOKEN_LOCK:
        token = _token(uri)
        with _open(uri, token, rw=True) as session:
            for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                if list(session.get_objects(_template(uri, object_class))):
                    raise uri.error("object", "a key with this label/id is already on the token")
            try:
                session.generate_keypair(
                    KeyType.EC_EDWARDS,
                    mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
                    store=True,
                    label=uri.object,
                    id=uri.id,
                    public_template={Attribute.EC_PARAMS: ED25519_EC_PARAMS},
                )
            except pkcs11.PKCS11Error as e:
                raise uri.error(
                    "object", f"the token cannot generate an Ed25519 key ({e!r})"
                ) from e
            return _public_key(uri, session)

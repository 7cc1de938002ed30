"""Untrusted bytes in stored entries, bundles and checkpoints become named violations.

Whatever a store or a bundle holds, the verifier answers with violations naming the
entry and the rule (or a ``LedgerError`` where a verified chain is required), never
with another exception.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gates.canonical import json_text
from gates.errors import LedgerError
from gates.ledger.bundle import export_bundle, load_bundle, verify_bundle, write_bundle
from gates.ledger.checkpoint import checkpoint_key, read_checkpoints
from gates.ledger.entry import open_entry, parse_entry_key
from gates.ledger.verify import verify_ledger
from gates.signing.dsse import b64decode_strict, parse_envelope, sign_envelope
from tests.support.forge import edit_envelope, entry_path, with_non_ascii
from tests.support.world import World


@pytest.fixture
def alpha(world: World) -> World:
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    return world


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_a_non_ascii_character_in_stored_base64_is_a_violation_naming_the_entry(
    alpha: World, field: str
) -> None:
    path = entry_path(alpha.root, "alpha", 1)
    path.write_bytes(edit_envelope(path.read_bytes(), field))

    report = verify_ledger(alpha.session.ledger)

    assert [(v.usecase, v.sequence, v.rule) for v in report.violations] == [
        ("alpha", 1, "envelope-malformed")
    ]
    assert "base64" in report.violations[0].message
    replayed = alpha.session.ledger.replay("alpha")
    assert [(v.sequence, v.rule) for v in replayed.violations] == [(1, "envelope-malformed")]
    with pytest.raises(LedgerError, match=r"alpha#1: \[envelope-malformed\]"):
        alpha.session.ledger.state("alpha")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,  # deeper than the JSON parser's recursion limit
        b'{"payload": 1' + b"0" * 5000 + b"}",  # past Python's int/str conversion limit
        b'{"payload":"AA==","payloadType":"\\ud800","signatures":[{"keyid":"k","sig":"AA=="}]}',
        b'{"payload":"AA==","payloadType":"t","signatures":[{"keyid":7,"sig":"AA=="}]}',
        b'{"payload":"AA==","payloadType":"t","signatures":[{"keyid":"k","sig":7}]}',
        b'{"payload":"AA==","payloadType":"t","signatures":["AA=="]}',
        b'{"payload":"AA=","payloadType":"t","signatures":[{"keyid":"k","sig":"AA=="}]}',
        b"\xff\xfe{}",
    ],
    ids=["deep", "huge-int", "surrogate", "keyid-int", "sig-int", "sig-str", "padding", "utf16"],
)
def test_malformed_envelopes_are_ledger_errors_naming_where(raw: bytes) -> None:
    with pytest.raises(LedgerError, match=r"^chains/x/000000000000\.dsse\.json: "):
        parse_envelope(raw, "chains/x/000000000000.dsse.json")


_OPENINGS = [
    b"",
    b"{",
    b"{\x00",
    b"{\x00\x00\x00",
    b"\x00{",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
]


@given(st.sampled_from(_OPENINGS), st.binary(max_size=12))
def test_any_bytes_decode_to_the_text_json_loads_would_read(opening: bytes, rest: bytes) -> None:
    data = opening + rest
    try:
        expected: str | type[Exception] = data.decode(json.detect_encoding(data), "surrogatepass")
    except UnicodeDecodeError:
        expected = UnicodeDecodeError
    try:
        found: str | type[Exception] = json_text(data)
    except UnicodeDecodeError:
        found = UnicodeDecodeError
    assert found == expected


@given(st.text(alphabet="AQab+/=\n -_é", max_size=12))
def test_any_text_decodes_as_strict_base64_would_read_it(text: str) -> None:
    try:
        expected = base64.b64decode(text, validate=True)
    except ValueError:
        expected = None
    assert b64decode_strict(text) == expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be", "utf-8-sig"])
def test_an_envelope_in_another_json_encoding_reads_as_its_utf8_form(
    alpha: World, encoding: str
) -> None:
    raw = entry_path(alpha.root, "alpha", 1).read_bytes()
    again = raw.decode("utf-8").encode(encoding)
    assert parse_envelope(again, "x") == parse_envelope(raw, "x")


def test_a_signed_payload_with_nan_is_malformed_not_a_crash(alpha: World) -> None:
    """A trusted key signing ``NaN`` (which Python's json reads) still yields a violation."""
    raw = entry_path(alpha.root, "alpha", 1).read_bytes()
    payload = parse_envelope(raw, "x").payload.replace(b'"note":""', b'"note":NaN')
    forged = sign_envelope(payload, alpha.sponsor).to_json_bytes()

    entry, problems = open_entry("k", forged, alpha.session.trust, "alpha", 1)

    assert entry is None
    assert [(p.rule, "NaN" in p.message) for p in problems] == [("payload-malformed", True)]


def test_a_signed_payload_with_a_time_without_offset_is_malformed(alpha: World) -> None:
    raw = entry_path(alpha.root, "alpha", 1).read_bytes()
    payload = parse_envelope(raw, "x").payload
    naive = payload.replace(b'T09:00:00Z"', b'T09:00:00"')
    assert naive != payload
    forged = sign_envelope(naive, alpha.sponsor).to_json_bytes()
    entry_path(alpha.root, "alpha", 1).write_bytes(forged)

    report = verify_ledger(alpha.session.ledger)

    assert [(v.sequence, v.rule) for v in report.violations] == [(1, "payload-malformed")]
    assert "offset" in report.violations[0].message


def test_a_stored_key_with_unicode_digits_is_a_stray_object(alpha: World) -> None:
    """``'²'.isdigit()`` is true but ``int('²')`` raises: such a key is no entry key."""
    assert parse_entry_key("chains/alpha/²²².dsse.json") is None
    odd = entry_path(alpha.root, "alpha", 0).parent / "²².dsse.json"
    odd.write_bytes(entry_path(alpha.root, "alpha", 0).read_bytes())

    report = verify_ledger(alpha.session.ledger)

    assert [v.rule for v in report.violations] == ["stray-object"]


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_a_non_ascii_character_in_a_checkpoint_envelope_is_a_violation(
    alpha: World, field: str
) -> None:
    alpha.checkpoint(2)
    path = alpha.root / "ledger" / checkpoint_key(0)
    path.write_bytes(edit_envelope(path.read_bytes(), field))

    reads = list(read_checkpoints(alpha.session.ledger))
    report = verify_ledger(alpha.session.ledger)

    assert [r.sound for r in reads] == [False]
    assert [(v.usecase, v.sequence, v.rule) for v in report.violations] == [
        ("@checkpoints", 0, "checkpoint-malformed")
    ]


def _exported(world: World, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    world.checkpoint(2)
    bundle, report = export_bundle(world.session.ledger, "alpha", now=world.at(3))
    assert report.intact
    path = tmp_path / "alpha.bundle.json"
    write_bundle(bundle, path)
    return json.loads(path.read_bytes())  # type: ignore[no-any-return]


def _reload(doc: dict, tmp_path: Path):  # type: ignore[no-untyped-def,type-arg]
    path = tmp_path / "edited.bundle.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return load_bundle(path)


def test_a_non_ascii_character_in_a_bundle_envelope_field_is_a_violation(
    alpha: World, tmp_path: Path
) -> None:
    doc = _exported(alpha, tmp_path)
    doc["entries"][1]["envelope"] = with_non_ascii(doc["entries"][1]["envelope"])

    report = verify_bundle(_reload(doc, tmp_path), alpha.session.trust)

    assert ("alpha", 1, "envelope-malformed") in {
        (v.usecase, v.sequence, v.rule) for v in report.violations
    }


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_a_non_ascii_character_inside_a_bundled_envelope_is_a_violation(
    alpha: World, tmp_path: Path, field: str
) -> None:
    doc = _exported(alpha, tmp_path)
    inner = base64.b64decode(doc["entries"][0]["envelope"])
    doc["entries"][0]["envelope"] = base64.b64encode(edit_envelope(inner, field)).decode()
    cp_inner = base64.b64decode(doc["checkpoint"]["envelope"])
    doc["checkpoint"]["envelope"] = base64.b64encode(edit_envelope(cp_inner, field)).decode()

    report = verify_bundle(_reload(doc, tmp_path), alpha.session.trust)

    found = {(v.usecase, v.sequence, v.rule) for v in report.violations}
    assert ("alpha", 0, "envelope-malformed") in found
    assert ("@checkpoints", 0, "checkpoint-malformed") in found

"""Seeded mutations of stored ledger objects and of export bundles, and what they change.

Each mutator takes a ``random.Random`` and the pristine objects (key → stored bytes)
and returns a description and the mutated objects. ``signed_content`` is the oracle:
what an object says, as far as verification may rely on it.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gates.canonical import canonical_json
from gates.errors import LedgerError
from gates.ledger.checkpoint import CHECKPOINTS_PREFIX, checkpoint_key
from gates.ledger.entry import CHAINS_PREFIX, entry_key, parse_entry_key
from gates.signing.dsse import parse_envelope, sign_envelope
from gates.signing.signers import Signer
from gates.signing.trust import TrustStore

Objects = dict[str, bytes]

#: Bytes that break parsers in interesting ways: non-ASCII, control, escapes, quotes.
HOSTILE_BYTES = [
    "é".encode(),
    b"\x00",
    b"\x1b[31m",
    b"\xff",
    b"\xc3",
    "\u2028".encode(),
    "\U0001f600".encode(),
    b"\n",
    b" ",
    b'"',
    b"\\",
    b"\\ud800",
    b"=",
    b"{",
    b"]",
]
#: Characters put inside base64 text: non-ASCII letters and digits, controls, padding.
HOSTILE_CHARS = ["é", "²", "١", "\x00", "\x7f", "\u2028", "\ud800", "=", "-", "_", " ", "\n", "%"]
#: Values put into signed payloads before re-encoding them.
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    10**30,
    1.5,
    "",
    "x" * 300,
    "é",
    [],
    {},
    [1, "a"],
    {"x": {"y": [None]}},
    "2026-02-30T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-01-05T09:00:00",
    "production",
    "stopped",
    "beta",
    "sha256:" + "0" * 64,
    "gate",
    "sponsor",
]
#: Raw JSON put into a payload's text where a value was (not expressible as a Python value).
HOSTILE_JSON = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1" + b"0" * 5000,
    b"[" * 3000 + b"]" * 3000,
    b'"\\ud800"',
    b"1e999",
    b"-0",
    b"1.0",
]


@dataclass(frozen=True)
class Signers:
    """Keys a mutator may re-sign with: none of them holds the ``gate`` role."""

    outsider: Signer  # not trusted at all
    sponsor: Signer  # trusted, role sponsor
    budget_owner: Signer  # trusted, role budget_owner

    def any(self, rng: random.Random) -> tuple[str, Signer]:
        return rng.choice(
            [("outsider", self.outsider), ("sponsor", self.sponsor), ("budget", self.budget_owner)]
        )


def signed_content(key: str, raw: bytes, trust: TrustStore) -> tuple[Any, ...]:
    """What a stored object says: payload type, payload bytes, trusted keys that signed them.

    Bytes that do not open as an envelope say nothing: they are kept as they are.
    """
    try:
        envelope = parse_envelope(raw, key)
        signed = envelope.verified_keyids(s.public for s in trust.by_keyid.values())
    except Exception:  # LedgerError; anything else is the verifier's to report, not ours
        return ("unreadable", raw)
    return (envelope.payload_type, envelope.payload, frozenset(signed))


def ledger_content(objects: Objects, trust: TrustStore) -> dict[str, tuple[Any, ...]]:
    return {
        key: signed_content(key, raw, trust)
        for key, raw in objects.items()
        if key.startswith((CHAINS_PREFIX, CHECKPOINTS_PREFIX))
    }


# --- byte-level ---------------------------------------------------------------------------


def _pick(rng: random.Random, objects: Objects) -> str:
    return rng.choice(sorted(objects))


def flip_byte(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    key = _pick(rng, objects)
    data = bytearray(objects[key])
    at = rng.randrange(len(data))
    data[at] ^= rng.randrange(1, 256)
    return f"flip byte {at} of {key}", {**objects, key: bytes(data)}


def truncate(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    key = _pick(rng, objects)
    cut = rng.randrange(len(objects[key]))
    return f"truncate {key} to {cut} bytes", {**objects, key: objects[key][:cut]}


def insert_bytes(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    key = _pick(rng, objects)
    data = objects[key]
    at = rng.randrange(len(data) + 1)
    junk = rng.choice(HOSTILE_BYTES)
    return f"insert {junk!r} at {at} of {key}", {**objects, key: data[:at] + junk + data[at:]}


# --- envelope JSON --------------------------------------------------------------------------


def _envelope_doc(raw: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(raw)
    return doc


def _dump(rng: random.Random, doc: Any) -> bytes:
    """JSON in one of several equivalent spellings (a reader must not care which)."""
    style = rng.randrange(4)
    if style == 0:
        return json.dumps(doc, separators=(",", ":")).encode()
    if style == 1:
        return json.dumps(doc, indent=rng.choice([1, 2, 4]), sort_keys=True).encode()
    if style == 2:
        return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return b"\n  " + json.dumps(doc).encode() + b"\n"


def non_ascii_in_base64(
    rng: random.Random, objects: Objects, signers: Signers
) -> tuple[str, Objects]:
    key = _pick(rng, objects)
    doc = _envelope_doc(objects[key])
    holder = doc if rng.random() < 0.5 else rng.choice(doc["signatures"])
    field = "payload" if holder is doc else "sig"
    text = holder[field]
    at = rng.randrange(len(text) + 1)
    char = rng.choice(HOSTILE_CHARS)
    replace = rng.random() < 0.5 and at < len(text)
    holder[field] = text[:at] + char + text[at + (1 if replace else 0) :]
    verb = "replace" if replace else "insert"
    return f"{verb} {char!r} at {at} of {field} in {key}", {**objects, key: _dump(rng, doc)}


def _other_type(rng: random.Random) -> Any:
    return rng.choice([None, 1, -1, 1.5, True, [], {}, "", "AA==", ["AA=="], {"sig": "AA=="}])


def edit_envelope(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    key = _pick(rng, objects)
    doc = _envelope_doc(objects[key])
    other = _envelope_doc(objects[_pick(rng, objects)])
    sig = doc["signatures"][0]
    edits: list[tuple[str, Callable[[], None]]] = [
        ("drop payload", lambda: doc.pop("payload")),
        ("drop payloadType", lambda: doc.pop("payloadType")),
        ("drop signatures", lambda: doc.pop("signatures")),
        ("extra field", lambda: doc.update(extra=_other_type(rng))),
        ("payload of another type", lambda: doc.update(payload=_other_type(rng))),
        ("payloadType of another type", lambda: doc.update(payloadType=_other_type(rng))),
        ("signatures of another type", lambda: doc.update(signatures=_other_type(rng))),
        ("no signatures", lambda: doc.update(signatures=[])),
        ("duplicate signature", lambda: doc["signatures"].append(dict(sig))),
        ("signature without keyid", lambda: sig.pop("keyid")),
        ("signature without sig", lambda: sig.pop("sig")),
        ("keyid of another type", lambda: sig.update(keyid=_other_type(rng))),
        ("sig of another type", lambda: sig.update(sig=_other_type(rng))),
        ("keyid of another key", lambda: sig.update(keyid=other["signatures"][0]["keyid"])),
        ("sig of another entry", lambda: sig.update(sig=other["signatures"][0]["sig"])),
        ("payload of another entry", lambda: doc.update(payload=other["payload"])),
        (
            "payloadType changed",
            lambda: doc.update(
                payloadType=rng.choice(
                    ["", "application/json", "APPLICATION/VND.IN-TOTO+JSON", "\ud800"]
                )
            ),
        ),
        ("keyid unknown", lambda: sig.update(keyid="0" * 64)),
        ("keyid with a lone surrogate", lambda: sig.update(keyid="\ud800")),
        ("reformatted only", lambda: None),
        ("envelope is a list", lambda: doc.update({"__list__": True})),
    ]
    name, edit = rng.choice(edits)
    edit()
    if name == "envelope is a list":
        return f"{name}: {key}", {**objects, key: _dump(rng, [doc])}
    return f"{name}: {key}", {**objects, key: _dump(rng, doc)}


# --- signed payloads ------------------------------------------------------------------------


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            paths += _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            paths += _leaves(v, (*path, i))
    return paths


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


def _edited_payload(rng: random.Random, payload: bytes) -> tuple[str, bytes]:
    """A payload changed at one place: a value, a key, or raw JSON only text can hold."""
    doc = json.loads(payload)
    paths = [p for p in _leaves(doc) if p]
    path = rng.choice(paths)
    where = ".".join(map(str, path))
    choice = rng.randrange(5)
    if choice == 0:
        value = rng.choice(HOSTILE_VALUES)
        _set(doc, path, value)
        return f"{where} = {str(value)[:40]!r}", canonical_json(doc)
    if choice == 1 and isinstance(path[-1], str):
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        parent.pop(path[-1])
        return f"drop {where}", canonical_json(doc)
    if choice == 2:
        marker = "__RAW__"
        _set(doc, path, marker)
        raw = rng.choice(HOSTILE_JSON)
        text = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return f"{where} = raw {raw[:12]!r}", text.replace(b'"' + marker.encode() + b'"', raw, 1)
    if choice == 3:
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict):
            parent[rng.choice(["extra", "_type", "lock", "gate", "approval"])] = rng.choice(
                HOSTILE_VALUES
            )
            return f"extra field next to {where}", canonical_json(doc)
    data = bytearray(payload)
    at = rng.randrange(len(data))
    data[at] ^= 1 << rng.randrange(8)
    return f"flip payload byte {at}", bytes(data)


def edit_payload(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    """Change the signed payload; keep the old signature, or re-sign with a key not the gate's."""
    key = _pick(rng, objects)
    envelope = parse_envelope(objects[key], key)
    what, payload = _edited_payload(rng, envelope.payload)
    mode = rng.randrange(4)
    if mode == 0:
        doc = _envelope_doc(objects[key])
        doc["payload"] = base64.b64encode(payload).decode()
        how = "old signature kept"
        raw = _dump(rng, doc)
    else:
        name, signer = signers.any(rng)
        signed = sign_envelope(payload, signer, envelope.payload_type)
        raw = signed.to_json_bytes()
        how = f"re-signed by {name}"
        if mode == 3:  # the old (now invalid) signature kept beside the new one
            doc = _envelope_doc(raw)
            doc["signatures"] += _envelope_doc(objects[key])["signatures"]
            raw = _dump(rng, doc)
            how += " beside the old signature"
    return f"{key}: {what}, {how}", {**objects, key: raw}


def resign_same_payload(
    rng: random.Random, objects: Objects, signers: Signers
) -> tuple[str, Objects]:
    """The same payload with its signature replaced by one of a key that is not the gate's."""
    key = _pick(rng, objects)
    envelope = parse_envelope(objects[key], key)
    name, signer = signers.any(rng)
    raw = sign_envelope(envelope.payload, signer, envelope.payload_type).to_json_bytes()
    return f"{key}: signature replaced by {name}'s", {**objects, key: raw}


# --- keys: replay, delete, duplicate, reorder ------------------------------------------------


def _entry_keys(objects: Objects) -> list[str]:
    return sorted(k for k in objects if parse_entry_key(k) is not None)


def replay(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    """An object's bytes copied to another key: another chain, another position, a new one."""
    source = _pick(rng, objects)
    entries = _entry_keys(objects)
    chains = sorted({parse_entry_key(k)[0] for k in entries})  # type: ignore[index]
    chain = rng.choice([*chains, "gamma"])
    length = sum(1 for k in entries if k.startswith(f"{CHAINS_PREFIX}{chain}/"))
    target = rng.choice(
        [
            entry_key(chain, rng.randrange(max(length, 1))),
            entry_key(chain, length),
            entry_key(chain, length + rng.randrange(1, 5)),
            checkpoint_key(rng.randrange(3)),
        ]
    )
    if target == source:
        target = entry_key(chain, length)
    return f"copy {source} to {target}", {**objects, target: objects[source]}


def delete(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    key = _pick(rng, objects)
    return f"delete {key}", {k: v for k, v in objects.items() if k != key}


def reorder(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    keys = rng.sample(sorted(objects), 2)
    a, b = keys
    return f"swap {a} and {b}", {**objects, a: objects[b], b: objects[a]}


def stray(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    key = rng.choice(
        [
            f"{CHAINS_PREFIX}alpha/notes.txt",
            f"{CHAINS_PREFIX}alpha/²².dsse.json",
            f"{CHAINS_PREFIX}alpha/00000000000x.dsse.json",
            f"{CHAINS_PREFIX}zeta/000000000000.dsse.json",
            f"{CHECKPOINTS_PREFIX}latest.dsse.json",
            f"{CHECKPOINTS_PREFIX}١٢.dsse.json",
        ]
    )
    data = rng.choice([b"", b"{}", objects[_pick(rng, objects)], b"\xff" * 10])
    return f"add {key}", {**objects, key: data}


STORE_MUTATORS: list[Callable[[random.Random, Objects, Signers], tuple[str, Objects]]] = [
    flip_byte,
    truncate,
    insert_bytes,
    non_ascii_in_base64,
    non_ascii_in_base64,
    edit_envelope,
    edit_envelope,
    edit_payload,
    edit_payload,
    edit_payload,
    resign_same_payload,
    replay,
    delete,
    reorder,
    stray,
]


def mutate_store(rng: random.Random, objects: Objects, signers: Signers) -> tuple[str, Objects]:
    """One to three mutations in a row (most cases one)."""
    steps = rng.choices([1, 2, 3], weights=[8, 2, 1])[0]
    done: list[str] = []
    for _ in range(steps):
        mutator = rng.choice(STORE_MUTATORS)
        try:
            what, objects = mutator(rng, objects, signers)
        except (LedgerError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier step left bytes this mutator cannot edit: skip it
        done.append(what)
    return "; ".join(done) or "nothing", objects


# --- bundles --------------------------------------------------------------------------------


def bundle_content(doc: Any, trust: TrustStore) -> Any:
    """What a bundle document says: whose chain, its entries (by key, in any order) and its
    checkpoint.

    A bundle without a checkpoint says only what its entries say (the verifier notes
    that truncation before export cannot be ruled out; the auditor's pinned checkpoint
    still covers it), so a dropped checkpoint counts as unchanged.
    """
    try:
        entries = (
            doc["useCase"],
            sorted(
                (item["key"], signed_content(item["key"], _bytes(item["envelope"]), trust))
                for item in doc["entries"]
            ),
        )
        cp = doc["checkpoint"]
        if cp is None:
            return entries, None
        checkpoint = (  # its key only says where it was stored; its payload says which one
            signed_content(cp["key"], _bytes(cp["envelope"]), trust),
            cp["leafIndex"],
            cp["treeSize"],
            cp["inclusion"],
        )
        return entries, checkpoint
    except (KeyError, TypeError):
        return None


def _bytes(text: Any) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except Exception:  # not base64 text at all: keep what it was, as bytes
        return repr(text).encode()


def same_bundle_content(original: Any, mutated: Any) -> bool:
    if original is None or mutated is None:
        return original is mutated
    return bool(mutated[0] == original[0] and mutated[1] in (None, original[1]))


def mutate_bundle_doc(
    rng: random.Random, doc: dict[str, Any], signers: Signers
) -> tuple[str, dict[str, Any]]:
    """One structural edit of an exported bundle (a deep copy is edited)."""
    doc = json.loads(json.dumps(doc))
    entries = doc["entries"]
    checkpoint = doc["checkpoint"]
    edits: list[tuple[str, Callable[[], None]]] = [
        ("drop an entry", lambda: entries.pop(rng.randrange(len(entries)))),
        ("drop the newest entry", lambda: entries.pop()),
        ("duplicate an entry", lambda: entries.append(dict(rng.choice(entries)))),
        ("swap two entries", lambda: _swap(rng, entries)),
        ("reverse the entries", lambda: entries.reverse()),
        ("rename an entry", lambda: rng.choice(entries).update(key=_other_key(rng))),
        ("edit an envelope", lambda: _edit_bundled(rng, rng.choice(entries), signers)),
        ("edit an envelope", lambda: _edit_bundled(rng, rng.choice(entries), signers)),
        ("edit an envelope", lambda: _edit_bundled(rng, rng.choice(entries), signers)),
        ("non-ASCII in base64", lambda: _non_ascii(rng, rng.choice(entries), "envelope")),
        ("drop the checkpoint", lambda: doc.update(checkpoint=None)),
        ("edit the checkpoint", lambda: _edit_bundled(rng, checkpoint, signers)),
        ("non-ASCII in checkpoint", lambda: _non_ascii(rng, checkpoint, "envelope")),
        ("leafIndex", lambda: checkpoint.update(leafIndex=rng.choice([-1, 1, 2, 10**20]))),
        ("treeSize", lambda: checkpoint.update(treeSize=rng.choice([0, 1, 3, 10**20]))),
        ("inclusion flipped", lambda: _flip_hex(rng, checkpoint)),
        ("inclusion dropped", lambda: checkpoint.update(inclusion=[])),
        ("inclusion junk", lambda: checkpoint.update(inclusion=[rng.choice(["zz", "é", ""])])),
        ("checkpoint key", lambda: checkpoint.update(key=_other_key(rng))),
        ("useCase", lambda: doc.update(useCase=rng.choice(["beta", "gamma", "", "é"]))),
        ("keys dropped", lambda: doc.update(keys=[])),
        ("key roles", lambda: rng.choice(doc["keys"]).update(roles=["gate"])),
        ("report", lambda: doc.update(report={"intact": True, "violations": []})),
        ("created", lambda: doc.update(created=rng.choice(["2026-02-30T00:00:00Z", "x", 1]))),
        ("field of another type", lambda: _retype(rng, doc)),
        ("extra field", lambda: doc.update(extra=1)),
    ]
    name, edit = rng.choice(edits)
    if checkpoint is None and "checkpoint" in name:
        name, edit = edits[0]
    edit()
    return name, doc


def _swap(rng: random.Random, items: list[Any]) -> None:
    i, j = rng.sample(range(len(items)), 2)
    items[i], items[j] = items[j], items[i]


def _other_key(rng: random.Random) -> str:
    return rng.choice(
        [
            entry_key("alpha", 7),
            entry_key("beta", 0),
            "chains/alpha/x.dsse.json",
            "../etc/passwd",
            "/abs",
            "chains/alpha/²².dsse.json",
            checkpoint_key(5),
            "",
        ]
    )


def _edit_bundled(rng: random.Random, item: dict[str, Any], signers: Signers) -> None:
    raw = base64.b64decode(item["envelope"])
    mutator = rng.choice(
        [flip_byte, truncate, insert_bytes, non_ascii_in_base64, edit_envelope, edit_payload]
    )
    try:
        _, changed = mutator(rng, {"x": raw}, signers)
    except (LedgerError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return
    item["envelope"] = base64.b64encode(changed["x"]).decode()


def _non_ascii(rng: random.Random, item: dict[str, Any], field: str) -> None:
    text = item[field]
    at = rng.randrange(len(text))
    item[field] = text[:at] + rng.choice(HOSTILE_CHARS) + text[at + 1 :]


def _flip_hex(rng: random.Random, checkpoint: dict[str, Any]) -> None:
    if checkpoint["inclusion"]:
        node = checkpoint["inclusion"][0]
        at = rng.randrange(len(node))
        swapped = "0" if node[at] != "0" else "1"
        checkpoint["inclusion"][0] = node[:at] + swapped + node[at + 1 :]


def _retype(rng: random.Random, doc: dict[str, Any]) -> None:
    field = rng.choice(["entries", "keys", "checkpoint", "tool", "useCase", "_type", "report"])
    doc[field] = _other_type(rng)


def mutate_bundle_text(rng: random.Random, text: bytes) -> tuple[str, bytes]:
    """Byte-level damage to the bundle file itself."""
    data = bytearray(text)
    choice = rng.randrange(3)
    at = rng.randrange(len(data))
    if choice == 0:
        data[at] ^= rng.randrange(1, 256)
        return f"flip bundle byte {at}", bytes(data)
    if choice == 1:
        return f"truncate bundle at {at}", bytes(data[:at])
    junk = rng.choice(HOSTILE_BYTES)
    return f"insert {junk!r} at {at} of the bundle", bytes(data[:at]) + junk + bytes(data[at:])

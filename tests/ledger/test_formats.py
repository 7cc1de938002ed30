"""Wire formats: third-party DSSE verification, the committed schema, canonical JSON."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.signer import SSlibKey

from gates.canonical import canonical_json, digest_of
from gates.ledger.statement import Statement, binds_to, usecase_subject
from gates.schemas import committed_predicate_schema, generated_predicate_schema
from tests.support.world import World


def test_a_third_party_dsse_verifier_accepts_our_envelopes(world: World) -> None:
    entry = world.register("alpha", 0)
    raw = world.session.store.get(entry.key)
    gate_key = next(s for s in world.session.trust.by_keyid.values() if s.name == "gate")
    key = SSlibKey.from_crypto(gate_key.public.key, keyid=gate_key.public.keyid)
    envelope = SslibEnvelope.from_dict(json.loads(raw))
    verified = envelope.verify([key], threshold=1)
    assert set(verified) == {gate_key.public.keyid}
    assert envelope.payload == entry.envelope.payload


def test_every_entry_kind_validates_against_the_committed_json_schema(world: World) -> None:
    schema = committed_predicate_schema()
    world.register("alpha", 0)
    world.approve("alpha", "sponsor", 1)
    for _, entry, problems in world.session.ledger.entries("alpha"):
        assert entry is not None and not problems
        predicate = json.loads(entry.envelope.payload)["predicate"]
        jsonschema.validate(predicate, schema)


def test_committed_schema_matches_the_models() -> None:
    assert committed_predicate_schema() == json.loads(
        json.dumps(generated_predicate_schema(), sort_keys=True)
    )


def test_schema_rejects_unknown_fields() -> None:
    schema = committed_predicate_schema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"useCase": "x", "surprise": 1}, schema)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


@given(json_values)
def test_canonical_json_round_trips_and_is_stable(value: object) -> None:
    encoded = canonical_json(value)
    assert canonical_json(json.loads(encoded)) == encoded
    assert digest_of(value) == digest_of(json.loads(encoded))


@given(st.dictionaries(st.text(), st.integers(), min_size=2))
def test_canonical_json_ignores_key_order(value: dict[str, int]) -> None:
    reversed_order = dict(reversed(list(value.items())))
    assert canonical_json(value) == canonical_json(reversed_order)


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})


def test_committed_checkpoint_schema_matches_the_models_and_real_checkpoints(
    world: World,
) -> None:
    from gates.schemas import committed_checkpoint_schema, generated_checkpoint_schema

    schema = committed_checkpoint_schema()
    assert schema == json.loads(json.dumps(generated_checkpoint_schema(), sort_keys=True))
    world.register("alpha", 0)
    checkpoint = world.checkpoint(1)
    jsonschema.validate(json.loads(checkpoint.envelope.payload)["predicate"], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**json.loads(checkpoint.envelope.payload)["predicate"], "extra": 1}, schema
        )


_ALPHA_PAYLOAD = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [],
        "predicateType": "https://stagegate.dev/ledger-entry/v1",
        "predicate": {
            "useCase": "alpha",
            "sequence": 0,
            "previous": None,
            "kind": "registration",
            "time": "2026-01-05T09:00:00+00:00",
            "actor": "gate",
            "tool": {"version": "1"},
            "stage": {"before": None, "after": "explore"},
        },
    }
)
_subject = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["stagegate:usecase/alpha", "stagegate:usecase/beta", ""]),
        "digest": st.dictionaries(
            st.sampled_from(["sha256", "sha512"]),
            st.sampled_from([usecase_subject("alpha").digest["sha256"], "00"]),
        ),
    }
)


@given(st.lists(_subject, min_size=1, max_size=3))
def test_a_statement_binds_to_a_use_case_exactly_when_its_subjects_equal_the_use_cases(
    subjects: list[dict[str, object]],
) -> None:
    payload = json.loads(_ALPHA_PAYLOAD)
    payload["subject"] = subjects
    statement = Statement.model_validate(payload)
    assert binds_to(statement, "alpha") == (statement.subject == [usecase_subject("alpha")])

"""The AWS ledger template: cfn-lint clean, and its security properties hold as deployed.

Each property is a check that returns its problems; the template must give none, and a
mutated copy that breaks the property must give some, so every check is shown to bite.
Policy properties are judged by evaluating requests (who, action, key, headers) against
the resolved role and bucket policies rather than by matching policy text.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint, lint_file
from cfnlint.decode import decode

from gates.ledger.checkpoint import CHECKPOINTS_PREFIX, checkpoint_key
from gates.ledger.entry import CHAINS_PREFIX, entry_key
from gates.store.factory import open_store
from gates.store.s3 import S3Store
from tests.infra.cfn_model import (
    ACCOUNT,
    BUCKET,
    BUCKET_ARN,
    Request,
    Unreadable,
    bucket_policy_statements,
    decide,
    object_arn,
    resolve,
    role_arn,
    role_statements,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "aws" / "ledger.yaml"

TRUST = {
    "GateTrustedPrincipals": f"arn:aws:iam::{ACCOUNT}:role/prefect-worker",
    "AuditorTrustedPrincipals": f"arn:aws:iam::{ACCOUNT}:role/audit",
    "PromoterTrustedPrincipals": f"arn:aws:iam::{ACCOUNT}:role/deploy-pipeline",
}
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/ledger-break-glass"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Administrator"
ALLOW_ALL = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]

PREFIX = "ledger"
ENTRY = object_arn(f"{PREFIX}/{entry_key('churn-model', 1)}")
CHECKPOINT = object_arn(f"{PREFIX}/{checkpoint_key(1)}")
LEDGER_KEYS = (ENTRY, CHECKPOINT)
CREATE_ONLY = {"s3:if-none-match": "*"}

GATE, AUDITOR, PROMOTER = role_arn("GateRole"), role_arn("AuditorRole"), role_arn("PromoterRole")
ROLE_IDS = {GATE: "GateRole", AUDITOR: "AuditorRole", PROMOTER: "PromoterRole"}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    template, problems = decode(str(TEMPLATE))
    assert problems == [], [str(p) for p in problems]
    return template


@pytest.fixture(scope="module")
def deployed(raw: dict[str, Any]) -> dict[str, Any]:
    return resolve(raw, TRUST)


# -- checks: each returns what is wrong with a resolved template ------------------------


def _bucket(t: dict[str, Any]) -> dict[str, Any]:
    [bucket] = [r for r in t["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    return bucket["Properties"]


def _decide(
    t: dict[str, Any],
    principal: str,
    action: str,
    resource: str,
    context: dict[str, str] | None = None,
    identity: list[dict[str, Any]] | None = None,
    *,
    with_bucket_policy: bool = True,
) -> str:
    """AWS's answer; ``identity`` defaults to the template's own policies for its roles."""
    if identity is None:
        identity = role_statements(t["Resources"][ROLE_IDS[principal]])
    request = Request(principal, action, resource, context or {})
    bucket = bucket_policy_statements(t["Resources"]) if with_bucket_policy else []
    return decide(request, identity, bucket)


def versioning_problems(t: dict[str, Any]) -> list[str]:
    status = _bucket(t).get("VersioningConfiguration", {}).get("Status")
    return [] if status == "Enabled" else [f"versioning is {status!r}, expected 'Enabled'"]


def object_lock_problems(t: dict[str, Any]) -> list[str]:
    bucket = _bucket(t)
    problems = []
    if bucket.get("ObjectLockEnabled") is not True:
        problems.append(f"ObjectLockEnabled is {bucket.get('ObjectLockEnabled')!r}")
    config = bucket.get("ObjectLockConfiguration", {})
    if config.get("ObjectLockEnabled") != "Enabled":
        problems.append("the Object Lock configuration is not Enabled")
    default = config.get("Rule", {}).get("DefaultRetention", {})
    if default.get("Mode") not in ("GOVERNANCE", "COMPLIANCE"):
        problems.append(f"default retention mode is {default.get('Mode')!r}")
    if int(default.get("Days", 0)) < 1 and int(default.get("Years", 0)) < 1:
        problems.append("no default retention period")
    return problems


def encryption_problems(t: dict[str, Any]) -> list[str]:
    rules = _bucket(t).get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if len(rules) != 1:
        return [f"expected one default encryption rule, found {len(rules)}"]
    [rule] = rules
    default = rule.get("ServerSideEncryptionByDefault", {})
    problems = []
    if default.get("SSEAlgorithm") != "aws:kms":
        problems.append(f"default encryption is {default.get('SSEAlgorithm')!r}, not aws:kms")
    if default.get("KMSMasterKeyID") != t["Outputs"]["KmsKeyArn"]["Value"]:
        problems.append(f"encrypted with {default.get('KMSMasterKeyID')!r}, not the ledger key")
    if rule.get("BucketKeyEnabled") is not True:
        problems.append("the S3 bucket key is not enabled")
    return problems


def encryption_header_problems(t: dict[str, Any]) -> list[str]:
    key = t["Outputs"]["KmsKeyArn"]["Value"]
    other_key = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/someone-elses"
    sse = "s3:x-amz-server-side-encryption"
    refused = {
        "SSE-S3": {sse: "AES256"},
        "another KMS key": {sse: "aws:kms", f"{sse}-aws-kms-key-id": other_key},
    }
    accepted = {
        "the bucket default": {},
        "the ledger key": {sse: "aws:kms", f"{sse}-aws-kms-key-id": key},
    }
    problems = [
        f"the gate role may write {ENTRY} with {what}"
        for what, headers in refused.items()
        if _decide(t, GATE, "s3:PutObject", ENTRY, {**CREATE_ONLY, **headers}) != "deny"
    ]
    problems += [
        f"the gate role cannot write {ENTRY} with {what}"
        for what, headers in accepted.items()
        if _decide(t, GATE, "s3:PutObject", ENTRY, {**CREATE_ONLY, **headers}) != "allow"
    ]
    return problems


def public_access_problems(t: dict[str, Any]) -> list[str]:
    bucket = _bucket(t)
    block = bucket.get("PublicAccessBlockConfiguration", {})
    names = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    problems = [f"{name} is not true" for name in names if block.get(name) is not True]
    ownership = [
        r.get("ObjectOwnership") for r in bucket.get("OwnershipControls", {}).get("Rules", [])
    ]
    if ownership != ["BucketOwnerEnforced"]:
        problems.append(f"object ownership is {ownership!r}, ACLs must be disabled")
    return problems


def kept_on_delete_problems(t: dict[str, Any]) -> list[str]:
    kept = ("LedgerBucket", "LedgerBucketPolicy", "LedgerKey")
    return [
        f"{name} is not kept when the stack is deleted or replaced"
        for name in kept
        if {t["Resources"][name].get(p) for p in ("DeletionPolicy", "UpdateReplacePolicy")}
        != {"Retain"}
    ]


def tls_problems(t: dict[str, Any]) -> list[str]:
    plain_http = {"aws:SecureTransport": "false"}
    return [
        f"{principal} reads {key} over plain HTTP"
        for principal in (GATE, ADMIN)
        for key in (ENTRY, BUCKET_ARN)
        if _decide(t, principal, "s3:GetObject", key, plain_http, ALLOW_ALL) != "deny"
    ]


def create_only_problems(t: dict[str, Any]) -> list[str]:
    # The gate role is given every permission here: the bucket policy on its own must
    # refuse a write that could replace an existing entry.
    unsafe = {
        "without If-None-Match": {},
        "with If-Match": {"s3:if-match": '"0123abcd"'},
        "with If-Match and If-None-Match": {"s3:if-match": '"0123abcd"', **CREATE_ONLY},
    }
    problems = [
        f"the bucket policy lets a PutObject {how} replace {key}"
        for key in LEDGER_KEYS
        for how, headers in unsafe.items()
        if _decide(t, GATE, "s3:PutObject", key, headers, ALLOW_ALL) != "deny"
    ]
    problems += [
        f"the gate role's own policy allows a PutObject without If-None-Match on {key}"
        for key in LEDGER_KEYS
        if _decide(t, GATE, "s3:PutObject", key, with_bucket_policy=False) == "allow"
    ]
    return problems


def writers_problems(t: dict[str, Any]) -> list[str]:
    problems = [
        f"the gate role cannot {action} {key} create-only"
        for key in LEDGER_KEYS
        for action in ("s3:PutObject", "s3:PutObjectRetention")
        if _decide(t, GATE, action, key, CREATE_ONLY) != "allow"
    ]
    # Everyone else is refused, even with every permission of their own.
    others = {AUDITOR: None, PROMOTER: None, ADMIN: ALLOW_ALL, BREAK_GLASS: ALLOW_ALL}
    problems += [
        f"{principal} may {action} {key}"
        for principal, identity in others.items()
        for key in LEDGER_KEYS
        for action in ("s3:PutObject", "s3:PutObjectRetention")
        if _decide(t, principal, action, key, CREATE_ONLY, identity) == "allow"
    ]
    stray = [object_arn(f"{PREFIX}/notes.txt"), object_arn("elsewhere/chains/x.dsse.json")]
    problems += [
        f"{principal} may write {key}, outside the ledger keys"
        for principal in (GATE, ADMIN)
        for key in stray
        if _decide(t, principal, "s3:PutObject", key, CREATE_ONLY, ALLOW_ALL) == "allow"
    ]
    return problems


def delete_problems(t: dict[str, Any]) -> list[str]:
    actions = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention")
    return [
        f"{principal} may {action} on {key}"
        for principal in (GATE, AUDITOR, PROMOTER, ADMIN)
        for action in actions
        for key in LEDGER_KEYS
        if _decide(t, principal, action, key, identity=ALLOW_ALL) != "deny"
    ]


_READ_ONLY_ACTION = re.compile(r"s3:(Get|List)[A-Za-z]+|kms:Decrypt")


def auditor_problems(t: dict[str, Any]) -> list[str]:
    problems = []
    for statement in role_statements(t["Resources"]["AuditorRole"]):
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement:
            problems.append(f"auditor statement {statement.get('Sid')} allows by NotAction")
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            if not _READ_ONLY_ACTION.fullmatch(action):
                problems.append(f"auditor may {action}")
    needed = [
        ("s3:ListBucketVersions", BUCKET_ARN),
        ("s3:GetObjectVersion", ENTRY),
        ("s3:GetObjectRetention", ENTRY),
        ("s3:GetObject", CHECKPOINT),
    ]
    problems += [
        f"auditor cannot {action} {resource}"
        for action, resource in needed
        if _decide(t, AUDITOR, action, resource) != "allow"
    ]
    return problems


def promoter_problems(t: dict[str, Any]) -> list[str]:
    problems = []
    identity = role_statements(t["Resources"]["PromoterRole"])
    for statement in identity:
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"promoter statement {statement.get('Sid')} allows by negation")
            continue
        writes = Request(PROMOTER, "s3:PutObject", ENTRY, CREATE_ONLY)
        if decide(writes, [statement]) == "allow":
            problems.append(f"promoter statement {statement.get('Sid')} allows s3:PutObject")
    problems += [
        f"the promoter's own policy does not deny {action} on {key}"
        for key in LEDGER_KEYS
        for action in ("s3:PutObject", "s3:DeleteObjectVersion")
        if decide(Request(PROMOTER, action, key, CREATE_ONLY), [*identity, *ALLOW_ALL]) != "deny"
    ]
    secret = t["Outputs"]["PrefectApiKeySecretArn"]["Value"]
    needed = [("secretsmanager:GetSecretValue", secret), ("s3:GetObject", ENTRY)]
    problems += [
        f"promoter cannot {action} {resource}"
        for action, resource in needed
        if _decide(t, PROMOTER, action, resource) != "allow"
    ]
    return problems


def trust_problems(t: dict[str, Any]) -> list[str]:
    expected = {
        "GateRole": TRUST["GateTrustedPrincipals"],
        "AuditorRole": TRUST["AuditorTrustedPrincipals"],
        "PromoterRole": TRUST["PromoterTrustedPrincipals"],
    }
    problems = []
    for role, principal in expected.items():
        statements = t["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        trusted = [s["Principal"] for s in statements if s["Effect"] == "Allow"]
        if trusted != [{"AWS": [principal]}]:
            problems.append(f"{role} trusts {trusted!r}, expected only {principal}")
    return problems


# -- the template as written -----------------------------------------------------------


def test_template_has_no_cfn_lint_errors_or_warnings() -> None:
    matches = lint_file(TEMPLATE)
    serious = [str(m) for m in matches if m.rule.severity in ("error", "warning")]
    assert serious == []


def test_bucket_is_versioned(deployed: dict[str, Any]) -> None:
    assert versioning_problems(deployed) == []


def test_bucket_has_object_lock_with_default_retention(deployed: dict[str, Any]) -> None:
    assert object_lock_problems(deployed) == []


def test_retention_mode_and_days_follow_the_parameters(raw: dict[str, Any]) -> None:
    chosen = resolve(raw, {**TRUST, "RetentionMode": "COMPLIANCE", "RetentionDays": 30})
    default = _bucket(chosen)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert default == {"Mode": "COMPLIANCE", "Days": 30}


def test_bucket_is_encrypted_with_the_ledger_kms_key(deployed: dict[str, Any]) -> None:
    assert "LedgerKey" in deployed["Resources"]
    assert encryption_problems(deployed) == []


def test_writes_naming_another_encryption_are_denied(deployed: dict[str, Any]) -> None:
    assert encryption_header_problems(deployed) == []


def test_an_existing_kms_key_replaces_the_created_one(raw: dict[str, Any]) -> None:
    key = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    chosen = resolve(raw, {**TRUST, "KmsKeyArn": key})
    assert "LedgerKey" not in chosen["Resources"]
    assert encryption_problems(chosen) == []
    assert (
        _bucket(chosen)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["KMSMasterKeyID"]
        == key
    )


def test_bucket_blocks_public_access_and_acls(deployed: dict[str, Any]) -> None:
    assert public_access_problems(deployed) == []


def test_bucket_its_policy_and_key_outlive_the_stack(deployed: dict[str, Any]) -> None:
    assert kept_on_delete_problems(deployed) == []


def test_bucket_refuses_plain_http(deployed: dict[str, Any]) -> None:
    assert tls_problems(deployed) == []


def test_ledger_writes_without_if_none_match_are_denied(deployed: dict[str, Any]) -> None:
    assert create_only_problems(deployed) == []


def test_create_only_is_the_documented_null_idiom_on_both_ledger_prefixes(
    deployed: dict[str, Any],
) -> None:
    # AWS's documented form: deny s3:PutObject when the s3:if-none-match key is absent.
    [statement] = [
        s
        for s in bucket_policy_statements(deployed["Resources"])
        if s["Effect"] == "Deny" and s.get("Condition") == {"Null": {"s3:if-none-match": "true"}}
    ]
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:PutObject"
    assert sorted(statement["Resource"]) == [
        object_arn(f"{PREFIX}/{CHAINS_PREFIX}*"),
        object_arn(f"{PREFIX}/{CHECKPOINTS_PREFIX}*"),
    ]


def test_only_the_gate_role_writes_and_only_ledger_keys(deployed: dict[str, Any]) -> None:
    assert writers_problems(deployed) == []


def test_nobody_deletes_versions_or_bypasses_retention(deployed: dict[str, Any]) -> None:
    assert delete_problems(deployed) == []


def test_break_glass_principal_alone_may_delete(raw: dict[str, Any]) -> None:
    chosen = resolve(raw, {**TRUST, "BreakGlassPrincipalArn": BREAK_GLASS})
    assert delete_problems(chosen) == []
    assert writers_problems(chosen) == []
    for action in ("s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"):
        assert _decide(chosen, BREAK_GLASS, action, ENTRY, identity=ALLOW_ALL) == "allow"


def test_auditor_role_only_reads(deployed: dict[str, Any]) -> None:
    assert auditor_problems(deployed) == []


def test_promoter_role_reads_the_secret_but_never_writes_the_ledger(
    deployed: dict[str, Any],
) -> None:
    assert promoter_problems(deployed) == []


def test_an_existing_prefect_secret_replaces_the_created_one(raw: dict[str, Any]) -> None:
    secret = f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:secret:prefect/api-key-AbCdEf"
    chosen = resolve(raw, {**TRUST, "PrefectApiKeySecretArn": secret})
    assert "PrefectApiKeySecret" not in chosen["Resources"]
    assert chosen["Outputs"]["PrefectApiKeySecretArn"]["Value"] == secret
    assert promoter_problems(chosen) == []


def test_roles_trust_only_the_given_principals(deployed: dict[str, Any]) -> None:
    assert trust_problems(deployed) == []


def test_store_uri_output_opens_the_ledger_prefix(deployed: dict[str, Any]) -> None:
    uri = deployed["Outputs"]["StoreUri"]["Value"]
    assert uri == f"s3://{BUCKET}/{PREFIX}"
    store = open_store(uri)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == (BUCKET, PREFIX)


# -- every check can fail --------------------------------------------------------------


def _policy(t: dict[str, Any]) -> list[Any]:
    return t["Resources"]["LedgerBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]


def _policy_statement(t: dict[str, Any], sid: str) -> list[dict[str, Any]]:
    """The bucket policy statements named ``sid``, in both branches of an Fn::If."""
    found = []
    for item in _policy(t):
        candidates = item["Fn::If"][1:] if "Fn::If" in item else [item]
        found += [c for c in candidates if c.get("Sid") == sid]
    assert found, f"no statement {sid}"
    return found


def _drop_statement(sid: str) -> Callable[[dict[str, Any]], None]:
    def drop(t: dict[str, Any]) -> None:
        statements = _policy(t)
        before = len(statements)
        statements[:] = [s for s in statements if s.get("Sid") != sid]
        assert len(statements) == before - 1

    return drop


def _remove_action(sid: str, action: str) -> Callable[[dict[str, Any]], None]:
    def remove(t: dict[str, Any]) -> None:
        for statement in _policy_statement(t, sid):
            statement["Action"].remove(action)

    return remove


def _role_statement(t: dict[str, Any], role: str, sid: str) -> dict[str, Any]:
    [policy] = t["Resources"][role]["Properties"]["Policies"]
    [statement] = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == sid]
    return statement


def _props(t: dict[str, Any]) -> dict[str, Any]:
    return t["Resources"]["LedgerBucket"]["Properties"]


def _sse(t: dict[str, Any]) -> dict[str, Any]:
    return _props(t)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]


def _grant_promoter_writes(t: dict[str, Any]) -> None:
    [policy] = t["Resources"]["PromoterRole"]["Properties"]["Policies"]
    policy["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "s3:Put*", "Resource": {"Fn::Sub": "${LedgerBucket.Arn}/*"}}
    )


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], Callable[..., list[str]]]] = {
    "versioning-suspended": (
        lambda t: _props(t)["VersioningConfiguration"].update(Status="Suspended"),
        versioning_problems,
    ),
    "versioning-removed": (lambda t: _props(t).pop("VersioningConfiguration"), versioning_problems),
    "object-lock-off": (lambda t: _props(t).update(ObjectLockEnabled=False), object_lock_problems),
    "no-default-retention": (
        lambda t: _props(t)["ObjectLockConfiguration"].pop("Rule"),
        object_lock_problems,
    ),
    "sse-s3-not-kms": (
        lambda t: _sse(t).update(ServerSideEncryptionByDefault={"SSEAlgorithm": "AES256"}),
        encryption_problems,
    ),
    "bucket-key-off": (lambda t: _sse(t).update(BucketKeyEnabled=False), encryption_problems),
    "encryption-deny-removed": (_drop_statement("DenyOtherEncryption"), encryption_header_problems),
    "kms-key-deny-removed": (_drop_statement("DenyOtherKmsKey"), encryption_header_problems),
    # A negated IfExists operator matches a PUT without the header, too: this would
    # refuse every ledger write, the gate role's included.
    "encryption-deny-matches-missing-header": (
        lambda t: _policy_statement(t, "DenyOtherEncryption")[0].update(
            Condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}
        ),
        encryption_header_problems,
    ),
    "public-policy-allowed": (
        lambda t: _props(t)["PublicAccessBlockConfiguration"].update(BlockPublicPolicy=False),
        public_access_problems,
    ),
    "acls-enabled": (
        lambda t: _props(t)["OwnershipControls"]["Rules"][0].update(ObjectOwnership="ObjectWriter"),
        public_access_problems,
    ),
    "policy-deleted-with-stack": (
        lambda t: t["Resources"]["LedgerBucketPolicy"].pop("DeletionPolicy"),
        kept_on_delete_problems,
    ),
    "tls-deny-removed": (_drop_statement("DenyInsecureTransport"), tls_problems),
    "create-only-deny-removed": (
        _drop_statement("DenyLedgerWritesWithoutIfNoneMatch"),
        create_only_problems,
    ),
    "create-only-null-inverted": (
        lambda t: _policy_statement(t, "DenyLedgerWritesWithoutIfNoneMatch")[0]["Condition"][
            "Null"
        ].update({"s3:if-none-match": "false"}),
        create_only_problems,
    ),
    "if-match-deny-removed": (_drop_statement("DenyLedgerWritesWithIfMatch"), create_only_problems),
    "gate-role-policy-not-conditional": (
        lambda t: _role_statement(t, "GateRole", "AppendLedgerCreateOnly").pop("Condition"),
        create_only_problems,
    ),
    "promoter-named-as-writer": (
        lambda t: _policy_statement(t, "DenyLedgerWritesByOtherPrincipals")[0]["Condition"][
            "ArnNotEquals"
        ].update({"aws:PrincipalArn": {"Fn::GetAtt": ["PromoterRole", "Arn"]}}),
        writers_problems,
    ),
    "writes-outside-ledger-allowed": (
        _drop_statement("DenyWritesOutsideLedgerKeys"),
        writers_problems,
    ),
    "version-deletes-allowed": (
        _remove_action("DenyDeletesAndRetentionBypass", "s3:DeleteObjectVersion"),
        delete_problems,
    ),
    "governance-bypass-allowed": (
        _remove_action("DenyDeletesAndRetentionBypass", "s3:BypassGovernanceRetention"),
        delete_problems,
    ),
    "auditor-may-write": (
        lambda t: _role_statement(t, "AuditorRole", "ReadEveryVersion")["Action"].append(
            "s3:PutObject"
        ),
        auditor_problems,
    ),
    "auditor-gets-s3-star": (
        lambda t: _role_statement(t, "AuditorRole", "ReadEveryVersion").update(Action="s3:*"),
        auditor_problems,
    ),
    "promoter-may-write": (_grant_promoter_writes, promoter_problems),
    "promoter-deny-removed": (
        lambda t: t["Resources"]["PromoterRole"]["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"
        ].remove(_role_statement(t, "PromoterRole", "NeverWriteTheLedger")),
        promoter_problems,
    ),
    "gate-role-trusts-anyone": (
        lambda t: t["Resources"]["GateRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][
            0
        ].update(Principal={"AWS": "*"}),
        trust_problems,
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_check_reports_a_template_that_breaks_it(raw: dict[str, Any], name: str) -> None:
    mutate, check = MUTATIONS[name]
    assert check(resolve(raw, TRUST)) == []
    broken = copy.deepcopy(raw)
    mutate(broken)
    assert check(resolve(broken, TRUST)) != []


def test_cfn_lint_reports_a_broken_reference() -> None:
    text = TEMPLATE.read_text()
    needle = "!GetAtt GateRole.Arn}"
    assert text.count(needle) == 1
    matches = lint(text.replace(needle, "!GetAtt GateRol.Arn}"))
    errors = [m for m in matches if m.rule.severity == "error"]
    assert any("GateRol" in m.message for m in errors), [str(m) for m in matches]


def test_resolver_refuses_a_broken_reference(raw: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw)
    _policy_statement(broken, "DenyLedgerWritesByOtherPrincipals")[0]["Condition"]["ArnNotEquals"][
        "aws:PrincipalArn"
    ] = {"Fn::GetAtt": ["GateRol", "Arn"]}
    with pytest.raises(Unreadable, match="GateRol"):
        resolve(broken, TRUST)


def test_policy_reader_refuses_what_it_cannot_evaluate() -> None:
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"s3:if-none-match": "*"}},
    }
    request = Request(ADMIN, "s3:PutObject", ENTRY)
    with pytest.raises(Unreadable, match="ForAnyValue"):
        decide(request, ALLOW_ALL, [statement])

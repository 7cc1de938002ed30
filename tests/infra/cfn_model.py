"""Resolve a CloudFormation template to plain data and evaluate its IAM policies.

Intrinsic functions are resolved against chosen parameter values, with stand-in names and
ARNs for the template's own resources. Policies are then evaluated the way AWS does within
one account: an explicit Deny in any policy wins; otherwise an Allow in the caller's
identity policies or in the bucket policy grants; otherwise the request is implicitly
denied. Anything this reader does not understand (an intrinsic function, a condition
operator, a principal form) raises ``Unreadable``, so a template it cannot read fails the
tests instead of passing them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

ACCOUNT = "111122223333"
REGION = "eu-central-1"
PARTITION = "aws"
STACK = "stagegate-ledger"
BUCKET = "stagegate-ledger-test"

Decision = Literal["allow", "deny", "implicit-deny"]


class Unreadable(Exception):
    """The template or a policy uses something this reader does not evaluate."""


class _NoValue:
    pass


_NO_VALUE = _NoValue()

_PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": PARTITION,
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}


def _stand_in(logical_id: str, resource_type: str) -> dict[str, str]:
    """What ``Ref`` and ``Fn::GetAtt ... Arn`` give for a resource of this template."""
    if resource_type == "AWS::S3::Bucket":
        arn = f"arn:{PARTITION}:s3:::{BUCKET}"
        return {"Ref": BUCKET, "Arn": arn}
    if resource_type == "AWS::IAM::Role":
        arn = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{STACK}-{logical_id}"
        return {"Ref": f"{STACK}-{logical_id}", "Arn": arn}
    if resource_type == "AWS::KMS::Key":
        arn = f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{logical_id}"
        return {"Ref": logical_id, "Arn": arn}
    if resource_type == "AWS::SecretsManager::Secret":
        arn = f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{logical_id}"
        return {"Ref": arn, "Id": arn}
    return {"Ref": logical_id}


class _Resolver:
    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
        self.template = template
        declared = template.get("Parameters", {})
        unknown = set(parameters) - set(declared)
        if unknown:
            raise Unreadable(f"no such parameters: {sorted(unknown)}")
        self.parameters: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in parameters:
                value = parameters[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise Unreadable(f"parameter {name} has no default; give it a value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [part.strip() for part in value.split(",")]
            self.parameters[name] = value
        self.resources = {
            logical_id: _stand_in(logical_id, spec["Type"])
            for logical_id, spec in template.get("Resources", {}).items()
        }
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            try:
                definition = self.template["Conditions"][name]
            except KeyError:
                raise Unreadable(f"no such condition {name!r}") from None
            self._conditions[name] = self._truth(definition)
        return self._conditions[name]

    def _truth(self, node: Any) -> bool:
        if not isinstance(node, Mapping) or len(node) != 1:
            raise Unreadable(f"not a condition function: {node!r}")
        [(function, args)] = node.items()
        if function == "Fn::Equals":
            left, right = (self.value(arg) for arg in args)
            return bool(left == right)
        if function == "Fn::Not":
            return not self._truth(args[0])
        if function == "Fn::And":
            return all(self._truth(arg) for arg in args)
        if function == "Fn::Or":
            return any(self._truth(arg) for arg in args)
        if function == "Condition":
            return self.condition(args)
        raise Unreadable(f"condition function {function} is not evaluated here")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name]["Ref"]
        raise Unreadable(f"Ref to unknown name {name!r}")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.resources[logical_id][attribute]
        except KeyError:
            raise Unreadable(f"Fn::GetAtt {logical_id}.{attribute} is not known") from None

    def _sub(self, args: Any) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])
        values = {name: self.value(node) for name, node in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(*name.split(".", 1))
            value = self._ref(name)
            if not isinstance(value, str):
                raise Unreadable(f"Fn::Sub of {name!r}, which is not a string")
            return value

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            resolved = [self.value(item) for item in node]
            return [item for item in resolved if item is not _NO_VALUE]
        if not isinstance(node, Mapping):
            return node
        if len(node) == 1:
            [(key, args)] = node.items()
            if key == "Ref":
                return self._ref(args)
            if key == "Fn::GetAtt":
                logical_id, attribute = args.split(".", 1) if isinstance(args, str) else args
                return self._get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(args)
            if key == "Fn::If":
                name, if_true, if_false = args
                return self.value(if_true if self.condition(name) else if_false)
            if key.startswith("Fn::"):
                raise Unreadable(f"{key} is not evaluated here")
        resolved = {key: self.value(item) for key, item in node.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def template_value(self) -> dict[str, Any]:
        resources = {
            logical_id: self.value(spec)
            for logical_id, spec in self.template.get("Resources", {}).items()
            if "Condition" not in spec or self.condition(spec["Condition"])
        }
        outputs = {
            name: self.value(spec)
            for name, spec in self.template.get("Outputs", {}).items()
            if "Condition" not in spec or self.condition(spec["Condition"])
        }
        return {"Parameters": self.parameters, "Resources": resources, "Outputs": outputs}


def resolve(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The template as AWS would see it deployed with ``parameters``: no intrinsics left."""
    return _Resolver(template, parameters).template_value()


def role_arn(logical_id: str) -> str:
    """The stand-in ARN ``resolve`` gives the role ``logical_id``."""
    return _stand_in(logical_id, "AWS::IAM::Role")["Arn"]


def object_arn(key: str) -> str:
    return f"arn:{PARTITION}:s3:::{BUCKET}/{key}"


BUCKET_ARN = f"arn:{PARTITION}:s3:::{BUCKET}"


# -- evaluation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One API call: who makes it, the IAM action, the resource, and its condition keys."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)

    def keys(self) -> dict[str, str]:
        keys = {"aws:PrincipalArn": self.principal, "aws:SecureTransport": "true"}
        keys.update(self.context)
        return {name.lower(): value for name, value in keys.items()}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches_any(patterns: Any, text: str, *, case_sensitive: bool) -> bool:
    for pattern in _listed(patterns):
        if not isinstance(pattern, str):
            raise Unreadable(f"unresolved pattern {pattern!r}")
        if case_sensitive and fnmatchcase(text, pattern):
            return True
        if not case_sensitive and fnmatchcase(text.lower(), pattern.lower()):
            return True
    return False


def _principal_matches(principal: Any, arn: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping) or set(principal) - {"AWS", "Service"}:
        raise Unreadable(f"principal form {principal!r} is not evaluated here")
    for candidate in _listed(principal.get("AWS", [])):
        account_root = f"arn:{PARTITION}:iam::{arn.split(':')[4]}:root"
        if candidate in ("*", arn, account_root):
            return True
    return False


_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
_POSITIVE = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}


def _operator_holds(operator: str, key: str, wanted: Any, keys: Mapping[str, str]) -> bool:
    base, if_exists = (operator[:-8], True) if operator.endswith("IfExists") else (operator, False)
    if base not in _NEGATED | _POSITIVE | {"Bool", "Null"} or (if_exists and base == "Null"):
        raise Unreadable(f"condition operator {operator} is not evaluated here")
    present = key.lower() in keys
    actual = keys.get(key.lower())
    values = [str(v) for v in _listed(wanted)]
    if base == "Null":
        if values not in (["true"], ["false"]):
            raise Unreadable(f"Null wants 'true' or 'false', not {wanted!r}")
        return (not present) if values == ["true"] else present
    if not present:
        # IfExists makes a missing key satisfy the condition; negated operators are
        # satisfied by a missing key anyway, positive ones never are.
        return if_exists or base in _NEGATED
    assert actual is not None
    if base == "Bool":
        return actual.lower() in (v.lower() for v in values)
    if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        hit = (
            actual in values
            if base.startswith("String")
            else _matches_any(values, actual, case_sensitive=True)
        )
    else:
        hit = _matches_any(values, actual, case_sensitive=True)
    return hit if base in _POSITIVE else not hit


def _conditions_hold(conditions: Mapping[str, Any], request: Request) -> bool:
    keys = request.keys()
    for operator, tests in conditions.items():
        if not isinstance(tests, Mapping):
            raise Unreadable(f"condition {operator} is not a mapping")
        for key, wanted in tests.items():
            if not _operator_holds(operator, key, wanted, keys):
                return False
    return True


def statement_applies(
    statement: Mapping[str, Any], request: Request, *, resource_policy: bool
) -> bool:
    """Whether ``statement`` speaks about ``request`` (its effect aside)."""
    known = {
        "Sid",
        "Effect",
        "Principal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
    if set(statement) - known:
        raise Unreadable(
            f"statement fields {sorted(set(statement) - known)} are not evaluated here"
        )
    if resource_policy and not _principal_matches(statement.get("Principal"), request.principal):
        return False
    if "Action" in statement:
        if not _matches_any(statement["Action"], request.action, case_sensitive=False):
            return False
    elif _matches_any(statement["NotAction"], request.action, case_sensitive=False):
        return False
    if "Resource" in statement:
        if not _matches_any(statement["Resource"], request.resource, case_sensitive=True):
            return False
    elif _matches_any(statement["NotResource"], request.resource, case_sensitive=True):
        return False
    return _conditions_hold(statement.get("Condition", {}), request)


def decide(
    request: Request,
    identity: Sequence[Mapping[str, Any]],
    resource: Sequence[Mapping[str, Any]] = (),
) -> Decision:
    """AWS's answer for a same-account ``request`` given both kinds of policy statements."""
    matched = [(s, False) for s in identity if statement_applies(s, request, resource_policy=False)]
    matched += [(s, True) for s in resource if statement_applies(s, request, resource_policy=True)]
    effects = {statement["Effect"] for statement, _ in matched}
    if effects - {"Allow", "Deny"}:
        raise Unreadable(f"effects {sorted(effects)}")
    if "Deny" in effects:
        return "deny"
    return "allow" if "Allow" in effects else "implicit-deny"


def role_statements(role: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every identity statement of a resolved ``AWS::IAM::Role``; managed policies refused."""
    properties = role["Properties"]
    if properties.get("ManagedPolicyArns"):
        raise Unreadable("managed policies are not in the template and cannot be checked")
    return [
        statement
        for policy in properties.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def bucket_policy_statements(resources: Mapping[str, Any]) -> list[dict[str, Any]]:
    policies = [r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    return [s for policy in policies for s in policy["Properties"]["PolicyDocument"]["Statement"]]

"""Which failures a retry can cure, and how an exception becomes a check's ``error`` result."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gates.engine.failures import check_error, is_transient, problem_text
from gates.errors import EvidenceError
from gates.results import Status
from tests.support.ports import refusing_port


def refused() -> ConnectionRefusedError:
    with refusing_port() as port:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except ConnectionRefusedError as e:
            return e
    raise AssertionError("a port bound without listening should refuse")


def wrapped(cause: BaseException, *, suppress: bool) -> EvidenceError:
    try:
        try:
            raise cause
        except BaseException:
            if suppress:
                raise EvidenceError("source unreachable") from None
            raise EvidenceError("source unreachable")  # noqa: B904 - implicit context on purpose
    except EvidenceError as e:
        return e


def test_connection_failures_and_timeouts_are_transient_bad_evidence_is_not(
    tmp_path: Path,
) -> None:
    import boto3
    import botocore.config
    import requests

    with refusing_port() as port:
        down = f"http://127.0.0.1:{port}"
        with pytest.raises(requests.exceptions.ConnectionError) as by_requests:
            requests.get(down, timeout=2)
        s3 = boto3.client(
            "s3", endpoint_url=down, region_name="us-east-1", aws_access_key_id="x",
            aws_secret_access_key="x", config=botocore.config.Config(retries={"max_attempts": 1}),
        )  # fmt: skip
        with pytest.raises(Exception) as by_boto:
            s3.list_objects_v2(Bucket="ledger")
    try:
        (tmp_path / "missing").read_bytes()
    except FileNotFoundError as e:
        missing = e

    assert is_transient(refused())
    assert is_transient(TimeoutError("timed out"))
    assert is_transient(by_requests.value)
    assert is_transient(by_boto.value), type(by_boto.value).__mro__
    assert is_transient(wrapped(refused(), suppress=False))
    with pytest.raises(EvidenceError) as chained:
        try:
            raise refused()
        except ConnectionRefusedError as e:
            raise EvidenceError("MLflow unreachable") from e
    assert is_transient(chained.value)

    assert not is_transient(missing)
    assert not is_transient(ValueError("bad row"))
    assert not is_transient(EvidenceError("suite not found"))
    assert not is_transient(wrapped(refused(), suppress=True))


def test_a_check_error_names_our_message_or_the_crash_and_never_passes() -> None:
    ours = check_error("blockers", EvidenceError("issues.csv: not valid CSV"))
    crash = check_error("blockers", ZeroDivisionError("division by zero"))

    assert (ours.check, ours.kind, ours.status) == ("blockers", "blockers", Status.ERROR)
    assert ours.reason == "issues.csv: not valid CSV"
    assert crash.status is Status.ERROR
    assert crash.reason == "check crashed: ZeroDivisionError: division by zero"


def test_only_a_retried_transient_failure_says_how_often_it_was_tried() -> None:
    down = wrapped(refused(), suppress=False)

    assert check_error("k", down, attempts=3).reason == (
        "source unreachable (still failing after 3 attempts)"
    )
    assert check_error("k", down).reason == "source unreachable"
    assert check_error("k", ValueError("bad row"), attempts=3).reason == (
        "check crashed: ValueError: bad row"
    )


def test_problems_are_told_by_our_message_or_by_their_class() -> None:
    assert problem_text(EvidenceError("MLflow unreachable")) == "MLflow unreachable"
    assert problem_text(KeyError("version")) == "KeyError: 'version'"

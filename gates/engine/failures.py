"""What an exception from a check or a follow-up means: a source that did not answer, or not.

A transient failure (a connection refused or reset, a timeout) may be tried again; any
other failure (bad evidence, a crash) would only fail the same way. Whoever retries (the
Prefect flow's tasks) asks ``is_transient``; whatever is left becomes an ``error``
result worded by ``check_error``, the same in-process and in the flow, never a pass.
"""

from __future__ import annotations

from gates.errors import StagegateError
from gates.results import CheckResult, Status

#: Exception classes, matched anywhere in an exception's MRO by qualified name, that mean
#: "the source did not answer" rather than "the evidence is bad". Names, not imports, so
#: classifying an error never loads boto3, requests or urllib3.
TRANSIENT_ERRORS = frozenset(
    {
        "builtins.ConnectionError",  # refused, reset, aborted, broken pipe
        "builtins.TimeoutError",  # socket.timeout is an alias since 3.10
        "http.client.IncompleteRead",
        "requests.exceptions.ConnectionError",
        "requests.exceptions.Timeout",
        "urllib3.exceptions.ProtocolError",
        "urllib3.exceptions.TimeoutError",
        "botocore.exceptions.ConnectionError",  # endpoint unreachable, connect timeout
        "botocore.exceptions.HTTPClientError",  # connection closed, read timeout
    }
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception that caused it, is a connection failure or timeout.

    The cause chain matters because the engine wraps I/O failures in ``EvidenceError``
    (``raise ... from e``); an explicitly suppressed context (``from None``) is not
    followed, since its author declared it irrelevant.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = {f"{k.__module__}.{k.__qualname__}" for k in type(current).__mro__}
        if names & TRANSIENT_ERRORS:
            return True
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


def problem_text(exc: BaseException) -> str:
    """How a failure is told to people: our own errors by their message, others by class."""
    if isinstance(exc, StagegateError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def check_error(kind: str, exc: BaseException, *, attempts: int = 1) -> CheckResult:
    """The ``error`` result of a check of ``kind`` that raised ``exc`` (after ``attempts``)."""
    if isinstance(exc, StagegateError):
        reason = exc.message
    else:
        reason = f"check crashed: {type(exc).__name__}: {exc}"
    if attempts > 1 and is_transient(exc):
        reason += f" (still failing after {attempts} attempts)"
    return CheckResult(kind, kind, Status.ERROR, reason)

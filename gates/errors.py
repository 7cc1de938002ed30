"""One error family, each error telling the user what was expected and what to do next."""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with lone surrogates (smuggled in by JSON escapes) written as ``\\udXXX``.

    Messages quote untrusted input; a lone surrogate would make printing them fail.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class StagegateError(Exception):
    """Base of every error stagegate raises on purpose.

    ``diagnostics()`` is what the CLI prints: one clear message, no traceback.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        message = printable(message)
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(StagegateError):
    """A settings file, use-case spec or policy is malformed; names file and field."""

    def __init__(self, source: str, problems: list[str], *, hint: str | None = None) -> None:
        self.source = printable(source)
        self.problems = [printable(p) for p in problems]
        problems = self.problems
        body = "; ".join(problems) if len(problems) == 1 else "\n  - " + "\n  - ".join(problems)
        super().__init__(f"{source}: {body}", hint=hint)


class EvidenceError(StagegateError):
    """An evidence source (dataset, MLflow, file) could not be read or is malformed."""


class StoreError(StagegateError):
    """The artifact store could not be reached or answered unexpectedly."""


class ListingBrokeOff(StoreError):
    """A listing read a page at a time could not be used as it came (it broke off
    part-way, or did not keep a folder's objects together): list the whole prefix again."""


class EntryExistsError(StoreError):
    """A create-only write lost the race: the key already exists."""


class WriteOutcomeUnknown(StoreError):
    """A write reached the store, but whether it landed could not be learned.

    The answer was lost (a dropped connection, a timeout, a server error) and reading
    the key again did not tell either: the object may exist. ``key`` names it, so the
    caller can say where to look once the store answers again.
    """

    def __init__(self, message: str, *, key: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key


class SigningError(StagegateError):
    """A key could not be loaded or a signature could not be made."""


class LedgerError(StagegateError):
    """The ledger is unreadable or fails verification while replaying it."""


class PromotionRefused(StagegateError):
    """The requested move is not legal from the current stage (e.g. skipping one)."""


class ObjectMissingError(StoreError):
    """A key that was expected in the store is not there."""

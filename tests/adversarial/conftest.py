"""Adversarial suite: the counts of every family, printed at the end of the pytest run."""

from __future__ import annotations

import pytest

from tests.adversarial.tally import TALLIES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLIES:
        return
    terminalreporter.section("adversarial mutations (seeded)")
    for tally in TALLIES.values():
        terminalreporter.write_line(tally.line())

"""The terminal prints text as it is written (``gates.terminal``)."""

from __future__ import annotations

import pytest

from gates.terminal import console, err_console


def test_a_name_holding_an_emoji_code_prints_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console().print("probe:fire:rate failed; see :warning:", soft_wrap=True)
    err_console().print("error: no use case :rocket:", soft_wrap=True)
    captured = capsys.readouterr()
    assert captured.out == "probe:fire:rate failed; see :warning:\n"
    assert captured.err == "error: no use case :rocket:\n"

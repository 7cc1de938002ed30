"""One parser for the times people type, with one rule: a time without a zone is UTC."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gates.clock import parse_time
from gates.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
#: Where a time may be parsed: the one parser, and S3's own wire timestamps.
PARSERS = {"gates/clock.py", "gates/store/s3.py"}


@pytest.mark.usefixtures("host_in_new_york")
def test_a_time_without_a_zone_is_utc_and_others_are_converted_to_utc() -> None:
    nine_utc = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)

    assert parse_time("2026-03-09T09:00:00") == nine_utc
    assert parse_time(" 2026-03-09T09:00:00Z ") == nine_utc
    assert parse_time("2026-03-09T11:00:00+02:00") == nine_utc
    assert parse_time("2026-03-09T11:00:00+02:00").tzinfo is UTC


def test_a_time_that_is_not_iso_8601_names_the_field_it_came_from() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_time("next tuesday", field_name="now")
    assert refused.value.message == (
        "now: 'next tuesday' is not an ISO 8601 time (e.g. 2026-11-25T09:00:00Z)"
    )


def _time_parsing(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ("fromisoformat", "strptime"):
            found.append(f"{node.attr} at line {node.lineno}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] in ("dateutil", "pendulum", "ciso8601") for n in names):
                found.append(f"a date library at line {node.lineno}")
    return found


def test_no_entry_point_parses_a_time_but_the_one_parser() -> None:
    sources = sorted([*ROOT.glob("gates/**/*.py"), *ROOT.glob("flows/**/*.py")])
    assert len(sources) > 100
    elsewhere = {
        str(path.relative_to(ROOT)): found
        for path in sources
        if str(path.relative_to(ROOT)) not in PARSERS and (found := _time_parsing(path))
    }
    assert elsewhere == {}, "parse times with gates.clock.parse_time"
    assert _time_parsing(ROOT / "gates" / "clock.py")  # the scan sees the one parser

"""Search, filter and sort the index's use cases: one query for the live UI and the report.

The live UI reads the query from the URL (``/?q=bot&health=warn&sort=days&order=desc``)
and answers it on the server, so the pages need no script. The static report cannot
answer a query, so it carries a page per filter value and per sort order
(``views/health-warn.html``, ``views/sort-days-desc.html``) and links to those: one
filter or one sort at a time there, any combination (and free-text search) in the UI.
Every value comes from the URL or from stored specs, so none is trusted: unknown values
match nothing, and text is only ever compared, never interpreted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gates.report.index_page import HEALTH_KEYS, HEALTH_WORDS
from gates.report.models import UseCaseRow
from gates.stages import ROADMAP, Stage

#: The health filter's values in few words (under the heading "Health").
HEALTH_CHIPS = {
    "fail": "failing",
    "error": "could not run",
    "warn": "warning",
    "ok": "ok",
    "none": "not re-checked",
}
#: Longest search text kept from a URL; the rest is ignored.
MAX_TEXT = 200
#: Stage order for sorting and for the stage filter: the roadmap, then the end states.
STAGE_ORDER = (*(s.value for s in ROADMAP), Stage.STOPPED.value, "unregistered")
FACETS = ("stage", "department", "health")


def _stage_rank(row: UseCaseRow) -> tuple[int, str]:
    rank = STAGE_ORDER.index(row.stage) if row.stage in STAGE_ORDER else len(STAGE_ORDER)
    return rank, row.id


def _health_rank(row: UseCaseRow) -> tuple[int, int, str]:
    # Worst first; a chain failing verification before any verdict it carries.
    rank = HEALTH_KEYS.index(row.health_key) if row.health_key in HEALTH_KEYS else len(HEALTH_KEYS)
    unverified = 0 if any(b.label == "fails verification" for b in row.health) else 1
    return unverified, rank, row.id


def _days(row: UseCaseRow) -> tuple[bool, float, str]:
    return row.days_in_stage is None, row.days_in_stage or 0.0, row.id


#: Sort keys: the column heading and how rows compare (ascending).
SORTS: dict[str, tuple[str, Callable[[UseCaseRow], Any]]] = {
    "usecase": ("Use case", lambda r: r.id),
    "department": ("Department", lambda r: (r.department.casefold(), r.id)),
    "stage": ("Stage", _stage_rank),
    "days": ("Days in stage", _days),
    "health": ("Health", _health_rank),
    "gate": ("Last gate", lambda r: (r.last_verdict or "~", r.id)),
    "risks": ("Risks", lambda r: (r.risk_error is None, -len(r.risks), r.id)),
    "entries": ("Entries", lambda r: (r.entries, r.id)),
}
DEFAULT_SORT = "usecase"


@dataclass(frozen=True)
class IndexQuery:
    """What the index shows: a search text, up to three filters, one sort order."""

    text: str = ""
    stage: str = ""
    department: str = ""
    health: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> IndexQuery:
        """The query a URL asks for; a sort key it does not know falls back to the default."""
        sort = params.get("sort", DEFAULT_SORT)
        return cls(
            text=" ".join(params.get("q", "").split())[:MAX_TEXT],
            stage=params.get("stage", "")[:MAX_TEXT],
            department=params.get("department", "")[:MAX_TEXT],
            health=params.get("health", "")[:MAX_TEXT],
            sort=sort if sort in SORTS else DEFAULT_SORT,
            descending=params.get("order") == "desc",
        )

    @property
    def filtered(self) -> bool:
        return bool(self.text or self.stage or self.department or self.health)

    @property
    def is_default(self) -> bool:
        return self == IndexQuery()

    def params(self) -> list[tuple[str, str]]:
        """The URL parameters that say this query (none for the default one)."""
        pairs = [
            ("q", self.text),
            ("stage", self.stage),
            ("department", self.department),
            ("health", self.health),
        ]
        out = [(name, value) for name, value in pairs if value]
        if self.sort != DEFAULT_SORT:
            out.append(("sort", self.sort))
        if self.descending:
            out.append(("order", "desc"))
        return out

    def toggled(self, facet: str, value: str) -> IndexQuery:
        """This query with ``facet`` set to ``value``, or cleared if it already was."""
        new = "" if getattr(self, facet) == value else value
        if facet == "stage":
            return replace(self, stage=new)
        if facet == "department":
            return replace(self, department=new)
        if facet == "health":
            return replace(self, health=new)
        raise ValueError(f"no filter {facet!r}; expected one of {', '.join(FACETS)}")

    def cleared(self) -> IndexQuery:
        """No search and no filter; the sort order stays."""
        return IndexQuery(sort=self.sort, descending=self.descending)

    def sorted_by(self, key: str) -> IndexQuery:
        """Sorted by ``key``: ascending first, the other way when it already is."""
        descending = not self.descending if key == self.sort else False
        return replace(self, sort=key, descending=descending)

    def matches(self, row: UseCaseRow) -> bool:
        if self.stage and row.stage != self.stage:
            return False
        if self.department and row.department != self.department:
            return False
        if self.health and row.health_key != self.health:
            return False
        return not self.text or self.text.casefold() in _haystack(row)

    def select(self, rows: Iterable[UseCaseRow]) -> tuple[UseCaseRow, ...]:
        """The rows this query shows, in its order."""
        key = SORTS[self.sort][1]
        return tuple(sorted((r for r in rows if self.matches(r)), key=key, reverse=self.descending))


def _haystack(row: UseCaseRow) -> str:
    """Everything a search looks at, folded for a case-blind match."""
    parts = [row.id, row.title, row.department, row.stage_label, row.last_gate or ""]
    parts += [b.label for b in row.health]
    parts += [HEALTH_WORDS.get(row.health_key, "")]
    if row.recheck is not None:
        parts += [f.check for f in row.recheck.findings]
    parts += [r.title for r in row.risks]
    return "\n".join(parts).casefold()


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class Facets:
    """The values each filter can take among the use cases, with how many have each."""

    stages: tuple[FacetValue, ...]
    departments: tuple[FacetValue, ...]
    health: tuple[FacetValue, ...]

    def of(self, facet: str) -> tuple[FacetValue, ...]:
        return {"stage": self.stages, "department": self.departments, "health": self.health}[facet]


def facets_of(rows: Iterable[UseCaseRow]) -> Facets:
    rows = tuple(rows)

    def count(pick: Callable[[UseCaseRow], str], value: str) -> int:
        return sum(1 for r in rows if pick(r) == value)

    stages = {r.stage: r.stage_label for r in rows}
    departments = sorted({r.department for r in rows}, key=str.casefold)
    return Facets(
        stages=tuple(
            FacetValue(s, stages[s], count(lambda r: r.stage, s))
            for s in sorted(stages, key=lambda s: _stage_rank_of(s))
        ),
        departments=tuple(FacetValue(d, d, count(lambda r: r.department, d)) for d in departments),
        # Every verdict, even at zero: "0 failing" is news an auditor wants too.
        health=tuple(
            FacetValue(h, HEALTH_CHIPS[h], count(lambda r: r.health_key, h)) for h in HEALTH_KEYS
        ),
    )


def _stage_rank_of(stage: str) -> tuple[int, str]:
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage)


# -- the static report's pages ----------------------------------------------------------------

VIEWS_DIR = "views"
_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(value: str) -> str:
    """A file-name-safe form of any text, unique by a short digest of the text itself."""
    readable = _SLUG.sub("-", value.casefold()).strip("-")[:40]
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return f"{readable}-{digest}" if readable else digest


def static_page(query: IndexQuery) -> str | None:
    """The report page that shows ``query``, relative to the report folder, if it has one.

    ``index.html`` for the default; one page per single filter value and per sort order;
    None for anything else (a search, two filters, a filter and a sort).
    """
    if query.is_default:
        return "index.html"
    if query.text:
        return None
    set_facets = [f for f in FACETS if getattr(query, f)]
    sorted_otherwise = query.sort != DEFAULT_SORT or query.descending
    if len(set_facets) + sorted_otherwise != 1:
        return None
    if sorted_otherwise:
        return f"{VIEWS_DIR}/sort-{query.sort}{'-desc' if query.descending else ''}.html"
    facet = set_facets[0]
    value = getattr(query, facet)
    name = value if facet != "department" else _slug(value)
    if facet == "stage" and value not in STAGE_ORDER:
        return None
    if facet == "health" and value not in HEALTH_KEYS:
        return None
    return f"{VIEWS_DIR}/{facet}-{name}.html"


def static_queries(facets: Facets) -> list[IndexQuery]:
    """Every query the static report carries a page for, besides the index itself."""
    queries = [IndexQuery(sort=key, descending=desc) for key in SORTS for desc in (False, True)]
    queries = [q for q in queries if not q.is_default]
    for facet in FACETS:
        queries += [IndexQuery().toggled(facet, v.value) for v in facets.of(facet)]
    return queries

"""Fill the page templates: one Jinja environment, autoescape on for every template.

Links are the only thing that differ between the static site (relative file paths, so
the folder opens from disk) and the live server (absolute routes); a ``Links`` object
chooses them, so both serve the same templates.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from gates._version import __version__
from gates.charts.palette import STAGE_COLOURS
from gates.ledger.describe import stage_label
from gates.report.charts import stage_timeline_chart, time_in_stage_chart
from gates.report.explore_page import ExploreView
from gates.report.index_query import SORTS, IndexQuery, facets_of, static_page
from gates.report.models import Banner, EntryView, IndexView, UseCaseView
from gates.roadmap.gantt import portfolio_gantt, usecase_gantt

if TYPE_CHECKING:
    from gates.scale.review import ScaleReview

#: Same policy as the static site's pages: no script, no fetch, no form.
META_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
#: The live UI's: the same, except that its index's search form may submit to the UI itself.
LIVE_META_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'"


class Links(Protocol):
    #: The Content-Security-Policy the pages carry in a meta tag.
    csp: str
    #: Whether the index can answer any query (a live server) or only pre-rendered ones.
    live: bool

    def index(self) -> str: ...
    def index_for(self, query: IndexQuery) -> str | None: ...
    def usecase(self, usecase_id: str) -> str: ...
    def timeline(self, usecase_id: str, before: int | None) -> str: ...
    def entry(self, usecase_id: str, sequence: int) -> str: ...
    def explore(self) -> str | None: ...
    def scale(self) -> str | None: ...


class RouteLinks:
    """Links of the live server; Explore only when the workspace has a candidates file."""

    csp = LIVE_META_CSP
    live = True

    def __init__(self, *, explore: bool = False) -> None:
        self.has_explore = explore

    def index(self) -> str:
        return "/"

    def index_for(self, query: IndexQuery) -> str | None:
        params = query.params()
        return "/" + (f"?{urlencode(params)}" if params else "")

    def usecase(self, usecase_id: str) -> str:
        return f"/usecases/{usecase_id}"

    def timeline(self, usecase_id: str, before: int | None) -> str:
        """The use-case page whose timeline ends below entry ``before`` (None: the newest)."""
        page = f"/usecases/{usecase_id}"
        return page if before is None else f"{page}?{urlencode({'before': before})}#timeline"

    def entry(self, usecase_id: str, sequence: int) -> str:
        return f"/entries/{usecase_id}/{sequence}"

    def explore(self) -> str | None:
        return "/explore" if self.has_explore else None

    def scale(self) -> str | None:
        return "/scale"


class FileLinks:
    """Relative links of the static site, from a page ``depth`` folders below its root."""

    csp = META_CSP
    live = False

    def __init__(self, depth: int, *, explore: bool = False, scale: bool = True) -> None:
        self.up = "../" * depth
        self.has_explore = explore
        self.has_scale = scale

    def index(self) -> str:
        return f"{self.up}index.html"

    def index_for(self, query: IndexQuery) -> str | None:
        """The pre-rendered page of ``query``, if the site has one."""
        page = static_page(query)
        return f"{self.up}{page}" if page else None

    def usecase(self, usecase_id: str) -> str:
        return f"{self.up}usecases/{usecase_id}.html"

    def timeline(self, usecase_id: str, before: int | None) -> str:
        """The saved report's use-case page shows every entry: its one timeline."""
        return f"{self.usecase(usecase_id)}#timeline"

    def entry(self, usecase_id: str, sequence: int) -> str:
        return f"{self.up}entries/{usecase_id}/{sequence}.html"

    def explore(self) -> str | None:
        """The Explore page, when the site has one (the workspace has a candidates file)."""
        return f"{self.up}explore.html" if self.has_explore else None

    def scale(self) -> str | None:
        return f"{self.up}scale.html" if self.has_scale else None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else "—"


def _days(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "—"


def _short(digest: str | None, width: int = 19) -> str:
    if not digest:
        return "—"
    return digest if len(digest) <= width else digest[:width] + "…"


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _digests(text: object) -> Markup:
    """Text with each full SHA-256 digest in it marked up to be cut short (whole on hover/copy)."""
    escaped = str(escape(str(text)))
    return Markup(
        _DIGEST.sub(lambda m: f'<code class="digest" title="{m[0]}">{m[0]}</code>', escaped)
    )


#: Where a long name or location may break: after its separators (a break opportunity
#: is preferred to a cut mid-word; copying the text copies none of it).
_SEPARATED = re.compile(r"(?<=[:/_.#=&?-])")


def _breakable(text: object) -> Markup:
    """Text (a check name, a path, a URI) that may wrap after ':', '/', '_', '.', '-'..."""
    return Markup("<wbr>").join(escape(part) for part in _SEPARATED.split(str(text)))


def _anchor(text: object) -> str:
    """A fragment id from any text: letters, digits and '-' only."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-") or "x"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gates.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when,
        date=_date,
        days=_days,
        short=_short,
        stage_label=stage_label,
        digests=_digests,
        breakable=_breakable,
        anchor=_anchor,
    )
    env.globals.update(css=Markup(_stylesheet()), version=__version__)
    return env


def _stylesheet() -> str:
    """The stylesheet, plus stage colours taken from the charts so both always agree."""
    css = resources.files("gates.report").joinpath("static/style.css").read_text("utf-8")
    stages = "".join(
        f".s-{stage} {{ background: {colour}; }}\n" for stage, colour in STAGE_COLOURS.items()
    )
    return css + stages


def render_index(view: IndexView, links: Links, query: IndexQuery | None = None) -> str:
    """The index; under a query, only the use cases it selects, and charts only without one."""
    query = query or IndexQuery()
    charts = query.is_default
    return (
        _environment()
        .get_template("index.html")
        .render(
            view=view,
            banner=view.banner,
            links=links,
            query=query,
            plain=IndexQuery(),
            rows=query.select(view.rows),
            facets=facets_of(view.rows),
            sorts=SORTS,
            time_chart=time_in_stage_chart(view.rows) if charts else None,
            stage_chart=stage_timeline_chart(view.lanes, view.generated_at) if charts else None,
            roadmap_chart=portfolio_gantt([r.roadmap for r in view.rows if r.roadmap])
            if charts
            else None,
        )
    )


def render_usecase(view: UseCaseView, links: Links) -> str:
    row = view.row
    return (
        _environment()
        .get_template("usecase.html")
        .render(
            view=view,
            row=row,
            banner=view.banner,
            links=links,
            time_chart=time_in_stage_chart([row], chart_id="uc-time"),
            stage_chart=stage_timeline_chart([view.lane], view.generated_at, chart_id="uc-stages")
            if view.lane
            else None,
            roadmap_chart=usecase_gantt(row.roadmap, chart_id="uc-roadmap")
            if row.roadmap and row.roadmap.plan
            else None,
        )
    )


def render_scale(
    review: ScaleReview | None,
    links: Links,
    *,
    as_of: datetime,
    banner: Banner | None = None,
    unavailable: str = "",
    usecase_links: bool = True,
    index_href: str | None = None,
) -> str:
    """The quarterly Scale review page (``review`` None: say why in ``unavailable``)."""
    from gates.scale.charts import adoption_days_chart, department_share_chart, production_chart

    quarters = review.quarters if review else ()
    return (
        _environment()
        .get_template("scale.html")
        .render(
            review=review,
            goals=review.goals() if review else [],
            as_of=as_of,
            banner=banner,
            links=links,
            unavailable=unavailable,
            usecase_links=usecase_links,
            index_href=index_href,
            production_chart=production_chart(quarters, review.production_goal) if review else None,
            department_chart=department_share_chart(quarters),
            days_chart=adoption_days_chart(quarters),
        )
    )


def render_entry(view: EntryView, links: Links) -> str:
    return (
        _environment().get_template("entry.html").render(view=view, banner=view.banner, links=links)
    )


def render_explore(view: ExploreView, links: Links) -> str:
    return (
        _environment()
        .get_template("explore.html")
        .render(view=view, banner=view.banner, links=links, matrix=Markup(view.matrix))
    )


def render_error(status: int, title: str, message: str, links: Links) -> str:
    return (
        _environment()
        .get_template("error.html")
        .render(status=status, title=title, message=message, links=links, banner=None)
    )


def render_page(
    template: str, links: Links, *, banner: Banner | None = None, **context: object
) -> str:
    """Any page template with ``links``, the optional ``banner`` and its own context."""
    return _environment().get_template(template).render(links=links, banner=banner, **context)

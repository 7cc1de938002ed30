"""The live web UI: the report's pages, served read-only from the ledger as it is now.

Only GET and HEAD exist; every other method gets 405 before routing, so no path can
write. Ids from the URL are checked against the use-case id pattern and sequences must
be plain digits before anything touches the store, so a crafted path (``../``,
``%2e%2e``, encoded slashes) is a 404 and never a file read. Every response carries a
Content-Security-Policy that allows no script, no frame and no fetch: the pages need
none (styles and SVG charts are inline). The index's search is a plain GET form answered
on the server (``/?q=…&health=warn&sort=days``), the one form the policy lets submit, and
only to the UI itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gates.errors import StagegateError
from gates.explore.selection import candidates_path
from gates.ledger.verified_heads import HeadsMemory
from gates.report.entry_page import entry_view
from gates.report.explore_page import build_explore
from gates.report.index_page import index_view
from gates.report.index_query import IndexQuery
from gates.report.models import PageNotFound, is_usecase_id
from gates.report.render import (
    RouteLinks,
    render_entry,
    render_error,
    render_explore,
    render_index,
    render_usecase,
)
from gates.report.scale_page import scale_page
from gates.report.usecase_page import TimelineWindow, usecase_view
from gates.ui.shared_builds import SharedBuilds
from gates.workspace.memo import Memo
from gates.workspace.session import Session

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
READ_METHODS = ("GET", "HEAD")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SEQUENCE = re.compile(r"^[0-9]{1,12}$")
#: Entries a use-case page's timeline shows at once; older ones are a link away.
TIMELINE_PAGE = 100

log = logging.getLogger(__name__)


class ReadOnlyGuard:
    """Refuse every method but GET/HEAD; add security headers and server time to every reply."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers["Server-Timing"] = f"app;dur={(perf_counter() - start) * 1000:.1f}"
            await send(message)

        if scope["method"] not in READ_METHODS:
            refusal = PlainTextResponse(
                "405 Method Not Allowed: this server is read-only\n",
                status_code=405,
                headers={"Allow": ", ".join(READ_METHODS)},
            )
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def create_app(
    session_factory: Callable[[], Session], *, timeline_page: int = TIMELINE_PAGE
) -> FastAPI:
    """The UI over the sessions ``session_factory`` opens (one per request: always current);
    a use-case page's timeline shows ``timeline_page`` entries at a time."""
    app = FastAPI(title="stagegate audit UI", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(ReadOnlyGuard)
    # Error pages cannot tell whether the workspace has an Explore page: they link none.
    plain_links = RouteLinks()

    def error_page(status: int, title: str, message: str) -> HTMLResponse:
        return HTMLResponse(render_error(status, title, message, plain_links), status_code=status)

    def not_found(message: str = "No such page.") -> HTMLResponse:
        return error_page(404, "Not found", message)

    def links_of(session: Session) -> RouteLinks:
        """Links of this request's pages: Explore only when its page would not be a 404."""
        return RouteLinks(explore=candidates_path(session).is_file())

    builds: SharedBuilds[tuple[int, str]] = SharedBuilds()

    def page(path: str, build: Callable[[Session, datetime, RouteLinks], str]) -> HTMLResponse:
        """The page at ``path`` (with its query), built once for the requests for it that
        arrive together (``gates.ui.shared_builds``)."""

        def built() -> tuple[int, str]:
            try:
                session = session_factory()
                return 200, build(session, datetime.now(UTC), links_of(session))
            except PageNotFound as e:
                return 404, render_error(404, "Not found", str(e), plain_links)
            except StagegateError as e:
                return 503, render_error(503, "Ledger unavailable", e.diagnostics(), plain_links)
            except Exception:
                log.exception("page failed")
                return 500, render_error(
                    500,
                    "Internal error",
                    "The page could not be built; see the server log.",
                    plain_links,
                )

        status, html = builds.run(path, built)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return not_found()
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    @app.api_route("/healthz", methods=list(READ_METHODS))
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.api_route("/", methods=list(READ_METHODS), response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        query = IndexQuery.from_params(request.query_params)
        return page(
            f"/?{request.query_params}",
            lambda session, now, links: render_index(index_view(session, now), links, query),
        )

    @app.api_route("/explore", methods=list(READ_METHODS), response_class=HTMLResponse)
    def explore() -> HTMLResponse:
        def build(session: Session, now: datetime, links: RouteLinks) -> str:
            view = build_explore(session, index_view(session, now).banner, now)
            if view is None:
                raise PageNotFound("This workspace has no Explore candidates file.")
            return render_explore(view, links)

        return page("/explore", build)

    @app.api_route("/scale", methods=list(READ_METHODS), response_class=HTMLResponse)
    def scale() -> HTMLResponse:
        return page(
            "/scale",
            lambda session, now, links: scale_page(
                session, index_view(session, now).banner, now, links
            ),
        )

    @app.api_route(
        "/usecases/{usecase_id}", methods=list(READ_METHODS), response_class=HTMLResponse
    )
    def usecase(usecase_id: str, before: str | None = None) -> HTMLResponse:
        """The use case's page; its timeline the newest ``timeline_page`` entries, or
        with ``?before=N`` the newest of those numbered below N."""
        if not is_usecase_id(usecase_id):
            return not_found("Use-case ids are lower-case letters, digits and '-'.")
        if before is not None and not SEQUENCE.fullmatch(before):
            return not_found("The timeline's 'before' is an entry's sequence number.")
        window = TimelineWindow(timeline_page, int(before) if before is not None else None)
        return page(
            f"/usecases/{usecase_id}" + (f"?before={window.before}" if before is not None else ""),
            lambda session, now, links: render_usecase(
                usecase_view(session, usecase_id, now, window), links
            ),
        )

    @app.api_route(
        "/entries/{usecase_id}/{sequence}", methods=list(READ_METHODS), response_class=HTMLResponse
    )
    def entry(usecase_id: str, sequence: str) -> HTMLResponse:
        if not is_usecase_id(usecase_id) or not SEQUENCE.fullmatch(sequence):
            return not_found("Entries are named by a use-case id and a sequence number.")
        number = int(sequence)
        return page(
            f"/entries/{usecase_id}/{number}",
            lambda session, now, links: render_entry(
                entry_view(session, usecase_id, number, now), links
            ),
        )

    return app


def ui_sessions(root: Path) -> Callable[[], Session]:
    """A fresh session per request over ``root`` (settings, trust and store read anew),
    sharing this process's verified heads and memo: a page re-checks only signatures
    of entries it has not verified, and reuses what it built from exactly the same
    bytes (``gates.report.reading``)."""
    heads = HeadsMemory()
    memo = Memo()
    return lambda: Session.open(root, heads_keeper=heads, memo=memo)


def serve(
    session_factory: Callable[[], Session], host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> None:
    """Run the UI with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(session_factory), host=host, port=port, log_level="warning")

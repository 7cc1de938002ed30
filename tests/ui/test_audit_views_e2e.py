"""What an auditor sees, measured in a real browser: health, search, links out, layout, links.

Headless Debian Chromium (Playwright) reads the real ``stagegate ui`` and the saved report
(``audit report --out``) over the demo ledger. Layout is measured, not eyeballed: element
boxes (``bounding_box()``) must stay inside their table cell and the page at 1024 px and
at phone width. Every link of every page reachable from the index is followed, live and
in the saved report, and must answer 200. The MLflow links are followed into a real
MLflow server (``mlflow server`` over the demo's own database); no Prefect UI is started,
so a flow run's link is checked against the URL Prefect itself gives for that run.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from gates.engine.actions import plan_promotion, record_gate
from gates.engine.checkpoints import write_checkpoint
from gates.engine.gate import run_gate
from gates.ledger.entry import entry_key
from gates.report.charts import stage_timeline_chart
from gates.report.index_page import index_view
from gates.report.models import GateMark, Lane, StageSpan
from gates.report.site import write_site
from gates.roadmap.gantt import portfolio_gantt, usecase_gantt
from gates.stack.mlflow_server import MLflowServer
from gates.stages import Stage
from gates.workspace.session import Session
from tests.support.browser import UiProcess

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1024, "height": 800}


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[dict[str, int]], Page]]:
    """New tabs at a given viewport; any console error (a CSP refusal) fails the test."""
    contexts = []
    errors: list[str] = []

    def open_at(viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        contexts.append(context)
        tab = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(f"{tab.url}: {message.text}")

        tab.on("console", on_console)
        return tab

    yield open_at
    for context in contexts:
        context.close()
    assert errors == []


def copy_workspace(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def index_rows(page: Page) -> list[str]:
    return page.locator("table.usecases tbody tr th[scope=row] a").all_inner_texts()


# -- health --------------------------------------------------------------------------------


def test_the_health_column_shows_the_last_recheck_and_filters_the_index(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], open_page: Callable[..., Page]
) -> None:
    server = serve(ui_demo_root)
    page = open_page(DESKTOP)
    page.goto(server.url)
    bot = page.locator("table.usecases tbody tr").filter(
        has=page.get_by_role("link", name="support-bot", exact=True)
    )
    health = bot.locator("td.health")
    # The gate into Production passed; the nightly re-check since then warns on cost.
    expect(health).to_contain_text("re-check warns")
    expect(health.locator("code.finding")).to_have_text(["health:cost"])
    expect(health).not_to_contain_text("passed")
    expect(bot.locator("td").nth(4)).to_contain_text("pass")  # the last gate, in its column

    health.get_by_role("link").click()  # the re-check's day opens its signed entry
    expect(page).to_have_url(f"{server.url}/entries/support-bot/11")
    expect(page.get_by_role("heading", level=1)).to_have_text("support-bot #11 · recheck")

    page.goto(server.url)
    page.locator("dl.facets").get_by_role("link", name=re.compile(r"^warning")).click()
    expect(page).to_have_url(f"{server.url}/?health=warn")
    assert index_rows(page) == ["support-bot"]
    expect(page.locator("p.count")).to_contain_text("Showing 1 of 2 use case(s)")

    page.get_by_label("Health").select_option("none")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]health=none"))
    assert index_rows(page) == ["invoice-ocr"]

    page.goto(f"{server.url}/usecases/support-bot")
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("Last re-check")
    expect(facts).to_contain_text("warn")
    found = page.get_by_role("table").filter(has_text="that did not pass")
    expect(found.locator("tbody tr")).to_have_count(1)
    expect(found).to_contain_text("health:cost")
    expect(found).to_contain_text("of budget")


def test_search_and_sort_from_the_index(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], open_page: Callable[..., Page]
) -> None:
    server = serve(ui_demo_root)
    page = open_page(DESKTOP)
    page.goto(server.url)
    search = page.get_by_role("searchbox")
    search.fill("cost")  # the check that warned, not a word of the title
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=cost"))
    assert index_rows(page) == ["support-bot"]
    expect(page.get_by_role("searchbox")).to_have_value("cost")

    page.get_by_role("searchbox").fill("nothing like this")
    page.get_by_role("searchbox").press("Enter")
    expect(page.locator("table.usecases")).to_contain_text("No use case matches")
    page.locator("table.usecases").get_by_role("link", name="show all").click()
    expect(page).to_have_url(f"{server.url}/")
    assert index_rows(page) == ["invoice-ocr", "support-bot"]

    days = page.locator("table.usecases thead").get_by_role("link", name="Days")
    days.click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text(re.compile("Days"))
    assert index_rows(page) == ["support-bot", "invoice-ocr"]  # fewest days first
    page.locator("table.usecases thead").get_by_role("link", name=re.compile("Days")).click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text(re.compile("Days"))
    assert index_rows(page) == ["invoice-ocr", "support-bot"]


# -- links out -------------------------------------------------------------------------------


@pytest.fixture
def mlflow_ui(ui_demo_root: Path, tmp_path: Path) -> Iterator[str]:
    """A real MLflow server over a copy of the demo's own tracking database."""
    data = tmp_path / "mlflow"
    data.mkdir()
    shutil.copy(ui_demo_root / "mlflow.db", data / "mlflow.db")
    with MLflowServer(data).start() as server:  # a free port, moved if taken meanwhile
        yield server.url


def test_evidence_links_out_to_mlflow_and_a_flow_run_to_prefect(
    browser: Browser,
    ui_demo_root: Path,
    serve: Callable[[Path], UiProcess],
    open_page: Callable[..., Page],
    mlflow_ui: str,
    tmp_path: Path,
) -> None:
    from prefect.settings import PREFECT_UI_URL, temporary_settings
    from prefect.utilities.urls import url_for

    root = copy_workspace(ui_demo_root, tmp_path / "workspace")
    prefect_ui = "http://127.0.0.1:4200"
    with (root / "stagegate.toml").open("a") as settings:
        settings.write(f'\n[links]\nmlflow_ui = "{mlflow_ui}/"\nprefect_ui = "{prefect_ui}"\n')
    # A gate as the gate flow records it: the engine's own steps, with the run's id.
    session = Session.open(root)
    state = session.ledger.state("support-bot")
    flow_run = str(uuid.uuid4())
    plan = plan_promotion(session, state, "support-bot", Stage.SCALE)
    gate = record_gate(session, state, run_gate(plan), flow_run=flow_run)
    server = serve(root)
    page = open_page(DESKTOP)

    page.goto(f"{server.url}/entries/support-bot/6")
    accuracy = page.get_by_role("row").filter(has_text="metric:accuracy")
    run_id = re.search(r"run ([0-9a-f]{32})", accuracy.inner_text())
    assert run_id is not None
    run_link = accuracy.get_by_role("link", name="MLflow run ↗")
    expect(run_link).to_have_attribute(
        "href", re.compile(rf"^{re.escape(mlflow_ui)}/#/experiments/\d+/runs/{run_id[1]}$")
    )
    model = page.locator("dl.facts").get_by_role("link", name="MLflow model version ↗")
    expect(model).to_have_attribute("href", f"{mlflow_ui}/#/models/support-bot/versions/2")
    # Into the MLflow UI (in a tab of its own: MLflow's console is not ours to judge).
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        outside = context.new_page()
        outside.goto(f"{server.url}/entries/support-bot/6")
        outside.get_by_role("row").filter(has_text="metric:accuracy").get_by_role(
            "link", name="MLflow run ↗"
        ).click()
        expect(outside).to_have_title(re.compile(rf"Run {run_id[1]}"), timeout=60_000)
    finally:
        context.close()

    page.goto(f"{server.url}/entries/support-bot/{gate.sequence}")
    expected = None
    with temporary_settings({PREFECT_UI_URL: prefect_ui}):
        expected = url_for("flow-run", obj_id=flow_run)
    flow_link = page.get_by_role("link", name="Prefect flow run ↗")
    expect(flow_link).to_have_attribute("href", expected or "")
    page.goto(f"{server.url}/usecases/support-bot")
    timeline = page.get_by_role("table").filter(has_text="Every signed entry of the chain")
    expect(timeline.get_by_role("link", name="Prefect flow run ↗")).to_have_attribute(
        "href", expected or ""
    )
    # The monitoring experiment the last re-check read, and the model version in use.
    facts = page.locator("dl.facts").first
    expect(facts.get_by_role("link", name="MLflow experiment ↗")).to_have_attribute(
        "href", re.compile(rf"^{re.escape(mlflow_ui)}/#/experiments/\d+$")
    )


def test_without_links_settings_nothing_links_out(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], open_page: Callable[..., Page]
) -> None:
    server = serve(ui_demo_root)
    page = open_page(DESKTOP)
    page.goto(f"{server.url}/entries/support-bot/6")
    expect(page.locator("a.out")).to_have_count(0)
    # The locations are the workspace's own, not the machine's that ran the gate.
    dataset = page.get_by_role("row").filter(has_text="data:test_set")
    expect(dataset).to_contain_text("data/poc_test_set.csv")
    expect(dataset).to_contain_text("builtin:poc_test_set.json")
    assert str(ui_demo_root) not in page.content()
    # Each expectation of the suite, with its column, below the checks.
    expectations = page.locator("table.expectations")
    expect(expectations.locator("tbody tr")).to_have_count(10)
    expect(expectations).to_contain_text("expect_column_values_to_be_unique")
    expect(expectations.locator("tbody tr").filter(has_text="_unique")).to_contain_text("id")


# -- layout ----------------------------------------------------------------------------------

#: Every element inside a table cell that sticks out of the cell, and whether the page
#: itself is wider than the window.
OVERFLOW = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const c = cell.getBoundingClientRect();
    if (!c.width) continue;
    if (cell.scrollWidth > cell.clientWidth + 1)  // text running out of its cell
      out.push(`${cell.tagName} "${cell.textContent.trim().slice(0, 40)}" is ${cell.scrollWidth} px wide in ${cell.clientWidth}`);
    for (const el of cell.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (!r.width) continue;
      if (r.right > c.right + 1 || r.left < c.left - 1)
        out.push(`${el.tagName}.${el.className} "${el.textContent.slice(0, 40)}" ${Math.round(r.left)}-${Math.round(r.right)} outside ${Math.round(c.left)}-${Math.round(c.right)}`);
    }
  }
  return {cells: out, page: document.documentElement.scrollWidth, window: window.innerWidth};
}"""

PAGES = [
    "/",
    "/usecases/support-bot",
    "/usecases/invoice-ocr",
    "/entries/support-bot/5",
    "/entries/support-bot/6",
    "/entries/support-bot/11",
    "/scale",
    "/explore",
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1024px", "phone"])
def test_nothing_overflows_its_cell_or_the_page(
    ui_demo_root: Path,
    serve: Callable[[Path], UiProcess],
    open_page: Callable[..., Page],
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    server = serve(ui_demo_root)
    page = open_page(viewport)
    for path in PAGES:
        page.goto(server.url + path)
        found = page.evaluate(OVERFLOW)
        assert found["cells"] == [], f"{path}: {found['cells'][:5]}"
        assert found["page"] <= found["window"], f"{path}: page {found['page']} px wide"
        # Wide tables scroll in their own box, which stays inside the page.
        for box in page.locator("div.scroll").all():
            edge = box.bounding_box()
            assert edge is not None and edge["x"] + edge["width"] <= viewport["width"] + 1, path
        name = path.strip("/").replace("/", "-") or "index"
        page.screenshot(path=str(tmp_path / f"{name}-{viewport['width']}.png"), full_page=True)


def test_a_full_digest_is_cut_short_in_its_cell_and_kept_whole(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], open_page: Callable[..., Page]
) -> None:
    server = serve(ui_demo_root)
    page = open_page(DESKTOP)
    page.goto(f"{server.url}/entries/support-bot/11")
    row = page.get_by_role("row").filter(has_text="criteria:unchanged")
    observed = row.locator("td").nth(1)
    digest = observed.locator("code.digest")
    cell, shown = observed.bounding_box(), digest.bounding_box()
    assert cell is not None and shown is not None
    assert shown["x"] + shown["width"] <= cell["x"] + cell["width"] + 1
    neighbour = row.locator("td").nth(2).bounding_box()
    assert neighbour is not None and shown["x"] + shown["width"] <= neighbour["x"] + 1
    full = digest.get_attribute("title")
    assert full is not None and re.fullmatch(r"sha256:[0-9a-f]{64}", full)
    assert digest.text_content() == full  # selecting and copying it copies all of it


#: Every place where a name or location (check names, evidence paths, URIs) is broken
#: across lines inside a part that would fit on a line of its own, instead of after a
#: separator: "deliverable:tec|hnical_report". A part wider than its cell (a run id, a
#: digest) may be cut anywhere.
MID_WORD_BREAKS = """(selector) => {
  const SEPARATORS = ':/_.-#=&?';
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const cell = el.closest('td, th, dd');
    const style = getComputedStyle(cell);
    const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const chars = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
        const box = range.getBoundingClientRect();
        if (box.width) chars.push({c: node.data[i], top: box.top, width: box.width});
      }
    }
    let start = 0;  // where the current part (a run between separators) begins
    for (let i = 1; i <= chars.length; i++) {
      if (i < chars.length && !SEPARATORS.includes(chars[i - 1].c)) continue;
      const part = chars.slice(start, i);
      const width = part.reduce((sum, ch) => sum + ch.width, 0);
      for (let j = 1; j < part.length; j++)
        if (part[j].top > part[j - 1].top + 2 && width <= room)
          out.push(`${el.textContent} broken inside "${part.map(ch => ch.c).join('')}"`);
      start = i;
    }
  }
  return out;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1024px", "phone"])
def test_check_names_and_paths_wrap_only_after_their_separators(
    ui_demo_root: Path,
    serve: Callable[[Path], UiProcess],
    open_page: Callable[..., Page],
    viewport: dict[str, int],
) -> None:
    server = serve(ui_demo_root)
    page = open_page(viewport)
    page.goto(f"{server.url}/entries/support-bot/6")
    names = page.locator("table.checks code.name")
    expect(names.filter(has_text="deliverable:quality_measurements")).to_have_count(1)
    wrapped = page.evaluate(
        "() => [...document.querySelectorAll('table.checks code.name')]"
        ".filter(e => e.getClientRects().length > 1 || e.offsetHeight > 24).length"
    )
    assert wrapped > 0  # the column is narrow: long names do wrap, which is what is judged
    selector = "table.checks code.name, table.checks code.uri, dl.facts code"
    assert page.evaluate(MID_WORD_BREAKS, selector) == []
    page.goto(f"{server.url}/usecases/support-bot")
    assert page.evaluate(MID_WORD_BREAKS, "table.findings code.name, dl.facts code.uri") == []
    name = page.locator("table.usecases, table.findings").locator("code.name").first
    expect(name).to_have_text("health:cost")
    page.goto(server.url)
    assert page.evaluate(MID_WORD_BREAKS, "table.usecases th[scope=row] > a") == []


# -- charts ----------------------------------------------------------------------------------

#: Every text of every chart that the picture's edges cut, and every pair of gate markers
#: of one lane drawn on top of each other.
CHART_FAULTS = """() => {
  const out = [];
  for (const holder of document.querySelectorAll('div[data-chart]')) {
    const svg = holder.querySelector('svg'); const s = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBoundingClientRect();
      if (b.left < s.left - 0.5 || b.right > s.right + 0.5 || b.top < s.top - 0.5 || b.bottom > s.bottom + 0.5)
        out.push(`${holder.dataset.chart}: "${t.textContent}" cut off`);
    }
    const marks = [...svg.querySelectorAll('g > circle, g > polygon, g > rect[width="9"]')]
      .map(m => m.getBoundingClientRect());
    for (let i = 0; i < marks.length; i++) for (let j = i + 1; j < marks.length; j++) {
      const a = marks[i], b = marks[j];
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const vertical = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (overlap > 2 && vertical > 2) out.push(`${holder.dataset.chart}: markers ${i} and ${j} overlap`);
    }
  }
  return out;
}"""


def test_chart_labels_stay_inside_and_same_day_gates_sit_side_by_side(
    ui_demo_root: Path, open_page: Callable[..., Page]
) -> None:
    session = Session.open(ui_demo_root)
    charts = []
    first = index_view(session, datetime.now(UTC)).lanes[0].spans[0].start
    # Every few days over seven months: month labels and decision tags reach the edge.
    for day in range(0, 210, 3):
        now = first + timedelta(days=day)
        view = index_view(session, now)
        tracks = [r.roadmap for r in view.rows if r.roadmap]
        charts.append((f"roadmap {now.date()}", portfolio_gantt(tracks, chart_id=f"p{day}")))
        charts.append((f"stages {now.date()}", stage_timeline_chart(view.lanes, now, f"t{day}")))
        for track in tracks:
            if track.plan is not None:
                chart = usecase_gantt(track, chart_id=f"u{day}-{track.usecase}")
                charts.append((f"{track.usecase} roadmap {now.date()}", chart))
    # A blocked gate and the gate that passed after the fix, on the same day.
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    same_day = Lane(
        "retry",
        (StageSpan("explore", day - timedelta(days=20), day + timedelta(hours=5)),
         StageSpan("poc", day + timedelta(hours=5), None)),
        (GateMark(1, day, "explore", "poc", "blocked"),
         GateMark(2, day + timedelta(hours=5), "explore", "poc", "pass")),
    )  # fmt: skip
    charts.append(("same day", stage_timeline_chart([same_day], day + timedelta(days=30), "s")))
    page = open_page({"width": 800, "height": 800})
    page.set_content(
        "<body style='margin:0'>"
        + "".join(
            f"<div data-chart='{name}' style='width:760px'>{svg}</div>" for name, svg in charts
        )
        + "</body>"
    )
    assert page.evaluate(CHART_FAULTS) == []
    markers = page.locator(
        "div[data-chart='same day'] svg g > circle, div[data-chart='same day'] svg g > polygon"
    )
    boxes = [m.bounding_box() for m in markers.all()]
    assert len(boxes) == 2 and all(boxes)
    blocked, passed = boxes
    assert blocked is not None and passed is not None
    assert blocked["x"] + blocked["width"] <= passed["x"]  # in the order they happened


# -- links that lead somewhere ---------------------------------------------------------------


def crawl(page: Page, start: str, *, expand: Callable[[str], bool]) -> dict[str, int]:
    """Status of every same-origin link of every page reachable from ``start``.

    Pages ``expand`` says no to are fetched but their links not followed further.
    """
    origin = urlsplit(start)._replace(path="", query="", fragment="").geturl()
    seen: dict[str, int] = {}
    queue = [start]
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        response = page.goto(url)
        seen[url] = response.status if response else 0
        if seen[url] != 200 or not expand(url):
            continue
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            target = urldefrag(href)[0]
            if target.startswith(origin) and target not in seen:
                queue.append(target)
    return seen


def test_every_link_of_the_live_ui_answers_200(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], open_page: Callable[..., Page]
) -> None:
    server = serve(ui_demo_root)
    page = open_page(DESKTOP)

    def expand(url: str) -> bool:
        # An index under a query links to every other query: follow those one level deep.
        query = urlsplit(url).query
        return query.count("=") <= 1

    statuses = crawl(page, f"{server.url}/", expand=expand)
    broken = {url: status for url, status in statuses.items() if status != 200}
    assert broken == {}
    assert f"{server.url}/explore" in statuses and f"{server.url}/scale" in statuses
    assert f"{server.url}/entries/support-bot/11" in statuses
    assert sum("?" in url for url in statuses) > 20  # filters and sorts were followed
    assert len(statuses) > 60


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """Serve a saved report folder over HTTP on loopback, as an auditor might host it."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_every_link_of_the_saved_report_answers_200(
    ui_demo_root: Path,
    static_server: Callable[[Path], str],
    open_page: Callable[..., Page],
    tmp_path: Path,
) -> None:
    out = tmp_path / "report"
    write_site(Session.open(ui_demo_root), out, datetime.now(UTC))
    base = static_server(out)
    page = open_page(DESKTOP)

    statuses = crawl(page, f"{base}/index.html", expand=lambda url: True)

    assert {url: s for url, s in statuses.items() if s != 200} == {}
    written = {f"{base}/{p.relative_to(out).as_posix()}" for p in out.rglob("*.html")}
    assert written <= set(statuses)  # every page of the report is reachable from its index
    page.goto(f"{base}/index.html")
    page.locator("dl.facets").get_by_role("link", name=re.compile(r"^warning")).click()
    expect(page).to_have_url(f"{base}/views/health-warn.html")
    assert index_rows(page) == ["support-bot"]
    expect(page.get_by_role("searchbox")).to_have_count(0)  # no server to ask: no form


def banner_links(page: Page) -> list[str]:
    return page.locator(".banner").get_by_role("link").evaluate_all("els => els.map(e => e.href)")


def test_a_tampered_report_banner_links_only_to_entries_that_exist(
    ui_demo_root: Path,
    serve: Callable[[Path], UiProcess],
    static_server: Callable[[Path], str],
    open_page: Callable[..., Page],
    tmp_path: Path,
) -> None:
    root = copy_workspace(ui_demo_root, tmp_path / "workspace")
    session = Session.open(root)
    write_checkpoint(session.ledger, session.signer)
    (root / "ledger" / entry_key("support-bot", 11)).unlink()  # the newest entry, deleted
    (root / "ledger" / entry_key("invoice-ocr", 3)).unlink()  # one in the middle
    server = serve(root)
    out = tmp_path / "report"
    write_site(Session.open(root), out, datetime.now(UTC))
    base = static_server(out)
    page = open_page(DESKTOP)

    for index in (f"{server.url}/", f"{base}/index.html"):
        page.goto(index)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Verification failed")
        truncated = alert.get_by_role("row").filter(has_text="checkpoint-truncated")
        expect(truncated).to_contain_text("#11")
        expect(truncated.get_by_role("link")).to_have_count(0)  # the entry is gone: no link
        links = banner_links(page)
        assert links, "the entries that are still there are linked"
        for href in links:
            response = page.request.get(href)
            assert response.status == 200, href
    assert page.request.get(f"{server.url}/entries/support-bot/11").status == 404
    assert not (out / "entries" / "support-bot" / "11.html").exists()


# -- pictures for people ---------------------------------------------------------------------


def test_pages_read_at_1024_px_and_on_a_phone(
    ui_demo_root: Path,
    serve: Callable[[Path], UiProcess],
    open_page: Callable[..., Page],
    tmp_path: Path,
) -> None:
    server = serve(ui_demo_root)
    for viewport in (DESKTOP, PHONE):
        page = open_page(viewport)
        for path in ("/", "/usecases/support-bot", "/entries/support-bot/11"):
            page.goto(server.url + path)
            # On a phone the index is a list of cards: no column headings, every value labelled.
            if path == "/" and viewport is PHONE:
                expect(page.locator("table.usecases thead")).to_be_hidden()
                label = page.locator("table.usecases td[data-label=Health]").first
                before = label.evaluate("e => getComputedStyle(e, '::before').content")
                assert before == '"Health"'
            expect(
                page.get_by_role("navigation", name="Site").get_by_role("link", name="Scale")
            ).to_be_visible()
            name = path.strip("/").replace("/", "-") or "index"
            page.screenshot(path=str(tmp_path / f"{name}-{viewport['width']}.png"), full_page=True)
            assert (tmp_path / f"{name}-{viewport['width']}.png").stat().st_size > 10_000

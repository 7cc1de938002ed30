"""The UI end to end: the real ``stagegate ui`` command, served on loopback, read in Chromium.

Headless Debian Chromium driven by Playwright (no downloaded browser). The fixture makes
sure Chromium is there: it installs the Debian package when it is missing and the tests
run as root, and otherwise fails with what to do; it never skips.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import UiProcess
from tests.support.forge import flip_payload_byte


def test_the_index_lists_the_demo_use_cases(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], page: Page, tmp_path: Path
) -> None:
    server = serve(ui_demo_root)
    page.goto(server.url)
    expect(page).to_have_title("Use cases · stagegate audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Use cases")
    table = page.get_by_role("table").first
    expect(table.get_by_role("link", name="support-bot")).to_be_visible()
    expect(table.get_by_role("link", name="invoice-ocr")).to_be_visible()
    expect(table).to_contain_text("Customer support assistant")
    expect(table).to_contain_text("Production")
    expect(table).to_contain_text("Stopped")
    expect(page.get_by_role("status")).to_contain_text("Verified: the ledger is intact")
    # Inline styles apply under the page's CSP: the banner is green, not unstyled.
    colour = page.locator(".banner .ok").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(220, 252, 231)"
    expect(page.locator("svg.chart")).to_have_count(3)
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)


def test_a_timeline_page_shows_the_blocked_and_the_passed_gates(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], page: Page, tmp_path: Path
) -> None:
    server = serve(ui_demo_root)
    page.goto(server.url)
    page.get_by_role("link", name="support-bot").first.click()
    expect(page).to_have_url(f"{server.url}/usecases/support-bot")
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer support assistant")
    timeline = page.get_by_role("table").filter(has_text="Every signed entry of the chain")
    rows = timeline.locator("tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.nth(5)).to_contain_text("gate PoC → Pilot: blocked (metric:accuracy)")
    expect(rows.nth(5)).to_contain_text("blocked")
    expect(rows.nth(6)).to_contain_text("gate PoC → Pilot: pass")
    expect(rows.nth(9)).to_contain_text("blocked (pilot:satisfaction)")
    expect(rows.nth(10)).to_contain_text("gate Pilot → Production: pass")
    expect(rows.nth(11)).to_contain_text("re-check of Production: warn")
    page.screenshot(path=str(tmp_path / "usecase.png"), full_page=True)

    rows.nth(5).get_by_role("link", name="#5").click()
    expect(page).to_have_url(f"{server.url}/entries/support-bot/5")
    failing = page.get_by_role("row").filter(has_text="metric:accuracy")
    expect(failing).to_contain_text("fail")
    expect(failing).to_contain_text(">= 0.85")
    expect(page.get_by_text("signature verified")).to_be_visible()


def test_a_tampered_entry_shows_in_the_banner_naming_the_entry(
    ui_demo_root: Path, serve: Callable[[Path], UiProcess], page: Page, tmp_path: Path
) -> None:
    root = tmp_path / "workspace"
    shutil.copytree(ui_demo_root, root)
    server = serve(root)
    page.goto(server.url)
    expect(page.get_by_role("status")).to_contain_text("intact")

    flip_payload_byte(root, "support-bot", 3)
    page.reload()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Verification failed")
    expect(alert).to_contain_text("in the ledger")
    # The flipped entry is named first; later entries of the chain fail in its wake.
    violation = alert.get_by_role("row").filter(has_text="signature-invalid")
    expect(violation).to_have_count(1)
    expect(violation).to_contain_text("support-bot")
    expect(violation).to_contain_text("no valid signature by a trusted key")
    expect(violation.get_by_role("link", name="#3")).to_be_visible()

    page.get_by_role("link", name="support-bot").first.click()
    expect(page.get_by_role("alert").first).to_contain_text("the chain of support-bot")
    expect(page.get_by_role("alert").first).to_contain_text("signature-invalid")

    page.get_by_role("alert").first.get_by_role("link", name="#3").click()
    expect(page).to_have_url(f"{server.url}/entries/support-bot/3")
    expect(page.get_by_text("This entry fails verification.")).to_be_visible()
    expect(page.get_by_text("nothing in them is shown")).to_be_visible()

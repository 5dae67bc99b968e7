"""The web view in a real headless Chromium (Debian's ``chromium`` + ``chromedriver``, driven by selenium):
log in through the form, load every page, check the highlighted cells of the unbalanced demo reports
against the stored findings, a cell's hover text, the links, and keep a screenshot of each page.

The admin app runs under uvicorn on a free loopback port, over the database the embedded demo pipeline
filled. Without chromium/chromedriver the test is skipped locally and fails when CI is set."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image
from pydantic import SecretStr
from sqlmodel import func, select

from nianbao.app import cli
from nianbao.app.admin_api import create_app
from nianbao.app.embedded import run_embedded
from nianbao.app.settings import AppSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.server import DevPortal
from nianbao.shared.db import session_scope
from nianbao.shared.models import FindingRow, Report
from nianbao.shared.rawstore import RawStore
from nianbao.shared.record import CellLocation

from support import free_port, skip_or_fail

TOKEN = "browser-test-token"


def _binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        skip_or_fail("no chromium/chromedriver: install them (Debian: chromium chromium-driver)")
    assert chromium and driver
    return chromium, driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                "--lang=zh-CN"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served() -> Iterator[tuple[str, AppSettings]]:
    """The demo database, and the admin app over it on a free loopback port: (base URL, settings)."""
    with DevPortal() as portal:
        registry = cli.demo_registry(portal.column_url)
        run_embedded(SiteRegistry.from_dict(registry), ["demo"])
    settings = AppSettings(admin_token=SecretStr(TOKEN))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, SiteRegistry.from_dict(registry), None), host="127.0.0.1", port=port,
                       log_level="warning", lifespan="off")
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", settings
    finally:
        server.should_exit = True
        thread.join(10)


def _click_and_wait(driver: Any, element: Any) -> None:
    """Click something that loads another page, and wait until that page replaced this one (the login form
    answers at the URL it was shown at, so the URL alone does not tell)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(page))
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _screenshot(driver: Any, path: Path) -> None:
    driver.save_screenshot(str(path))
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width >= 800 and image.height >= 600, path
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20, f"{path} is nearly blank ({len(colours)} colours)"
    assert path.stat().st_size > 10_000, path


def test_every_page_in_a_real_browser(browser: Any, served: tuple[str, AppSettings], tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, settings = served
    db = settings.resolved_database_url()
    with session_scope(db) as s:
        reports = {r.id: r for r in s.exec(select(Report))}
        failing = list(s.exec(select(FindingRow).where(FindingRow.status == "fail")))
        balance_total = s.exec(select(func.count()).select_from(FindingRow).where(
            FindingRow.rule == "requests.balance", FindingRow.status == "fail")).one()  # fmt: skip
    unbalanced = sorted({f.report_id for f in failing if f.rule == "requests.balance"})
    assert unbalanced, "the demo has reports failing requests.balance"

    # 1. not logged in: the login form; log in through it, and come back to the overview
    browser.get(f"{base}/ui/")
    assert browser.find_elements(By.NAME, "token") and "demo" not in browser.find_element(By.TAG_NAME, "main").text
    _screenshot(browser, tmp_path / "login.png")
    browser.find_element(By.NAME, "token").send_keys(TOKEN)
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.login button"))
    assert browser.current_url == f"{base}/ui/" and not browser.find_elements(By.NAME, "token")
    cookie = next(c for c in browser.get_cookies() if c["name"] == "nianbao_ui")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]

    # 2. the overview: one row for the demo site with its counts
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr td")]
    assert cells[0] == "demo" and cells[2] == str(len(reports)) and cells[3] == str(len(failing))
    _screenshot(browser, tmp_path / "overview.png")

    # 3. the site page: links to every report
    _click_and_wait(browser, browser.find_element(By.LINK_TEXT, "demo"))
    assert browser.current_url == f"{base}/ui/sites/demo"
    hrefs = {a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")}
    assert {f"{base}/ui/reports/{i}" for i in reports} <= hrefs
    _screenshot(browser, tmp_path / "site.png")

    # 4. each unbalanced report: exactly the cells of its failing findings are highlighted
    for report_id in unbalanced:
        report = reports[report_id]
        browser.get(f"{base}/ui/reports/{report_id}")
        expected = {f"c-{cell}" for f in failing if f.report_id == report_id for cell in f.cells}
        marked = browser.find_elements(By.CSS_SELECTOR, "table.report td.fail")
        assert {td.get_attribute("id") for td in marked} == expected
        plain = browser.find_element(By.CSS_SELECTOR, "table.report td.value:not(.fail)")
        colour = marked[0].value_of_css_property("background-color")
        assert colour != plain.value_of_css_property("background-color"), "the stylesheet highlights failing cells"
        at = {f"c-{c['table']}.{c['key']}": c["at"] for c in report.record["cells"]}
        cell = browser.find_element(By.ID, "c-requests.new.natural")
        ActionChains(browser).move_to_element(cell).perform()
        assert cell.get_attribute("title") == CellLocation.model_validate(at["c-requests.new.natural"]).describe()
        original = browser.find_element(By.CSS_SELECTOR, "a.original")
        assert original.get_attribute("href") == report.url
        raw = browser.find_element(By.CSS_SELECTOR, "a.raw").get_attribute("href")
        assert raw == f"{base}/ui/reports/{report_id}/raw"
        _screenshot(browser, tmp_path / f"report-{report_id}.png")
        # the stored copy comes as an attachment, with the browser's own cookie
        jar = {c["name"]: c["value"] for c in browser.get_cookies()}
        response = httpx.get(raw, cookies=jar)
        assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.content == RawStore(settings.resolved_raw_store_dir()).get(report.raw_key)

    # 5. findings: filter by rule with the form
    browser.get(f"{base}/ui/findings")
    Select(browser.find_element(By.NAME, "rule")).select_by_value("requests.balance")
    Select(browser.find_element(By.NAME, "status")).select_by_value("fail")
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filter button"))
    assert "rule=requests.balance" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    assert len(rows) == balance_total and all("requests.balance" in r.text for r in rows)
    _screenshot(browser, tmp_path / "findings.png")
    browser.get(f"{base}/ui/findings?status=maybe")
    assert "status must be" in browser.find_element(By.TAG_NAME, "main").text

    # 6. logging out ends the session
    browser.get(f"{base}/ui/")
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.logout button"))
    browser.get(f"{base}/ui/sites/demo")
    assert browser.find_elements(By.NAME, "token")

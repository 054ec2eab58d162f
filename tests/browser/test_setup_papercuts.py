"""A newcomer's first ten minutes in a real browser: icon, API docs offline, pages that fit the screen, charts.

Widths are measured, not eyeballed: the task page with PBG's nine-lane diagram at 1280 px and at
390 px, and the applicant's list at a phone's 390 px, must not scroll sideways.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from engine.directory.actors import Actor, actor_for
from engine.directory.service import get_user
from tests.browser.conftest import LiveServer
from tests.factories import Driver, pbg_application

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _warga(server: LiveServer) -> Actor:
    with server.ctx.sessions() as session:
        return actor_for(session, get_user(session, "warga"))


def _front_office_task(server: LiveServer) -> str:
    """Start a PBG case filed by the demo applicant and return its first task's id."""
    driver = Driver(server.ctx)
    case = driver.start("pbg", pbg_application(), _warga(server))
    return driver.task(case.id, "Task_kelengkapan").id


def test_favicon_and_api_docs_without_the_network(page: Page, live_server: LiveServer) -> None:
    outside: list[str] = []

    def only_the_platform(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_platform)
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/x-icon"
    page.goto(f"{live_server.url}/")
    href = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    assert href is not None
    assert page.request.get(live_server.url + href).status == 200
    page.goto(f"{live_server.url}/api/docs")
    # The document is ~650 kB: Swagger UI parses and draws it in a few seconds on a loaded machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("MPP", timeout=30_000)
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)  # operations read from /api/openapi.json
    assert outside == []


def test_the_task_page_fits_and_its_diagram_enlarges(page: Page, live_server: LiveServer, login: Callable[..., None],
                                                     axe_check: Callable[..., None],
                                                     shot: Callable[[Page, str], Path]) -> None:
    task_id = _front_office_task(live_server)
    page.set_viewport_size(DESKTOP)
    login(page, "dpmptsp_front_office")
    page.goto(f"{live_server.url}/tugas/{task_id}")
    expect(page.locator("#case-diagram")).to_have_attribute("data-ready", "1")
    assert _page_width(page) <= 1280
    axe_check(page)
    shot(page, "papercuts-task-1280")
    opener = page.get_by_role("button", name="Perbesar diagram")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Diagram proses")
    expect(dialog).to_be_visible()
    large = page.locator("#case-diagram-large")
    expect(large).to_have_attribute("data-ready", "1")
    expect(large).to_be_focused()
    box = large.bounding_box()
    assert box is not None
    assert box["width"] >= 1100
    assert box["height"] >= 600
    expect(large.locator("[data-element-id=Task_kelengkapan]")).to_have_class(re.compile("mpp-active"))
    viewport = large.locator("g.viewport").first
    fitted = viewport.get_attribute("transform")
    page.keyboard.press("+")
    zoomed = viewport.get_attribute("transform")
    assert zoomed != fitted
    page.keyboard.press("ArrowRight")
    assert viewport.get_attribute("transform") != zoomed
    page.get_by_role("button", name="Perkecil").click()
    axe_check(page)
    shot(page, "papercuts-task-diagram-1280")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#case-diagram")).to_have_attribute("data-ready", "1")
    assert _page_width(page) <= 390
    shot(page, "papercuts-task-390")


def test_my_applications_fit_a_phone(page: Page, live_server: LiveServer, login: Callable[..., None],
                                     axe_check: Callable[..., None], shot: Callable[[Page, str], Path]) -> None:
    Driver(live_server.ctx).start("pbg", pbg_application(), _warga(live_server))
    page.set_viewport_size(PHONE)
    login(page, "warga")
    page.goto(f"{live_server.url}/permohonan-saya")
    expect(page.locator("#my-cases tbody tr").first).to_be_visible()
    assert _page_width(page) <= 390
    label = page.locator("#my-cases tbody tr td").first.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Nomor lacak"'  # each row is a card whose values carry their column's name
    axe_check(page)
    shot(page, "papercuts-my-cases-390")


def test_dashboard_charts_are_drawn(page: Page, live_server: LiveServer, login: Callable[..., None],
                                    axe_check: Callable[..., None], shot: Callable[[Page, str], Path]) -> None:
    _front_office_task(live_server)
    page.set_viewport_size(DESKTOP)
    login(page, "admin")
    page.goto(f"{live_server.url}/dasbor?layanan=pbg")
    volume = page.locator("#chart-volume svg")
    expect(volume).to_be_visible()
    expect(volume.locator("rect.bar")).to_have_count(1)  # every case of this module started today
    expect(page.locator("#chart-agency-tasks rect.bar").first).to_be_visible()
    expect(page.locator("#heatmap")).to_have_attribute("data-ready", "1")
    expect(page.locator("#heatmap [data-element-id=Task_kelengkapan]")).to_have_class(re.compile(r"heat-1"))
    axe_check(page)
    assert _page_width(page) <= 1280
    shot(page, "papercuts-dashboard-1280")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(volume).to_be_visible()
    shot(page, "papercuts-dashboard-390")

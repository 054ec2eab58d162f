"""The NIK check in a real browser: "Periksa NIK" on the PBG apply page against the Dukcapil simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from engine.connectors import bindings
from engine.db import transaction
from tests.browser.conftest import LiveServer
from tests.simulators.dukcapil import Registry


@pytest.fixture(scope="module")
def registry(live_server: LiveServer) -> Iterator[Registry]:
    """The simulator, bound as `dukcapil` on the live server."""
    ctx = live_server.ctx
    with Registry() as running:
        with transaction(ctx.sessions) as session:
            bindings.set_binding(session, system="dukcapil", change=bindings.BindingChange(base_url=running.url),
                                 actor="admin", key=ctx.settings.secret_key.get_secret_value())
        yield running


def test_the_applicant_checks_the_nik_and_the_live_region_says_it_matches(
        page: Page, live_server: LiveServer, registry: Registry, login: Callable[[Page, str], None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], object]) -> None:
    login(page, "warga")
    page.goto(live_server.url + "/layanan/pbg/ajukan")
    page.locator("#f-nama_pemohon").fill("Budi Santoso")
    page.locator("#f-nik").fill("3471010101900001")
    button = page.get_by_role("button", name="Periksa NIK")
    button.focus()
    page.keyboard.press("Enter")
    result = page.get_by_role("status").filter(has_text="NIK")
    expect(page.locator("#nik-check-result")).to_have_attribute("data-verdict", "match")
    expect(result).to_contain_text("NIK cocok")
    assert page.url.endswith("/layanan/pbg/ajukan")  # fetched: the page stayed, nothing reloaded
    expect(page.locator("#f-nama_pemohon")).to_have_value("Budi Santoso")
    axe_check(page)
    page.locator("#f-nama_pemohon").fill("Orang Lain")
    button.click()
    expect(page.locator("#nik-check-result")).to_have_attribute("data-verdict", "mismatch")
    expect(page.locator("#nik-check-result")).to_contain_text("tidak cocok")
    shot(page, "nik-check-mismatch")
    assert [r["body"]["nama"] for r in registry.received] == ["Budi Santoso", "Orang Lain"]


def test_without_javascript_the_button_posts_and_the_page_shows_the_result(
        browser: Browser, live_server: LiveServer, registry: Registry,
        login: Callable[[Page, str], None]) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, "warga")
    page.goto(live_server.url + "/layanan/pbg/ajukan")
    page.locator("#f-nama_pemohon").fill("Budi Santoso")
    page.locator("#f-nik").fill("3471010101900001")
    page.get_by_role("button", name="Periksa NIK").click()
    expect(page.locator("#nik-check-result")).to_have_attribute("data-verdict", "match")
    expect(page.locator("#f-nama_pemohon")).to_have_value("Budi Santoso")
    context.close()

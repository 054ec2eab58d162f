"""The Integrasi page in a real browser: an admin binds the system a deployed package calls, through the forms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from engine.connectors import bindings
from tests.browser.conftest import LiveServer
from tests.engine.test_connectors import connector_package
from tests.factories import deploy

SECRET = "token-mitra-4b1d"  # noqa: S105 - a test credential


def test_an_admin_binds_a_partner_system_through_the_form(
        page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Path]) -> None:
    deploy(live_server.ctx, connector_package())
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, "admin")
    page.goto(f"{live_server.url}/dasbor")
    page.get_by_role("link", name="Integrasi: ikatan sistem mitra").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrasi sistem mitra")
    section = page.locator("#sistem-bpjs_tk")
    expect(section.locator(".badge.warn")).to_have_text("belum terhubung")

    # A URL carrying credentials is refused beside its field; what was typed stays, the secret does not.
    section.get_by_label("Alamat dasar (URL)").fill("https://u:p@api.bpjs-tk.example.id")
    section.get_by_label("Jenis autentikasi").select_option("bearer")
    section.get_by_label("Rahasia (token atau kunci API)").fill(SECRET)
    section.get_by_role("button", name="Simpan ikatan").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Alamat dasar tidak boleh memuat kredensial")
    section = page.locator("#sistem-bpjs_tk")
    expect(section.get_by_label("Alamat dasar (URL)")).to_have_value("https://u:p@api.bpjs-tk.example.id")
    expect(section.get_by_label("Rahasia (token atau kunci API)")).to_have_value("")
    axe_check(page)
    summary.get_by_role("link").click()
    expect(section.get_by_label("Alamat dasar (URL)")).to_be_focused()

    section.get_by_label("Alamat dasar (URL)").fill("https://api.bpjs-tk.example.id/v1")
    section.get_by_label("Rahasia (token atau kunci API)").fill(SECRET)
    section.get_by_label("Rahasia (token atau kunci API)").press("Enter")
    expect(page.locator(".flash")).to_have_text("Sistem bpjs_tk tersambung.")
    expect(page.locator("#sistem-bpjs_tk .badge.ok")).to_have_text("terhubung")
    assert SECRET not in page.content()
    expect(page.locator("#sistem-bpjs_tk").get_by_label("Hapus rahasia yang tersimpan")).not_to_be_checked()
    axe_check(page)
    shot(page, "integrations")
    with live_server.ctx.sessions() as session:
        stored = bindings.find(session, system="bpjs_tk")
        assert stored is not None
        assert stored.base_url == "https://api.bpjs-tk.example.id/v1"
        assert bindings.auth_headers(stored, key=live_server.ctx.settings.secret_key.get_secret_value()) == {
            "Authorization": f"Bearer {SECRET}"}

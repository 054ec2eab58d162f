"""The hall's queue in a real browser: a ticket taken at the kiosk, called at a counter, shown on the display;
and a visit slot booked from the portal.

Three browsers share the hall: the kiosk (no login), the officer at counter A1 (`dpmptsp_front_office`,
an officer of the mall's own agency) and the display, which polls the display JSON and announces
the newly called number in its live region without reloading.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, at_both_widths

WIB = ZoneInfo("Asia/Jakarta")


def test_a_kiosk_ticket_is_called_at_a_counter_and_shown_on_the_display(
        page: Page, browser: Browser, live_server: LiveServer, login: Callable[..., None],
        axe_check: Callable[..., None], shot: Callable[[Page, str], Path]) -> None:
    display_context = browser.new_context()
    display = display_context.new_page()
    display.goto(f"{live_server.url}/antrean/layar")
    expect(display.locator("#display-counters")).to_contain_text("A1")

    page.goto(f"{live_server.url}/antrean")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ambil nomor antrean")
    at_both_widths(page, "queue-kiosk", axe_check, shot)
    page.locator("#instansi-dpmptsp").click()
    page.get_by_label("Lansia (60 tahun ke atas)").check()
    at_both_widths(page, "queue-kiosk-agency", axe_check, shot)
    page.locator("#layanan-pbg").click()
    expect(page.locator("#ticket-number")).to_have_text("A-001")
    expect(page.locator("#ticket-ahead")).to_have_text("0")
    expect(page.locator(".ticket")).to_contain_text("Lansia")
    at_both_widths(page, "queue-ticket", axe_check, shot)
    ticket_url = page.url

    officer_context = browser.new_context()
    officer = officer_context.new_page()
    login(officer, "dpmptsp_front_office")
    officer.goto(f"{live_server.url}/loket")
    officer.locator("#loket-A1").click()
    expect(officer.locator("#desk-upcoming")).to_contain_text("A-001")
    officer.get_by_role("button", name="Panggil berikutnya").click()
    expect(officer.locator("#desk-number")).to_have_text("A-001")
    expect(officer.locator("p.flash")).to_have_text("Nomor dipanggil.")
    at_both_widths(officer, "queue-counter", axe_check, shot)

    # The display picks the call up by itself and announces it; the page is not reloaded.
    expect(display.locator('#display-counters li[data-code="A1"] .display-number')).to_have_text("A-001",
                                                                                                  timeout=15000)
    expect(display.locator("#display-announce")).to_have_text("Nomor A-001, Loket A1")
    expect(display.locator("#display-recent")).to_contain_text("A-001")
    at_both_widths(display, "queue-display", axe_check, shot)

    page.goto(ticket_url)
    expect(page.locator("#ticket-call")).to_have_text("Silakan menuju Loket A1")
    officer.get_by_role("button", name="Selesai").click()
    expect(officer.locator("#desk-number")).to_have_text("–")
    officer_context.close()
    display_context.close()


def _next_working_day(server: LiveServer) -> date:
    with server.ctx.sessions() as session:
        calendar = server.ctx.rt.calendars.refresh(session)
    today = datetime.now(UTC).astimezone(WIB).date()
    return next(today + timedelta(days=n) for n in range(1, 15) if calendar.is_working_day(today + timedelta(days=n)))


def test_an_applicant_books_a_visit_slot_and_cancels_it(
        page: Page, live_server: LiveServer, login: Callable[..., None], axe_check: Callable[..., None],
        shot: Callable[[Page, str], Path]) -> None:
    day = _next_working_day(live_server)
    login(page, "warga")
    page.get_by_role("link", name="Booking kunjungan").click()
    page.get_by_label("Layanan", exact=True).select_option("skck")
    page.get_by_label("Tanggal (hari kerja)").fill(day.isoformat())
    page.get_by_role("button", name="Tampilkan slot").click()
    page.get_by_label("09:00").check()
    at_both_widths(page, "queue-booking", axe_check, shot)
    page.get_by_role("button", name="Pesan kunjungan").click()
    expect(page.locator("p.flash")).to_contain_text("Kunjungan dipesan.")
    expect(page.locator("#my-bookings")).to_contain_text("Dipesan")
    at_both_widths(page, "queue-bookings", axe_check, shot)
    page.locator("#my-bookings").get_by_role("button", name="Batalkan").click()
    expect(page.locator("#my-bookings")).to_contain_text("Dibatalkan")

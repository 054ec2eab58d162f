"""The public Standar Pelayanan and Maklumat Pelayanan pages in a real browser: linked, printable, accessible."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.catalogue.standard_components import COMPONENTS
from tests.browser.conftest import LiveServer


def test_a_visitor_opens_and_prints_the_service_standard_of_the_pbg(
        page: Page, live_server: LiveServer, axe_check: Callable[..., None],
        shot: Callable[[Page, str], object]) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/layanan/pbg")
    page.get_by_role("link", name="Standar Pelayanan lengkap (14 komponen, siap cetak)").click()
    expect(page).to_have_url(f"{live_server.url}/layanan/pbg/standar-pelayanan")
    expect(page.get_by_role("heading", level=1)).to_have_text("Standar Pelayanan")
    rows = page.locator("table.sheet-table tbody tr[id^=komponen-]")
    expect(rows).to_have_count(14)
    expect(page.locator("#komponen-7")).to_contain_text("Peraturan Pemerintah Nomor 16 Tahun 2021")
    expect(page.locator("#komponen-6")).to_contain_text("Batas waktu jawaban: 3 hari kerja")
    expect(page.locator("#waktu-pelayanan")).to_contain_text("Jumat 08.00–14.00 WIB")
    axe_check(page)
    shot(page, "standar-pelayanan-1280")

    # On paper: no navigation, no buttons; the sheet alone.
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("#cetak")).to_be_hidden()
    expect(page.locator("#standar-pelayanan")).to_be_visible()
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, as the sheet prints
    shot(page, "standar-pelayanan-print")
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing overflows sideways on a phone
    axe_check(page)
    shot(page, "standar-pelayanan-390")


def test_the_pledge_page_in_english_with_its_signatory(
        page: Page, live_server: LiveServer, axe_check: Callable[..., None],
        shot: Callable[[Page, str], object]) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/layanan/skck/standar-pelayanan?lang=en")
    page.get_by_role("link", name="Service Pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Service Pledge")
    expect(page.locator("#jaminan")).to_contain_text("We, the Yogyakarta City Police, pledge to deliver this service")
    expect(page.locator("#penanda-tangan")).to_have_text("Chief of the Yogyakarta City Police")
    axe_check(page)
    shot(page, "maklumat-pelayanan-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    axe_check(page)
    shot(page, "maklumat-pelayanan-390")


# What an analyst writes over a new draft's placeholders (tests/browser/test_studio_new_service.py uses it).
COMPONENT_TEXTS: dict[str, tuple[str, str]] = {
    "legal_basis": ("Undang-Undang Nomor 9 Tahun 1998 tentang Kemerdekaan Menyampaikan Pendapat di Muka Umum",
                    "Law 9/1998 on Freedom of Expression in Public"),
    "hours": ("Senin–Kamis 08.00–15.00 WIB; Jumat 08.00–14.00 WIB", "Monday–Thursday 08:00–15:00; Friday 08:00–14:00"),
    "complaints": ("Melalui SP4N-LAPOR! dan meja pengaduan MPP", "Through SP4N-LAPOR! and the MPP complaint desk"),
    "facilities": ("Loket Kesbangpol di MPP", "The Kesbangpol counter at the MPP"),
    "competence": ("Memahami peraturan perizinan keramaian", "Knows the public-event permit rules"),
    "supervision": ("Kepala Kesbangpol", "The Head of Kesbangpol"),
    "staffing": ("2 orang", "2 officers"),
    "guarantee": ("Izin selesai dalam 3 hari kerja", "The permit within 3 working days"),
    "security": ("Data pemohon dirahasiakan", "Applicants' data is kept confidential"),
    "evaluation": ("SKM tiap semester", "SKM survey each semester"),
}


def fill_standard_components(page: Page) -> None:
    """Write every `[standard]` component, both languages, in the studio's service-standard form."""
    for component in COMPONENTS:
        label = component.label[0] + (", satu per baris" if component.kind == "list" else "")
        text_id, text_en = COMPONENT_TEXTS[component.key]
        page.get_by_label(f"{label} (bahasa Indonesia)", exact=True).fill(text_id)
        page.get_by_label(f"{label} (bahasa Inggris)", exact=True).fill(text_en)

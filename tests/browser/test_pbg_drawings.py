"""PBG drawings in a real browser: filed with the required documents, uploaded by the consultant, opened by the panel.

One case, in order: the applicant files without the land proof and is told which requirement is
missing, then files with it; the front office finds the file complete; the design consultant
uploads three drawing files (PDF and PNG made here); the expert panel sees them on its task page
under "Berkas dari langkah sebelumnya" with the step and the uploader, opens one and gets its
bytes; an officer with no part in the case gets 404; the applicant's tracking page lists their
own uploads. axe-core checks each page; screenshots at 1280 and 390 px.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect
from sqlalchemy import select

from engine.directory.actors import Actor, actor_for
from engine.models import User
from tests.browser.conftest import LiveServer, accept_privacy_notice
from tests.browser.test_pbg_journey import APPLICATION, set_field
from tests.factories import Driver

NARROW: ViewportSize = {"width": 390, "height": 844}
WIDE: ViewportSize = {"width": 1280, "height": 900}


def pdf(text: str) -> bytes:
    """Return a small, valid one-page PDF showing `text` (the file store checks the magic number only)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
               b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def png(width: int = 8, height: int = 8) -> bytes:
    """Return a small, valid grey PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


DRAWINGS = {"gambar_arsitektur": ("denah-tampak.pdf", "application/pdf", pdf("Denah dan tampak")),
            "gambar_struktur": ("struktur.png", "image/png", png()),
            "gambar_mep": ("mep.pdf", "application/pdf", pdf("Mekanikal elektrikal plambing"))}


def payload(name: str, kind: str, data: bytes) -> FilePayload:
    """Return a file for an input[type=file], as the user would pick it."""
    return {"name": name, "mimeType": kind, "buffer": data}


def _actor(live_server: LiveServer, username: str) -> Actor:
    with live_server.ctx.sessions() as session:
        return actor_for(session, session.scalars(select(User).where(User.username == username)).one())


def _both_widths(page: Page, shot: Callable[..., Any], name: str) -> None:
    for size, suffix in ((WIDE, "1280"), (NARROW, "390")):
        page.set_viewport_size(size)
        shot(page, f"{name}-{suffix}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} is {width} px wide at {size['width']} px"
    page.set_viewport_size(WIDE)


@pytest.fixture(scope="module")
def case() -> dict[str, Any]:
    """What one step leaves for the next: the tracking number and the case id."""
    return {}


def test_the_applicant_must_give_the_required_documents(page: Page, live_server: LiveServer,
                                                        login: Callable[..., None], axe_check: Callable[..., None],
                                                        shot: Callable[..., Any], case: dict[str, Any]) -> None:
    login(page, "warga")
    page.goto(f"{live_server.url}/layanan/pbg/ajukan")
    for name, value in APPLICATION.items():
        set_field(page, name, value)
    page.locator("#f-doc__ktp").set_input_files(payload("ktp.pdf", "application/pdf", pdf("KTP")))
    accept_privacy_notice(page)
    page.get_by_role("button", name="Kirim permohonan").click()
    # The missing land proof is named beside its upload and in the summary; the ID card stays uploaded.
    expect(page.locator("#f-doc__bukti_tanah-error")).to_contain_text("Dokumen persyaratan wajib diunggah")
    expect(page.locator("#error-summary")).to_contain_text("Bukti kepemilikan tanah")
    expect(page.locator("input[name=doc__ktp__keep]")).to_be_checked()
    axe_check(page)
    page.locator("#f-doc__bukti_tanah").set_input_files(payload("sertifikat.pdf", "application/pdf",
                                                                pdf("Sertifikat tanah")))
    page.get_by_role("button", name="Kirim permohonan").click()
    expect(page.get_by_role("heading", name="Permohonan diterima")).to_be_visible()
    case["number"] = page.locator("#tracking-number").inner_text().strip()
    with live_server.ctx.sessions() as session:
        from engine.cases.tracking import case_id_of

        case["id"] = case_id_of(session, number=case["number"])
    Driver(live_server.ctx).complete(case["id"], "Task_kelengkapan", _actor(live_server, "dpmptsp_front_office"),
                                     {"kelengkapan": "lengkap"})


def test_the_consultant_uploads_the_drawings(page: Page, live_server: LiveServer, login: Callable[..., None],
                                             axe_check: Callable[..., None], shot: Callable[..., Any],
                                             case: dict[str, Any]) -> None:
    assert case, "the application step must run first"
    login(page, "konsultan_griya_perencana")
    page.goto(f"{live_server.url}/kotak-tugas")
    page.locator("#task-table tbody tr a[href^='/tugas/']").first.click()
    expect(page.locator("#f-gambar_arsitektur")).to_have_attribute("type", "file")
    axe_check(page)
    _both_widths(page, shot, "drawings-upload")
    for name, (filename, kind, data) in DRAWINGS.items():
        page.locator(f"#f-{name}").set_input_files(payload(filename, kind, data))
    set_field(page, "nama_penanggung_jawab", "Ir. Sri Wahyuni")
    set_field(page, "nomor_sertifikat_keahlian", "SKA-1-2345")
    page.get_by_role("button", name="Selesaikan tugas").click()
    expect(page.get_by_role("status")).to_contain_text(case["number"])


def test_the_expert_panel_opens_the_drawings_and_outsiders_cannot(
        browser: Browser, page: Page, live_server: LiveServer, login: Callable[..., None],
        axe_check: Callable[..., None], shot: Callable[..., Any], case: dict[str, Any]) -> None:
    assert case, "the application step must run first"
    login(page, "pupr_tpa")
    page.goto(f"{live_server.url}/kotak-tugas")
    page.locator("#task-table tbody tr a[href^='/tugas/']").first.click()
    files = page.locator("#case-files")
    expect(page.get_by_role("heading", name="Berkas dari langkah sebelumnya")).to_be_visible()
    for filename, *_ in DRAWINGS.values():
        expect(files).to_contain_text(filename)
    drawing = files.locator("li", has_text="struktur.png")
    expect(drawing).to_contain_text("Gambar struktur")
    expect(drawing).to_contain_text("Penyusunan/pengunggahan gambar teknis")
    expect(drawing).to_contain_text("oleh")
    expect(files.locator("li", has_text="sertifikat.pdf")).to_contain_text("Bukti kepemilikan tanah")
    axe_check(page)
    _both_widths(page, shot, "drawings-panel-task")

    hrefs = {}
    for filename, kind, data in DRAWINGS.values():
        href = files.get_by_role("link", name=re.compile(re.escape(filename))).get_attribute("href")
        assert href
        assert re.fullmatch(r"/berkas/\d+", href)
        answer = page.request.get(live_server.url + href)
        assert answer.status == 200
        assert answer.body() == data
        assert answer.headers["content-type"] == kind
        assert answer.headers["content-disposition"].startswith("inline")
        hrefs[filename] = href
    # Clicking opens the PDF itself in a new tab.
    with page.context.expect_page() as opened:
        files.get_by_role("link", name=re.compile("denah-tampak.pdf")).click()
    assert opened.value.url.endswith(hrefs["denah-tampak.pdf"])

    # An officer with no part in the case gets the same 404 as for a file that does not exist.
    outsider = browser.new_page()
    login(outsider, "disdukcapil_petugas")
    for href in hrefs.values():
        assert outsider.request.get(live_server.url + href).status == 404
    assert outsider.request.get(live_server.url + "/berkas/999999").status == 404
    outsider.close()


def test_the_applicant_sees_their_own_uploads_when_tracking(page: Page, live_server: LiveServer,
                                                            login: Callable[..., None],
                                                            axe_check: Callable[..., None],
                                                            shot: Callable[..., Any], case: dict[str, Any]) -> None:
    assert case, "the application step must run first"
    login(page, "warga")
    page.goto(f"{live_server.url}/lacak/{case['number']}")
    own = page.locator("#own-files")
    expect(own).to_contain_text("ktp.pdf")
    expect(own).to_contain_text("sertifikat.pdf")
    expect(own).not_to_contain_text("struktur.png")  # the consultant's, not theirs
    href = own.get_by_role("link", name=re.compile("ktp.pdf")).get_attribute("href")
    answer = page.request.get(live_server.url + str(href))
    assert (answer.status, answer.body()) == (200, pdf("KTP"))
    axe_check(page)
    _both_widths(page, shot, "drawings-tracking")

"""The signing step: the number the PBG will get, shown read-only, and the unsigned preview PDF."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pypdf
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.context import AppContext
from engine.models import DocumentNumber, IssuedDocument, StoredFile
from tests.api.conftest import login  # noqa: F401 - fixture
from tests.api.test_tasks import FRONT, GRIYA, api_drawings, complete, start, task_of
from tests.factories import APPROVED, PAID, SKRD, SPPST

PageLogin = Callable[[str], str]
ApiLogin = Callable[[str], dict[str, str]]
HEAD = "dpmptsp_kepala"


def to_signing(client: TestClient, login: ApiLogin) -> tuple[dict[str, Any], str]:
    """Take a PBG case through every step up to the head of office's signature; return it and the task id."""
    case = start(client, login)
    for username, element_id, data in [
        (FRONT, "Task_kelengkapan", {"kelengkapan": "lengkap"}),
        (GRIYA, "Task_gambar_teknis", api_drawings(client, login(GRIYA))),
        ("pupr_tpa", "Task_tpa", APPROVED),
        ("pupr_teknis", "Task_sppst", SPPST),
        ("dpmptsp_back_office", "Task_skrd", SKRD),
        ("warga", "Task_pembayaran", PAID),
        ("dpmptsp_kasir", "Task_verifikasi", {"pembayaran_valid": True}),
    ]:
        complete(client, login, username, case["id"], element_id, data)
    return case, task_of(client, login, case["id"], "Task_tanda_tangan")


def counts(ctx: AppContext) -> tuple[int, int, int]:
    with ctx.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(table)) or 0  # type: ignore[return-value]
                     for table in (IssuedDocument, DocumentNumber, StoredFile))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_head_of_office_sees_the_number_and_previews_the_unsigned_document(
        client: TestClient, login: ApiLogin, page_login: PageLogin, catalogue: AppContext) -> None:
    case, task_id = to_signing(client, login)
    page_login(HEAD)
    html = client.get(f"/tugas/{task_id}").text
    number = re.search(r'<output id="signing-number">([^<]+)</output>', html)
    assert number is not None
    assert re.fullmatch(r"SK-PBG-3471-\d{8}-001", number.group(1))
    assert 'name="nomor_pbg"' not in html  # no text box: the platform gives the number
    assert f'href="/tugas/{task_id}/pratinjau-dokumen"' in html
    before = counts(catalogue)
    response = client.get(f"/tugas/{task_id}/pratinjau-dokumen")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    text = pdf_text(response.content)
    assert "PRATINJAU - BELUM DITANDATANGANI / PREVIEW - NOT SIGNED" in text
    assert number.group(1) in text
    assert "Budi Santoso" in text
    assert "Kode verifikasi" not in text  # no QR code, no verification entry
    assert counts(catalogue) == before  # nothing issued, drawn or stored
    # Signing issues the document with the number shown.
    token = client.cookies["mpp_csrf"]
    signed = client.post(f"/tugas/{task_id}", data={"csrf_token": token, "tanggal_pbg": "2026-03-02"},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text
    with catalogue.sessions() as session:
        assert session.scalar(select(DocumentNumber.number).where(DocumentNumber.case_id == case["id"])) \
            == number.group(1)


def test_nobody_else_gets_the_preview(client: TestClient, login: ApiLogin, page_login: PageLogin,
                                      catalogue: AppContext) -> None:
    case, task_id = to_signing(client, login)
    url = f"/tugas/{task_id}/pratinjau-dokumen"
    page_login("warga")  # the applicant
    assert client.get(url).status_code == 403
    page_login("dpmptsp_kasir")  # an officer of the agency without the signing role
    assert client.get(url).status_code == 403
    page_login("pupr_tpa")  # an officer of another agency
    assert client.get(url).status_code == 403
    page_login(HEAD)
    assert client.get("/tugas/00000000-0000-0000-0000-000000000000/pratinjau-dokumen").status_code == 404
    # A task that signs nothing has no preview.
    other = start(client, login)
    page_login(FRONT)
    first = task_of(client, login, other["id"], "Task_kelengkapan")
    assert client.get(f"/tugas/{first}/pratinjau-dokumen").status_code == 404
    assert 'id="preview-link"' not in client.get(f"/tugas/{first}").text
    assert counts(catalogue)[:2] == (0, 0)
    assert case["id"] != other["id"]


def shown_number(client: TestClient, task_id: str) -> tuple[str, str]:
    html = client.get(f"/tugas/{task_id}").text
    number = re.search(r'<output id="signing-number">([^<]+)</output>', html)
    note = re.search(r'<small class="muted" id="signing-number-note">([^<]+)</small>', html)
    assert number is not None, html
    assert note is not None, html
    return number.group(1), note.group(1)


def test_the_number_shown_is_a_forecast_until_the_case_has_its_own(
        client: TestClient, login: ApiLogin, page_login: PageLogin, catalogue: AppContext) -> None:
    from engine.documents import numbering

    case, task_id = to_signing(client, login)
    page_login(HEAD)
    first, note = shown_number(client, task_id)
    assert note.startswith("Perkiraan")
    fmt = "SK-PBG-3471-{dd}{mm}{yyyy}-{seq:03}"  # processes/pbg/service.toml
    at = catalogue.rt.clock()  # the day the page forecasts for
    with catalogue.sessions() as session:
        # Another PBG document is issued first: it takes the number this page showed.
        other = start(client, login)
        taken = numbering.draw(session, case_id=other["id"], fmt=fmt,
                               ctx=numbering.NumberContext(process_key="pbg", agency="dpmptsp", at=at))
        session.commit()
    page_login(HEAD)
    moved, note = shown_number(client, task_id)
    assert taken == first
    assert moved != first
    assert note.startswith("Perkiraan")
    with catalogue.sessions() as session:
        own = numbering.draw(session, case_id=case["id"], fmt=fmt,
                             ctx=numbering.NumberContext(process_key="pbg", agency="dpmptsp", at=at))
        session.commit()
    final, note = shown_number(client, task_id)
    assert final == own == moved
    assert note.startswith("Nomor dokumen permohonan ini")

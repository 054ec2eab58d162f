"""Labels instead of codes, send-back reasons, error summaries and "where did the case go" (issue 16)."""

from __future__ import annotations

import io
import re
from typing import Any

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from engine.catalogue import labels as labels
from engine.context import AppContext
from engine.documents import service as documents
from engine.models import OpenTask
from tests.documents import actor_named, issued_pbg, pbg_cast
from tests.factories import pbg_slot_files
from tests.web.test_pages import APPLICATION, PDF, apply, csrf, front_office_task, log_in

pytestmark = pytest.mark.postgres

UUID = r"[0-9a-f-]{36}"


def _send_back(client: TestClient) -> tuple[TestClient, str]:
    """The front office finds the PBG file incomplete; return its client and the redirect's location."""
    front, task_id, token = front_office_task(client)
    done = front.post(f"/tugas/{task_id}", data={"kelengkapan": "tidak_lengkap", "csrf_token": token,
                                                 "catatan_kelengkapan": "Sertifikat tanah belum diunggah."},
                      follow_redirects=False)
    assert done.status_code == 303
    return front, done.headers["location"]


def test_officer_pages_show_labels_and_where_the_case_went(client: TestClient) -> None:
    front, task_id, _token = front_office_task(client)
    page = front.get(f"/tugas/{task_id}")
    assert re.search(r'data-field="fungsi_bangunan">Hunian<', page.text)
    assert re.search(r'data-field="channel">Daring[^<]*<', page.text)
    assert re.search(r'data-field="consultant">CV Griya Rancang Yogya<', page.text)
    english = front.get(f"/tugas/{task_id}?lang=en")
    assert "Building function" in english.text
    assert re.search(r'data-field="fungsi_bangunan">Residential<', english.text)
    front.get("/?lang=id")
    location = _send_back_from(front, task_id)
    inbox = front.get(location)
    message = re.search(r'id="done-message">([^<]+)<', inbox.text)
    assert message, "no completion message"
    assert "Melengkapi berkas" in message.group(1)
    assert "pemohon" in message.group(1)
    english_inbox = front.get(location + "&lang=en")
    assert "The case went on to" in english_inbox.text
    assert "the applicant" in english_inbox.text
    # Another officer reusing the address learns nothing: only who completed the task is told.
    stranger = TestClient(client.app)
    log_in(stranger, "dpmptsp_back_office")
    assert 'id="done-message"' not in stranger.get(location).text


def _send_back_from(front: TestClient, task_id: str) -> str:
    token = csrf(front, f"/tugas/{task_id}")
    done = front.post(f"/tugas/{task_id}", data={"kelengkapan": "tidak_lengkap", "csrf_token": token,
                                                 "catatan_kelengkapan": "Sertifikat tanah belum diunggah."},
                      follow_redirects=False)
    assert done.status_code == 303
    assert re.search(rf"tugas={UUID}", done.headers["location"])
    return str(done.headers["location"])


def test_the_send_back_reason_reaches_the_applicant_with_its_step(client: TestClient) -> None:
    _send_back(client)  # `client` is the applicant (warga)
    task_id = re.findall(rf'href="/permohonan-saya/tugas/({UUID})"', client.get("/permohonan-saya").text)[0]
    page = client.get(f"/permohonan-saya/tugas/{task_id}")
    reason = re.search(r'data-reason="send_back_reason" data-field="catatan_kelengkapan">(.*?)</div>', page.text, re.S)
    assert reason, "no send-back reason on the applicant's task page"
    assert "Sertifikat tanah belum diunggah." in reason.group(1)
    assert "Pemeriksaan kelengkapan berkas" in reason.group(1)  # the step that wrote it
    assert "Yang perlu diperbaiki" in reason.group(1)
    english = client.get(f"/permohonan-saya/tugas/{task_id}?lang=en")
    assert "What needs fixing" in english.text
    assert "from the step" in english.text
    number = re.search(r"MPP-[0-9A-Z]{4}-[0-9A-Z]{4}", page.text).group(0)  # type: ignore[union-attr]
    tracked = client.get(f"/lacak/{number}")
    assert 'data-reason="send_back_reason"' in tracked.text
    assert "Sertifikat tanah belum diunggah." in tracked.text


def test_a_refused_file_is_summarised_with_every_other_error_by_label(client: TestClient) -> None:
    _send_back(client)
    task_id = re.findall(rf'href="/permohonan-saya/tugas/({UUID})"', client.get("/permohonan-saya").text)[0]
    url = f"/permohonan-saya/tugas/{task_id}"
    refused = client.post(url, data={"csrf_token": csrf(client, url)},
                          files={"dokumen_tambahan": ("evil.html", b"<script>alert(1)</script>", "application/pdf")})
    assert refused.status_code == 422
    summary = re.search(r'id="error-summary".*?</div>', refused.text, re.S)
    assert summary, "no error summary"
    links = dict(re.findall(r'<a href="#(f-[a-z_]+)" data-field="[a-z_]+">([^<]+)</a>', summary.group(0)))
    assert links == {"f-dokumen_tambahan": "Dokumen tambahan", "f-keterangan_perbaikan": "Keterangan perbaikan"}
    assert "evil.html" in summary.group(0)
    assert 'id="f-keterangan_perbaikan-error"' in refused.text  # beside its field too
    english = client.post(url + "?lang=en", data={"csrf_token": csrf(client, url)},
                          files={"dokumen_tambahan": ("evil.html", b"<script>", "application/pdf")})
    assert "Please check these fields" in english.text
    assert ">Additional documents</a>" in english.text
    assert ">What was completed</a>" in english.text
    ok = client.post(url, data={"csrf_token": csrf(client, url), "keterangan_perbaikan": "Sudah diunggah."},
                     files={"dokumen_tambahan": ("sertifikat.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert ok.status_code == 303


def test_the_issued_document_and_its_verification_show_labels(client: TestClient, catalogue: AppContext) -> None:
    cast = pbg_cast(catalogue, prefix="lbl", applicant=actor_named(catalogue, "warga"))
    _case, doc = issued_pbg(catalogue, cast)
    with catalogue.sessions() as session:
        _row, data = documents.document_pdf(session, settings=catalogue.settings, document_id=doc.id)
    text = " ".join("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages).split())
    assert "fungsi hunian" in text
    assert "CV Griya Rancang Yogya" in text
    assert "Retribusi PBG: Rp275.644" in text
    assert "konsultan_griya" not in text
    assert re.search(r"Fungsi bangunan / Building function\s*Hunian", text)
    page = client.get(f"/verifikasi/{doc.verify_code}")
    assert re.search(r"<dt>Fungsi bangunan</dt><dd>Hunian</dd>", page.text)
    english = client.get(f"/verifikasi/{doc.verify_code}?lang=en")
    assert re.search(r"<dt>Building function</dt><dd>Residential</dd>", english.text)


def test_apply_page_summary_names_fields_by_label(client: TestClient) -> None:
    log_in(client, "warga")
    status, html = apply(client, consultant="")
    assert status == 422
    summary = re.search(r'id="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary"
    assert ">Konsultan perencana</a>" in summary.group(0)
    assert ">consultant</a>" not in summary.group(0)
    token = csrf(client, "/layanan/pbg/ajukan")
    both = client.post("/layanan/pbg/ajukan", data={**APPLICATION, "consultant": "", "csrf_token": token},
                       files=[("dokumen", ("evil.html", b"<script>alert(1)</script>", "application/pdf")),
                              *pbg_slot_files()])
    assert both.status_code == 422
    summary = re.search(r'id="error-summary".*?</div>', both.text, re.S)
    assert summary, "no error summary"
    assert ">Konsultan perencana</a>" in summary.group(0)  # not hidden by the refused file
    assert ">Dokumen pendukung lain</a>: evil.html" in summary.group(0)


def test_task_and_case_pages_read_the_package_files_once_per_version_not_at_every_view(
        client: TestClient, catalogue: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    front, task_id, _token = front_office_task(client)  # its first view reads the version's files
    with catalogue.sessions() as session:
        case_id = session.scalar(select(OpenTask.case_id).where(OpenTask.id == task_id))
    reads: list[str] = []
    parses: list[str] = []
    real_parse = labels.parse_xml

    def counting_parse(data: bytes, *, filename: str, **kwargs: Any) -> Any:
        parses.append(filename)
        return real_parse(data, filename=filename, **kwargs)

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "process_file" in statement:
            reads.append(statement)

    monkeypatch.setattr(labels, "parse_xml", counting_parse)
    event.listen(catalogue.engine, "before_cursor_execute", on_statement)
    try:
        page = front.get(f"/tugas/{task_id}")
        english = front.get(f"/tugas/{task_id}?lang=en")
        front.get("/?lang=id")
        case_page = front.get(f"/kasus/{case_id}")
        _send_back_from(front, task_id)
        applicant_task = re.findall(rf'href="/permohonan-saya/tugas/({UUID})"', client.get("/permohonan-saya").text)[0]
        mine = client.get(f"/permohonan-saya/tugas/{applicant_task}")
    finally:
        event.remove(catalogue.engine, "before_cursor_execute", on_statement)
    # Labels, step names and reasons as before, from the runtime's per-version cache.
    assert re.search(r'data-field="fungsi_bangunan">Hunian<', page.text)
    assert re.search(r'data-field="fungsi_bangunan">Residential<', english.text)
    assert case_page.status_code == 200
    assert re.search(r'data-field="fungsi_bangunan">Hunian<', case_page.text)
    reason = re.search(r'data-reason="send_back_reason" data-field="catatan_kelengkapan">(.*?)</div>', mine.text, re.S)
    assert reason, "no send-back reason on the applicant's task page"
    assert "Pemeriksaan kelengkapan berkas" in reason.group(1)  # the step that wrote it, by its name
    # Before, each of these pages read the version's forms and parsed its BPMN files again (labels, step names,
    # reasons: twice on a task page).
    assert reads == []
    assert parses == []

"""The service-standard form and the template editor over HTTP: CSRF, who may open them, saves, lint, previews."""

from __future__ import annotations

import html
import json
import re
import tomllib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from engine.catalogue import blank, drafts
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import actor_for
from engine.models import PackageDraft
from tests.factories import make_analyst

Login = Callable[[str], str]
AGENCY = "dinas_uji"


def new_draft(ctx: AppContext, username: str, key: str = "izin_uji") -> int:
    """Start a draft of a new service of AGENCY (declared in its service.toml) as the given analyst."""
    with transaction(ctx.sessions) as session:
        user = directory.get_user(session, username)
        draft = drafts.create_blank(session, actor_for(session, user), blank.NewService(
            key=key, agency=AGENCY, name_id="Izin Uji", name_en="Test Permit",
            roles=[blank.RoleDecl("loket", "Petugas loket", "Counter officer")],
            agency_name_id="Dinas Uji", agency_name_en="Test Office"))
        return draft.id


def stored(ctx: AppContext, draft_id: int, name: str = "service.toml") -> bytes:
    with ctx.sessions() as session:
        return drafts.read_file(session, session.get(PackageDraft, draft_id), name)


def form_values(page: str) -> list[tuple[str, str]]:
    """Return what a browser would post from the standard form: inputs, checked boxes, selected options."""
    form = re.search(r'<form method="post" action="/studio/draf/\d+/standar".*?</form>', page, re.S)
    assert form is not None
    body = re.sub(r"<template.*?</template>", "", form.group(0), flags=re.S)
    values: list[tuple[str, str]] = []
    pattern = r"<(input|textarea|select)\b([^>]*)>(.*?)(?=<(?:input|textarea|select|/textarea|/select)\b|$)"
    for tag in re.finditer(pattern, body, re.S):
        kind, attrs, rest = tag.groups()
        name = re.search(r'\bname="([^"]*)"', attrs)
        if name is None:
            continue
        if kind == "textarea":
            values.append((name[1], html.unescape(rest)))
        elif kind == "select":
            chosen = re.search(r'<option value="([^"]*)"[^>]*\bselected', rest) or re.search(r'<option value="([^"]*)"',
                                                                                             rest)
            values.append((name[1], html.unescape(chosen[1]) if chosen else ""))
        elif 'type="checkbox"' in attrs:
            if re.search(r"\bchecked\b", attrs):
                values.append((name[1], html.unescape(re.search(r'\bvalue="([^"]*)"', attrs)[1])))
        else:
            value = re.search(r'\bvalue="([^"]*)"', attrs)
            values.append((name[1], html.unescape(value[1]) if value else ""))
    return values


def post(http: TestClient, draft_id: int, values: list[tuple[str, str]], **changes: str) -> Response:
    data = [(k, v) for k, v in values if k not in changes] + list(changes.items())
    return http.post(f"/studio/draf/{draft_id}/standar", data=dict(_grouped(data)), follow_redirects=False)


def _grouped(values: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    grouped: dict[str, list[str]] = {}
    for k, v in values:
        grouped.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}


@pytest.fixture
def draft(catalogue: AppContext) -> int:  # noqa: F811 - the imported fixture
    make_analyst(catalogue, "analis_uji", AGENCY)
    make_analyst(catalogue, "analis_lain", "dinas_lain")
    return new_draft(catalogue, "analis_uji")


def test_the_form_shows_every_field_and_saves_unchanged_as_the_same_bytes(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/standar")
    assert page.status_code == 200
    for label in ("Nama layanan (bahasa Indonesia)", "Jangka waktu (hari kerja)", "Kanal layanan", "Persyaratan 1",
                  "Instansi 1", "Kode peran", "Formulir permohonan"):
        assert label in page.text
    assert 'name="key" value="izin_uji"' in page.text
    assert "readonly" in page.text
    before = stored(catalogue, draft)
    response = post(client, draft, form_values(page.text), csrf_token=token)
    assert response.status_code == 303, response.text
    assert stored(catalogue, draft) == before
    saved = client.get(response.headers["location"])
    assert "Standar pelayanan disimpan" in saved.text


def test_a_save_writes_the_values_and_keeps_comments_and_unknown_keys(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    raw = stored(catalogue, draft).decode().replace("\nrequirements = [", '\n# kept comment\nkunci_baru = ["utama"]'
                                                    "\nrequirements = [")
    with transaction(catalogue.sessions) as session:
        row = session.get(PackageDraft, draft)
        user = directory.get_user(session, "analis_uji")
        drafts.save_file(session, actor_for(session, user), row, name="service.toml", content=raw.encode(),
                         loaded_revision=row.revision)
    page = client.get(f"/studio/draf/{draft}/standar").text
    assert "<code>kunci_baru</code>" in page  # named as a key the form keeps
    values = form_values(page) + [("req-7-id", "Pas foto 3x4"), ("req-7-en", "Passport photo 3x4")]
    response = post(client, draft, [v for v in values if v[0] != "channels"], csrf_token=token, sla_days="7",
                    name_en="Trial Permit", channels="drive_thru")
    assert response.status_code == 303, response.text
    text = stored(catalogue, draft).decode()
    data = tomllib.loads(text)
    assert data["sla_days"] == 7
    assert data["name"] == {"id": "Izin Uji", "en": "Trial Permit"}
    assert data["channels"] == ["drive_thru"]
    assert data["requirements"][-1] == {"id": "Pas foto 3x4", "en": "Passport photo 3x4"}
    assert data["kunci_baru"] == ["utama"]
    assert "# kept comment" in text
    assert text.startswith("# Service standard of izin_uji")


def test_the_form_needs_its_csrf_token(client: TestClient, page_login: Login, draft: int) -> None:  # noqa: F811
    page_login("analis_uji")
    values = form_values(client.get(f"/studio/draf/{draft}/standar").text)
    response = post(client, draft, [v for v in values if v[0] != "csrf_token"])
    assert response.status_code == 403


def test_another_agencys_analyst_gets_a_404(client: TestClient, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_lain")
    assert client.get(f"/studio/draf/{draft}/standar").status_code == 404
    assert client.get(f"/studio/draf/{draft}/templat?nama=documents/izin.html").status_code == 404
    assert client.post(f"/studio/draf/{draft}/standar", data={"csrf_token": token, "sla_days": "3"}).status_code == 404
    preview = client.post(f"/studio/draf/{draft}/templat/pratinjau", data={"nama": "documents/a.html", "isi": "x"},
                          headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert preview.status_code == 404


def test_bad_values_come_back_with_a_message_on_each_field_and_nothing_lost(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    before = stored(catalogue, draft)
    values = form_values(client.get(f"/studio/draf/{draft}/standar").text)
    response = post(client, draft, [v for v in values if v[0] != "channels"], csrf_token=token, sla_days="0",
                    name_en="", product_id="Surat izin baru", **{"ag-0-role-0-key": "Loket!"})
    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="f-sla_days"[^>]*aria-invalid="true"', page)
    assert 'id="e-sla_days"' in page
    assert "SLA harus bilangan bulat hari kerja, 1 sampai 365" in page
    assert 'id="e-name_en"' in page
    assert "Nama layanan (bahasa Inggris) wajib diisi" in page
    assert 'id="e-channels"' in page
    assert "Pilih sekurang-kurangnya satu kanal layanan" in page
    assert 'id="e-ag-0-role-0-key"' in page
    assert '<a href="#f-sla_days">' in page  # the summary links to the field
    assert 'value="Surat izin baru"' in page  # what the analyst typed is still there
    assert stored(catalogue, draft) == before


def test_english_pages_give_english_messages(client: TestClient, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    client.get("/?lang=en")
    values = form_values(client.get(f"/studio/draf/{draft}/standar").text)
    response = post(client, draft, values, csrf_token=token, sla_days="x")
    assert "The SLA must be a whole number of working days, 1 to 365" in response.text


def test_a_conflicting_save_keeps_the_analysts_values_and_can_replace_the_other(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    make_analyst(catalogue, "analis_kedua", AGENCY)
    token = page_login("analis_uji")
    values = form_values(client.get(f"/studio/draf/{draft}/standar").text)
    with transaction(catalogue.sessions) as session:  # another analyst saves in between
        row = session.get(PackageDraft, draft)
        raw = drafts.read_file(session, row, "service.toml").replace(b"sla_days = 5", b"sla_days = 9")
        drafts.save_file(session, actor_for(session, directory.get_user(session, "analis_kedua")), row,
                         name="service.toml", content=raw, loaded_revision=row.revision)
    response = post(client, draft, values, csrf_token=token, fee_id="Rp10.000", fee_en="Rp10,000")
    assert response.status_code == 409
    assert "analis_kedua" in response.text
    assert 'id="standard-conflict"' in response.text
    assert 'value="Rp10.000"' in response.text or ">Rp10.000</textarea>" in response.text
    assert tomllib.loads(stored(catalogue, draft).decode())["sla_days"] == 9
    # The analyst chooses to save over it.
    kept = form_values(response.text)
    replaced = post(client, draft, kept, csrf_token=token, aksi="timpa")
    assert replaced.status_code == 303, replaced.text
    data = tomllib.loads(stored(catalogue, draft).decode())
    assert data["fee"] == {"id": "Rp10.000", "en": "Rp10,000"}
    assert data["sla_days"] == 5


def test_a_lint_problem_is_shown_on_the_field_it_names(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    values = form_values(client.get(f"/studio/draf/{draft}/standar").text)
    # A valid form value that lint refuses: channels the start form's channel enum does not allow is a
    # data-flow check; simpler: a document issued at an end event the diagram does not have.
    response = post(client, draft, values, csrf_token=token, doc_on="1", doc_title_id="Surat Izin Uji",
                    doc_title_en="Test Permit", doc_end_events="EndEvent_tidak_ada", doc_holder_field="nama_pemohon")
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    lint = re.search(r'<fieldset id="f-doc_end_events".*?</fieldset>', page, re.S)
    assert lint is not None
    assert "EndEvent_tidak_ada" in lint.group(0)
    assert 'class="field-lint error"' in lint.group(0)
    assert '<a href="#f-doc_end_events">' in page  # and in the summary, linked to the field


def test_add_and_remove_row_buttons_work_without_javascript(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    before = stored(catalogue, draft)
    values = form_values(client.get(f"/studio/draf/{draft}/standar").text)
    added = post(client, draft, values, csrf_token=token, aksi="tambah-req")
    assert added.status_code == 200
    assert 'id="f-req-1-id"' in added.text
    removed = post(client, draft, form_values(added.text), csrf_token=token, aksi="hapus-req-0")
    assert 'value="KTP pemohon"' not in removed.text  # the first row went, the added (empty) one stayed
    assert 'id="f-req-0-id" name="req-0-id" value=""' in removed.text
    assert 'id="f-req-1-id"' not in removed.text
    assert stored(catalogue, draft) == before  # nothing saved until "Simpan"


def test_a_document_template_preview_renders_the_sample_data(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/templat", params={"dokumen": "izin"})
    assert page.status_code == 200
    assert 'id="template-new"' in page.text
    assert "mpp/document.html" in page.text
    source = '{% extends "mpp/document.html" %}{% block opening %}<p>Pemohon: {{ data.nama_pemohon }}</p>{% endblock %}'
    sample = json.dumps({"nama_pemohon": "Siti Aminah", "nik": "3471010101010001"})
    answer = client.post(f"/studio/draf/{draft}/templat/pratinjau",
                         data={"nama": "documents/izin.html", "isi": source, "data": sample},
                         headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "document"
    assert "Pemohon: Siti Aminah" in body["html"]
    assert "DINAS UJI" in body["page"]
    assert body["pdf"].startswith("JVBER")  # %PDF, base64
    # Without JavaScript the same route answers with the page, the preview in a frame that runs nothing.
    plain = client.post(f"/studio/draf/{draft}/templat/pratinjau",
                        data={"nama": "documents/izin.html", "isi": source, "data": sample, "csrf_token": token})
    assert plain.status_code == 200
    frame = re.search(r'<iframe id="preview-frame"[^>]*>', plain.text)
    assert frame is not None
    assert 'sandbox=""' in frame.group(0)
    assert "Siti Aminah" in frame.group(0)


def test_a_notification_preview_has_a_subject_and_body(
        client: TestClient, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/templat", params={"notifikasi": "id/received"})
    assert "{{ tracking_number }}" in html.unescape(page.text)  # the platform's text as the starter
    answer = client.post(f"/studio/draf/{draft}/templat/pratinjau",
                         data={"nama": "notifications/id/received.txt", "data": '{"nama_pemohon": "Budi"}',
                               "isi": "Permohonan {{ tracking_number }} diterima\nYth. {{ data.nama_pemohon }},\n"},
                         headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "notification", "subject": "Permohonan MPP-2026-000123 diterima",
                             "body": "Yth. Budi,\n"}


@pytest.mark.parametrize(("name", "source", "line", "words"), [
    ("documents/izin.html", "<p>\n{% if %}\n</p>", 2, "Expected an expression"),
    ("documents/izin.html", "<p>\n\n{{ 1 + 'a' }}</p>", 3, "unsupported operand"),
    ("documents/izin.html", "{% macro m() %}{% endmacro %}", None, "macros are not allowed"),
    ("notifications/en/received.txt", "Subject\n\n{{ data.missing }}\n", 3, "has no attribute 'missing'"),
])
def test_a_template_error_is_a_clear_422_with_its_line(
        client: TestClient, page_login: Login, draft: int,  # noqa: F811
        name: str, source: str, line: int | None, words: str) -> None:
    token = page_login("analis_uji")
    answer = client.post(f"/studio/draf/{draft}/templat/pratinjau", data={"nama": name, "isi": source, "data": "{}"},
                         headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["line"] == line
    assert words in answer.json()["detail"]
    assert answer.json()["detail"].startswith("Templat tidak dapat ditampilkan")
    page = client.post(f"/studio/draf/{draft}/templat/pratinjau",
                       data={"nama": name, "isi": source, "data": "{}", "csrf_token": token})
    assert page.status_code == 422
    assert 'id="template-error"' in page.text
    assert words in html.unescape(page.text)
    kept = re.search(r'<textarea id="template-source"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert kept is not None
    assert html.unescape(kept.group(1)) == source  # the text is kept


def test_bad_sample_data_or_a_bad_name_is_a_422(client: TestClient, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    url = f"/studio/draf/{draft}/templat/pratinjau"
    bad_json = client.post(url, data={"nama": "documents/a.html", "isi": "x", "data": '{"a": '}, headers=headers)
    assert bad_json.status_code == 422
    assert "JSON" in bad_json.json()["detail"]
    not_a_template = client.post(url, data={"nama": "process.bpmn", "isi": "x", "data": "{}"}, headers=headers)
    assert not_a_template.status_code == 422
    assert client.post(url, data={"nama": "documents/a.html", "isi": "x"}, headers={"Accept": "application/json"}
                       ).status_code == 403
    assert client.get(f"/studio/draf/{draft}/templat", params={"nama": "process.bpmn"}).status_code == 422


def test_a_service_toml_that_is_not_toml_is_explained_not_a_500(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    with transaction(catalogue.sessions) as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        drafts.save_file(session, actor_for(session, directory.get_user(session, "analis_uji")), row,
                         name="service.toml", content=b'key = "izin_uji"\nname = {', loaded_revision=row.revision)
    page = client.get(f"/studio/draf/{draft}/standar")
    assert page.status_code == 422
    assert "service.toml bukan TOML yang sah" in page.text
    assert f'href="/studio/draf/{draft}/teks?nama=service.toml"' in page.text
    posted = client.post(f"/studio/draf/{draft}/standar", data={"csrf_token": token, "sla_days": "3"})
    assert posted.status_code == 422


def test_the_retention_is_declared_in_the_form_and_checked_like_lint(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/standar").text
    assert "Masa simpan data" in page
    assert 'id="f-retention_on"' in page
    assert "tidak ada tabel [retention]" in page  # lint's warning, on the box that adds the table
    values = form_values(page)
    bad = post(client, draft, values, csrf_token=token, retention_on="1", retention_years="0",
               retention_basis_id="UU 43/2009 tentang Kearsipan", retention_basis_en="")
    assert bad.status_code == 422
    assert 'id="e-retention_years"' in bad.text
    assert 'id="e-retention_basis_en"' in bad.text
    good = post(client, draft, values, csrf_token=token, retention_on="1", retention_years="5",
                retention_action="anonymise", retention_basis_id="UU 43/2009 tentang Kearsipan",
                retention_basis_en="Law 43/2009 on Archives")
    assert good.status_code == 303, good.text
    data = tomllib.loads(stored(catalogue, draft).decode())
    assert data["retention"] == {"years": 5, "after": "closed", "action": "anonymise",
                                 "basis": {"id": "UU 43/2009 tentang Kearsipan", "en": "Law 43/2009 on Archives"}}
    page = client.get(f"/studio/draf/{draft}/standar").text
    assert "tidak ada tabel [retention]" not in page
    kept = post(client, draft, form_values(page), csrf_token=token, retention_years="10")
    assert kept.status_code == 303, kept.text
    assert tomllib.loads(stored(catalogue, draft).decode())["retention"]["years"] == 10

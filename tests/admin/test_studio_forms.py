"""The form builder's routes over HTTP: who may open them, the preview by the form layer, new forms."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from engine.catalogue import drafts
from engine.context import AppContext
from engine.models import PackageDraft
from forms.validation import FormInvalid, validate
from tests.factories import make_analyst

Login = Callable[[str], str]
NEW_SERVICE = {"kunci": "izin_formulir", "nama_id": "Izin Formulir", "nama_en": "Form Permit", "mulai": "kosong",
               "instansi_mode": "baru", "instansi_kode": "dinas_formulir", "instansi_jenis": "city_office",
               "instansi_nama_id": "Dinas Formulir", "instansi_nama_en": "Forms Office",
               "peran_kode": ["loket"], "peran_nama_id": ["Petugas loket"], "peran_nama_en": ["Counter officer"]}
START = "forms/permohonan.schema.json"
# A form as the builder writes it: a choice with labels in both languages, a file field, a condition.
FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Permohonan", "type": "object",
    "properties": {
        "jenis_kelamin": {"type": "string", "title": "Jenis kelamin", "enum": ["laki_laki", "perempuan"]},
        "lampiran_ktp": {"type": "array", "title": "Lampiran KTP", "items": {"type": "string", "maxLength": 500},
                         "maxItems": 10, "minItems": 1},
        "catatan": {"type": "string", "title": "Catatan", "maxLength": 200},
    },
    "required": ["jenis_kelamin", "lampiran_ktp"],
    "if": {"properties": {"jenis_kelamin": {"const": "perempuan"}}, "required": ["jenis_kelamin"]},
    "then": {"required": ["catatan"]},
}
UI = {"ui:title_en": "Application", "ui:order": ["jenis_kelamin", "lampiran_ktp", "catatan"],
      "jenis_kelamin": {"ui:title_en": "Sex", "ui:widget": "radio", "ui:enumNames": ["Laki-laki", "Perempuan"],
                        "ui:enumNames_en": ["Male", "Female"], "ui:help": "Sesuai KTP.",
                        "ui:help_en": "As on the ID card."},
      "lampiran_ktp": {"ui:title_en": "ID card scan", "ui:widget": "file"}}




def new_draft(http: TestClient, token: str) -> int:
    """Start a draft of a new service from the blank template; return its id."""
    response = http.post("/studio/draf/baru", data={**NEW_SERVICE, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/studio/draf/(\d+)", response.headers["location"])
    assert match is not None
    return int(match.group(1))


def page_data(page: Response) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="studio-data">(.*?)</script>', page.text, re.S)
    assert match is not None, page.text[:500]
    found: dict[str, Any] = json.loads(match.group(1))
    return found


def preview(http: TestClient, draft: int, token: str | None, schema: Any, ui: Any = None, lang: str = "id") -> Response:
    headers = {"X-CSRF-Token": token} if token else {}
    return http.post(f"/studio/draf/{draft}/formulir/pratinjau", json={"schema": schema, "uischema": ui or {},
                                                                       "lang": lang}, headers=headers)


def stored(ctx: AppContext, draft: int, name: str) -> Any:
    with ctx.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        return json.loads(drafts.read_file(session, row, name))


def test_the_builder_opens_a_draft_form_with_its_ui_schema(client: TestClient, page_login: Login) -> None:  # noqa: F811
    draft = new_draft(client, page_login("analis"))
    page = client.get(f"/studio/draf/{draft}/formulir", params={"nama": START})
    assert page.status_code == 200
    data = page_data(page)
    assert list(data["schema"]["properties"]) == ["nama_pemohon", "nik"]
    assert data["uischema"]["nik"] == {"ui:help": "16 digit sesuai KTP"}
    assert data["ui_name"] == "forms/permohonan.uischema.json"
    assert data["ui_exists"] is True
    assert data["problems"] == []
    assert f'href="/studio/draf/{draft}"' in page.text  # the breadcrumb back to the draft
    assert "formulir permohonan (awal)" in page.text  # service.toml names it the start form
    assert 'src="/static/web/studio-forms.js"' in page.text


def test_lint_problems_of_the_form_come_with_the_page(client: TestClient, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = new_draft(client, token)
    revision = page_data(client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}))["revision"]
    bad = {**FORM, "properties": {**FORM["properties"], "catatan": {"type": "string", "pattern": "(?=a)b"}}}
    saved = client.put(f"/studio/draf/{draft}/berkas", params={"nama": START},
                       json={"content": json.dumps(bad), "revisi": revision}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    data = page_data(client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}))
    assert [p["file"] for p in data["problems"]] == [START]
    assert "isian 'catatan'" in data["problems"][0]["message"]  # what the page marks the field by
    assert data["revision"] == saved.json()["revisi"]


def test_another_agencys_analyst_gets_404(client: TestClient, catalogue: AppContext,  # noqa: F811
                                          page_login: Login) -> None:  # noqa: F811
    draft = new_draft(client, page_login("analis"))
    make_analyst(catalogue, "analis_pbg", "dpmptsp")
    token = page_login("analis_pbg")
    assert client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}).status_code == 404
    assert preview(client, draft, token, FORM, UI).status_code == 404
    created = client.post(f"/studio/draf/{draft}/formulir/baru", data={"nama": "lain", "csrf_token": token},
                          follow_redirects=False)
    assert created.status_code == 404
    with catalogue.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        assert "forms/lain.schema.json" not in drafts.files(session, row)


@pytest.mark.parametrize("username", ["warga", "dpmptsp_front_office"])
def test_applicants_and_officers_may_not_open_the_builder(client: TestClient, page_login: Login,  # noqa: F811
                                                          username: str) -> None:
    draft = new_draft(client, page_login("analis"))
    token = page_login(username)
    assert client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}).status_code == 403
    assert preview(client, draft, token, FORM, UI).status_code == 403


def test_state_changing_routes_refuse_a_missing_csrf_token(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                           page_login: Login) -> None:  # noqa: F811
    draft = new_draft(client, page_login("analis"))
    assert preview(client, draft, None, FORM, UI).status_code == 403
    assert preview(client, draft, "not-the-token", FORM, UI).status_code == 403
    created = client.post(f"/studio/draf/{draft}/formulir/baru", data={"nama": "verifikasi"}, follow_redirects=False)
    assert created.status_code == 403
    with catalogue.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        assert "forms/verifikasi.schema.json" not in drafts.files(session, row)


def test_preview_renders_an_enum_and_a_file_field_with_the_form_layer(client: TestClient,  # noqa: F811
                                                                      page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = new_draft(client, token)
    response = preview(client, draft, token, FORM, UI, lang="id")
    assert response.status_code == 200, response.text
    html = response.text
    # The portal's field macro: radios in a fieldset with the Indonesian labels, the upload input.
    assert '<fieldset id="f-jenis_kelamin" aria-describedby="f-jenis_kelamin-help">' in html
    assert re.search(r'type="radio" id="f-jenis_kelamin-2"\s+name="jenis_kelamin" value="perempuan"', html)
    assert "Perempuan" in html
    assert "Female" not in html
    assert "Sesuai KTP." in html
    assert re.search(r'<input type="file" id="f-lampiran_ktp" name="lampiran_ktp" multiple', html)
    assert "PDF, PNG atau JPEG" in html
    assert html.count("(wajib)") == 2  # the enum and the file field; the conditional note is not required
    assert '<p class="fb-preview-title"><strong>Permohonan</strong></p>' in html

    english = preview(client, draft, token, FORM, UI, lang="en").text
    assert "Female" in english
    assert "ID card scan" in english
    assert "As on the ID card." in english
    assert "PDF, PNG or JPEG" in english
    assert 'lang="en"' in english
    # A select when the UI schema asks for none: the same macro, the other widget.
    select = preview(client, draft, token, FORM, {**UI, "jenis_kelamin": {"ui:widget": "select"}}).text
    assert '<select id="f-jenis_kelamin" name="jenis_kelamin" required>' in select


@pytest.mark.parametrize(("schema", "field", "words"), [
    ({"type": "object", "properties": {"kode": {"type": "string", "pattern": "^(?!x)"}}}, "kode", "RE2"),
    ({"type": "object", "properties": {"umur": {"type": "bilangan"}}}, "umur", "JSON Schema"),
    ({"type": "object", "properties": {"alamat": {"$ref": "https://contoh.id/alamat.json"}}}, "alamat",
     "menunjuk ke luar formulir"),
    ({"type": "object", "properties": {"pilih": {"type": "array", "items": {"enum": ["a"]}, "default": 5}}},
     "pilih", "harus berupa daftar"),
    ({"type": "object", "properties": {"dokumen": {"type": "array", "default": [{"id": 1}]}}}, "dokumen",
     "harus berupa daftar"),
])
def test_preview_of_an_unusable_form_answers_a_clear_422(client: TestClient, page_login: Login,  # noqa: F811
                                                          schema: dict[str, Any], field: str, words: str) -> None:
    token = page_login("analis")
    draft = new_draft(client, token)
    response = preview(client, draft, token, schema)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("Pratinjau tidak dapat ditampilkan")
    assert body["problems"][0]["field"] == field
    assert words in body["problems"][0]["message"]


def test_preview_of_a_form_too_large_or_not_an_object_is_refused(client: TestClient,  # noqa: F811
                                                                   page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = new_draft(client, token)
    big = {"type": "object", "properties": {f"isian_{i}": {"type": "string", "title": "x" * 300} for i in range(900)}}
    response = preview(client, draft, token, big)
    assert response.status_code == 422
    assert "KiB" in response.json()["problems"][0]["message"]
    assert preview(client, draft, token, ["not", "an", "object"]).status_code == 422


def test_new_form_is_created_and_opened_in_the_builder(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                       page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = new_draft(client, token)
    created = client.post(f"/studio/draf/{draft}/formulir/baru", data={"nama": "verifikasi_lapangan",
                                                                       "csrf_token": token}, follow_redirects=False)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == (f"/studio/draf/{draft}/formulir"
                                           "?nama=forms/verifikasi_lapangan.schema.json")
    schema = stored(catalogue, draft, "forms/verifikasi_lapangan.schema.json")
    assert schema["title"] == "Verifikasi lapangan"
    assert schema["properties"] == {}
    assert validate(schema, {}) == {}
    assert stored(catalogue, draft, "forms/verifikasi_lapangan.uischema.json") == {
        "ui:title_en": "Verifikasi lapangan", "ui:order": []}
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert page_data(page)["problems"] == []
    # The new form adds no problem: all that is left are the blank's service-standard placeholders and the
    # retention the analyst must still declare (the studio's standard form adds it).
    with catalogue.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        assert [p for p in drafts.lint(session, row) if not (p.element_id or "").startswith("standard.")
                and "[retention]" not in p.message] == []

    again = client.post(f"/studio/draf/{draft}/formulir/baru", data={"nama": "verifikasi_lapangan",
                                                                     "csrf_token": token}, follow_redirects=False)
    assert again.status_code == 409
    assert "sudah memiliki formulir" in again.text
    wrong = client.post(f"/studio/draf/{draft}/formulir/baru", data={"nama": "Bukan Nama", "csrf_token": token},
                        follow_redirects=False)
    assert wrong.status_code == 422
    assert "huruf kecil" in wrong.text


def test_missing_or_non_form_files_are_refused_with_a_message(client: TestClient,  # noqa: F811
                                                              page_login: Login) -> None:  # noqa: F811
    draft = new_draft(client, page_login("analis"))
    missing = client.get(f"/studio/draf/{draft}/formulir", params={"nama": "forms/tidak_ada.schema.json"})
    assert missing.status_code == 404
    assert "tidak memiliki berkas" in missing.text
    other = client.get(f"/studio/draf/{draft}/formulir", params={"nama": "service.toml"})
    assert other.status_code == 422
    assert "forms/&lt;nama&gt;.schema.json" in other.text
    outside = client.get(f"/studio/draf/{draft}/formulir", params={"nama": "../forms/x.schema.json"})
    assert outside.status_code == 422


def test_a_form_file_that_is_not_json_gets_a_way_to_the_text_editor(client: TestClient,  # noqa: F811
                                                                     page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = new_draft(client, token)
    revision = page_data(client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}))["revision"]
    broken = client.put(f"/studio/draf/{draft}/berkas", params={"nama": START},
                        json={"content": "{\"title\": ", "revisi": revision}, headers={"X-CSRF-Token": token})
    assert broken.status_code == 200, broken.text
    page = client.get(f"/studio/draf/{draft}/formulir", params={"nama": START})
    assert page.status_code == 200
    assert "bukan objek JSON yang sah" in page.text
    assert f'href="/studio/draf/{draft}/teks?nama=forms/permohonan.schema.json"' in page.text
    assert 'id="studio-data"' not in page.text


def test_a_missing_ui_schema_is_created_by_the_first_save(client: TestClient, catalogue: AppContext,  # noqa: F811
                                                           page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = new_draft(client, token)
    data = page_data(client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}))
    deleted = client.delete(f"/studio/draf/{draft}/berkas", headers={"X-CSRF-Token": token},
                            params={"nama": data["ui_name"], "revisi": data["revision"]})
    assert deleted.status_code == 200, deleted.text
    data = page_data(client.get(f"/studio/draf/{draft}/formulir", params={"nama": START}))
    assert data["ui_exists"] is False
    assert data["uischema"] == {}
    # What the page does on save: the schema at the loaded revision, then the UI schema as a new file.
    first = client.put(f"/studio/draf/{draft}/berkas", params={"nama": START},
                       json={"content": json.dumps(FORM), "revisi": data["revision"]}, headers={"X-CSRF-Token": token})
    second = client.put(f"/studio/draf/{draft}/berkas", params={"nama": data["ui_name"]},
                        json={"content": json.dumps(UI), "revisi": None}, headers={"X-CSRF-Token": token})
    assert (first.status_code, second.status_code) == (200, 200)
    assert stored(catalogue, draft, data["ui_name"]) == UI
    with pytest.raises(FormInvalid):
        validate(stored(catalogue, draft, START), {"jenis_kelamin": "perempuan", "lampiran_ktp": ["file:1"]})

"""Every package whose document number the platform draws shows it read-only on its signing form, with a preview.

PBG did first (tests/admin/test_signing_preview.py); here SKCK through HTTP, every package of the
catalogue through its forms, and the lint warning that keeps new packages in line.
"""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.catalogue.package import from_files, from_path
from engine.context import AppContext
from engine.documents.spec import spec_of, typed_number_problems
from engine.models import DocumentNumber
from tests.admin.test_signing_preview import counts, pdf_text
from tests.api.conftest import login  # noqa: F401 - fixture
from tests.api.test_tasks import complete, make_officer, task_of
from tests.factories import ROOT, api_upload
from tests.processes.test_skck import CLEAN, PAID, application

PageLogin = Callable[[str], str]
ApiLogin = Callable[[str], dict[str, str]]
SKCK_ROLES = {"intelkam_uji": "polresta.intelkam", "bendahara_uji": "polresta.bendahara",
              "kasat_uji": "polresta.kasat_intelkam"}


def _skck_to_signing(client: TestClient, login: ApiLogin) -> tuple[int, str]:
    for username, role in SKCK_ROLES.items():
        make_officer(client, login, username, role)
    headers = login("warga")
    documents = {code: [api_upload(client, headers, f"{code}.pdf")] for code in ("ktp", "kk", "akta_atau_ijazah",
                                                                                "pas_foto")}
    created = client.post("/api/cases", headers=headers, json={
        "process_key": "skck", "channel": "daring", "data": application(sidik_jari_terdaftar=True),
        "documents": documents, "privacy_notice_accepted": True})
    assert created.status_code == 201, created.text
    case_id = int(created.json()["id"])
    for username, element_id, data in [("intelkam_uji", "Task_penelitian", CLEAN), ("warga", "Task_pembayaran", PAID),
                                       ("bendahara_uji", "Task_verifikasi_pembayaran", {"pembayaran_valid": True})]:
        complete(client, login, username, case_id, element_id, data)
    return case_id, task_of(client, login, case_id, "Task_penerbitan")


def test_the_skck_signing_form_shows_the_platforms_number_and_previews_the_document(
        client: TestClient, login: ApiLogin, page_login: PageLogin, catalogue: AppContext) -> None:
    case_id, task_id = _skck_to_signing(client, login)
    page_login("kasat_uji")
    html = client.get(f"/tugas/{task_id}").text
    number = re.search(r'<output id="signing-number">([^<]+)</output>', html)
    assert number is not None
    assert re.fullmatch(r"SKCK/YAN\.2\.3/0001/[IVX]+/\d{4}/INTELKAM", number.group(1))
    assert 'name="nomor_skck"' not in html  # no text box: the platform gives the number
    assert f'href="/tugas/{task_id}/pratinjau-dokumen"' in html
    before = counts(catalogue)
    preview = client.get(f"/tugas/{task_id}/pratinjau-dokumen")
    assert preview.status_code == 200, preview.text
    assert preview.headers["content-type"] == "application/pdf"
    text = pdf_text(preview.content)
    assert "PRATINJAU - BELUM DITANDATANGANI / PREVIEW - NOT SIGNED" in text
    assert number.group(1) in text
    assert counts(catalogue) == before  # nothing issued, drawn or stored
    signed = client.post(f"/tugas/{task_id}", data={"csrf_token": client.cookies["mpp_csrf"],
                                                     "ditandatangani": "on"}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    with catalogue.sessions() as session:  # the number shown is the number drawn with the signature
        drawn = session.scalar(select(DocumentNumber.number).where(DocumentNumber.case_id == case_id))
    assert drawn == number.group(1)


def test_every_package_that_numbers_its_document_has_a_read_only_number_on_its_signing_form() -> None:
    numbered = []
    for folder in sorted(p for p in (ROOT / "processes").iterdir() if (p / "service.toml").is_file()):
        package = from_path(folder)
        spec = spec_of(package.service())
        if spec is None or not spec.number_format or not spec.number_field:
            continue
        assert typed_number_problems(package, spec) == [], folder.name
        forms = [json.loads(raw) for name, raw in package.files.items()
                 if name.startswith("forms/") and name.endswith(".schema.json")]
        holding = [f for f in forms if spec.number_field in (f.get("properties") or {})]
        assert holding, f"{folder.name}: no form shows {spec.number_field}"
        assert all(spec.number_field not in (f.get("required") or []) for f in holding), folder.name
        numbered.append(folder.name)
    assert {"pbg", "skck", "sip", "halal", "nikah", "pdam"} <= set(numbered)


def test_lint_warns_where_a_form_still_lets_the_officer_type_the_drawn_number() -> None:
    def package(number: dict[str, object]) -> tuple[object, object]:
        built = from_files({
            "service.toml": b'key = "x"\n[document]\ntitle = { id = "Izin", en = "Permit" }\n'
                            b'end_events = ["EndEvent_1"]\nnumber_field = "nomor_izin"\n'
                            b'number_format = "IZ/{yyyy}/{seq:04}"\nholder_field = "nama"\n',
            "forms/tanda_tangan.schema.json": json.dumps({"type": "object", "properties": {"nomor_izin": number}})
            .encode()})
        found = spec_of(built.service())
        assert found is not None
        return built, found

    typed = typed_number_problems(*package({"type": "string"}))  # type: ignore[arg-type]
    assert [(p.file, p.element_id, p.severity) for p in typed] == [
        ("forms/tanda_tangan.schema.json", "nomor_izin", "warning")]
    assert "declare it \"readOnly\": true" in typed[0].message
    assert "nyatakan \"readOnly\": true" in typed[0].message_id
    assert typed_number_problems(*package({"type": "string", "readOnly": True})) == []  # type: ignore[arg-type]

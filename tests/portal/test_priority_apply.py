"""Applying with priority service and a jemput bola request through the portal's apply form."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.context import AppContext
from engine.models import Case
from tests.portal.test_integrated_application import SHARED, SKCK, _files
from tests.web.test_pages import csrf, log_in

APPLY = "/layanan/skck/ajukan"
DATA = {k.removeprefix("skck__"): v for k, v in SKCK.items()} | SHARED | {"channel": "tatap_muka",
                                                                          "privacy_notice_accepted": "1"}
DOCS = ("ktp", "kk", "akta_atau_ijazah", "pas_foto")


def _count(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_the_form_offers_priority_everywhere_and_jemput_bola_where_the_standard_does(client: TestClient) -> None:
    log_in(client, "warga")
    skck = client.get(APPLY).text
    for text in ("Layanan prioritas", 'id="priority-disabilitas"', "Ibu hamil", "Saya meminta layanan jemput bola",
                 'name="outreach_address"', 'name="outreach_contact"', "Drive-thru"):
        assert text in skck, text
    assert 'name="jemput_bola"' not in skck  # the form's own field is replaced by the case request
    assert 'name="alamat_kunjungan"' not in skck
    pbg = client.get("/layanan/pbg/ajukan").text
    assert "Layanan prioritas" in pbg
    assert 'name="outreach"' not in pbg  # a PBG site visit is a technical inspection, not jemput bola


def test_a_jemput_bola_request_needs_an_address_and_a_phone(client: TestClient, catalogue: AppContext) -> None:
    log_in(client, "warga")
    before = _count(catalogue)
    refused = client.post(APPLY, data={**DATA, "csrf_token": csrf(client, APPLY), "priority": "disabilitas",
                                       "outreach": "1", "outreach_for": "disabilitas"}, files=_files(*DOCS))
    assert refused.status_code == 422
    summary = refused.text.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#f-outreach_address"' in summary
    assert "Alamat kunjungan</a>: Tulis alamat yang akan dikunjungi petugas." in summary
    assert "Nomor telepon</a>: Tulis nomor telepon yang bisa dihubungi petugas." in summary
    assert 'id="priority-disabilitas" name="priority" value="disabilitas" checked' in refused.text  # kept
    assert _count(catalogue) == before
    wrong = client.post(APPLY, data={**DATA, "csrf_token": csrf(client, APPLY), "outreach": "1",
                                     "outreach_for": "sakit", "outreach_address": "Jl. Kaliurang 5",
                                     "outreach_contact": "0812"}, files=_files(*DOCS))
    assert wrong.status_code == 422
    assert "Jemput bola layanan ini hanya untuk penyandang disabilitas, lansia." in wrong.text


def test_the_request_becomes_attributes_of_the_case(client: TestClient, catalogue: AppContext) -> None:
    log_in(client, "warga")
    filed = client.post(APPLY, data={**DATA, "csrf_token": csrf(client, APPLY), "priority": "disabilitas",
                                     "outreach": "1", "outreach_for": "disabilitas",
                                     "outreach_address": "Jl. Kaliurang 5, Sleman", "outreach_contact": "0812 3456"},
                        files=_files(*DOCS))
    assert filed.status_code == 200, filed.text
    with catalogue.sessions() as session:
        case = session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case is not None
        assert (case.priority, case.outreach_for, case.outreach_address, case.outreach_contact) == (
            "disabilitas", "disabilitas", "Jl. Kaliurang 5, Sleman", "0812 3456")
        assert case.data["jemput_bola"] is True  # the package's own jemput bola step follows the request
        assert case.data["alamat_kunjungan"] == "Jl. Kaliurang 5, Sleman"

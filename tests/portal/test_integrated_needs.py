"""Priority service and jemput bola on the integrated application form (/terpadu)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.models import Bundle, Case
from tests.portal.test_integrated_application import FORM, _count, _post
from tests.web.test_pages import log_in

VISIT = {"outreach": "1", "outreach_for": "disabilitas", "outreach_address": "Jl. Kaliurang 5, Sleman",
         "outreach_contact": "0812 3456"}


def test_the_form_asks_once_for_priority_and_a_visit_naming_the_services_that_offer_it(client: TestClient) -> None:
    log_in(client, "warga")
    page = client.get(FORM).text
    for text in ("Layanan prioritas", 'id="priority-lansia"', "Saya meminta layanan jemput bola",
                 'name="outreach_address"', 'name="outreach_contact"'):
        assert page.count(text) == 1, text
    box = page.split('id="f-outreach-box"')[1].split("</fieldset>")[0]
    assert "<strong>Surat Keterangan Catatan Kepolisian" in box  # each offering service with its own terms
    assert 'name="skck__jemput_bola"' not in page  # the form's own field follows the one request
    assert 'name="skck__alamat_kunjungan"' not in page


def test_a_visit_without_an_address_is_named_in_the_summary_and_nothing_is_filed(
        client: TestClient, catalogue: AppContext) -> None:
    log_in(client, "warga")
    before = _count(catalogue, Case)
    refused = _post(client, {**VISIT, "outreach_address": "", "priority": "hamil"})
    assert refused.status_code == 422
    summary = refused.text.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#f-outreach_address"' in summary
    assert "Alamat kunjungan</a>: Tulis alamat yang akan dikunjungi petugas." in summary
    assert 'id="priority-hamil" name="priority" value="hamil" checked' in refused.text  # kept
    assert _count(catalogue, Case) == before


def test_the_request_is_stored_on_each_case_of_the_application(client: TestClient, catalogue: AppContext) -> None:
    log_in(client, "warga")
    filed = _post(client, {**VISIT, "priority": "disabilitas"})
    assert filed.status_code == 200, filed.text
    with catalogue.sessions() as session:
        bundle_id = session.scalar(select(Bundle.id).order_by(Bundle.id.desc()))
        members = list(session.scalars(select(Case).where(Case.bundle_id == bundle_id).order_by(Case.id)))
    assert [(c.process_key, c.priority, c.outreach_for, c.outreach_address, c.outreach_contact) for c in members] == [
        ("skck", "disabilitas", "disabilitas", "Jl. Kaliurang 5, Sleman", "0812 3456"),
        ("pdam_sambungan", "disabilitas", "disabilitas", "Jl. Kaliurang 5, Sleman", "0812 3456")]
    assert members[0].data["jemput_bola"] is True  # SKCK's own jemput bola step follows the request

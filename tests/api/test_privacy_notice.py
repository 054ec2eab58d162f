"""The privacy notice: required on the API and the portal's apply form, recorded with the case, shown when tracking."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.context import AppContext
from engine.models import Case, NoticeAcceptance, PrivacyNotice
from engine.privacy import notice as notice
from tests.factories import pbg_application, pbg_documents
from tests.portal.test_integrated_application import _files
from tests.portal.test_priority_apply import APPLY, DATA, DOCS
from tests.web.test_pages import csrf, log_in

Login = Callable[[str], dict[str, str]]


def _count(ctx: AppContext, model: type) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_api_refuses_an_application_without_the_notice_and_records_the_accepted_one(
        client: TestClient, login: Login, catalogue: AppContext) -> None:
    text = client.get("/api/processes/pbg/privacy-notice").json()
    assert "Persetujuan Bangunan Gedung" in text["text_id"]
    assert "10 tahun" in text["text_id"]
    assert "10 years" in text["text_en"]
    assert len(text["text_hash"]) == 64
    body = {"process_key": "pbg", "data": pbg_application(), "channel": "daring",
            "documents": pbg_documents(client, login("warga"))}
    before = _count(catalogue, Case)
    for refused in (body, {**body, "privacy_notice_accepted": False}):
        answer = client.post("/api/cases", json=refused, headers={**login("warga"), "Accept-Language": "id"})
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["errors"]
        assert error["field"] == "privacy_notice_accepted"
        assert error["message"] == "Baca dan setujui pemberitahuan privasi untuk mengajukan permohonan."
    assert _count(catalogue, Case) == before  # nothing was filed
    created = client.post("/api/cases", json={**body, "privacy_notice_accepted": True}, headers=login("warga"))
    assert created.status_code == 201, created.text
    second = client.post("/api/cases", json={**body, "privacy_notice_accepted": True,
                                             "documents": pbg_documents(client, login("warga"))},
                         headers=login("warga"))
    assert second.status_code == 201, second.text
    with catalogue.sessions() as session:
        accepted = notice.accepted_notice(session, case_id=created.json()["id"])
        assert accepted is not None
        assert (accepted.text_hash, accepted.channel, accepted.accepted_by) == (text["text_hash"], "daring", "warga")
        assert accepted.notice.text_en == text["text_en"]
    assert _count(catalogue, PrivacyNotice) == 1
    assert _count(catalogue, NoticeAcceptance) == 2


def test_with_the_requirement_off_an_old_client_files_without_it_and_a_refusal_still_counts(
        client: TestClient, login: Login, catalogue: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogue.settings, "privacy_notice_required", False)  # MPP_PRIVACY_NOTICE_REQUIRED=false
    body = {"process_key": "pbg", "data": pbg_application(), "channel": "daring",
            "documents": pbg_documents(client, login("warga"))}
    refused = client.post("/api/cases", json={**body, "privacy_notice_accepted": False}, headers=login("warga"))
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["privacy_notice_accepted"]
    created = client.post("/api/cases", json=body, headers=login("warga"))
    assert created.status_code == 201, created.text
    with catalogue.sessions() as session:
        assert notice.accepted_notice(session, case_id=created.json()["id"]) is None  # nothing accepted, none recorded
    assert _count(catalogue, NoticeAcceptance) == 0


def test_the_apply_form_asks_for_it_and_the_tracking_page_shows_it(client: TestClient, catalogue: AppContext) -> None:
    log_in(client, "warga")
    page = client.get(APPLY).text
    assert 'name="privacy_notice_accepted"' in page
    assert "Pemberitahuan privasi — Surat Keterangan" in page
    before = _count(catalogue, Case)
    unticked = {name: value for name, value in DATA.items() if name != notice.FIELD}
    refused = client.post(APPLY, data={**unticked, "csrf_token": csrf(client, APPLY)}, files=_files(*DOCS))
    assert refused.status_code == 422
    summary = refused.text.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#f-privacy_notice_accepted"' in summary
    assert "Pemberitahuan privasi</a>: Baca dan setujui pemberitahuan privasi" in summary
    assert _count(catalogue, Case) == before
    filed = client.post(APPLY, data={**unticked, "csrf_token": csrf(client, APPLY), "privacy_notice_accepted": "1"},
                        files=_files(*DOCS))
    assert filed.status_code == 200, filed.text
    with catalogue.sessions() as session:
        case = session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case is not None
        number = case.tracking_number
    tracked = client.get(f"/lacak/{number}").text
    assert "Pemberitahuan privasi yang Anda setujui" in tracked
    assert "Pemberitahuan privasi — Surat Keterangan Catatan Kepolisian" in tracked

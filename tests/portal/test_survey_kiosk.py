"""The satisfaction survey through HTTP: the counter kiosk (no login) and the online form, both with the profile."""

from __future__ import annotations

from html import unescape

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from engine.cases.service import StartedCase
from engine.context import AppContext
from engine.models import SurveyResponse
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user

PROFILE = {"gender": "p", "age_group": "40_49", "education": "sma", "occupation": "wirausaha"}
SCORES = {f"u{i}": "3" for i in range(1, 10)}


def _finished(ctx: AppContext) -> StartedCase:
    deploy(ctx, sla_package())
    d = Driver(ctx)
    case = d.start("sla_uji", {}, make_user(ctx, "pemohon_kios"))
    d.complete(case.id, "Task_terima", make_user(ctx, "loket_kios", "dinas.loket"), {})
    d.complete(case.id, "Task_verifikasi", make_user(ctx, "verif_kios", "teknis.verifikator"), {})
    return case


def _kiosk(client: TestClient, lang: str = "id", **fields: str) -> Response:
    client.get("/skm/kios")
    response: Response = client.post(f"/skm/kios?lang={lang}", follow_redirects=False,
                                     data={"csrf_token": client.cookies.get("mpp_csrf", ""), **fields})
    return response


def _rows(ctx: AppContext) -> list[SurveyResponse]:
    with ctx.sessions() as session:
        return list(session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))


def test_the_kiosk_shows_each_elements_own_answers_and_records_a_visitor(client: TestClient,
                                                                         catalogue: AppContext) -> None:
    deploy(catalogue, sla_package())
    page = client.get("/skm/kios")
    assert page.status_code == 200
    assert 'value="sla_uji"' in page.text
    assert 'value="pengaduan"' not in page.text  # complaints are not a service to rate
    for answer in ("Tidak sesuai", "Kurang cepat", "Sangat mahal", "Gratis", "Ada tetapi tidak berfungsi",
                   "Dikelola dengan baik", "Sangat sopan dan ramah", "Tidak ingin menyebutkan", "S2 ke atas"):
        assert answer in page.text
    done = _kiosk(client, service="sla_uji", **SCORES, **PROFILE, comment="Ruang tunggu nyaman.")
    assert (done.status_code, done.headers["location"]) == (303, "/skm/kios?terima=1")
    thanks = client.get("/skm/kios?terima=1")
    assert 'id="kiosk-thanks"' in thanks.text
    assert 'checked' not in thanks.text  # a blank form for the next visitor
    [row] = _rows(catalogue)
    assert (row.case_id, row.process_key, row.channel, row.gender, row.age_group, row.education, row.occupation,
            row.u9, row.comment) == (None, "sla_uji", "kiosk", "p", "40_49", "sma", "wirausaha", 3,
                                     "Ruang tunggu nyaman.")


def test_the_kiosk_names_what_is_missing_in_both_languages(client: TestClient, catalogue: AppContext) -> None:
    deploy(catalogue, sla_package())
    bad = _kiosk(client, service="tidak_ada", **{**SCORES, "u4": "9"}, gender="l")
    assert bad.status_code == 422
    text = unescape(bad.text)
    assert "Pilih layanan yang Anda terima." in text
    assert 'Pilih salah satu jawaban untuk "Usia"' in text
    assert 'Pilih salah satu jawaban untuk "Biaya/tarif"' in text
    assert 'href="#age_group-lt20"' in bad.text
    assert 'href="#u4-1"' in bad.text
    assert 'value="l" required\n           checked' in bad.text  # what was chosen stays chosen
    english = _kiosk(client, lang="en", service="sla_uji", **SCORES)
    assert english.status_code == 422
    assert 'Choose an answer for "Occupation"' in unescape(english.text)
    assert _rows(catalogue) == []


def test_a_case_is_rated_once_at_the_kiosk_with_its_pin(client: TestClient, catalogue: AppContext) -> None:
    case = _finished(catalogue)
    wrong = "111111" if case.pin != "111111" else "222222"
    refused = _kiosk(client, service="sla_uji", tracking_number=case.tracking_number, pin=wrong, **SCORES, **PROFILE)
    assert refused.status_code == 422
    assert "Nomor lacak dan PIN tidak cocok" in refused.text
    done = _kiosk(client, service="sla_uji", tracking_number=case.tracking_number.lower(), pin=case.pin, **SCORES,
                  **PROFILE)
    assert done.status_code == 303, done.text
    again = _kiosk(client, service="sla_uji", tracking_number=case.tracking_number, pin=case.pin, **SCORES, **PROFILE)
    assert again.status_code == 409
    assert "sudah dinilai" in again.text
    [row] = _rows(catalogue)
    assert (row.case_id, row.channel) == (case.id, "kiosk")
    assert "mpp_track" not in set(client.cookies)  # the kiosk grants the shared browser nothing


def test_the_kiosk_is_rate_limited_per_device(client: TestClient, catalogue: AppContext) -> None:
    statuses = [_kiosk(client, service="").status_code for _ in range(31)]
    assert statuses[:30] == [422] * 30
    assert statuses[30] == 429


def test_the_online_form_asks_the_profile_too(client: TestClient, catalogue: AppContext) -> None:
    case = _finished(catalogue)
    client.get("/lacak")
    opened = client.post("/lacak", data={"csrf_token": client.cookies["mpp_csrf"], "number": case.tracking_number,
                                         "pin": case.pin}, follow_redirects=False)
    assert opened.status_code == 303
    url = f"/survei/{case.tracking_number}"
    form = client.get(url)
    assert "Tidak kompeten" in form.text
    assert "Jenis kelamin" in form.text
    missing = client.post(url, data={"csrf_token": client.cookies["mpp_csrf"], **SCORES})
    assert missing.status_code == 422
    assert 'Pilih salah satu jawaban untuk "Jenis kelamin"' in unescape(missing.text)
    done = client.post(url, data={"csrf_token": client.cookies["mpp_csrf"], **SCORES, **PROFILE},
                       follow_redirects=False)
    assert done.status_code == 303
    [row] = _rows(catalogue)
    assert (row.case_id, row.channel, row.occupation) == (case.id, "daring", "wirausaha")

"""Complaints through HTTP: filed from a case's tracking page or a service page, answered, shown publicly.

The catalogue's demo accounts hold the complaints roles: `polresta_pengaduan` (declared by SKCK),
`dpmptsp_pengaduan` (the mall's), `disdukcapil_pengaduan`. Without an account the complainant gets
the complaint's own tracking number and PIN; the public page never shows who complained.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response

from engine.context import AppContext
from engine.directory import service as directory
from engine.directory.actors import actor_for
from engine.models import Case, OpenTask
from tests.admin.conftest import Login, page_login  # noqa: F401 - the fixture
from tests.engine.test_complaints import SKCK
from tests.factories import Driver

TYPED = {"nama_pelapor": "Rudi Hartono", "email": "rudi@contoh.id", "judul": "Petugas loket SKCK tidak ramah",
         "isi_pengaduan": "Petugas loket SKCK membentak saya ketika saya bertanya tentang berkas yang kurang."}
ANSWER = "Terima kasih. Petugas yang bersangkutan sudah kami tegur dan loket SKCK kini dilayani dua petugas."
API = Callable[[str], dict[str, str]]


def _skck(catalogue: AppContext) -> tuple[str, str]:
    """File an SKCK application as the demo applicant; return its tracking number and PIN."""
    with catalogue.sessions() as session:
        warga = actor_for(session, directory.get_user(session, "warga"))
    started = Driver(catalogue).start("skck", SKCK, warga, channel="daring")
    return started.tracking_number, started.pin


def _open(client: TestClient, number: str, pin: str) -> None:
    client.get("/lacak")
    response = client.post("/lacak", data={"csrf_token": client.cookies["mpp_csrf"], "number": number, "pin": pin},
                           follow_redirects=False)
    assert response.status_code == 303


def _post(client: TestClient, url: str, **fields: object) -> Response:
    client.get(url)
    return client.post(url, data={"csrf_token": client.cookies.get("mpp_csrf", ""), **TYPED, **fields})


def _filed(response: Response) -> str:
    assert response.status_code == 200, response.text
    found = re.search(r'id="tracking-number">([A-Z0-9-]+)<', response.text)
    assert found
    assert re.search(r'id="tracking-pin">\d+<', response.text)
    return found.group(1)


def _answer(catalogue: AppContext, number: str, username: str, text: str = ANSWER) -> None:
    with catalogue.sessions() as session:
        case_id = session.query(Case).filter_by(tracking_number=number).one().id
        officer = actor_for(session, directory.get_user(session, username))
    Driver(catalogue).complete(case_id, "Task_telaah", officer, {"keputusan_telaah": "jawab_langsung",
                                                                 "tanggapan": text,
                                                                 "catatan_internal": "Catatan rahasia petugas."})


def test_a_visitor_complains_about_a_case_from_its_tracking_page(client: TestClient, catalogue: AppContext) -> None:
    number, pin = _skck(catalogue)
    _open(client, number, pin)
    track = client.get(f"/lacak/{number}")
    assert f'href="/lacak/{number}/pengaduan"' in track.text
    assert "Ajukan pengaduan atas permohonan ini" in track.text
    form = client.get(f"/lacak/{number}/pengaduan")
    assert form.status_code == 200
    assert number in form.text
    assert 'name="nomor_pelacakan"' not in form.text

    complaint = _filed(_post(client, f"/lacak/{number}/pengaduan", rahasia="on"))
    with catalogue.sessions() as session:
        case = session.query(Case).filter_by(tracking_number=complaint).one()
        [task] = session.query(OpenTask).filter_by(case_id=case.id).all()
    assert (task.role, case.data["nomor_pelacakan"], case.applicant_id) == ("polresta.pengaduan", number, None)
    _answer(catalogue, complaint, "polresta_pengaduan")

    mine = client.get(f"/lacak/{complaint}")  # the filing granted the complaint's own tracking page
    assert ANSWER in mine.text
    assert "tepat waktu" in mine.text
    on_case = client.get(f"/lacak/{number}")
    assert complaint in on_case.text
    assert ANSWER in on_case.text
    public = client.get("/layanan/skck/pengaduan-ditanggapi")
    assert public.status_code == 200
    assert ANSWER in public.text
    assert TYPED["judul"] in public.text
    for private in ("Rudi Hartono", "rudi@contoh.id", TYPED["isi_pengaduan"], "Catatan rahasia petugas.", complaint):
        assert private not in public.text
        assert private not in mine.text.replace(complaint, "")


def test_a_complaint_about_a_case_needs_its_pin_or_its_owner(client: TestClient, catalogue: AppContext,
                                                              page_login: Login) -> None:  # noqa: F811
    number, _pin = _skck(catalogue)
    asked = client.get(f"/lacak/{number}/pengaduan", follow_redirects=False)
    assert (asked.status_code, asked.headers["location"]) == (303, f"/lacak?nomor={number}")
    assert _post(client, f"/lacak/{number}/pengaduan").status_code == 404
    page_login("warga")  # the applicant, logged in, needs no PIN for their own case
    assert client.get(f"/lacak/{number}/pengaduan").status_code == 200
    page_login("disdukcapil_pengaduan")  # an officer of another agency does not read the case
    assert client.get(f"/lacak/{number}/pengaduan", follow_redirects=False).status_code == 303


def test_a_service_complaint_from_its_page_goes_to_the_malls_officer_when_the_agency_has_none(
        client: TestClient, catalogue: AppContext) -> None:
    page = client.get("/layanan/lingkungan")
    assert 'href="/layanan/lingkungan/pengaduan"' in page.text
    assert 'href="/layanan/lingkungan/pengaduan-ditanggapi"' in page.text
    complaint = _filed(_post(client, "/layanan/lingkungan/pengaduan"))
    with catalogue.sessions() as session:
        case = session.query(Case).filter_by(tracking_number=complaint).one()
        [task] = session.query(OpenTask).filter_by(case_id=case.id).all()
    assert task.role == "dpmptsp.pengaduan"
    assert case.data["layanan"] == "Persetujuan Lingkungan (UKL-UPL)"
    assert client.get("/layanan/pengaduan/pengaduan").status_code == 404  # not a complaint about complaints
    assert client.get("/layanan/tidak_ada/pengaduan").status_code == 404


def test_bad_input_is_a_422_in_the_users_language(client: TestClient, catalogue: AppContext) -> None:
    refused = _post(client, "/layanan/skck/pengaduan", judul="", email="", isi_pengaduan="pendek")
    assert refused.status_code == 422
    assert 'id="error-summary"' in refused.text
    assert "Judul pengaduan" in refused.text
    english = _post(client, "/layanan/skck/pengaduan?lang=en", email="")
    assert english.status_code == 422
    assert "Give an email address or a phone number" in english.text


def test_csrf_and_a_rate_limit_protect_the_public_form(client: TestClient, catalogue: AppContext) -> None:
    client.get("/layanan/skck/pengaduan")
    forged = client.post("/layanan/skck/pengaduan", data={"csrf_token": "palsu", **TYPED})
    assert forged.status_code == 403
    for _ in range(5):
        _filed(_post(client, "/layanan/skck/pengaduan"))
    limited = _post(client, "/layanan/skck/pengaduan")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    with catalogue.sessions() as session:
        assert session.query(Case).filter_by(process_key="pengaduan").count() == 5


def test_figures_and_answered_complaints_over_the_api(client: TestClient, catalogue: AppContext,
                                                      login: API, page_login: Login) -> None:  # noqa: F811
    answered = _filed(_post(client, "/layanan/skck/pengaduan"))
    _filed(_post(client, "/layanan/lingkungan/pengaduan"))
    _answer(catalogue, answered, "polresta_pengaduan")
    admin = client.get("/api/complaints/figures", headers=login("admin"))
    assert admin.status_code == 200
    rows = {r["service_key"]: r for r in admin.json()}
    assert (rows["skck"]["filed"], rows["skck"]["answered"], rows["skck"]["on_time_share"]) == (1, 1, 1.0)
    assert (rows["lingkungan"]["open"], rows["lingkungan"]["on_time_share"]) == (1, None)
    own = client.get("/api/complaints/figures", headers=login("polresta_supervisor")).json()
    assert [r["service_key"] for r in own] == ["skck"]
    assert client.get("/api/complaints/figures", headers=login("warga")).status_code == 403
    [public] = client.get("/api/services/skck/complaints").json()
    assert public["answer_id"] == ANSWER
    assert "nama_pelapor" not in public
    assert public["on_time"] is True
    assert client.get("/api/services/tidak_ada/complaints").status_code == 404

    page_login("admin")
    page = client.get("/admin/pengaduan")
    assert page.status_code == 200
    assert 'data-service="skck"' in page.text
    assert "100 %" in page.text

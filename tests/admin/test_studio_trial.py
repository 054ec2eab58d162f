"""The studio's trial run (Uji coba) over HTTP: who may use it, CSRF, recording a run, saving and running scenarios."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from engine.catalogue import drafts, scenarios
from engine.context import AppContext
from engine.directory.actors import Actor
from engine.models import Case, DraftFile, PackageDraft
from tests.admin.test_studio_drafts import draft_id, start
from tests.factories import make_analyst

Login = Callable[[str], str]
ADMIN = Actor(None, "admin", "admin")
APPLICATION = {"nama_pemohon": "Budi Santoso", "nik": "3471012345670001"}


def state(page: str) -> list[dict[str, object]]:
    """Return the trial's steps the page carries (the hidden field of its forms)."""
    found = re.search(r'name="langkah" value="([^"]*)"', page)
    assert found is not None
    return json.loads(unescape(found.group(1)))  # type: ignore[no-any-return]


def step(http: TestClient, url: str, token: str, page: str, action: str, **fields: object) -> Response:
    """Post one trial action with the state the page holds."""
    return http.post(f"{url}/uji-coba", data={"csrf_token": token, "langkah": json.dumps(state(page)),
                                              "mulai": "2026-03-02T09:00:00+07:00", "aksi": action, **fields})


@pytest.fixture
def draft(client: TestClient, page_login: Login) -> tuple[str, str]:  # noqa: F811
    """A new service from the blank template: the analyst's token and the draft's URL."""
    token = page_login("analis")
    return token, start(client, token)


def cases_in(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_an_analyst_records_a_run_and_saves_it_as_a_passing_scenario(
        client: TestClient, catalogue: AppContext, draft: tuple[str, str]) -> None:  # noqa: F811
    token, url = draft
    before = cases_in(catalogue)
    page = client.get(f"{url}/uji-coba")
    assert page.status_code == 200
    assert 'id="trial-apply"' in page.text
    assert 'name="nama_pemohon"' in page.text  # the start form, rendered by the platform's form layer
    assert "Senin, 2 Maret 2026, 09:00 WIB" in page.text

    applied = step(client, url, token, page.text, "ajukan", kanal="daring", **APPLICATION)
    assert applied.status_code == 200, applied.text
    assert re.search(r'<tr data-task="Task_periksa">.*?dinas_uji\.loket', applied.text, re.S)
    assert 'name="keputusan"' in applied.text  # the chosen task's form

    done = step(client, url, token, applied.text, "kerjakan", tugas="Task_periksa", keputusan="setuju")
    assert done.status_code == 200
    assert 'data-status="completed"' in done.text
    assert "&#39;Periksa permohonan&#39; diselesaikan oleh dinas_uji.loket" in done.text
    assert [s.get("act") for s in state(done.text)] == [None, "dinas_uji.loket"]
    assert cases_in(catalogue) == before  # the trial ran on a throw-away copy

    saved = client.post(f"{url}/uji-coba/simpan", data={
        "csrf_token": token, "langkah": json.dumps(state(done.text)), "mulai": "2026-03-02T09:00:00+07:00",
        "berkas": "disetujui", "nama_id": "Permohonan disetujui", "nama_en": "Application approved",
        "revisi": "1"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].startswith(f"{url}/uji-coba?skenario=tests/disetujui.toml")
    with catalogue.sessions() as session:
        row = session.get(PackageDraft, draft_id(url))
        assert row is not None
        text = drafts.read_file(session, row, "tests/disetujui.toml").decode()
        package = drafts.package_of(session, row)
    assert 'act = "dinas_uji.loket"' in text
    assert 'status = "completed"' in text
    assert 'path = ["Task_periksa"]' in text
    results = scenarios.run(package, settings=catalogue.settings)
    assert [(r.file, r.passed) for r in results] == [("tests/disetujui.toml", True)]

    replayed = client.get(saved.headers["location"])
    assert replayed.status_code == 200
    assert "Tersimpan sebagai tests/disetujui.toml" in replayed.text
    assert 'data-status="completed"' in replayed.text
    assert 'data-file="tests/disetujui.toml"' in replayed.text


def test_a_refused_step_shows_why_and_keeps_the_trial_as_it_was(
        client: TestClient, draft: tuple[str, str]) -> None:  # noqa: F811
    token, url = draft
    page = client.get(f"{url}/uji-coba")
    refused = step(client, url, token, page.text, "ajukan", kanal="daring", nama_pemohon="Budi", nik="123")
    assert refused.status_code == 422
    assert "nik" in refused.text
    assert state(refused.text) == []
    assert 'value="123"' in refused.text  # what the analyst typed is kept

    applied = step(client, url, token, page.text, "ajukan", kanal="daring", **APPLICATION)
    wrong = step(client, url, token, applied.text, "kerjakan", tugas="Task_periksa", keputusan="mungkin")
    assert wrong.status_code == 422
    assert len(state(wrong.text)) == 1
    tampered = client.post(f"{url}/uji-coba", data={"csrf_token": token, "langkah": "[{\"rm\": 1}]",
                                                    "aksi": "majukan", "jumlah": "1", "satuan": "hari_kerja"})
    assert tampered.status_code == 422
    assert "langkah uji coba tidak dapat dibaca" in tampered.text
    undone = step(client, url, token, applied.text, "batal")
    assert undone.status_code == 200
    assert state(undone.text) == []


def test_the_clock_moves_over_the_weekend_on_working_days(client: TestClient, draft: tuple[str, str]) -> None:  # noqa: F811
    token, url = draft
    page = client.get(f"{url}/uji-coba")
    friday = client.post(f"{url}/uji-coba", data={"csrf_token": token, "langkah": "[]", "aksi": "ajukan",
                                                  "mulai": "2026-03-06T10:00", "kanal": "daring", **APPLICATION})
    assert "Jumat, 6 Maret 2026, 10:00 WIB" in friday.text
    moved = client.post(f"{url}/uji-coba", data={
        "csrf_token": token, "langkah": json.dumps(state(friday.text)), "mulai": "2026-03-06T10:00:00+07:00",
        "aksi": "majukan", "jumlah": "1", "satuan": "hari_kerja"})
    assert moved.status_code == 200
    assert "Senin, 9 Maret 2026, 10:00 WIB" in moved.text
    assert state(moved.text)[-1] == {"advance": "1 hari kerja"}
    assert page.status_code == 200


def test_run_all_shows_each_scenario_passed_or_failed_with_its_problem(
        client: TestClient, catalogue: AppContext, draft: tuple[str, str]) -> None:  # noqa: F811
    token, url = draft
    good = ('apply = "daring"\ndata = { nama_pemohon = "Budi", nik = "3471012345670001" }\n\n[[steps]]\n'
            'act = "dinas_uji.loket"\ndata = { keputusan = "tolak" }\n\n[[steps]]\nexpect = { status = "completed" }\n')
    bad = good.replace('status = "completed"', 'status = "running"')
    with catalogue.sessions() as session, session.begin():
        row = session.get(PackageDraft, draft_id(url))
        assert row is not None
        for name, body in (("tests/baik.toml", good), ("tests/salah.toml", bad), ("tests/rusak.toml", "[x")):
            drafts.save_file(session, ADMIN, row, name=name, content=b"[[steps]]\n" + body.encode(),
                             loaded_revision=None)
    ran = client.post(f"{url}/uji-coba/jalankan", data={"csrf_token": token, "langkah": "[]"})
    assert ran.status_code == 200
    assert "3 skenario: 1 lulus, 2 gagal." in ran.text
    broken = re.search(r'<tr data-file="tests/rusak.toml">.*?</tr>', ran.text, re.S)
    assert broken is not None
    assert "bukan TOML yang sah" in broken.group(0)
    opened = client.get(f"{url}/uji-coba", params={"skenario": "tests/rusak.toml"})
    assert opened.status_code == 422
    assert "bukan TOML yang sah" in opened.text
    assert client.get(f"{url}/uji-coba", params={"skenario": "tests/tidak-ada.toml"}).status_code == 404
    good_row = re.search(r'<tr data-file="tests/baik.toml">.*?</tr>', ran.text, re.S)
    bad_row = re.search(r'<tr data-file="tests/salah.toml">.*?</tr>', ran.text, re.S)
    assert good_row is not None
    assert bad_row is not None
    assert "lulus" in good_row.group(0)
    assert "gagal" in bad_row.group(0)
    assert "langkah 3: status: diharapkan &#34;running&#34;, ternyata &#34;completed&#34;" in bad_row.group(0)


def test_saving_never_overwrites_unseen_work(client: TestClient, catalogue: AppContext,  # noqa: F811
                                             draft: tuple[str, str]) -> None:
    token, url = draft
    page = client.get(f"{url}/uji-coba")
    applied = step(client, url, token, page.text, "ajukan", kanal="daring", **APPLICATION)
    form = {"csrf_token": token, "langkah": json.dumps(state(applied.text)), "mulai": "2026-03-02T09:00:00+07:00",
            "berkas": "diajukan", "nama_id": "Diajukan", "revisi": "1"}
    assert client.post(f"{url}/uji-coba/simpan", data=form, follow_redirects=False).status_code == 303
    again = client.post(f"{url}/uji-coba/simpan", data=form, follow_redirects=False)
    assert again.status_code == 422
    assert "centang &#39;timpa&#39;" in again.text
    stale = client.post(f"{url}/uji-coba/simpan", data={**form, "timpa": "1"}, follow_redirects=False)
    assert stale.status_code == 409  # the page was loaded at revision 1; the file changed after it
    with catalogue.sessions() as session:
        current = session.scalar(select(PackageDraft.revision).where(PackageDraft.id == draft_id(url)))
        files = session.scalar(select(func.count()).select_from(DraftFile).where(
            DraftFile.draft_id == draft_id(url), DraftFile.name == "tests/diajukan.toml"))
    assert files == 1
    fresh = client.post(f"{url}/uji-coba/simpan", data={**form, "timpa": "1", "revisi": str(current)},
                        follow_redirects=False)
    assert fresh.status_code == 303
    bad_name = client.post(f"{url}/uji-coba/simpan", data={**form, "berkas": "../service"}, follow_redirects=False)
    assert bad_name.status_code == 422


def test_only_the_draft_s_analysts_may_use_the_trial_and_every_post_needs_csrf(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: tuple[str, str]) -> None:  # noqa: F811
    token, url = draft
    page = client.get(f"{url}/uji-coba")
    assert client.post(f"{url}/uji-coba", data={"langkah": "[]", "aksi": "ulang"}).status_code == 403
    assert client.post(f"{url}/uji-coba/simpan", data={"langkah": "[]", "berkas": "x"}).status_code == 403
    assert client.post(f"{url}/uji-coba/jalankan", data={"langkah": "[]"}).status_code == 403
    assert step(client, url, token, page.text, "ulang").status_code == 200

    make_analyst(catalogue, "analis_polisi", "polresta")
    other = page_login("analis_polisi")
    assert client.get(f"{url}/uji-coba").status_code == 404
    for path in ("uji-coba", "uji-coba/simpan", "uji-coba/jalankan"):
        response = client.post(f"{url}/{path}", data={"csrf_token": other, "langkah": "[]", "aksi": "ulang",
                                                      "berkas": "x"}, follow_redirects=False)
        assert response.status_code == 404, path
    page_login("dpmptsp_front_office")
    assert client.get(f"{url}/uji-coba", follow_redirects=False).status_code == 403
    client.cookies.clear()
    assert client.get(f"{url}/uji-coba", follow_redirects=False).status_code == 303

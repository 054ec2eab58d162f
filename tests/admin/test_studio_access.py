"""Every studio route, one table: who may open it, and that each change needs the CSRF token.

The table must name every route the studio has: a new route fails the first test until it is
classified here, so no page or action escapes the checks below.
"""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from admin import studio, studio_dmn, studio_drafts, studio_forms, studio_lifecycle, studio_standard, studio_trial
from engine.context import AppContext
from engine.models import AuditEntry, DraftFile, PackageDraft, ProcessVersion, RetiredProcess
from tests.admin.test_studio_drafts import draft_id, start
from tests.factories import make_analyst

Login = Callable[[str], str]
DIAGRAM = {"xml": "<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'/>"}
# (method, path) -> (the path to request, JSON body or None for a form post, whether it changes anything)
ROUTES: dict[tuple[str, str], tuple[str, dict[str, Any] | None, bool]] = {
    ("GET", "/studio"): ("/studio", None, False),
    ("GET", "/studio/baru"): ("/studio/baru", None, False),
    ("POST", "/studio/baru"): ("/studio/baru", None, True),
    ("GET", "/studio/{key}/versi/{version}"): ("/studio/pbg/versi/1", None, False),
    ("GET", "/studio/{key}/ubah"): ("/studio/pbg/ubah", None, False),
    ("POST", "/studio/{key}/periksa"): ("/studio/pbg/periksa", DIAGRAM, False),
    ("POST", "/studio/{key}/terapkan"): ("/studio/pbg/terapkan", DIAGRAM, True),
    ("GET", "/studio/{key}/banding"): ("/studio/pbg/banding", None, False),
    ("GET", "/studio/{key}/versi/{version}/unduh.zip"): ("/studio/pbg/versi/1/unduh.zip", None, False),
    ("POST", "/studio/{key}/pensiunkan"): ("/studio/pbg/pensiunkan", None, True),
    ("POST", "/studio/{key}/aktifkan"): ("/studio/pbg/aktifkan", None, True),
    ("POST", "/studio/{key}/draf"): ("/studio/pbg/draf", None, True),
    ("GET", "/studio/draf/baru"): ("/studio/draf/baru", None, False),
    ("POST", "/studio/draf/baru"): ("/studio/draf/baru", None, True),
    ("GET", "/studio/draf/{draft_id}"): ("/studio/draf/{d}", None, False),
    ("GET", "/studio/draf/{draft_id}/berkas"): ("/studio/draf/{d}/berkas?nama=service.toml", None, False),
    ("PUT", "/studio/draf/{draft_id}/berkas"): ("/studio/draf/{d}/berkas?nama=catatan.md",
                                                {"content": "x", "revisi": None}, True),
    ("DELETE", "/studio/draf/{draft_id}/berkas"): ("/studio/draf/{d}/berkas?nama=service.toml&revisi=99", None,
                                                   True),
    ("POST", "/studio/draf/{draft_id}/hapus-berkas"): ("/studio/draf/{d}/hapus-berkas", None, True),
    ("POST", "/studio/draf/{draft_id}/unggah"): ("/studio/draf/{d}/unggah", None, True),
    ("GET", "/studio/draf/{draft_id}/teks"): ("/studio/draf/{d}/teks?nama=service.toml", None, False),
    ("GET", "/studio/draf/{draft_id}/unduh.zip"): ("/studio/draf/{d}/unduh.zip", None, False),
    ("GET", "/studio/draf/{draft_id}/diagram"): ("/studio/draf/{d}/diagram", None, False),
    ("POST", "/studio/draf/{draft_id}/periksa"): ("/studio/draf/{d}/periksa?nama=process.bpmn", DIAGRAM, False),
    ("POST", "/studio/draf/{draft_id}/terbitkan"): ("/studio/draf/{d}/terbitkan", None, True),
    ("POST", "/studio/draf/{draft_id}/hapus"): ("/studio/draf/{d}/hapus", None, True),
    ("GET", "/studio/draf/{draft_id}/formulir"): ("/studio/draf/{d}/formulir?nama=forms/periksa.schema.json", None,
                                                  False),
    ("POST", "/studio/draf/{draft_id}/formulir/baru"): ("/studio/draf/{d}/formulir/baru", None, True),
    ("POST", "/studio/draf/{draft_id}/formulir/pratinjau"): ("/studio/draf/{d}/formulir/pratinjau",
                                                             {"schema": {"type": "object"}}, False),
    ("GET", "/studio/draf/{draft_id}/standar"): ("/studio/draf/{d}/standar", None, False),
    ("POST", "/studio/draf/{draft_id}/standar"): ("/studio/draf/{d}/standar", None, True),
    ("GET", "/studio/draf/{draft_id}/templat"): ("/studio/draf/{d}/templat", None, False),
    ("POST", "/studio/draf/{draft_id}/templat/pratinjau"): ("/studio/draf/{d}/templat/pratinjau", None, False),
    ("GET", "/studio/draf/{draft_id}/dmn"): ("/studio/draf/{d}/dmn?nama=biaya.dmn", None, False),
    ("GET", "/studio/draf/{draft_id}/dmn/baru"): ("/studio/draf/{d}/dmn/baru", None, False),
    ("POST", "/studio/draf/{draft_id}/dmn/baru"): ("/studio/draf/{d}/dmn/baru", None, True),
    ("GET", "/studio/draf/{draft_id}/uji-coba"): ("/studio/draf/{d}/uji-coba", None, False),
    ("POST", "/studio/draf/{draft_id}/uji-coba"): ("/studio/draf/{d}/uji-coba", None, False),
    ("POST", "/studio/draf/{draft_id}/uji-coba/simpan"): ("/studio/draf/{d}/uji-coba/simpan", None, True),
    ("POST", "/studio/draf/{draft_id}/uji-coba/jalankan"): ("/studio/draf/{d}/uji-coba/jalankan", None, False),
}
UNSAFE = [key for key in ROUTES if key[0] != "GET"]
DRAFT_ROUTES = [key for key in ROUTES if "{draft_id}" in key[1]]


def studio_routes() -> set[tuple[str, str]]:
    found = set()
    for module in (studio, studio_drafts, studio_forms, studio_standard, studio_dmn, studio_trial, studio_lifecycle):
        for route in module.routes.routes:
            assert isinstance(route, APIRoute)
            found |= {(method, route.path) for method in route.methods}
    return found


def call(http: TestClient, key: tuple[str, str], draft: int, token: str | None) -> Response:
    """Send the route's request with the given CSRF token (None: without one)."""
    path, body, _changes = ROUTES[key]
    url = path.replace("{d}", str(draft))
    headers = {"X-CSRF-Token": token} if token else {}
    if key[0] == "GET":
        return http.get(url, follow_redirects=False)
    if body is not None:
        return http.request(key[0], url, json=body, headers=headers, follow_redirects=False)
    if key[0] in ("PUT", "DELETE"):
        return http.request(key[0], url, headers=headers, follow_redirects=False)
    return http.post(url, data={"csrf_token": token} if token else {}, follow_redirects=False)


def snapshot(ctx: AppContext) -> tuple[Any, ...]:
    """Everything a studio action could change: versions, drafts and their files, retirements, audit."""
    with ctx.sessions() as session:
        return tuple(tuple(session.scalars(select(column)).all()) for column in (
            ProcessVersion.id, PackageDraft.revision, DraftFile.name, RetiredProcess.key, AuditEntry.id))


def test_the_table_names_every_studio_route() -> None:
    assert studio_routes() == set(ROUTES)


def test_every_change_needs_the_csrf_token(client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("analis")
    draft = draft_id(start(client, token))
    before = snapshot(catalogue)
    for key in UNSAFE:
        response = call(client, key, draft, None)
        assert response.status_code == 403, (key, response.status_code)
        forged = call(client, key, draft, "x" * 43)
        assert forged.status_code == 403, (key, forged.status_code)
    assert snapshot(catalogue) == before


def test_an_analyst_of_another_agency_reaches_no_draft_and_changes_no_service(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("analis")
    draft = draft_id(start(client, token, instansi_mode="ada", instansi="dpmptsp", peran=["front_office"],
                           peran_kode=[], peran_nama_id=[], peran_nama_en=[]))
    make_analyst(catalogue, "analis_polisi", "polresta")
    other = page_login("analis_polisi")
    before = snapshot(catalogue)
    for key in DRAFT_ROUTES:
        response = call(client, key, draft, other)
        assert response.status_code == 404, (key, response.status_code, response.text[:300])
    for key in UNSAFE:
        if "{key}" in key[1] and ROUTES[key][2]:  # a change to PBG, a DPMPTSP service
            response = call(client, key, draft, other)
            assert response.status_code in (403, 422), (key, response.status_code)
            assert response.status_code == 403 or "hanya analis" in response.text, key
    assert snapshot(catalogue) == before


@pytest.mark.parametrize("username", ["dpmptsp_front_office", "warga"])
def test_officers_and_applicants_are_refused_every_studio_route(
        client: TestClient, catalogue: AppContext, page_login: Login, username: str) -> None:
    token = page_login("analis")
    draft = draft_id(start(client, token))
    before = snapshot(catalogue)
    token = page_login(username)
    for key in ROUTES:
        response = call(client, key, draft, token)
        assert response.status_code == 403, (key, response.status_code)
    assert snapshot(catalogue) == before


def test_a_visitor_is_sent_to_log_in(client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("analis")
    draft = draft_id(start(client, token))
    client.cookies.clear()
    client.get("/masuk")
    anonymous = client.cookies["mpp_csrf"]
    for key in ROUTES:
        response = call(client, key, draft, anonymous)
        if key[0] == "GET":
            assert response.status_code == 303, (key, response.status_code)
            assert response.headers["location"].startswith("/masuk?next="), key
        else:
            assert response.status_code in (303, 401, 403), (key, response.status_code)

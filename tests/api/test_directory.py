"""The directory over HTTP (admin only): agencies, roles, users, memberships; every change audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from engine.models import AuditEntry
from tests.factories import pbg_documents

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def audit(ctx: AppContext, action: str) -> list[AuditEntry]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def audit_count(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def user_id(client: TestClient, login: Login, username: str) -> int:
    users = client.get("/api/users", params={"limit": 500}, headers=login("admin")).json()
    return int(next(u["id"] for u in users if u["username"] == username))


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    assert body["status"] == status
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


def routes(uid: int, membership_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every directory route with a valid request body."""
    return [
        ("GET", "/api/agencies", None),
        ("POST", "/api/agencies", {"code": "dinas_baru", "name_id": "Dinas Baru"}),
        ("GET", "/api/roles", None),
        ("POST", "/api/roles", {"key": "dinas_baru.petugas", "name": "Petugas"}),
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"username": "penyusup", "password": "rahasia-sekali"}),
        ("GET", f"/api/users/{uid}", None),
        ("PATCH", f"/api/users/{uid}", {"platform_role": "admin"}),
        ("GET", f"/api/users/{uid}/memberships", None),
        ("POST", f"/api/users/{uid}/memberships", {"role_key": "dpmptsp.kepala"}),
        ("DELETE", f"/api/users/{uid}/memberships/{membership_id}", None),
    ]


# ---------------------------------------------------------------- admin


def test_agencies_list_and_create_with_a_private_provider(client: TestClient, login: Login,
                                                          catalogue: AppContext) -> None:
    admin = login("admin")
    listed = client.get("/api/agencies", headers=admin)
    assert listed.status_code == 200, listed.text
    by_code = {a["code"]: a for a in listed.json()}
    assert {"dpmptsp", "pupr", "konsultan", "konsultan_griya", "konsultan_mataram"} <= set(by_code)
    assert by_code["konsultan_griya"]["parent_code"] == "konsultan"
    assert by_code["konsultan_griya"]["kind"] == "private"
    assert [a["code"] for a in listed.json()] == sorted(by_code)
    created = client.post("/api/agencies", json={"code": "konsultan_sleman", "name_id": "CV Sleman Rancang",
                                                 "name_en": "Sleman Design Ltd", "kind": "private",
                                                 "parent_code": "konsultan"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("code", "kind", "name_id", "name_en", "parent_code")} == {
        "code": "konsultan_sleman", "kind": "private", "name_id": "CV Sleman Rancang",
        "name_en": "Sleman Design Ltd", "parent_code": "konsultan"}
    assert isinstance(body["id"], int)
    [entry] = audit(catalogue, "agency.created")
    assert (entry.actor, entry.subject) == ("admin", "konsultan_sleman")
    assert "konsultan_sleman" in {a["code"] for a in client.get("/api/agencies", headers=admin).json()}
    # The new firm can be chosen by an applicant at once.
    case = client.post("/api/cases", json={"process_key": "pbg", "data": {
        "nama_pemohon": "Budi", "nik": "3471012345678901", "email": "b@example.id", "telepon": "081234567890",
        "alamat_bangunan": "Jl. Kaliurang 5", "fungsi_bangunan": "hunian", "luas_bangunan": 90,
        "jumlah_lantai": 1, "rumah_mbr": False, "consultant": "konsultan_sleman"},
        "documents": pbg_documents(client, login("warga")), "privacy_notice_accepted": True}, headers=login("warga"))
    assert case.status_code == 201, case.text


def test_agency_under_an_unknown_parent_is_refused(client: TestClient, login: Login, catalogue: AppContext) -> None:
    response = client.post("/api/agencies", json={"code": "anak_yatim", "name_id": "Anak", "kind": "private",
                                                  "parent_code": "tidak_ada"}, headers=login("admin"))
    assert_problem(response, 404, "not-found")
    assert audit(catalogue, "agency.created") == []
    assert "anak_yatim" not in {a["code"] for a in client.get("/api/agencies", headers=login("admin")).json()}


def test_roles_list_and_create(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    listed = client.get("/api/roles", headers=admin)
    assert listed.status_code == 200, listed.text
    keys = [r["key"] for r in listed.json()]
    assert {"dpmptsp.front_office", "pupr.tpa", "konsultan.perencana"} <= set(keys)
    assert keys == sorted(keys)
    created = client.post("/api/roles", json={"key": "dpmptsp.arsiparis", "name": "Arsiparis"}, headers=admin)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("key", "agency_code", "name")} == {
        "key": "dpmptsp.arsiparis", "agency_code": "dpmptsp", "name": "Arsiparis"}
    [entry] = audit(catalogue, "role.created")
    assert (entry.actor, entry.subject) == ("admin", "dpmptsp.arsiparis")
    # A role needs its agency registered first: the directory never invents an agency.
    assert_problem(client.post("/api/roles", json={"key": "bpn.juru_ukur"}, headers=admin), 404, "not-found")
    assert "bpn" not in {a["code"] for a in client.get("/api/agencies", headers=admin).json()}


def test_users_create_list_read_and_patch(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    created = client.post("/api/users", json={"username": "sri.wahyuni", "password": "kata-sandi-kuat",
                                              "platform_role": "officer", "display_name": "Sri Wahyuni",
                                              "email": "sri@example.id", "language": "en"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "username", "display_name", "email", "platform_role", "language", "active"}
    assert (body["username"], body["platform_role"], body["language"], body["active"]) == (
        "sri.wahyuni", "officer", "en", True)
    assert "kata-sandi-kuat" not in created.text
    [entry] = audit(catalogue, "user.created")
    assert (entry.actor, entry.subject, entry.detail) == ("admin", "sri.wahyuni", {"platform_role": "officer"})
    listed = client.get("/api/users", params={"limit": 500}, headers=admin)  # the demo has over 100 accounts
    assert listed.status_code == 200
    names = [u["username"] for u in listed.json()]
    assert names == sorted(names)
    assert {"admin", "analis", "warga", "sri.wahyuni"} <= set(names)
    assert "password" not in listed.text
    assert "argon2" not in listed.text
    page = client.get("/api/users", params={"limit": 2, "offset": 1}, headers=admin).json()
    assert [u["username"] for u in page] == names[1:3]
    uid = body["id"]
    read = client.get(f"/api/users/{uid}", headers=admin)
    assert read.status_code == 200
    assert read.json() == body
    patched = client.patch(f"/api/users/{uid}", json={"display_name": "Ir. Sri Wahyuni", "password": "sandi-baru-123"},
                           headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["display_name"] == "Ir. Sri Wahyuni"
    assert patched.json()["email"] == "sri@example.id"
    [update] = audit(catalogue, "user.updated")
    assert update.subject == "sri.wahyuni"
    assert update.detail == {"display_name": "Ir. Sri Wahyuni", "password": "changed"}
    assert "sandi-baru-123" not in str(update.detail)
    new_login = client.post("/api/auth/token", data={"username": "sri.wahyuni", "password": "sandi-baru-123"})
    assert new_login.status_code == 200, new_login.text
    old_login = client.post("/api/auth/token", data={"username": "sri.wahyuni", "password": "kata-sandi-kuat"})
    assert old_login.status_code == 401


def test_unknown_user_is_404(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    assert_problem(client.get("/api/users/999999", headers=admin), 404, "not-found")
    assert_problem(client.patch("/api/users/999999", json={"display_name": "X"}, headers=admin), 404, "not-found")
    assert_problem(client.get("/api/users/999999/memberships", headers=admin), 404, "not-found")
    assert_problem(client.post("/api/users/999999/memberships", json={"role_key": "pupr.tpa"}, headers=admin),
                   404, "not-found")
    assert audit_count(catalogue) == 0


def test_memberships_grant_list_and_revoke(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    created = client.post("/api/users", json={"username": "petugas_baru", "password": DEMO_PASSWORD,
                                              "platform_role": "officer"}, headers=admin)
    uid = created.json()["id"]
    assert client.get(f"/api/users/{uid}/memberships", headers=admin).json() == []
    granted = client.post(f"/api/users/{uid}/memberships", json={"role_key": "konsultan.perencana",
                                                                 "organisation_code": "konsultan_mataram"},
                          headers=admin)
    assert granted.status_code == 201, granted.text
    membership = granted.json()
    assert {k: membership[k] for k in ("user_id", "role_key", "organisation_code")} == {
        "user_id": uid, "role_key": "konsultan.perencana", "organisation_code": "konsultan_mataram"}
    default_org = client.post(f"/api/users/{uid}/memberships", json={"role_key": "pupr.tpa"}, headers=admin)
    assert default_org.status_code == 201, default_org.text
    assert default_org.json()["organisation_code"] == "pupr"
    listed = client.get(f"/api/users/{uid}/memberships", headers=admin)
    assert listed.status_code == 200
    assert [(m["role_key"], m["organisation_code"]) for m in listed.json()] == [
        ("konsultan.perencana", "konsultan_mataram"), ("pupr.tpa", "pupr")]
    grants = audit(catalogue, "membership.granted")
    assert [(e.subject, e.detail) for e in grants] == [
        ("petugas_baru", {"role": "konsultan.perencana", "organisation": "konsultan_mataram"}),
        ("petugas_baru", {"role": "pupr.tpa", "organisation": "pupr"})]
    me = client.get("/api/me", headers=login("petugas_baru")).json()
    assert {(m["role"], m["organisation"]) for m in me["memberships"]} == {
        ("konsultan.perencana", "konsultan_mataram"), ("pupr.tpa", "pupr")}
    revoked = client.delete(f"/api/users/{uid}/memberships/{membership['id']}", headers=admin)
    assert revoked.status_code == 204, revoked.text
    assert revoked.content == b""
    assert [m["role_key"] for m in client.get(f"/api/users/{uid}/memberships", headers=admin).json()] == ["pupr.tpa"]
    [entry] = audit(catalogue, "membership.revoked")
    assert (entry.actor, entry.subject, entry.detail) == ("admin", "petugas_baru", {"membership_id": membership["id"]})
    me = client.get("/api/me", headers=login("petugas_baru")).json()
    assert [m["role"] for m in me["memberships"]] == ["pupr.tpa"]
    again = client.delete(f"/api/users/{uid}/memberships/{membership['id']}", headers=admin)
    assert_problem(again, 404, "not-found")
    # A membership id is revoked only through its own user.
    other = user_id(client, login, "pupr_tpa")
    assert_problem(client.delete(f"/api/users/{other}/memberships/{default_org.json()['id']}", headers=admin),
                   404, "not-found")
    assert len(audit(catalogue, "membership.revoked")) == 1


# ---------------------------------------------------------------- everyone else


def test_every_route_refuses_non_admins_and_changes_nothing(client: TestClient, login: Login,
                                                             catalogue: AppContext) -> None:
    uid = user_id(client, login, "pupr_tpa")
    membership_id = client.get(f"/api/users/{uid}/memberships", headers=login("admin")).json()[0]["id"]
    before = audit_count(catalogue)
    for method, path, body in routes(uid, membership_id):
        for username in ("analis", "dpmptsp_front_office", "warga"):
            response = client.request(method, path, json=body, headers=login(username))
            assert_problem(response, 403, "forbidden")
        anonymous = client.request(method, path, json=body)
        assert_problem(anonymous, 401, "unauthenticated")
        assert anonymous.headers["www-authenticate"] == "Bearer"
    assert audit_count(catalogue) == before
    admin = login("admin")
    assert client.get(f"/api/users/{uid}", headers=admin).json()["platform_role"] == "officer"
    assert len(client.get(f"/api/users/{uid}/memberships", headers=admin).json()) == 1
    assert "penyusup" not in {u["username"] for u in client.get("/api/users", params={"limit": 500},
                                                                   headers=admin).json()}
    assert "dinas_baru" not in {a["code"] for a in client.get("/api/agencies", headers=admin).json()}


def test_every_route_works_for_the_admin(client: TestClient, login: Login) -> None:
    uid = user_id(client, login, "pupr_tpa")
    membership_id = client.get(f"/api/users/{uid}/memberships", headers=login("admin")).json()[0]["id"]
    expected = {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}
    for method, path, body in routes(uid, membership_id):
        response = client.request(method, path, json=body, headers=login("admin"))
        assert response.status_code == expected[method], (method, path, response.text)


# ---------------------------------------------------------------- conflicts and bad input


def test_duplicates_are_conflicts(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    before = audit_count(catalogue)
    duplicate_agency = client.post("/api/agencies", json={"code": "pupr", "name_id": "PUPR lagi"}, headers=admin)
    assert "pupr" in assert_problem(duplicate_agency, 409, "conflict")["detail"]
    duplicate_role = client.post("/api/roles", json={"key": "pupr.tpa"}, headers=admin)
    assert_problem(duplicate_role, 409, "conflict")
    duplicate_user = client.post("/api/users", json={"username": "warga", "password": "sandi-lain-123"}, headers=admin)
    assert_problem(duplicate_user, 409, "conflict")
    assert audit_count(catalogue) == before
    # The existing account is untouched: its password still works.
    assert client.post("/api/auth/token", data={"username": "warga", "password": DEMO_PASSWORD}).status_code == 200


def test_bad_codes_and_usernames_are_validation_problems(client: TestClient, login: Login,
                                                         catalogue: AppContext) -> None:
    admin = login("admin")
    cases: list[tuple[str, dict[str, Any], set[str]]] = [
        ("/api/agencies", {"code": "Bad Code!", "name_id": "X"}, {"code", "name_id"}),
        ("/api/agencies", {"code": "ok_code", "name_id": "Nama", "kind": "alien"}, {"kind"}),
        ("/api/agencies", {"code": "ok_code", "name_id": "Nama", "parent_code": "../x"}, {"parent_code"}),
        ("/api/roles", {"key": "no_dot_here"}, {"key"}),
        ("/api/roles", {"key": "Pupr.TPA"}, {"key"}),
        ("/api/users", {"username": "A B", "password": "short"}, {"username", "password"}),
        ("/api/users", {"username": "ok_user", "password": "long-enough", "platform_role": "root"},
         {"platform_role"}),
        ("/api/users", {"username": "ok_user", "password": "long-enough", "language": "fr"}, {"language"}),
        ("/api/users", {"password": "long-enough"}, {"username"}),
    ]
    for path, body, fields in cases:
        problem = assert_problem(client.post(path, json=body, headers=admin), 422, "validation")
        assert error_fields(problem) == fields, (path, body, problem)
        for field in fields:
            assert field in problem["detail"]
    uid = user_id(client, login, "warga")
    patch = assert_problem(client.patch(f"/api/users/{uid}", json={"password": "short", "active": "maybe"},
                                        headers=admin), 422, "validation")
    assert error_fields(patch) == {"password", "active"}
    grant = assert_problem(client.post(f"/api/users/{uid}/memberships", json={"role_key": "tpa"}, headers=admin),
                           422, "validation")
    assert error_fields(grant) == {"role_key"}
    assert audit_count(catalogue) == 0
    assert "ok_user" not in {u["username"] for u in client.get("/api/users", params={"limit": 500},
                                                                  headers=admin).json()}


def test_role_of_an_overlong_agency_is_a_validation_problem(client: TestClient, login: Login,
                                                            catalogue: AppContext) -> None:
    # An agency code has at most 64 characters (AgencyCreate, the agency table); a role names its agency.
    response = client.post("/api/roles", json={"key": "a" * 70 + ".petugas"}, headers=login("admin"))
    assert_problem(response, 422, "validation")
    assert audit(catalogue, "role.created") == []


def test_role_in_an_organisation_outside_its_agency_is_400(client: TestClient, login: Login,
                                                           catalogue: AppContext) -> None:
    admin = login("admin")
    uid = user_id(client, login, "pupr_teknis")
    for org in ("dpmptsp", "konsultan_griya"):
        response = client.post(f"/api/users/{uid}/memberships", json={"role_key": "pupr.tpa",
                                                                      "organisation_code": org}, headers=admin)
        assert_problem(response, 400, "bad-request")
    unknown_org = client.post(f"/api/users/{uid}/memberships", json={"role_key": "konsultan.perencana",
                                                                     "organisation_code": "konsultan_fiktif"},
                              headers=admin)
    assert_problem(unknown_org, 400, "bad-request")
    unknown_role = client.post(f"/api/users/{uid}/memberships", json={"role_key": "pupr.tukang_sulap"},
                               headers=admin)
    assert_problem(unknown_role, 404, "not-found")
    assert [m["role_key"] for m in client.get(f"/api/users/{uid}/memberships", headers=admin).json()] == [
        "pupr.teknis"]
    assert audit(catalogue, "membership.granted") == []

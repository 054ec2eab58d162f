"""The Integrasi page over HTTP: admins bind partner systems the deployed packages call; secrets never come back."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from engine.connectors import bindings
from engine.context import AppContext
from engine.models import AuditEntry
from tests.engine.test_connectors import connector_package
from tests.factories import deploy

Login = Callable[[str], str]
SECRET = "sangat-rahasia-7f3a9c"  # noqa: S105 - a test credential


@pytest.fixture
def deployed(catalogue: AppContext) -> AppContext:
    """Deploy a package whose service task calls bpjs_tk.transfer (described in its connectors.toml)."""
    deploy(catalogue, connector_package())
    return catalogue


def section(page: str, system: str) -> str:
    found = re.search(rf'<section id="sistem-{system}".*?</section>', page, re.S)
    assert found is not None, f"no section for {system}"
    return found.group(0)


def row(page: str, system: str) -> str:
    found = re.search(rf'<tr>\s*<th scope="row"><a href="#sistem-{system}">.*?</tr>', page, re.S)
    assert found is not None, f"no row for {system}"
    return found.group(0)


def bind(client: TestClient, token: str, system: str = "bpjs_tk", **fields: str) -> Response:
    data = {"csrf_token": token, "base_url": "https://api.bpjs-tk.example.id/v1", "auth_kind": "bearer",
            "auth_header": "", "secret": SECRET, **fields}
    response: Response = client.post(f"/admin/integrasi/{system}", data=data, follow_redirects=False)
    return response


def test_an_admin_sees_the_system_a_deployed_package_calls_as_not_bound(
        client: TestClient, deployed: AppContext, page_login: Login) -> None:
    page_login("admin")
    page = client.get("/admin/integrasi")
    assert page.status_code == 200
    line = row(page.text, "bpjs_tk")
    assert "<code>bpjs_tk.transfer</code>" in line
    assert "Layanan Uji" in line or "mutasi" in line
    assert '<span class="badge warn">belum terhubung</span>' in line
    assert 'action="/admin/integrasi/bpjs_tk"' in section(page.text, "bpjs_tk")


def test_binding_through_the_form_seals_the_secret_and_never_shows_it(
        client: TestClient, deployed: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    response = bind(client, token)
    assert (response.status_code, response.headers["location"]) == (
        303, "/admin/integrasi?tersambung=bpjs_tk#sistem-bpjs_tk")
    page = client.get("/admin/integrasi?tersambung=bpjs_tk").text
    assert "Sistem bpjs_tk tersambung." in page
    line = row(page, "bpjs_tk")
    assert '<span class="badge ok">terhubung</span>' in line
    assert "https://api.bpjs-tk.example.id/v1" in line
    assert ">ya<" in line
    assert "admin," in line
    for url in ("/admin/integrasi", "/admin/integrasi?lang=en", "/admin/integrasi/bpjs_tk/hapus", "/dasbor"):
        assert SECRET not in client.get(url).text, url
    with deployed.sessions() as session:
        stored = bindings.find(session, system="bpjs_tk")
        assert stored is not None
        assert stored.secret_sealed
        assert SECRET not in stored.secret_sealed
        assert bindings.auth_headers(stored, key=deployed.settings.secret_key.get_secret_value()) == {
            "Authorization": f"Bearer {SECRET}"}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "connector.bind")).one()
        assert (entry.actor, entry.subject) == ("admin", "bpjs_tk:*@default")
        assert entry.detail is not None
        assert entry.detail["secret_changed"] is True
        assert SECRET not in str(entry.detail)
    # The flash follows the state, not the query string.
    assert "tersambung." not in client.get("/admin/integrasi?tersambung=simbg").text


def test_an_empty_secret_keeps_the_stored_one_and_the_checkbox_removes_it(
        client: TestClient, deployed: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    bind(client, token)
    key = deployed.settings.secret_key.get_secret_value()
    bind(client, token, base_url="https://baru.bpjs-tk.example.id", secret="")
    with deployed.sessions() as session:
        stored = bindings.find(session, system="bpjs_tk")
        assert stored is not None
        assert stored.base_url == "https://baru.bpjs-tk.example.id"
        assert bindings.auth_headers(stored, key=key) == {"Authorization": f"Bearer {SECRET}"}
    bind(client, token, secret="", hapus_rahasia="1")
    with deployed.sessions() as session:
        stored = bindings.find(session, system="bpjs_tk")
        assert stored is not None
        assert stored.secret_sealed is None


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://partner.example", "Alamat dasar harus http(s)://host."),
    ("https://user:pw@partner.example", "Alamat dasar tidak boleh memuat kredensial"),
])
def test_a_bad_base_url_is_refused_beside_its_field_keeping_what_was_typed(
        client: TestClient, deployed: AppContext, page_login: Login, url: str, message: str) -> None:
    token = page_login("admin")
    response = bind(client, token, base_url=url, auth_kind="header", auth_header="X-Api-Key")
    assert response.status_code == 422
    page = response.text
    assert 'class="error-summary"' in page
    assert 'href="#ikat-bpjs_tk-base_url"' in page
    form = section(page, "bpjs_tk")
    assert f'<span class="field-error" id="ikat-bpjs_tk-base_url-error">{message}' in form
    assert f'value="{url}"' in form
    assert 'aria-invalid="true"' in form
    assert 'value="X-Api-Key"' in form
    assert '<option value="header" selected>' in form
    assert SECRET not in page
    assert "The base URL" not in form  # the user's language only
    with deployed.sessions() as session:
        assert bindings.find(session, system="bpjs_tk") is None
    english = client.post("/admin/integrasi/bpjs_tk?lang=en", data={"csrf_token": token, "base_url": url})
    assert english.status_code == 422
    assert re.search(r'id="ikat-bpjs_tk-base_url-error">The base URL', english.text)


def test_a_header_binding_needs_a_header_name(client: TestClient, deployed: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    response = bind(client, token, auth_kind="header")
    assert response.status_code == 422
    assert 'id="ikat-bpjs_tk-auth_header-error">Autentikasi &#39;header&#39; perlu nama header.' in response.text


def test_a_system_no_package_uses_can_be_bound_and_unbound_after_confirming(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    bad = client.post("/admin/integrasi", data={"csrf_token": token, "sistem": "Bukan Kode",
                                                "base_url": "https://mitra_uji.example.id", "auth_kind": "none"})
    assert bad.status_code == 422
    assert 'id="baru-sistem-error"' in bad.text
    assert 'value="Bukan Kode"' in bad.text
    made = client.post("/admin/integrasi", data={"csrf_token": token, "sistem": "mitra_uji",
                                                 "base_url": "https://mitra_uji.example.id/", "auth_kind": "none"},
                       follow_redirects=False)
    assert made.headers["location"] == "/admin/integrasi?tersambung=mitra_uji#sistem-mitra_uji"
    line = row(client.get("/admin/integrasi").text, "mitra_uji")
    assert "belum dipakai paket" in line
    assert "https://mitra_uji.example.id<" in line
    confirm = client.get("/admin/integrasi/mitra_uji/hapus")
    assert confirm.status_code == 200
    assert 'action="/admin/integrasi/mitra_uji/hapus"' in confirm.text
    gone = client.post("/admin/integrasi/mitra_uji/hapus", data={"csrf_token": token}, follow_redirects=False)
    assert gone.headers["location"] == "/admin/integrasi?dihapus=mitra_uji"
    assert "Ikatan sistem mitra_uji dihapus." in client.get(gone.headers["location"]).text
    with catalogue.sessions() as session:
        assert bindings.find(session, system="mitra_uji") is None
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == "mitra_uji:*@default")
                                       .order_by(AuditEntry.id)))
        assert actions == ["connector.bind", "connector.unbind"]
    assert client.post("/admin/integrasi/mitra_uji/hapus", data={"csrf_token": token}).status_code == 404


def test_every_form_needs_the_csrf_token(client: TestClient, deployed: AppContext, page_login: Login) -> None:
    page_login("admin")
    assert bind(client, "palsu").status_code == 403
    assert client.post("/admin/integrasi", data={"sistem": "simbg", "base_url": "https://x.example"}).status_code \
        == 403
    assert client.post("/admin/integrasi/bpjs_tk/hapus", data={}).status_code == 403
    with deployed.sessions() as session:
        assert bindings.list_bindings(session) == []


@pytest.mark.parametrize("username", ["analis", "dpmptsp_front_office", "dpmptsp_supervisor"])
def test_analysts_and_officers_get_403(client: TestClient, deployed: AppContext, page_login: Login,
                                       username: str) -> None:
    token = page_login(username)
    assert client.get("/admin/integrasi").status_code == 403
    assert client.get("/admin/integrasi/bpjs_tk/hapus").status_code == 403
    assert bind(client, token).status_code == 403
    assert "/admin/integrasi" not in client.get("/dasbor").text
    with deployed.sessions() as session:
        assert bindings.list_bindings(session) == []


def test_an_agency_binding_in_another_environment_is_listed_edited_and_removed(
        client: TestClient, deployed: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    form = section(client.get("/admin/integrasi").text, "bpjs_tk")
    assert '<option value="" selected>Semua instansi</option>' in form
    assert 'name="lingkungan" value="default"' in form
    response = bind(client, token, instansi="dinas", lingkungan="staging")
    assert (response.status_code, response.headers["location"]) == (
        303, "/admin/integrasi?tersambung=bpjs_tk&instansi=dinas&lingkungan=staging#sistem-bpjs_tk")
    page = client.get(response.headers["location"]).text
    assert "Sistem bpjs_tk tersambung." in page
    # Bound only in another environment: this platform's calls still have no host.
    assert '<span class="badge warn">belum terhubung</span>' in row(page, "bpjs_tk")
    listed = section(page, "bpjs_tk")
    assert "<td><code>dinas</code></td>" in listed
    assert "<td><code>staging</code></td>" in listed
    assert 'href="/admin/integrasi/bpjs_tk/hapus?instansi=dinas&amp;lingkungan=staging"' in listed
    assert SECRET not in page
    edit = section(client.get("/admin/integrasi?sistem=bpjs_tk&instansi=dinas&lingkungan=staging").text, "bpjs_tk")
    assert '<option value="dinas" selected>' in edit
    assert 'name="lingkungan" value="staging"' in edit
    assert 'value="https://api.bpjs-tk.example.id/v1"' in edit
    assert "Rahasia tersimpan dan tidak ditampilkan" in edit
    bind(client, token, instansi="dinas")  # the agency's binding in this environment
    assert '<span class="badge ok">terhubung</span>' in row(client.get("/admin/integrasi").text, "bpjs_tk")
    with deployed.sessions() as session:
        assert [(b.agency, b.environment) for b in bindings.list_bindings(session)] == [
            ("dinas", "default"), ("dinas", "staging")]
    confirm = client.get("/admin/integrasi/bpjs_tk/hapus?instansi=dinas&lingkungan=staging")
    assert 'action="/admin/integrasi/bpjs_tk/hapus?instansi=dinas&amp;lingkungan=staging"' in confirm.text
    assert client.get("/admin/integrasi/bpjs_tk/hapus").status_code == 404  # no every-agency binding here
    gone = client.post("/admin/integrasi/bpjs_tk/hapus?instansi=dinas&lingkungan=staging",
                       data={"csrf_token": token}, follow_redirects=False)
    assert gone.headers["location"] == "/admin/integrasi?dihapus=bpjs_tk&instansi=dinas&lingkungan=staging"
    assert "Ikatan sistem bpjs_tk dihapus." in client.get(gone.headers["location"]).text
    with deployed.sessions() as session:
        assert [(b.agency, b.environment) for b in bindings.list_bindings(session)] == [("dinas", "default")]
        subjects = list(session.scalars(select(AuditEntry.subject).where(AuditEntry.action.like("connector.%"))
                                        .order_by(AuditEntry.id)))
    assert subjects == ["bpjs_tk:dinas@staging", "bpjs_tk:dinas@default", "bpjs_tk:dinas@staging"]


def test_an_unknown_agency_is_refused_beside_its_field(client: TestClient, deployed: AppContext,
                                                       page_login: Login) -> None:
    token = page_login("admin")
    response = bind(client, token, instansi="tidak_ada")
    assert response.status_code == 422
    assert 'id="ikat-bpjs_tk-instansi-error">Instansi &#39;tidak_ada&#39; tidak dikenal.' in response.text
    assert SECRET not in response.text
    bad = bind(client, token, lingkungan="Prod Uji")
    assert 'id="ikat-bpjs_tk-lingkungan-error">Lingkungan &#39;Prod Uji&#39; tidak sah' in bad.text
    assert 'value="Prod Uji"' in bad.text
    with deployed.sessions() as session:
        assert bindings.list_bindings(session) == []

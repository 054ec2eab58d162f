"""The apply page's NIK check through HTTP, against the Dukcapil simulator: only a verdict, rate-limited."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.connectors import bindings
from engine.context import AppContext
from engine.db import transaction
from engine.models import Case, RateLimit
from tests.admin.conftest import Login, page_login  # noqa: F401 - the fixture
from tests.simulators.dukcapil import Registry

URL = "/layanan/pbg/periksa-nik"
APPLY = "/layanan/pbg/ajukan"
NIK, NAME = "3471010101900001", "Budi Santoso"
JSON = {"Accept": "application/json"}


def bind(catalogue: AppContext, url: str) -> None:
    """Bind the simulator at `url` as `dukcapil`, with a bearer secret."""
    with transaction(catalogue.sessions) as session:
        change = bindings.BindingChange(base_url=url, auth_kind="bearer", secret="rahasia-dukcapil")
        bindings.set_binding(session, system="dukcapil", change=change, actor="admin",
                             key=catalogue.settings.secret_key.get_secret_value())


@pytest.fixture
def registry(catalogue: AppContext) -> Iterator[Registry]:
    """The simulator, bound as `dukcapil` with a bearer secret."""
    with Registry() as running:
        bind(catalogue, running.url)
        yield running


def ask(client: TestClient, token: str, nik: str = NIK, name: str = NAME, **extra: str) -> dict[str, str]:
    response = client.post(URL, data={"csrf_token": token, "nik": nik, "nama_pemohon": name, **extra}, headers=JSON)
    return {"status": str(response.status_code), **response.json()}


def test_the_apply_page_offers_the_check_beside_the_nik(client: TestClient, page_login: Login) -> None:  # noqa: F811
    page_login("warga")
    page = client.get(APPLY).text
    assert page.index('id="f-nik"') < page.index('id="nik-check-button"') < page.index('name="channel"')
    assert f'formaction="{URL}"' in page
    assert 'role="status"' in page
    assert "nik-check.js" in page
    assert "Periksa NIK" in page


def test_a_match_a_mismatch_and_only_a_verdict_comes_back(client: TestClient, page_login: Login,  # noqa: F811
                                                          registry: Registry) -> None:
    token = page_login("warga")
    assert ask(client, token) == {"status": "200", "verdict": "match",
                                  "message": "NIK cocok dengan nama pemohon menurut Dukcapil."}
    other = ask(client, token, name="Siti Rahayu")
    assert (other["status"], other["verdict"]) == ("200", "mismatch")
    assert "Budi" not in other["message"]
    assert set(other) == {"status", "verdict", "message"}  # never the registry's data
    assert registry.received[0]["headers"]["Authorization"] == "Bearer rahasia-dukcapil"
    english = client.post(URL + "?lang=en", data={"csrf_token": token, "nik": NIK, "nama_pemohon": NAME},
                          headers=JSON)
    assert english.json()["message"].startswith("The NIK matches")


def test_a_bad_nik_is_refused_before_any_call_and_an_unbound_registry_is_unavailable(
        client: TestClient, page_login: Login) -> None:  # noqa: F811
    token = page_login("warga")
    assert ask(client, token, nik="12345") == {"status": "422", "verdict": "invalid", "message": "NIK harus 16 angka."}
    unbound = ask(client, token)
    assert (unbound["status"], unbound["verdict"]) == ("200", "unavailable")


def test_a_failing_registry_is_unavailable(client: TestClient, page_login: Login,  # noqa: F811
                                           registry: Registry) -> None:
    token = page_login("warga")
    registry.fail()
    assert ask(client, token)["verdict"] == "unavailable"


def test_csrf_and_login_are_required(client: TestClient, page_login: Login, registry: Registry) -> None:  # noqa: F811
    client.get("/masuk")
    visitor = client.post(URL, data={"csrf_token": client.cookies["mpp_csrf"], "nik": NIK, "nama_pemohon": NAME},
                          headers=JSON)
    assert visitor.status_code == 401
    assert visitor.json()["verdict"] == "login"
    plain = client.post(URL, data={"csrf_token": client.cookies["mpp_csrf"], "nik": NIK, "nama_pemohon": NAME},
                        follow_redirects=False)
    assert plain.status_code == 303
    assert plain.headers["location"].startswith("/masuk?next=/layanan/pbg/ajukan")
    page_login("warga")
    forged = client.post(URL, data={"csrf_token": "palsu", "nik": NIK, "nama_pemohon": NAME}, headers=JSON)
    assert forged.status_code == 403
    assert registry.received == []


def test_checks_are_limited_per_nik_and_per_client(client: TestClient, page_login: Login,  # noqa: F811
                                                   registry: Registry, catalogue: AppContext) -> None:
    token = page_login("warga")
    assert [ask(client, token)["status"] for _ in range(5)] == ["200"] * 5
    refused = client.post(URL, data={"csrf_token": token, "nik": NIK, "nama_pemohon": NAME}, headers=JSON)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60  # the NIK's 15-minute window, not the client's minute
    assert refused.json()["verdict"] == "limited"
    others = [f"34710101019000{n:02d}" for n in range(10, 14)]
    assert [ask(client, token, nik=n)["status"] for n in others] == ["200"] * 4  # other NIKs still checked
    client_spent = ask(client, token, nik="3471010101900099")
    assert client_spent["status"] == "429"  # the client's 10 a minute (refused ones count too)
    assert len(registry.received) == 9
    with catalogue.sessions() as session:
        keys = list(session.scalars(select(RateLimit.key).where(RateLimit.key.like("nik-%"))))
    assert not [k for k in keys if NIK in k or "34710101019000" in k]  # a digest, never the NIK


def test_without_javascript_the_page_comes_back_with_everything_typed(
        client: TestClient, page_login: Login, registry: Registry, catalogue: AppContext) -> None:  # noqa: F811
    token = page_login("warga")
    typed = {"csrf_token": token, "nama_pemohon": NAME, "nik": NIK, "email": "budi@contoh.id",
             "telepon": "081234567890", "alamat_bangunan": "Jl. Kenari 5, Yogyakarta", "luas_bangunan": "120",
             "jumlah_lantai": "2", "channel": "daring"}
    page = client.post(URL, data=typed)
    assert page.status_code == 200
    result = re.search(r'<p id="nik-check-result"[^>]*data-verdict="(\w+)"[^>]*>([^<]*)</p>', page.text)
    assert result, page.text
    assert result.groups() == ("match", "NIK cocok dengan nama pemohon menurut Dukcapil.")
    for value in ("Budi Santoso", NIK, "budi@contoh.id", "081234567890", "120", "2"):
        assert f'value="{value}"' in page.text
    assert ">Jl. Kenari 5, Yogyakarta</textarea>" in page.text
    assert re.search(r'id="channel-daring" name="channel" value="daring" checked', page.text)
    mismatch = client.post(URL, data={**typed, "nama_pemohon": "Orang Lain"})
    assert 'data-verdict="mismatch"' in mismatch.text
    assert 'value="Orang Lain"' in mismatch.text
    with catalogue.sessions() as session:
        assert session.scalars(select(Case)).all() == []  # a check never files

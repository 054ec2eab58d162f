"""Documents through the API: the applicant downloads, anyone verifies, only an admin revokes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.models import AuditEntry
from tests.documents import actor_named, issued_pbg, pbg_cast

Login = Callable[[str], dict[str, str]]


@pytest.fixture
def issued(catalogue: AppContext) -> tuple[int, int, str]:
    """A completed PBG case of the demo applicant `warga`, with its document: (case id, document id, code)."""
    cast = pbg_cast(catalogue, prefix="api", applicant=actor_named(catalogue, "warga"))
    case, doc = issued_pbg(catalogue, cast)
    return case.id, doc.id, doc.verify_code


def test_the_applicant_lists_and_downloads_the_signed_pdf(client: TestClient, login: Login,
                                                          issued: tuple[int, int, str]) -> None:
    case_id, doc_id, code = issued
    listed = client.get(f"/api/cases/{case_id}/documents", headers=login("warga"))
    assert listed.status_code == 200, listed.text
    [item] = listed.json()
    assert (item["id"], item["number"], item["title"]["id"]) == (doc_id, "PBG-3471-2026-0042",
                                                                 "Persetujuan Bangunan Gedung")
    assert item["verify_url"].endswith(f"/verifikasi/{code}")
    pdf = client.get(item["pdf_url"], headers=login("warga"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "no-store" in pdf.headers["cache-control"]
    verified = client.get(f"/api/documents/verify/{code}")  # public: no token
    assert verified.status_code == 200
    body = verified.json()
    assert body["status"] == "authentic"
    assert body["sha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert (body["holder"], body["agency"]["id"]) == ("Budi Santoso", "DPMPTSP Kota Yogyakarta")
    assert {"label": {"id": "Jumlah lantai", "en": "Number of floors"}, "value": "2"} in body["facts"]


@pytest.mark.parametrize("outsider", ["analis", "dinkes_verifikator", "admin_missing"])
def test_others_cannot_list_or_download(client: TestClient, login: Login, issued: tuple[int, int, str],
                                        outsider: str) -> None:
    case_id, doc_id, _code = issued
    if outsider == "admin_missing":
        assert client.get(f"/api/documents/{doc_id}/pdf").status_code == 401
        return
    headers = login(outsider)
    for url in (f"/api/cases/{case_id}/documents", f"/api/documents/{doc_id}/pdf"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/documents/{doc_id + 1000}/pdf", headers=login("warga")).status_code == 404


def test_uploaded_copy_is_checked_against_the_signed_hash(client: TestClient, login: Login,
                                                          issued: tuple[int, int, str]) -> None:
    _case_id, doc_id, code = issued
    original = client.get(f"/api/documents/{doc_id}/pdf", headers=login("warga")).content
    ok = client.post(f"/api/documents/verify/{code}/check", files={"file": ("pbg.pdf", original, "application/pdf")})
    assert ok.json()["status"] == "authentic"
    forged = original.replace(b"PBG-3471-2026-0042", b"PBG-3471-2026-0099")
    bad = client.post(f"/api/documents/verify/{code}/check", files={"file": ("pbg.pdf", forged, "application/pdf")})
    assert bad.status_code == 200
    assert bad.json()["status"] == "tampered"
    assert bad.json()["expected_sha256"] == hashlib.sha256(original).hexdigest()


def test_only_an_admin_revokes_and_the_verification_then_says_revoked(
        client: TestClient, login: Login, catalogue: AppContext, issued: tuple[int, int, str]) -> None:
    _case_id, doc_id, code = issued
    reason = {"reason": "Diterbitkan atas data yang keliru"}
    assert client.post(f"/api/documents/{doc_id}/revoke", json=reason, headers=login("warga")).status_code == 403
    assert client.post(f"/api/documents/{doc_id}/revoke", json={"reason": ""},
                       headers=login("admin")).status_code == 422
    done = client.post(f"/api/documents/{doc_id}/revoke", json=reason, headers=login("admin"))
    assert done.status_code == 200, done.text
    assert done.json()["revoked_at"] is not None
    again = client.post(f"/api/documents/{doc_id}/revoke", json=reason, headers=login("admin"))
    assert again.status_code == 400
    body = client.get(f"/api/documents/verify/{code}").json()
    assert (body["status"], body["revoke_reason"]) == ("revoked", reason["reason"])
    with catalogue.sessions() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "document.revoke"))
        assert entry is not None
        assert (entry.actor, entry.subject) == ("admin", f"document:{doc_id}")


def test_an_unknown_code_is_a_clear_404(client: TestClient) -> None:
    for code in ("ZZZZZZZZZZZZZZZZ", "nonsense", "%00"):
        response = client.get(f"/api/documents/verify/{code}")
        assert response.status_code == 404
        assert response.json()["detail"] == "no document has this verification code"

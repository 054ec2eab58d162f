"""The public verification page and the applicant's download, through HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from engine.cases.service import StartedCase
from engine.context import AppContext
from engine.db import transaction
from engine.documents import service as documents
from tests.documents import actor_named, issued_pbg, pbg_cast

Login = Callable[[str], dict[str, str]]


@pytest.fixture
def issued(catalogue: AppContext) -> tuple[StartedCase, documents.DocumentSummary, bytes]:
    """A completed PBG case of the demo applicant, its document and the document's PDF."""
    cast = pbg_cast(catalogue, prefix="page", applicant=actor_named(catalogue, "warga"))
    case, doc = issued_pbg(catalogue, cast)
    with catalogue.sessions() as session:
        _row, data = documents.document_pdf(session, settings=catalogue.settings, document_id=doc.id)
    return case, doc, data


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def status_of(html: str, element: str = "verify-status") -> str:
    match = re.search(rf'id="{element}" data-status="(\w+)"', html)
    assert match, f"no #{element} on the page"
    return match.group(1)


def test_the_page_shows_facts_and_says_authentic(client: TestClient, issued: tuple) -> None:
    _case, doc, _pdf = issued
    page = client.get(f"/verifikasi/{doc.verify_code}")
    assert page.status_code == 200
    assert status_of(page.text) == "authentic"
    for fact in ("PBG-3471-2026-0042", "Budi Santoso", "DPMPTSP Kota Yogyakarta", "Jl. Malioboro 10, Yogyakarta",
                 "Persetujuan Bangunan Gedung (PBG)"):
        assert fact in page.text
    english = client.get(f"/verifikasi/{doc.verify_code}?lang=en")
    assert "Authentic document." in english.text
    assert "Building address" in english.text


def test_typed_codes_are_normalised_and_unknown_ones_are_a_404(client: TestClient, issued: tuple) -> None:
    _case, doc, _pdf = issued
    typed = client.get("/verifikasi", params={"kode": doc.verify_code.lower()[:8] + "-" + doc.verify_code[8:]},
                       follow_redirects=False)
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/verifikasi/{doc.verify_code}"
    unknown = client.get("/verifikasi/ZZZZZZZZZZZZZZZZ")
    assert unknown.status_code == 404
    assert status_of(unknown.text) == "unknown"
    assert client.get("/verifikasi/" + "x" * 300).status_code == 404
    odd = client.get("/verifikasi", params={"kode": "../../api/x?y=1"}, follow_redirects=False)
    assert odd.headers["location"] == "/verifikasi/AP1XY1"  # I reads as 1


def test_an_uploaded_copy_is_authentic_and_a_changed_one_tampered(client: TestClient, issued: tuple) -> None:
    _case, doc, original = issued
    url = f"/verifikasi/{doc.verify_code}"
    same = client.post(url, data={"csrf_token": csrf(client, url)},
                       files={"berkas": ("pbg.pdf", original, "application/pdf")})
    assert same.status_code == 200
    assert status_of(same.text, "check-result") == "authentic"
    forged = original.replace(b"PBG-3471-2026-0042", b"PBG-3471-2026-0077")
    changed = client.post(url, data={"csrf_token": csrf(client, url)},
                          files={"berkas": ("pbg.pdf", forged, "application/pdf")})
    assert status_of(changed.text, "check-result") == "tampered"
    assert status_of(changed.text) == "authentic"  # the document itself is still fine
    missing = client.post(url, data={"csrf_token": csrf(client, url)})
    assert missing.status_code == 422
    assert "Pilih berkas PDF" in missing.text
    no_token = client.post(url, files={"berkas": ("pbg.pdf", original, "application/pdf")})
    assert no_token.status_code == 403


def test_a_revoked_document_says_so_with_its_reason(client: TestClient, catalogue: AppContext,
                                                    issued: tuple) -> None:
    _case, doc, original = issued
    with transaction(catalogue.sessions) as session:
        documents.revoke(session, document_id=doc.id, actor=actor_named(catalogue, "admin"),
                         reason="Izin dibatalkan atas permintaan pemilik", now=catalogue.rt.clock())
    url = f"/verifikasi/{doc.verify_code}"
    page = client.get(url)
    assert status_of(page.text) == "revoked"
    assert "Izin dibatalkan atas permintaan pemilik" in page.text
    checked = client.post(url, data={"csrf_token": csrf(client, url)},
                          files={"berkas": ("pbg.pdf", original, "application/pdf")})
    assert status_of(checked.text, "check-result") == "revoked"


def test_the_applicant_downloads_after_proving_the_pin(client: TestClient, catalogue: AppContext,
                                                       issued: tuple) -> None:
    case, doc, original = issued
    url = f"/lacak/{case.tracking_number}/dokumen/{doc.id}"
    before = client.get(url, follow_redirects=False)
    assert before.status_code == 303
    assert before.headers["location"].startswith("/lacak?nomor=")
    tracked = client.post("/lacak", data={"number": case.tracking_number, "pin": case.pin,
                                          "csrf_token": csrf(client, "/lacak")}, follow_redirects=False)
    assert tracked.status_code == 303
    after = client.get(url)
    assert after.status_code == 200
    assert after.headers["content-type"] == "application/pdf"
    assert after.content == original
    # The grant covers this case only: another case's document id is not served through it.
    assert client.get(f"/lacak/{case.tracking_number}/dokumen/{doc.id + 1}").status_code == 404


def test_another_browser_and_another_case_cannot_download(client: TestClient, catalogue: AppContext,
                                                          issued: tuple) -> None:
    case, doc, _pdf = issued
    other = pbg_cast(catalogue, prefix="other")
    other_case, _other_doc = issued_pbg(catalogue, other)
    # A browser that proved the PIN of another case gets nothing of this one.
    client.post("/lacak", data={"number": other_case.tracking_number, "pin": other_case.pin,
                                "csrf_token": csrf(client, "/lacak")}, follow_redirects=False)
    assert client.get(f"/lacak/{case.tracking_number}/dokumen/{doc.id}", follow_redirects=False).status_code == 303
    assert client.get(f"/lacak/{other_case.tracking_number}/dokumen/{doc.id}").status_code == 404

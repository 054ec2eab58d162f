"""The service standard and a document template, edited in a real browser on a draft."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.catalogue import blank, drafts, stewards
from engine.db import transaction
from engine.directory import accounts
from engine.directory import service as directory
from engine.directory.actors import actor_for
from engine.models import PackageDraft
from tests.browser.conftest import PASSWORD

USER = "analis_standar"


@pytest.fixture(scope="module")
def draft_id(live_server: Any) -> int:
    """An analyst of a new agency and a draft of a new service of it."""
    with transaction(live_server.ctx.sessions) as session:
        directory.ensure_agency(session, code="dinas_uji", name_id="Dinas Uji", name_en="Test Office")
        stewards.ensure_analyst_role(session, "dinas_uji")
        user = directory.create_user(session, username=USER, platform_role="analyst",
                                     password_hash=accounts.hash_password(PASSWORD))
        directory.grant(session, user=user, role_key=stewards.analyst_role("dinas_uji"))
        draft = drafts.create_blank(session, actor_for(session, user), blank.NewService(
            key="izin_uji", agency="dinas_uji", name_id="Izin Uji", name_en="Test Permit",
            roles=[blank.RoleDecl("loket", "Petugas loket", "Counter officer")],
            agency_name_id="Dinas Uji", agency_name_en="Test Office"))
        return draft.id


def service_toml(live_server: Any, draft: int) -> dict[str, Any]:
    with live_server.ctx.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        return tomllib.loads(drafts.read_file(session, row, "service.toml").decode())


def test_an_analyst_fills_the_service_standard(
    page: Page, live_server: Any, draft_id: int, login: Callable[[Page, str], None],
    axe_check: Callable[..., None], shot: Callable[[Page, str], Path],
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, USER)
    page.goto(f"{live_server.url}/studio/draf/{draft_id}/standar")
    expect(page.get_by_role("heading", name="Standar pelayanan", exact=True)).to_be_visible()
    axe_check(page)

    page.get_by_label("Nama layanan (bahasa Indonesia)", exact=True).fill("Izin Keramaian Uji")
    page.get_by_label("Nama layanan (bahasa Inggris)", exact=True).fill("Trial Public Event Permit")
    page.get_by_label("Jangka waktu (hari kerja)").fill("7")
    page.get_by_label("Drive-thru").check()
    page.get_by_label("Daring (tanpa tatap muka)").uncheck()
    page.get_by_role("button", name="Tambah persyaratan").click()
    second = page.get_by_label("Persyaratan 2: Teks bahasa Indonesia")
    expect(second).to_be_focused()  # the new row takes the focus
    second.fill("Surat rekomendasi kepolisian")
    page.get_by_label("Persyaratan 2: Teks bahasa Inggris").fill("Police recommendation letter")
    # A role of the agency, added in the page too.
    page.get_by_role("button", name="Tambah peran").click()
    page.get_by_label("Instansi 1, peran 2: Kode peran").fill("kepala")
    page.get_by_label("Instansi 1, peran 2: Nama (bahasa Indonesia)").fill("Kepala dinas")
    page.get_by_label("Instansi 1, peran 2: Nama (bahasa Inggris)").fill("Head of office")
    page.get_by_role("button", name="Simpan standar").first.click()

    expect(page.get_by_role("status").filter(has_text="Standar pelayanan disimpan")).to_be_visible()
    saved = service_toml(live_server, draft_id)
    assert saved["name"] == {"id": "Izin Keramaian Uji", "en": "Trial Public Event Permit"}
    assert saved["sla_days"] == 7
    assert saved["channels"] == ["tatap_muka", "drive_thru"]
    assert saved["requirements"][1] == {"id": "Surat rekomendasi kepolisian", "en": "Police recommendation letter"}
    assert [r["key"] for r in saved["agencies"][0]["roles"]] == ["loket", "kepala"]

    page.reload()
    expect(page.get_by_label("Nama layanan (bahasa Indonesia)", exact=True)).to_have_value("Izin Keramaian Uji")
    expect(page.get_by_label("Jangka waktu (hari kerja)")).to_have_value("7")
    expect(page.get_by_label("Drive-thru")).to_be_checked()
    expect(page.get_by_label("Daring (tanpa tatap muka)")).not_to_be_checked()
    expect(page.get_by_label("Persyaratan 2: Teks bahasa Indonesia")).to_have_value("Surat rekomendasi kepolisian")
    axe_check(page)
    shot(page, "studio-standard")

    # A bad value: the page says so on the field, keeps what was typed, saves nothing.
    page.get_by_label("Jangka waktu (hari kerja)").fill("0")
    page.get_by_label("Produk layanan (bahasa Indonesia)", exact=True).fill("Surat izin keramaian")
    page.get_by_role("button", name="Simpan standar").first.click()
    expect(page.locator("#standard-errors")).to_be_focused()
    expect(page.locator("#e-sla_days")).to_contain_text("SLA harus bilangan bulat hari kerja")
    expect(page.get_by_label("Produk layanan (bahasa Indonesia)", exact=True)).to_have_value("Surat izin keramaian")
    axe_check(page)
    shot(page, "studio-standard-errors")
    assert service_toml(live_server, draft_id)["sla_days"] == 7


def test_an_analyst_writes_a_document_template_and_previews_it(
    page: Page, live_server: Any, draft_id: int, login: Callable[[Page, str], None],
    axe_check: Callable[..., None], shot: Callable[[Page, str], Path],
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, USER)
    page.goto(f"{live_server.url}/studio/draf/{draft_id}/templat")
    axe_check(page)
    page.get_by_label("Templat dokumen: nama berkas di documents/ (tanpa .html)").fill("izin_uji")
    page.get_by_role("button", name="Buat templat dokumen").click()
    expect(page.get_by_role("heading", name="documents/izin_uji.html")).to_be_visible()
    source = page.get_by_label("Isi templat")
    source.fill('{% extends "mpp/document.html" %}\n{% block opening %}\n<p>Untuk {{ data.nama_pemohon }}.</p>\n'
                "{% endblock %}\n")
    page.get_by_label("Data permohonan contoh (JSON)").fill('{"nama_pemohon": "Siti Aminah", "nik": "3471"}')
    page.get_by_role("button", name="Pratinjau", exact=True).click()
    frame = page.frame_locator("#preview-frame")
    expect(frame.get_by_text("Untuk Siti Aminah.")).to_be_visible()
    expect(frame.get_by_text("DINAS UJI", exact=True)).to_be_visible()  # the platform's header
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#template-status")).to_contain_text("Tersimpan")
    axe_check(page)
    shot(page, "studio-template")

    # A mistake: the message names the line, and a button takes the caret there.
    source.fill("<p>\n{% if %}\n</p>\n")
    page.get_by_role("button", name="Pratinjau", exact=True).click()
    expect(page.locator("#template-error")).to_contain_text("baris 2")
    page.get_by_role("button", name="Ke baris 2").click()
    expect(source).to_be_focused()
    expect(page.locator("#template-caret")).to_contain_text("Baris 2")
    axe_check(page)
    shot(page, "studio-template-error")

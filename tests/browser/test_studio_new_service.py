"""A whole new service built in the browser: new agency, diagram, forms, standard, DMN, scenario, publish, use.

Nothing is written outside the browser: the analyst starts from "Layanan baru", and a citizen and an
officer then use the published service through the portal and the inbox.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from engine.models import Case, DraftFile, PackageDraft
from tests.browser.conftest import PASSWORD, accept_privacy_notice
from tests.browser.test_pbg_journey import PDF, officer_completes
from tests.browser.test_service_standard_page import COMPONENT_TEXTS, fill_standard_components
from tests.browser.test_studio import open_mpp_group, select_on_canvas
from tests.browser.test_studio_forms import add_field
from tests.factories import Driver

KEY = "izin_keramaian"


def draft_files(live_server: Any) -> dict[str, bytes]:
    with live_server.ctx.sessions() as session:
        draft = session.scalar(select(PackageDraft).where(PackageDraft.key == KEY))
        assert draft is not None
        return {f.name: f.content for f in session.scalars(select(DraftFile).where(DraftFile.draft_id == draft.id))}


def draft_id(live_server: Any) -> int:
    with live_server.ctx.sessions() as session:
        found = session.scalar(select(PackageDraft.id).where(PackageDraft.key == KEY))
        assert found is not None
        return int(found)


def draft_revision(live_server: Any) -> int:
    with live_server.ctx.sessions() as session:
        found = session.scalar(select(PackageDraft.revision).where(PackageDraft.key == KEY))
        assert found is not None
        return int(found)


def test_a_new_service_of_a_new_agency_from_a_blank_diagram(
    page: Page, browser: Browser, live_server: Any, login: Callable[[Page, str], None], axe_check: Callable[..., None],
    shot: Callable[[Page, str], Path],
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, "analis")
    page.goto(f"{live_server.url}/studio")
    page.get_by_role("button", name="Layanan baru").click()
    expect(page.get_by_role("heading", name="Layanan baru")).to_be_visible()
    axe_check(page)
    shot(page, "studio-new-service")

    page.get_by_label("Kode layanan").fill(KEY)
    page.get_by_label("Nama (Indonesia)", exact=True).fill("Izin Keramaian")
    page.get_by_label("Nama (Inggris)", exact=True).fill("Public Event Permit")
    page.get_by_label("Instansi baru (dibuat saat layanan diterbitkan)").check()
    page.get_by_label("Kode instansi baru").fill("kesbangpol")
    page.get_by_label("Nama instansi (Indonesia)").fill("Badan Kesatuan Bangsa dan Politik")
    page.get_by_label("Nama instansi (Inggris)").fill("National Unity and Politics Agency")
    page.get_by_label("Kode peran 1").fill("loket")
    page.get_by_label("Nama peran (Indonesia) 1").fill("Petugas loket Kesbangpol")
    page.get_by_label("Nama peran (Inggris) 1").fill("Kesbangpol counter officer")
    page.get_by_label("Kode peran 2").fill("kepala")
    page.get_by_label("Nama peran (Indonesia) 2").fill("Kepala Kesbangpol")
    page.get_by_role("button", name="Buat draf").click()

    # The draft page: every file of the package with its editor, each clean but for the service
    # standard's components, which no template can know: lint names each placeholder to write.
    expect(page.get_by_role("heading", name="Izin Keramaian")).to_be_visible()
    expect(page.locator('tr[data-file="process.bpmn"]')).to_be_visible()
    expect(page.locator("#problems")).to_contain_text(
        'standard.legal_basis (Dasar hukum) masih berisi isian awal "BELUM DIISI"')
    axe_check(page)
    shot(page, "studio-draft")
    assert b"[kesbangpol.loket]" in draft_files(live_server)["process.bpmn"]

    # The blank diagram opens in the modeler with its lanes; a change is saved into the draft.
    page.locator('tr[data-file="process.bpmn"]').get_by_role("link", name="Ubah process.bpmn").click()
    expect(page.locator('#canvas g.djs-element[data-element-id="Lane_loket"]')).to_be_visible()
    expect(page.locator('#canvas g.djs-element[data-element-id="Lane_kepala"]')).to_be_visible()
    page.evaluate("""() => { const registry = mppModeler.get('elementRegistry');
        mppModeler.get('modeling').updateLabel(registry.get('Task_periksa'), 'Periksa berkas keramaian'); }""")
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_contain_text("Tersimpan ke draf")
    axe_check(page, exclude=["#canvas"])
    shot(page, "studio-draft-modeler")
    assert b'name="Periksa berkas keramaian"' in draft_files(live_server)["process.bpmn"]

    # The start form, in the form builder: a choice (with labels in both languages) and a file upload.
    page.goto(f"{live_server.url}/studio")
    page.locator('#drafts tr[data-draft="izin_keramaian"]').get_by_role("link").click()
    page.get_by_role("link", name="Ubah forms/permohonan.schema.json").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Penyusun formulir: Permohonan")
    jenis = add_field(page, "Jenis kegiatan", "Kind of event")
    jenis.get_by_label("Jenis isian").select_option(label="Pilihan (satu jawaban)")
    jenis.get_by_role("checkbox", name="Wajib diisi").check()
    for label_id, label_en in (("Konser musik", "Music concert"), ("Pawai", "Parade")):
        jenis.get_by_role("button", name="Tambah pilihan").click()
        row = jenis.locator("tr[data-option]").last
        row.get_by_label(re.compile("^Label pilihan \\(Indonesia\\)")).fill(label_id)
        row.get_by_label(re.compile("^Label pilihan \\(Inggris\\)")).fill(label_en)
    surat = add_field(page, "Surat izin tempat", "Venue permit letter")
    surat.get_by_label("Jenis isian").select_option("file")
    surat.get_by_role("checkbox", name="Wajib diisi").check()
    expect(page.locator('#fb-preview .form-field[data-field="surat_izin_tempat"] input[type="file"]')).to_be_visible()
    peserta = add_field(page, "Jumlah peserta", "Number of participants")
    peserta.get_by_label("Jenis isian").select_option("integer")
    peserta.get_by_role("checkbox", name="Wajib diisi").check()
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_contain_text("Tidak ada masalah pada formulir ini.")
    shot(page, "studio-new-service-start-form")
    start_form = json.loads(draft_files(live_server)["forms/permohonan.schema.json"])
    assert start_form["properties"]["jenis_kegiatan"]["enum"] == ["konser_musik", "pawai"]
    assert "surat_izin_tempat" in start_form["required"]

    # The review task's form: the number of the permit the head of office issues.
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}/formulir?nama=forms/periksa.schema.json")
    nomor = add_field(page, "Nomor izin", "Permit number")
    nomor.get_by_label("Panjang maksimum (karakter)").fill("40")
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_contain_text("Tidak ada masalah pada formulir ini.")
    assert "nomor_izin" in json.loads(draft_files(live_server)["forms/periksa.schema.json"])["properties"]

    # The service standard, as a form: time limit, channels and a requirement of this service.
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}/standar")
    expect(page.get_by_role("heading", name="Standar pelayanan", exact=True)).to_be_visible()
    page.get_by_label("Jangka waktu (hari kerja)").fill("3")
    page.get_by_label("Drive-thru").check()
    page.get_by_role("button", name="Tambah persyaratan").click()
    page.get_by_label("Persyaratan 2: Teks bahasa Indonesia").fill("Surat izin tempat dari pengelola lokasi")
    page.get_by_label("Persyaratan 2: Teks bahasa Inggris").fill("Venue permit from the venue's manager")
    fill_standard_components(page)  # the legal basis, hours, complaints, ... over the placeholders
    # How long closed cases are kept, and why (without it lint warns: docs/privacy.md).
    page.locator("#f-retention_on").check()
    page.locator("#f-retention_years").fill("5")
    page.locator("#f-retention_action").select_option("anonymise")
    page.locator("#f-retention_basis_id").fill("UU 43/2009 tentang Kearsipan")
    page.locator("#f-retention_basis_en").fill("Law 43/2009 on Archives")
    page.get_by_role("button", name="Simpan standar").first.click()
    expect(page.get_by_role("status").filter(has_text="Standar pelayanan disimpan")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("BELUM DIISI")  # no placeholder, no lint problem on it
    axe_check(page)
    shot(page, "studio-standard-components")
    standard = tomllib.loads(draft_files(live_server)["service.toml"].decode())
    assert standard["sla_days"] == 3
    assert standard["retention"]["years"] == 5
    assert "drive_thru" in standard["channels"]
    assert standard["requirements"][1]["en"] == "Venue permit from the venue's manager"
    assert standard["standard"]["legal_basis"] == [{"id": COMPONENT_TEXTS["legal_basis"][0],
                                                    "en": COMPONENT_TEXTS["legal_basis"][1]}]

    # Any other file: the plain text editor (a note for the next analyst, kept in the package).
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}/teks?nama=CATATAN.md")
    page.get_by_label("Isi berkas").fill("Tarif mengikuti Perwal 12/2026.")
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_contain_text("Tersimpan (revisi")
    axe_check(page)
    shot(page, "studio-draft-text")
    assert draft_files(live_server)["CATATAN.md"] == b"Tarif mengikuti Perwal 12/2026."

    # A fee table (DMN) by the number of participants, edited in dmn-js.
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}/dmn/baru")
    for label, value in (("Nama berkas", "biaya"), ("Id keputusan", "biaya_keramaian"),
                         ("Nama keputusan", "Biaya keramaian"), ("Isian masukan", "jumlah_peserta"),
                         ("Isian keluaran", "biaya")):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Buat dan buka penyunting").click()
    expect(page.locator("#dmn-editor tbody tr")).to_have_count(2)
    dmn_save_row = page.locator("#dmn-editor tbody tr").nth(1).locator("td.output-cell [contenteditable]")
    dmn_save_row.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("150000")
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#studio-status")).to_have_text("Tersimpan. Tidak ada masalah pada berkas ini.")
    shot(page, "studio-new-service-dmn")

    # The diagram calls the table before the review: a business-rule task picks the decision.
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}/diagram")
    expect(page.locator('#canvas g.djs-element[data-element-id="Task_periksa"]')).to_be_visible()
    page.evaluate("""() => { const registry = mppModeler.get('elementRegistry'), modeling = mppModeler.get('modeling');
        const start = registry.get('StartEvent_permohonan'), task = registry.get('Task_periksa');
        modeling.removeConnection(registry.get('Flow_ke_periksa'));
        const rule = modeling.createShape({ type: 'bpmn:BusinessRuleTask', id: 'Task_biaya' },
            { x: start.x + 160, y: start.y + 18 }, registry.get('Lane_pemohon'));
        modeling.updateLabel(rule, 'Hitung biaya');
        modeling.connect(start, rule); modeling.connect(rule, task);
        // An application nobody reviews within 3 working days expires: a boundary timer on the review.
        const timer = modeling.createShape({ type: 'bpmn:BoundaryEvent', id: 'Timer_batas',
            eventDefinitionType: 'bpmn:TimerEventDefinition' },
            { x: task.x + task.width / 2, y: task.y + task.height }, task, { attach: true });
        modeling.updateModdleProperties(timer, timer.businessObject.eventDefinitions[0], {
            timeDate: mppModeler.get('moddle').create('bpmn:FormalExpression', { body: 'after_working_days(3)' }) });
        modeling.updateLabel(timer, 'Batas 3 hari kerja');
        const end = modeling.createShape({ type: 'bpmn:EndEvent', id: 'EndEvent_kedaluwarsa' },
            { x: task.x + task.width + 70, y: task.y + task.height / 2 + 55 }, registry.get('Lane_loket'));
        modeling.updateLabel(end, 'Kedaluwarsa');
        modeling.connect(timer, end); }""")
    select_on_canvas(page, "Task_biaya")
    open_mpp_group(page)
    page.get_by_label("Keputusan DMN (id)").select_option("biaya_keramaian")
    revision = draft_revision(live_server)
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_have_text(f"Tersimpan ke draf (revisi {revision + 1}).")
    assert b"biaya_keramaian" in draft_files(live_server)["process.bpmn"]
    expect(page.locator("#lint-results li")).to_have_count(0)

    # Uji coba: apply on a throw-away copy, let nobody review, advance the simulated clock three
    # working days: the timer fires and the application expires. Saved as a scenario test.
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}/uji-coba")
    page.get_by_text("Isi data sebagai JSON").first.click()
    page.locator("textarea[name=data_json]").first.fill(json.dumps({
        "nama_pemohon": "Rina Wulandari", "nik": "3471015505900002", "jenis_kegiatan": "konser_musik",
        "jumlah_peserta": 80, "surat_izin_tempat": ["izin-tempat.pdf"]}))
    page.get_by_role("button", name="Ajukan permohonan").click()
    expect(page.locator("body")).to_contain_text("Periksa berkas keramaian")
    # Two working days on, the application still waits; then the clock moves to the timer's due time.
    page.get_by_label("Jumlah", exact=True).fill("2")
    page.get_by_label("Satuan").select_option(label="hari kerja")
    page.get_by_role("button", name="Majukan", exact=True).click()
    expect(page.locator("body")).to_contain_text("Jam dimajukan 2 hari kerja")
    page.get_by_role("button", name=re.compile("^Majukan jam ke sini")).click()
    expect(page.locator("body")).to_contain_text("Kedaluwarsa")
    expect(page.locator("body")).not_to_contain_text("Pengatur waktu yang menunggu")
    axe_check(page)
    shot(page, "studio-new-service-trial")
    page.get_by_label("Nama berkas").fill("kedaluwarsa")
    page.get_by_label("Nama skenario (Indonesia)").fill("Tidak diperiksa dalam 3 hari kerja")
    page.get_by_label("Nama skenario (Inggris)").fill("Not reviewed within 3 working days")
    page.get_by_label("Kolom data yang berisi biaya (opsional)").select_option("biaya")
    page.get_by_role("button", name="Simpan ke draf").click()
    scenario = tomllib.loads(draft_files(live_server)["tests/kedaluwarsa.toml"].decode())
    assert any("advance" in step for step in scenario["steps"])
    page.get_by_role("button", name="Jalankan semua").click()
    expect(page.locator('tr[data-file="tests/kedaluwarsa.toml"] .badge')).to_have_text("lulus")

    # Publish: the draft becomes version 1; the new agency and its roles now exist.
    page.goto(f"{live_server.url}/studio/draf/{draft_id(live_server)}")
    expect(page.locator("#problems")).to_contain_text("Tidak ada masalah ditemukan.")
    page.get_by_role("button", name="Terbitkan sebagai versi baru").click()
    expect(page).to_have_url(re.compile(r"/studio\?diterapkan=izin_keramaian&versi=1"))
    expect(page.locator(f'tr[data-process="{KEY}"]')).to_be_visible()
    shot(page, "studio-published")
    # An existing service opens as a draft of its whole package from the list.
    page.get_by_role("button", name=f"Draf paket {KEY}").click()
    expect(page.get_by_role("heading", name="Izin Keramaian")).to_be_visible()
    expect(page.locator("hgroup")).to_contain_text("dimulai dari versi 1")
    expect(page.locator('tr[data-file="tests/kedaluwarsa.toml"]')).to_be_visible()

    # An administrator gives an officer the counter role (the directory API: no file either).
    admin = page.request.post(f"{live_server.url}/api/auth/token",
                              form={"username": "admin", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    user = page.request.post(f"{live_server.url}/api/users", headers=bearer, data={
        "username": "petugas_kesbangpol", "password": PASSWORD, "platform_role": "officer",
        "display_name": "Petugas Loket Kesbangpol"})
    assert user.status == 201, user.text()
    granted = page.request.post(f"{live_server.url}/api/users/{user.json()['id']}/memberships", headers=bearer,
                                data={"role_key": "kesbangpol.loket"})
    assert granted.status == 201, granted.text()

    # A citizen finds the service in the catalogue and applies through the portal.
    citizen = browser.new_page()
    citizen.set_viewport_size({"width": 1280, "height": 900})
    login(citizen, "warga")
    citizen.goto(f"{live_server.url}/")
    citizen.get_by_role("link", name="Izin Keramaian").click()
    expect(citizen.get_by_role("heading", name="Standar pelayanan")).to_be_visible()
    expect(citizen.locator("dl.facts")).to_contain_text("3 hari kerja")
    citizen.goto(f"{live_server.url}/layanan/{KEY}/ajukan")
    citizen.locator("#f-nama_pemohon").fill("Rina Wulandari")
    citizen.locator("#f-nik").fill("3471015505900002")
    citizen.locator("input[type=radio][name='jenis_kegiatan'][value='pawai']").check()
    citizen.locator("#f-jumlah_peserta").fill("250")
    citizen.locator("#f-surat_izin_tempat").set_input_files(
        [{"name": "izin-tempat.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    accept_privacy_notice(citizen)
    citizen.get_by_role("button", name="Kirim permohonan").click()
    expect(citizen.get_by_role("heading", name="Permohonan diterima")).to_be_visible()
    number = citizen.locator("#tracking-number").inner_text().strip()

    # The officer takes the task from the inbox and completes it with the task form built above.
    officer = officer_completes(browser, live_server, login, axe_check, "petugas_kesbangpol",
                                {"keputusan": "setuju", "nomor_izin": "KESBANG/2026/001"})
    officer.close()
    with live_server.ctx.sessions() as session:
        case = session.scalar(select(Case).where(Case.tracking_number == number))
        assert case is not None
        assert case.status == "completed"
        assert case.process_key == KEY
    case_view = Driver(live_server.ctx).case(case.id)
    assert case_view.data["biaya"] == 150000  # the fee table, as edited in the browser

    # Retire the service from the studio list: the catalogue no longer lists it; restore brings it back.
    page.goto(f"{live_server.url}/studio")
    row = page.locator(f'tr[data-process="{KEY}"]')
    row.get_by_text("Pensiunkan…").click()
    row.get_by_label("Alasan").fill("Diganti layanan baru tahun depan")
    row.get_by_label("Ya, pensiunkan layanan ini").check()
    row.get_by_role("button", name=f"Pensiunkan {KEY}").click()
    expect(page.locator(f'tr[data-process="{KEY}"] [data-retired="1"]')).to_have_count(1)
    expect(page.locator("p.flash")).to_contain_text("perkara yang berjalan tetap diselesaikan")
    axe_check(page)
    shot(page, "studio-retired")
    citizen.goto(f"{live_server.url}/")
    expect(citizen.get_by_role("link", name="Izin Keramaian")).to_have_count(0)
    page.locator(f'tr[data-process="{KEY}"]').get_by_text("Aktifkan kembali…").click()
    page.locator(f'tr[data-process="{KEY}"]').get_by_role("button", name=f"Aktifkan kembali {KEY}").click()
    expect(page.locator(f'tr[data-process="{KEY}"] [data-retired="1"]')).to_have_count(0)
    expect(page.locator("p.flash")).to_contain_text("aktif kembali")
    citizen.goto(f"{live_server.url}/")
    expect(citizen.get_by_role("link", name="Izin Keramaian")).to_be_visible()

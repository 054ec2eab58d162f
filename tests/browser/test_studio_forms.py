"""The form builder in a real browser: build a start form and a task form, preview, save, lint on fields."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from engine.catalogue import drafts
from engine.models import PackageDraft
from forms.validation import FormInvalid, validate

ROOT = Path(__file__).resolve().parents[2]
START = "forms/permohonan.schema.json"
Login = Callable[[Page, str], None]


def new_draft(page: Page, base: str, key: str) -> int:
    """Start a draft of a new service (a new agency, one officer role) as the logged-in analyst."""
    page.goto(f"{base}/studio")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    response = page.request.post(f"{base}/studio/draf/baru", max_redirects=0, form={
        "csrf_token": token or "", "kunci": key, "nama_id": "Izin Usaha Mikro", "nama_en": "Micro Business Permit",
        "mulai": "kosong", "instansi_mode": "baru", "instansi_kode": f"dinas_{key}", "instansi_jenis": "city_office",
        "instansi_nama_id": "Dinas Koperasi", "instansi_nama_en": "Cooperatives Office", "peran_kode": "verifikator",
        "peran_nama_id": "Verifikator", "peran_nama_en": "Verifier"})
    assert response.status == 303, response.text()
    match = re.fullmatch(r"/studio/draf/(\d+)", response.headers["location"])
    assert match is not None
    return int(match.group(1))


def stored(live_server: Any, draft: int, name: str) -> Any:
    with live_server.ctx.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        return json.loads(drafts.read_file(session, row, name))


def card(page: Page, key: str) -> Locator:
    return page.locator(f'#fb-fields > li.fb-field[data-key="{key}"]')


def add_field(page: Page, label_id: str, label_en: str) -> Locator:
    """Add a field, name it in both languages (its key follows the Indonesian label); return its card."""
    page.get_by_role("button", name="Tambah isian").click()
    # By its element id: the key (data-key) follows the label while it is typed.
    new = page.locator(f'#{page.locator("#fb-fields > li.fb-field").last.get_attribute("id")}')
    expect(new.get_by_label("Label (Indonesia)")).to_be_focused()
    new.get_by_label("Label (Indonesia)").fill(label_id)
    new.get_by_label("Label (Inggris)").fill(label_en)
    return new


def preview_field(page: Page, name: str) -> Locator:
    return page.locator(f'#fb-preview .form-field[data-field="{name}"]')


def test_analyst_builds_the_start_form_previews_saves_and_sees_lint_on_the_field(
        page: Page, live_server: Any, login: Login, axe_check: Callable[..., None],
        shot: Callable[[Page, str], Path]) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})
    login(page, "analis")
    draft = new_draft(page, live_server.url, "izin_usaha_mikro")
    page.goto(f"{live_server.url}/studio/draf/{draft}/formulir?nama={START}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Penyusun formulir: Permohonan")
    expect(preview_field(page, "nik")).to_contain_text("16 digit sesuai KTP")
    axe_check(page)

    # A short text field, then a choice with two options in both languages, then a file field.
    alamat = add_field(page, "Alamat usaha", "Business address")
    expect(alamat.get_by_label("Kunci (nama data)")).to_have_value("alamat_usaha")
    alamat.get_by_label("Panjang maksimum (karakter)").fill("300")
    # An address of a micro business is often the owner's home: the analyst marks it personal (lint asks for it).
    alamat.get_by_label("Data pribadi (UU PDP)").select_option("personal")

    jenis = add_field(page, "Jenis usaha", "Kind of business")
    jenis.get_by_label("Jenis isian").select_option(label="Pilihan (satu jawaban)")
    jenis.get_by_role("checkbox", name="Wajib diisi").check()
    for label_id, label_en in (("Perdagangan", "Trade"), ("Jasa", "Services")):
        jenis.get_by_role("button", name="Tambah pilihan").click()
        row = jenis.locator("tr[data-option]").last
        expect(row.get_by_label(re.compile("^Label pilihan \\(Indonesia\\)"))).to_be_focused()
        row.get_by_label(re.compile("^Label pilihan \\(Indonesia\\)")).fill(label_id)
        row.get_by_label(re.compile("^Label pilihan \\(Inggris\\)")).fill(label_en)
    expect(jenis.locator("tr[data-option]").last.get_by_label(re.compile("^Nilai pilihan"))).to_have_value("jasa")

    berkas = add_field(page, "Lampiran izin lokasi", "Site permit scan")
    berkas.get_by_label("Kunci (nama data)").fill("lampiran_lokasi")
    berkas.get_by_label("Jenis isian").select_option("file")
    berkas.get_by_role("checkbox", name="Wajib diisi").check()
    berkas.get_by_label("Jumlah berkas paling banyak").fill("3")

    # The address is required only for trade: "wajib bila jenis_usaha = perdagangan".
    alamat.get_by_role("button", name="Tambah syarat").click()
    alamat.get_by_label("Isian", exact=True).select_option("jenis_usaha")
    expect(alamat.get_by_label("bernilai")).to_have_value("0")  # the first option, "Perdagangan"

    # Reorder with the keyboard: the choice goes up above the address; focus stays on its button.
    up = jenis.get_by_role("button", name="Naik Jenis usaha")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Naik Jenis usaha")).to_be_focused()
    keys = page.locator("#fb-fields > li.fb-field").evaluate_all("els => els.map(e => e.dataset.key)")
    assert keys == ["nama_pemohon", "nik", "jenis_usaha", "alamat_usaha", "lampiran_lokasi"]

    # The preview is the form layer's own rendering, in either language.
    expect(preview_field(page, "jenis_usaha").get_by_role("radio", name="Perdagangan")).to_be_visible()
    expect(preview_field(page, "lampiran_lokasi").locator('input[type="file"]')).to_be_visible()
    expect(preview_field(page, "lampiran_lokasi")).to_contain_text("PDF, PNG atau JPEG")
    order = page.locator("#fb-preview .form-field").evaluate_all("els => els.map(e => e.dataset.field)")
    assert order == keys
    page.get_by_label("English", exact=True).check()
    expect(page.locator("#fb-preview > div")).to_have_attribute("lang", "en")
    expect(preview_field(page, "jenis_usaha").get_by_role("radio", name="Services")).to_be_visible()
    expect(preview_field(page, "lampiran_lokasi")).to_contain_text("Site permit scan")
    page.get_by_label("Bahasa Indonesia", exact=True).check()
    expect(preview_field(page, "jenis_usaha")).to_contain_text("Jenis usaha")
    axe_check(page)
    shot(page, "studio-form-builder")

    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_contain_text("Tidak ada masalah pada formulir ini.")
    schema, ui = stored(live_server, draft, START), stored(live_server, draft, "forms/permohonan.uischema.json")
    assert ui["ui:order"] == keys
    assert ui["jenis_usaha"] == {"ui:title_en": "Kind of business", "ui:widget": "radio",
                                 "ui:enumNames": ["Perdagangan", "Jasa"], "ui:enumNames_en": ["Trade", "Services"]}
    assert ui["lampiran_lokasi"]["ui:widget"] == "file"
    applied = {"nama_pemohon": "Siti Aminah", "nik": "3471012345678901", "jenis_usaha": "jasa",
               "lampiran_lokasi": ["file:7"]}
    assert validate(schema, applied) == applied
    for wrong, field in (({**applied, "jenis_usaha": "tambang"}, "jenis_usaha"),
                         ({**applied, "lampiran_lokasi": []}, "lampiran_lokasi"),  # required: at least one file
                         ({**applied, "lampiran_lokasi": ["a", "b", "c", "d"]}, "lampiran_lokasi"),
                         ({**applied, "jenis_usaha": "perdagangan"}, "alamat_usaha")):  # required for trade
        with pytest.raises(FormInvalid) as refused:
            validate(schema, wrong)
        assert [e.path for e in refused.value.field_errors] == [field]
    assert validate(schema, {**applied, "jenis_usaha": "perdagangan", "alamat_usaha": "Jl. Mawar 3"})

    # A pattern RE2 refuses: the live preview names the field at once, and lint does after the save.
    alamat = card(page, "alamat_usaha")
    alamat.get_by_label("Pola (regex, opsional)").fill("^(?!x).*$")
    expect(page.locator("#fb-preview-status")).to_contain_text("Pratinjau tidak dapat ditampilkan")
    expect(alamat.locator('.fb-field-problems li[data-source="preview"]')).to_contain_text("RE2")
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#studio-status")).to_contain_text("Pemeriksaan menemukan 1 masalah")
    problem = alamat.locator('.fb-field-problems li[data-source="lint"]')
    expect(problem).to_contain_text("isian 'alamat_usaha'")
    expect(alamat).to_have_class(re.compile(r"\bhas-error\b"))
    listed = page.locator('#fb-problems li[data-source="lint"]')
    expect(listed).to_have_count(1)
    listed.get_by_role("button", name="Alamat usaha (alamat_usaha)").click()
    expect(alamat.get_by_label("Kunci (nama data)")).to_be_focused()
    axe_check(page)
    shot(page, "studio-form-builder-lint")


def test_a_new_task_form_from_the_draft_page_and_a_conflicting_save(page: Page, live_server: Any,
                                                                     login: Login) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})
    login(page, "analis")
    draft = new_draft(page, live_server.url, "izin_reklame_kecil")
    page.goto(f"{live_server.url}/studio/draf/{draft}")
    page.locator("details.draft-add > summary").click()
    page.get_by_label("Formulir baru (nama berkas tanpa akhiran)").fill("verifikasi")
    page.get_by_role("button", name="Buat formulir").click()
    expect(page).to_have_url(f"{live_server.url}/studio/draf/{draft}/formulir?nama=forms/verifikasi.schema.json")
    expect(page.locator("#fb-preview")).to_contain_text("Formulir ini belum memiliki isian.")

    hasil = add_field(page, "Hasil verifikasi", "Result")
    hasil.get_by_label("Jenis isian").select_option("enum")
    hasil.get_by_label("Tampilan").select_option("select")
    hasil.get_by_role("button", name="Tambah pilihan").click()
    row = hasil.locator("tr[data-option]").last
    row.get_by_label(re.compile("^Label pilihan \\(Indonesia\\)")).fill("Sesuai")
    row.get_by_label(re.compile("^Label pilihan \\(Inggris\\)")).fill("Complete")
    expect(preview_field(page, "hasil_verifikasi").locator("select option")).to_have_text(["— pilih —", "Sesuai"])

    # Another analyst saves the same form meanwhile: this save is refused with who and when.
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    revision = json.loads(page.locator("#studio-data").text_content() or "{}")["revision"]
    other = page.request.put(f"{live_server.url}/studio/draf/{draft}/berkas?nama=forms/verifikasi.schema.json",
                             headers={"X-CSRF-Token": token or ""},
                             data={"content": "{\"type\": \"object\"}", "revisi": revision})
    assert other.status == 200, other.text()
    page.get_by_role("button", name="Simpan ke draf").click()
    expect(page.locator("#fb-conflict")).to_be_visible()
    expect(page.locator("#fb-conflict-text")).to_contain_text("disimpan oleh analis")
    expect(page.get_by_role("button", name=re.compile("^Muat ulang formulir"))).to_be_focused()
    assert stored(live_server, draft, "forms/verifikasi.schema.json") == {"type": "object"}
    page.get_by_role("button", name=re.compile("^Muat ulang formulir")).click()
    expect(page.locator("#fb-preview")).to_contain_text("Formulir ini belum memiliki isian.")
    expect(page.locator("#fb-fields > li")).to_have_count(0)


def catalogue_forms() -> list[tuple[str, Any, Any]]:
    forms = []
    for path in sorted((ROOT / "processes").glob("*/forms/*.schema.json")):
        ui_path = path.with_name(path.name.replace(".schema.json", ".uischema.json"))
        ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else {}
        forms.append((f"{path.parent.parent.name}/{path.name}", json.loads(path.read_text(encoding="utf-8")), ui))
    return forms


def test_every_catalogue_form_survives_the_builder_unchanged(page: Page, live_server: Any, login: Login) -> None:
    """Open each catalogue form in the builder's model and save it untouched: both files come back equal."""
    login(page, "analis")
    draft = new_draft(page, live_server.url, "izin_pulang_pergi")
    page.goto(f"{live_server.url}/studio/draf/{draft}/formulir?nama={START}")
    forms = catalogue_forms()
    assert len(forms) >= 100
    back = page.evaluate("(forms) => forms.map(f => MppFormBuilder.roundtrip(f[1], f[2]))", [list(f) for f in forms])
    for (name, schema, ui), out in zip(forms, back, strict=True):
        assert out["schema"] == schema, name
        assert out["uischema"] == ui, name
    kinds = page.evaluate("""(forms) => { const seen = {}; forms.forEach(f => MppFormBuilder.load(f[1], f[2]).fields
        .forEach(x => { seen[x.kind] = (seen[x.kind] || 0) + 1; })); return seen; }""", [list(f) for f in forms])
    assert {"text", "textarea", "date", "boolean", "enum", "file", "email", "nik", "phone", "integer"} <= set(kinds)
    assert kinds.get("other", 0) == 0  # every catalogue field is one the builder can edit


def test_edits_keep_what_the_builder_does_not_manage(page: Page, live_server: Any, login: Login) -> None:
    """Rename and reorder fields of SKCK's application: conditions follow, unknown keywords stay."""
    login(page, "analis")
    draft = new_draft(page, live_server.url, "izin_edit_skck")
    page.goto(f"{live_server.url}/studio/draf/{draft}/formulir?nama={START}")
    schema = json.loads((ROOT / "processes/skck/forms/permohonan.schema.json").read_text(encoding="utf-8"))
    ui = json.loads((ROOT / "processes/skck/forms/permohonan.uischema.json").read_text(encoding="utf-8"))
    out = page.evaluate("""([schema, ui]) => { const B = MppFormBuilder, m = B.load(schema, ui);
        B.renameField(m, B.byKey(m, 'keperluan'), 'tujuan');
        B.moveField(m, B.byKey(m, 'dokumen'), -5);
        B.setKind(m, B.byKey(m, 'pekerjaan'), 'textarea');
        B.removeField(m, B.byKey(m, 'jemput_bola'));
        B.setConditions(m, B.byKey(m, 'kebutuhan_khusus'), [{ field: 'tujuan', value: 'lainnya' }]);
        return B.dump(m); }""", [schema, ui])
    saved, saved_ui = out["schema"], out["uischema"]
    assert "keperluan" not in saved["properties"]
    assert saved["properties"]["tujuan"] == schema["properties"]["keperluan"]
    # The new kind's keywords replace the old ones; the personal-data mark is not the kind's and stays.
    assert saved["properties"]["pekerjaan"] == {"type": "string", "title": "Pekerjaan", "maxLength": 2000,
                                                "x-mpp-personal": "personal"}
    assert saved["properties"]["sidik_jari_terdaftar"]["default"] is False  # an unmanaged keyword stays
    assert saved["$schema"] == schema["$schema"]
    assert "tujuan" in saved["required"]
    assert "jemput_bola" not in saved["required"]
    assert saved_ui["ui:order"].index("dokumen") == 11  # 5 up from the 17th place (before jemput_bola went)
    assert list(saved["properties"]) == saved_ui["ui:order"]  # a reordered form writes one order for both
    assert saved_ui["tujuan"] == ui["keperluan"]
    base = {"nama_lengkap": "Budi", "nik": "3471012345678901", "tempat_lahir": "Sleman", "tanggal_lahir": "1990-01-02",
            "jenis_kelamin": "laki_laki", "alamat": "Jl. Kaliurang", "telepon": "081234567890",
            "tujuan": "melamar_pekerjaan", "sidik_jari_terdaftar": False}
    assert validate(saved, base) == base
    with pytest.raises(FormInvalid) as refused:
        validate(saved, {**base, "tujuan": "lainnya"})
    assert sorted(e.path for e in refused.value.field_errors) == ["kebutuhan_khusus", "keterangan_keperluan"]
    with pytest.raises(FormInvalid) as refused:  # the old name is no field any more
        validate(saved, {**{k: v for k, v in base.items() if k != "tujuan"}, "keperluan": "melamar_pekerjaan"})
    assert [e.path for e in refused.value.field_errors] == ["tujuan"]

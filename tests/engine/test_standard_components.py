"""service.toml's `[standard]` components: lint requires them, the studio edits them, new drafts hold placeholders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from engine.catalogue import blank, standard, standard_checks, standard_components, standard_write
from engine.catalogue.package import from_files, from_path
from engine.catalogue.standard import Text
from engine.errors import Problem
from engine.lint.service import lint_package
from tests.packages import RETENTION, STANDARD, simple_package

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = sorted(ROOT.glob("processes/*/service.toml"))
KEYS = [c.key for c in standard_components.COMPONENTS]


def service_problems(service_toml: str) -> list[Problem]:
    """Lint the simple test package with this service.toml; return the problems on service.toml."""
    files = {**simple_package().files, "service.toml": service_toml.encode()}
    return [p for p in lint_package(from_files(files)) if p.file == "service.toml"]


def simple_service() -> str:
    return simple_package().files["service.toml"].decode()


def test_the_components_are_the_ten_the_brief_and_the_regulation_name() -> None:
    assert KEYS == ["legal_basis", "hours", "complaints", "facilities", "competence", "supervision", "staffing",
                    "guarantee", "security", "evaluation"]


def test_the_test_package_with_every_component_lints_clean() -> None:
    assert service_problems(simple_service()) == []


@pytest.mark.parametrize("key", KEYS)
def test_a_missing_component_is_an_error_that_names_it_and_the_fix(key: str) -> None:
    service = "\n".join(line for line in simple_service().splitlines() if not line.startswith(f"{key} = "))
    [problem] = service_problems(service)
    component = standard_components.BY_KEY[key]
    assert problem.severity == "error"
    assert problem.element_id == f"standard.{key}"
    assert f'"{component.label[1]}" is missing' in problem.message
    assert f"tambahkan [standard] {key} = " in problem.message_id
    assert f'"{component.label[0]}"' in problem.message_id
    assert "ke service.toml" in problem.message_id


def test_a_package_without_the_table_gets_one_error_per_component() -> None:
    service = simple_service().replace(STANDARD, RETENTION)
    problems = service_problems(service)
    assert sorted(p.element_id or "" for p in problems) == sorted(f"standard.{k}" for k in KEYS)
    assert all(p.severity == "error" for p in problems)


@pytest.mark.parametrize(("old", "new", "element", "expected"), [
    ('hours = { id = "Senin-Jumat 08.00-15.00", en = "Monday-Friday 08:00-15:00" }', 'hours = "Senin-Jumat"',
     "standard.hours", "standard.hours must be a table with Indonesian and English text"),
    ('en = "Monday-Friday 08:00-15:00"', 'en = ""', "standard.hours", "standard.hours: the en text is missing"),
    ("response_days = 3", "response_days = 0", "standard.complaints",
     "standard.complaints.response_days must be a whole number of working days, 1 to 60"),
    ("response_days = 3", 'response_days = "3"', "standard.complaints", "response_days must be a whole number"),
    (", response_days = 3", "", "standard.complaints", "response_days must be a whole number"),
    ('legal_basis = [{ id = "UU Nomor 25 Tahun 2009 tentang Pelayanan Publik", en = "Law 25/2009 on Public '
     'Services" }]', "legal_basis = []", "standard.legal_basis",
     'standard.legal_basis must be a non-empty list: legal_basis = [{ id = "...", en = "..." }]'),
    ('facilities = [{ id = "Ruang tunggu", en = "Waiting room" }]',
     'facilities = [{ id = "Ruang tunggu", en = "Waiting room" }, { id = "Toilet" }]', "standard.facilities",
     "standard.facilities item 2: the en text is missing or empty"),
    ('guarantee = { id = "Layanan sesuai standar", en = "Service as the standard says" }',
     'guarantee = { id = "BELUM DIISI", en = "NOT FILLED IN" }', "standard.guarantee",
     "standard.guarantee (Service guarantee) is still the new draft's placeholder"),
])
def test_a_misshapen_component_is_an_error_on_it(old: str, new: str, element: str, expected: str) -> None:
    service = simple_service()
    assert old in service
    [problem] = service_problems(service.replace(old, new, 1))
    assert (problem.severity, problem.element_id) == ("error", element)
    assert expected in problem.message
    assert problem.message_id
    assert problem.message_id != problem.message


def test_an_unknown_key_in_the_table_is_a_warning_and_a_signatory_is_checked() -> None:
    service = simple_service() + 'jam_layanan = "08.00"\nsignatory = { id = "Kepala Dinas Uji" }\n'
    problems = service_problems(service)
    assert [(p.severity, p.element_id) for p in problems] == [("error", "standard.signatory"), ("warning", None)]
    assert "standard.signatory: the en text is missing" in problems[0].message
    assert "unknown key 'standard.jam_layanan'" in problems[1].message


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.parent.name)
def test_every_catalogue_package_has_every_component_citing_its_legal_basis(path: Path) -> None:
    table = tomllib.loads(path.read_text(encoding="utf-8"))["standard"]
    assert standard_components.standard_errors({"standard": table}) == []
    for law in table["legal_basis"]:  # each cites its number and year, in both languages
        assert re.search(r"\b(Nomor|SNI)\b", law["id"]), law
        assert re.search(r"\b(19|20)\d\d\b", law["id"]), law
        assert re.search(r"\b(19|20)\d\d\b", law["en"]), law
    assert not any(standard_components.is_placeholder(v) for v in table.values() if isinstance(v, dict))


def test_the_catalogue_cites_the_regulations_each_service_rests_on() -> None:
    def laws(name: str) -> str:
        table = tomllib.loads((ROOT / "processes" / name / "service.toml").read_text(encoding="utf-8"))["standard"]
        return " | ".join(law["id"] for law in table["legal_basis"])
    assert "Undang-Undang Nomor 28 Tahun 2002 tentang Bangunan Gedung sebagaimana diubah dengan Undang-Undang " \
           "Nomor 6 Tahun 2023" in laws("pbg")
    assert "Peraturan Pemerintah Nomor 16 Tahun 2021" in laws("pbg")
    assert "Undang-Undang Nomor 17 Tahun 2023 tentang Kesehatan" in laws("sip")
    assert "Undang-Undang Nomor 6 Tahun 2011 tentang Keimigrasian" in laws("paspor")
    assert "Peraturan Menteri Hukum dan HAM Nomor 18 Tahun 2022" in laws("paspor")
    assert "Peraturan Kepolisian Negara Republik Indonesia Nomor 6 Tahun 2023" in laws("skck")
    assert "Peraturan Menteri Agama Nomor 22 Tahun 2024 tentang Pencatatan Pernikahan" in laws("nikah")


# ---------------------------------------------------------------- a new draft


def new_service() -> blank.NewService:
    return blank.NewService(key="izin_uji", agency="dinas_uji", name_id="Izin Uji", name_en="Test Permit",
                            roles=[blank.RoleDecl("loket", "Petugas loket", "Counter officer")],
                            agency_name_id="Dinas Uji", agency_name_en="Test Office")


def test_a_new_draft_holds_placeholders_and_lint_names_each_one() -> None:
    service = blank.service_toml(new_service())
    table = tomllib.loads(service)["standard"]
    assert sorted(table) == sorted(KEYS)
    files = {**simple_package().files, "service.toml": service.encode()}
    problems = [p for p in lint_package(from_files(files)) if p.element_id and p.element_id.startswith("standard.")]
    assert sorted(p.element_id or "" for p in problems) == sorted(f"standard.{k}" for k in KEYS)
    hours = next(p for p in problems if p.element_id == "standard.hours")
    assert hours.message_id == ('standard.hours (Waktu pelayanan) masih berisi isian awal "BELUM DIISI": tulis teks '
                                "layanan ini dalam kedua bahasa")
    # The studio form shows each placeholder problem on its own field.
    std = standard.read(service.encode())
    assert {standard_checks.field_of(p.message, p.element_id, std) for p in problems} == {f"c_{k}_id" for k in KEYS}


def test_the_form_saves_a_new_drafts_placeholders_so_other_fields_can_be_saved_first() -> None:
    std = standard.read(blank.service_toml(new_service()).encode())
    assert standard_checks.validate(std, forms=["forms/permohonan.schema.json"]) == {}


# ---------------------------------------------------------------- the studio form


def form_items(std: standard.Standard) -> list[tuple[str, str]]:
    """The component fields the studio page posts (a list component: one item per line, CRLF as browsers send)."""
    comps = std.components
    items = [(f"c_{k}_{lang}", getattr(v, lang)) for k, v in comps.texts.items() for lang in ("id", "en")]
    items += [(f"c_{k}_{lang}", "\r\n".join(getattr(t, lang) for t in texts)) for k, texts in comps.lists.items()
              for lang in ("id", "en")]
    return [*items, ("c_complaints_days", comps.response_days), ("c_signatory_id", comps.signatory.id),
            ("c_signatory_en", comps.signatory.en)]


def test_the_form_edits_every_component_and_writes_back_only_what_changed() -> None:
    raw = (ROOT / "processes" / "sip" / "service.toml").read_bytes()
    raw = raw.replace(b"\n[standard]\n", b'\n[standard]\n# kept comment\nbrosur = "https://example.test/sip.pdf"\n')
    std = standard.read(raw)
    assert standard.from_form(form_items(std), key=std.key, agency=std.agency).components == std.components
    posted = standard.read(raw)
    comps = posted.components
    comps.lists["legal_basis"].append(Text("Peraturan Wali Kota Yogyakarta Nomor 1 Tahun 2026 tentang Uji",
                                           "Yogyakarta Mayor Regulation 1/2026 on Tests"))
    comps.lists["facilities"] = comps.lists["facilities"][:1]
    for key in ("hours", "complaints", "supervision", "staffing", "guarantee", "security", "evaluation"):
        comps.texts[key] = Text(f"{key} baru", f"new {key}")
    comps.lists["competence"] = [Text("Kompetensi baru", "New competence")]
    comps.response_days = "5"
    comps.signatory = Text("Kepala Dinas Uji", "Head of the Test Office")
    assert standard_checks.validate(posted, forms=standard.form_choices(from_path(ROOT / "processes" / "sip").files),
                                    templates=["documents/sip.html"]) == {}
    out = standard_write.write(raw, posted).decode()
    table = tomllib.loads(out)["standard"]
    assert table["legal_basis"][-1]["en"] == "Yogyakarta Mayor Regulation 1/2026 on Tests"
    assert len(table["legal_basis"]) == len(std.components.lists["legal_basis"]) + 1
    assert table["facilities"] == [{"id": std.components.lists["facilities"][0].id,
                                    "en": std.components.lists["facilities"][0].en}]
    assert table["complaints"] == {"id": "complaints baru", "en": "new complaints", "response_days": 5}
    assert table["guarantee"] == {"id": "guarantee baru", "en": "new guarantee"}
    assert table["competence"] == [{"id": "Kompetensi baru", "en": "New competence"}]
    assert table["signatory"] == {"id": "Kepala Dinas Uji", "en": "Head of the Test Office"}
    assert table["brosur"] == "https://example.test/sip.pdf"  # a key the form does not know survives
    assert "# kept comment" in out
    assert standard.read(out.encode()).components == comps  # read back: what the form showed


def test_a_table_the_file_lacks_is_added_at_its_end() -> None:
    raw = simple_service().replace(STANDARD, "").encode()
    std = standard.read(raw)
    std.components = standard.read(simple_service().encode()).components
    out = standard_write.write(raw, std).decode()
    assert out.startswith(raw.decode())
    assert tomllib.loads(out)["standard"] == tomllib.loads(simple_service())["standard"]


def test_the_form_names_what_is_wrong_with_a_component() -> None:
    std = standard.read(simple_service().encode())
    std.components.lists["legal_basis"] = [Text("UU 25/2009", "Law 25/2009"), Text("PP 96/2012", "")]
    std.components.texts["hours"] = Text("", "")
    std.components.texts["security"] = Text("", "Data is kept confidential")
    std.components.response_days = "0"
    errors = standard_checks.validate(std, forms=["forms/start.schema.json"])
    assert errors == {
        "c_legal_basis_en": ("Dasar hukum (bahasa Inggris) wajib diisi (baris 2)", "Legal basis (English) is required "
                                                                                   "(line 2)"),
        "c_hours_id": ("Waktu pelayanan wajib diisi dalam kedua bahasa", "Service hours is required in both "
                                                                         "languages"),
        "c_security_id": ("Jaminan keamanan dan keselamatan pelayanan (bahasa Indonesia) wajib diisi",
                          "Security and safety guarantee (Indonesian) is required"),
        "c_complaints_days": ("Batas waktu jawaban pengaduan: bilangan bulat hari kerja, 1 sampai 60",
                              "The complaint response deadline must be a whole number of working days, 1 to 60"),
    }


def test_lint_problems_on_components_land_on_their_fields() -> None:
    std = standard.read(simple_service().encode())
    assert standard_checks.field_of("standard.hours: the en text is missing or empty", "standard.hours", std) == \
        "c_hours_en"
    assert standard_checks.field_of("standard.complaints.response_days must be ...", "standard.complaints", std) == \
        "c_complaints_days"
    assert standard_checks.field_of('the service-standard component "Legal basis" is missing: ...',
                                    "standard.legal_basis", std) == "c_legal_basis_id"


# ---------------------------------------------------------------- the public page's layout


def test_the_fourteen_components_come_in_the_regulations_order() -> None:
    service = tomllib.loads((ROOT / "processes" / "pbg" / "service.toml").read_text(encoding="utf-8"))
    rows = standard_components.fourteen(service)
    assert [r.label[0] for r in rows] == [
        "Persyaratan", "Sistem, mekanisme dan prosedur", "Jangka waktu penyelesaian", "Biaya/tarif",
        "Produk pelayanan", "Penanganan pengaduan, saran dan masukan", "Dasar hukum",
        "Sarana, prasarana dan/atau fasilitas", "Kompetensi pelaksana", "Pengawasan internal", "Jumlah pelaksana",
        "Jaminan pelayanan", "Jaminan keamanan dan keselamatan pelayanan", "Evaluasi kinerja pelaksana"]
    assert rows[2].value == 28
    assert rows[5].value == 3
    assert rows[6].texts[1]["id"].startswith("Peraturan Pemerintah Nomor 16 Tahun 2021")

"""Lint keeps personal data classified: a wrong mark is an error, an unmarked personal-looking field a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.catalogue.labels import labels_for_version
from engine.catalogue.package import from_path
from engine.context import AppContext
from engine.errors import Problem
from engine.lint.service import lint_package
from engine.models import ProcessVersion
from tests.engine.test_lint_forms import START, start_form, with_files
from tests.factories import deploy

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = sorted(p for p in (ROOT / "processes").iterdir() if (p / "service.toml").is_file())


def personal(**properties: Any) -> list[Problem]:
    """Lint the simple package with these fields added to its start form; return the personal-data problems."""
    return [p for p in lint_package(with_files({START: start_form(**properties)})) if "x-mpp-personal" in p.message]


@pytest.mark.parametrize("mark", ["secret", "Sensitive", True, 1, ["personal"]])
def test_an_invalid_mark_is_an_error_naming_file_field_and_the_values_allowed(mark: Any) -> None:
    [problem] = personal(nik={"type": "string", "x-mpp-personal": mark})
    assert problem.severity == "error"
    assert problem.file == START
    assert problem.element_id == "nik"
    assert "field 'nik'" in problem.message
    assert '"personal"' in problem.message
    assert '"sensitive"' in problem.message
    assert "false" in problem.message
    assert "isian 'nik'" in problem.message_id


@pytest.mark.parametrize(("name", "prop", "level"), [
    ("nik", {"type": "string"}, "sensitive"),
    ("nik_ibu", {"type": "string"}, "sensitive"),
    ("no_kk", {"type": "string"}, "sensitive"),
    ("nomor_kk", {"type": "string"}, "sensitive"),
    ("nomor_kartu_keluarga", {"type": "string"}, "sensitive"),
    ("scan_ktp", {"type": "array", "items": {"type": "string"}}, "sensitive"),  # an upload of an ID card
    ("nomor_induk", {"type": "string", "pattern": "^[0-9]{16}$"}, "sensitive"),  # by its pattern
    ("agama", {"type": "string", "enum": ["islam", "kristen"]}, "sensitive"),
    ("riwayat_penyakit", {"type": "string"}, "sensitive"),
    ("diagnosa", {"type": "string"}, "sensitive"),
    ("rumus_sidik_jari", {"type": "string"}, "sensitive"),
    ("kebutuhan", {"type": "string", "title": "Jenis disabilitas"}, "sensitive"),  # by its title
    ("telepon", {"type": "string"}, "personal"),
    ("no_hp", {"type": "string"}, "personal"),
    ("whatsapp", {"type": "string"}, "personal"),
    ("kontak", {"type": "string", "format": "email"}, "personal"),  # by its format
    ("alamat_rumah", {"type": "string"}, "personal"),
    ("tanggal_lahir", {"type": "string", "format": "date"}, "personal"),
    ("tempat_lahir", {"type": "string"}, "personal"),
    ("nama_pemohon", {"type": "string"}, "personal"),
    ("nama_saksi_1", {"type": "string"}, "personal"),
])
def test_an_unmarked_personal_looking_field_is_a_warning_with_the_mark_to_add(
        name: str, prop: dict[str, Any], level: str) -> None:
    [problem] = personal(**{name: prop})
    assert problem.severity == "warning"
    assert (problem.file, problem.element_id) == (START, name)
    assert f"field '{name}'" in problem.message
    assert f'add "x-mpp-personal": "{level}"' in problem.message
    assert f'"x-mpp-personal": "{level}"' in problem.message_id


def test_fields_that_identify_no_one_are_left_alone() -> None:
    assert personal(nama_usaha={"type": "string"}, nama_perusahaan={"type": "string"},
                    nama_produk={"type": "string"}, nib={"type": "string", "pattern": "^[0-9]{13}$"},
                    nik_terverifikasi={"type": "boolean"}, luas_bangunan={"type": "number"}) == []


def test_a_mark_silences_the_warning_and_false_says_the_field_identifies_no_one() -> None:
    assert personal(nik={"type": "string", "x-mpp-personal": "sensitive"},
                    telepon={"type": "string", "x-mpp-personal": "personal"},
                    alamat_pabrik={"type": "string", "x-mpp-personal": False}) == []


def test_nested_fields_are_checked_too() -> None:
    anggota = {"type": "array", "items": {"type": "object", "properties": {"nik": {"type": "string"}}}}
    [problem] = personal(anggota=anggota)
    assert problem.element_id == "anggota[].nik"
    assert problem.severity == "warning"


@pytest.mark.parametrize("folder", CATALOGUE, ids=lambda p: p.name)
def test_every_catalogue_package_classifies_its_personal_data(folder: Path) -> None:
    assert [p.render() for p in lint_package(from_path(folder)) if "x-mpp-personal" in p.message] == []


def test_a_result_no_form_shows_is_classified_by_a_schema_the_package_declares(ctx: AppContext) -> None:
    results = {"type": "object", "title": "Hasil tugas layanan", "properties": {
        "dukcapil": {"type": "object", "title": "Data dari Dukcapil", "x-mpp-personal": "sensitive"},
        "nomor_registrasi": {"type": "string", "title": "Nomor registrasi"}}}
    package = with_files({"forms/hasil.schema.json": results})
    assert [p for p in lint_package(package) if "hasil.schema.json" in p.file] == []
    deployed = deploy(ctx, package)
    with ctx.sessions() as session:
        version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.key == deployed.key,
                                                                    ProcessVersion.version == deployed.version))
        assert version_id is not None
        classified = labels_for_version(session, version_id=version_id).personal_fields()
    assert classified == {"dukcapil": "sensitive"}

"""forms.labels: stored values read as the labels the package's forms give them (pure, no database)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from forms.labels import Labels

PBG_FORMS = Path(__file__).resolve().parents[2] / "processes" / "pbg" / "forms"


def pbg_labels() -> Labels:
    forms = []
    for schema in sorted(PBG_FORMS.glob("*.schema.json")):
        ui = schema.with_name(schema.name.replace(".schema.json", ".uischema.json"))
        forms.append((json.loads(schema.read_text("utf-8")),
                      json.loads(ui.read_text("utf-8")) if ui.exists() else None))
    return Labels.from_forms(forms, {"consultant": {"konsultan_griya": ("CV Griya Rancang Yogya", "CV Griya (EN)")}})


def test_stored_values_read_as_their_labels_in_both_languages() -> None:
    labels = pbg_labels()
    assert labels.both("fungsi_bangunan", "hunian") == ("Hunian", "Residential")
    assert labels.title("fungsi_bangunan", "en") == "Building function"
    assert labels.both("channel", "drive_thru") == ("Layanan Tanpa Turun (drive-thru)", "Drive-thru")
    assert labels.both("consultant", "konsultan_griya") == ("CV Griya Rancang Yogya", "CV Griya (EN)")
    assert labels.value("retribusi", 1800000, "id") == "Rp1.800.000"  # set by a decision: money by its name
    assert labels.value("jumlah_dibayar", 1807500, "en") == "Rp1.807.500"  # title ends in "(Rp)"
    assert labels.value("luas_bangunan", 120.5, "id") == "120.5"  # a plain number stays a number
    assert labels.both("tanggal_sppst", "2026-03-11") == ("11 Maret 2026", "11 March 2026")
    assert labels.both("rumah_mbr", False) == ("Tidak", "No")
    assert labels.value("fungsi_bangunan", "tidak_dikenal", "id") == "tidak_dikenal"  # unknown: as stored
    assert labels.reason_fields()["catatan_kelengkapan"] == "send_back_reason"
    one_of = Labels.from_forms([({"properties": {"jenis": {"type": "string", "oneOf": [
        {"const": "baru", "title": "Pendaftaran baru", "x-title-en": "New registration"}]}}}, None)])
    assert one_of.both("jenis", "baru") == ("Pendaftaran baru", "New registration")
    assert one_of.value("tanggal", date(2026, 3, 16), "id") == "16 Maret 2026"

"""Masking keeps enough of a value to recognise it in a list, and nothing a list does not need."""

from __future__ import annotations

from typing import Any

import pytest

from forms.labels import Labels
from forms.personal import HIDDEN, mask, mask_data, mask_numbers, mask_sensitive


@pytest.mark.parametrize(("value", "level", "shown"), [
    ("3471012345678901", "sensitive", "3471********8901"),  # a NIK keeps its region and last digits
    ("3471012345678901", "personal", "3471********8901"),
    ("081234567890", "personal", "0812****7890"),  # a phone number
    ("budi.santoso@example.id", "personal", "b***@example.id"),
    ("Budi Santoso", "personal", "B*** S******"),
    ("Siti", "personal", "S***"),
    ("Islam", "sensitive", HIDDEN),  # religion, health: nothing of the text
    ("Jl. Malioboro 12", "personal", "J** M****** 1*"),
    ("1990-05-17", "personal", "1990-**-**"),  # a birth date keeps its year
    ("2024-05-17", "sensitive", HIDDEN),  # a child's birth date shows nothing
    (1250000, "sensitive", HIDDEN),  # arrears: an amount shows nothing
    ("12345", "personal", "**345"),
    ("123", "personal", "***"),
    (True, "sensitive", HIDDEN),
    (["ktp.pdf", "kk.pdf"], "sensitive", HIDDEN),  # uploads of ID scans
    ({"kota": "Yogyakarta"}, "personal", HIDDEN),
    (None, "personal", ""),
    ("", "sensitive", ""),
])
def test_mask_shows_only_what_tells_two_people_apart(value: Any, level: str, shown: str) -> None:
    assert mask(value, level) == shown


def test_a_masked_value_never_contains_the_middle_of_a_nik() -> None:
    masked = mask("3471012345678901", "sensitive")
    assert "01234567" not in masked
    assert len(masked) == 16


def test_mask_data_masks_the_classified_fields_and_keeps_the_rest() -> None:
    data = {"nik": "3471012345678901", "nama_pemohon": "Budi Santoso", "luas_bangunan": 120, "agama": "Islam"}
    classified = {"nik": "sensitive", "nama_pemohon": "personal", "agama": "sensitive"}
    assert mask_data(data, classified) == {"nik": "3471********8901", "nama_pemohon": "B*** S******",
                                           "luas_bangunan": 120, "agama": HIDDEN}
    assert mask_sensitive(data, classified) == {"nik": "3471********8901", "nama_pemohon": "Budi Santoso",
                                                "luas_bangunan": 120, "agama": HIDDEN}
    assert data["nik"] == "3471012345678901"  # a copy: the case's own data is untouched


def test_mask_data_follows_the_forms_classification() -> None:
    schema = {"properties": {"nik": {"type": "string", "x-mpp-personal": "sensitive"},
                             "email": {"type": "string", "x-mpp-personal": "personal"},
                             "alamat_usaha": {"type": "string", "x-mpp-personal": False}}}
    classified = Labels.from_forms([(schema, {})]).personal_fields()
    assert classified == {"nik": "sensitive", "email": "personal"}
    masked = mask_data({"nik": "3471099988887777", "email": "siti@example.id", "alamat_usaha": "Jl. Solo 3"},
                       classified)
    assert masked == {"nik": "3471********7777", "email": "s***@example.id", "alamat_usaha": "Jl. Solo 3"}


def test_mask_numbers_masks_every_nik_in_free_text() -> None:
    text = "cek 3471012345678901 dan 3471099988887777; tiket 12345, VA 88081234567890123 (17 angka)"
    assert mask_numbers(text) == ("cek 3471********8901 dan 3471********7777; tiket 12345, "
                                  "VA 88081234567890123 (17 angka)")

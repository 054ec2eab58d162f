"""Lint rules on personal data in forms: a valid `x-mpp-personal` mark, and no personal field left unmarked.

A form property holding personal data carries `"x-mpp-personal": "personal"` or `"sensitive"`
(forms.labels); the platform masks it where it is not needed and encrypts sensitive values at rest.
A field that only looks personal (a company's address, a yes/no about a NIK) says so with
`"x-mpp-personal": false`. Lint refuses any other value and warns, naming the form, the field and
the mark to add, on a field whose name, title, format or pattern looks like personal data (a NIK, a
family card number, a phone, an e-mail, an address, a birth date or place, religion, health, a
person's name, biometrics) but carries no mark: an unmarked field is shown in full everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from engine.catalogue.package import Package
from engine.errors import Problem
from forms.labels import PERSONAL_KEY, PERSONAL_LEVELS

MAX_DEPTH = 8
# (what it looks like in English, in Indonesian, suggested level, pattern on the field's name)
NAME_RULES: tuple[tuple[str, str, str, re.Pattern[str]], ...] = (
    ("a NIK", "NIK", "sensitive", re.compile(r"(^|_)nik($|_)")),
    ("a family card number", "nomor KK", "sensitive",
     re.compile(r"(^|_)(no|nomor)_kk($|_)|^kk$|(^|_)kartu_keluarga($|_)")),
    ("an ID card or its scan", "KTP atau pindaiannya", "sensitive", re.compile(r"(^|_)(ktp|e_ktp|kia)($|_)")),
    ("religion", "agama", "sensitive", re.compile(r"(^|_)(agama|religion)($|_)")),
    ("health data", "data kesehatan", "sensitive",
     re.compile(r"(^|_)(kesehatan|diagnosa|diagnosis|penyakit|health|disabilitas)($|_)")),
    ("biometric data", "data biometrik", "sensitive",
     re.compile(r"(^|_)(sidik_jari|biometrik|biometric|fingerprint)($|_)")),
    ("a phone number", "nomor telepon", "personal",
     re.compile(r"(^|_)(telepon|telp|hp|ponsel|phone|whatsapp|wa)($|_)")),
    ("an e-mail address", "alamat surel", "personal", re.compile(r"(^|_)(e?mail|surel)($|_)")),
    ("an address", "alamat", "personal", re.compile(r"(^|_)(alamat|address|domisili)($|_)")),
    ("a birth date or place", "tanggal/tempat lahir", "personal",
     re.compile(r"(tanggal|tempat|tgl)_lahir|birth")),
)
# `nama_*` names a person unless the next word names a thing or an organisation.
NOT_A_PERSON = frozenset({
    "usaha", "perusahaan", "produk", "tempat", "badan", "toko", "merek", "proyek", "kegiatan", "instansi",
    "bank", "lembaga", "kantor", "jalan", "gedung", "bangunan", "layanan", "dokumen", "berkas", "file",
    "koperasi", "yayasan", "sekolah", "fasilitas", "kapal", "kendaraan", "paket", "program",
})
SIXTEEN_DIGITS = re.compile(r"^\^?(\[0-9\]|\\d)\{16\}\$?$")
SKIPPED_TYPES = frozenset({"boolean", "null"})


def personal_problems(package: Package, *, skip: frozenset[str] = frozenset()) -> list[Problem]:
    """Check every form schema of a package for invalid or missing personal-data marks.

    `skip` names the forms already refused for another reason: they are fixed first.
    """
    out: list[Problem] = []
    for path in sorted(package.files):
        if not (path.startswith("forms/") and path.endswith(".json")) or path.endswith(".uischema.json"):
            continue
        if path in skip:
            continue
        try:
            document = json.loads(package.files[path].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue  # form_file_problems reports unreadable files
        if isinstance(document, dict) and isinstance(document.get("properties"), dict):
            out += schema_personal_problems(path, document)
    return out


def schema_personal_problems(path: str, schema: dict[str, Any]) -> list[Problem]:
    """Check one form schema's properties (nested objects and array items too)."""
    out: list[Problem] = []
    for field, prop in _properties(schema.get("properties"), "", 0):
        if PERSONAL_KEY in prop:
            mark = prop[PERSONAL_KEY]
            if mark is not False and mark not in PERSONAL_LEVELS:
                out.append(_invalid(path, field, mark))
            continue
        looks = looks_personal(field.rsplit(".", 1)[-1].removesuffix("[]"), prop)
        if looks is not None:
            out.append(_unmarked(path, field, *looks))
    return out


def looks_personal(name: str, prop: dict[str, Any]) -> tuple[str, str, str] | None:
    """Return (what in English, what in Indonesian, level) when a field looks like personal data."""
    types = prop.get("type")
    if isinstance(types, str) and types in SKIPPED_TYPES:
        return None  # a yes/no about a NIK holds no NIK
    key = name.lower()
    title = prop.get("title") if isinstance(prop.get("title"), str) else ""
    words = re.sub(r"[^a-z0-9]+", "_", str(title).lower()).strip("_")
    if isinstance(prop.get("pattern"), str) and SIXTEEN_DIGITS.match(prop["pattern"]):
        return "a 16-digit number (a NIK or a family card number)", "nomor 16 digit (NIK atau nomor KK)", "sensitive"
    if prop.get("format") == "email":
        return "an e-mail address", "alamat surel", "personal"
    for english, indonesian, level, pattern in NAME_RULES:
        if pattern.search(key) or (words and pattern.search(words)):
            return english, indonesian, level
    parts = key.split("_")
    if parts[0] == "nama" and (len(parts) == 1 or parts[1] not in NOT_A_PERSON):
        return "a person's name", "nama orang", "personal"
    return None


def _properties(props: Any, prefix: str, depth: int) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(props, dict) or depth > MAX_DEPTH:
        return
    for name, prop in props.items():
        if not isinstance(prop, dict):
            continue
        field = f"{prefix}{name}"
        yield field, prop
        yield from _properties(prop.get("properties"), f"{field}.", depth + 1)
        items = prop.get("items")
        if isinstance(items, dict):
            yield from _properties(items.get("properties"), f"{field}[].", depth + 1)


def _invalid(path: str, field: str, mark: Any) -> Problem:
    shown = json.dumps(mark, ensure_ascii=False)[:40]
    return Problem(
        path, field,
        f"{path}, field '{field}': \"{PERSONAL_KEY}\" is {shown}; write \"personal\" (a name, an address, a "
        "phone, an e-mail, a birth date), \"sensitive\" (NIK, KK number, health, religion, biometrics, criminal "
        "record, finances, children's data) or false (the field identifies no one)",
        "error",
        f"{path}, isian '{field}': \"{PERSONAL_KEY}\" bernilai {shown}; tulis \"personal\" (nama, alamat, "
        "telepon, surel, tanggal lahir), \"sensitive\" (NIK, nomor KK, kesehatan, agama, biometrik, catatan "
        "kriminal, keuangan, data anak) atau false (isian tidak mengenali seseorang)",
    )


def _unmarked(path: str, field: str, what_en: str, what_id: str, level: str) -> Problem:
    return Problem(
        path, field,
        f"{path}, field '{field}' looks like {what_en} but is not classified as personal data, so it is shown "
        f"in full in lists, exports and messages; add \"{PERSONAL_KEY}\": \"{level}\" to it (or "
        f"\"{PERSONAL_KEY}\": false if it identifies no one)",
        "warning",
        f"{path}, isian '{field}' tampak seperti {what_id} tetapi tidak diklasifikasikan sebagai data pribadi, "
        f"sehingga tampil utuh di daftar, ekspor dan pesan; tambahkan \"{PERSONAL_KEY}\": \"{level}\" (atau "
        f"\"{PERSONAL_KEY}\": false bila isian tidak mengenali seseorang)",
    )

"""Document requirements in service.toml: lint of the `document` and `optional` keys, and the slots read from them."""

from __future__ import annotations

from engine.bpmn.conventions import service_errors
from engine.cases.requirements import DocumentSlot, document_slots, missing

BASE = {"key": "x", "agency": "dpmptsp", "name": {"id": "X", "en": "X"}, "product": {"id": "P", "en": "P"},
        "sla_days": 3, "channels": ["daring"]}


def _errors(requirements: list[object]) -> list[str]:
    return [en for en, _id in service_errors({**BASE, "requirements": requirements}) if "requirements" in en]


def test_lint_accepts_document_codes_and_refuses_bad_or_repeated_ones() -> None:
    good = [{"id": "KTP", "en": "ID card", "document": "ktp"},
            {"id": "Izin", "en": "Consent", "document": "izin_pemilik", "optional": True},
            {"id": "Datang", "en": "Come in person"}]
    assert _errors(good) == []
    bad = _errors([{"id": "KTP", "en": "ID", "document": "KTP Pemohon"},
                   {"id": "KK", "en": "Family card", "document": "kk"},
                   {"id": "KK2", "en": "Family card 2", "document": "kk"},
                   {"id": "A", "en": "A", "document": "a", "optional": "yes"},
                   {"id": "B", "en": "B", "optional": True}])
    assert bad == ['requirements item 1: document must be a code such as "ktp" (lower-case letters, digits and _)',
                   'requirements item 3: document code "kk" is used twice',
                   "requirements item 4: optional must be true or false, beside a document code",
                   "requirements item 5: optional must be true or false, beside a document code"]


def test_slots_follow_the_standard_and_missing_names_each_required_one() -> None:
    service = {"requirements": [{"id": "KTP", "en": "ID card", "document": "ktp"},
                                {"id": "Datang", "en": "Come in person"},
                                {"id": "Denah", "en": "Sketch", "document": "denah", "optional": True},
                                {"id": "Foto", "en": "Photo", "document": "foto"}]}
    slots = document_slots(service)
    assert slots == [DocumentSlot("ktp", "KTP", "ID card", False), DocumentSlot("denah", "Denah", "Sketch", True),
                     DocumentSlot("foto", "Foto", "Photo", False)]
    errors = missing(slots, {"ktp": ["file:1"], "foto": []}, prefix="services.1.")
    assert [(e.path, e.message_id, e.message_en) for e in errors] == [
        ("services.1.doc__foto", "Dokumen persyaratan wajib diunggah: Foto.", "Required document missing: Photo.")]

"""The service-standard components of PermenPAN-RB 15/2014 that service.toml keeps in its `[standard]` table.

service.toml's top-level keys carry the requirements, the time limit (`sla_days`), the fee and the
product; the procedure is the diagram. The other components (legal basis, complaints, facilities,
staff competence, internal supervision, staffing, service guarantee, security guarantee,
performance evaluation) and the service hours live in `[standard]`, each in both languages.
This module names them, checks their shape for lint, reads them for the studio form and lays all
fourteen out in the regulation's order for the public pages. docs/onboarding.md shows the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Message = tuple[str, str]
"""A text in Bahasa Indonesia and in English, in that order."""
Kind = Literal["text", "list", "complaints"]


@dataclass(frozen=True)
class Component:
    """One `[standard]` key: its name in the regulation and the shape of its value."""

    key: str
    label: Message
    kind: Kind
    hint: Message


COMPONENTS: tuple[Component, ...] = (
    Component("legal_basis", ("Dasar hukum", "Legal basis"), "list",
              ("Satu peraturan per baris: jenis, nomor, tahun dan judulnya.",
               "One regulation per line: its kind, number, year and title.")),
    Component("hours", ("Waktu pelayanan", "Service hours"), "text",
              ("Hari dan jam loket buka, termasuk jam Jumat.", "The days and hours the counter is open, Friday too.")),
    Component("complaints", ("Penanganan pengaduan, saran dan masukan", "Complaints, suggestions and feedback"),
              "complaints", ("Saluran pengaduan dan siapa yang menanganinya.",
                             "The complaint channels and who handles them.")),
    Component("facilities", ("Sarana, prasarana dan/atau fasilitas", "Facilities and infrastructure"), "list",
              ("Satu sarana per baris.", "One facility per line.")),
    Component("competence", ("Kompetensi pelaksana", "Staff competence"), "list",
              ("Satu kompetensi per baris: pendidikan, keahlian, pelatihan.",
               "One competence per line: education, skills, training.")),
    Component("supervision", ("Pengawasan internal", "Internal supervision"), "text",
              ("Siapa yang mengawasi pelaksanaan layanan dan bagaimana.", "Who supervises the service, and how.")),
    Component("staffing", ("Jumlah pelaksana", "Number of staff"), "text",
              ("Jumlah petugas per tahap.", "How many officers at each stage.")),
    Component("guarantee", ("Jaminan pelayanan", "Service guarantee"), "text",
              ("Pernyataan janji layanan (maklumat pelayanan).", "The service pledge (maklumat pelayanan).")),
    Component("security", ("Jaminan keamanan dan keselamatan pelayanan", "Security and safety guarantee"), "text",
              ("Keamanan data, dokumen dan keselamatan pengunjung.", "Security of data, documents and visitors.")),
    Component("evaluation", ("Evaluasi kinerja pelaksana", "Staff performance evaluation"), "text",
              ("Kapan dan bagaimana kinerja dinilai (mis. SKM tiap semester).",
               "When and how performance is reviewed (e.g. the SKM survey each semester).")),
)
BY_KEY = {c.key: c for c in COMPONENTS}
SIGNATORY = "signatory"
"""The optional `signatory = { name = "...", id = "...", en = "..." }`: who signs the maklumat pelayanan."""
KNOWN_KEYS = (*BY_KEY, SIGNATORY)
PLACEHOLDER: Message = ("BELUM DIISI", "NOT FILLED IN")
"""The text a new draft's components start with: lint refuses it until the analyst writes the real one."""
MAX_RESPONSE_DAYS = 60


def example(component: Component) -> str:
    """Return how the component is written in service.toml."""
    text = '{ id = "...", en = "..." }'
    if component.kind == "list":
        return f"{component.key} = [{text}]"
    if component.kind == "complaints":
        return f'{component.key} = {{ id = "...", en = "...", response_days = 3 }}'
    return f"{component.key} = {text}"


# ---------------------------------------------------------------- lint


def is_placeholder(value: Any) -> bool:
    """Tell whether a bilingual text is still the new draft's placeholder."""
    return isinstance(value, dict) and str(value.get("id", "")).strip() == PLACEHOLDER[0]


def _text_errors(value: Any, where: str) -> list[Message]:
    if not isinstance(value, dict):
        return [(f'{where} must be a table with Indonesian and English text: {{ id = "...", en = "..." }}',
                 f'{where} harus berupa tabel berisi teks bahasa Indonesia dan Inggris: {{ id = "...", en = "..." }}')]
    return [(f"{where}: the {lang} text is missing or empty", f"{where}: teks {lang} tidak ada atau kosong")
            for lang in ("id", "en") if not isinstance(value.get(lang), str) or not value[lang].strip()]


def _component_errors(component: Component, value: Any) -> list[Message]:
    where, (name_id, _name_en) = f"standard.{component.key}", component.label
    if component.kind == "list":
        if not isinstance(value, list) or not value:
            return [(f"{where} must be a non-empty list: {example(component)}",
                     f"{where} harus berupa daftar yang tidak kosong: {example(component)}")]
        errors = [e for i, item in enumerate(value, 1) for e in _text_errors(item, f"{where} item {i}")]
        placeholder = any(is_placeholder(item) for item in value)
    else:
        errors = _text_errors(value, where)
        placeholder = is_placeholder(value)
    if component.kind == "complaints" and isinstance(value, dict):
        days = value.get("response_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= MAX_RESPONSE_DAYS:
            errors.append((f"{where}.response_days must be a whole number of working days, 1 to "
                           f"{MAX_RESPONSE_DAYS} (the deadline to answer a complaint)",
                           f"{where}.response_days harus bilangan bulat hari kerja, 1 sampai {MAX_RESPONSE_DAYS} "
                           "(batas waktu menjawab pengaduan)"))
    if placeholder and not errors:
        errors.append((f"{where} ({component.label[1]}) is still the new draft's placeholder "
                       f"\"{PLACEHOLDER[0]}\": write this service's text in both languages",
                       f"{where} ({name_id}) masih berisi isian awal \"{PLACEHOLDER[0]}\": tulis teks layanan ini "
                       "dalam kedua bahasa"))
    return errors


def standard_errors(service: Mapping[str, Any]) -> list[tuple[str, Message]]:
    """Check the `[standard]` table; return (component key, (English, Indonesian)) per problem."""
    table = service.get("standard")
    if table is not None and not isinstance(table, dict):
        return [("", ("standard must be a table: write [standard] and its components under it",
                       "standard harus berupa tabel: tulis [standard] beserta komponennya di bawahnya"))]
    table = table or {}
    errors: list[tuple[str, Message]] = []
    for component in COMPONENTS:
        if component.key not in table:
            name_id, name_en = component.label
            errors.append((component.key, (
                f"the service-standard component \"{name_en}\" is missing: add [standard] {example(component)} "
                "to service.toml",
                f"komponen standar pelayanan \"{name_id}\" tidak ada: tambahkan [standard] {example(component)} "
                "ke service.toml")))
            continue
        errors += [(component.key, e) for e in _component_errors(component, table[component.key])]
    signatory = table.get(SIGNATORY)
    if signatory is not None:
        errors += [(SIGNATORY, e) for e in _text_errors(signatory, f"standard.{SIGNATORY}")]
        if isinstance(signatory, dict) and not isinstance(signatory.get("name", ""), str):
            errors.append((SIGNATORY, ("standard.signatory.name must be text", "standard.signatory.name harus teks")))
    return errors


def unknown_keys(service: Mapping[str, Any]) -> list[str]:
    """Return `[standard]` keys the platform does not read (likely typos)."""
    table = service.get("standard")
    return sorted(k for k in table if k not in KNOWN_KEYS) if isinstance(table, dict) else []


# ---------------------------------------------------------------- the public page


@dataclass(frozen=True)
class Shown:
    """One of the fourteen components as the public page prints it."""

    number: int
    label: Message
    kind: str  # text, list, requirements, procedure, sla, fee, product, complaints
    texts: list[dict[str, str]] = field(default_factory=list)
    value: Any = None


def _texts(value: Any) -> list[dict[str, str]]:
    items = value if isinstance(value, list) else [value]
    return [{"id": str(v.get("id", "")), "en": str(v.get("en", ""))} for v in items if isinstance(v, dict)]


def fourteen(service: Mapping[str, Any]) -> list[Shown]:
    """Return the fourteen components in the order of PermenPAN-RB 15/2014's annex (delivery, then management)."""
    found = service.get("standard")
    table: Mapping[str, Any] = found if isinstance(found, dict) else {}
    rows: list[tuple[Message, str, Any]] = [
        (("Persyaratan", "Requirements"), "list", service.get("requirements") or []),
        (("Sistem, mekanisme dan prosedur", "System, mechanism and procedure"), "procedure", None),
        (("Jangka waktu penyelesaian", "Time to completion"), "sla", service.get("sla_days")),
        (("Biaya/tarif", "Fee"), "fee", service.get("fee")),
        (("Produk pelayanan", "Product"), "text", service.get("product")),
        (BY_KEY["complaints"].label, "complaints", table.get("complaints")),
        (BY_KEY["legal_basis"].label, "list", table.get("legal_basis")),
        (BY_KEY["facilities"].label, "list", table.get("facilities")),
        (BY_KEY["competence"].label, "list", table.get("competence")),
        (BY_KEY["supervision"].label, "text", table.get("supervision")),
        (BY_KEY["staffing"].label, "text", table.get("staffing")),
        (BY_KEY["guarantee"].label, "text", table.get("guarantee")),
        (BY_KEY["security"].label, "text", table.get("security")),
        (BY_KEY["evaluation"].label, "text", table.get("evaluation")),
    ]
    shown = []
    for number, (label, kind, value) in enumerate(rows, 1):
        days = value.get("response_days") if kind == "complaints" and isinstance(value, dict) else value
        shown.append(Shown(number, label, kind, _texts(value) if value is not None else [], days))
    return shown

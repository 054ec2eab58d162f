"""The service-standard form's checks: the analyst's values, and lint's problems, each on its form field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from engine.bpmn import conventions as cv
from engine.catalogue import standard_components as components
from engine.catalogue.standard import (
    AgencyDecl,
    Components,
    DocumentForm,
    Message,
    RetentionForm,
    Standard,
    Text,
)
from engine.privacy import retention as retention

# ---------------------------------------------------------------- checking the posted values

LABELS: dict[str, Message] = {
    "name": ("Nama layanan", "Service name"), "description": ("Uraian", "Description"),
    "product": ("Produk layanan", "Product"), "fee": ("Biaya/tarif", "Fee"), "req": ("Persyaratan", "Requirement"),
    "ag-name": ("Nama instansi", "Agency name"), "role-name": ("Nama peran", "Role name"),
    "doc_title": ("Judul dokumen", "Document title"), "fact": ("Label data", "Fact label"),
    "signatory": ("Jabatan penanda tangan maklumat", "Title of the maklumat's signatory"),
    "outreach": ("Uraian jemput bola", "Jemput bola description"),
    "retention_basis": ("Dasar hukum masa simpan", "Legal basis of the retention"),
}
LANGS: dict[str, Message] = {"id": ("bahasa Indonesia", "Indonesian"), "en": ("bahasa Inggris", "English")}
MAX_TEXT = 4000
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _bilingual(errors: dict[str, Message], name: str, value: Text, *, required: bool, label: str = "",
               sep: str = "_") -> None:
    """Check a bilingual text: both languages, or (when optional) both or neither."""
    what_id, what_en = LABELS[label or name]
    if not required and value.empty():
        return
    for lang in ("id", "en"):
        text = getattr(value, lang)
        lang_id, lang_en = LANGS[lang]
        if not text:
            errors[f"{name}{sep}{lang}"] = (f"{what_id} ({lang_id}) wajib diisi" + ("" if required else
                                        ", atau kosongkan kedua bahasa"),
                                        f"{what_en} ({lang_en}) is required" + ("" if required else
                                        ", or leave both languages empty"))
        elif len(text) > MAX_TEXT:
            errors[f"{name}{sep}{lang}"] = (f"{what_id} paling panjang {MAX_TEXT} karakter",
                                        f"{what_en} takes at most {MAX_TEXT} characters")


def validate(std: Standard, *, forms: Iterable[str] = (), templates: Iterable[str] = ()) -> dict[str, Message]:
    """Check the analyst's values; return a message (id, en) per form field that is wrong."""
    errors: dict[str, Message] = {}
    for name, required in (("name", True), ("product", True), ("description", False), ("fee", False)):
        _bilingual(errors, name, getattr(std, name), required=required)
    if not (std.sla_days.isascii() and std.sla_days.isdecimal() and 1 <= int(std.sla_days) <= 365):
        errors["sla_days"] = ("SLA harus bilangan bulat hari kerja, 1 sampai 365",
                              "The SLA must be a whole number of working days, 1 to 365")
    if not std.channels or any(c not in cv.CHANNELS for c in std.channels):
        errors["channels"] = ("Pilih sekurang-kurangnya satu kanal layanan", "Choose at least one service channel")
    if std.start_form and std.start_form not in set(forms):
        errors["start_form"] = ("Pilih formulir awal dari formulir draf ini",
                                "Choose the start form among this draft's forms")
    for index, requirement in enumerate(std.requirements):
        _bilingual(errors, f"req-{index}", requirement.text, required=True, label="req", sep="-")
    if std.outreach is not None:
        _bilingual(errors, "outreach", std.outreach.text, required=True)
        if not std.outreach.groups or any(g not in cv.OUTREACH_GROUPS for g in std.outreach.groups):
            errors["outreach_for"] = ("Pilih sekurang-kurangnya satu kelompok pemohon jemput bola",
                                      "Choose at least one group of applicants for jemput bola")
    if std.retention is not None:
        _check_retention(errors, std.retention)
    _check_components(errors, std.components)
    _check_agencies(errors, std.agencies)
    if std.document is not None:
        _check_document(errors, std.document, set(templates))
    return errors


def _check_retention(errors: dict[str, Message], form: RetentionForm) -> None:
    """Check `[retention]` as lint does (engine/privacy/retention.py), naming the form's fields."""
    _bilingual(errors, "retention_basis", form.basis, required=True)
    years = int(form.years) if form.years.isascii() and form.years.isdecimal() else form.years or None
    table = {"years": years, "action": form.action, "basis": {"id": form.basis.id or "-", "en": form.basis.en or "-"}}
    for english, indonesian in retention.retention_errors({"retention": table}):
        name = "retention_action" if "action" in english else "retention_years"
        errors.setdefault(name, (indonesian, english))


def _check_components(errors: dict[str, Message], form: Components) -> None:
    """Check `[standard]`: every component in both languages, and a response deadline.

    A new draft's placeholders are saved as they are: lint names each one (next to its field) and
    deployment refuses them, but the analyst may save other fields first.
    """
    for component in components.COMPONENTS:
        name, (what_id, what_en) = f"c_{component.key}", component.label
        texts = form.lists.get(component.key, []) if component.kind == "list" else \
            [form.texts.get(component.key, Text())]
        if not texts or all(t.empty() for t in texts):
            errors[f"{name}_id"] = (f"{what_id} wajib diisi dalam kedua bahasa", f"{what_en} is required in both "
                                    "languages")
            continue
        for lang, other in (("id", "en"), ("en", "id")):
            lines = [i for i, t in enumerate(texts, 1) if not getattr(t, lang) and getattr(t, other)]
            if lines and f"{name}_{lang}" not in errors:
                lang_id, lang_en = LANGS[lang]
                where_id, where_en = (f" (baris {lines[0]})", f" (line {lines[0]})") if component.kind == "list" \
                    else ("", "")
                errors[f"{name}_{lang}"] = (f"{what_id} ({lang_id}) wajib diisi{where_id}",
                                            f"{what_en} ({lang_en}) is required{where_en}")
        if any(max(len(t.id), len(t.en)) > MAX_TEXT for t in texts):
            errors[f"{name}_id"] = (f"{what_id} paling panjang {MAX_TEXT} karakter per baris",
                                    f"{what_en} takes at most {MAX_TEXT} characters a line")
    days = form.response_days
    if not (days.isascii() and days.isdecimal() and 1 <= int(days) <= components.MAX_RESPONSE_DAYS):
        errors["c_complaints_days"] = (f"Batas waktu jawaban pengaduan: bilangan bulat hari kerja, 1 sampai "
                                       f"{components.MAX_RESPONSE_DAYS}", "The complaint response deadline must be "
                                       f"a whole number of working days, 1 to {components.MAX_RESPONSE_DAYS}")
    _bilingual(errors, "c_signatory", form.signatory, required=False, label="signatory")


def _check_agencies(errors: dict[str, Message], agencies: list[AgencyDecl]) -> None:
    seen: set[str] = set()
    for i, agency in enumerate(agencies):
        where = f"ag-{i}"
        if not (_NAME.match(agency.code) and len(agency.code) <= 40):
            errors[f"{where}-code"] = ("Kode instansi: huruf kecil, angka dan _, diawali huruf (mis. dpmptsp)",
                                       "Agency code: lower-case letters, digits and _, starting with a letter "
                                       "(e.g. dpmptsp)")
        elif agency.code in seen:
            errors[f"{where}-code"] = (f"Instansi '{agency.code}' dideklarasikan dua kali",
                                       f"The agency '{agency.code}' is declared twice")
        seen.add(agency.code)
        if agency.kind not in cv.AGENCY_KINDS:
            errors[f"{where}-kind"] = ("Pilih jenis instansi", "Choose the kind of agency")
        if agency.parent and not _NAME.match(agency.parent):
            errors[f"{where}-parent"] = ("Kode instansi induk: huruf kecil, angka dan _",
                                         "Parent agency code: lower-case letters, digits and _")
        _bilingual(errors, f"{where}-name", agency.name, required=True, label="ag-name")
        if agency.parent and agency.roles:
            errors[f"{where}-roles"] = ("Penyedia memakai peran instansi induknya; deklarasikan peran di sana",
                                        "A provider holds the roles of its parent agency; declare roles there")
        keys: set[str] = set()
        for j, role in enumerate(agency.roles):
            if not _ROLE_KEY.match(role.key):
                errors[f"{where}-role-{j}-key"] = ("Kode peran: huruf kecil, angka dan _ (mis. front_office)",
                                                   "Role key: lower-case letters, digits and _ (e.g. front_office)")
            elif role.key in keys:
                errors[f"{where}-role-{j}-key"] = (f"Peran '{role.key}' dideklarasikan dua kali",
                                                   f"The role '{role.key}' is declared twice")
            keys.add(role.key)
            _bilingual(errors, f"{where}-role-{j}-name", role.name, required=True, label="role-name")


def _check_document(errors: dict[str, Message], document: DocumentForm, templates: set[str]) -> None:
    _bilingual(errors, "doc_title", document.title, required=True)
    if not document.end_events:
        errors["doc_end_events"] = ("Pilih peristiwa akhir yang menerbitkan dokumen",
                                    "Choose the end events that issue the document")
    if document.template and document.template not in templates:
        errors["doc_template"] = ("Pilih templat dari berkas .html draf ini", "Choose a template among the draft's "
                                  ".html files")
    for name in ("number_field", "holder_field"):
        value = getattr(document, name)
        if value and not cv.is_identifier(value):
            errors[f"doc_{name}"] = ("Nama data permohonan: huruf, angka dan _", "Case-data field: letters, digits "
                                     "and _")
    for k, fact in enumerate(document.facts):
        if not cv.is_identifier(fact.field):
            errors[f"fact-{k}-field"] = ("Nama data permohonan: huruf, angka dan _", "Case-data field: letters, "
                                         "digits and _")
        _bilingual(errors, f"fact-{k}", fact.label, required=True, label="fact", sep="-")


# ---------------------------------------------------------------- lint problems on their fields

_TOP: list[tuple[re.Pattern[str], Callable[[re.Match[str], Standard], str | None]]] = [
    (re.compile(r"^key must|given as key|^the draft is for"), lambda m, std: "key"),
    (re.compile(r"^agency must|^the publishing agency"), lambda m, std: "agency"),
    (re.compile(r"^(name|product|description|fee)\.(id|en) is missing"), lambda m, std: f"{m[1]}_{m[2]}"),
    (re.compile(r"^(name|product|description|fee) must be a table"), lambda m, std: f"{m[1]}_id"),
    (re.compile(r"^sla_days"), lambda m, std: "sla_days"),
    (re.compile(r"^channels|^unknown channel"), lambda m, std: "channels"),
    (re.compile(r"^start_form"), lambda m, std: "start_form"),
    (re.compile(r"^outreach\.(id|en) is missing"), lambda m, std: f"outreach_{m[1]}"),
    (re.compile(r"^outreach"), lambda m, std: "outreach_for"),
    (re.compile(r"^retention\.(years|action)"), lambda m, std: f"retention_{m[1]}"),
    (re.compile(r"^retention\.basis"), lambda m, std: "retention_basis_id"),
    (re.compile(r"^no \[retention\] table|^\[retention\]|^retention\."), lambda m, std: "retention_on"),
    (re.compile(r"^requirements item (\d+): the (id|en) text"), lambda m, std: f"req-{int(m[1]) - 1}-{m[2]}"),
    (re.compile(r"^requirements item (\d+)"), lambda m, std: f"req-{int(m[1]) - 1}-id"),
    (re.compile(r"^document\.title"), lambda m, std: "doc_title_id"),
    (re.compile(r"^document\.(end_events|template|number_field|holder_field)"), lambda m, std: f"doc_{m[1]}"),
    (re.compile(r"^document\.facts item (\d+): the (id|en) label"), lambda m, std: f"fact-{int(m[1]) - 1}-{m[2]}"),
    (re.compile(r"^document\.facts item (\d+)"), lambda m, std: f"fact-{int(m[1]) - 1}-field"),
    (re.compile(r"^document template"), lambda m, std: "doc_template"),
    (re.compile(r"^\[document\] (holder_field|number_field)"), lambda m, std: f"doc_{m[1]}"),
    (re.compile(r"^\[document\] facts field '([^']*)'"),
     lambda m, std: _index_field("fact", [f.field for f in std.document.facts] if std.document else [], m[1],
                                 "field")),
    (re.compile(r"^agencies item (\d+)(?:: (.*))?$", re.S), lambda m, std: _agency_field(int(m[1]) - 1, m[2], std)),
    (re.compile(r"^agency '([^']*)'(?:: (.*))?$", re.S),
     lambda m, std: _agency_field(next((i for i, a in enumerate(std.agencies) if a.code == m[1]), -1), m[2], std)),
]
_IN_AGENCY: list[tuple[re.Pattern[str], Callable[[re.Match[str], list[str]], str | None]]] = [
    (re.compile(r"^code"), lambda m, roles: "code"),
    (re.compile(r"^kind"), lambda m, roles: "kind"),
    (re.compile(r"^name\.(id|en)"), lambda m, roles: f"name_{m[1]}"),
    (re.compile(r"^name"), lambda m, roles: "name_id"),
    (re.compile(r"^roles item (\d+)"), lambda m, roles: f"role-{int(m[1]) - 1}-key"),
    (re.compile(r"^role '([^']*)': name\.(id|en)"), lambda m, roles: _index_field("role", roles, m[1], f"name_{m[2]}")),
    (re.compile(r"^role '([^']*)'"), lambda m, roles: _index_field("role", roles, m[1], "key")),
]


def _index_field(prefix: str, names: list[str], name: str, part: str) -> str | None:
    return f"{prefix}-{names.index(name)}-{part}" if name in names else None


def _agency_field(index: int, rest: str | None, std: Standard) -> str | None:
    if not 0 <= index < len(std.agencies):
        return None
    roles = [r.key for r in std.agencies[index].roles]
    for pattern, where in _IN_AGENCY:
        if rest and (match := pattern.match(rest)):
            found = where(match, roles)
            return f"ag-{index}-{found}" if found else f"ag-{index}-code"
    return f"ag-{index}-roles" if rest and "role" in rest else f"ag-{index}-code"


def field_of(message: str, element_id: str | None, std: Standard) -> str | None:
    """Return the form field a lint problem on service.toml is about (from its English message), or None."""
    if element_id:
        named = element_id.replace(".", "_")
        if named in ("key", "agency", "sla_days", "channels", "start_form") or re.match(
                r"^(name|product|description|fee)_(id|en)$", named):
            return named
    if element_id and element_id.startswith("standard."):
        return _component_field(element_id.removeprefix("standard."), message)
    for pattern, where in _TOP:
        if match := pattern.match(message):
            return where(match, std)
    return None


def _component_field(key: str, message: str) -> str | None:
    """Return the form field of a lint problem on a `[standard]` component."""
    if key not in components.KNOWN_KEYS:
        return None
    if "response_days" in message:
        return "c_complaints_days"
    return f"c_{key}_en" if re.search(r"\bthe en text\b", message) else f"c_{key}_id"

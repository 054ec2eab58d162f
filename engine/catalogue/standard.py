"""The service standard (service.toml) as a form: read it, check the analyst's values, write them back.

Writing goes through tomlkit and changes only what the analyst changed: comments, key order,
formatting and keys the form does not know stay as they were, so a file loaded and saved unchanged
is byte-identical. Rows of a list (requirements, agencies, roles, facts) remember which entry of
the file they came from (`origin`), so keys the form does not show survive a removed or added row.

Template previews (`preview_template`) render a draft's document or notification template with
sample case data through the engine's own sandboxed renderers, in their isolated processes.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import AoT, Comment, InlineTable, Table, Whitespace

from engine.bpmn import conventions as cv
from engine.errors import InvalidInput

SERVICE = "service.toml"
Message = tuple[str, str]
"""A message in Bahasa Indonesia and in English, in that order."""

KIND_LABELS = {"city_office": ("Perangkat daerah kota", "City office"),
               "vertical": ("Instansi vertikal", "Central-government agency"),
               "state_company": ("BUMN/BUMD", "State-owned company"), "private": ("Swasta", "Private")}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ROW = re.compile(r"^(req|ag|fact)-(\d{1,3})-(.+)$")
_ROLE = re.compile(r"^role-(\d{1,3})-(.+)$")
MAX_ROWS = 200


class StandardUnreadable(InvalidInput):
    """service.toml is not valid TOML (or not UTF-8): the form cannot show it."""


@dataclass
class Text:
    """A text in Bahasa Indonesia and in English."""

    id: str = ""
    en: str = ""

    def plain(self) -> dict[str, str]:
        return {"id": self.id, "en": self.en}

    def empty(self) -> bool:
        return not (self.id.strip() or self.en.strip())


@dataclass
class Role:
    """A role an agency declares: `key` is the part after the agency (`front_office`)."""

    key: str = ""
    name: Text = field(default_factory=Text)
    origin: int | None = None


@dataclass
class AgencyDecl:
    """An `[[agencies]]` entry: an agency the service uses, with its roles."""

    code: str = ""
    kind: str = "city_office"
    parent: str = ""
    name: Text = field(default_factory=Text)
    roles: list[Role] = field(default_factory=list)
    origin: int | None = None


@dataclass
class Fact:
    """A case-data field printed on the issued document, with its label."""

    field: str = ""
    label: Text = dataclasses.field(default_factory=Text)
    origin: int | None = None


@dataclass
class Requirement:
    """A requirement the applicant brings (`requirements` item)."""

    text: Text = field(default_factory=Text)
    origin: int | None = None


@dataclass
class DocumentForm:
    """The `[document]` table: the product the service issues."""

    title: Text = field(default_factory=Text)
    end_events: list[str] = field(default_factory=list)
    template: str = ""
    number_field: str = ""
    holder_field: str = ""
    facts: list[Fact] = field(default_factory=list)


@dataclass
class Standard:
    """Every field of service.toml the form shows. `sla_days` is kept as typed, to show it back."""

    key: str = ""
    agency: str = ""
    name: Text = field(default_factory=Text)
    description: Text = field(default_factory=Text)
    product: Text = field(default_factory=Text)
    fee: Text = field(default_factory=Text)
    sla_days: str = ""
    channels: list[str] = field(default_factory=list)
    start_form: str = ""
    requirements: list[Requirement] = field(default_factory=list)
    agencies: list[AgencyDecl] = field(default_factory=list)
    document: DocumentForm | None = None
    other_keys: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def parse(raw: bytes) -> dict[str, Any]:
    """Return service.toml parsed; StandardUnreadable when it is not UTF-8 TOML."""
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StandardUnreadable("service.toml is not UTF-8 text", message_id="service.toml bukan teks UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StandardUnreadable(f"service.toml is not valid TOML: {exc}",
                                 message_id=f"service.toml bukan TOML yang sah: {exc}") from exc


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None or isinstance(value, dict | list) else str(value)


def _text(value: Any) -> Text:
    return Text(_str(value.get("id")), _str(value.get("en"))) if isinstance(value, dict) else Text(_str(value))


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item if isinstance(item, dict) else {} for item in value] if isinstance(value, list) else []


def read(raw: bytes) -> Standard:
    """Read service.toml into the form's model (values of a wrong type read as empty)."""
    data = parse(raw)
    document = data.get("document")
    return Standard(
        key=_str(data.get("key")), agency=_str(data.get("agency")), name=_text(data.get("name")),
        description=_text(data.get("description")), product=_text(data.get("product")), fee=_text(data.get("fee")),
        sla_days=_str(data.get("sla_days")),
        channels=[c for c in data.get("channels", []) if isinstance(c, str)] if isinstance(data.get("channels"),
                                                                                           list) else [],
        start_form=_str(data.get("start_form")),
        requirements=[Requirement(_text(item), i) for i, item in enumerate(_dicts(data.get("requirements")))],
        agencies=[_read_agency(item, i) for i, item in enumerate(_dicts(data.get("agencies")))],
        document=_read_document(document) if isinstance(document, dict) else None,
        other_keys=cv.unknown_service_keys(data))


def _read_agency(item: dict[str, Any], origin: int) -> AgencyDecl:
    roles = [Role(_str(r.get("key")), _text(r.get("name")), j) for j, r in enumerate(_dicts(item.get("roles")))]
    return AgencyDecl(_str(item.get("code")), _str(item.get("kind")), _str(item.get("parent")),
                      _text(item.get("name")), roles, origin)


def _read_document(table: dict[str, Any]) -> DocumentForm:
    ends = table.get("end_events")
    facts = [Fact(_str(f.get("field")), Text(_str(f.get("id")), _str(f.get("en"))), k)
             for k, f in enumerate(_dicts(table.get("facts")))]
    return DocumentForm(_text(table.get("title")), [e for e in ends if isinstance(e, str)] if isinstance(ends, list)
                        else [], _str(table.get("template")), _str(table.get("number_field")),
                        _str(table.get("holder_field")), facts)


# ---------------------------------------------------------------- the posted form


def _origin(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) <= 3 else None


def _rows(values: Mapping[str, str], prefix: str) -> list[dict[str, str]]:
    """Group `prefix-<n>-<field>` values by row, in the order of n."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in values.items():
        match = _ROW.match(name)
        if match and match[1] == prefix and len(rows) < MAX_ROWS:
            rows.setdefault(int(match[2]), {})[match[3]] = value
    return [rows[n] for n in sorted(rows)]


def from_form(items: Iterable[tuple[str, str]], *, key: str, agency: str) -> Standard:
    """Build the model from posted form fields; key and agency are not editable here and come from the draft."""
    values: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, raw in items:
        value = raw.replace("\r\n", "\n")  # browsers post a textarea's line breaks as CRLF
        values.setdefault(name, value)
        multi.setdefault(name, []).append(value)

    def text(prefix: str) -> Text:
        return Text(values.get(f"{prefix}_id", "").strip(), values.get(f"{prefix}_en", "").strip())

    std = Standard(key=key, agency=agency, name=text("name"), description=text("description"),
                   product=text("product"), fee=text("fee"), sla_days=values.get("sla_days", "").strip(),
                   channels=[c for c in multi.get("channels", []) if c], start_form=values.get("start_form", ""))
    std.requirements = [Requirement(Text(row.get("id", "").strip(), row.get("en", "").strip()),
                                    _origin(row.get("asal"))) for row in _rows(values, "req")]
    std.agencies = [_agency_from(row) for row in _rows(values, "ag")]
    if values.get("doc_on"):
        document = DocumentForm(text("doc_title"), [e for e in multi.get("doc_end_events", []) if e],
                                values.get("doc_template", "").strip(), values.get("doc_number_field", "").strip(),
                                values.get("doc_holder_field", "").strip())
        document.facts = [Fact(row.get("field", "").strip(), Text(row.get("id", "").strip(), row.get("en", "").strip()),
                               _origin(row.get("asal"))) for row in _rows(values, "fact")]
        std.document = document
    return std


def _agency_from(row: dict[str, str]) -> AgencyDecl:
    roles: dict[int, dict[str, str]] = {}
    for name, value in row.items():
        match = _ROLE.match(name)
        if match and len(roles) < MAX_ROWS:
            roles.setdefault(int(match[1]), {})[match[2]] = value.strip()
    return AgencyDecl(row.get("code", "").strip(), row.get("kind", "").strip(), row.get("parent", "").strip(),
                      Text(row.get("name_id", "").strip(), row.get("name_en", "").strip()),
                      [Role(r.get("key", ""), Text(r.get("name_id", ""), r.get("name_en", "")), _origin(r.get("asal")))
                       for r in (roles[j] for j in sorted(roles))], _origin(row.get("asal")))


_ACTION = re.compile(r"^(tambah|hapus)-(req|ag|fact|role)(?:-(\d{1,3}))?(?:-(\d{1,3}))?$")


def edit_rows(items: list[tuple[str, str]], action: str) -> list[tuple[str, str]] | None:
    """Apply a form's add/remove-row button (`tambah-req`, `hapus-ag-2`, `tambah-role-1`, `hapus-role-1-0`).

    Rows are named by the index they were posted with, so removing one drops exactly its fields.
    Return None when `action` is not such a button.
    """
    match = _ACTION.match(action)
    if not match:
        return None
    verb, kind, first, second = match.groups()
    if kind == "role":
        if first is None:
            return None
        prefix = f"ag-{first}-role-"
        row = f"{prefix}{second}-" if verb == "hapus" and second is not None else None
    else:
        prefix = f"{kind}-"
        row = f"{prefix}{first}-" if verb == "hapus" and first is not None else None
    if verb == "hapus":
        return [(k, v) for k, v in items if not (row and k.startswith(row))]
    used = [int(m[1]) for k, _v in items if k.startswith(prefix) and (m := re.match(r"^(\d{1,3})-", k[len(prefix):]))]
    field_name = {"req": "id", "ag": "code", "fact": "field", "role": "key"}[kind]
    return [*items, (f"{prefix}{max(used, default=-1) + 1}-{field_name}", "")]


def drop_empty_rows(std: Standard) -> None:
    """Forget rows the analyst left entirely empty (a row added and never filled)."""
    std.requirements = [r for r in std.requirements if not r.text.empty()]
    for agency in std.agencies:
        agency.roles = [r for r in agency.roles if r.key or not r.name.empty()]
    std.agencies = [a for a in std.agencies if a.code or a.parent or not a.name.empty() or a.roles]
    if std.document is not None:
        std.document.facts = [f for f in std.document.facts if f.field or not f.label.empty()]


# ---------------------------------------------------------------- checking the posted values

LABELS: dict[str, Message] = {
    "name": ("Nama layanan", "Service name"), "description": ("Uraian", "Description"),
    "product": ("Produk layanan", "Product"), "fee": ("Biaya/tarif", "Fee"), "req": ("Persyaratan", "Requirement"),
    "ag-name": ("Nama instansi", "Agency name"), "role-name": ("Nama peran", "Role name"),
    "doc_title": ("Judul dokumen", "Document title"), "fact": ("Label data", "Fact label"),
}
LANGS: dict[str, Message] = {"id": ("bahasa Indonesia", "Indonesian"), "en": ("bahasa Inggris", "English")}
MAX_TEXT = 4000
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
    _check_agencies(errors, std.agencies)
    if std.document is not None:
        _check_document(errors, std.document, set(templates))
    return errors


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


# ---------------------------------------------------------------- writing back


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _toml(value: Any) -> str:
    """Write a value as TOML the way the catalogue does: `{ id = "...", en = "..." }`."""
    if isinstance(value, dict):
        inner = ", ".join(f"{tomlkit.key(k).as_string()} = {_toml(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    return str(tomlkit.item(value).as_string())


def _item(value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        rows = "".join(f"  {_toml(v)},\n" for v in value)
        return tomlkit.parse(f"v = [\n{rows}]\n")["v"]
    if isinstance(value, dict):
        return tomlkit.parse(f"v = {_toml(value)}\n")["v"]
    return tomlkit.item(value)


ORDER = {"": tuple(k for k in cv.SERVICE_KEYS if k not in ("agencies", "document")),
         "agencies": ("code", "kind", "parent", "name", "roles"),
         "document": ("title", "end_events", "template", "number_field", "holder_field", "facts")}


def _set(container: Any, key: str, value: Any, order: str = "") -> None:
    """Set a key only when its value changes (None removes it), keeping its place and comment.

    A key the file did not have goes to its usual place (ORDER), not after the table's comments.
    """
    if value is None:
        if key in container:
            del container[key]
        return
    if key in container:
        if _plain(container[key]) != value:
            container[key] = _item(value)
        return
    keys = ORDER[order]
    later = [k for k in keys[keys.index(key) + 1:] if k in container] if key in keys else []
    tail = _trailing(container, comments=True) if isinstance(container, Table) else []
    moved = [(k, container[k]) for k in later]
    for k in later:
        del container[k]
    container[key] = _item(value)
    for k, item in moved:
        container[k] = item
    for item in tail:
        container.add(item)


def _set_text(container: Any, key: str, text: Text, *, required: bool = True, order: str = "") -> None:
    if text.empty() and not required:
        _set(container, key, None, order)
        return
    current = container.get(key)
    if isinstance(current, InlineTable | Table):
        for lang in ("id", "en"):
            if current.get(lang) != getattr(text, lang):
                current[lang] = getattr(text, lang)
    else:
        _set(container, key, text.plain(), order)


def _merged(originals: Any, rows: list[tuple[int | None, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Overlay each row's values on the file's entry it came from, keeping keys the form does not know."""
    source = _dicts(_plain(originals))
    out = []
    for origin, values in rows:
        merged = dict(source[origin]) if origin is not None and origin < len(source) else {}
        for name, value in values.items():
            if isinstance(value, dict) and isinstance(merged.get(name), dict):
                value = {**merged[name], **value}
            merged[name] = value
        out.append(merged)
    return out


def write(raw: bytes, std: Standard) -> bytes:
    """Write the form's (validated) values into service.toml; what the form did not change stays byte for byte."""
    if not (std.sla_days.isascii() and std.sla_days.isdecimal()):
        raise InvalidInput("sla_days must be a whole number", message_id="sla_days harus bilangan bulat")
    parse(raw)
    doc = tomlkit.parse(raw.decode("utf-8"))
    _set_text(doc, "name", std.name)
    _set_text(doc, "description", std.description, required=False)
    _set_text(doc, "product", std.product)
    _set(doc, "sla_days", int(std.sla_days))
    _set_text(doc, "fee", std.fee, required=False)
    _set(doc, "channels", list(std.channels))
    _set(doc, "start_form", std.start_form or None)
    _set(doc, "requirements", _merged(doc.get("requirements"), [(r.origin, r.text.plain()) for r in std.requirements]))
    _write_agencies(doc, std.agencies)
    _write_document(doc, std.document)
    return tomlkit.dumps(doc).encode("utf-8")


def _fill_agency(table: Any, agency: AgencyDecl) -> None:
    _set(table, "code", agency.code, "agencies")
    _set(table, "kind", agency.kind, "agencies")
    _set(table, "parent", agency.parent or None, "agencies")
    _set_text(table, "name", agency.name, order="agencies")
    roles = _merged(table.get("roles"), [(r.origin, {"key": r.key, "name": r.name.plain()}) for r in agency.roles])
    _set(table, "roles", roles if roles or (table.get("roles") is not None and not agency.parent) else None,
         "agencies")


def _trailing(table: Any, *, comments: bool) -> list[Any]:
    """Take the blank lines (and comments) that end a table: in tomlkit they belong to it, not to what follows."""
    body, taken = table.value.body, list[Any]()
    kinds = (Whitespace, Comment) if comments else (Whitespace,)
    while body and body[-1][0] is None and isinstance(body[-1][1], kinds):
        taken.insert(0, body.pop()[1])
    return taken


def _write_agencies(doc: Any, agencies: list[AgencyDecl]) -> None:
    current = doc.get("agencies")
    originals = list(current) if isinstance(current, AoT) else []
    final, used = [], set()
    for agency in agencies:
        origin = agency.origin
        if origin is not None and origin < len(originals) and origin not in used:
            used.add(origin)
            table = originals[origin]
        else:
            table = tomlkit.table()
        _fill_agency(table, agency)
        final.append(table)
    if isinstance(current, AoT) and [id(t) for t in final] == [id(t) for t in originals]:
        return
    if not final:
        _set(doc, "agencies", None)
        return
    # Rows were added, removed or moved: rebuild the array, with the section's trailing comments at its end.
    tail = _trailing(originals[-1], comments=True) if originals else []
    for table in final:
        _trailing(table, comments=False)
    for table in final[:-1]:
        table.add(tomlkit.nl())
    for item in tail or ([tomlkit.nl()] if "document" in doc else []):
        final[-1].add(item)
    if isinstance(current, AoT):
        while len(current):
            del current[0]
        for table in final:
            current.append(table)
        return
    _set(doc, "agencies", None)
    aot = tomlkit.aot()
    for table in final:
        aot.append(table)
    if "document" in doc:
        _insert_before(doc, "document", "agencies", aot)
    else:
        doc.append("agencies", aot)


def _insert_before(doc: Any, before: str, key: str, value: Any) -> None:
    """Put a table before another one (tomlkit appends at the end otherwise)."""
    moved = doc[before]
    del doc[before]
    doc.append(key, value)
    doc.append(before, moved)


def _write_document(doc: Any, form: DocumentForm | None) -> None:
    current = doc.get("document")
    if form is None:
        _set(doc, "document", None)
        return
    table = current if isinstance(current, Table) else tomlkit.table()
    _set_text(table, "title", form.title, order="document")
    for name in ("end_events", "template", "number_field", "holder_field"):
        value = getattr(form, name)
        _set(table, name, (list(value) if isinstance(value, list) else value) or None, "document")
    facts = _merged(table.get("facts"), [(f.origin, {"field": f.field, **f.label.plain()}) for f in form.facts])
    _set(table, "facts", facts, "document")
    if table is not current:
        _set(doc, "document", None)
        doc.append("document", table)


# ---------------------------------------------------------------- lint problems on their fields

_TOP: list[tuple[re.Pattern[str], Callable[[re.Match[str], Standard], str | None]]] = [
    (re.compile(r"^key must|given as key|^the draft is for"), lambda m, std: "key"),
    (re.compile(r"^agency must|^the publishing agency"), lambda m, std: "agency"),
    (re.compile(r"^(name|product|description|fee)\.(id|en) is missing"), lambda m, std: f"{m[1]}_{m[2]}"),
    (re.compile(r"^(name|product|description|fee) must be a table"), lambda m, std: f"{m[1]}_id"),
    (re.compile(r"^sla_days"), lambda m, std: "sla_days"),
    (re.compile(r"^channels|^unknown channel"), lambda m, std: "channels"),
    (re.compile(r"^start_form"), lambda m, std: "start_form"),
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
    for pattern, where in _TOP:
        if match := pattern.match(message):
            return where(match, std)
    return None


# ---------------------------------------------------------------- what the draft offers the form


def form_choices(files: Mapping[str, bytes]) -> list[str]:
    """Return the draft's form schemas (what start_form may name)."""
    return sorted(n for n in files if n.startswith("forms/") and n.endswith(".schema.json"))


def data_fields(files: Mapping[str, bytes]) -> list[str]:
    """Return every field the draft's forms define (suggestions for the document's data fields)."""
    names: set[str] = set()
    for name in form_choices(files):
        schema = _json(files[name])
        names.update(k for k in (schema.get("properties") or {}) if isinstance(k, str))
    return sorted(names)


def end_events(files: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """Return (id, name) of every end event in the draft's diagrams."""
    from engine.bpmn.xmlsafe import parse_xml
    from engine.errors import UnsafeXml

    found: list[tuple[str, str]] = []
    for name in sorted(n for n in files if n.endswith(".bpmn")):
        try:
            root = parse_xml(files[name], filename=name)
        except UnsafeXml:
            continue
        found += [(str(e.get("id")), str(e.get("name") or "")) for e in root.iter(f"{{{cv.BPMN_NS}}}endEvent")]
    return found


def _json(raw: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------- sample case data

_DIGITS = re.compile(r"^\^?\[0-9\]\{(\d{1,3})\}\$?$|^\^?\\d\{(\d{1,3})\}\$?$")


def sample_value(name: str, prop: dict[str, Any], depth: int = 0) -> Any:
    """Return a plausible value for one form field, from its JSON Schema."""
    for key in ("const", "default"):
        if key in prop:
            return prop[key]
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = prop.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        return max(int(low) + (1 if "exclusiveMinimum" in prop else 0), 1) if isinstance(low, int | float) else 1
    if kind == "boolean":
        return True
    if kind == "object" and depth < 3:
        return {k: sample_value(k, v, depth + 1) for k, v in (prop.get("properties") or {}).items()
                if isinstance(v, dict)}
    if kind == "array":
        items = prop.get("items")
        count = prop.get("minItems", 1) if isinstance(prop.get("minItems", 1), int) else 1
        return [sample_value(name, items, depth + 1)] * min(max(count, 1), 3) if isinstance(items, dict) and \
            depth < 3 else []
    return _sample_text(name, prop)


def _sample_text(name: str, prop: dict[str, Any]) -> str:
    formats = {"date": "2026-01-05", "date-time": "2026-01-05T09:00:00+07:00", "email": "pemohon@contoh.id",
               "time": "09:00:00", "uri": "https://contoh.id"}
    if prop.get("format") in formats:
        return formats[prop["format"]]
    digits = _DIGITS.match(str(prop.get("pattern", "")))
    if digits:
        return ("3471" + "0123456789" * 30)[:int(digits[1] or digits[2])]
    text = f"Contoh {prop.get('title') or name}"
    low, high = prop.get("minLength", 0), prop.get("maxLength", 200)
    text = text.ljust(low if isinstance(low, int) and low < 1000 else 0, "x")
    return text[:high] if isinstance(high, int) and high > 0 else text


def sample_data(files: Mapping[str, bytes]) -> dict[str, Any]:
    """Return sample case data: the start form's fields, and the fields the document prints."""
    try:
        service = parse(files.get(SERVICE, b""))
    except StandardUnreadable:
        service = {}
    start = service.get("start_form")
    schema = _json(files[start]) if isinstance(start, str) and start in files else {}
    data = {k: sample_value(k, v) for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict)}
    document = _read_document(service["document"]) if isinstance(service.get("document"), dict) else None
    if document is not None:
        for name, value in [(document.holder_field, "Nama Pemegang"), (document.number_field, "CONTOH/0001"),
                            *((f.field, f"Contoh {f.label.id or f.field}") for f in document.facts)]:
            if name and cv.is_identifier(name):
                data.setdefault(name, value)
    return data


# ---------------------------------------------------------------- template previews

EVENT_LABELS: dict[str, Message] = {
    "received": ("Permohonan diterima", "Application received"),
    "sent_back": ("Berkas dikembalikan untuk diperbaiki", "Sent back for fixes"),
    "payment_due": ("Tagihan pembayaran", "Payment due"), "overdue": ("Lewat batas waktu", "Overdue"),
    "result_ready": ("Hasil siap diambil", "Result ready"),
}
NOTIFICATION = re.compile(r"^notifications/(id|en)/([a-z_]+)\.txt$")
DOCUMENT = re.compile(r"^documents/[A-Za-z0-9_.-]+\.html$")


class TemplateInvalid(InvalidInput):
    """A template failed to compile or render with the sample data; says where when it can."""

    def __init__(self, message: str, *, message_id: str, line: int | None = None, file: str | None = None) -> None:
        super().__init__(message, message_id=message_id)
        self.line, self.file = line, file


@dataclass(frozen=True)
class Preview:
    """A template rendered with sample data: a document's HTML (and PDF), or a notification's subject and body."""

    kind: str
    html: str = ""
    pdf: bytes = b""
    subject: str = ""
    body: str = ""
    agency: str = ""
    service: str = ""


def template_kind(name: str) -> str | None:
    """Tell what a package path holds: "document", "notification", or None for neither."""
    match = NOTIFICATION.match(name)
    if match:
        return "notification" if match[2] in EVENT_LABELS else None
    return "document" if DOCUMENT.match(name) else None


def _template_line(exc: BaseException | None) -> int | None:
    """Return the template line a Jinja2 error happened on (Jinja2 puts template lines in the traceback)."""
    if exc is None:
        return None
    line = getattr(exc, "lineno", None)
    frames = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1] if frames else line if isinstance(line, int) else None


def render_document_html(item: Any, files: dict[str, bytes]) -> tuple[str, str, str | None, int | None]:
    """Render a document template to HTML (in the render child); ("ok", html, ...) or ("error", message, file, line)."""
    from engine.documents import pdf

    try:
        return "ok", pdf.render_html(item, files), None, None
    except pdf.TemplateFailed as exc:
        match = re.match(r"^line (\d+): (.*)$", exc.message, re.S)
        if match:
            return "error", match[2], exc.file, int(match[1])
        return "error", exc.message, exc.file, _template_line(exc.__cause__)


def render_notification_text(source: str, values: dict[str, Any]) -> tuple[str, str, int | None]:
    """Render a notification template (in an isolation worker); ("ok", text, None) or ("error", message, line)."""
    from engine.notify import templates

    try:
        return "ok", templates._render_here(source, values), None  # the engine's own sandboxed environment
    except templates.TemplateProblem as exc:
        return "error", exc.message, exc.line or _template_line(exc.__context__)


def _failed(message: str, line: int | None, file: str | None = None) -> TemplateInvalid:
    where_id = f" (baris {line})" if line else ""
    where_en = f" (line {line})" if line else ""
    return TemplateInvalid(f"The template cannot be shown{where_en}: {message}",
                           message_id=f"Templat tidak dapat ditampilkan{where_id}: {message}", line=line, file=file)


def preview_template(files: Mapping[str, bytes], *, name: str, source: str, data: dict[str, Any],
                     lang: str = "id") -> Preview:
    """Render a draft's template with sample case data in the sandbox, as the engine would."""
    try:
        service = parse(files.get(SERVICE, b""))
    except StandardUnreadable:
        service = {}
    kind = template_kind(name)
    if kind == "document":
        return _document_preview(service, files, name=name, source=source, data=data)
    if kind == "notification":
        return _notification_preview(service, name=name, source=source, data=data)
    raise InvalidInput(f"'{name}' is not a template: use documents/<name>.html or notifications/<id|en>/<event>.txt",
                       message_id=f"'{name}' bukan templat: pakai documents/<nama>.html atau "
                                  "notifications/<id|en>/<peristiwa>.txt")


def _names(value: Any, fallback: str) -> tuple[str, str]:
    text = _text(value)
    return text.id or text.en or fallback, text.en or text.id or fallback


def _document_preview(service: dict[str, Any], files: Mapping[str, bytes], *, name: str, source: str,
                      data: dict[str, Any]) -> Preview:
    from datetime import UTC, datetime

    from engine.documents import isolate, pdf

    code = _str(service.get("agency"))
    declared = next((a for a in _dicts(service.get("agencies")) if a.get("code") == code), {})
    agency_id, agency_en = _names(declared.get("name"), code)
    service_id, service_en = _names(service.get("name"), _str(service.get("key")))
    spec = _read_document(service["document"]) if isinstance(service.get("document"), dict) else DocumentForm(
        Text(service_id, service_en))

    def shown(field_name: str, fallback: str) -> str:
        value = data.get(field_name) if field_name else None
        return fallback if value is None or value == "" else str(value)

    item = pdf.RenderInput(
        title_id=spec.title.id or service_id, title_en=spec.title.en or service_en,
        number=shown(spec.number_field, "CONTOH/0001"), holder=shown(spec.holder_field, "Nama Pemegang"),
        agency_id=agency_id, agency_en=agency_en, service_id=service_id, service_en=service_en,
        issued_at=datetime(2026, 1, 5, 3, tzinfo=UTC), verify_url="https://mpp.example/verifikasi/CONTOH",
        code="CONTOH", key_id="0000000000000000", template=name,
        facts=[(f.label.id, f.label.en, shown(f.field, "")) for f in spec.facts], data=data)
    html_files = {n: raw for n, raw in files.items() if n.endswith(".html")}
    html_files[name] = source.encode("utf-8")
    limits = isolate.ChildLimits(timeout_s=pdf.RENDER_TIMEOUT_S, memory_mb=pdf.RENDER_MEMORY_MB)
    try:
        status, text, file, line = isolate.run(render_document_html, item, html_files, limits=limits)
        if status != "ok":
            raise _failed(text, line, file)
        document = pdf.render_document(item, html_files)  # the layout too: what fpdf2 cannot print fails here
    except isolate.IsolationLimit as exc:
        raise _failed(f"rendering {exc.message}", None) from exc
    except pdf.TemplateFailed as exc:
        raise _failed(exc.message, None, exc.file) from exc
    return Preview("document", html=text, pdf=document, agency=agency_id, service=service_id)


def _notification_preview(service: dict[str, Any], *, name: str, source: str, data: dict[str, Any]) -> Preview:
    from engine import isolation
    from engine.notify import templates

    match = NOTIFICATION.match(name)
    lang, event = (match[1], match[2]) if match else ("id", "received")
    service_id, service_en = _names(service.get("name"), _str(service.get("key")))
    task = None if event in ("received", "result_ready") else {
        "name": "Pemeriksaan berkas" if lang == "id" else "Document check",
        "due": templates.format_due("2026-01-07T09:00:00+00:00", lang)}
    values = {"lang": lang, "event": event, "tracking_number": "MPP-2026-000123",
              "service": service_id if lang == "id" else service_en,
              "stage": "Pemeriksaan berkas" if lang == "id" else "Document check", "status": "running",
              "outcome": "Selesai" if lang == "id" else "Completed", "portal_url": "https://mpp.example",
              "task": task, "data": data}
    try:
        status, text, line = isolation.run(render_notification_text, source, values, limits=templates.TEMPLATE_LIMITS)
    except isolation.IsolationLimit as exc:
        raise _failed(f"rendering {exc.message}", None) from exc
    if status != "ok":
        raise _failed(text, line)
    subject, body = templates.split(text)
    if not subject:
        raise _failed("the first line, the e-mail's subject, is empty", 1)
    return Preview("notification", subject=subject, body=body, service=service_id if lang == "id" else service_en)


def starter(name: str) -> str:
    """Return the first text of a new template: the platform's own notification, or a layout to adapt."""
    match = NOTIFICATION.match(name)
    if match:
        from engine.notify.templates import TEMPLATES

        path = TEMPLATES / match[1] / f"{match[2]}.txt"
        return path.read_text("utf-8") if path.is_file() else ""
    return STARTER_DOCUMENT


STARTER_DOCUMENT = """{#- The platform's layout with this service's own text. Blocks: heading, opening, body, closing,
    signature. Context: doc (title, number, holder, agency, service, issued_date, ...), facts, data. -#}
{% extends "mpp/document.html" %}
{% block opening %}
<p>Berdasarkan permohonan yang telah memenuhi persyaratan, {{ doc.agency }} menerbitkan {{ doc.title }} kepada:</p>
<br>
{% endblock %}
"""

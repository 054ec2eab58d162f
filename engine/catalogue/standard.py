"""The service standard (service.toml) as a form: its model, read from the file and from the posted form.

Rows of a list (requirements, agencies, roles, facts) remember which entry of the file they came
from (`origin`), so keys the form does not show survive a removed or added row when
`standard_write` writes the values back. The checks live in `standard_checks`; sample case data
and template previews in `previews`.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.bpmn import conventions as cv
from engine.catalogue.standard_components import COMPONENTS, SIGNATORY
from engine.errors import InvalidInput

SERVICE = "service.toml"
Message = tuple[str, str]
"""A message in Bahasa Indonesia and in English, in that order."""

KIND_LABELS = {"city_office": ("Perangkat daerah kota", "City office"),
               "provincial_office": ("Perangkat daerah provinsi", "Provincial office"),
               "vertical": ("Instansi vertikal", "Central-government agency"),
               "state_company": ("BUMN/BUMD", "State-owned company"), "private": ("Swasta", "Private")}
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
class OutreachForm:
    """The `outreach` table: jemput bola, what the visit is and which groups of applicants it is for."""

    text: Text = field(default_factory=Text)
    groups: list[str] = field(default_factory=list)


@dataclass
class RetentionForm:
    """The `[retention]` table: keep closed cases `years`, then `action` them, on the legal `basis`."""

    years: str = ""
    action: str = "anonymise"
    basis: Text = field(default_factory=Text)


@dataclass
class Components:
    """The `[standard]` table: one text per component, a list of texts for the list components.

    In the form a list is two textareas, one item per line; items pair up by line.
    """

    texts: dict[str, Text] = field(default_factory=dict)
    lists: dict[str, list[Text]] = field(default_factory=dict)
    response_days: str = ""
    signatory: Text = field(default_factory=Text)


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
    outreach: OutreachForm | None = None
    retention: RetentionForm | None = None
    components: Components = field(default_factory=Components)
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


def as_str(value: Any) -> str:
    """Return a TOML value as form text (a table or list reads as empty)."""
    return value if isinstance(value, str) else "" if value is None or isinstance(value, dict | list) else str(value)


def as_text(value: Any) -> Text:
    """Return a bilingual `{ id, en }` value as a Text (a plain string fills the Indonesian)."""
    return Text(as_str(value.get("id")), as_str(value.get("en"))) if isinstance(value, dict) else Text(as_str(value))


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """Return the tables of a TOML array (an item of another type reads as an empty table)."""
    return [item if isinstance(item, dict) else {} for item in value] if isinstance(value, list) else []


def read(raw: bytes) -> Standard:
    """Read service.toml into the form's model (values of a wrong type read as empty)."""
    data = parse(raw)
    document = data.get("document")
    return Standard(
        key=as_str(data.get("key")), agency=as_str(data.get("agency")), name=as_text(data.get("name")),
        description=as_text(data.get("description")), product=as_text(data.get("product")),
        fee=as_text(data.get("fee")),
        sla_days=as_str(data.get("sla_days")),
        channels=[c for c in data.get("channels", []) if isinstance(c, str)] if isinstance(data.get("channels"),
                                                                                           list) else [],
        start_form=as_str(data.get("start_form")),
        requirements=[Requirement(as_text(item), i) for i, item in enumerate(as_dicts(data.get("requirements")))],
        agencies=[_read_agency(item, i) for i, item in enumerate(as_dicts(data.get("agencies")))],
        document=read_document(document) if isinstance(document, dict) else None,
        outreach=read_outreach(data.get("outreach")),
        retention=read_retention(data.get("retention")),
        components=read_components(data.get("standard")),
        other_keys=cv.unknown_service_keys(data))


def read_components(table: Any) -> Components:
    """Read the `[standard]` table into the form's model (a missing component reads as empty)."""
    table = table if isinstance(table, dict) else {}
    out = Components(signatory=as_text(table.get(SIGNATORY)))
    for component in COMPONENTS:
        value = table.get(component.key)
        if component.kind == "list":
            out.lists[component.key] = [as_text(item) for item in value] if isinstance(value, list) else []
        else:
            out.texts[component.key] = as_text(value)
    complaints = table.get("complaints")
    out.response_days = as_str(complaints.get("response_days")) if isinstance(complaints, dict) else ""
    return out


def components_from_form(values: Mapping[str, str]) -> Components:
    """Build the `[standard]` model from the posted `c_<key>_id` / `c_<key>_en` fields."""
    out = Components(response_days=values.get("c_complaints_days", "").strip(),
                     signatory=Text(values.get("c_signatory_id", "").strip(), values.get("c_signatory_en", "").strip()))
    for component in COMPONENTS:
        ids, ens = (values.get(f"c_{component.key}_{lang}", "") for lang in ("id", "en"))
        if component.kind == "list":
            id_lines = [line.strip() for line in ids.split("\n") if line.strip()][:MAX_ROWS]
            en_lines = [line.strip() for line in ens.split("\n") if line.strip()][:MAX_ROWS]
            out.lists[component.key] = [Text(*pair) for pair in
                                        itertools.zip_longest(id_lines, en_lines, fillvalue="")]
        else:
            out.texts[component.key] = Text(ids.strip(), ens.strip())
    return out


def read_outreach(value: Any) -> OutreachForm | None:
    """Read the `outreach` table into the form's model; None when the service offers no jemput bola."""
    if not isinstance(value, dict):
        return None
    groups = value.get("for")
    return OutreachForm(as_text(value), [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else [])


def read_retention(value: Any) -> RetentionForm | None:
    """Read the `[retention]` table into the form's model; None when the service declares none."""
    if not isinstance(value, dict):
        return None
    return RetentionForm(as_str(value.get("years")), as_str(value.get("action")) or "anonymise",
                         as_text(value.get("basis")))


def _read_agency(item: dict[str, Any], origin: int) -> AgencyDecl:
    roles = [Role(as_str(r.get("key")), as_text(r.get("name")), j) for j, r in enumerate(as_dicts(item.get("roles")))]
    return AgencyDecl(as_str(item.get("code")), as_str(item.get("kind")), as_str(item.get("parent")),
                      as_text(item.get("name")), roles, origin)


def read_document(table: dict[str, Any]) -> DocumentForm:
    """Read the `[document]` table into the form's model."""
    ends = table.get("end_events")
    facts = [Fact(as_str(f.get("field")), Text(as_str(f.get("id")), as_str(f.get("en"))), k)
             for k, f in enumerate(as_dicts(table.get("facts")))]
    return DocumentForm(as_text(table.get("title")), [e for e in ends if isinstance(e, str)] if isinstance(ends, list)
                        else [], as_str(table.get("template")), as_str(table.get("number_field")),
                        as_str(table.get("holder_field")), facts)


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
    std.components = components_from_form(values)
    if values.get("outreach_on"):
        std.outreach = OutreachForm(text("outreach"), [g for g in multi.get("outreach_for", []) if g])
    if values.get("retention_on"):
        std.retention = RetentionForm(values.get("retention_years", "").strip(),
                                      values.get("retention_action", "anonymise"), text("retention_basis"))
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


# ---------------------------------------------------------------- what the draft offers the form


def form_choices(files: Mapping[str, bytes]) -> list[str]:
    """Return the draft's form schemas (what start_form may name)."""
    return sorted(n for n in files if n.startswith("forms/") and n.endswith(".schema.json"))


def data_fields(files: Mapping[str, bytes]) -> list[str]:
    """Return every field the draft's forms define (suggestions for the document's data fields)."""
    names: set[str] = set()
    for name in form_choices(files):
        schema = json_object(files[name])
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


def json_object(raw: bytes) -> dict[str, Any]:
    """Return a file's JSON object, or an empty one when it is not a JSON object."""
    import json

    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

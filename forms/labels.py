"""Labels for stored values: what a person reads instead of a code, from the forms' own schemas.

A package already names its fields and choices for the form pages (`title`, `ui:title_en`, an enum's
`ui:enumNames` / `ui:enumNames_en`, or `oneOf` items with `const` and `title`). The same texts
label the stored values wherever a case is shown: staff and applicant pages, the public tracking
page, issued documents and their verification page. Conventions (docs/bpmn-conventions.md):

- money: a number field whose title ends in "(Rp)" or that carries `"x-mpp-money": true`, and a
  field no form declares whose name starts with `retribusi`, `biaya` or `tarif` (set by a script
  or a decision), prints as Rupiah (Rp1.800.000);
- dates (`"format": "date"`, or ISO date text in such a field) print as 16 Maret 2026 / 16 March 2026;
- the case's `channel` prints as the channel's name even where no form lists it;
- `"x-mpp-role": "send_back_reason"` / `"refusal_reason"` marks the field that tells the applicant
  why the case came back to them or was refused (`reason_fields`);
- `"x-mpp-personal": "personal"` / `"sensitive"` classifies a field as personal data (UU 27/2022).
  Personal (a name, an address, a phone number, an e-mail, a birth date) is masked where it is not
  needed (forms.personal); sensitive (NIK and KK numbers, health, religion, biometrics, criminal
  records, finances, children's data) is also encrypted at rest, with a lookup hash where the
  counter searches by it (NIK). `false` says a field that looks personal identifies no one (a
  factory's address); lint (engine/lint/personal.py) refuses other values and warns on
  personal-looking fields left unmarked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
CHANNEL_NAMES = {"tatap_muka": ("Tatap muka", "Face-to-face"),
                 "drive_thru": ("Layanan Tanpa Turun (drive-thru)", "Drive-thru"),
                 "terpadu": ("Layanan terpadu", "Integrated one-stop"),
                 "daring": ("Daring (tanpa tatap muka)", "Contactless (online)")}
MONEY_PREFIXES = ("retribusi", "biaya", "tarif")
REASON_ROLES = ("send_back_reason", "refusal_reason")
ROLE_KEY = "x-mpp-role"
PERSONAL_KEY = "x-mpp-personal"
PERSONAL_LEVELS = ("personal", "sensitive")
MAX_REF_HOPS = 8
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FieldLabel:
    """What the forms say about one field: its title and the names of its choices, in both languages."""

    title_id: str
    title_en: str
    options: dict[str, tuple[str, str]] = field(default_factory=dict)
    money: bool = False
    is_date: bool = False
    role: str | None = None
    # "personal" or "sensitive" (`x-mpp-personal`), None for data that identifies no one.
    personal: str | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """Follow a `$ref` inside the form (`#/$defs/...`), keeping the keywords beside it."""
    for _ in range(MAX_REF_HOPS):
        ref = prop.get("$ref")
        if not (isinstance(ref, str) and ref.startswith("#/")):
            break
        node: Any = schema
        for part in ref[2:].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            break
        prop = {**node, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _options(prop: dict[str, Any], ui: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Return value → (Indonesian, English) names from enum + ui:enumNames, or from oneOf/anyOf const + title."""
    items = _dict(prop.get("items"))
    out: dict[str, tuple[str, str]] = {}
    for choice in _list(prop.get("oneOf")) + _list(prop.get("anyOf")) + _list(items.get("oneOf")):
        if isinstance(choice, dict) and "const" in choice and isinstance(choice.get("title"), str):
            title = choice["title"]
            out[str(choice["const"])] = (title, str(choice.get("x-title-en") or choice.get("title_en") or title))
    values = _list(prop.get("enum")) or _list(items.get("enum"))
    names_id, names_en = _list(ui.get("ui:enumNames")), _list(ui.get("ui:enumNames_en"))
    for index, value in enumerate(values):
        if index < len(names_id) and isinstance(names_id[index], str):
            text_en = names_en[index] if index < len(names_en) and isinstance(names_en[index], str) else names_id[index]
            out.setdefault(str(value), (names_id[index], text_en))
    return out


def field_label(schema: dict[str, Any], name: str, prop: dict[str, Any], ui: dict[str, Any]) -> FieldLabel:
    """Return what one form property says about its field."""
    prop = _resolve(schema, prop)
    title = str(prop["title"]) if isinstance(prop.get("title"), str) else name.replace("_", " ")
    title_en = str(ui["ui:title_en"]) if isinstance(ui.get("ui:title_en"), str) else title
    number = prop.get("type") in ("number", "integer")
    money = number and (prop.get("x-mpp-money") is True or title.rstrip().endswith("(Rp)"))
    role = prop.get(ROLE_KEY) if prop.get(ROLE_KEY) in REASON_ROLES else None
    personal = prop.get(PERSONAL_KEY) if prop.get(PERSONAL_KEY) in PERSONAL_LEVELS else None
    return FieldLabel(title, title_en, _options(prop, ui), money, prop.get("format") == "date", role, personal)


def long_date(value: date, lang: str) -> str:
    """Write a date the way people read it: 16 Maret 2026 (or 16 March 2026)."""
    months = MONTHS_EN if lang == "en" else MONTHS_ID
    return f"{value.day} {months[value.month - 1]} {value.year}"


def rupiah(value: Any) -> str:
    """Write an amount as Rupiah with dots between thousands: Rp1.807.500."""
    try:
        amount = round(float(value))
    except (TypeError, ValueError, OverflowError):
        return str(value)
    return "Rp" + f"{amount:,}".replace(",", ".")


def _stricter(first: str | None, second: str | None) -> str | None:
    """Return the stricter of two classifications: two forms that disagree keep the stronger mark."""
    if "sensitive" in (first, second):
        return "sensitive"
    return first or second


class Labels:
    """The labels of every field of a package's forms, merged (the first form that names a field wins)."""

    def __init__(self, fields: Mapping[str, FieldLabel] | None = None,
                 organisations: Mapping[str, Mapping[str, tuple[str, str]]] | None = None) -> None:
        self.fields = dict(fields or {})
        self.organisations = {k: dict(v) for k, v in (organisations or {}).items()}

    @classmethod
    def from_forms(cls, forms: Iterable[tuple[Any, Any]],
                   organisations: Mapping[str, Mapping[str, tuple[str, str]]] | None = None) -> Labels:
        """Build from (schema, UI schema) pairs; `organisations` names the codes a field may hold."""
        fields: dict[str, FieldLabel] = {}
        for schema, ui in forms:
            for name, prop in _dict(_dict(schema).get("properties")).items():
                if not isinstance(prop, dict):
                    continue
                found = field_label(_dict(schema), name, prop, _dict(_dict(ui).get(name)))
                known = fields.get(name)
                if known is None:
                    fields[name] = found
                else:  # a later form may add choices, a reason or a personal mark the first one lacked
                    fields[name] = FieldLabel(known.title_id, known.title_en, {**found.options, **known.options},
                                              known.money or found.money, known.is_date or found.is_date,
                                              known.role or found.role, _stricter(known.personal, found.personal))
        return cls(fields, organisations)

    def personal_fields(self) -> dict[str, str]:
        """Return field name → "personal" / "sensitive" for every classified field of the forms."""
        return {name: found.personal for name, found in self.fields.items() if found.personal is not None}

    def title(self, name: str, lang: str) -> str:
        """Return a field's title in the language (its key with spaces when no form names it)."""
        found = self.fields.get(name)
        if found is None:
            return name.replace("_", " ")
        return found.title_en if lang == "en" else found.title_id

    def value(self, name: str, value: Any, lang: str) -> str:
        """Return a stored value as a person reads it: a choice's name, Rupiah, a date, yes/no."""
        found = self.fields.get(name)
        if value is None:
            return ""
        if isinstance(value, bool):
            return ("Yes" if value else "No") if lang == "en" else ("Ya" if value else "Tidak")
        if isinstance(value, list):
            return ", ".join(self.value(name, item, lang) for item in value)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        pair = self._named(name, found, value)
        if pair is not None:
            return pair[1] if lang == "en" else pair[0]
        money = found.money if found is not None else name.startswith(MONEY_PREFIXES)
        if money and isinstance(value, int | float):
            return rupiah(value)
        return self._date(found, value, lang)

    def _named(self, name: str, found: FieldLabel | None, value: Any) -> tuple[str, str] | None:
        key = str(value)
        if found is not None and key in found.options:
            return found.options[key]
        if name in self.organisations and key in self.organisations[name]:
            return self.organisations[name][key]
        if name == "channel" and key in CHANNEL_NAMES:
            return CHANNEL_NAMES[key]
        return None

    @staticmethod
    def _date(found: FieldLabel | None, value: Any, lang: str) -> str:
        if isinstance(value, datetime):
            return long_date(value.date(), lang)
        if isinstance(value, date):
            return long_date(value, lang)
        if found is not None and found.is_date and isinstance(value, str) and ISO_DATE.match(value):
            try:
                return long_date(date.fromisoformat(value), lang)
            except ValueError:
                return value
        return str(value)

    def both(self, name: str, value: Any) -> tuple[str, str]:
        """Return the value's label in Indonesian and English."""
        return self.value(name, value, "id"), self.value(name, value, "en")

    def rows(self, data: Mapping[str, Any], lang: str) -> list[tuple[str, str, Any]]:
        """Return (key, title, label) for each case-data field, in the data's order."""
        return [(key, self.title(key, lang), self.value(key, value, lang)) for key, value in data.items()]

    def reason_fields(self) -> dict[str, str]:
        """Return the fields marked as a send-back or refusal reason, with their role."""
        return {name: f.role for name, f in self.fields.items() if f.role is not None}

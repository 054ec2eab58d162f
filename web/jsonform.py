"""HTML forms from a JSON Schema and its UI schema: fields to render, and posted data read back.

The server stays the judge: the browser gets plain inputs (with the schema's limits as hints),
and what comes back is coerced to the schema's types and validated by forms.validation, whose
field errors are shown beside the fields with what the user typed kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile

from web.templates import pick

FILE_HINT = re.compile(r"(dokumen|berkas|foto|lampiran|scan|unggah)", re.IGNORECASE)


@dataclass
class Field:
    """One input on the page, ready for the form macro."""

    name: str
    kind: str  # text, textarea, email, date, number, integer, checkbox, select, radio, multi, lines, files
    label: str
    help: str = ""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def input_id(self) -> str:
        return "f-" + re.sub(r"[^a-zA-Z0-9_-]", "-", self.name)


def _ui_of(ui: dict[str, Any] | None, name: str) -> dict[str, Any]:
    value = (ui or {}).get(name)
    return value if isinstance(value, dict) else {}


def _order(schema: dict[str, Any], ui: dict[str, Any] | None) -> list[str]:
    names = list((schema.get("properties") or {}).keys())
    wanted = [n for n in (ui or {}).get("ui:order", []) if n in names]
    return wanted + [n for n in names if n not in wanted]


def _kind(prop: dict[str, Any], ui: dict[str, Any], name: str) -> str:
    widget = ui.get("ui:widget")
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items") or {}
        if "enum" in items:
            return "multi"
        if widget in ("file", "files") or FILE_HINT.search(name):
            return "files"
        return "lines"
    if kind == "boolean":
        return "checkbox"
    if "enum" in prop:
        return "radio" if widget == "radio" else "select"
    if kind in ("integer", "number"):
        return str(kind)
    if widget == "file":
        return "files"
    if prop.get("format") == "date" or widget == "date":
        return "date"
    if prop.get("format") == "email" or widget == "email":
        return "email"
    if widget == "textarea" or (prop.get("maxLength") or 0) > 500:
        return "textarea"
    return "text"


def _options(prop: dict[str, Any], ui: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    values = prop.get("enum") or (prop.get("items") or {}).get("enum") or []
    names = ui.get("ui:enumNames_en" if lang == "en" else "ui:enumNames") or ui.get("ui:enumNames") or []
    return [(str(v), str(names[i]) if i < len(names) else str(v).replace("_", " ")) for i, v in enumerate(values)]


def _attrs(prop: dict[str, Any], kind: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if kind in ("integer", "number"):
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in prop:
                attrs[attr] = prop[key]
        attrs["step"] = "1" if kind == "integer" else "any"
    if kind in ("text", "textarea", "email") and "maxLength" in prop:
        attrs["maxlength"] = prop["maxLength"]
    return attrs


def build_fields(schema: dict[str, Any], ui: dict[str, Any] | None, *, lang: str, values: dict[str, Any],
                 errors: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> list[Field]:
    """Return the fields of a form, in the UI schema's order, with values and error messages."""
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields = []
    for name in _order(schema, ui):
        prop = props[name]
        if name in skip or not isinstance(prop, dict) or prop.get("readOnly"):
            continue
        u = _ui_of(ui, name)
        kind = _kind(prop, u, name)
        title = str(prop.get("title") or name.replace("_", " "))
        label = pick(lang, title, str(u.get("ui:title_en") or title))
        help_id = str(u.get("ui:help") or prop.get("description") or "")
        help_text = pick(lang, help_id, str(u.get("ui:help_en") or help_id))
        value = values.get(name, prop.get("default"))
        fields.append(Field(name, kind, label, help_text, name in required, _options(prop, u, lang), value,
                            (errors or {}).get(name, ""), _attrs(prop, kind)))
    return fields


def _coerce(prop: dict[str, Any], raw: str) -> Any:
    """Turn a posted string into the schema's type; leave it a string when it does not fit."""
    text = raw.strip()
    kind = prop.get("type")
    if kind == "integer":
        return int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else text
    if kind == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "," not in text else number
    return text


def read_form(schema: dict[str, Any], ui: dict[str, Any] | None, form: FormData, *,
              skip: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, list[UploadFile]]]:
    """Read posted fields into schema-typed data; return the data and the uploaded files per field.

    Empty optional inputs are left out (not sent as ""), so "not given" and "given empty" stay apart.
    """
    data: dict[str, Any] = {}
    uploads: dict[str, list[UploadFile]] = {}
    props: dict[str, Any] = schema.get("properties") or {}
    for name, prop in props.items():
        if name in skip or not isinstance(prop, dict) or prop.get("readOnly"):
            continue
        kind = _kind(prop, _ui_of(ui, name), name)
        if kind == "checkbox":
            data[name] = form.get(name) in ("on", "true", "1")
        elif kind == "multi":
            data[name] = [str(v) for v in form.getlist(name) if str(v)]
        elif kind == "lines":
            raw = str(form.get(name) or "")
            items = [line.strip() for line in raw.splitlines() if line.strip()]
            if items or name in (schema.get("required") or []):
                data[name] = [_coerce(prop.get("items") or {}, line) for line in items]
        elif kind == "files":
            kept = [str(v) for v in form.getlist(f"{name}__keep") if str(v)]
            files = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
            uploads[name] = files
            if kept or files or name in (schema.get("required") or []):
                data[name] = kept
        else:
            value = form.get(name)
            if isinstance(value, str) and value.strip():
                data[name] = _coerce(prop, value)
    return data, uploads


def errors_by_field(field_errors: list[Any], *, lang: str) -> dict[str, str]:
    """Group validation errors by top-level field, in the page language."""
    out: dict[str, str] = {}
    for error in field_errors:
        top = re.split(r"[./\[]", str(error.path), maxsplit=1)[0] or "(form)"
        message = pick(lang, error.message_id, error.message_en)
        out[top] = f"{out[top]} {message}" if top in out else message
    return out

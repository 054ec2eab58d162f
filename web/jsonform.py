"""HTML forms from a JSON Schema and its UI schema: fields to render, and posted data read back.

The server stays the judge: the browser gets plain inputs (with the schema's limits as hints),
and what comes back is coerced to the schema's types and validated by forms.validation, whose
field errors are shown beside the fields with what the user typed kept. Schemas and UI schemas come
from uploaded packages: a schema forms.validation would refuse is refused here too (a domain error
page, not a crash), and UI schema values of an unexpected kind are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import FormData, UploadFile

from forms.validation import check_usable
from web.templates import pick

FILE_HINT = re.compile(r"(dokumen|berkas|foto|lampiran|scan|unggah)", re.IGNORECASE)
MAX_REF_HOPS = 8  # a property that is a $ref to a $ref ...: the schema check refuses loops; this bounds the walk


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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int | float) else ""


def _ui_of(ui: dict[str, Any] | None, name: str) -> dict[str, Any]:
    return _dict(_dict(ui).get(name))


def _order(schema: dict[str, Any], ui: dict[str, Any] | None) -> list[str]:
    names = list(_dict(schema.get("properties")).keys())
    wanted = list(dict.fromkeys(n for n in _list(_dict(ui).get("ui:order")) if isinstance(n, str) and n in names))
    return wanted + [n for n in names if n not in wanted]


def _required(schema: dict[str, Any]) -> set[str]:
    return {name for name in _list(schema.get("required")) if isinstance(name, str)}


def _pointer(schema: dict[str, Any], pointer: str) -> Any:
    """Return the part of the schema a JSON pointer ("/$defs/nik") names, or None."""
    node: Any = schema
    for raw in pointer.split("/")[1:]:
        segment = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdecimal() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return None
    return node


def _property(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """Return a property as rendered: a `$ref` inside the form followed, with the keywords beside it kept."""
    for _ in range(MAX_REF_HOPS):
        ref = prop.get("$ref")
        target = _pointer(schema, ref[1:]) if isinstance(ref, str) and ref.startswith("#") else None
        if not isinstance(target, dict):
            break
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _kind(prop: dict[str, Any], ui: dict[str, Any], name: str) -> str:
    widget = ui.get("ui:widget")
    kind = prop.get("type")
    if kind == "array":
        items = _dict(prop.get("items"))
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
    max_length = prop.get("maxLength")
    if widget == "textarea" or (isinstance(max_length, int) and max_length > 500):
        return "textarea"
    return "text"


def _options(prop: dict[str, Any], ui: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    values = _list(prop.get("enum")) or _list(_dict(prop.get("items")).get("enum"))
    names = _list(ui.get("ui:enumNames_en" if lang == "en" else "ui:enumNames")) or _list(ui.get("ui:enumNames"))
    return [(str(v), _text(names[i]) if i < len(names) else str(v).replace("_", " ")) for i, v in enumerate(values)]


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
    """Return the fields of a form, in the UI schema's order, with values and error messages.

    Raises FormSchemaUnsafe (a FormInvalid) for a schema that validation would refuse to use.
    """
    check_usable(schema)
    props = _dict(schema.get("properties"))
    required = _required(schema)
    fields = []
    for name in _order(schema, ui):
        if name in skip or not isinstance(props[name], dict):
            continue
        prop = _property(schema, props[name])
        if prop.get("readOnly"):
            continue
        u = _ui_of(ui, name)
        kind = _kind(prop, u, name)
        title = _text(prop.get("title")) or name.replace("_", " ")
        label = pick(lang, title, _text(u.get("ui:title_en")) or title)
        help_id = _text(u.get("ui:help")) or _text(prop.get("description"))
        help_text = pick(lang, help_id, _text(u.get("ui:help_en")) or help_id)
        value = values.get(name, _default(prop, kind))
        fields.append(Field(name, kind, label, help_text, name in required, _options(prop, u, lang), value,
                            (errors or {}).get(name, ""), _attrs(prop, kind)))
    return fields


def _default(prop: dict[str, Any], kind: str) -> Any:
    """Return a field's default, or None when it does not fit the field (a list field takes a list of plain values)."""
    value = prop.get("default")
    if kind in ("multi", "lines", "files") and not (
            isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value)):
        return None
    return value


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
    Raises FormSchemaUnsafe (a FormInvalid) for a schema that validation would refuse to use.
    """
    check_usable(schema)
    data: dict[str, Any] = {}
    uploads: dict[str, list[UploadFile]] = {}
    required = _required(schema)
    for name, raw_prop in _dict(schema.get("properties")).items():
        if name in skip or not isinstance(raw_prop, dict):
            continue
        prop = _property(schema, raw_prop)
        if prop.get("readOnly"):
            continue
        kind = _kind(prop, _ui_of(ui, name), name)
        if kind == "checkbox":
            data[name] = form.get(name) in ("on", "true", "1")
        elif kind == "multi":
            data[name] = [str(v) for v in form.getlist(name) if str(v)]
        elif kind == "lines":
            raw = str(form.get(name) or "")
            items = [line.strip() for line in raw.splitlines() if line.strip()]
            if items or name in required:
                data[name] = [_coerce(_dict(prop.get("items")), line) for line in items]
        elif kind == "files":
            kept = [str(v) for v in form.getlist(f"{name}__keep") if str(v)]
            files = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
            uploads[name] = files
            if kept or files or name in required:
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

"""The integrated application's one form: fields shared by several services asked once, each service's own apart.

A field is shared when two or more of the chosen services' start forms have a field of that name
rendered the same way (same kind, same options); it keeps its plain name. A field of one service
only is named `<service key>__<field>`. A document requirement is one upload slot per code
(`doc__<code>`), shared when two services ask for the same code.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from engine.cases.requirements import DocumentSlot, document_slots
from engine.cases.service import StartForm
from forms.validation import FieldError
from portal.needs import FIELDS as NEED_FIELDS
from portal.needs import skipped
from web.jsonform import Field, build_fields, read_form
from web.templates import pick

SKIP = ("channel",)  # an integrated application always goes through the integrated channel
SEP = "__"


@dataclass
class Part:
    """One chosen service on the form: its own fields and its own document slots."""

    key: str
    name_id: str
    name_en: str
    form: StartForm
    own: list[str] = field(default_factory=list)
    slots: list[DocumentSlot] = field(default_factory=list)


@dataclass
class Layout:
    """The merged form: the shared field names (with the part that renders each) and the parts."""

    parts: list[Part]
    shared: dict[str, int]  # field name -> index of the part whose schema renders it
    shared_slots: list[DocumentSlot]

    def name_of(self, index: int, field_name: str) -> str:
        """Return the input name of a part's field on the merged form."""
        return field_name if field_name in self.shared else f"{self.parts[index].key}{SEP}{field_name}"


def _shape(f: Field) -> tuple[str, tuple[str, ...]]:
    return f.kind, tuple(value for value, _ in f.options)


def layout(forms: list[StartForm]) -> Layout:
    """Decide which fields and document slots the chosen services share."""
    parts, shapes = [], []
    for form in forms:
        name = form.service.get("name") or {}
        parts.append(Part(form.process_key, str(name.get("id", form.process_key)),
                          str(name.get("en", name.get("id", form.process_key))), form))
        # A service that offers jemput bola takes the visit from the application's one request (portal/needs.py).
        fields = build_fields(form.schema, form.ui_schema, lang="id", values={}, skip=(*SKIP, *skipped(form.service)))
        shapes.append({f.name: _shape(f) for f in fields})
    counts = Counter((n, s) for shape in shapes for n, s in shape.items())
    shared: dict[str, int] = {}
    for index, shape in enumerate(shapes):
        for name, kind in shape.items():
            if counts[(name, kind)] > 1 and name not in shared:
                shared[name] = index
    slot_counts = Counter(s.code for form in forms for s in document_slots(form.service))
    shared_slots: dict[str, DocumentSlot] = {}
    for part, shape in zip(parts, shapes, strict=True):
        part.own = [n for n in shape if n not in shared]
        for slot in document_slots(part.form.service):
            if slot_counts[slot.code] > 1:  # required when any service requires it
                known = shared_slots.get(slot.code)
                shared_slots[slot.code] = slot if known is None or not slot.optional else known
            else:
                part.slots.append(slot)
    return Layout(parts, shared, list(shared_slots.values()))


def _only(schema: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Return the schema with only these properties (definitions kept, so `$ref`s still resolve)."""
    props = schema.get("properties") or {}
    required = [n for n in schema.get("required") or [] if n in names]
    return {**schema, "properties": {n: props[n] for n in names if n in props}, "required": required}


def shared_fields(lay: Layout, *, lang: str, values: dict[str, Any], errors: dict[str, str]) -> list[Field]:
    """Return the shared fields, each rendered as its first service renders it, required if any requires it."""
    out = []
    for name, index in lay.shared.items():
        form = lay.parts[index].form
        rendered = build_fields(_only(form.schema, [name]), form.ui_schema, lang=lang, values=values, errors=errors)
        for f in rendered:
            f.required = any(name in (p.form.schema.get("required") or []) for p in lay.parts)
            out.append(f)
    return out


def own_fields(lay: Layout, index: int, *, lang: str, values: dict[str, Any], errors: dict[str, str]) -> list[Field]:
    """Return one service's own fields, named `<key>__<field>`."""
    part = lay.parts[index]
    prefix = part.key + SEP
    mine = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
    theirs = {k[len(prefix):]: v for k, v in errors.items() if k.startswith(prefix)}
    fields = build_fields(_only(part.form.schema, part.own), part.form.ui_schema, lang=lang, values=mine,
                          errors=theirs)
    for f in fields:
        f.name = prefix + f.name
    return fields


def _sub_form(form: FormData, *, prefix: str = "", names: set[str] | None = None) -> FormData:
    """Return the posted items of one part of the form, with the prefix taken off their names."""
    items = []
    for key, value in form.multi_items():
        base = key.removesuffix(f"{SEP}keep")
        if prefix and base.startswith(prefix):
            items.append((key[len(prefix):], value))
        elif names is not None and base in names:
            items.append((key, value))
    return FormData(items)


def read_shared(lay: Layout, form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read the shared fields once; return the data and the uploads per field."""
    data: dict[str, Any] = {}
    uploads: dict[str, Any] = {}
    for name, index in lay.shared.items():
        schema = {**_only(lay.parts[index].form.schema, [name]), "required": []}
        one, files = read_form(schema, lay.parts[index].form.ui_schema, _sub_form(form, names={name}))
        data.update(one)
        uploads.update(files)
    return data, uploads


def read_own(lay: Layout, index: int, form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read one service's own fields (prefix taken off); return the data and the uploads per field."""
    part = lay.parts[index]
    return read_form(_only(part.form.schema, part.own), part.form.ui_schema, _sub_form(form, prefix=part.key + SEP))


_PATH = re.compile(r"^services\.(\d+)\.(?:data\.)?([^./\[]+)")


def errors_by_input(lay: Layout, field_errors: list[FieldError], *, lang: str) -> dict[str, str]:
    """Map a bundle's errors to the inputs of the merged form, each message naming its service."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for error in field_errors:
        match = _PATH.match(error.path)
        if match is None:  # the application's own inputs (priority, jemput bola) keep their names
            name, service = error.path if error.path in NEED_FIELDS else "(form)", ""
        else:
            index, top = int(match[1]), match[2]
            part = lay.parts[index]
            name = top if top.startswith("doc__") or top == "(form)" else lay.name_of(index, top)
            service = pick(lang, part.name_id, part.name_en)
        message = pick(lang, error.message_id, error.message_en)
        grouped.setdefault(name, {}).setdefault(message, [])
        if service and service not in grouped[name][message]:
            grouped[name][message].append(service)
    return {name: " ".join(f"{', '.join(services)}: {message}" if services else message
                           for message, services in messages.items())
            for name, messages in grouped.items()}

"""Write the service-standard form's values back into service.toml through tomlkit.

Only what the analyst changed changes: comments, key order, formatting and keys the form does not
know stay as they were, so a file loaded and saved unchanged is byte-identical. A row that came
from an entry of the file (`origin`) is written over that entry, keeping the keys the form does
not show.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from tomlkit.items import AoT, Comment, InlineTable, Table, Whitespace

from engine.bpmn import conventions as cv
from engine.catalogue import standard_components as components
from engine.catalogue.standard import (
    AgencyDecl,
    Components,
    DocumentForm,
    OutreachForm,
    RetentionForm,
    Standard,
    Text,
    as_dicts,
    parse,
)
from engine.errors import InvalidInput


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


def _top_order() -> tuple[str, ...]:
    """Top-level keys in their usual order: `outreach` goes right after `channels`."""
    keys = [k for k in cv.SERVICE_KEYS if k not in ("agencies", "document", "outreach", "standard")]
    keys.insert(keys.index("channels") + 1, "outreach")
    return tuple(keys)


ORDER = {"": _top_order(),
         "agencies": ("code", "kind", "parent", "name", "roles"),
         "document": ("title", "end_events", "template", "number_field", "holder_field", "facts"),
         "standard": components.KNOWN_KEYS}


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
    source = as_dicts(_plain(originals))
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
    _write_outreach(doc, std.outreach)
    _set(doc, "start_form", std.start_form or None)
    _set(doc, "requirements", _merged(doc.get("requirements"), [(r.origin, r.text.plain()) for r in std.requirements]))
    _write_agencies(doc, std.agencies)
    _write_document(doc, std.document)
    _write_components(doc, std.components)
    _write_retention(doc, std.retention)
    return tomlkit.dumps(doc).encode("utf-8")


def _write_outreach(doc: Any, form: OutreachForm | None) -> None:
    """Write `outreach = { id, en, for }`, keeping other keys of the table; remove it when the form turned it off."""
    if form is None:
        _set(doc, "outreach", None)
        return
    current = _plain(doc.get("outreach"))
    value = {**(current if isinstance(current, dict) else {}), **form.text.plain(), "for": list(form.groups)}
    _set(doc, "outreach", value)


def _write_retention(doc: Any, form: RetentionForm | None) -> None:
    """Write the `[retention]` table, keeping its other keys and comments; remove it when the form turned it off."""
    if form is None:
        _set(doc, "retention", None)
        return
    value: dict[str, Any] = {"years": int(form.years)} if form.years.isdecimal() else {}
    value |= {"action": form.action, "basis": form.basis.plain()}
    current = doc.get("retention")
    if current is not None and not isinstance(current, Table):  # written inline: stays inline
        _set(doc, "retention", {**(_plain(current) if isinstance(_plain(current), dict) else {}), **value})
        return
    if current is None:
        table = tomlkit.table()
        for key, item in ({"years": value["years"]} if "years" in value else {}).items():
            table.add(key, item)
        table.add("after", "closed")
        table.add("action", value["action"])
        table.add("basis", _item(value["basis"]))
        doc.add(tomlkit.nl())
        doc["retention"] = table
        return
    if "years" not in value and "years" in current:
        del current["years"]
    for key, item in value.items():
        if _plain(current.get(key)) != item:
            current[key] = _item(item)


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


def _write_components(doc: Any, form: Components) -> None:
    """Write the `[standard]` table (new ones go at the end of the file), keeping keys the form does not show."""
    table = doc.get("standard")
    if not isinstance(table, Table):
        _set(doc, "standard", None)
        table = tomlkit.table()
        doc.append("standard", table)
    for component in components.COMPONENTS:
        if component.kind == "list":
            rows: list[tuple[int | None, dict[str, Any]]] = [
                (i, t.plain()) for i, t in enumerate(form.lists.get(component.key, []))]
            _set(table, component.key, _merged(table.get(component.key), rows), "standard")
            continue
        _set_text(table, component.key, form.texts.get(component.key, Text()), order="standard")
        if component.kind == "complaints" and form.response_days.isascii() and form.response_days.isdecimal():
            days, current = int(form.response_days), table[component.key]
            if _plain(current.get("response_days")) != days:
                current["response_days"] = days
    _set_text(table, components.SIGNATORY, form.signatory, required=False, order="standard")

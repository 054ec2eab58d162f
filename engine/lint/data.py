"""Lint rules on case data: every place that reads a field is checked against the data-flow model.

A field set nowhere in the package is an error (with the closest name that is set); a field set
only on some paths is a warning naming a path that misses it. What the reads compare and compute
(enums, literal types, timer values, DMN cells) is checked in `engine.lint.values`.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator
from typing import Any

from engine.bpmn import conventions as cv
from engine.bpmn.conventions import NSMAP
from engine.catalogue.package import Package
from engine.documents.spec import spec_of
from engine.errors import Problem
from engine.lint.dataflow import PLATFORM, Model, State, build_model, load_form
from engine.lint.diagram import bpmn_tag, owner_ref, split_tag
from engine.lint.names import (
    DMN_INPUT,
    called_names,
    dmn_cell_source,
    equality_facts,
    expression_reads,
    parse_expression,
    platform_names,
    script_effect,
    template_reads,
)
from engine.lint.values import Read, comparison_problems, did_you_mean, dmn_entry_problems, timer_type_problems

SERVICE = "service.toml"


def data_problems(package: Package, service: dict[str, Any] | None, bpmn: list[tuple[str, Any]],
                  dmn: list[tuple[str, Any]]) -> list[Problem]:
    """Check every reader of case data in a package against its data-flow model."""
    if service is None:
        return []
    model = build_model(package, service, [root for _f, root in bpmn], [root for _f, root in dmn])
    reads = [*_bpmn_reads(bpmn), *_dmn_reads(bpmn, dmn), *_document_reads(service, bpmn)]
    out: list[Problem] = []
    for read in reads:
        out += _check_read(model, read)
    out += dmn_entry_problems(model, dmn)
    out += timer_type_problems(model, bpmn)
    out += _template_problems(package, model)
    out += _channel_problems(package, service)
    return out


# ---------------------------------------------------------------- readers


def case_readers(bpmn: list[tuple[str, Any]], dmn: list[tuple[str, Any]]) -> list[Read]:
    """Return every place of the diagrams and the decisions they call that reads case data."""
    return [*_bpmn_reads(bpmn), *_dmn_reads(bpmn, dmn)]


def _bpmn_reads(documents: list[tuple[str, Any]]) -> Iterator[Read]:
    for file, root in documents:
        for flow in root.iter(bpmn_tag("sequenceFlow")):
            cond = flow.find(bpmn_tag("conditionExpression"))
            if cond is not None and (cond.text or "").strip():
                yield from _condition_reads(file, flow, cond.text or "")
        yield from _task_reads(file, root)
        yield from _event_reads(file, root)
        yield from _lane_reads(file, root)


def _condition_reads(file: str, flow: Any, text: str) -> Iterator[Read]:
    """Yield a condition's reads; a term after `and` is read only when the terms before it hold."""
    what_en, what_id = f"the condition of '{flow.get('id')}'", f"kondisi '{flow.get('id')}'"
    source = flow.get("sourceRef", "")
    tree = parse_expression(text)
    terms = tree.body.values if tree is not None and isinstance(tree.body, ast.BoolOp) and isinstance(
        tree.body.op, ast.And) else None
    if terms is None:
        yield Read(file, source, what_en, what_id, frozenset(expression_reads(text)), "after", text)
        return
    for index, term in enumerate(terms):
        earlier = " and ".join(ast.unparse(t) for t in terms[:index])
        yield Read(file, source, what_en, what_id, frozenset(expression_reads(ast.unparse(term))), "after",
                   ast.unparse(term), tuple(equality_facts(earlier)) if earlier else ())


def _script_reads(source: str) -> frozenset[str]:
    found = script_effect(source)
    return frozenset(found.reads) if found is not None else frozenset()


def _task_reads(file: str, root: Any) -> Iterator[Read]:
    for script in root.iter(bpmn_tag("script")):
        node = script.getparent()
        yield Read(file, node.get("id", ""), f"the script of '{node.get('id')}'", f"skrip '{node.get('id')}'",
                   _script_reads(script.text or ""), source=script.text or "")
    for tag, point in (("preScript", "before"), ("postScript", "after")):
        for script in root.xpath(f".//spiffworkflow:{tag}", namespaces=NSMAP):
            where = owner_ref(script) or ""
            yield Read(file, where, f"the {tag} of '{where}'", f"{tag} '{where}'", _script_reads(script.text or ""),
                       point, source=script.text or "")
    for param in root.xpath(".//spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/spiffworkflow:parameter",
                            namespaces=NSMAP):
        where = owner_ref(param) or ""
        text = param.get("value") or ""
        yield Read(file, where, f"parameter '{param.get('id')}' of '{where}'",
                   f"parameter '{param.get('id')}' pada '{where}'", frozenset(expression_reads(text)), "before", text)
    for loop in root.iter(bpmn_tag("multiInstanceLoopCharacteristics"), bpmn_tag("standardLoopCharacteristics")):
        where = owner_ref(loop) or ""
        for tag, point in (("loopCardinality", "before"), ("loopDataInputRef", "before"),
                           ("completionCondition", "after"), ("loopCondition", "after")):
            item = loop.find(bpmn_tag(tag))
            if item is not None and (item.text or "").strip():
                yield Read(file, where, f"the {tag} of '{where}'", f"{tag} '{where}'",
                           frozenset(expression_reads(item.text or "")), point)


def _event_reads(file: str, root: Any) -> Iterator[Read]:
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for timer in root.iter(bpmn_tag(tag)):
            where = owner_ref(timer) or ""
            if cv.looks_like_unquoted_iso(timer.text or ""):
                continue  # an unquoted ISO value has its own message; its parts are no field names
            yield Read(file, where, f"the timer of '{where}'", f"pengatur waktu '{where}'",
                       frozenset(expression_reads(timer.text or "")), source=timer.text or "")
    for payload in root.xpath(".//spiffworkflow:messagePayload", namespaces=NSMAP):
        where = owner_ref(payload) or ""
        yield Read(file, where, f"the message payload of '{where}'", f"muatan pesan '{where}'",
                   frozenset(expression_reads(payload.text or "")))


def _lane_reads(file: str, root: Any) -> Iterator[Read]:
    lanes = cv.lanes_by_node(root)
    tasks = {str(t.get("id")) for tag in ("userTask", "manualTask", "task") for t in root.iter(bpmn_tag(tag))}
    for node_id, lane in lanes.items():
        if node_id not in tasks:
            continue  # a binding routes work items; other elements of the lane read nothing
        info = cv.lane_info(lane)
        for key, prop in ((info.bind_organisation, "bindOrganisation"), (info.bind_user, "bindUser"),
                          (info.bind_agency, "bindAgency")):
            if key:  # without a bindAgency value the lane's own role takes the task: missing is fine there
                yield Read(file, node_id, f"the {prop} '{key}' of lane '{info.name or info.lane_id}'",
                           f"{prop} '{key}' pada lajur '{info.name or info.lane_id}'", frozenset({key}),
                           partial_ok=prop == "bindAgency")


def _dmn_reads(bpmn: list[tuple[str, Any]], dmn: list[tuple[str, Any]]) -> Iterator[Read]:
    callers: dict[str, list[tuple[str, str]]] = {}
    for file, root in bpmn:
        for task in root.iter(bpmn_tag("businessRuleTask")):
            ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NSMAP)
            if ref is not None and ref.text:
                callers.setdefault(ref.text.strip(), []).append((file, task.get("id", "")))
    for file, root in dmn:
        ns = split_tag(root.tag)[0]
        for decision in root.iter(f"{{{ns}}}decision"):
            for column in decision.iter(f"{{{ns}}}input"):
                text_el = column.find(f"{{{ns}}}inputExpression/{{{ns}}}text")
                text = (text_el.text or "") if text_el is not None else ""
                for _bfile, task_id in callers.get(decision.get("id", ""), []):
                    yield Read(file, column.get("id"), f"decision input '{column.get('id')}' (called by '{task_id}')",
                               f"masukan keputusan '{column.get('id')}' (dipanggil oleh '{task_id}')",
                               frozenset(expression_reads(text)), "before", text, at=task_id)
            for cell in decision.iter(f"{{{ns}}}inputEntry", f"{{{ns}}}outputEntry"):
                text_el = cell.find(f"{{{ns}}}text")
                names = _cell_reads((text_el.text or "") if text_el is not None else "")
                for _bfile, task_id in (callers.get(decision.get("id", "")) or []) if names else []:
                    yield Read(file, cell.get("id"), f"decision cell '{cell.get('id')}' (called by '{task_id}')",
                               f"sel keputusan '{cell.get('id')}' (dipanggil oleh '{task_id}')", names, at=task_id)


def _cell_reads(text: str) -> frozenset[str]:
    """Return the fields a DMN cell reads: `?` is the column's value, `< 5` compares it, `-` is any."""
    source = dmn_cell_source(text)
    if source is None:
        return frozenset()
    # true/false/null get their own message (engine.lint.values).
    return frozenset(expression_reads(source) - {DMN_INPUT, "true", "false", "null"})


def _document_reads(service: dict[str, Any], bpmn: list[tuple[str, Any]]) -> Iterator[Read]:
    spec = spec_of(service)
    if spec is None:
        return
    # A missing number is replaced by a generated one and a missing fact prints empty; a document
    # without its holder's name is not acceptable.
    fields = [(spec.holder_field, "holder_field", False), (spec.number_field, "number_field", True)]
    fields += [(fact.field, f"facts field '{fact.field}'", True) for fact in spec.facts]
    ends = set(spec.end_events)
    for _file, root in bpmn:
        for end in root.iter(bpmn_tag("endEvent")):
            if end.get("id") not in ends:
                continue
            for name, what, partial_ok in fields:
                if name:
                    yield Read(SERVICE, None, f"[document] {what} (issued at '{end.get('id')}')",
                               f"[document] {what} (terbit di '{end.get('id')}')", frozenset({name}),
                               partial_ok=partial_ok, at=str(end.get("id")))


# ---------------------------------------------------------------- checks


def _check_read(model: Model, read: Read) -> list[Problem]:
    table = model.after if read.point == "after" else model.before
    state = table.get(read.point_id)
    if state is not None and read.facts:
        state = model.refine(state, list(read.facts))
    out: list[Problem] = []
    for name in sorted(read.names):
        if name not in model.fields:
            out.append(_unknown(model, read, name))
        elif read.partial_ok:
            continue
        elif state is not None and state.surely is not None and not state.has(name):
            out.append(_partial(model, read, name, state))
    if read.expression is not None:
        out += comparison_problems(model, read)
    return out


def _unknown(model: Model, read: Read, name: str) -> Problem:
    if name in called_names(read.source or read.expression or ""):
        return _missing_function(read, name)
    hint_en, hint_id = did_you_mean(name, list(model.fields))
    return Problem(
        read.file, read.element_id,
        f"{read.what_en} reads the field '{name}', which no form, script, decision, service task or "
        f"message of the package sets.{hint_en} Add it to a form (required) or set it in a script before.",
        "error",
        f"{read.what_id} membaca isian '{name}', yang tidak diisi oleh formulir, skrip, keputusan, tugas layanan, "
        f"atau pesan mana pun dalam paket.{hint_id} Tambahkan ke formulir (wajib) atau isi dengan skrip sebelumnya.",
    )


def _missing_function(read: Read, name: str) -> Problem:
    from engine.bpmn.sandbox import FORBIDDEN_NAMES

    helpers = ", ".join(sorted(n for n in platform_names() if n[0].islower() and n not in FORBIDDEN_NAMES))
    return Problem(
        read.file, read.element_id,
        f"{read.what_en} uses '{name}', which scripts do not have (no imports, no modules, no outside "
        f"access). Use the builtins and helpers the sandbox provides: {helpers}.",
        "error",
        f"{read.what_id} memakai '{name}', yang tidak tersedia dalam skrip (tanpa import, modul, atau akses ke "
        f"luar). Gunakan fungsi bawaan dan fungsi bantu yang disediakan: {helpers}.",
    )


def _partial(model: Model, read: Read, name: str, state: State) -> Problem:
    path = model.path_missing(read.point_id, name)
    route = " → ".join(path)
    sources = ", ".join(sorted({i.source for i in model.fields[name] if i.source != PLATFORM}))
    return Problem(
        read.file, read.element_id,
        f"{read.what_en} reads the field '{name}', which is set only on some paths (by {sources}); "
        f"the path {route} reaches it without the field, and the case would stop with an incident there. "
        "Make the field required in its form, set it on every path, or give it a default in a script.",
        "warning",
        f"{read.what_id} membaca isian '{name}', yang hanya diisi pada sebagian alur (oleh {sources}); "
        f"alur {route} sampai ke sini tanpa isian itu, dan permohonan akan berhenti dengan insiden. "
        "Jadikan isian wajib di formulirnya, isi di setiap alur, atau beri nilai awal dengan skrip.",
    )


def _template_problems(package: Package, model: Model) -> list[Problem]:
    out: list[Problem] = []
    for path in sorted(package.files):
        if not (path.startswith(("documents/", "notifications/")) and path.endswith((".html", ".txt"))):
            continue
        try:
            source = package.files[path].decode("utf-8")
        except UnicodeDecodeError:
            continue
        for name in sorted(n for n in template_reads(source) - set(model.fields) if not n.startswith("_")):
            close = difflib.get_close_matches(name, list(model.fields), n=1, cutoff=0.6)
            out.append(Problem(
                path, None,
                f"the template reads data.{name}, which no form, script, decision or service task sets; "
                "it would print empty." + (f" Did you mean data.{close[0]}?" if close else ""),
                "error",
                f"templat membaca data.{name}, yang tidak diisi oleh formulir, skrip, keputusan, atau tugas "
                "layanan mana pun; hasilnya akan kosong." + (f" Maksud Anda data.{close[0]}?" if close else ""),
            ))
    return out


def _channel_problems(package: Package, service: dict[str, Any]) -> list[Problem]:
    start = service.get("start_form")
    schema = load_form(package, start if isinstance(start, str) else None)
    channels = service.get("channels")
    if not isinstance(schema, dict) or not isinstance(channels, list):
        return []
    prop = (schema.get("properties") or {}).get("channel")
    enum = prop.get("enum") if isinstance(prop, dict) else None
    if not isinstance(enum, list):
        return []
    missing = [c for c in channels if c not in enum]
    if not missing:
        return []
    listed = ", ".join(str(c) for c in missing)
    return [Problem(
        SERVICE, None,
        f"channels offers {listed}, but the start form {start} allows channel only {', '.join(map(str, enum))}: "
        f"every application through {listed} would be refused. Add {listed} to the form's channel enum, "
        "or remove it from channels.",
        "error",
        f"channels menawarkan {listed}, tetapi formulir awal {start} hanya menerima kanal "
        f"{', '.join(map(str, enum))}: setiap permohonan lewat {listed} akan ditolak. Tambahkan {listed} ke enum "
        "channel di formulir, atau hapus dari channels.",
    )]

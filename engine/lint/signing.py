"""Rule: the task whose completion issues a numbered document shows the number the document gets.

With `[document] number_format` the platform draws the number in the transaction that reaches an
issuing end event (engine/documents/service.py, `queue_issue`): the completion of the human task
before it, since gateways, scripts and decisions in between run in the same step. That task is the
signing step; its form declares `number_field` (`"readOnly": true`, checked by
`engine.documents.spec.typed_number_problems`), so the officer whose completion fixes the number
sees it and may open the unsigned preview (engine/documents/preview.py). A wait in between (a
message, a timer, a connector's service task) ends the walk: nobody signs there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engine.bpmn import conventions as cv
from engine.catalogue.package import Package
from engine.documents.spec import spec_of, table_errors
from engine.errors import Problem
from engine.lint.diagram import bpmn_tag, split_tag

SERVICE = "service.toml"
# Elements the step that completes a task runs through in the same transaction.
PASS_THROUGH = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "scriptTask",
                          "businessRuleTask", "intermediateThrowEvent"})
SIGNING_TASKS = ("userTask", "manualTask", "task")


def signing_problems(package: Package, service: dict[str, Any] | None,
                     bpmn: list[tuple[str, Any]]) -> list[Problem]:
    """Warn where the platform numbers the document but a signing step's form does not show the number."""
    table = (service or {}).get("document")
    if table is None or table_errors(table, bpmn):
        return []  # no document, or one the document rules already refuse
    spec = spec_of(service or {})
    if spec is None or not isinstance(spec.number_format, str):
        return []
    signing = [(file, task, end) for file, root in bpmn for task, end in _signing_tasks(root, set(spec.end_events))]
    if not signing:
        return []
    if not spec.number_field:
        return [_no_field(signing)]
    out: list[Problem] = []
    for file, task, end in signing:
        form = cv.element_properties(task).get("formJsonSchemaFilename")
        path = package.form_path(form) if form else ""
        props = _properties(package.files.get(path)) if path else {}
        if props is not None and spec.number_field not in props:
            out.append(_missing(file, task, end, path, spec.number_field))
    return out


def _signing_tasks(root: Any, ends: set[str]) -> Iterator[tuple[Any, str]]:
    """Yield (task, end event id) for every human task whose completion can reach an issuing end event."""
    nodes = {str(e.get("id")): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    incoming: dict[str, list[str]] = {}
    for flow in root.iter(bpmn_tag("sequenceFlow")):
        incoming.setdefault(str(flow.get("targetRef")), []).append(str(flow.get("sourceRef")))
    found: set[str] = set()
    for end in root.iter(bpmn_tag("endEvent")):
        end_id = str(end.get("id"))
        if end_id not in ends:
            continue
        seen: set[str] = set()
        stack = list(incoming.get(end_id, []))
        while stack:
            node_id = stack.pop()
            node = nodes.get(node_id)
            if node_id in seen or node is None:
                continue
            seen.add(node_id)
            kind = split_tag(node.tag)[1]
            if kind in SIGNING_TASKS and node_id not in found:
                found.add(node_id)
                yield node, end_id
            elif kind in PASS_THROUGH:
                stack += incoming.get(node_id, [])


def _properties(raw: bytes | None) -> dict[str, Any] | None:
    """Return a form's properties; None when the form is missing or unreadable (the form rules say so)."""
    if raw is None:
        return None
    try:
        schema = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    props = schema.get("properties") if isinstance(schema, dict) else None
    return props if isinstance(props, dict) else {}


def _no_field(signing: list[tuple[str, Any, str]]) -> Problem:
    tasks = ", ".join(sorted({str(task.get("id")) for _file, task, _end in signing}))
    return Problem(
        SERVICE, "document.number_format",
        f"the platform gives the document number ([document] number_format), but no case-data field holds it, so "
        f"the signing step ({tasks}) cannot show the officer the number the document will print: name a field with "
        f'number_field (e.g. number_field = "nomor_izin") and declare it "readOnly": true on the form of {tasks}',
        "warning",
        f"platform memberi nomor dokumen ([document] number_format), tetapi tidak ada kolom data permohonan yang "
        f"memuatnya, sehingga langkah penandatanganan ({tasks}) tidak dapat menampilkan nomor yang akan dicetak "
        f'kepada petugas: beri nama kolomnya dengan number_field (mis. number_field = "nomor_izin") dan nyatakan '
        f'"readOnly": true pada formulir {tasks}')


def _missing(file: str, task: Any, end: str, path: str, field: str) -> Problem:
    task_id = str(task.get("id"))
    form = f"its form '{path}'" if path else "it has no form and"
    form_id = f"formulirnya '{path}'" if path else "tugas ini tidak memiliki formulir dan"
    return Problem(
        file, task_id,
        f"completing '{task_id}' issues the document (it reaches '{end}', where the platform draws the number, "
        f"[document] number_format), but {form} does not show '{field}': add "
        f'"{field}": {{"type": "string", "readOnly": true}} to the form (not required), so the officer who signs '
        "sees the number the document will print and can open its preview",
        "warning",
        f"menyelesaikan '{task_id}' menerbitkan dokumen (menuju '{end}', tempat platform memberi nomor, "
        f"[document] number_format), tetapi {form_id} tidak menampilkan '{field}': tambahkan "
        f'"{field}": {{"type": "string", "readOnly": true}} ke formulir (tidak wajib), agar petugas yang '
        "menandatangani melihat nomor yang akan dicetak dan dapat membuka pratinjaunya")

"""Lint rules on connectors.toml: its shape, the operations service tasks name, fields and replies.

Every service task operation without a built-in Python adapter must be described; the case
fields a description sends must be set before the task (the data-flow model's rules: unknown is
an error, set only on some paths a warning); its `reply` and `error_reply` must be messages some
catch event or receive task of the package waits for. What a reply carries (the keys of
`response`; an error reply's `status`, `body`, `message`) reaches the case as the catcher's
messageVariable, so a later read of `<messageVariable>["key"]` (`.get("key")`, `.key`) must name
a key some message setting that variable carries (no message carries it: an error); `["key"]` and
`.key` (not `.get`) where the last message to set the variable may lack the key: a warning.
Variables that forms or scripts also set are left alone; a reply caught without a
messageVariable loses its mapped keys (SpiffWorkflow drops the payload): a warning.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from engine.bpmn.conventions import NSMAP
from engine.catalogue.package import Package
from engine.connectors.spec import BUILT_IN_OPERATIONS, FILE, Operation, SpecInvalid, parse
from engine.errors import Problem
from engine.lint.data import case_readers
from engine.lint.dataflow import Model, build_model
from engine.lint.diagram import bpmn_tag, owner_ref
from engine.lint.names import member_reads
from engine.lint.values import Read

CATCHERS = ("intermediateCatchEvent", "boundaryEvent", "startEvent")


def connector_problems(package: Package, service: dict[str, Any] | None, bpmn: list[tuple[str, Any]],
                       dmn: list[tuple[str, Any]]) -> list[Problem]:
    """Check connectors.toml and the service tasks that use it."""
    operations, out = _operations(package)
    tasks = list(_service_tasks(bpmn))
    waited = _waited_messages([root for _f, root in bpmn])
    model = build_model(package, service, [r for _f, r in bpmn], [r for _f, r in dmn]) if service and tasks else None
    for file, task_id, name, params in tasks:
        operation = operations.get(name)
        if operation is None:
            if name not in BUILT_IN_OPERATIONS:
                out.append(_undescribed(file, task_id, name))
            continue
        if model is not None:
            out += _field_problems(model, operation, task_id, params)
        out += _reply_problems(operation, task_id, waited)
    if model is not None and operations:
        out += result_problems(model, operations, bpmn, dmn, used={name for _f, _t, name, _p in tasks})
    return out


def _operations(package: Package) -> tuple[dict[str, Operation], list[Problem]]:
    raw = package.files.get(FILE)
    if raw is None:
        return {}, []
    try:
        return parse(raw.decode("utf-8", errors="replace")), []
    except SpecInvalid as exc:
        return {}, [Problem(FILE, None, problem, "error", f"connectors.toml tidak sah: {problem}")
                    for problem in exc.problems]


def _service_tasks(bpmn: list[tuple[str, Any]]) -> list[tuple[str, str, str, set[str]]]:
    found = []
    for file, root in bpmn:
        for operator in root.xpath(".//spiffworkflow:serviceTaskOperator", namespaces=NSMAP):
            params = {p.get("id") for p in operator.xpath("spiffworkflow:parameters/spiffworkflow:parameter",
                                                          namespaces=NSMAP) if p.get("id")}
            found.append((file, owner_ref(operator) or "", str(operator.get("id") or ""), params))
    return found


def _waited_messages(roots: list[Any]) -> set[str]:
    names = {m.get("id"): m.get("name") for root in roots for m in root.iter(bpmn_tag("message"))}
    waited: set[str] = set()
    for root in roots:
        for tag in CATCHERS:
            for event in root.iter(bpmn_tag(tag)):
                for definition in event.iter(bpmn_tag("messageEventDefinition")):
                    waited.add(str(names.get(definition.get("messageRef")) or ""))
        for task in root.iter(bpmn_tag("receiveTask")):
            waited.add(str(names.get(task.get("messageRef")) or ""))
    return waited - {""}


def _undescribed(file: str, task_id: str, name: str) -> Problem:
    return Problem(
        file, task_id,
        f"operation '{name}' is neither built in nor described in connectors.toml: describe its request "
        f"(system, method, path, body, reply) there, or correct the operation's name",
        "error",
        f"operasi '{name}' bukan bawaan platform dan tidak dijelaskan di connectors.toml: jelaskan permintaannya "
        f"(system, method, path, body, reply) di sana, atau perbaiki nama operasinya")


def _field_problems(model: Model, operation: Operation, task_id: str, params: set[str]) -> list[Problem]:
    out: list[Problem] = []
    state = model.before.get(task_id)
    for name in sorted(set(operation.path_fields() + operation.body_fields()) - params):
        if name not in model.fields:
            out.append(Problem(
                FILE, task_id,
                f"operation '{operation.name}' sends the field '{name}', which no form, script, decision, service "
                f"task or message of the package sets", "error",
                f"operasi '{operation.name}' mengirim isian '{name}', yang tidak diisi oleh formulir, skrip, "
                f"keputusan, tugas layanan, atau pesan mana pun dalam paket"))
        elif state is not None and state.surely is not None and not state.has(name):
            path = " → ".join(reversed(model.path_missing(task_id, name)))
            out.append(Problem(
                FILE, task_id,
                f"operation '{operation.name}' sends the field '{name}', which is not set on every path to "
                f"'{task_id}' (for example {path})", "warning",
                f"operasi '{operation.name}' mengirim isian '{name}', yang tidak diisi di setiap jalur menuju "
                f"'{task_id}' (misalnya {path})"))
    return out


def _reply_problems(operation: Operation, task_id: str, waited: set[str]) -> list[Problem]:
    out: list[Problem] = []
    for key, name in (("reply", operation.reply), ("error_reply", operation.error_reply)):
        if name is not None and name not in waited:
            out.append(Problem(
                FILE, task_id,
                f"operation '{operation.name}': {key} '{name}' is a message no catch event or receive task of the "
                f"package waits for, so the case could never take the partner's answer", "error",
                f"operasi '{operation.name}': {key} '{name}' adalah pesan yang tidak ditunggu oleh event penangkap "
                f"atau receive task mana pun dalam paket, sehingga jawaban mitra tidak pernah diterima permohonan"))
    return out


# ---------------------------------------------------------------- results used later are produced

ERROR_KEYS = frozenset({"status", "body", "message"})  # engine.connectors.service._give_up
THROWERS = ("intermediateThrowEvent", "endEvent", "sendTask")


@dataclass(frozen=True)
class Catcher:
    """An element that takes a reply message: where, the message, its variable and the keys it carries."""

    file: str
    element_id: str
    message: str
    variable: str | None
    keys: frozenset[str]
    containers: frozenset[str] = frozenset()  # the sub-processes around it (the model counts them as setters too)
    error: bool = False  # an error reply: its keys are fixed, not mapped


def result_problems(model: Model, operations: dict[str, Operation], bpmn: list[tuple[str, Any]],
                    dmn: list[tuple[str, Any]], *, used: set[str]) -> list[Problem]:
    """Check every read of a reply's variable against the keys the replies carry."""
    roots = [root for _f, root in bpmn]
    carried = _carried({n: op for n, op in operations.items() if n in used}, roots)
    replies = {op.reply for n, op in operations.items() if n in used and op.reply is not None}
    catchers = [replace(c, error=c.message not in replies) for c in _catchers(bpmn, carried)]
    out = [_dropped(c, operations) for c in catchers if c.variable is None and c.keys - ERROR_KEYS]
    shapes = _shapes(model, catchers)
    if not shapes:
        return out
    for read in case_readers(bpmn, dmn):
        for name, key, tolerant in sorted(member_reads(read.source or read.expression or "")):
            if name in shapes:
                out += _check_key(model, read, name, key, shapes[name], tolerant=tolerant)
    for name, operation in sorted(operations.items()):
        if name in used:
            out += _reply_body_problems(operation, shapes)
    return out


def _carried(operations: dict[str, Operation], roots: list[Any]) -> dict[str, frozenset[str]]:
    """Return the keys each reply message carries; a message the package also throws has no known shape."""
    carried: dict[str, frozenset[str]] = {}
    for op in operations.values():
        if op.reply is not None:
            carried[op.reply] = carried.get(op.reply, frozenset()) | frozenset(op.response)
        if op.error_reply:
            carried[op.error_reply] = carried.get(op.error_reply, frozenset()) | ERROR_KEYS
    names = _message_names(roots)
    for root in roots:
        for tag in THROWERS:
            for node in root.iter(bpmn_tag(tag)):
                for ref in _message_refs(node):
                    carried.pop(names.get(ref, ""), None)
    return carried


def _message_names(roots: list[Any]) -> dict[str, str]:
    return {str(m.get("id")): str(m.get("name") or "") for root in roots for m in root.iter(bpmn_tag("message"))}


def _message_refs(node: Any) -> list[str]:
    refs = [str(d.get("messageRef") or "") for d in node.iter(bpmn_tag("messageEventDefinition"))]
    return refs + ([str(node.get("messageRef"))] if node.get("messageRef") else [])


def _catchers(bpmn: list[tuple[str, Any]], carried: dict[str, frozenset[str]]) -> Iterator[Catcher]:
    names = _message_names([root for _f, root in bpmn])
    for file, root in bpmn:
        for tag in (*CATCHERS, "receiveTask"):
            for node in root.iter(bpmn_tag(tag)):
                for ref in _message_refs(node):
                    message = names.get(ref, "")
                    if message in carried:
                        variables = [v.text.strip() for v in node.xpath(".//spiffworkflow:messageVariable",
                                                                        namespaces=NSMAP) if (v.text or "").strip()]
                        around = frozenset(str(a.get("id")) for a in node.iterancestors(bpmn_tag("subProcess"))
                                           if a.get("id"))
                        yield Catcher(file, str(node.get("id") or ""), message, variables[0] if variables else None,
                                      carried[message], around)


def _shapes(model: Model, catchers: list[Catcher]) -> dict[str, list[Catcher]]:
    """Return, per variable only reply catchers set, the catchers that set it."""
    by_variable: dict[str, list[Catcher]] = {}
    for catcher in catchers:
        if catcher.variable:
            by_variable.setdefault(catcher.variable, []).append(catcher)
    return {name: found for name, found in by_variable.items()
            if {i.source for i in model.fields.get(name, [])} <= {c.element_id for c in found}.union(
                *(c.containers for c in found))}


def _check_key(model: Model, read: Read, name: str, key: str, catchers: list[Catcher], *,
           tolerant: bool) -> list[Problem]:
    keys = frozenset().union(*(c.keys for c in catchers))
    if key not in keys:
        return [_unknown_key(read, name, key, catchers, keys)]
    if tolerant:
        return []  # `.get("key")` copes with a path whose message lacks the key
    lacking = {c.element_id: c for c in catchers if key not in c.keys}
    reached = _setters_reaching(model, read, {c.element_id for c in catchers}) & set(lacking)
    return [_missing_on_path(read, name, key, lacking[c]) for c in sorted(reached)]


def _setters_reaching(model: Model, read: Read, setters: set[str]) -> set[str]:
    """Return the setters that are the last to set the variable on some path to the read."""
    start = read.point_id
    queue = [start] if read.point == "after" else list(model.preds.get(start, []))
    seen, found = set(queue), set()
    while queue:
        node = queue.pop()
        if node in setters:
            found.add(node)
            continue
        for pred in model.preds.get(node, []):
            if pred not in seen:
                seen.add(pred)
                queue.append(pred)
    return found


def _listed(keys: frozenset[str]) -> str:
    return ", ".join(sorted(keys)) or "-"


def _unknown_key(read: Read, name: str, key: str, catchers: list[Catcher], keys: frozenset[str]) -> Problem:
    messages = ", ".join(sorted({f"'{c.message}'" for c in catchers}))
    close = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.5)
    hint_en, hint_id = (f" Did you mean '{close[0]}'?", f" Maksud Anda '{close[0]}'?") if close else ("", "")
    if all(c.error for c in catchers):
        fix_en = " An error reply always carries status, body and message: read one of them."
        fix_id = " Balasan galat selalu membawa status, body, dan message: baca salah satunya."
    else:
        fix_en = (f" Map it in the operation's [operations.\"...\".response] table (`{key} = \"/json/pointer\"`), "
                  "or read a key it has.")
        fix_id = (f" Petakan di tabel [operations.\"...\".response] operasinya (`{key} = \"/json/pointer\"`), atau "
                  "baca kunci yang ada.")
    return Problem(
        read.file, read.element_id,
        f"{read.what_en} reads '{name}[\"{key}\"]', but '{name}' holds the reply {messages}, which carries only "
        f"{_listed(keys)}: no response key of connectors.toml produces '{key}'.{hint_en}{fix_en}",
        "error",
        f"{read.what_id} membaca '{name}[\"{key}\"]', tetapi '{name}' berisi balasan {messages}, yang hanya "
        f"membawa {_listed(keys)}: tidak ada kunci response di connectors.toml yang menghasilkan '{key}'.{hint_id}"
        f"{fix_id}")


def _missing_on_path(read: Read, name: str, key: str, catcher: Catcher) -> Problem:
    return Problem(
        read.file, read.element_id,
        f"{read.what_en} reads '{name}[\"{key}\"]', but on the path through '{catcher.element_id}' '{name}' holds "
        f"the message '{catcher.message}', which carries only {_listed(catcher.keys)}. Read it with "
        f"{name}.get(\"{key}\") and handle its absence, or read it only on the path of the reply that carries it.",
        "warning",
        f"{read.what_id} membaca '{name}[\"{key}\"]', tetapi pada alur melalui '{catcher.element_id}' '{name}' "
        f"berisi pesan '{catcher.message}', yang hanya membawa {_listed(catcher.keys)}. Baca dengan "
        f"{name}.get(\"{key}\") dan tangani bila tidak ada, atau baca hanya pada alur balasan yang membawanya.")


def _dropped(catcher: Catcher, operations: dict[str, Operation]) -> Problem:
    users = ", ".join(sorted(f"'{n}'" for n, op in operations.items() if op.reply == catcher.message))
    return Problem(
        catcher.file, catcher.element_id,
        f"'{catcher.element_id}' takes the reply '{catcher.message}' of {users} without a messageVariable, so the "
        f"mapped fields ({_listed(catcher.keys)}) never reach the case. Set a messageVariable (e.g. 'hasil') on "
        f"its message event definition.",
        "warning",
        f"'{catcher.element_id}' menerima balasan '{catcher.message}' dari {users} tanpa messageVariable, sehingga "
        f"isian yang dipetakan ({_listed(catcher.keys)}) tidak pernah masuk ke permohonan. Isi messageVariable "
        f"(mis. 'hasil') pada definisi event pesannya.")


def _reply_body_problems(operation: Operation, shapes: dict[str, list[Catcher]]) -> list[Problem]:
    out: list[Problem] = []
    for dotted in sorted(_dotted(operation.body or {})):
        name, key = dotted.split(".", 2)[:2]
        keys = frozenset().union(*(c.keys for c in shapes.get(name, [])))
        if name in shapes and key not in keys:
            out.append(Problem(
                FILE, None,
                f"operation '{operation.name}' sends '{dotted}', but '{name}' holds a reply that carries only "
                f"{_listed(keys)}: no response key produces '{key}'", "error",
                f"operasi '{operation.name}' mengirim '{dotted}', tetapi '{name}' berisi balasan yang hanya membawa "
                f"{_listed(keys)}: tidak ada kunci response yang menghasilkan '{key}'"))
    return out


def _dotted(template: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for value in template.values():
        if isinstance(value, str) and "." in value:
            found.add(value)
        elif isinstance(value, dict) and "value" not in value:
            found |= _dotted(value)
    return found

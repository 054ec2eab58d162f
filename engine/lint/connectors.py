"""Lint rules on connectors.toml: its shape, the operations service tasks name, fields and replies.

Every service task operation without a built-in Python adapter must be described; the case
fields a description sends must be set before the task (the data-flow model's rules: unknown is
an error, set only on some paths a warning); its `reply` and `error_reply` must be messages some
catch event or receive task of the package waits for.
"""

from __future__ import annotations

from typing import Any

from engine.bpmn.conventions import NSMAP
from engine.catalogue.package import Package
from engine.connectors.spec import BUILT_IN_OPERATIONS, FILE, Operation, SpecInvalid, parse
from engine.errors import Problem
from engine.lint.dataflow import Model, build_model
from engine.lint.diagram import bpmn_tag, owner_ref

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

"""Lint rules on a connector's failure and absence: what the case does when the partner fails or is not there.

- `error_event = "CODE"`: a boundary error event catching CODE must sit on the receive task that waits
  for the operation's reply, or the thrown error finds no catcher and the case gets an incident.
- `optional = true`: while the system is unbound no reply ever comes, so the reply may not be waited
  for without a timer way out (the case would stall); `store` (the answer written into a case field,
  nothing waiting) is the way for an integration the process must not wait for.
"""

from __future__ import annotations

from typing import Any

from engine.catalogue.package import Package
from engine.connectors.spec import FILE, Operation, described
from engine.errors import Problem
from engine.lint.diagram import bpmn_tag


def connector_path_problems(package: Package, bpmn: list[tuple[str, Any]]) -> list[Problem]:
    """Check the error and optional paths of every operation connectors.toml describes."""
    operations = described(package.files.get(FILE))  # engine.lint.connectors reports a broken shape
    roots = [root for _file, root in bpmn]
    out: list[Problem] = []
    for operation in operations.values():
        if operation.error_event is not None and operation.reply is not None:
            out += _error_event_problems(operation, roots, operation.reply)
        if operation.optional and operation.reply is not None:
            out += _optional_problems(operation, roots, operation.reply)
    return out


def connector_error_codes(package: Package) -> frozenset[str]:
    """Return the error codes the package's operations throw into a case (`error_event`)."""
    operations = described(package.files.get(FILE))
    return frozenset(op.error_event for op in operations.values() if op.error_event is not None)


def _message_names(roots: list[Any]) -> dict[str, str]:
    return {str(m.get("id")): str(m.get("name") or "") for root in roots for m in root.iter(bpmn_tag("message"))}


def _receive_tasks(roots: list[Any], message: str) -> list[Any]:
    names = _message_names(roots)
    return [task for root in roots for task in root.iter(bpmn_tag("receiveTask"))
            if names.get(str(task.get("messageRef"))) == message]


def _catch_events(roots: list[Any], message: str) -> list[Any]:
    names = _message_names(roots)
    found = []
    for root in roots:
        for tag in ("intermediateCatchEvent", "startEvent", "boundaryEvent"):
            for event in root.iter(bpmn_tag(tag)):
                if any(names.get(str(d.get("messageRef"))) == message
                       for d in event.iter(bpmn_tag("messageEventDefinition"))):
                    found.append(event)
    return found


def _boundaries(roots: list[Any], task_id: str) -> list[Any]:
    return [b for root in roots for b in root.iter(bpmn_tag("boundaryEvent")) if b.get("attachedToRef") == task_id]


def _error_codes(roots: list[Any]) -> dict[str, str]:
    return {str(e.get("id")): str(e.get("errorCode") or "") for root in roots for e in root.iter(bpmn_tag("error"))}


def _error_event_problems(operation: Operation, roots: list[Any], reply: str) -> list[Problem]:
    code, codes = operation.error_event, _error_codes(roots)
    receivers = _receive_tasks(roots, reply)
    for task in receivers:
        for boundary in _boundaries(roots, str(task.get("id"))):
            for definition in boundary.iter(bpmn_tag("errorEventDefinition")):
                ref = definition.get("errorRef")
                if ref is None or codes.get(str(ref)) == code:
                    return []
    where = str(receivers[0].get("id")) if receivers else None
    return [Problem(
        FILE, where,
        f"operation '{operation.name}' throws the error '{code}' when the partner fails, but no boundary error "
        f"event with that errorCode is attached to a receive task waiting for '{reply}': the case "
        f"would stop with an incident. Wait for the reply with a receive task and attach a boundary error event "
        f"whose bpmn:error has errorCode=\"{code}\"", "error",
        f"operasi '{operation.name}' melempar galat '{code}' saat mitra gagal, tetapi tidak ada boundary error "
        f"event dengan errorCode itu pada receive task yang menunggu '{reply}': permohonan akan berhenti "
        f"dengan insiden. Tunggu jawaban dengan receive task dan pasang boundary error event yang bpmn:error-nya "
        f"ber-errorCode=\"{code}\"")]


def _has_timer_way_out(roots: list[Any], element: Any) -> bool:
    """A waiting element the case can also leave by a timer (a boundary or an event-based gateway's timer)."""
    for boundary in _boundaries(roots, str(element.get("id"))):
        if next(boundary.iter(bpmn_tag("timerEventDefinition")), None) is not None:
            return True
    incoming = {str(f.text) for f in element.iter(bpmn_tag("incoming"))}
    for root in roots:
        for gateway in root.iter(bpmn_tag("eventBasedGateway")):
            out = {str(f.text) for f in gateway.iter(bpmn_tag("outgoing"))}
            if not out & incoming:
                continue
            targets = {str(flow.get("targetRef")) for flow in root.iter(bpmn_tag("sequenceFlow"))
                       if flow.get("id") in out}
            for event in root.iter(bpmn_tag("intermediateCatchEvent")):
                if event.get("id") in targets and next(event.iter(bpmn_tag("timerEventDefinition")), None) is not None:
                    return True
    return False


def _optional_problems(operation: Operation, roots: list[Any], reply: str) -> list[Problem]:
    out: list[Problem] = []
    waiting = _receive_tasks(roots, reply) + _catch_events(roots, reply)
    for element in waiting:
        if element.tag in (bpmn_tag("boundaryEvent"), bpmn_tag("startEvent")) or _has_timer_way_out(roots, element):
            continue
        out.append(Problem(
            FILE, str(element.get("id")),
            f"operation '{operation.name}' is optional, so while no admin has bound '{operation.system}' its reply "
            f"'{reply}' never comes and the case would wait here for ever. Write the answer into a case field "
            f"with store = \"<field>\" in connectors.toml instead of a reply (nothing waits for it), or give "
            f"this wait a timer way out", "error",
            f"operasi '{operation.name}' bersifat opsional: selama admin belum menghubungkan '{operation.system}', "
            f"jawaban '{reply}' tidak pernah datang dan permohonan akan menunggu di sini selamanya. Tulis "
            f"jawabannya ke isian permohonan dengan store = \"<isian>\" di connectors.toml alih-alih reply (tidak "
            f"ada yang menunggunya), atau beri penantian ini jalan keluar berupa timer"))
    return out

"""Lint rules on events the platform can never trigger, so a case would wait on them for good.

Only messages reach a case from outside (partner systems, integrated applications); signals,
escalations and errors come only from throw events of the same package, or, for errors, from a
connector operation's `error_event` (a partner's failure thrown by the platform); a conditional event is
evaluated once, when it is reached; a case starts from its application form, not from an event.
"""

from __future__ import annotations

from typing import Any

from engine.errors import Problem
from engine.lint.diagram import bpmn_tag, split_tag

_CATCHES = ("intermediateCatchEvent", "boundaryEvent", "startEvent")
_THROWS = ("intermediateThrowEvent", "endEvent")
_KINDS = {"signal": "signalRef", "escalation": "escalationRef", "error": "errorRef"}
_NAMES_ID = {"signal": "sinyal", "escalation": "eskalasi", "error": "galat"}


def event_problems(documents: list[tuple[str, Any]], connector_codes: frozenset[str] = frozenset()) -> list[Problem]:
    """Report catch events nothing in the package throws, and main start events with a trigger.

    `connector_codes` are the error codes connectors.toml's operations throw (`error_event`).
    """
    thrown: dict[str, set[str | None]] = {kind: set() for kind in _KINDS}
    for _file, root in documents:
        for error in root.iter(bpmn_tag("error")):
            if error.get("errorCode") in connector_codes:
                thrown["error"].add(error.get("id"))
    for _file, root in documents:
        for tag in _THROWS:
            for event in root.iter(bpmn_tag(tag)):
                for kind, ref in _KINDS.items():
                    for definition in event.findall(bpmn_tag(f"{kind}EventDefinition")):
                        thrown[kind].add(definition.get(ref))
    out: list[Problem] = []
    for file, root in documents:
        for tag in _CATCHES:
            for event in root.iter(bpmn_tag(tag)):
                out += _catch_problems(file, event, thrown)
        out += _start_problems(file, root)
    return out


def _catch_problems(file: str, event: Any, thrown: dict[str, set[str | None]]) -> list[Problem]:
    out: list[Problem] = []
    event_id = event.get("id", "")
    on_path = split_tag(event.tag)[1] == "intermediateCatchEvent"
    severity = "error" if on_path else "warning"
    for kind, ref_attr in _KINDS.items():
        for definition in event.findall(bpmn_tag(f"{kind}EventDefinition")):
            ref = definition.get(ref_attr)
            if kind == "error" and on_path:
                continue  # not a valid catch; the parser reports it
            if (ref in thrown[kind]) or (ref is None and thrown[kind]):
                continue
            named = f" '{ref}'" if ref else ""
            if on_path:
                en = (f"the case would wait at '{event_id}' for good: no event of this package throws the {kind}"
                      f"{named}, and {kind}s do not come from outside. Throw it in the package, or wait for a "
                      "message (partners answer with messages) or a timer.")
                id_ = (f"permohonan akan menunggu selamanya di '{event_id}': tidak ada peristiwa dalam paket ini "
                       f"yang melempar {_NAMES_ID[kind]}{named}, dan {_NAMES_ID[kind]} tidak datang dari luar. "
                       "Lemparkan di dalam paket, atau tunggu pesan (mitra menjawab dengan pesan) atau pengatur waktu.")
            else:
                en = (f"'{event_id}' can never fire: no event of this package throws the {kind}{named}. "
                      "Throw it in the package, or remove the event.")
                id_ = (f"'{event_id}' tidak akan pernah terpicu: tidak ada peristiwa dalam paket ini yang melempar "
                       f"{_NAMES_ID[kind]}{named}. Lemparkan di dalam paket, atau hapus peristiwa itu.")
            out.append(Problem(file, event_id, en, severity, id_))
    if event.find(bpmn_tag("conditionalEventDefinition")) is not None and on_path:
        out.append(Problem(
            file, event_id,
            f"the condition of '{event_id}' is checked once, when the case reaches it: if it does not hold then, the "
            "case stops with an incident. Use an exclusive gateway to choose a path, or a timer to wait.",
            "warning",
            f"kondisi '{event_id}' diperiksa sekali, saat permohonan sampai di sana: bila saat itu tidak terpenuhi, "
            "permohonan berhenti dengan insiden. Gunakan gerbang eksklusif untuk memilih alur, atau pengatur waktu "
            "untuk menunggu."))
    return out


def _start_problems(file: str, root: Any) -> list[Problem]:
    # Every process of a package starts by a case being filed or by a call activity; event
    # sub-processes (inside a process, not its direct children) may start on events.
    out: list[Problem] = []
    for process in root.iter(bpmn_tag("process")):
        for start in process.findall(bpmn_tag("startEvent")):
            definitions = [split_tag(c.tag)[1] for c in start if split_tag(c.tag)[1].endswith("EventDefinition")]
            if definitions:
                start_id = start.get("id", "")
                out.append(Problem(
                    file, start_id,
                    f"the start event '{start_id}' waits for a {definitions[0].removesuffix('EventDefinition')}, "
                    "but a case starts when its application is filed: use a plain start event (no event "
                    "definition), and put any wait after it.",
                    "error",
                    f"peristiwa awal '{start_id}' menunggu {definitions[0].removesuffix('EventDefinition')}, padahal "
                    "permohonan dimulai saat diajukan: gunakan peristiwa awal biasa (tanpa definisi peristiwa), "
                    "dan letakkan penantian sesudahnya."))
    return out

"""Messages into cases: a partner system's answer, or another case's news, received by a waiting event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.cases.steps import StepRecord, record_step
from engine.directory.actors import Actor
from engine.errors import InvalidInput, TaskNotForYourRole
from engine.runtime import Runtime
from forms.numbers import check_numbers


def may_send(actor: Actor, role: str | None) -> bool:
    """Tell whether the actor may deliver a message to an event in a lane of `role`."""
    if actor.platform_role in ("admin", "system"):
        return True
    return role is not None and actor.holds(role)


def deliver_message(session: Session, *, rt: Runtime, case_id: int, name: str, payload: dict[str, Any],
                    actor: Actor) -> str:
    """Deliver a named message to a case waiting for it; return the case's new status."""
    loaded = rt.load_case(session, case_id)
    waiting = [w for w in loaded.workflow.waits() if w.name == name]
    if not waiting:
        raise InvalidInput(f"case {case_id} is not waiting for the message '{name}'")
    if not any(may_send(actor, w.role) for w in waiting):
        raise TaskNotForYourRole(f"the message '{name}' must come from a holder of '{waiting[0].role}'")
    check_numbers(payload)  # a partner's 1e400 or NaN is refused by field, as a form's would be
    before = loaded.workflow.data()
    loaded.workflow.send_message(name, payload)
    result = rt.runner.advance(loaded.workflow)
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "message_received", element_id=waiting[0].element_id,
                                  label=name))
    return loaded.row.status


def deliver_error(session: Session, *, rt: Runtime, case_id: int, code: str, payload: dict[str, Any],
                  actor: Actor) -> str:
    """Throw a partner's failure into a case as a BPMN error its boundary error event catches; return the status.

    Only the system (the outbound job) throws: refused before anything changes when nothing waits for the code.
    """
    if actor.platform_role not in ("admin", "system"):
        raise TaskNotForYourRole("only the platform throws a partner's error into a case")
    loaded = rt.load_case(session, case_id)
    catchers = loaded.workflow.error_catchers(code)
    if not catchers:
        raise InvalidInput(f"case {case_id} has no boundary error event waiting for the error code '{code}'")
    before = loaded.workflow.data()
    loaded.workflow.throw_error(code, payload)
    result = rt.runner.advance(loaded.workflow)
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "error_received", element_id=catchers[0], label=code))
    return loaded.row.status


def store_answer(session: Session, *, rt: Runtime, case_id: int, field: str, value: dict[str, Any], label: str,
                 actor: Actor) -> bool:
    """Write a partner's answer into a running case's data as `field` (nothing in the diagram waits for it).

    A case that is no longer running keeps the answer in its history instead (nothing is lost); return
    whether it reached the case data.
    """
    from engine.models import CaseEvent

    check_numbers(value)
    loaded = rt.load_case(session, case_id)  # CaseNotFound for a case that does not exist
    before = loaded.workflow.data()
    if loaded.row.status not in ("running", "incident") or not loaded.workflow.store(field, value):
        session.add(CaseEvent(case_id=case_id, at=rt.clock(), actor=actor.username, action="note",
                              label=f"{label}: jawaban tiba setelah permohonan selesai / answered after the case ended",
                              diff=rt.sealer(loaded.compiled).seal_diff({"set": {field: value}})))
        return False
    result = rt.runner.advance(loaded.workflow)
    record_step(session, rt, loaded, result=result, before=before,
                record=StepRecord(actor.username, "answer_stored", element_id=None, label=label))
    return True

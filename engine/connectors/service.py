"""Send an outbound call by the package's description: bound host, retries, reply or incident.

The job that carries the call runs this. A 2xx answer is mapped into fields and delivered to the
case as the operation's `reply` message; a timeout, a connection error or a 5xx reschedules the
job with backoff (30 s, 60 s, 120 s, ...) while retries remain; a refusal (4xx, an answer that
does not fit the mapping) or exhausted retries deliver `error_reply` (a message), throw `error_event`
(a BPMN error a boundary error event catches), or, without either, open an incident on the case with
the partner's answer. An operation with `store` writes the mapped answer (or, on a failure,
`{"galat": {...}}`) into that case field instead: nothing in the diagram waits for it. An
`optional` operation whose system is not bound is skipped: the city has no such integration,
which the call record and the case history say. Nothing stalls silently.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.bpmn.outbound import OutboundCall, UnknownOperation
from engine.connectors import bindings as bindings
from engine.connectors import http as http
from engine.connectors import report as report
from engine.connectors.spec import FILE, Operation, SpecInvalid, parse
from engine.crypto import SecretUnreadable
from engine.directory.actors import SYSTEM
from engine.errors import DomainError
from engine.models import Case, CaseEvent, Incident, Job, ProcessFile, ProcessVersion
from engine.runtime import Runtime

log = logging.getLogger("mpp.connectors")
BACKOFF_S = 30
_CACHE: dict[str, dict[str, Operation]] = {}  # by package content hash: versions never change


class NotBound(http.CallFailed):
    """No binding for the operation's system yet: an admin's setting, retried, never the partner's refusal."""


class SecretBroken(http.CallRefused):
    """The binding's secret cannot be opened (the key changed): an incident for the admin, not a refusal."""


def operations_of_case(session: Session, case_id: int) -> dict[str, Operation]:
    """Return the operations the package of a case's version describes (parsed once per version)."""
    version_id, content_hash = session.execute(
        select(ProcessVersion.id, ProcessVersion.content_hash).join(Case, Case.process_version_id == ProcessVersion.id)
        .where(Case.id == case_id)).one()
    if content_hash not in _CACHE:
        text = session.scalar(select(ProcessFile.content).where(ProcessFile.version_id == version_id,
                                                                 ProcessFile.name == FILE))
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[content_hash] = parse(text.decode()) if text is not None else {}
    return _CACHE[content_hash]


def send_call(session: Session, *, rt: Runtime, job: Job, call: OutboundCall) -> bool:
    """Make a described call for a job; True when the job is done, False when it was rescheduled or failed."""
    if job.case_id is None:
        raise UnknownOperation(f"no adapter is registered for operation '{call.operation}'")
    try:
        operation = operations_of_case(session, job.case_id).get(call.operation)
    except SpecInvalid as exc:
        return _give_up(session, rt=rt, job=job, operation=None, failure=http.CallRefused(f"connectors.toml: {exc}"))
    if operation is None:
        raise UnknownOperation(f"no adapter is registered for operation '{call.operation}' and the package's "
                               f"connectors.toml does not describe it")
    started = time.perf_counter()
    try:
        mapped, status = _call(session, rt=rt, operation=operation, job=job, call=call)
    except http.CallFailed as exc:
        if isinstance(exc, NotBound) and operation.optional:
            return _skip(session, rt=rt, job=job, operation=operation, started=started)
        again = job.attempts <= operation.retries
        _note(session, rt=rt, job=job, operation=operation, outcome="retry" if again else "failed",
              status=exc.status, started=started, detail=_reason(exc))
        if again:
            _retry_later(job, rt=rt, error=f"{operation.name}: {exc}")
            return False
        failure = http.CallRefused(f"Mitra gagal dihubungi setelah {job.attempts} percobaan. / The partner "
                                   f"failed {job.attempts} attempts ({operation.name}): {exc}")
        # What the platform's own set-up lacks is the operator's to fix (an incident, retried after the
        # fix), never the applicant's "refused by the partner" path.
        return _give_up(session, rt=rt, job=job, operation=None if isinstance(exc, NotBound) else operation,
                        failure=failure)
    except http.CallRefused as exc:
        _note(session, rt=rt, job=job, operation=operation, outcome="refused", status=exc.status, started=started,
              detail=str(exc))
        return _give_up(session, rt=rt, job=job, operation=None if isinstance(exc, SecretBroken) else operation,
                        failure=exc)
    _note(session, rt=rt, job=job, operation=operation, outcome="ok", status=status, started=started, detail="")
    session.add(CaseEvent(case_id=job.case_id, at=rt.clock(), actor="system", action="sent", label=operation.name,
                          diff={"set": {"ticket": call.ticket, "status": status, "attempt": job.attempts}}))
    if operation.store is not None:
        return _store(session, rt=rt, job=job, operation=operation, value=mapped)
    assert operation.reply is not None  # noqa: S101 - the spec gives reply or store
    return _deliver(session, rt=rt, job=job, name=operation.reply, payload=mapped)


def _reason(exc: http.CallFailed) -> str:
    # A 5xx message quotes the partner's body: the record keeps the status only.
    return f"the partner answered {exc.status}" if exc.status is not None else str(exc)


def _note(session: Session, *, rt: Runtime, job: Job, operation: Operation, outcome: str, status: int | None,
          started: float, detail: str) -> None:
    attempt = report.Attempt(case_id=job.case_id, job_id=job.id, operation=operation.name, system=operation.system,
                             attempt=job.attempts, outcome=outcome, http_status=status,
                             duration_s=time.perf_counter() - started, detail=detail)
    report.record(session, attempt=attempt, at=rt.clock())


def _call(session: Session, *, rt: Runtime, operation: Operation, job: Job,
          call: OutboundCall) -> tuple[dict[str, Any], int]:
    binding = bindings.resolve(session, system=operation.system, agency=bindings.case_agency(session, job.case_id),
                               settings=rt.settings)
    if binding is None:
        raise NotBound(f"the system '{operation.system}' is not bound: an admin sets its base URL "
                       f"(PUT /api/connectors/{operation.system})")
    try:
        headers = bindings.auth_headers(binding, key=rt.settings.secret_key.get_secret_value())
    except SecretUnreadable as exc:
        raise SecretBroken(str(exc)) from exc
    case_data = session.scalar(select(Case.data).where(Case.id == job.case_id)) or {}
    request = http.build(operation, {**case_data, **call.params}, base_url=binding.base_url, headers=headers,
                         ticket=call.ticket)
    answer = http.send(request, timeout_s=operation.timeout_s)
    if not 200 <= answer.status < 300:
        raise http.CallRefused(f"Mitra menolak panggilan ({answer.status}). / The partner refused the call "
                               f"({operation.name}, HTTP {answer.status}).", status=answer.status, body=answer.text)
    return http.map_response(operation, answer), answer.status


def _retry_later(job: Job, *, rt: Runtime, error: str) -> None:
    job.status, job.locked_until, job.last_error = "pending", None, error[:2000]
    job.due_at = rt.clock() + timedelta(seconds=BACKOFF_S * 2 ** max(job.attempts - 1, 0))
    log.warning("outbound job %s will be retried: %s", job.id, error)


def _skip(session: Session, *, rt: Runtime, job: Job, operation: Operation, started: float) -> bool:
    """An optional operation whose system is not bound: no call, recorded on the case and in the call table."""
    _note(session, rt=rt, job=job, operation=operation, outcome="skipped", status=None, started=started,
          detail=f"the system '{operation.system}' is not bound and the operation is optional")
    session.add(CaseEvent(case_id=job.case_id, at=rt.clock(), actor="system", action="note",
                          label=f"{operation.system} belum terhubung / not connected: {operation.name}"[:255],
                          diff=None))
    return True


def _give_up(session: Session, *, rt: Runtime, job: Job, operation: Operation | None,
             failure: http.CallRefused) -> bool:
    """The call failed for good: the package's error path (`operation` given), or an incident."""
    job.last_error = f"{failure} {failure.body}".strip()[:2000]
    payload = {"status": failure.status, "body": failure.body, "message": str(failure)}
    if operation is not None and operation.store is not None:
        return _store(session, rt=rt, job=job, operation=operation, value={"galat": payload})
    if operation is not None and operation.error_event is not None:
        return _throw(session, rt=rt, job=job, code=operation.error_event, payload=payload)
    if operation is not None and operation.error_reply is not None:
        return _deliver(session, rt=rt, job=job, name=operation.error_reply, payload=payload)
    _incident(session, rt=rt, job=job, text=_with_answer(failure))
    return False


def _with_answer(failure: http.CallRefused) -> str:
    answer = f" Jawaban mitra / partner's answer: {failure.body}" if failure.body else ""
    return f"{failure}{answer}"


def _deliver(session: Session, *, rt: Runtime, job: Job, name: str, payload: dict[str, Any]) -> bool:
    from engine.cases.messages import deliver_message

    assert job.case_id is not None  # noqa: S101 - send_call checked it
    try:  # deliver_message refuses before it changes anything, so the job's transaction stays clean
        deliver_message(session, rt=rt, case_id=job.case_id, name=name, payload=payload, actor=SYSTEM)
    except DomainError as exc:
        _incident(session, rt=rt, job=job, text=f"Pesan '{name}' tidak dapat diterima permohonan. / The case "
                                                f"could not take the message '{name}': {exc}")
        return False
    return True


def _store(session: Session, *, rt: Runtime, job: Job, operation: Operation, value: dict[str, Any]) -> bool:
    from engine.cases.messages import store_answer

    assert job.case_id is not None  # noqa: S101 - send_call checked it
    assert operation.store is not None  # noqa: S101 - only called for a stored answer
    store_answer(session, rt=rt, case_id=job.case_id, field=operation.store, value=value, label=operation.name,
                 actor=SYSTEM)
    return True


def _throw(session: Session, *, rt: Runtime, job: Job, code: str, payload: dict[str, Any]) -> bool:
    from engine.cases.messages import deliver_error

    assert job.case_id is not None  # noqa: S101 - send_call checked it
    try:  # deliver_error refuses before it changes anything, as deliver_message does
        deliver_error(session, rt=rt, case_id=job.case_id, code=code, payload=payload, actor=SYSTEM)
    except DomainError as exc:
        _incident(session, rt=rt, job=job, text=f"Galat '{code}' tidak ditangkap permohonan. / The case could not "
                                                f"catch the error '{code}': {exc}. {payload['message']}")
        return False
    return True


def _incident(session: Session, *, rt: Runtime, job: Job, text: str) -> None:
    job.status, job.locked_until = "failed", None
    case_id = job.case_id
    status = session.scalar(select(Case.status).where(Case.id == case_id))
    if case_id is None or status != "running":
        log.error("outbound job %s failed for a case no longer running: %s", job.id, text)
        return
    now = rt.clock()
    session.add(Incident(case_id=case_id, element_id=_element(job), message=text, created_at=now))
    session.add(CaseEvent(case_id=case_id, at=now, actor="system", action="incident", element_id=_element(job),
                          label=text[:255]))
    session.execute(update(Case).where(Case.id == case_id).values(status="incident"))
    session.flush()


def _element(job: Job) -> str:
    return str((job.payload or {}).get("operation") or "")

"""Who sees a citizen's data in full, and the record of every time someone did (UU 27/2022, docs/privacy.md).

A case's classified fields (`"x-mpp-personal"` in its forms) are shown in full only where the work
needs them: on the task page of an officer who may work that open task, and to the applicant. Anyone
else who may read the case sees them masked (forms.personal) and may reveal them for one view by
giving a reason. Each full view by someone other than the applicant adds one row to
`personal_data_access`, committed by the route before the response leaves; a view that wrote
nothing else writes it in a short write transaction after its reads (engine.db.append).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import db as db
from engine.cases import casefiles as casefiles
from engine.cases.access import visible_tasks
from engine.cases.assignment import agency_of
from engine.catalogue.labels import labels_for_version
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Case, OpenTask, PersonalDataAccess, ProcessVersion, StoredFile, TaskSpan
from forms.labels import PERSONAL_LEVELS
from forms.personal import mask, mask_data

if TYPE_CHECKING:
    from engine.runtime import Runtime

TASK, REVEAL, FILE, API = "task", "reveal", "file", "api"
HOWS = (TASK, REVEAL, FILE, API)
REASON_MAX = 500
# The data-protection officer (Pejabat Pelindungan Data Pribadi, UU 27/2022 art. 53): a role of the
# local government that the directory grants like any other; it brings no tasks.
DPO_AGENCY = "pemda"
DPO_ROLE = f"{DPO_AGENCY}.ppdp"


@dataclass(frozen=True)
class Client:
    """Where a request came from, as the access record keeps it."""

    ip: str | None = None
    user_agent: str | None = None


def is_dpo(actor: Actor) -> bool:
    """Tell whether the actor reviews the access record: the data-protection officer, or an admin."""
    return actor.platform_role == "admin" or (actor.platform_role == "officer" and actor.holds(DPO_ROLE))


def is_data_subject(actor: Actor, case: Case) -> bool:
    """Tell whether the actor is the person the case is about: its applicant, or its filer when it has none.

    A staff member who filed for a walk-in applicant without an account is not: the counter reads
    that applicant's data as any other officer does.
    """
    if actor.user_id is None:
        return False
    return case.applicant_id == actor.user_id or (
        case.applicant_id is None and case.filed_by_id == actor.user_id and not actor.is_staff)


def classified(session: Session, case: Case, *, rt: Runtime | None = None) -> dict[str, str]:
    """Return the case's classified fields: name → "personal" or "sensitive" (from its version's forms).

    Given the runtime, from its per-version cache (a version's forms never change once deployed).
    """
    if rt is not None:
        return rt.classified(session, case.process_version_id)
    return labels_for_version(session, version_id=case.process_version_id).personal_fields()


def holds_personal(data: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    """Tell whether the data holds a value of a classified field (else a full view shows nothing personal)."""
    return any(data.get(name) not in (None, "", [], {}) for name in fields)


def masked(data: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """Return case data with its classified values masked."""
    return mask_data(data, fields)


def masked_diff(diff: Mapping[str, Any] | None, fields: Mapping[str, str]) -> dict[str, Any] | None:
    """Return a history diff (`{"set": {...}, "removed": [...]}`) with the classified values it sets masked."""
    if diff is None:
        return None
    shown = dict(diff)
    for key in ("set", "files"):
        part = diff.get(key)
        if isinstance(part, dict):
            shown[key] = {name: mask(value, fields[name]) if name in fields else value for name, value in part.items()}
    return shown


def reason_given(text: str | None) -> str:
    """Return a reveal's reason, trimmed; refuse (InvalidInput) an empty or overlong one."""
    reason = " ".join((text or "").split())
    if not reason:
        raise InvalidInput("give a reason to show the personal data",
                           message_id="tuliskan alasan untuk menampilkan data pribadi")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"the reason may be at most {REASON_MAX} characters",
                           message_id=f"alasan paling banyak {REASON_MAX} karakter")
    return reason


def acting_in(session: Session, actor: Actor, case_id: int) -> tuple[str | None, str | None]:
    """Return the (role, agency) an actor reads a case in: their role in an agency the case has a task of."""
    touched = set(session.scalars(select(OpenTask.agency).where(OpenTask.case_id == case_id))) | set(
        session.scalars(select(TaskSpan.agency).where(TaskSpan.case_id == case_id)))
    held = sorted(actor.memberships)
    for role, _org in held:
        if agency_of(role) in touched:
            return role, agency_of(role)
    if held:
        return held[0][0], agency_of(held[0][0])
    return actor.platform_role, None


def record_view(session: Session, *, actor: Actor, case: Case, how: str, client: Client,
                task: OpenTask | None = None, file_id: int | None = None,
                reason: str | None = None) -> PersonalDataAccess | None:
    """Record one full view of a case's personal data (nothing for the data subject's own views)."""
    if is_data_subject(actor, case) or actor.user_id is None:
        return None
    role, agency = (task.role, task.agency) if task is not None else acting_in(session, actor, case.id)
    row = PersonalDataAccess(case_id=case.id, user_id=actor.user_id, username=actor.username, how=how,
                             task_id=task.id if task is not None else None, file_id=file_id, reason=reason,
                             role=role, agency=agency, ip=client.ip[:64] if client.ip else None,
                             user_agent=client.user_agent[:255] if client.user_agent else None)
    # Written at commit, after the view's reads: a view takes the write lock only for this insert.
    db.append(session, row)
    return row


def workable_task(session: Session, actor: Actor, case_id: int) -> OpenTask | None:
    """Return an open task of the case the actor may work (holds its role or binding, or claimed it), if any."""
    return session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, visible_tasks(actor))
                          .order_by(OpenTask.created_at).limit(1))


def file_level(session: Session, *, case: Case, file_id: int, rt: Runtime | None = None) -> str | None:
    """Return a case file's classification: that of the form field or requirement that brought it, else None.

    A form field is classified in its form (`x-mpp-personal`); a requirement document (a KTP or KK
    scan) in service.toml, `personal = "sensitive"` on its `requirements` entry.
    """
    origin = casefiles.file_origin(session, case_id=case.id, file_id=file_id)
    if origin is None:
        return None
    name, is_requirement = origin
    level = classified(session, case, rt=rt).get(name)
    if level is None and is_requirement:
        service = session.scalar(select(ProcessVersion.service).where(ProcessVersion.id == case.process_version_id))
        for item in (service or {}).get("requirements") or []:
            if isinstance(item, dict) and item.get("document") == name and item.get("personal") in PERSONAL_LEVELS:
                level = str(item["personal"])
    return level


def personal_file(session: Session, *, file_id: int, rt: Runtime | None = None) -> Case | None:
    """Return the case whose personal data a stored file holds, or None for a file that holds none."""
    row = session.get(StoredFile, file_id)
    case = session.get(Case, row.case_id) if row is not None and row.case_id is not None else None
    if case is None:
        return None
    return case if file_level(session, case=case, file_id=file_id, rt=rt) is not None else None


def sees_file_in_full(session: Session, actor: Actor, *, case: Case, file_id: int) -> bool:
    """Tell whether a personal file goes to the actor without a reason: its applicant, uploader, or a task's officer."""
    row = session.get(StoredFile, file_id)
    uploader = row is not None and row.uploaded_by is not None and row.uploaded_by == actor.user_id
    return is_data_subject(actor, case) or uploader or workable_task(session, actor, case.id) is not None

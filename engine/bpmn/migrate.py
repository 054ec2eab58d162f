"""Move a running case to the latest version of its process (used when retrying an incident)."""

from __future__ import annotations

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from engine.bpmn.state import registry, rewrite_all
from engine.models import Case, CaseState
from engine.runtime import LoadedCase, Runtime


def migrate_to_latest(session: Session, rt: Runtime, loaded: LoadedCase) -> bool:
    """Re-attach the case's workflow to the newest version's spec; False when it is already there."""
    found = rt.specs.latest(session, loaded.row.process_key)
    if found is None or found[0].id == loaded.row.process_version_id:
        return False
    version, compiled = found
    workflow = loaded.workflow.raw
    top_diff, sub_diffs = diff_workflow(registry(), workflow, compiled.spec, compiled.subprocess_specs)
    mask = TaskState.READY | TaskState.WAITING | TaskState.ERROR
    migrate_workflow(top_diff, workflow, compiled.spec, reset_mask=mask)
    for sub_id, sub in workflow.subprocesses.items():
        sub_diff = sub_diffs.get(sub_id)
        if sub_diff is not None:
            migrate_workflow(sub_diff, sub, compiled.subprocess_specs[sub.spec.name], reset_mask=mask)
    workflow.subprocess_specs = compiled.subprocess_specs
    # Task specs changed under every row: rewrite the case's state in full once.
    session.execute(delete(CaseState).where(CaseState.case_id == loaded.row.id))
    loaded.tracker = rewrite_all(workflow)
    loaded.compiled = compiled
    loaded.workflow.compiled = compiled
    loaded.row.process_version_id = version.id
    session.execute(update(Case).where(Case.id == loaded.row.id).values(process_version_id=version.id)
                    .execution_options(synchronize_session=False))
    return True

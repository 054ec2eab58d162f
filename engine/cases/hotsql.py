"""The write path of a case step, and the few reads every request or step makes, as plain driver SQL.

A step writes a handful of rows (the case row, changed task-state rows, the open-task read
model, one history event). Through the ORM each statement costs ~0.1-0.3 ms of Python, more
than SpiffWorkflow's own step; as driver SQL it costs ~0.02 ms. So this one path skips the ORM,
with the reads every request or step answer makes (the login check, the case's open steps and
the caller's next tasks), one case's inbox page, and the rows a filing and an upload write besides
the step (files, their links, the requirement-files event, the privacy-notice acceptance), and nothing
else: statements are written once with `:name` parameters, translated once per dialect, and run on the
session's own DBAPI connection, inside the session's transaction (inside its savepoint, when one is
open; on PostgreSQL the reads before its first write run alone, and a step's last write is held until
the next statement or the commit: engine.db). Values are adapted here the way the ORM column types
would (UTC datetimes, JSON), and the driver's errors are raised wrapped as SQLAlchemy wraps them.

PostgreSQL, where every statement is a round trip, runs a few statements of its own in place of
several (`POSTGRES`), and a step's last writes go together as one statement (`Batch`). There
every statement here is a server-side prepared statement, parsed and planned once per connection
(engine.db keeps them across rollbacks).
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine.bpmn.state import Changes
from engine.db import before_statement, defer_write

# What a step reads besides the workflow, in the statement that first reads the case: the SLA clock's open
# pause and open bill (engine/sla/clock.py), the applicant's account and whether any webhook is subscribed
# (engine/notify). Joined to `case_record c`; engine.cases.steps.StepContext reads these columns.
_STEP_COLUMNS = (
    "c.tracking_number, u.id AS account_id, u.email, u.language, p.reason AS pause_reason, "
    "p.element_id AS pause_element, p.id AS pause_id, "
    "EXISTS (SELECT 1 FROM bill b WHERE b.case_id = c.id AND b.status = 'open') AS bill_open, "
    "EXISTS (SELECT 1 FROM webhook_subscription w WHERE w.active) AS webhooks")
_STEP_JOINS = ("LEFT JOIN user_account u ON u.id = c.applicant_id "
               "LEFT JOIN sla_pause p ON p.case_id = c.id AND p.ended_at IS NULL")

STATEMENTS = {
    "case_update": (
        "UPDATE case_record SET version = :new_version, wf_meta = :wf_meta, data = :data, status = :status, "
        "stage_id = :stage_id, stage_en = :stage_en, outcome = :outcome, updated_at = :now, "
        "completed_at = :completed_at WHERE id = :case_id AND version = :version"),
    "state_insert": (
        "INSERT INTO case_state (case_id, task_id, owner, seq, payload) VALUES (:case_id, :tid, :owner, :seq, :body)"),
    "state_update": "UPDATE case_state SET payload = :body WHERE case_id = :case_id AND task_id = :tid",
    "state_delete": "DELETE FROM case_state WHERE case_id = :case_id AND task_id = :tid",
    "state_delete_owner": "DELETE FROM case_state WHERE case_id = :case_id AND owner = :owner",
    "task_delete": "DELETE FROM task WHERE id = :tid",
    # A task leaving the open-task table keeps its times in task_span, for SLA figures. `uid` and `claimed`: who
    # claimed it with the step that closes it, and when (a completion that takes an unclaimed task), else NULL.
    "task_archive": (
        "INSERT INTO task_span (task_id, case_id, process_key, element_id, name, role, agency, bound_org, "
        "assignee_id, created_at, claimed_at, closed_at, due_at, completed, escalated_at) SELECT id, case_id, "
        "process_key, element_id, name, role, agency, bound_org, COALESCE(assignee_id, :uid), created_at, "
        "COALESCE(claimed_at, :claimed), :now, due_at, :done, escalated_at FROM task WHERE id = :tid"),
    # `prioritized` copies the case's priority service (set when it is filed) for the web inbox's order.
    "task_insert": (
        "INSERT INTO task (id, case_id, process_key, element_id, name, lane, role, agency, bound_org, assignee_id, "
        "claimed_at, created_at, due_at, overdue, prioritized) VALUES (:id, :case_id, :process_key, :element_id, "
        ":name, :lane, :role, :agency, :bound_org, :assignee_id, NULL, :created_at, :due_at, :overdue, "
        "(SELECT priority IS NOT NULL FROM case_record WHERE id = :case_id))"),
    "event_insert": (
        "INSERT INTO case_event (case_id, at, actor, action, task_id, element_id, label, diff) "
        "VALUES (:case_id, :at, :actor, :action, :task_id, :element_id, :label, :diff)"),
    "task_context": (
        "SELECT c.id, c.version, c.process_key, c.process_version_id, c.status, c.stage_id, c.stage_en, "  # noqa: S608
        "c.bundle_id, t.element_id, t.name, t.role, t.bound_org, t.assignee_id, c.applicant_id, c.filed_by_id, "
        f"t.escalated_to, {_STEP_COLUMNS} "
        f"FROM task t JOIN case_record c ON c.id = t.case_id {_STEP_JOINS} WHERE t.id = :tid ORDER BY p.id"),
    "case_head": (
        "SELECT id, version, process_key, process_version_id, status, stage_id, stage_en, bundle_id "
        "FROM case_record WHERE id = :case_id"),
    "case_state": "SELECT task_id, owner, payload, seq FROM case_state WHERE case_id = :case_id ORDER BY seq",
    "case_meta": "SELECT wf_meta, version FROM case_record WHERE id = :case_id",
    # A step that did not come through task_context reads its context alone (before it writes).
    "step_context": (
        f"SELECT {_STEP_COLUMNS} FROM case_record c {_STEP_JOINS} WHERE c.id = :case_id ORDER BY p.id"),  # noqa: S608
    # A service's newest version (engine.cases.service.start_form: every filing and start page reads it).
    "latest_version": 'SELECT id, version FROM process_version WHERE "key" = :key ORDER BY version DESC LIMIT 1',
    # A new case: whether its service is retired, and the service's newest version (NULL: no such service).
    "start_version": (
        'SELECT EXISTS (SELECT 1 FROM retired_process WHERE "key" = :key) AS retired, (SELECT id FROM '
        'process_version WHERE "key" = :key ORDER BY version DESC LIMIT 1) AS version_id'),
    # A new case's row (engine.cases.service.start_case): its data and state are written by its first step.
    "case_insert": (
        "INSERT INTO case_record (tracking_number, pin_hash, process_key, process_version_id, channel, applicant_id, "
        "filed_by_id, bundle_id, data, wf_meta, serializer_version, version, status, stage_id, stage_en, created_at, "
        "updated_at, due_at, priority, outreach_for, outreach_address, outreach_contact) VALUES (:tracking_number, "
        ":pin_hash, :process_key, :process_version_id, :channel, :applicant_id, :filed_by_id, :bundle_id, :data, "
        ":wf_meta, :serializer_version, :version, :status, :stage_id, :stage_en, :created_at, :updated_at, :due_at, "
        ":priority, :outreach_for, :outreach_address, :outreach_contact) RETURNING id"),
    # The agency a chosen organisation is registered under (engine.cases.steps.is_provider: filing, and every
    # step that routes a task bound to a provider firm).
    "agency_parent": "SELECT parent_code FROM agency WHERE code = :code",
    # Every API request's login check (engine.directory.actors.logged_in_actor): the account and its memberships.
    "logged_in": (
        "SELECT u.username, u.platform_role, u.active, u.session_epoch, m.role_key, m.organisation_code "
        "FROM user_account u LEFT JOIN membership m ON m.user_id = u.id WHERE u.id = :user_id"),
    # A step's answer: the case's open tasks, oldest first, with what names them for people
    # (engine.cases.tracking.next_steps) and what decides whether the caller may work on them
    # (engine.cases.next_tasks); a completion reads it once for both (tracking.after_step).
    "open_steps": (
        "SELECT t.id, t.element_id, t.name, t.role, t.agency, t.bound_org, t.assignee_id, t.escalated_to, t.due_at, "
        "c.applicant_id, c.filed_by_id, c.process_version_id, r.name AS role_name, a.name_id, a.name_en "
        "FROM task t JOIN case_record c ON c.id = t.case_id LEFT JOIN role r ON r.key = t.role "
        "LEFT JOIN agency a ON a.code = t.agency WHERE t.case_id = :case_id ORDER BY t.created_at, t.id"),
    # One case's open tasks, whole, with the case's applicant and filer (engine.cases.inbox, `case_id`).
    "case_tasks": (
        "SELECT t.id, t.case_id, t.process_key, t.element_id, t.name, t.lane, t.role, t.agency, t.bound_org, "
        "t.assignee_id, t.claimed_at, t.created_at, t.due_at, t.overdue, t.escalated_to, t.escalated_at, "
        "t.prioritized, c.applicant_id, c.filed_by_id FROM task t JOIN case_record c ON c.id = t.case_id "
        "WHERE t.case_id = :case_id"),
    "tracking_taken": (
        "SELECT 1 AS taken FROM case_record WHERE tracking_number = :number "
        "UNION ALL SELECT 1 FROM bundle WHERE tracking_number = :number"),
    "job_insert": (
        "INSERT INTO job (kind, case_id, task_id, due_at, status, attempts, created_at) "
        "VALUES (:kind, :case_id, :task_id, :due_at, 'pending', 0, :created_at)"),
    "job_insert_payload": (
        "INSERT INTO job (kind, case_id, task_id, due_at, status, attempts, payload, topic, created_at) "
        "VALUES (:kind, :case_id, :task_id, :due_at, 'pending', 0, :payload, :topic, :created_at)"),
    # A job queued at most once per (kind, case, task), as the job table's unique key allows: a second is no error.
    "job_insert_once": (
        "INSERT INTO job (kind, case_id, task_id, due_at, status, attempts, created_at) "
        "VALUES (:kind, :case_id, :task_id, :due_at, 'pending', 0, :created_at) "
        "ON CONFLICT (kind, case_id, task_id) DO NOTHING"),
    "timer_delete": (
        "DELETE FROM job WHERE kind = 'timer' AND case_id = :case_id AND task_id = :tid AND status = 'pending'"),
    "timer_move": (
        "UPDATE job SET due_at = :due_at, status = 'pending' WHERE kind = 'timer' AND case_id = :case_id "
        "AND task_id = :tid"),
    # The SLA clock's pause starting and ending (engine/sla/clock.py).
    "pause_insert": (
        "INSERT INTO sla_pause (case_id, reason, element_id, started_at) "
        "VALUES (:case_id, :reason, :element_id, :now)"),
    "case_paused": "UPDATE case_record SET sla_paused_since = :now WHERE id = :case_id",
    "pause_end": "UPDATE sla_pause SET ended_at = :now, paused_s = :seconds WHERE id = :pause_id",
    "case_pause_ended": "UPDATE case_record SET sla_paused_s = :total, due_at = :due WHERE id = :case_id",
    "case_pause_ended_runs": (
        "UPDATE case_record SET sla_paused_s = :total, due_at = :due, sla_paused_since = NULL WHERE id = :case_id"),
    # An upload's row (engine.documents.filestore.store); the files a form or a filing references, and linking
    # them to the case (filestore.link_case_files: every filing with documents, every completion whose form holds
    # files). `ids` is a JSON list; PostgreSQL reads it into an array first, so the lookups stay primary-key ones.
    "file_insert": (
        "INSERT INTO stored_file (sha256, filename, content_type, size, uploaded_by, case_id, created_at) "
        "VALUES (:sha256, :filename, :content_type, :size, :uploaded_by, :case_id, :created_at) RETURNING id"),
    "file_owners": "SELECT id, case_id, uploaded_by FROM stored_file WHERE id IN (SELECT value FROM json_each(:ids))",
    "file_link": (
        "UPDATE stored_file SET case_id = :case_id WHERE id IN (SELECT value FROM json_each(:ids)) "
        "AND case_id IS NULL"),
    # A filing's privacy notice: the stored row of its wording, and the acceptance (engine.privacy.notice).
    "notice_by_hash": "SELECT id FROM privacy_notice WHERE text_hash = :text_hash",
    "notice_accept": (
        "INSERT INTO notice_acceptance (case_id, notice_id, accepted_at, accepted_by, channel) "
        "VALUES (:case_id, :notice_id, :accepted_at, :accepted_by, :channel)"),
    # A new case's NIK lookup hashes (engine.privacy.lookup): it has none to replace yet.
    "lookup_insert": "INSERT INTO case_lookup (case_id, field, hash) VALUES (:case_id, :field, :hash)",
    "notification_insert": (
        "INSERT INTO notification (uid, event_id, event, channel, case_id, subscription_id, recipient, language, "
        "context, status, attempts, created_at) VALUES (:uid, :event_id, :event, :channel, :case_id, "
        ":subscription_id, :recipient, :language, :context, 'pending', 0, :created_at)"),
}

# A step's version check and whole task-state change in one statement. The task-state parts touch
# disjoint rows (a task is new, changed or gone) and run only when the case row was updated, i.e. the
# version matched (`head` is empty otherwise); the statement returns how many case rows that was.
# The changes come as one JSON parameter (`_state_json`: gone owners, gone tasks, added [task, owner,
# body, seq], changed [task, body]): json.dumps writes it in C, where psycopg dumps arrays in Python. The
# server reads it as jsonb, parsed once: as json, each `->` and `->>` parsed the text again (task bodies
# and all), ~0.13 ms of server CPU per PBG step. A statement holds only the parts its step has rows for
# (`_case_write`): an empty part still costs the server its setting up at every run (a PBG step never has
# gone owners: ~20 us); the few shapes are prepared once each.
# Also the first part of a batch's statement when the batch leads with it (`Batch.lead`).
_CASE_HEAD = (
    "head AS (UPDATE case_record SET version = :new_version, wf_meta = :wf_meta, data = :data, "
    "status = :status, stage_id = :stage_id, stage_en = :stage_en, outcome = :outcome, updated_at = :now, "
    "completed_at = :completed_at WHERE id = :case_id AND version = :version RETURNING id)")
_STATE_PARTS = {  # by the key of their rows in `_state_json`, in the order they run
    "o": ("gone_owners AS (DELETE FROM case_state WHERE case_id IN (SELECT id FROM head) "
          "AND owner IN (SELECT jsonb_array_elements_text(j->'o') FROM st))"),
    "g": ("gone AS (DELETE FROM case_state WHERE case_id = (SELECT id FROM head) "
          "AND task_id = ANY(ARRAY(SELECT jsonb_array_elements_text(j->'g') FROM st)))"),
    "a": ("added AS (INSERT INTO case_state (case_id, task_id, owner, seq, payload) SELECT h.id, a->>0, a->>1, "
          "CAST(a->>3 AS int), a->>2 FROM head h, st, jsonb_array_elements(st.j->'a') AS a)"),
    "u": ("changed AS (UPDATE case_state s SET payload = u->>1 FROM st, jsonb_array_elements(st.j->'u') AS u "
          "WHERE s.case_id = (SELECT id FROM head) "
          "AND s.task_id = ANY(ARRAY(SELECT jsonb_array_elements(j->'u')->>0 FROM st)) AND s.task_id = u->>0)"),
}


# A step that claims the task it completes (engine.cases.tasks.complete_task) writes the case only if it can lock
# that task's row still open and unclaimed (or already the claimant's): under PostgreSQL's READ COMMITTED a row
# another transaction changed meanwhile is read again as that one committed it, so `claim` holds the task as it
# is now, with its claimant, or nothing when it was completed meanwhile. Either way the case row is left unwritten,
# and so nothing of the statement, which answers CLAIM_LOST (claimed by someone else) or CLAIM_GONE (no longer
# open) in place of the count. A claim that comes after waits for the row's lock and finds the task gone.
_CLAIM = "claim AS (SELECT id, assignee_id FROM task WHERE id = :claim_tid FOR UPDATE)"
_CLAIM_FREE = "EXISTS (SELECT 1 FROM claim WHERE assignee_id IS NULL OR assignee_id = :claim_uid)"
CLAIM_LOST, CLAIM_GONE = -1, -2
_CLAIM_PARAMS = frozenset({"claim_tid", "claim_uid"})


@lru_cache(maxsize=32)
def _case_write(kinds: str, claim: bool = False) -> str:
    """Return the case write's CTE parts in psycopg's named style: the case row, then the task-state `kinds`.

    `claim`: the write is the step's that claims a task (`_CLAIM`); it leads, and the case row waits for it.
    """
    head = _CASE_HEAD.replace("RETURNING id)", f"AND {_CLAIM_FREE} RETURNING id)", 1) if claim else _CASE_HEAD
    parts = [*([_CLAIM] if claim else []), head, *(["st AS (SELECT CAST(:state AS jsonb) AS j)"] if kinds else []),
             *(_STATE_PARTS[kind] for kind in kinds)]
    return _PARAM.sub(r"%(\1)s", ", ".join(parts))


def _updated(claim: bool) -> str:
    """Return what the case write's statement answers first: the case rows updated, or CLAIM_LOST / CLAIM_GONE."""
    if not claim:
        return "(SELECT count(*) FROM head)"
    return _PARAM.sub(r"%(\1)s", f"(CASE WHEN {_CLAIM_FREE} THEN (SELECT count(*) FROM head) "  # noqa: S608
                                  f"WHEN EXISTS (SELECT 1 FROM claim) THEN {CLAIM_LOST} ELSE {CLAIM_GONE} END)")


def _state_kinds(changes: Changes) -> str:
    """Return the keys of `_state_json` that hold rows for this step (`_STATE_PARTS`'s order)."""
    return "".join(kind for kind, rows in (("o", changes.deleted_owners), ("g", changes.deletes),
                                            ("a", changes.inserts), ("u", changes.updates)) if rows)


# PostgreSQL only: one statement in place of several (each statement there is a round trip), with
# data-modifying CTEs and JSON arrays unpacked server-side. SQLite, in process, runs the several.
_JSON_IDS = "ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(:ids AS jsonb)) AS integer))"
POSTGRES = {
    "file_owners": f"SELECT id, case_id, uploaded_by FROM stored_file WHERE id = ANY({_JSON_IDS})",  # noqa: S608
    "file_link": f"UPDATE stored_file SET case_id = :case_id WHERE id = ANY({_JSON_IDS}) AND case_id IS NULL",  # noqa: S608
    "task_close": (
        "WITH gone AS (DELETE FROM task WHERE id = :tid RETURNING *) "
        "INSERT INTO task_span (task_id, case_id, process_key, element_id, name, role, agency, bound_org, "
        "assignee_id, created_at, claimed_at, closed_at, due_at, completed, escalated_at) SELECT id, case_id, "
        "process_key, element_id, name, role, agency, bound_org, COALESCE(assignee_id, CAST(:uid AS int)), "
        "created_at, COALESCE(claimed_at, CAST(:claimed AS timestamptz)), :now, due_at, :done, escalated_at "
        "FROM gone"),
}

# PostgreSQL: the many-row form of the writes a step sends last (`Batch`), as data-modifying CTE parts: every
# part of a batch goes in one statement, so one round trip without a pipeline (psycopg's pipeline costs more
# CPU than a round trip saves at a step's four or so writes). A part's rows arrive as one JSON array,
# `{rows}`, unpacked server-side in order (`n`); `{i}` names the part's CTEs apart. PostgreSQL runs a
# statement's CTE parts in an order of its own, so each part waits for the one before it (`{gate}` reads
# the previous part's result): the parts run in the order queued, their rows draw their ids (events, jobs,
# notifications) and fire their triggers (the task feed) in that order, as statements sent one by one would.
# They all read the statement's one snapshot, though: a kind goes here only if it never touches a row that
# another part of a step's batch writes (a task is closed or opened; a timer deleted, added or moved; the
# SLA clock's pause rows are each started or ended, and the case row is written by one part at most).
# The planner takes each JSON array for 100 rows, so joined to the array alone a delete or update found its
# rows by index only on large tables: EXPLAIN of the generic plans at 9,400 open tasks and 9,300 pending timers
# (analysed) read the whole task and job tables once per step, a hash join over a sequential scan; the nested
# loop over pk_task and uq_job_kind came at 46,000 rows. So each also names its keys as an array
# (`_keys`), which the planner takes for 10 values: at 9,400 rows the same plans find them by index (pk_task;
# the case's jobs by ix_job_case_id); at 1,200 a sequential scan of the small table is still the cheaper.
_ROWS = "ROWS FROM (json_to_recordset(CAST({rows} AS json)) AS ({columns})) WITH ORDINALITY AS r({names}, n)"


def _keys(column: str, field: str, cast: str = "") -> str:
    """Return `column = ANY(the rows' values of field)`: the array of keys a part's rows name, for the index."""
    value = f"CAST(x->>'{field}' AS {cast})" if cast else f"x->>'{field}'"
    return (f"{column} = ANY(ARRAY(SELECT {value} "  # noqa: S608 - constant text
            "FROM json_array_elements(CAST({rows} AS json)) AS x))")


def _insert(table: str, columns: str, values: str, typed: str, conflict: str = "") -> str:
    names = ", ".join(column.split()[0] for column in typed.split(", "))
    return (f"p{{i}} AS (INSERT INTO {table} ({columns}) SELECT {values} FROM "  # noqa: S608 - constant text
            + _ROWS.format(rows="{rows}", columns=typed, names=names) + f" WHERE {{gate}} ORDER BY r.n{conflict} "
            "RETURNING 1)")


def _update(table: str, assignments: str, typed: str, where: str, keys: str) -> str:
    return (f"p{{i}} AS (UPDATE {table} SET {assignments} FROM json_to_recordset(CAST({{rows}} AS json)) "  # noqa: S608
            f"AS r({typed}) WHERE {where} AND {keys} AND {{gate}} RETURNING 1)")


_CASE_KEYS = _keys("c.id", "case_id", "int")
_JOB_KEYS = _keys("j.case_id", "case_id", "int") + " AND " + _keys("j.task_id", "tid")
_MULTI_ROW = {
    "task_close": (
        "d{i} AS (DELETE FROM task t USING json_to_recordset(CAST({rows} AS json)) "  # noqa: S608 - constant text
        "AS r(tid text, now timestamptz, done boolean, uid int, claimed timestamptz) "
        "WHERE t.id = r.tid AND " + _keys("t.id", "tid") + " AND {gate} RETURNING t.*, r.now AS closed_now, "
        "r.done AS closed_done, r.uid AS closed_uid, r.claimed AS closed_claimed), "
        "p{i} AS (INSERT INTO task_span (task_id, case_id, process_key, element_id, name, role, agency, bound_org, "
        "assignee_id, created_at, claimed_at, closed_at, due_at, completed, escalated_at) SELECT id, case_id, "
        "process_key, element_id, name, role, agency, bound_org, COALESCE(assignee_id, closed_uid), created_at, "
        "COALESCE(claimed_at, closed_claimed), closed_now, due_at, closed_done, escalated_at FROM d{i} RETURNING 1)"),
    "task_insert": _insert(
        "task", "id, case_id, process_key, element_id, name, lane, role, agency, bound_org, assignee_id, claimed_at, "
        "created_at, due_at, overdue, prioritized",
        "r.id, r.case_id, r.process_key, r.element_id, r.name, r.lane, r.role, r.agency, r.bound_org, r.assignee_id, "
        "NULL, r.created_at, r.due_at, r.overdue, (SELECT priority IS NOT NULL FROM case_record WHERE id = r.case_id)",
        "id text, case_id int, process_key text, element_id text, name text, lane text, role text, agency text, "
        "bound_org text, assignee_id int, created_at timestamptz, due_at timestamptz, overdue boolean"),
    "timer_delete": (
        "p{i} AS (DELETE FROM job j USING json_to_recordset(CAST({rows} AS json)) "  # noqa: S608 - constant text
        "AS r(case_id int, tid text) WHERE j.kind = 'timer' AND j.case_id = r.case_id AND j.task_id = r.tid "
        "AND j.status = 'pending' AND "
        + _JOB_KEYS + " AND {gate} RETURNING 1)"),
    "timer_move": (
        "p{i} AS (UPDATE job j SET due_at = r.due_at, status = 'pending' "  # noqa: S608 - constant text
        "FROM json_to_recordset(CAST({rows} AS json)) AS r(case_id int, tid text, due_at timestamptz) "
        "WHERE j.kind = 'timer' AND j.case_id = r.case_id "
        "AND j.task_id = r.tid AND " + _JOB_KEYS + " AND {gate} RETURNING 1)"),
    "job_insert": _insert(
        "job", "kind, case_id, task_id, due_at, status, attempts, created_at",
        "r.kind, r.case_id, r.task_id, r.due_at, 'pending', 0, r.created_at",
        "kind text, case_id int, task_id text, due_at timestamptz, created_at timestamptz"),
    "job_insert_payload": _insert(
        "job", "kind, case_id, task_id, due_at, status, attempts, payload, topic, created_at",
        "r.kind, r.case_id, r.task_id, r.due_at, 'pending', 0, r.payload, r.topic, r.created_at",
        "kind text, case_id int, task_id text, due_at timestamptz, payload json, topic text, created_at timestamptz"),
    "job_insert_once": _insert(
        "job", "kind, case_id, task_id, due_at, status, attempts, created_at",
        "r.kind, r.case_id, r.task_id, r.due_at, 'pending', 0, r.created_at",
        "kind text, case_id int, task_id text, due_at timestamptz, created_at timestamptz",
        " ON CONFLICT (kind, case_id, task_id) DO NOTHING"),
    "lookup_insert": _insert("case_lookup", "case_id, field, hash", "r.case_id, r.field, r.hash",
                             "case_id int, field text, hash text"),
    # The SLA clock's (engine/sla/clock.py). One sync queues either case_paused (a pause starts on a running
    # clock) or a case_pause_ended kind (a pause ends), never both, and a step syncs once: of the batch's
    # parts, one at most writes the case row.
    "pause_insert": _insert("sla_pause", "case_id, reason, element_id, started_at",
                            "r.case_id, r.reason, r.element_id, r.now",
                            "case_id int, reason text, element_id text, now timestamptz"),
    "case_paused": _update("case_record c", "sla_paused_since = r.now", "case_id int, now timestamptz",
                           "c.id = r.case_id", _CASE_KEYS),
    "pause_end": _update("sla_pause s", "ended_at = r.now, paused_s = r.seconds",
                         "pause_id int, now timestamptz, seconds int", "s.id = r.pause_id",
                         _keys("s.id", "pause_id", "int")),
    "case_pause_ended": _update("case_record c", "sla_paused_s = r.total, due_at = r.due",
                                "case_id int, total int, due timestamptz", "c.id = r.case_id", _CASE_KEYS),
    "case_pause_ended_runs": _update("case_record c", "sla_paused_s = r.total, due_at = r.due, sla_paused_since = NULL",
                                     "case_id int, total int, due timestamptz", "c.id = r.case_id", _CASE_KEYS),
    "event_insert": _insert(
        "case_event", "case_id, at, actor, action, task_id, element_id, label, diff",
        "r.case_id, r.at, r.actor, r.action, r.task_id, r.element_id, r.label, r.diff",
        "case_id int, at timestamptz, actor text, action text, task_id text, element_id text, label text, diff json"),
    "notification_insert": _insert(
        "notification", "uid, event_id, event, channel, case_id, subscription_id, recipient, language, context, "
        "status, attempts, created_at",
        "r.uid, r.event_id, r.event, r.channel, r.case_id, r.subscription_id, r.recipient, r.language, r.context, "
        "'pending', 0, r.created_at",
        "uid text, event_id text, event text, channel text, case_id int, subscription_id int, recipient text, "
        "language text, context json, created_at timestamptz"),
}


_GATE = "(SELECT count(*) FROM p{}) >= 0"  # the previous part has run to its end
_LED = " AND EXISTS (SELECT 1 FROM head)"  # the case write that leads the statement updated the case row
# Kinds that write the case row: a batch holding one sends the case write it leads with apart, before it (one
# statement may not update a row twice).
_CASE_ROW = frozenset({"case_paused", "case_pause_ended", "case_pause_ended_runs"})


@lru_cache(maxsize=256)
def _combined(names: tuple[str, ...], led: bool = False, kinds: str = "", claim: bool = False) -> str:
    """Return one PostgreSQL statement running the many-row forms of `names` in order (parameters r0, r1, ...).

    `led`: the statement begins with the case write (`_case_write(kinds, claim)`, its parameters by name), each
    part runs only when that updated the case row (a lost race writes nothing), and it returns that count first.
    """
    parts = [_MULTI_ROW[name].format(i=i, rows=f"%(r{i})s",
                                     gate=(_GATE.format(i - 1) if i else "TRUE") + (_LED if led else ""))
             for i, name in enumerate(names)]
    last = f"SELECT count(*) FROM p{len(names) - 1}"  # noqa: S608 - constant parts
    if not led:
        return "WITH " + ", ".join(parts) + " " + last
    return (f"WITH {_case_write(kinds, claim)}, {', '.join(parts)} "  # noqa: S608 - constant parts
            f"SELECT {_updated(claim)} AS updated, ({last}) AS written")


def _json_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    """Return rows as one JSON array: datetimes as ISO text in UTC, nested values as `_adapt` writes them."""
    plain = [{key: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
              for key, value in row.items()} for row in rows]
    return json.dumps(plain, separators=(",", ":"), default=str)


_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


@lru_cache
def _translated(dialect: str, name: str) -> str:
    if dialect == "postgresql":  # psycopg's named style
        return _PARAM.sub(r"%(\1)s", POSTGRES.get(name) or STATEMENTS[name])
    if name not in STATEMENTS:
        raise KeyError(f"{name} runs on PostgreSQL only")
    return STATEMENTS[name]  # sqlite3 takes :name as it is


_AS_IS = frozenset({str, int, bool, float, type(None)})


def _adapt(value: Any, dialect: str) -> Any:
    if type(value) in _AS_IS:  # most values: checked once, not against every type below
        return value
    if isinstance(value, tuple):  # an array parameter (PostgreSQL only): psycopg sends a list as one
        return list(value)
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        # Same text the ORM's DateTime type writes on SQLite, so both read back alike.
        return value.replace(tzinfo=None).isoformat(" ", "microseconds") if dialect == "sqlite" else value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    return value


def read_time(value: Any) -> datetime | None:
    """Return a timestamp column's value as read by the driver as an aware UTC datetime, as the ORM's column reads it.

    SQLite hands back the text `_adapt` and the ORM wrote (naive UTC); PostgreSQL an aware datetime.
    """
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _params(row: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    return {key: _adapt(value, dialect) for key, value in row.items()}


_KEY = "mpp_hotsql"
DRIVER_SQL = "(a driver statement of engine/cases/hotsql.py)"  # what a wrapped error names as its statement
# Set in a transaction once a statement here may have written a task (not for the SELECTs: the login check of
# every request is one); the task feed wakes its streams after such a commit (engine/cases/feed.py).
WROTE = "mpp_hotsql_wrote"
# Writes that touch no task row: alone (an upload), they wake nobody, as the ORM's flush of a file does not.
_NOT_TASKS = frozenset({"file_insert", "file_link"})


def _reads_only(name: str) -> bool:
    return all(sql.lstrip().upper().startswith("SELECT") for sql in (STATEMENTS.get(name), POSTGRES.get(name)) if sql)


_READS = frozenset(name for name in (*STATEMENTS, *POSTGRES) if _reads_only(name))
_TASKLESS = _READS | _NOT_TASKS


def _mark(session: Session, name: str | None = None) -> None:
    """Note that the session's transaction may have written a task (a statement `name` that may write one)."""
    if name is None or name not in _TASKLESS:
        session.info[WROTE] = True


def _cursor_parts(session: Session) -> tuple[Any, str, Any, type[Exception], dict[str, Any]]:
    # The DBAPI connection under the session's own transaction (same BEGIN, same COMMIT), its dialect, on
    # PostgreSQL one cursor for every statement of the transaction (making a psycopg cursor costs more than
    # running a prepared statement's Python side), and the connection's `info` (where engine.db keeps a
    # deferred write). Looked up once per transaction; `engine.db` forgets them when it ends.
    found: tuple[Any, str, Any, type[Exception], dict[str, Any]] | None = session.info.get(_KEY)
    if found is None:
        conn = session.connection()
        driver: Any = conn.connection.driver_connection
        dialect = conn.dialect.name
        found = (driver, dialect, driver.cursor() if dialect == "postgresql" else None, conn.dialect.loaded_dbapi.Error,
                 conn.info)
        session.info[_KEY] = found
    elif session.in_nested_transaction():
        # SQLAlchemy emits a savepoint's SAVEPOINT at its first ORM statement. Asking for the connection
        # emits it now, so a driver statement made inside `begin_nested()` before any ORM one is inside the
        # savepoint, and rolling it back undoes it (a filing refused for a missing document, caught by the
        # apply page that keeps its uploads, left its case row behind).
        session.connection()
    return found


@contextmanager
def _cursor(session: Session, write: bool = True, parts: tuple[Any, ...] | None = None) -> Iterator[tuple[Any, str]]:
    """The cursor for one statement in the session's transaction; `write`: the statement may write or lock.

    On PostgreSQL a write held back (`engine.db.defer_write`) goes first, and a writing statement begins
    the transaction if its reads ran without one (engine.db, "a transaction begins at its first write").
    `parts`: `_cursor_parts` as found earlier (a deferred write is sent while SQLAlchemy ends a savepoint,
    when the session may not be asked for its connection).
    """
    driver, dialect, kept, failure, info = parts or _cursor_parts(session)
    with _wrapped(failure):
        if kept is not None:
            before_statement(info, driver, write)
            yield kept, dialect
            return
        # SQLite: a cursor per statement, closed at once. A kept cursor left its last statement unfinished (a
        # write's RETURNING rows unread), which held the transaction open past COMMIT: the write lock stayed
        # taken until the cursor was collected, and other writers waited out the busy timeout.
        cursor = driver.cursor()
        try:
            yield cursor, dialect
        finally:
            cursor.close()


@contextmanager
def _wrapped(failure: type[Exception]) -> Iterator[None]:
    """Raise the driver's errors wrapped as SQLAlchemy wraps them (its DataError, OperationalError, IntegrityError...).

    So the API's error answers and the retry rule see a driver statement fail as they see the ORM's: a
    NUL character PostgreSQL refuses is a 422, not a 500; a locked SQLite database is "busy". The
    driver's own error is the wrapper's `orig`.
    """
    try:
        yield
    except failure as exc:
        raise DBAPIError.instance(DRIVER_SQL, None, exc, failure) from exc


def _run(cursor: Any, dialect: str, name: str, row: Mapping[str, Any]) -> None:
    if dialect == "postgresql":  # prepared once per connection: no parsing nor planning after (engine.db)
        cursor.execute(_translated(dialect, name), _params(row, dialect), prepare=True)
    else:
        cursor.execute(_translated(dialect, name), _params(row, dialect))


def execute(session: Session, name: str, row: Mapping[str, Any]) -> int:
    """Run one statement in the session's transaction; return the affected row count."""
    _mark(session, name)
    with _cursor(session, name not in _READS) as (cursor, dialect):
        _run(cursor, dialect, name, row)
        return int(cursor.rowcount)


def execute_many(session: Session, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run one statement for many rows in the session's transaction."""
    if not rows:
        return
    _mark(session, name)
    with _cursor(session) as (cursor, dialect):
        cursor.executemany(_translated(dialect, name), [_params(r, dialect) for r in rows])


def fetch_all(session: Session, name: str, row: Mapping[str, Any]) -> list[Any]:
    """Run a query and return all its rows as named tuples."""
    _mark(session, name)
    with _cursor(session, name not in _READS) as (cursor, dialect):
        _run(cursor, dialect, name, row)
        fields = _FIELDS.get((dialect, name))
        if fields is None:  # a statement's columns never change: read them once, not at every run
            fields = _FIELDS[dialect, name] = _row_type(tuple(d[0] for d in cursor.description))
        return [fields(*values) for values in cursor.fetchall()]


_FIELDS: dict[tuple[str, str], Any] = {}


def read_all(session: Session, name: str, row: Mapping[str, Any]) -> list[Any]:
    """Run a query that sees the session's own pending changes, as an ORM query would; return its rows.

    A driver statement skips the session's autoflush, so the pending changes are flushed first. (The
    step path's own reads use `fetch_all`: they come before its writes, which go together at the end.)
    """
    session.flush()
    return fetch_all(session, name, row)


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> Any:
    # Making a namedtuple class costs ~0.1 ms; a statement's columns never change, so make each once.
    return namedtuple("Row", names)  # noqa: PYI024


def dialect_of(session: Session) -> str:
    """Return the name of the database dialect the session's transaction runs on."""
    return _cursor_parts(session)[1]


def fetch_one(session: Session, name: str, row: Mapping[str, Any]) -> Any:
    """Run a query and return its first row, or None."""
    rows = fetch_all(session, name, row)
    return rows[0] if rows else None


def write_case(session: Session, row: Mapping[str, Any], changes: Changes) -> int:
    """Update the case row if its version is still `row["version"]`, then apply the step's task-state changes.

    `row` holds case_update's parameters, and `claim_tid` and `claim_uid` when the step claims that task for that
    user (`_CLAIM`). Return how many case rows were updated: 0 means the version moved (a lost race) and nothing
    was written; CLAIM_LOST that someone else claimed the task first, CLAIM_GONE that it was completed first. One
    statement on PostgreSQL (one round trip). SQLite needs no claim check here: its first write fails if anything
    committed since the step's first read (engine.db).
    """
    claim = "claim_tid" in row
    if dialect_of(session) != "postgresql":
        updated = execute(session, "case_update", {k: v for k, v in row.items() if k not in _CLAIM_PARAMS})
        if updated == 1:
            _write_state(session, int(row["case_id"]), changes)
        return updated
    sql = f"WITH {_case_write(_state_kinds(changes), claim)} SELECT {_updated(claim)}"  # noqa: S608 - constant parts
    _mark(session)
    with _cursor(session) as (cursor, _dialect):
        cursor.execute(sql, _params({**row, "state": _state_json(changes)}, "postgresql"), prepare=True)
        return int(cursor.fetchone()[0])


def _state_json(changes: Changes) -> str:
    """Return a step's task-state changes as the one JSON parameter of PostgreSQL's case write (`_case_write`)."""
    return json.dumps({"o": changes.deleted_owners, "g": changes.deletes, "a": changes.inserts,
                       "u": changes.updates}, separators=(",", ":"))


def _write_state(session: Session, case_id: int, changes: Changes) -> None:
    """Apply one step's task-state row changes on SQLite: one statement per kind of change."""
    execute_many(session, "state_delete_owner", [
        {"case_id": case_id, "owner": owner} for owner in changes.deleted_owners])
    execute_many(session, "state_delete", [{"case_id": case_id, "tid": tid} for tid in changes.deletes])
    execute_many(session, "state_insert", [
        {"case_id": case_id, "tid": tid, "owner": owner, "seq": seq, "body": body}
        for tid, owner, body, seq in changes.inserts])
    execute_many(session, "state_update", [
        {"case_id": case_id, "tid": tid, "body": body} for tid, body in changes.updates])


class Batch:
    """Writes that need no answer, sent together at the end of a step.

    On PostgreSQL they go as one statement (`_MULTI_ROW`), or, when one of them has no many-row form,
    through one pipeline: one round trip for the lot either way, and a failing one fails the transaction.
    The one statement is sent at the transaction's next statement or at its commit (`engine.db.defer_write`):
    a step whose transaction writes nothing else is then a transaction of that one statement, without
    BEGIN and COMMIT. SQLite runs them in order in process, at `run`. A step's case write may lead the
    batch (`lead`).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._postgres = dialect_of(session) == "postgresql"
        self._items: list[tuple[str, list[Mapping[str, Any]]]] = []
        self._lead: tuple[Mapping[str, Any], Changes, Callable[[int], None]] | None = None

    def lead(self, row: Mapping[str, Any], changes: Changes, check: Callable[[int], None]) -> None:
        """Write the case and its task state (`write_case`) first of all, then `check` how many rows it updated.

        On PostgreSQL the write waits for `run` and goes as its statement's first part: the batch's other
        parts run only when it updated the case row, so a lost race writes nothing of the statement, and
        `check` (which raises to fail the step) sees the count as the statement is sent: at the
        transaction's next statement or at its commit, which the raise then fails. SQLite writes it now:
        in process there is no round trip to save, and the version check stays the step's first write.
        """
        if self._postgres:
            self._lead = (row, changes, check)
        else:
            check(write_case(self._session, row, changes))

    def add(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue one statement for each row, in order after what is queued already."""
        if rows:
            self._items.append((name, list(rows)))

    def close_tasks(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue moving open tasks to task_span (rows: tid, now, done): one statement on PostgreSQL, two on SQLite.

        A row may also say who claims the task as it closes and when (`uid`, `claimed`; task_archive).
        """
        rows = [{"uid": None, "claimed": None, **row} for row in rows]
        if self._postgres:
            self.add("task_close", rows)
        else:
            self.add("task_archive", rows)
            self.add("task_delete", [{"tid": row["tid"]} for row in rows])

    def run(self) -> None:
        """Send what is queued, in order, in the session's transaction (on PostgreSQL: see the class); empty it."""
        items, self._items = self._items, []
        if items or self._lead is not None:
            _mark(self._session)
        if self._lead is not None:
            items = self._run_led(items)
        if not items:
            return
        if not self._postgres:
            for name, rows in items:
                execute_many(self._session, name, rows)
            return
        if all(name in _MULTI_ROW for name, _rows in items):
            sql = _combined(tuple(name for name, _rows in items))
            self._send_later(sql, {f"r{i}": _json_rows(rows) for i, (_name, rows) in enumerate(items)}, None)
            return
        driver, _dialect, _kept, failure, info = _cursor_parts(self._session)
        before_statement(info, driver, write=True)  # the pipeline's own BEGIN, if the transaction has none yet
        with _wrapped(failure), driver.pipeline():  # a failure inside the pipeline may surface as it ends
            for name, rows in items:
                execute_many(self._session, name, rows)

    def _run_led(self, items: list[tuple[str, list[Mapping[str, Any]]]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
        """Send the case write that leads the batch, with `items` when they can share its statement; return the rest."""
        assert self._lead is not None  # noqa: S101 - run checks it
        (row, changes, check), self._lead = self._lead, None
        if not items or any(name not in _MULTI_ROW or name in _CASE_ROW for name, _rows in items):
            check(write_case(self._session, row, changes))
            return items
        params = _params({**row, "state": _state_json(changes)}, "postgresql")
        params.update({f"r{i}": _json_rows(rows) for i, (_name, rows) in enumerate(items)})
        sql = _combined(tuple(name for name, _rows in items), led=True, kinds=_state_kinds(changes),
                        claim="claim_tid" in row)
        self._send_later(sql, params, check)
        return []

    def _send_later(self, sql: str, params: dict[str, Any], check: Callable[[int], None] | None) -> None:
        """Hold the batch's one statement until the transaction's next statement or its commit (engine.db).

        `check` gets the statement's first column (the led statement's count of case rows updated).
        """
        session, parts = self._session, _cursor_parts(self._session)

        def send(last: bool) -> None:
            with _cursor(session, not last, parts) as (cursor, _dialect):
                cursor.execute(sql, params, prepare=True)
                counts = cursor.fetchone()
            if check is not None:
                check(int(counts[0]))

        defer_write(session, parts[4], send)

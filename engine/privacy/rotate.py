"""Key rotation: re-seal what older keys sealed, seal what was stored before sealing, count by key.

`rotate` walks the cases in id order, a batch per transaction: each case's data, workflow meta,
task rows and history diffs are re-sealed with the active key, values of sensitive fields written
before encryption are sealed, and the NIK lookups are written. A case whose rows change has its
version bumped, so a running server reloads it instead of overwriting it from its cache, and a step
racing the rotation fails with a conflict instead of losing either write. Stored files are re-sealed
after the cases. Running it again skips what is already done: stopping half-way is safe.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from engine.catalogue.labels import labels_for_version
from engine.db import transaction
from engine.documents.filestore import blob_path, write_sealed
from engine.models import StoredFile
from engine.privacy import cipher as cipher
from engine.privacy import keys as keys
from engine.privacy import lookup as lookup
from engine.privacy.fields import SENSITIVE

TOKEN = re.compile(r"enc:1:([A-Za-z0-9_-]{1,16}):")
PLAIN = "plain"


@dataclass
class Counts:
    """What a rotation changed, or what a status found: sealed values and files per key id."""

    values: Counter[str] = field(default_factory=Counter)
    files: Counter[str] = field(default_factory=Counter)
    cases: int = 0


def _json(raw: Any) -> Any:
    """A JSON column read without its type: text on SQLite, already parsed on PostgreSQL."""
    return json.loads(raw) if isinstance(raw, str | bytes) else raw


def _reseal(data: dict[str, Any], sensitive: frozenset[str], ring: keys.Keyring, counts: Counter[str]) -> bool:
    """Re-seal a dict's values in place under the active key; seal plain sensitive ones. Tell if any changed."""
    changed = False
    for name, value in data.items():
        if cipher.is_sealed(value):
            kid = cipher.kid_of(value)
            if kid != ring.active:
                data[name] = cipher.seal_text(name, cipher.open_text(name, value, ring), ring)
                counts[kid] += 1
                changed = True
        elif name in sensitive and value is not None:
            data[name] = cipher.seal_text(name, json.dumps(value, separators=(",", ":"), ensure_ascii=False), ring)
            counts[PLAIN] += 1
            changed = True
    return changed


def _rekey_tree(value: Any, ring: keys.Keyring, counts: Counter[str]) -> bool:
    """Re-seal, in place, every value an older key sealed anywhere in JSON; tell if any changed."""
    changed = False
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, item in list(items):
        if isinstance(item, dict | list):
            changed = _rekey_tree(item, ring, counts) or changed
        elif isinstance(name, str) and cipher.is_sealed(item) and (kid := cipher.kid_of(item)) != ring.active:
            value[name] = cipher.seal_text(name, cipher.open_text(name, item, ring), ring)
            counts[kid] += 1
            changed = True
    return changed


def _rotate_copies(session: Session, case_id: int, ring: keys.Keyring, counts: Counter[str]) -> None:
    """Re-seal the case's job payloads and issued documents (facts, holder): no workflow state, no version."""
    for job_id, raw in session.execute(text("SELECT id, payload FROM job WHERE case_id = :c AND payload IS NOT NULL"),
                                       {"c": case_id}).all():
        payload = _json(raw)
        if _rekey_tree(payload, ring, counts):
            session.execute(text("UPDATE job SET payload = :p WHERE id = :i"), {"p": json.dumps(payload), "i": job_id})
    for doc_id, raw, holder in session.execute(text(
            "SELECT id, facts, holder FROM issued_document WHERE case_id = :c"), {"c": case_id}).all():
        facts, wrapped = _json(raw) or {}, {"holder": holder}
        if _rekey_tree(facts, ring, counts) | _rekey_tree(wrapped, ring, counts):
            session.execute(text("UPDATE issued_document SET facts = :f, holder = :h WHERE id = :i"),
                            {"f": json.dumps(facts), "h": wrapped["holder"], "i": doc_id})


def _sensitive(session: Session, cache: dict[int, frozenset[str]], version_id: int) -> frozenset[str]:
    if version_id not in cache:
        classified = labels_for_version(session, version_id=version_id).personal_fields()
        cache[version_id] = frozenset(k for k, level in classified.items() if level == SENSITIVE)
    return cache[version_id]


def _rotate_case(session: Session, case: Any, sensitive: frozenset[str], ring: keys.Keyring,
                 counts: Counter[str]) -> bool:
    case_id, version, data_raw, meta_raw = case
    data = _json(data_raw) or {}
    changed_data = _reseal(data, sensitive, ring, counts)
    meta = _json(meta_raw) or {}
    changed_meta = _reseal(meta.setdefault("data", {}), sensitive, ring, counts)
    for sub in (meta.get("subprocesses") or {}).values():
        changed_meta = _reseal(sub.setdefault("data", {}), sensitive, ring, counts) or changed_meta
    rows = []
    for task_id, payload in session.execute(text("SELECT task_id, payload FROM case_state WHERE case_id = :c"),
                                            {"c": case_id}):
        row = json.loads(payload)
        delta = row.get("delta") or {}
        touched = _reseal(row.get("data") or {}, sensitive, ring, counts)
        touched = _reseal(delta.get("updates") or {}, sensitive, ring, counts) or touched
        if touched:
            rows.append({"c": case_id, "t": task_id, "p": json.dumps(row, separators=(",", ":"))})
    events = []
    for event_id, diff_raw in session.execute(text(
            "SELECT id, diff FROM case_event WHERE case_id = :c AND diff IS NOT NULL"), {"c": case_id}):
        diff = _json(diff_raw)
        if isinstance(diff, dict) and isinstance(diff.get("set"), dict) and _reseal(diff["set"], sensitive, ring,
                                                                                      counts):
            events.append({"i": event_id, "d": json.dumps(diff)})
    if not (changed_data or changed_meta or rows or events):
        return False
    bumped = session.execute(text(
        "UPDATE case_record SET version = version + 1, data = :d, wf_meta = :m WHERE id = :c AND version = :v"),
        {"d": json.dumps(data), "m": json.dumps(meta, separators=(",", ":")), "c": case_id, "v": version})
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        return False  # a step moved the case on meanwhile: the next run takes it
    if rows:
        session.execute(text("UPDATE case_state SET payload = :p WHERE case_id = :c AND task_id = :t"), rows)
    if events:
        session.execute(text("UPDATE case_event SET diff = :d WHERE id = :i"), events)
    lookup.write_lookups(session, case_id=case_id, data=cipher.open_fields(data, keyring=ring))
    return True


def _case_batches(sessions: sessionmaker[Session], size: int) -> Iterator[tuple[Session, list[Any]]]:
    after = 0
    while True:
        with transaction(sessions) as session:
            batch = list(session.execute(text(
                "SELECT id, version, data, wf_meta, process_version_id FROM case_record WHERE id > :a "
                "ORDER BY id LIMIT :n"), {"a": after, "n": size}))
            if not batch:
                return
            yield session, batch
        after = batch[-1][0]


def rotate(sessions: sessionmaker[Session], *, files_dir: Path, batch_size: int = 200,
           progress: Callable[[str], None] = lambda _: None) -> Counts:
    """Re-seal every value and file under the active key, a batch of cases per transaction."""
    ring = keys.current()
    counts, versions = Counts(), dict[int, frozenset[str]]()
    for session, batch in _case_batches(sessions, batch_size):
        for case_id, version, data, meta, version_id in batch:
            sensitive = _sensitive(session, versions, version_id)
            counts.cases += _rotate_case(session, (case_id, version, data, meta), sensitive, ring, counts.values)
            _rotate_copies(session, case_id, ring, counts.values)
        progress(f"cases up to {batch[-1][0]}: {counts.cases} re-sealed, values {dict(counts.values)}")
    with sessions() as session:
        digests = sorted(set(session.scalars(select(StoredFile.sha256))))
    for digest in digests:
        path = blob_path(files_dir, digest)
        if not path.exists():
            continue
        stored = path.read_bytes()
        kid = cipher.file_kid(stored[:64])
        if kid != ring.active:
            write_sealed(path, cipher.seal_bytes(cipher.open_bytes(stored, sha256=digest, keyring=ring),
                                                 sha256=digest, keyring=ring))
            counts.files[kid or PLAIN] += 1
    progress(f"files: {dict(counts.files)} re-sealed")
    return counts


def status(sessions: sessionmaker[Session], *, files_dir: Path) -> Counts:
    """Count the sealed values (case data, workflow state, history) and stored files per key id."""
    counts = Counts()
    queries = ("SELECT data FROM case_record", "SELECT wf_meta FROM case_record", "SELECT payload FROM case_state",
               "SELECT diff FROM case_event WHERE diff IS NOT NULL",
               "SELECT payload FROM job WHERE payload IS NOT NULL", "SELECT facts FROM issued_document",
               "SELECT holder FROM issued_document")
    with sessions() as session:
        for query in queries:
            for (raw,) in session.execute(text(query)):
                body = raw if isinstance(raw, str) else json.dumps(raw)
                counts.values.update(TOKEN.findall(body))
        digests = sorted(set(session.scalars(select(StoredFile.sha256))))
    for digest in digests:
        path = blob_path(files_dir, digest)
        if path.exists():
            with path.open("rb") as handle:
                counts.files[cipher.file_kid(handle.read(64)) or PLAIN] += 1
    return counts

"""The content-addressed file store: uploaded requirement documents and issued documents.

Bytes live on disk under `MPP_FILES_DIR` at `ab/cd/<sha256>`, written once (identical content is
stored once, whoever uploads it); each upload is a `stored_file` row with its own name, type,
uploader and case. The type is decided by the file's first bytes, never by the client's claim
alone: only PDF, PNG and JPEG are accepted.

Form data refers to a stored file with the string `file:<id>` (see `ref` and `parse_ref`), so
case data stays small JSON and every read goes through `may_read_file`.

A transaction that rolls back after `store` leaves its bytes on disk without a row: harmless
(the next upload of the same content reuses them) and cheap to sweep by sha256.

On disk the bytes are sealed with the active data key (engine.privacy: AES-256-GCM bound to the
plaintext's sha256, the key id in the header); the path stays the plaintext's sha256, for
deduplication, and the hash is checked after opening. Files written before sealing read as they are.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.cases import access as access
from engine.cases import hotsql as hotsql
from engine.directory.actors import Actor
from engine.errors import InvalidInput, NotFound
from engine.models import StoredFile as StoredFile  # re-exported: callers type their rows with it
from engine.models import utcnow
from engine.privacy import cipher as cipher
from engine.settings import Settings

# Magic numbers of the accepted types: what the bytes are, whatever the client says.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
# Clients name the same types in several ways; these all mean one of the accepted types.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
REF_PREFIX = "file:"
_REF_RE = re.compile(r"^file:([1-9][0-9]{0,9})$")


class FileRejected(InvalidInput):
    """An upload was refused (empty, too large, or not an accepted type); says why in both languages."""

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(message_en, message_id=message_id)
        self.message_en = message_en


class FileNotFound(NotFound):
    """No stored file has this id, or the actor may not read it."""


class FileCorrupt(NotFound):
    """The bytes on disk are missing or no longer match their hash."""


def ref(file_id: int) -> str:
    """Return the form-data reference of a stored file: `file:<id>`."""
    return f"{REF_PREFIX}{file_id}"


def parse_ref(value: object) -> int | None:
    """Return the file id of a `file:<id>` reference, or None when the value is not one."""
    if not isinstance(value, str):
        return None
    match = _REF_RE.match(value)
    return int(match.group(1)) if match else None


def refs_in(data: Any) -> set[int]:
    """Collect the file ids referenced anywhere in form data (nested objects and arrays too)."""
    found: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            file_id = parse_ref(item)
            if file_id is not None:
                found.add(file_id)
    return found


def sniff(data: bytes) -> str | None:
    """Return the content type the bytes really are (PDF, PNG, JPEG), or None."""
    return next((kind for kind, magics in SIGNATURES.items() if data.startswith(magics)), None)


def blob_path(root: Path, sha256: str) -> Path:
    """Return where the bytes with this hash live: `<root>/ab/cd/<sha256>`."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a sha256 hex digest")
    return root / sha256[:2] / sha256[2:4] / sha256


def clean_filename(filename: str, content_type: str) -> str:
    """Reduce a client's file name to a safe base name with the extension of its real type."""
    base = unicodedata.normalize("NFKC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" ._")[:120] or "berkas"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}{EXTENSIONS[content_type]}"


def check_upload(data: bytes, *, content_type: str | None, max_bytes: int) -> str:
    """Check size and type of an upload; return its real content type or raise FileRejected."""
    if not data:
        raise FileRejected("Berkas kosong.", "The file is empty.")
    if len(data) > max_bytes:
        limit = f"{max_bytes / 1024 / 1024:.0f} MiB"
        raise FileRejected(f"Berkas lebih besar dari {limit}.", f"The file is larger than {limit}.")
    real = sniff(data)
    if real is None:
        raise FileRejected("Jenis berkas tidak diterima: unggah PDF, PNG atau JPEG.",
                           "File type not accepted: upload a PDF, PNG or JPEG.")
    claimed = ALIASES.get((content_type or "").split(";")[0].strip().lower(), (content_type or "").split(";")[0]
                          .strip().lower())
    if claimed and claimed != "application/octet-stream" and claimed != real:
        raise FileRejected(f"Isi berkas ({real}) tidak sesuai dengan jenis yang disebut ({claimed}).",
                           f"The file's content ({real}) does not match its stated type ({claimed}).")
    return real


def _write_blob(root: Path, sha256: str, data: bytes) -> None:
    path = blob_path(root, sha256)
    if path.exists():
        return  # content-addressed: the same bytes are already there (sealed; `read_bytes` checks them)
    write_sealed(path, cipher.seal_bytes(data, sha256=sha256))


def write_sealed(path: Path, data: bytes) -> None:
    """Write a blob's (sealed) bytes beside its path and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store(
    session: Session, *, settings: Settings, data: bytes, filename: str, content_type: str | None,
    uploaded_by: int | None, case_id: int | None = None,
) -> StoredFile:
    """Check and store an upload; return its row (reference it in form data as `ref(row.id)`).

    The row is written as driver SQL (engine/cases/hotsql.py; the ORM's flush of it cost ~0.3 ms of Python
    per upload). The object returned holds the written values and is not in the session: `session.get`
    reads the row afresh.
    """
    real = check_upload(data, content_type=content_type, max_bytes=settings.max_file_bytes)
    digest = hashlib.sha256(data).hexdigest()
    _write_blob(settings.files_dir, digest, data)
    values = {"sha256": digest, "filename": clean_filename(filename, real), "content_type": real, "size": len(data),
              "uploaded_by": uploaded_by, "case_id": case_id, "created_at": utcnow()}
    # `read_all` flushes first: the row may name a case or an account the session has just added.
    (written,) = hotsql.read_all(session, "file_insert", values)
    return StoredFile(id=written.id, **values)


def get_file(session: Session, *, file_id: int) -> StoredFile:
    """Return a stored file's row or raise FileNotFound."""
    row = session.get(StoredFile, file_id)
    if row is None:
        raise FileNotFound(f"file {file_id} not found")
    return row


def open_file(session: Session, *, settings: Settings, file_id: int) -> tuple[StoredFile, bytes]:
    """Return a stored file's row and bytes, checked against its hash."""
    row = get_file(session, file_id=file_id)
    return row, read_bytes(settings, row)


def read_bytes(settings: Settings, row: StoredFile) -> bytes:
    """Read a stored file's bytes and check them against the hash they were stored under."""
    try:
        stored = blob_path(settings.files_dir, row.sha256).read_bytes()
    except FileNotFoundError as exc:
        raise FileCorrupt(f"the content of file {row.id} is missing from the file store") from exc
    try:
        data = cipher.open_bytes(stored, sha256=row.sha256)
    except cipher.SealBroken as exc:
        raise FileCorrupt(f"the content of file {row.id} no longer matches its hash") from exc
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise FileCorrupt(f"the content of file {row.id} no longer matches its hash")
    return data


def may_read_file(session: Session, *, actor: Actor, file_id: int) -> bool:
    """Tell whether the actor may read a stored file: its uploader, or whoever may read its case."""
    row = session.get(StoredFile, file_id)
    if row is None or actor.user_id is None:
        return False
    if row.uploaded_by is not None and row.uploaded_by == actor.user_id:
        return True
    return row.case_id is not None and access.may_view_case(session, actor, row.case_id)


def link_case_files(session: Session, *, case_id: int, data: Any, actor: Actor) -> list[int]:
    """Attach the files a form's data references to its case; refuse files the actor did not upload.

    Call it after starting a case or completing a task with form data holding `file:<id>`
    values: from then on the case's officers may read them.
    """
    wanted = refs_in(data)
    if not wanted:
        return []
    # Driver SQL (engine/cases/hotsql.py): the ORM's select and update cost ~0.3 ms of Python per filing.
    # `read_all` flushes first, so files stored earlier in the same transaction are seen.
    rows = hotsql.read_all(session, "file_owners", {"ids": sorted(wanted)})
    allowed = {r.id for r in rows if r.case_id == case_id
               or (r.case_id is None and r.uploaded_by is not None and r.uploaded_by == actor.user_id)}
    refused = sorted(wanted - allowed)
    if refused:
        raise FileRejected(f"Berkas {', '.join(map(ref, refused))} tidak ditemukan atau bukan unggahan Anda.",
                           f"File(s) {', '.join(map(ref, refused))} not found or not uploaded by you.")
    linked = sorted(allowed)
    if any(r.case_id is None for r in rows):
        hotsql.execute(session, "file_link", {"ids": linked, "case_id": case_id})
    # The UPDATE skips the identity map: a row of these files the session holds reads its case afresh.
    for file_id in linked:
        held = session.identity_map.get(identity_key(StoredFile, file_id))
        if held is not None:
            session.expire(held, ["case_id"])
    return linked


def case_files(session: Session, *, case_id: int) -> list[StoredFile]:
    """Return the files linked to a case, oldest first."""
    return list(session.scalars(select(StoredFile).where(StoredFile.case_id == case_id).order_by(StoredFile.id)))

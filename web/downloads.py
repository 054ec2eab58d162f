"""Downloads: the name a file is saved under (a Content-Disposition header any file name survives),
and a stored file sent to a user who may read it."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi.responses import Response
from sqlalchemy.orm import Session

from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.settings import Settings

# What a quoted ASCII filename may hold without any client misreading it: no quotes, backslashes,
# path separators, semicolons or control characters (RFC 6266 section 4.3).
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()+-]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FALLBACK_STEM = "berkas"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """Return a Content-Disposition value for `filename`: an ASCII fallback and, when needed, RFC 5987's UTF-8 name.

    Headers travel as latin-1, so a name such as `文件.pdf` cannot go into `filename="..."` as is
    (Starlette fails to encode it). Browsers read `filename*=UTF-8''...` (RFC 6266) and older
    clients the plain `filename`, which keeps only safe ASCII.
    """
    # Only the base name: a client must never see a path (RFC 6266 section 4.3).
    name = _CONTROL.sub("", filename).replace("\\", "/").rsplit("/", 1)[-1].strip() or FALLBACK_STEM
    fallback = _ascii_fallback(name)
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def _ascii_fallback(name: str) -> str:
    """Return the name reduced to safe ASCII (accents dropped, other characters replaced), keeping its extension."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem, extension = _ascii(stem).strip(" ._") or FALLBACK_STEM, _ascii(extension).strip(" ._")
    return f"{stem}.{extension}" if extension else stem


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_ASCII.sub("_", plain)


def stored_file(session: Session, *, settings: Settings, actor: Actor, file_id: int) -> Response:
    """Send a stored file inline to a user who may read it (its uploader, or whoever may read its case).

    Anyone else gets the same not-found answer as for a file that does not exist.
    """
    if not filestore.may_read_file(session, actor=actor, file_id=file_id):
        raise filestore.FileNotFound(f"file {file_id} not found")
    row, content = filestore.open_file(session, settings=settings, file_id=file_id)
    return Response(content, media_type=row.content_type, headers={
        "Content-Disposition": content_disposition(row.filename, inline=True), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})

"""Uploaded files: store a document, then reference it as `file:<id>` in an application or a task's form."""

from __future__ import annotations

from fastapi import UploadFile

from api.deps import CurrentActor, RuntimeDep, SessionDep
from api.routing import router
from api.schemas import Model
from engine.documents import filestore as filestore

routes = router(tags=["files"])


class FileRead(Model):
    id: int
    ref: str
    filename: str
    content_type: str
    size: int


@routes.post("/api/files", response_model=FileRead, status_code=201)
def upload(file: UploadFile, actor: CurrentActor, session: SessionDep, rt: RuntimeDep) -> FileRead:
    """Upload a PDF, PNG or JPEG; give its `ref` in `documents` of POST /api/cases or in a task's file field.

    Only its uploader may use or read it until a case it is given to links it; from then on,
    whoever may read the case.
    """
    data = file.file.read(rt.settings.max_file_bytes + 1)  # parsed already: a spooled temporary file
    row = filestore.store(session, settings=rt.settings, data=data, filename=file.filename or "berkas",
                          content_type=file.content_type, uploaded_by=actor.user_id)
    return FileRead(id=row.id, ref=filestore.ref(row.id), filename=row.filename, content_type=row.content_type,
                    size=row.size)

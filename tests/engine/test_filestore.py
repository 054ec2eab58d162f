"""The content-addressed file store: types by magic bytes, size limit, hashes, and who may read."""

from __future__ import annotations

import hashlib

import pytest

from engine.context import AppContext
from engine.db import transaction
from engine.documents import filestore as filestore
from engine.documents.filestore import FileCorrupt, FileRejected
from tests.documents import drive_to_bill, pbg_cast
from tests.factories import Driver, make_user

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def test_files_are_stored_once_by_hash_under_ab_cd(ctx: AppContext) -> None:
    owner = make_user(ctx, "pemohon")
    with transaction(ctx.sessions) as session:
        first = filestore.store(session, settings=ctx.settings, data=PDF, filename="../../KTP saya.PDF",
                                content_type="application/pdf", uploaded_by=owner.user_id)
        second = filestore.store(session, settings=ctx.settings, data=PDF, filename="salinan.pdf",
                                 content_type=None, uploaded_by=owner.user_id)
        ids = (first.id, second.id)
    digest = hashlib.sha256(PDF).hexdigest()
    path = ctx.settings.files_dir / digest[:2] / digest[2:4] / digest
    assert path.read_bytes().startswith(b"MPPENC1:"), "sealed at rest"
    assert PDF not in path.read_bytes()
    assert [p for p in ctx.settings.files_dir.rglob("*") if p.is_file()] == [path]
    with ctx.sessions() as session:
        row, data = filestore.open_file(session, settings=ctx.settings, file_id=ids[0])
    assert (row.filename, row.content_type, row.size, row.sha256, data) == ("KTP saya.pdf", "application/pdf",
                                                                             len(PDF), digest, PDF)
    assert ids[0] != ids[1]


@pytest.mark.parametrize(("data", "claimed", "expected"), [
    (PNG, "image/png", "image/png"),
    (JPEG, "image/jpg", "image/jpeg"),
    (PDF, "application/octet-stream", "application/pdf"),
])
def test_accepted_types_are_recognised_by_their_bytes(ctx: AppContext, data: bytes, claimed: str,
                                                      expected: str) -> None:
    with transaction(ctx.sessions) as session:
        row = filestore.store(session, settings=ctx.settings, data=data, filename="foto", content_type=claimed,
                              uploaded_by=None)
        assert (row.content_type, row.filename.rsplit(".", 1)[1]) == (expected, {"image/png": "png",
                                                                                 "image/jpeg": "jpg",
                                                                                 "application/pdf": "pdf"}[expected])


@pytest.mark.parametrize(("data", "claimed", "message"), [
    (b"", "application/pdf", "The file is empty."),
    (b"MZ\x90\x00 a program", "application/pdf", "File type not accepted"),
    (b"<html><script>alert(1)</script>", "text/html", "File type not accepted"),
    (PNG, "application/pdf", "does not match its stated type (application/pdf)"),
    (PDF + b"x" * 2048, "application/pdf", "larger than"),
])
def test_uploads_are_refused_with_a_bilingual_reason(ctx: AppContext, data: bytes, claimed: str,
                                                     message: str) -> None:
    settings = ctx.settings.model_copy(update={"max_file_bytes": 1024})
    with transaction(ctx.sessions) as session, pytest.raises(FileRejected) as raised:
        filestore.store(session, settings=settings, data=data, filename="x", content_type=claimed, uploaded_by=None)
    assert message in raised.value.message_en
    assert raised.value.message_id
    assert not ctx.settings.files_dir.exists() or not any(p.is_file() for p in ctx.settings.files_dir.rglob("*"))


def test_a_changed_or_missing_blob_is_reported_not_served(ctx: AppContext) -> None:
    with transaction(ctx.sessions) as session:
        row = filestore.store(session, settings=ctx.settings, data=PDF, filename="a.pdf",
                              content_type="application/pdf", uploaded_by=None)
    path = filestore.blob_path(ctx.settings.files_dir, row.sha256)
    path.write_bytes(PDF.replace(b"1.7", b"1.4"))
    with ctx.sessions() as session, pytest.raises(FileCorrupt):
        filestore.open_file(session, settings=ctx.settings, file_id=row.id)
    path.unlink()
    with ctx.sessions() as session, pytest.raises(FileCorrupt):
        filestore.open_file(session, settings=ctx.settings, file_id=row.id)


def test_references_in_form_data() -> None:
    data = {"ktp": "file:12", "lampiran": ["file:3", "bukan file:4", "file:0"], "x": {"y": "file:7"}, "n": 5}
    assert filestore.refs_in(data) == {12, 3, 7}
    assert filestore.parse_ref(filestore.ref(42)) == 42
    assert filestore.parse_ref("file:12abc") is None


def test_the_uploader_and_the_case_staff_may_read_others_may_not(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    stranger = make_user(ctx, "orang_lain")
    with transaction(ctx.sessions) as session:
        row = filestore.store(session, settings=ctx.settings, data=PDF, filename="sertifikat.pdf",
                              content_type="application/pdf", uploaded_by=cast.applicant.user_id)
        file_id = row.id
    case_id = drive_to_bill(Driver(ctx), cast).id
    with ctx.sessions() as session:
        assert filestore.may_read_file(session, actor=cast.applicant, file_id=file_id)
        assert not filestore.may_read_file(session, actor=cast.back, file_id=file_id)  # not linked to a case yet
        assert not filestore.may_read_file(session, actor=stranger, file_id=file_id)
    with transaction(ctx.sessions) as session, pytest.raises(FileRejected):
        filestore.link_case_files(session, case_id=case_id, data={"dokumen": [filestore.ref(file_id)]}, actor=stranger)
    with transaction(ctx.sessions) as session:
        linked = filestore.link_case_files(session, case_id=case_id, data={"dokumen": [filestore.ref(file_id)]},
                                           actor=cast.applicant)
    assert linked == [file_id]
    with ctx.sessions() as session:
        assert filestore.may_read_file(session, actor=cast.back, file_id=file_id)  # acted on the case
        assert not filestore.may_read_file(session, actor=stranger, file_id=file_id)
        assert not filestore.may_read_file(session, actor=cast.kasir, file_id=file_id)  # no part in it yet
        assert [f.id for f in filestore.case_files(session, case_id=case_id)] == [file_id]

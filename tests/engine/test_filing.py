"""Filing with required documents (engine/cases/filing.py) and a case's files with their origin (casefiles.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.cases import casefiles as casefiles
from engine.cases import filing as filing
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.documents import filestore as filestore
from engine.models import Case, StoredFile
from forms.validation import FormInvalid
from tests.documents import pbg_cast
from tests.factories import DRAWINGS, PDF, Driver, make_user, pbg_application


def _upload(ctx: AppContext, actor: Actor, name: str) -> str:
    with transaction(ctx.sessions) as session:
        row = filestore.store(session, settings=ctx.settings, data=PDF, filename=name, content_type="application/pdf",
                              uploaded_by=actor.user_id)
        return filestore.ref(row.id)


def _file(ctx: AppContext, actor: Actor, documents: dict[str, list[str]]) -> int:
    with transaction(ctx.sessions) as session:
        return filing.file_application(session, rt=ctx.rt, process_key="pbg", data=pbg_application(),
                                       channel="daring", actor=actor, applicant_id=actor.user_id,
                                       documents=documents, notice_accepted=True).id


def _cases(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_a_missing_required_document_is_named_and_nothing_is_filed(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    ktp = _upload(ctx, cast.applicant, "ktp.pdf")
    with pytest.raises(FormInvalid) as refused:
        _file(ctx, cast.applicant, {"ktp": [ktp], "kkpr": []})
    assert [(e.path, e.message_en) for e in refused.value.field_errors] == [
        ("doc__bukti_tanah", "Required document missing: Proof of land ownership (land certificate) or land-use "
                             "agreement.")]
    assert _cases(ctx) == 0
    with ctx.sessions() as session:  # the uploaded file was not given to any case
        assert session.scalar(select(StoredFile.case_id).where(StoredFile.id == filestore.parse_ref(ktp))) is None
    for wrong, code in (({"ktp": ["ktp.pdf"], "bukti_tanah": [ktp]}, "not-a-file"),
                        ({"ktp": [ktp], "bukti_tanah": [ktp], "paspor": [ktp]}, "unknown")):
        with pytest.raises(FormInvalid) as bad:
            _file(ctx, cast.applicant, wrong)
        assert code in {e.code for e in bad.value.field_errors}
    assert _cases(ctx) == 0


def test_a_refusal_caught_by_a_caller_that_commits_files_nothing(ctx: AppContext) -> None:
    """The apply page catches the refusal and commits the request (its uploads stay): the savepoint held the case."""
    cast = pbg_cast(ctx)
    _file(ctx, cast.applicant, {"ktp": [_upload(ctx, cast.applicant, "ktp.pdf")],
                                "bukti_tanah": [_upload(ctx, cast.applicant, "tanah.pdf")]})  # caches warm
    before = _cases(ctx)
    with transaction(ctx.sessions) as session:
        ktp = filestore.ref(filestore.store(session, settings=ctx.settings, data=PDF, filename="ktp.pdf",
                                            content_type="application/pdf", uploaded_by=cast.applicant.user_id).id)
        with pytest.raises(FormInvalid):
            filing.file_application(session, rt=ctx.rt, process_key="pbg", data=pbg_application(),
                                    channel="daring", actor=cast.applicant, applicant_id=cast.applicant.user_id,
                                    documents={"ktp": [ktp]}, notice_accepted=True)
    assert _cases(ctx) == before
    with ctx.sessions() as session:  # the upload committed with the request, given to no case
        assert session.scalar(select(StoredFile.case_id).where(StoredFile.id == filestore.parse_ref(ktp))) is None


def test_the_case_files_say_which_step_and_who_brought_them(ctx: AppContext) -> None:
    cast = pbg_cast(ctx)
    case_id = _file(ctx, cast.applicant, {"ktp": [_upload(ctx, cast.applicant, "ktp.pdf")],
                                          "bukti_tanah": [_upload(ctx, cast.applicant, "sertifikat.pdf")]})
    d = Driver(ctx)
    d.complete(case_id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    drawings = {**DRAWINGS, "gambar_struktur": [_upload(ctx, cast.consultant, "struktur.pdf")]}
    d.complete(case_id, "Task_gambar_teknis", cast.consultant, drawings)
    with transaction(ctx.sessions) as session:  # what the task page does after completing
        filestore.link_case_files(session, case_id=case_id, data={"gambar_struktur": drawings["gambar_struktur"]},
                                  actor=cast.consultant)
    with ctx.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        files = casefiles.case_files(session, case=case)
    assert [(f.filename, f.element_id, f.field, f.requirement is not None, f.uploader) for f in files] == [
        ("ktp.pdf", None, "ktp", True, cast.applicant.username),
        ("sertifikat.pdf", None, "bukti_tanah", True, cast.applicant.username),
        ("struktur.pdf", "Task_gambar_teknis", "gambar_struktur", False, cast.consultant.username)]
    assert files[0].requirement == ("KTP pemohon (atau akta pendirian dan NIB untuk badan usaha)",
                                    "Applicant's ID card (or deed of establishment and business ID number for a "
                                    "company)")
    assert all(f.inline for f in files)
    stranger = make_user(ctx, "bukan_petugas_kasus", "dpmptsp.kasir")
    with ctx.sessions() as session:
        assert filestore.may_read_file(session, actor=cast.tpa, file_id=files[2].id)  # the panel's task is open
        assert not filestore.may_read_file(session, actor=stranger, file_id=files[2].id)

"""Document numbers the platform gives: the format, the per-year sequence, races, lint, and the issued PDF."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime

import pypdf
import pytest
from sqlalchemy import select

from engine.context import AppContext
from engine.db import transaction
from engine.documents import numbering as numbering
from engine.documents import preview as preview
from engine.documents import service as documents
from engine.models import Case, DocumentNumber
from tests.conftest import FakeClock
from tests.documents import drive_to_bill, pbg_cast
from tests.engine.test_document_templates import messages, package_with
from tests.factories import PAID, Driver, pbg_application

PBG_FORMAT = "SK-PBG-3471-{dd}{mm}{yyyy}-{seq:03}"
AT = datetime(2026, 3, 12, 2, 30, tzinfo=UTC)  # 09:30 WIB
PBG_CTX = numbering.NumberContext(process_key="pbg", agency="dpmptsp", at=AT)


@pytest.mark.parametrize(("fmt", "seq", "expected"), [
    (PBG_FORMAT, 7, "SK-PBG-3471-12032026-007"),
    ("503/{agency}/{seq:04}/{month_roman}/{year}", 42, "503/DPMPTSP/0042/III/2026"),
    ("{service}-{yy}{month}{day}-{seq}", 1234, "PBG-260312-1234"),
    ("07{seq:05}", 3, "0700003"),
])
def test_a_format_prints_the_sequence_date_agency_and_service(fmt: str, seq: int, expected: str) -> None:
    assert numbering.format_errors(fmt) == []
    assert numbering.render(fmt, seq=seq, ctx=PBG_CTX) == expected


def test_the_date_is_the_day_in_jakarta() -> None:
    new_year_wib = numbering.NumberContext("pbg", "dpmptsp", datetime(2026, 12, 31, 18, 0, tzinfo=UTC))
    assert numbering.render("{yyyy}/{month_roman}/{seq:02}", seq=1, ctx=new_year_wib) == "2027/I/01"


@pytest.mark.parametrize(("fmt", "wanted"), [
    ("SK-{nomor}-{seq}", "unknown placeholder '{nomor}'; use one of {seq}, {seq:0N}, {year}"),
    ("SK-{year}", "must hold the sequence exactly once: {seq} or {seq:04}"),
    ("{seq}-{seq:02}", "must hold the sequence exactly once"),
    ("SK-{seq:10}", "unknown placeholder '{seq:10}'"),
    ("SK-{seq:0N}-{seq}", "unknown placeholder '{seq:0N}'"),
    ("SK-{{seq}}", "'{}' may not appear outside a placeholder"),
    ("SK#{seq}", "'#' may not appear outside a placeholder"),
    ("", "must be text such as"),
])
def test_a_bad_format_is_named_with_its_fix(fmt: str, wanted: str) -> None:
    errors = numbering.format_errors(fmt)
    assert any(wanted in en for en, _id in errors), errors
    assert all(id_ for _en, id_ in errors)  # and in Indonesian


def test_lint_refuses_an_unknown_placeholder_in_service_toml() -> None:
    good = package_with(document=DOCUMENT_WITH.format(fmt="UJI/{seq:04}/{year}"))
    assert messages(good) == []
    bad = package_with(document=DOCUMENT_WITH.format(fmt="UJI/{nomor_urut}/{seq}/{year}"))
    [message] = messages(bad)
    assert message.startswith("service.toml: document.number_format: unknown placeholder '{nomor_urut}'; use one of")


DOCUMENT_WITH = """
[document]
title = {{ id = "Surat Keterangan Uji", en = "Test Statement" }}
end_events = ["EndEvent_1"]
template = "documents/surat.html"
number_format = "{fmt}"
holder_field = "catatan"
facts = [{{ field = "harga", id = "Harga", en = "Price" }}]
"""


def _cases(ctx: AppContext, count: int) -> list[int]:
    applicant = pbg_cast(ctx, "nomor").applicant
    d = Driver(ctx)
    return [d.start("pbg", pbg_application(), applicant).id for _ in range(count)]


def _draw(ctx: AppContext, case_id: int, fmt: str, at: datetime) -> str:
    with transaction(ctx.sessions) as session:
        return numbering.draw(session, case_id=case_id, fmt=fmt,
                              ctx=numbering.NumberContext("pbg", "dpmptsp", at))


def test_the_sequence_counts_per_service_and_restarts_each_year(ctx: AppContext) -> None:
    first, second, third, fourth = _cases(ctx, 4)
    assert _draw(ctx, first, PBG_FORMAT, AT) == "SK-PBG-3471-12032026-001"
    with ctx.sessions() as session:
        assert numbering.next_number(session, fmt=PBG_FORMAT, ctx=PBG_CTX) == "SK-PBG-3471-12032026-002"
    assert _draw(ctx, second, PBG_FORMAT, AT) == "SK-PBG-3471-12032026-002"
    assert _draw(ctx, first, PBG_FORMAT, AT) == "SK-PBG-3471-12032026-001"  # a case keeps its number
    assert _draw(ctx, third, PBG_FORMAT, datetime(2027, 1, 4, 2, tzinfo=UTC)) == "SK-PBG-3471-04012027-001"
    # A format without the year never restarts: its numbers stay unique across years.
    with transaction(ctx.sessions) as session:
        session.execute(DocumentNumber.__table__.delete())
    assert _draw(ctx, first, "PBG-{seq:03}", AT) == "PBG-001"
    assert _draw(ctx, fourth, "PBG-{seq:03}", datetime(2027, 1, 4, 2, tzinfo=UTC)) == "PBG-002"


def test_two_signings_at_once_get_distinct_numbers(ctx: AppContext) -> None:
    case_ids = _cases(ctx, 4)
    barrier = threading.Barrier(len(case_ids))
    drawn: dict[int, str] = {}
    failures: list[BaseException] = []

    def sign(case_id: int) -> None:
        try:
            barrier.wait()
            drawn[case_id] = _draw(ctx, case_id, PBG_FORMAT, AT)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=sign, args=(case_id,)) for case_id in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(drawn.values()) == [f"SK-PBG-3471-12032026-00{n}" for n in range(1, 5)]
    with ctx.sessions() as session:
        rows = list(session.scalars(select(DocumentNumber).order_by(DocumentNumber.seq)))
    assert [(r.seq, r.year) for r in rows] == [(n, 2026) for n in range(1, 5)]
    assert {r.case_id: r.number for r in rows} == drawn


def test_a_signing_overlapping_an_uncommitted_one_takes_the_next_number(ctx: AppContext) -> None:
    first, second = _cases(ctx, 2)
    held, release = threading.Event(), threading.Event()
    drawn: dict[int, str] = {}

    def slow_signing() -> None:
        with transaction(ctx.sessions) as session:
            drawn[first] = numbering.draw(session, case_id=first, fmt=PBG_FORMAT, ctx=PBG_CTX)
            held.set()
            release.wait(timeout=30)  # still uncommitted while the other signing draws

    def other_signing() -> None:
        drawn[second] = _draw(ctx, second, PBG_FORMAT, AT)

    slow = threading.Thread(target=slow_signing)
    slow.start()
    assert held.wait(timeout=30)
    other = threading.Thread(target=other_signing)
    other.start()  # it waits for the first one's commit (row lock / SQLite's write lock), then draws again
    release.set()
    slow.join()
    other.join()
    assert drawn == {first: "SK-PBG-3471-12032026-001", second: "SK-PBG-3471-12032026-002"}


def test_the_signing_step_announces_the_number_only_when_its_form_does_not_ask_for_it(ctx: AppContext) -> None:
    [case_id] = _cases(ctx, 1)
    asks = {"properties": {"nomor_pbg": {"type": "string"}, "tanggal_pbg": {"type": "string"}}}
    shows = {"properties": {"nomor_pbg": {"type": "string", "readOnly": True}}}
    with ctx.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        typed = preview.signing_info(session, case=case, schema=asks, now=AT)
        generated = preview.signing_info(session, case=case, schema=shows, now=AT)
        other_step = preview.signing_info(session, case=case, schema={"properties": {"kelengkapan": {}}}, now=AT)
    assert typed == preview.SigningInfo("Persetujuan Bangunan Gedung", "Building Approval", "", False)
    assert generated == preview.SigningInfo("Persetujuan Bangunan Gedung", "Building Approval",
                                            "SK-PBG-3471-12032026-001", True)
    assert other_step is None


def _signed_without_number(ctx: AppContext, prefix: str) -> int:
    cast = pbg_cast(ctx, prefix)
    d = Driver(ctx)
    case = drive_to_bill(d, cast)
    d.complete(case.id, "Task_pembayaran", cast.applicant, PAID)
    d.complete(case.id, "Task_verifikasi", cast.kasir, {"pembayaran_valid": True})
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, {"tanggal_pbg": "2026-03-16"}) == "completed"
    return case.id


def test_signing_without_a_number_issues_the_platforms_number(ctx: AppContext, clock: FakeClock) -> None:
    case_id = _signed_without_number(ctx, "nomor")
    day = clock().astimezone(numbering.WIB).strftime("%d%m%Y")
    with ctx.sessions() as session:
        # Drawn with the signature, before the worker renders anything.
        assert numbering.number_of(session, case_id=case_id) == f"SK-PBG-3471-{day}-001"
    Driver(ctx).run_jobs()
    with ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case_id)
        _row, data = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
    assert doc.number == f"SK-PBG-3471-{day}-001"
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert f"SK-PBG-3471-{day}-001" in text
    assert "PRATINJAU" not in text
    second = _signed_without_number(ctx, "nomor2")
    with ctx.sessions() as session:
        assert numbering.number_of(session, case_id=second) == f"SK-PBG-3471-{day}-002"

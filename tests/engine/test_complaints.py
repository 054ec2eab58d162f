"""Complaints on a case or a service: routed to the agency's complaints role, due in the service's response days.

The complaint package (processes/pengaduan) binds its officers' lane to `instansi_pengaduan`: a
complaint about SKCK goes to `polresta.pengaduan` (declared by processes/skck), one about the
environmental approval (DLH declares no complaints role) to the mall's `dpmptsp.pengaduan`. Forwarding to
SP4N-LAPOR! runs against the simulator over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.cases import complaint_views as views
from engine.cases import complaints as complaints
from engine.context import AppContext
from engine.db import transaction
from engine.directory.actors import Actor
from engine.errors import NotAllowed, TaskNotForYourRole
from engine.models import Complaint
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.engine.test_lapor_connector import bind
from tests.factories import ROOT, Driver, deploy, make_user
from tests.simulators.lapor import Lapor

PUBLIC = Actor(None, "publik", "public")
SKCK = {"nama_lengkap": "Siti Rahmawati", "nik": "3471024505990002", "tempat_lahir": "Yogyakarta",
        "tanggal_lahir": "1999-05-05", "jenis_kelamin": "perempuan", "pekerjaan": "Karyawan swasta",
        "alamat": "Jl. Kaliurang Km 5, Yogyakarta", "telepon": "081227654321", "keperluan": "melamar_pekerjaan",
        "sidik_jari_terdaftar": True, "jemput_bola": False}
TYPED = {"nama_pelapor": "Siti Rahmawati", "email": "siti@contoh.id", "judul": "Berkas SKCK belum diteliti",
         "isi_pengaduan": "Sudah empat hari kerja berkas SKCK saya belum diteliti tanpa kabar dari petugas.",
         "rahasia": False}
ANSWER = {"keputusan_telaah": "jawab_langsung", "catatan_internal": "Petugas intelkam cuti; dialihkan.",
          "tanggapan": "Mohon maaf, berkas Anda sudah diteliti hari ini dan SKCK dapat dibayar."}


@pytest.fixture
def officers(ctx: AppContext) -> dict[str, Actor]:
    for folder in ("pengaduan", "skck", "lingkungan", "akta_kelahiran"):
        deploy(ctx, ROOT / "processes" / folder)
    return {"polresta": make_user(ctx, "pengaduan_polri", "polresta.pengaduan"),
            "disdukcapil": make_user(ctx, "pengaduan_capil", "disdukcapil.pengaduan"),
            "mall": make_user(ctx, "pengaduan_mpp", "dpmptsp.pengaduan")}


def _skck_case(ctx: AppContext) -> tuple[Driver, int, Actor]:
    d = Driver(ctx)
    applicant = make_user(ctx, "siti")
    return d, d.start("skck", SKCK, applicant, channel="daring").id, applicant


def _file(ctx: AppContext, *, case_id: int | None = None, service: str = "skck", data: dict[str, object] | None = None,
          actor: Actor = PUBLIC, applicant_id: int | None = None) -> int:
    with transaction(ctx.sessions) as session:
        target = (complaints.case_target(session, rt=ctx.rt, case_id=case_id) if case_id is not None
                  else complaints.service_target(session, rt=ctx.rt, service_key=service))
        return complaints.file_complaint(session, rt=ctx.rt, target=target, data=data or TYPED, actor=actor,
                                         applicant_id=applicant_id).id


def _view(ctx: AppContext, case_id: int) -> views.ComplaintView:
    d = Driver(ctx)
    with ctx.sessions() as session:
        found = views.complaint_of(session, tracking_number=d.case(case_id).tracking_number)
    assert found is not None
    return found


def test_a_complaint_on_a_case_goes_to_that_agencys_complaints_role(
        ctx: AppContext, officers: dict[str, Actor]) -> None:
    d, skck, applicant = _skck_case(ctx)
    complaint = _file(ctx, case_id=skck, actor=applicant, applicant_id=applicant.user_id)

    [task] = d.open_tasks(complaint)
    assert (task.element_id, task.role, task.agency) == ("Task_telaah", "polresta.pengaduan", "polresta")
    assert d.case(complaint).data["nomor_pelacakan"] == d.case(skck).tracking_number
    assert [t.case_id for t in d.inbox(officers["polresta"])] == [complaint]
    assert d.inbox(officers["disdukcapil"]) == []
    assert d.inbox(officers["mall"]) == []
    d.complete_checked(complaint, "Task_telaah", officers["polresta"], ANSWER,
                       refused=[officers["disdukcapil"], officers["mall"]])

    answered = _view(ctx, complaint)
    assert (answered.status, answered.answer_id, answered.on_time) == ("completed", ANSWER["tanggapan"], True)
    with ctx.sessions() as session:
        [on_case] = views.complaints_on(session, tracking_number=d.case(skck).tracking_number)
    assert on_case.tracking_number == d.case(complaint).tracking_number


def test_the_deadline_is_the_services_response_days(ctx: AppContext, clock: FakeClock,
                                                     officers: dict[str, Actor]) -> None:
    env = _file(ctx, service="lingkungan")  # [standard] complaints.response_days = 5; DLH has no complaints role
    d = Driver(ctx)
    [task] = d.open_tasks(env)
    assert task.role == "dpmptsp.pengaduan"
    with ctx.sessions() as session:
        row = session.query(Complaint).filter_by(case_id=env).one()
    expected = ctx.rt.calendar.due_at(clock(), 5)
    assert (row.response_days, row.due_at, task.due_at, d.case(env).due_at) == (5, expected, expected, expected)


@pytest.mark.parametrize(("service", "fallback", "expected"), [
    ({"standard": {"complaints": {"id": "…", "en": "…", "response_days": 5}}}, 3, 5),
    ({"standard": {"complaints": {"id": "…", "en": "…"}}}, 3, 3),  # no response_days: the complaint service's
    ({"standard": {"complaints": {"response_days": "5"}}}, 3, 3),
    ({"standard": {"complaints": {"response_days": True}}}, 3, 3),
    ({"standard": {"complaints": {"response_days": 0}}}, 3, 3),
    ({"standard": "none"}, 3, 3), ({}, 3, 3),
])
def test_response_days_are_read_defensively(service: dict[str, object], fallback: int, expected: int) -> None:
    assert complaints.response_days(service, fallback) == expected


def test_an_anonymous_complaint_needs_a_contact_and_gets_a_tracking_number(
        ctx: AppContext, officers: dict[str, Actor]) -> None:
    without = {k: v for k, v in TYPED.items() if k != "email"}
    with pytest.raises(FormInvalid) as info:
        _file(ctx, data=without)
    assert [e.path for e in info.value.field_errors] == ["email"]

    complaint = _file(ctx, data={**without, "telepon": "081234567890", "rahasia": True})
    row = Driver(ctx).case(complaint)
    assert row.tracking_number.startswith("MPP-")
    assert (row.applicant_id, row.filed_by_id) == (None, None)
    assert row.data["nama_pelapor"] == complaints.CONFIDENTIAL_NAME  # the agency's officers never read the name
    with ctx.sessions() as session:
        kept = session.query(Complaint).filter_by(case_id=complaint).one()
    assert (kept.confidential, kept.complainant_name) == (True, "Siti Rahmawati")


def test_the_officer_passes_a_complaint_to_another_agency(ctx: AppContext, officers: dict[str, Actor]) -> None:
    d = Driver(ctx)
    complaint = _file(ctx)
    with pytest.raises(FormInvalid):  # not an agency code: refused at the officer's form, nothing moves
        d.complete(complaint, "Task_telaah", officers["polresta"],
                   {"keputusan_telaah": "alihkan", "instansi_pengaduan": "Dinas Dukcapil"})
    d.complete(complaint, "Task_telaah", officers["polresta"],
               {"keputusan_telaah": "alihkan", "instansi_pengaduan": "disdukcapil"})
    assert [(t.element_id, t.role) for t in d.open_tasks(complaint)] == [("Task_telaah", "disdukcapil.pengaduan")]
    with pytest.raises(TaskNotForYourRole):
        d.complete(complaint, "Task_telaah", officers["polresta"], ANSWER)
    d.complete(complaint, "Task_telaah", officers["disdukcapil"],
               {"keputusan_telaah": "alihkan", "instansi_pengaduan": "bapenda"})  # no complaints role there
    assert [t.role for t in d.open_tasks(complaint)] == ["dpmptsp.pengaduan"]
    assert _view(ctx, complaint).handled_by == "dpmptsp"


@pytest.fixture
def lapor() -> Iterator[Lapor]:
    with Lapor() as server:
        yield server


def test_an_agency_forwards_to_lapor_over_http_and_the_ticket_is_the_public_answer(
        ctx: AppContext, lapor: Lapor, officers: dict[str, Actor]) -> None:
    bind(ctx, "lapor", lapor.url)
    d = Driver(ctx)
    complaint = _file(ctx, data={**TYPED, "rahasia": True})
    d.complete(complaint, "Task_telaah", officers["polresta"],
               {"keputusan_telaah": "teruskan_lapor", "instansi_terlapor": "Polresta Yogyakarta"})
    d.run_jobs()
    [sent] = lapor.received
    assert sent.body["instansi"] == "Polresta Yogyakarta"
    assert sent.body["rahasia"] is True
    assert sent.body["pelapor"] == {"nama": complaints.CONFIDENTIAL_NAME}
    answered = _view(ctx, complaint)
    assert answered.lapor_ticket == "LAPOR-2026-0000001"
    assert answered.answer_id is not None
    assert "LAPOR-2026-0000001" in answered.answer_id


def test_a_failed_forward_comes_back_to_the_same_agency(ctx: AppContext, lapor: Lapor,
                                                         officers: dict[str, Actor]) -> None:
    bind(ctx, "lapor", lapor.url)
    lapor.malformed('{"error": "instansi terlapor tidak dikenal"}', status=422)
    d = Driver(ctx)
    complaint = _file(ctx)
    d.complete(complaint, "Task_telaah", officers["polresta"],
               {"keputusan_telaah": "teruskan_lapor", "instansi_terlapor": "Polresta"})
    d.run_jobs()
    assert [(t.element_id, t.role) for t in d.open_tasks(complaint)] == [("Task_tangani_manual", "polresta.pengaduan")]


def test_figures_count_complaints_per_service_and_the_share_answered_on_time(
        ctx: AppContext, clock: FakeClock, officers: dict[str, Actor]) -> None:
    d = Driver(ctx)
    on_time, late, waiting = _file(ctx), _file(ctx), _file(ctx, service="lingkungan")
    d.complete(on_time, "Task_telaah", officers["polresta"], ANSWER)
    clock.advance(days=14)  # past every deadline: one answered late, one still open
    d.complete(late, "Task_telaah", officers["polresta"], ANSWER)
    admin = make_user(ctx, "admin1", platform_role="admin")
    with ctx.sessions() as session:
        rows = {r.service_key: r for r in views.figures(session, actor=admin, now=clock())}
        with pytest.raises(NotAllowed):
            views.figures(session, actor=officers["polresta"], now=clock())
    skck, env = rows["skck"], rows["lingkungan"]
    assert (skck.filed, skck.answered, skck.on_time, skck.open, skck.on_time_share) == (2, 2, 1, 0, 0.5)
    assert (env.filed, env.open, env.open_overdue, env.on_time_share) == (1, 1, 1, 0.0)
    assert _view(ctx, waiting).answered_at is None

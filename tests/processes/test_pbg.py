"""PBG building approval: every path of the published procedure, driven as the real roles."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from engine.context import AppContext
from engine.directory.actors import Actor
from engine.errors import TaskNotForYourRole
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.factories import (
    APPROVED,
    DRAWINGS,
    PAID,
    PBG,
    SIGNED,
    SKRD,
    SPPST,
    Driver,
    add_provider,
    deploy,
    make_user,
    pbg_application,
)


@dataclass
class Cast:
    applicant: Actor
    front: Actor
    griya: Actor
    mataram: Actor
    tpa: Actor
    kabid: Actor
    teknis: Actor
    back: Actor
    kasir: Actor
    kepala: Actor


@pytest.fixture
def cast(ctx: AppContext) -> Cast:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    add_provider(ctx, "konsultan_mataram", "konsultan")
    return Cast(
        applicant=make_user(ctx, "warga"),
        front=make_user(ctx, "fo", "dpmptsp.front_office"),
        griya=make_user(ctx, "griya", "konsultan.perencana", org="konsultan_griya"),
        mataram=make_user(ctx, "mataram", "konsultan.perencana", org="konsultan_mataram"),
        tpa=make_user(ctx, "tpa", "pupr.tpa"),
        kabid=make_user(ctx, "kabid", "pupr.kepala_bidang"),
        teknis=make_user(ctx, "teknis", "pupr.teknis"),
        back=make_user(ctx, "bo", "dpmptsp.back_office"),
        kasir=make_user(ctx, "kasir", "dpmptsp.kasir"),
        kepala=make_user(ctx, "kepala", "dpmptsp.kepala"),
    )




def _through_tpa(d: Driver, c: Cast, case_id: int) -> None:
    d.complete(case_id, "Task_kelengkapan", c.front, {"kelengkapan": "lengkap"})
    d.complete(case_id, "Task_gambar_teknis", c.griya, DRAWINGS)
    d.complete(case_id, "Task_tpa", c.tpa, APPROVED)


def test_happy_path_with_payment_issues_the_pbg(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    assert case.status == "running"
    assert case.tracking_number.startswith("MPP-")
    assert [t.role for t in d.open_tasks(case.id)] == ["dpmptsp.front_office"]
    _through_tpa(d, cast, case.id)
    data = d.case(case.id).data
    # PP 16/2021: 120.5 m2 x It 0.0915 (hunian 0.15 x classification 0.61) x Ibg 1 x (Ilo 0.5% x SHST Rp5,000,000)
    assert (data["indeks_klasifikasi"], data["indeks_terintegrasi"], data["retribusi"]) == (0.61, 0.0915, 275_644)
    d.complete(case.id, "Task_sppst", cast.teknis, SPPST)
    d.complete(case.id, "Task_skrd", cast.back, SKRD)
    d.complete(case.id, "Task_pembayaran", cast.applicant, PAID)
    d.complete(case.id, "Task_verifikasi", cast.kasir, {"pembayaran_valid": True})
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "PBG terbit")
    assert row.data["nomor_pbg"] == SIGNED["nomor_pbg"]
    assert d.open_tasks(case.id) == []
    actions = [(e.action, e.element_id, e.actor) for e in d.events(case.id)]
    assert actions[0] == ("started", None, "warga")
    assert ("completed", "Task_tpa", "tpa") in actions
    assert actions[-1][0] == "completed"
    tpa_event = next(e for e in d.events(case.id) if e.element_id == "Task_tpa")
    assert tpa_event.diff is not None
    assert tpa_event.diff["set"]["nomor_berita_acara"] == "BA/TPA/2026/017"


def test_incomplete_file_goes_back_to_the_applicant(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front,
               {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "Sertifikat tanah belum dilampirkan"})
    back = d.task(case.id, "Task_melengkapi")
    assert back.role == "applicant"
    assert [t.element_id for t in d.inbox(cast.applicant)] == ["Task_melengkapi"]
    assert d.inbox(cast.front) == []
    d.complete(case.id, "Task_melengkapi", cast.applicant, {"keterangan_perbaikan": "Sertifikat dilampirkan"})
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    assert [t.element_id for t in d.open_tasks(case.id)] == ["Task_gambar_teknis"]


def test_expert_panel_revision_rounds_loop_back_to_the_consultant(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", cast.griya, DRAWINGS)
    for round_no in (1, 2):
        d.complete(case.id, "Task_tpa", cast.tpa, {"hasil_tpa": "revisi", "catatan_tpa": f"Revisi ke-{round_no}"})
        d.complete(case.id, "Task_revisi", cast.griya,
                   {"catatan_revisi": f"Perbaikan {round_no}", "gambar_struktur": [f"file:{round_no + 10}"]})
    d.complete(case.id, "Task_tpa", cast.tpa, APPROVED)
    row = d.case(case.id)
    assert row.data["gambar_struktur"] == ["file:12"]
    assert row.data["gambar_arsitektur"] == ["file:1"]
    assert [t.element_id for t in d.open_tasks(case.id)] == ["Task_sppst"]
    rounds = [e for e in d.events(case.id) if e.element_id == "Task_revisi" and e.action == "completed"]
    assert len(rounds) == 2


def test_consultant_lane_is_bound_to_the_chosen_firm(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(consultant="konsultan_griya"), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    task = d.task(case.id, "Task_gambar_teknis")
    assert task.bound_org == "konsultan_griya"
    assert [t.id for t in d.inbox(cast.griya)] == [task.id]
    assert d.inbox(cast.mataram) == []
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_gambar_teknis", cast.mataram, DRAWINGS)
    with pytest.raises(TaskNotForYourRole):
        d.complete(case.id, "Task_gambar_teknis", cast.front, DRAWINGS)
    assert d.task(case.id, "Task_gambar_teknis").id == task.id


def test_low_income_housing_pays_nothing_and_skips_payment(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(rumah_mbr=True, luas_bangunan=36), cast.applicant, channel="daring")
    _through_tpa(d, cast, case.id)
    assert d.case(case.id).data["retribusi"] == 0
    d.complete(case.id, "Task_sppst", cast.teknis, SPPST)
    assert [t.element_id for t in d.open_tasks(case.id)] == ["Task_tanda_tangan"]
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"


def test_invalid_payment_is_sent_back_to_pay_again(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    _through_tpa(d, cast, case.id)
    d.complete(case.id, "Task_sppst", cast.teknis, SPPST)
    d.complete(case.id, "Task_skrd", cast.back, SKRD)
    d.complete(case.id, "Task_pembayaran", cast.applicant, PAID)
    d.complete(case.id, "Task_verifikasi", cast.kasir,
               {"pembayaran_valid": False, "catatan_verifikasi": "Dana belum masuk kas daerah"})
    d.complete(case.id, "Task_pembayaran", cast.applicant, {**PAID, "nomor_ssrd": "SSRD-99999"})
    d.complete(case.id, "Task_verifikasi", cast.kasir, {"pembayaran_valid": True})
    assert d.case(case.id).data["nomor_ssrd"] == "SSRD-99999"
    assert [t.element_id for t in d.open_tasks(case.id)] == ["Task_tanda_tangan"]


def test_unpaid_bill_expires_when_the_payment_timer_fires(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    _through_tpa(d, cast, case.id)
    d.complete(case.id, "Task_sppst", cast.teknis, SPPST)
    d.complete(case.id, "Task_skrd", cast.back, SKRD)
    clock.advance(days=29)
    d.run_jobs()
    assert [t.element_id for t in d.open_tasks(case.id)] == ["Task_pembayaran"]  # not due yet
    clock.advance(days=2)
    d.run_jobs()
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan kedaluwarsa")
    assert d.open_tasks(case.id) == []
    assert any(e.action == "timer_fired" for e in d.events(case.id))


def test_late_expert_review_escalates_to_the_head_of_division(ctx: AppContext, cast: Cast, clock: FakeClock) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", cast.griya, DRAWINGS)
    clock.advance(days=15)  # past the P10D timer and past the 10-working-day due date (16 March)
    d.run_jobs()
    open_now = {t.element_id: t for t in d.open_tasks(case.id)}
    assert set(open_now) == {"Task_tpa", "Task_tindak_lanjut_tpa"}
    assert open_now["Task_tindak_lanjut_tpa"].role == "pupr.kepala_bidang"
    assert open_now["Task_tpa"].overdue  # 10 working days passed: the scan flagged it
    d.complete(case.id, "Task_tindak_lanjut_tpa", cast.kabid, {"catatan_tindak_lanjut": "TPA dihubungi"})
    d.complete(case.id, "Task_tpa", cast.tpa, APPROVED)
    d.run_jobs()
    assert len([e for e in d.events(case.id) if e.action == "timer_fired"]) == 1
    assert [t.element_id for t in d.open_tasks(case.id)] == ["Task_sppst"]


def test_task_due_dates_count_working_days(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)  # Monday 2 March 2026
    task = d.task(case.id, "Task_kelengkapan")  # 2 working days
    assert task.due_at is not None
    assert task.due_at.date().isoformat() == "2026-03-04"


def test_the_expert_panel_can_refuse_with_a_reason(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", cast.griya, DRAWINGS)
    with pytest.raises(FormInvalid):  # a refusal states its reason
        d.complete(case.id, "Task_tpa", cast.tpa, {"hasil_tpa": "ditolak"})
    d.complete(case.id, "Task_tpa", cast.tpa,
               {"hasil_tpa": "ditolak", "alasan_penolakan_tpa": "Di sempadan sungai: standar teknis tidak terpenuhi"})
    row = d.case(case.id)
    assert (row.status, row.outcome) == ("completed", "Permohonan ditolak TPA")
    assert "retribusi" not in row.data


def test_an_approval_needs_the_building_classification(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(fungsi_bangunan="keagamaan"), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", cast.griya, DRAWINGS)
    with pytest.raises(FormInvalid):
        d.complete(case.id, "Task_tpa", cast.tpa,
                   {k: v for k, v in APPROVED.items() if k != "klasifikasi_zonasi_gempa"})
    d.complete(case.id, "Task_tpa", cast.tpa, APPROVED)
    assert d.case(case.id).data["retribusi"] == 0  # religious buildings: function index 0 (PP 16/2021)


def test_low_income_housing_keeps_its_ten_day_promise_on_the_case(ctx: AppContext, cast: Cast) -> None:
    d = Driver(ctx)
    mbr = d.start("pbg", pbg_application(rumah_mbr=True, luas_bangunan=36), cast.applicant)
    assert d.case(mbr.id).data["batas_janji_mbr"] == "2026-03-16"  # 10 working days from Monday 2 March
    # The promise is the case's own time limit (sla_working_days): its due date, not the service's 28 days.
    due = d.case(mbr.id).due_at
    assert due is not None
    assert due.astimezone(ZoneInfo("Asia/Jakarta")).isoformat() == "2026-03-16T16:00:00+07:00"
    other = d.start("pbg", pbg_application(), cast.applicant)
    assert "batas_janji_mbr" not in d.case(other.id).data
    assert "sla_working_days" not in d.case(other.id).data

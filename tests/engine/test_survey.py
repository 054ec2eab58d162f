"""The satisfaction survey (SKM): the official index on a hand-computed example, grades, one answer per case."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.context import AppContext
from engine.db import transaction
from engine.errors import NotAllowed, NotFound
from engine.sla import survey as survey
from engine.sla.service import Filters
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user

# Five respondents, unsur u1..u9, each scored 1-4.
ANSWERS = [
    [4, 4, 3, 4, 3, 3, 4, 3, 3],
    [3, 3, 3, 4, 3, 4, 4, 3, 2],
    [4, 3, 2, 4, 3, 3, 3, 3, 3],
    [3, 4, 3, 4, 4, 3, 4, 2, 3],
    [4, 3, 3, 4, 3, 4, 4, 3, 4],
]


def test_index_matches_the_hand_computed_example() -> None:
    # Totals per unsur: 18, 17, 14, 20, 16, 17, 19, 14, 15.
    # NRR = total / 5:  3.6, 3.4, 2.8, 4.0, 3.2, 3.4, 3.8, 2.8, 3.0 (sum 30.0).
    # Weighted NRR = NRR x 1/9; IKM = 30.0 / 9 = 3.3333; converted = 3.3333... x 25 = 83.33 -> B (Baik).
    totals = [sum(column) for column in zip(*ANSWERS, strict=True)]
    assert totals == [18, 17, 14, 20, 16, 17, 19, 14, 15]
    index = survey.compute_skm(totals, len(ANSWERS))
    assert index is not None
    assert index.nrr == tuple(Decimal(x) for x in ("3.60", "3.40", "2.80", "4.00", "3.20", "3.40", "3.80", "2.80",
                                                   "3.00"))
    assert (index.ikm, index.converted) == (Decimal("3.3333"), Decimal("83.33"))
    assert (index.grade.letter, index.grade.name_id) == ("B", "Baik")


def test_extremes_and_no_respondents() -> None:
    best = survey.compute_skm([4 * 3] * 9, 3)
    worst = survey.compute_skm([1 * 3] * 9, 3)
    assert best is not None
    assert worst is not None
    assert (best.converted, best.grade.letter) == (Decimal("100.00"), "A")  # 1/9 exactly, not 0.111
    assert (worst.converted, worst.grade.letter) == (Decimal("25.00"), "D")
    assert survey.compute_skm([0] * 9, 0) is None


@pytest.mark.parametrize(("value", "letter"), [
    ("100.00", "A"), ("88.31", "A"), ("88.305", "A"), ("88.30", "B"), ("88.3049", "B"), ("76.61", "B"),
    ("76.605", "B"), ("76.60", "C"), ("65.00", "C"), ("64.995", "C"), ("64.99", "D"), ("25.00", "D"),
])
def test_grade_boundaries(value: str, letter: str) -> None:
    assert survey.grade(Decimal(value)).letter == letter


def _completed_case(ctx: AppContext, d: Driver) -> tuple[str, str, int]:
    applicant = make_user(ctx, "pemohon")
    loket, verifikator = make_user(ctx, "loket", "dinas.loket"), make_user(ctx, "verifikator", "teknis.verifikator")
    case = d.start("sla_uji", {}, applicant)
    d.complete(case.id, "Task_terima", loket, {})
    assert d.complete(case.id, "Task_verifikasi", verifikator, {}) == "completed"
    return case.tracking_number, case.pin, case.id


def _submit(ctx: AppContext, number: str, scores: list[int], comment: str | None = None) -> None:
    with transaction(ctx.sessions) as session:
        survey.submit_survey(session, tracking_number=number, answers={f"u{i + 1}": s for i, s in enumerate(scores)},
                             comment=comment, language="id", now=ctx.rt.clock())


def test_answered_once_after_completion_and_counted(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, sla_package())
    d = Driver(ctx)
    running = d.start("sla_uji", {}, make_user(ctx, "lain"))
    with pytest.raises(survey.SurveyNotOpen):
        _submit(ctx, running.tracking_number, ANSWERS[0])
    number, pin, case_id = _completed_case(ctx, d)
    with ctx.sessions() as session:
        assert survey.pin_ok(session, tracking_number=number.lower(), pin=pin, secret=ctx.settings.secret_key
                             .get_secret_value())
        assert not survey.pin_ok(session, tracking_number=number, pin="000000" if pin != "000000" else "111111",
                                 secret=ctx.settings.secret_key.get_secret_value())
        assert [c.id for c in survey.survey_status(session, tracking_number=number).pending] == [case_id]
    with pytest.raises(FormInvalid) as bad:
        _submit(ctx, number, [4, 4, 5, 0, 4, 4, 4, 4])
    assert [e.path for e in bad.value.field_errors] == ["u3", "u4", "u9"]
    _submit(ctx, number, ANSWERS[0], comment="Cepat dan ramah")
    with pytest.raises(survey.SurveyAlreadyAnswered):
        _submit(ctx, number, ANSWERS[1])
    with ctx.sessions() as session, pytest.raises(NotFound):
        survey.survey_status(session, tracking_number="MPP-0000-0000")
    admin = make_user(ctx, "admin", platform_role="admin")
    officer = make_user(ctx, "petugas", "dinas.loket")
    with ctx.sessions() as session:
        [row] = survey.skm_dashboard(session, actor=admin, filters=Filters(date_from=date(2026, 3, 2)))
        assert row.index is not None
        # One respondent: NRR = the scores; sum 31 / 9 = 3.4444; x 25 = 86.11 -> B.
        assert (row.index.respondents, row.index.converted, row.index.grade.letter) == (1, Decimal("86.11"), "B")
        [empty] = survey.skm_dashboard(session, actor=admin, filters=Filters(date_from=date(2026, 3, 3)))
        assert empty.index is None
        with pytest.raises(NotAllowed):
            survey.skm_dashboard(session, actor=officer, filters=Filters())


def test_an_integrated_application_rates_each_finished_service(ctx: AppContext, clock: FakeClock) -> None:
    from engine.cases.bundles import start_bundle
    from tests.packages import simple_package

    deploy(ctx, sla_package())
    deploy(ctx, simple_package("uji"))
    applicant = make_user(ctx, "pemohon")
    loket, verifikator = make_user(ctx, "loket", "dinas.loket"), make_user(ctx, "verifikator", "teknis.verifikator")
    petugas = make_user(ctx, "petugas", "dinas.petugas")
    with transaction(ctx.sessions) as session:
        bundle = start_bundle(session, rt=ctx.rt, services=[("sla_uji", {}), ("uji", {"harga": 1, "jumlah": 1})],
                              channel="daring", actor=applicant, applicant_id=applicant.user_id, notice_accepted=True)
    first, second = (c.id for c in bundle.cases)
    d = Driver(ctx)
    with pytest.raises(survey.SurveyNotOpen):
        _submit(ctx, bundle.tracking_number, ANSWERS[0])
    d.complete(first, "Task_terima", loket, {})
    d.complete(first, "Task_verifikasi", verifikator, {})
    with ctx.sessions() as session:
        assert survey.pin_ok(session, tracking_number=bundle.tracking_number, pin=bundle.pin,
                             secret=ctx.settings.secret_key.get_secret_value())
        status = survey.survey_status(session, tracking_number=bundle.tracking_number)
        assert ([c.id for c in status.pending], status.unfinished) == ([first], 1)
    _submit(ctx, bundle.tracking_number, ANSWERS[0])
    d.complete(second, "Task_periksa", petugas, {"catatan": "beres"})
    _submit(ctx, bundle.tracking_number, ANSWERS[1])  # the service that finished later is rated on its own
    with pytest.raises(survey.SurveyAlreadyAnswered):
        _submit(ctx, bundle.tracking_number, ANSWERS[2])
    with ctx.sessions() as session:
        rated = survey.skm_by_service(session, process_keys=["sla_uji", "uji"], names={}, filters=Filters())
        assert [(r.process_key, r.index.respondents if r.index else 0) for r in rated] == [("sla_uji", 1), ("uji", 1)]

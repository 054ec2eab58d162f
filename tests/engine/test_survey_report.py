"""The SKM semester report against a hand-computed example: two services, eleven respondents, the MPP as a whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.context import AppContext
from engine.db import transaction
from engine.directory.service import ensure_roles
from engine.errors import InvalidInput, NotAllowed
from engine.sla import survey as survey
from engine.sla import survey_report as report
from engine.sla.escalation import supervisor_role
from forms.validation import FormInvalid
from tests.conftest import FakeClock
from tests.engine.sla_package import sla_package
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package

# Service A, sla_uji: six respondents (the first online on a completed case, the others at the kiosk).
A = [
    [4, 4, 3, 4, 3, 3, 4, 3, 3],
    [3, 3, 3, 4, 3, 4, 4, 3, 2],
    [4, 3, 2, 4, 3, 3, 3, 3, 3],
    [3, 4, 3, 4, 4, 3, 4, 2, 3],
    [4, 3, 3, 4, 3, 4, 4, 3, 4],
    [3, 3, 2, 4, 3, 3, 4, 2, 3],
]
# Service B, uji: five respondents at the kiosk.
B = [
    [2, 2, 1, 4, 2, 2, 3, 1, 2],
    [2, 3, 2, 4, 2, 3, 3, 2, 2],
    [3, 2, 2, 3, 3, 2, 3, 1, 2],
    [2, 2, 1, 4, 2, 2, 2, 2, 3],
    [3, 3, 2, 4, 2, 3, 3, 1, 2],
]
GENDERS_A = ["l", "l", "p", "p", "p", "x"]
GENDERS_B = ["p", "p", "l", "x", "x"]


def _profile(gender: str) -> dict[str, str]:
    return {"gender": gender, "age_group": "30_39", "education": "d4_s1", "occupation": "swasta"}


def _answers(scores: list[int]) -> dict[str, int]:
    return {f"u{i + 1}": s for i, s in enumerate(scores)}


def _completed(ctx: AppContext, d: Driver, who: str) -> tuple[str, int]:
    case = d.start("sla_uji", {}, make_user(ctx, who))
    d.complete(case.id, "Task_terima", make_user(ctx, f"loket_{who}", "dinas.loket"), {})
    d.complete(case.id, "Task_verifikasi", make_user(ctx, f"verif_{who}", "teknis.verifikator"), {})
    return case.tracking_number, case.id


def _collect(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, sla_package())
    deploy(ctx, simple_package("uji"))
    d = Driver(ctx)
    first, _ = _completed(ctx, d, "pemohon1")
    _completed(ctx, d, "pemohon2")  # completed, never answered: counts in the population only
    with transaction(ctx.sessions) as session:
        survey.submit_survey(session, tracking_number=first, answers=_answers(A[0]), comment=None, language="id",
                             now=ctx.rt.clock(), profile=_profile(GENDERS_A[0]))
        for scores, gender in zip(A[1:], GENDERS_A[1:], strict=True):
            survey.submit_kiosk(session, process_key="sla_uji", answers=_answers(scores), profile=_profile(gender),
                                comment=None, language="id", now=ctx.rt.clock())
        for i, (scores, gender) in enumerate(zip(B, GENDERS_B, strict=True)):
            survey.submit_kiosk(session, process_key="uji", answers=_answers(scores), profile=_profile(gender),
                                comment="Antre lama. Hubungi saya: budi@contoh.id / 0812-3456-7890" if i == 0 else None,
                                language="id", now=ctx.rt.clock())
    clock.advance(days=150)  # Semester II: not in the report of Semester I
    with transaction(ctx.sessions) as session:
        survey.submit_kiosk(session, process_key="uji", answers=_answers([1] * 9), profile=_profile("l"),
                            comment=None, language="id", now=ctx.rt.clock())


def test_the_semester_report_matches_the_hand_computed_example(ctx: AppContext, clock: FakeClock) -> None:
    _collect(ctx, clock)
    admin = make_user(ctx, "admin", platform_role="admin")
    with ctx.sessions() as session:
        result = report.build_report(session, actor=admin, period=report.semester(2026, 1),
                                     populations={"uji": 120})
    a, b = (next(u for u in result.services if u.process_key == key) for key in ("sla_uji", "uji"))
    # Service A, six respondents. Totals per element:
    #   u1 4+3+4+3+4+3 = 21, u2 4+3+3+4+3+3 = 20, u3 3+3+2+3+3+2 = 16, u4 6x4 = 24, u5 3+3+3+4+3+3 = 19,
    #   u6 3+4+3+3+4+3 = 20, u7 4+4+3+4+4+4 = 23, u8 3+3+3+2+3+2 = 16, u9 3+2+3+3+4+3 = 18 (sum 177).
    # NRR = total / 6: 3.50, 3.33, 2.67, 4.00, 3.17, 3.33, 3.83, 2.67, 3.00.
    # NRR tertimbang = total / 6 x 1/9 = total / 54: 0.3889, 0.3704, 0.2963, 0.4444, 0.3519, 0.3704, 0.4259,
    #   0.2963, 0.3333. IKM = 177 / 54 = 3.2778; x 25 = 81.94 -> B (76.61-88.30, Baik).
    # Weakest: u3 = u8 = 16 (element order), then u9 = 18.
    assert a.index is not None
    assert a.index.nrr == _dec("3.50 3.33 2.67 4.00 3.17 3.33 3.83 2.67 3.00")
    assert a.weighted == _dec("0.3889 0.3704 0.2963 0.4444 0.3519 0.3704 0.4259 0.2963 0.3333")
    assert (a.index.ikm, a.index.converted, a.index.grade.letter) == (Decimal("3.2778"), Decimal("81.94"), "B")
    assert [u.key for u, _ in a.weakest] == ["u3", "u8", "u9"]
    # Population A: the two cases completed in the semester; under 10 the whole population is the sample.
    assert (a.population, a.population_given, a.minimum_sample, a.respondents, a.below_minimum) == (
        2, False, 2, 6, False)
    assert a.channels == {"daring": 1, "kiosk": 5}
    gender = {q.key: rows for q, rows in a.profile}["gender"]
    # l 2/6 = 33.33 %, p 3/6 = 50.00 %, x 1/6 = 16.67 %.
    assert [(r.code, r.count, r.percent) for r in gender] == [
        ("l", 2, Decimal("33.33")), ("p", 3, Decimal("50.00")), ("x", 1, Decimal("16.67"))]
    # Service B, five respondents. Totals: u1 12, u2 12, u3 8, u4 19, u5 11, u6 12, u7 14, u8 7, u9 11 (sum 106).
    # NRR = total / 5: 2.40, 2.40, 1.60, 3.80, 2.20, 2.40, 2.80, 1.40, 2.20.
    # NRR tertimbang = total / 45: 0.2667, 0.2667, 0.1778, 0.4222, 0.2444, 0.2667, 0.3111, 0.1556, 0.2444.
    # IKM = 106 / 45 = 2.3556; x 25 = 58.89 -> D (25.00-64.99, Tidak Baik). Weakest: u8 7, u3 8, u5 11 (before u9).
    assert b.index is not None
    assert b.index.nrr == _dec("2.40 2.40 1.60 3.80 2.20 2.40 2.80 1.40 2.20")
    assert b.weighted == _dec("0.2667 0.2667 0.1778 0.4222 0.2444 0.2667 0.3111 0.1556 0.2444")
    assert (b.index.ikm, b.index.converted, b.index.grade.letter) == (Decimal("2.3556"), Decimal("58.89"), "D")
    assert [u.key for u, _ in b.weakest] == ["u8", "u3", "u5"]
    # Given population 120: between the table's rows 110 (86) and 120 (92) it is a row itself -> 92; 5 < 92.
    assert (b.population, b.population_given, b.minimum_sample, b.below_minimum) == (120, True, 92, True)
    assert [c.text for c in b.comments] == ["Antre lama. Hubungi saya: […] / […]"]
    # The MPP: all eleven answers pooled. Totals: 33, 32, 24, 43, 30, 32, 37, 23, 29 (sum 283 = 177 + 106).
    # NRR = total / 11: 3.00, 2.91, 2.18, 3.91, 2.73, 2.91, 3.36, 2.09, 2.64.
    # IKM = 283 / 99 = 2.8586; x 25 = 71.46 -> C (65.00-76.60, Kurang Baik); weakest u8 23, u3 24, u9 29.
    # (The mean of the two services' values, (81.94 + 58.89) / 2 = 70.42, would weigh 5 answers like 6.)
    # Population 2 + 120 = 122 -> the next row, 130 -> 97; 11 < 97.
    mpp = result.overall
    assert mpp.index is not None
    assert mpp.index.nrr == _dec("3.00 2.91 2.18 3.91 2.73 2.91 3.36 2.09 2.64")
    assert (mpp.index.respondents, mpp.index.ikm, mpp.index.converted, mpp.index.grade.letter) == (
        11, Decimal("2.8586"), Decimal("71.46"), "C")
    assert [u.key for u, _ in mpp.weakest] == ["u8", "u3", "u9"]
    assert (mpp.population, mpp.minimum_sample, mpp.below_minimum) == (122, 97, True)
    assert mpp.channels == {"daring": 1, "kiosk": 10}


def test_supervisors_see_their_agencys_services_only(ctx: AppContext, clock: FakeClock) -> None:
    _collect(ctx, clock)
    with transaction(ctx.sessions) as session:
        ensure_roles(session, [supervisor_role("teknis")])
    supervisor = make_user(ctx, "kepala_teknis", supervisor_role("teknis"))
    admin, officer = make_user(ctx, "admin", platform_role="admin"), make_user(ctx, "petugas", "dinas.loket")
    with ctx.sessions() as session:
        result = report.build_report(session, actor=supervisor, period=report.semester(2026, 1))
        assert [u.process_key for u in result.services] == ["sla_uji"]
        assert result.overall.respondents == 6
        later = report.build_report(session, actor=admin, period=report.semester(2026, 2))
        assert later.overall.respondents == 1
        with pytest.raises(NotAllowed):
            report.build_report(session, actor=officer, period=report.semester(2026, 1))


@pytest.mark.parametrize(("population", "sample"), [
    (0, 0), (5, 5), (10, 10), (11, 14), (100, 80), (105, 86), (1000, 278), (1001, 285), (75000, 382),
    (2_000_000, 384),
])
def test_minimum_sample_from_the_krejcie_morgan_table(population: int, sample: int) -> None:
    assert report.minimum_sample(population) == sample


def test_periods_and_populations_are_read_or_refused() -> None:
    today = date(2026, 8, 15)
    assert report.parse_period(semester_code="", date_from="", date_to="", today=today).semester == "2026-2"
    first = report.parse_period(semester_code="2025-1", date_from="", date_to="", today=today)
    assert (first.start, first.end) == (date(2025, 1, 1), date(2025, 6, 30))
    span = report.parse_period(semester_code="", date_from="2026-02-01", date_to="2026-02-28", today=today)
    assert (span.start, span.end, span.semester) == (date(2026, 2, 1), date(2026, 2, 28), None)
    for bad in ({"semester_code": "2026-3"}, {"date_from": "2026-02-30", "date_to": "2026-03-01"},
                {"date_from": "2026-03-01", "date_to": "2026-02-01"}):
        with pytest.raises(InvalidInput):
            report.parse_period(**{"semester_code": "", "date_from": "", "date_to": "", **bad}, today=today)
    assert report.parse_populations(["uji:120", "sla_uji:7"]) == {"uji": 120, "sla_uji": 7}
    with pytest.raises(InvalidInput):
        report.parse_populations(["uji=120"])


def test_the_kiosk_refuses_an_unknown_service_and_an_incomplete_profile(ctx: AppContext) -> None:
    deploy(ctx, sla_package())
    with transaction(ctx.sessions) as session, pytest.raises(FormInvalid) as bad:
        survey.submit_kiosk(session, process_key="tidak_ada", answers=_answers([3] * 8), profile={"gender": "l"},
                            comment=None, language="id", now=ctx.rt.clock())
    assert [e.path for e in bad.value.field_errors] == ["service", "age_group", "education", "occupation", "u9"]


def _dec(values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values.split())

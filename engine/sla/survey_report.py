"""The SKM report in the regulator's format: per service and MPP-wide, for a semester or any period.

PermenPAN-RB 14/2017 (Lampiran; see engine/sla/survey.py for the source) asks the unit to survey at
least once a year and to report, per service type and for the unit: the period, the population (the
service's users in the period) and the sample drawn from it, the respondents' profile, the NRR of each
element, the weighted NRR (NRR × 1/9), the index (IKM, 1–4) and its conversion ×25 with the grade, and
an improvement plan for the weakest elements. What this module computes:
- Period: Semester I (1 January – 30 June) or Semester II (1 July – 31 December) of a year, or any
  range of WIB dates; an answer counts in the period it was submitted in.
- Population: the service's cases completed in the period (the users who received the service), or a
  figure the report's author gives (users served outside the platform, e.g. counted at the counter).
- Minimum sample: the Krejcie–Morgan table the regulation reproduces (95 % confidence, 5 % error,
  P = 0.5). A population between two rows takes the larger row's sample (the conservative reading);
  under 10 every user is asked; above the last row, 384. A unit whose respondents fall short is marked.
- MPP-wide index: the regulation's unit-level method, the NRR of each element over all responses of
  every service in scope, then Σ NRR × 1/9. The MPP is the service unit (unit penyelenggara) the
  regulation's formula is written for; pooling weights each service by its respondents, so a service
  answered three times does not weigh as much as one answered three hundred times (which averaging
  the services' indices would do). The population is the sum of the services' populations.
- Weakest elements: the three lowest NRRs (ties in element order), the ones the unit plans
  improvements for.
- Comments: the text and its day only; e-mail addresses and runs of 8 or more digits (NIK, phone
  numbers) are blanked, since a respondent may type them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.cases.complaints import COMPLAINT_SERVICE
from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Case, SurveyResponse
from engine.sla.service import WIB, Filters, safe_cell, scope_for
from engine.sla.survey import CHANNELS, PROFILE, UNSUR, ProfileField, SkmIndex, Unsur, compute_skm

# (population N, minimum sample n), Krejcie & Morgan (1970), as in the regulation's annex.
KREJCIE_MORGAN: tuple[tuple[int, int], ...] = (
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44), (55, 48),
    (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76), (100, 80), (110, 86),
    (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118), (180, 123), (190, 127), (200, 132),
    (210, 136), (220, 140), (230, 144), (240, 148), (250, 152), (260, 155), (270, 159), (280, 162), (290, 165),
    (300, 169), (320, 175), (340, 181), (360, 186), (380, 191), (400, 196), (420, 201), (440, 205), (460, 210),
    (480, 214), (500, 217), (550, 226), (600, 234), (650, 242), (700, 248), (750, 254), (800, 260), (850, 265),
    (900, 269), (950, 274), (1000, 278), (1100, 285), (1200, 291), (1300, 297), (1400, 302), (1500, 306),
    (1600, 310), (1700, 313), (1800, 317), (1900, 320), (2000, 322), (2200, 327), (2400, 331), (2600, 335),
    (2800, 338), (3000, 341), (3500, 346), (4000, 351), (4500, 354), (5000, 357), (6000, 361), (7000, 364),
    (8000, 367), (9000, 368), (10000, 370), (15000, 375), (20000, 377), (30000, 379), (40000, 380),
    (50000, 381), (75000, 382), (1000000, 384),
)
WEAKEST = 3
PERIOD_MAX_DAYS = 366 * 5
_PRIVATE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|\d[\d .-]{6,}\d")


def minimum_sample(population: int) -> int:
    """Return the minimum number of respondents for a population, from the Krejcie–Morgan table."""
    if population < KREJCIE_MORGAN[0][0]:
        return max(population, 0)
    return next((n for size, n in KREJCIE_MORGAN if size >= population), KREJCIE_MORGAN[-1][1])


@dataclass(frozen=True)
class Period:
    """The report's period: WIB dates, both inclusive, and its name."""

    start: date
    end: date
    label_id: str
    label_en: str
    semester: str | None = None  # "2026-1" / "2026-2" when it is one

    def bounds(self) -> tuple[datetime, datetime]:
        """Return the period as instants [start, end)."""
        return (datetime.combine(self.start, time(0), tzinfo=WIB),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=WIB))


def semester(year: int, half: int) -> Period:
    """Return Semester I (January–June) or II (July–December) of a year."""
    if half == 1:
        return Period(date(year, 1, 1), date(year, 6, 30), f"Semester I {year} (Januari–Juni)",
                      f"Semester I {year} (January–June)", f"{year}-1")
    return Period(date(year, 7, 1), date(year, 12, 31), f"Semester II {year} (Juli–Desember)",
                  f"Semester II {year} (July–December)", f"{year}-2")


def semester_of(day: date) -> Period:
    """Return the semester a day falls in."""
    return semester(day.year, 1 if day.month <= 6 else 2)


def parse_period(*, semester_code: str, date_from: str, date_to: str, today: date) -> Period:
    """Read a period as typed: a semester "YYYY-1"/"YYYY-2", else a date range, else today's semester."""
    if date_from or date_to:
        start, end = _day(date_from, "dari", "from"), _day(date_to, "sampai", "to")
        if end < start:
            raise InvalidInput("Tanggal akhir sebelum tanggal awal / the end date is before the start date")
        if (end - start).days > PERIOD_MAX_DAYS:
            raise InvalidInput("Periode paling panjang 5 tahun / the period may be at most 5 years")
        return Period(start, end, f"{start.isoformat()} s.d. {end.isoformat()}", f"{start.isoformat()} to "
                      f"{end.isoformat()}")
    if not semester_code:
        return semester_of(today)
    match = re.fullmatch(r"(\d{4})-([12])", semester_code.strip())
    if match is None or not 2000 <= int(match[1]) <= 2100:
        raise InvalidInput(f"semester: '{semester_code[:20]}' bukan semester (YYYY-1 atau YYYY-2) / "
                           "is not a semester (YYYY-1 or YYYY-2)")
    return semester(int(match[1]), int(match[2]))


def _day(value: str, field_id: str, field_en: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field_id} / {field_en}: '{value[:20]}' bukan tanggal (YYYY-MM-DD) / "
                           "is not a date (YYYY-MM-DD)") from None


def parse_populations(values: Iterable[str]) -> dict[str, int]:
    """Read given populations typed as "service_key:number"."""
    given: dict[str, int] = {}
    for value in values:
        match = re.fullmatch(r"([a-z][a-z0-9_]{0,119}):(\d{1,9})", value.strip())
        if match is None:
            raise InvalidInput(f"populasi: '{value[:40]}' bukan 'kode_layanan:jumlah' / is not 'service_key:number'")
        given[match[1]] = int(match[2])
    return given


@dataclass(frozen=True)
class ProfileCount:
    """How many respondents gave one answer to a profile question, and their share in %."""

    code: str | None
    label_id: str
    label_en: str
    count: int
    percent: Decimal


@dataclass(frozen=True)
class Comment:
    """One respondent's suggestion, without anything that names them."""

    day: date
    process_key: str
    text: str


@dataclass(frozen=True)
class UnitReport:
    """The report of one service (process_key set) or of the whole MPP (process_key None)."""

    process_key: str | None
    name_id: str
    name_en: str
    population: int
    population_given: bool
    minimum_sample: int
    channels: dict[str, int]
    profile: list[tuple[ProfileField, list[ProfileCount]]]
    index: SkmIndex | None
    weighted: tuple[Decimal, ...]  # NRR × 1/9 per element, to 4 decimals
    weakest: list[tuple[Unsur, Decimal]]
    comments: list[Comment]

    @property
    def respondents(self) -> int:
        return self.index.respondents if self.index else 0

    @property
    def below_minimum(self) -> bool:
        """Tell whether fewer answered than the Krejcie–Morgan minimum for the population."""
        return self.respondents < self.minimum_sample


@dataclass(frozen=True)
class SkmReport:
    """The semester (or period) report: one unit per service in scope, then the MPP as a whole."""

    period: Period
    agencies_in_scope: frozenset[str] | None
    services: list[UnitReport]
    overall: UnitReport


def build_report(session: Session, *, actor: Actor, period: Period, populations: Mapping[str, int] | None = None,
                 agency: str | None = None, process_key: str | None = None) -> SkmReport:
    """Compute the report for the services the actor may see (admins: all; supervisors: their agency's)."""
    filters = Filters(date_from=period.start, date_to=period.end, process_key=process_key, agency=agency)
    scope = scope_for(session, actor=actor, filters=filters)
    keys = [k for k in scope.keys if k != COMPLAINT_SERVICE]
    names = scope.names()
    given = dict(populations or {})
    data = _Data.load(session, keys, period)
    units = [_unit(key, *names.get(key, (key, key)), data.for_keys([key]),
                   given.get(key, data.completed.get(key, 0)), key in given) for key in keys]
    overall = _unit(None, "Seluruh MPP", "The whole MPP", data.for_keys(keys),
                    sum(u.population for u in units), any(u.population_given for u in units))
    return SkmReport(period, scope.agencies, units, overall)


@dataclass
class _Slice:
    count: int
    totals: list[int]
    channels: dict[str, int]
    profile: dict[str, dict[str | None, int]]
    comments: list[Comment]


@dataclass
class _Data:
    """The period's answers and completed cases, read once and sliced per service."""

    rows: list[Any]
    completed: dict[str, int]

    @classmethod
    def load(cls, session: Session, keys: Sequence[str], period: Period) -> _Data:
        start, end = period.bounds()
        r = SurveyResponse
        columns = [r.process_key, r.channel, r.submitted_at, r.comment, *[getattr(r, q.key) for q in PROFILE],
                   *[getattr(r, u.key) for u in UNSUR]]
        rows = list(session.execute(select(*columns).where(r.process_key.in_(list(keys)), r.submitted_at >= start,
                                                            r.submitted_at < end).order_by(r.submitted_at, r.id)))
        done = session.execute(select(Case.process_key, func.count()).where(
            Case.process_key.in_(list(keys)), Case.status == "completed", Case.completed_at >= start,
            Case.completed_at < end).group_by(Case.process_key))
        return cls(rows, {key: int(count) for key, count in done})

    def for_keys(self, keys: Sequence[str]) -> _Slice:
        wanted = set(keys)
        part = _Slice(0, [0] * len(UNSUR), defaultdict(int), {q.key: defaultdict(int) for q in PROFILE}, [])
        first_score = 4 + len(PROFILE)
        for row in self.rows:
            if row[0] not in wanted:
                continue
            part.count += 1
            part.channels[row[1]] += 1
            for i, question in enumerate(PROFILE):
                part.profile[question.key][row[4 + i]] += 1
            for i in range(len(UNSUR)):
                part.totals[i] += int(row[first_score + i])
            if row[3]:
                part.comments.append(Comment(row[2].astimezone(WIB).date(), row[0], redact(row[3])))
        return part


def redact(text: str) -> str:
    """Blank e-mail addresses and long runs of digits (NIK, phone numbers) in a free-text comment."""
    return _PRIVATE.sub("[…]", text)


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _profile(data: _Slice) -> list[tuple[ProfileField, list[ProfileCount]]]:
    result = []
    for question in PROFILE:
        counts = data.profile[question.key]
        rows = [ProfileCount(code, text_id, text_en, counts.get(code, 0), _percent(counts.get(code, 0), data.count))
                for code, text_id, text_en in question.choices]
        if counts.get(None):
            text_id, text_en = question.label_of(None)
            rows.append(ProfileCount(None, text_id, text_en, counts[None], _percent(counts[None], data.count)))
        result.append((question, rows))
    return result


def _unit(key: str | None, name_id: str, name_en: str, data: _Slice, population: int, given: bool) -> UnitReport:
    index = compute_skm(data.totals, data.count)
    weighted: tuple[Decimal, ...] = ()
    weakest: list[tuple[Unsur, Decimal]] = []
    if index is not None:
        weighted = tuple(_weighted(total, data.count) for total in data.totals)
        order = sorted(range(len(UNSUR)), key=lambda i: (Fraction(data.totals[i], data.count), i))
        weakest = [(UNSUR[i], index.nrr[i]) for i in order[:WEAKEST]]
    channels = {code: data.channels.get(code, 0) for code, _, _ in CHANNELS}
    return UnitReport(key, name_id, name_en, population, given, minimum_sample(population), channels,
                      _profile(data), index, weighted, weakest, data.comments)


def _weighted(total: int, count: int) -> Decimal:
    exact = Fraction(total, count) * Fraction(1, len(UNSUR))
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


CSV_HEADER = ("section", "process_key", "name", "item", "label", "value", "percent")


def export_rows(result: SkmReport) -> list[list[str]]:
    """Return the report as CSV rows (header first), one figure per row, the services then the MPP."""
    rows: list[list[object]] = [list(CSV_HEADER), ["period", "", "", "start", "", result.period.start.isoformat(), ""],
                                ["period", "", "", "end", "", result.period.end.isoformat(), ""]]
    for unit in [*result.services, result.overall]:
        rows.extend(_unit_rows(unit))
    return [[safe_cell(cell) for cell in row] for row in rows]


def _unit_rows(unit: UnitReport) -> list[list[object]]:
    key, name = unit.process_key or "*", unit.name_id
    rows: list[list[object]] = [
        ["sample", key, name, "population", "given" if unit.population_given else "completed cases",
         unit.population, ""],
        ["sample", key, name, "minimum_sample", "Krejcie-Morgan", unit.minimum_sample, ""],
        ["sample", key, name, "respondents", "below minimum" if unit.below_minimum else "", unit.respondents, ""],
        *[["channel", key, name, code, text_id, unit.channels.get(code, 0), ""] for code, text_id, _ in CHANNELS],
        *[["profile", key, name, question.key, c.label_id, c.count, c.percent]
          for question, counts in unit.profile for c in counts]]
    if unit.index is not None:
        rows += [["nrr", key, name, u.key, u.name_id, nrr, ""] for u, nrr in zip(UNSUR, unit.index.nrr, strict=True)]
        rows += [["nrr_weighted", key, name, u.key, u.name_id, w, ""]
                 for u, w in zip(UNSUR, unit.weighted, strict=True)]
        rows += [["index", key, name, "ikm", "", unit.index.ikm, ""],
                 ["index", key, name, "converted", "", unit.index.converted, ""],
                 ["index", key, name, "grade", unit.index.grade.name_id, unit.index.grade.letter, ""]]
        rows += [["weakest", key, name, u.key, u.name_id, nrr, ""] for u, nrr in unit.weakest]
    if unit.process_key is not None:
        rows += [["comment", key, name, c.day.isoformat(), "", c.text, ""] for c in unit.comments]
    return rows

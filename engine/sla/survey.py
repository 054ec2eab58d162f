"""The community satisfaction survey (Survei Kepuasan Masyarakat, SKM) and its index.

Source: Peraturan Menteri PAN-RB Nomor 14 Tahun 2017 tentang Pedoman Penyusunan Survei Kepuasan
Masyarakat Unit Penyelenggara Pelayanan Publik, Lampiran (text reproduced at
https://puskaandriana.blogspot.com/2023/03/permenpan-no-14-th-2017-tentang-survey.html; the same
computation in a published local report: https://e-smile.tubaba.go.id/main/skm/laporan/online).
- Nine elements (unsur), in the regulation's order: persyaratan; sistem, mekanisme dan prosedur;
  waktu penyelesaian; biaya/tarif; produk spesifikasi jenis pelayanan; kompetensi pelaksana;
  perilaku pelaksana; penanganan pengaduan, saran dan masukan; sarana dan prasarana.
  Each is answered on a scale of 1 (tidak baik) to 4 (sangat baik).
- NRR per unsur (nilai rata-rata) = total of its scores / number of answers to it.
- Every unsur has the same weight, "bobot nilai rata-rata tertimbang = jumlah bobot / jumlah
  unsur = 1/X", so 1/9 for nine (the regulation's worked example rounds it to 0,11; reports often
  write 0,111). We use 1/9 exactly, so nine perfect scores give 100.00, not 99.90.
- SKM (IKM) = Σ NRR × 1/9; converted to the 25–100 scale, "SKM unit pelayanan × 25".
- Grades (mutu pelayanan) on the converted value: A 88,31–100,00 Sangat Baik; B 76,61–88,30 Baik;
  C 65,00–76,60 Kurang Baik; D 25,00–64,99 Tidak Baik. We round the converted value half-up to two
  decimals first, so every value falls in exactly one interval.
One applicant answers once per completed case (an integrated application: once per service).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.cases.tracking import hash_pin, normalise, pin_matches
from engine.directory.actors import Actor
from engine.errors import AlreadyExists, InvalidInput, NotFound
from engine.models import Bundle, Case, SurveyResponse
from engine.sla.service import Filters, scope_for
from forms.validation import FieldError, FormInvalid


@dataclass(frozen=True)
class Unsur:
    """One element of the survey: its column, its name and its question, in both languages."""

    key: str
    name_id: str
    name_en: str
    question_id: str
    question_en: str


UNSUR: tuple[Unsur, ...] = (
    Unsur("u1", "Persyaratan", "Requirements",
          "Bagaimana kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
          "How well did the requirements fit the service?"),
    Unsur("u2", "Sistem, mekanisme, dan prosedur", "System, mechanism and procedure",
          "Bagaimana kemudahan prosedur pelayanan di unit ini?", "How easy was the procedure?"),
    Unsur("u3", "Waktu penyelesaian", "Completion time",
          "Bagaimana kecepatan waktu dalam memberikan pelayanan?", "How fast was the service delivered?"),
    Unsur("u4", "Biaya/tarif", "Fee",
          "Bagaimana kewajaran biaya/tarif dalam pelayanan?", "How reasonable was the fee?"),
    Unsur("u5", "Produk spesifikasi jenis pelayanan", "Service product",
          "Bagaimana kesesuaian produk pelayanan antara yang tercantum dalam standar pelayanan dengan hasil "
          "yang diberikan?", "How well did the result match the published service standard?"),
    Unsur("u6", "Kompetensi pelaksana", "Staff competence",
          "Bagaimana kompetensi/kemampuan petugas dalam pelayanan?", "How competent were the staff?"),
    Unsur("u7", "Perilaku pelaksana", "Staff behaviour",
          "Bagaimana perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?",
          "How polite and friendly were the staff?"),
    Unsur("u8", "Penanganan pengaduan, saran, dan masukan", "Handling of complaints and suggestions",
          "Bagaimana kualitas penanganan pengaduan, saran, dan masukan?",
          "How well were complaints and suggestions handled?"),
    Unsur("u9", "Sarana dan prasarana", "Facilities",
          "Bagaimana kualitas sarana dan prasarana pelayanan?", "How good were the facilities?"),
)
SCALE: tuple[tuple[int, str, str], ...] = (
    (1, "Tidak baik", "Poor"), (2, "Kurang baik", "Fair"), (3, "Baik", "Good"), (4, "Sangat baik", "Very good"))
COMMENT_MAX = 1000


@dataclass(frozen=True)
class Grade:
    """The quality grade (mutu pelayanan) of a converted index."""

    letter: str
    name_id: str
    name_en: str


GRADES = ((Decimal("88.31"), Grade("A", "Sangat Baik", "Very good")),
          (Decimal("76.61"), Grade("B", "Baik", "Good")),
          (Decimal("65.00"), Grade("C", "Kurang Baik", "Poor")),
          (Decimal("0"), Grade("D", "Tidak Baik", "Very poor")))


def grade(converted: Decimal) -> Grade:
    """Return the grade of a converted index (25–100), rounded half-up to two decimals first."""
    value = converted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return next(g for floor, g in GRADES if value >= floor)


@dataclass(frozen=True)
class SkmIndex:
    """The SKM of a set of responses: NRR per unsur, the index, its 25–100 conversion and its grade."""

    respondents: int
    nrr: tuple[Decimal, ...]  # per unsur, to 2 decimals (for display)
    ikm: Decimal  # Σ NRR × 1/9, to 4 decimals (1–4)
    converted: Decimal  # ikm × 25, to 2 decimals (25–100)
    grade: Grade


def compute_skm(totals: Sequence[int], respondents: int) -> SkmIndex | None:
    """Compute the index from the nine per-unsur score totals and the number of respondents."""
    if respondents <= 0:
        return None
    if len(totals) != len(UNSUR):
        raise ValueError(f"need {len(UNSUR)} totals, got {len(totals)}")
    nrr = [Fraction(total, respondents) for total in totals]
    ikm = sum((value * Fraction(1, len(UNSUR)) for value in nrr), Fraction(0))
    converted = _decimal(ikm * 25, "0.01")
    return SkmIndex(respondents, tuple(_decimal(v, "0.01") for v in nrr), _decimal(ikm, "0.0001"), converted,
                    grade(converted))


def _decimal(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def validate_answers(answers: Mapping[str, Any], comment: str | None) -> dict[str, int]:
    """Return the nine scores as integers 1–4, or raise FormInvalid naming every bad field."""
    errors: list[FieldError] = []
    scores: dict[str, int] = {}
    for unsur in UNSUR:
        raw = answers.get(unsur.key)
        value = int(raw) if isinstance(raw, int | str) and str(raw).strip() in ("1", "2", "3", "4") else None
        if value is None:
            errors.append(FieldError(unsur.key, "required", f"Pilih nilai 1–4 untuk \"{unsur.name_id}\".",
                                     f"Choose a score of 1–4 for \"{unsur.name_en}\"."))
        else:
            scores[unsur.key] = value
    if comment is not None and len(comment) > COMMENT_MAX:
        errors.append(FieldError("comment", "maxLength", f"Saran paling banyak {COMMENT_MAX} karakter.",
                                 f"Suggestions may be at most {COMMENT_MAX} characters."))
    if errors:
        raise FormInvalid(errors)
    return scores


class SurveyNotOpen(InvalidInput):
    """The survey opens only once the service is finished."""


class SurveyAlreadyAnswered(AlreadyExists):
    """The survey of this case has been answered already."""


def cases_of(session: Session, tracking_number: str) -> list[Case]:
    """Return the cases a tracking number stands for (one case, or each case of an integrated application)."""
    number = normalise(tracking_number)
    case = session.scalar(select(Case).where(Case.tracking_number == number))
    if case is not None:
        return [case]
    bundle = session.scalar(select(Bundle.id).where(Bundle.tracking_number == number))
    if bundle is None:
        return []
    return list(session.scalars(select(Case).where(Case.bundle_id == bundle).order_by(Case.id)))


def pin_ok(session: Session, *, tracking_number: str, pin: str, secret: str) -> bool:
    """Check a tracking number's PIN in constant time, whether or not the number exists."""
    number = normalise(tracking_number)
    stored = session.scalar(select(Case.pin_hash).where(Case.tracking_number == number)) or session.scalar(
        select(Bundle.pin_hash).where(Bundle.tracking_number == number))
    expected = stored or hash_pin("000000", "MPP-0000-0000", secret)
    return pin_matches(pin, number, secret, expected) and stored is not None


@dataclass(frozen=True)
class SurveyStatus:
    """Whether a tracking number's survey can be answered now, and for which services."""

    tracking_number: str
    pending: list[Case]  # completed and not yet answered
    answered: int
    unfinished: int

    @property
    def is_open(self) -> bool:
        return bool(self.pending)


def survey_status(session: Session, *, tracking_number: str) -> SurveyStatus:
    """Return which cases of a tracking number await the applicant's answers; NotFound when unknown."""
    cases = cases_of(session, tracking_number)
    if not cases:
        raise NotFound("no case has this tracking number")
    answered = set(session.scalars(select(SurveyResponse.case_id)
                                   .where(SurveyResponse.case_id.in_([c.id for c in cases]))))
    pending = [c for c in cases if c.status == "completed" and c.id not in answered]
    unfinished = sum(1 for c in cases if c.status in ("running", "incident"))
    return SurveyStatus(normalise(tracking_number), pending, len(answered), unfinished)


def submit_survey(session: Session, *, tracking_number: str, answers: Mapping[str, Any], comment: str | None,
                  language: str, now: datetime) -> list[SurveyResponse]:
    """Record the applicant's answers for every finished, unanswered case of the tracking number."""
    status = survey_status(session, tracking_number=tracking_number)
    if not status.pending:
        if status.answered:
            raise SurveyAlreadyAnswered("the survey for this application has been answered already")
        raise SurveyNotOpen("the survey opens when the service is finished")
    scores = validate_answers(answers, comment)
    text = (comment or "").strip() or None
    rows = [SurveyResponse(case_id=case.id, process_key=case.process_key, comment=text,
                           language="en" if language == "en" else "id", submitted_at=now, **scores)
            for case in status.pending]
    session.add_all(rows)
    session.flush()  # the unique case_id refuses a second answer that raced this one
    return rows


@dataclass(frozen=True)
class ServiceSkm:
    """The SKM of one service over a period."""

    process_key: str
    name_id: str
    name_en: str
    index: SkmIndex | None


def skm_by_service(session: Session, *, process_keys: Sequence[str], names: Mapping[str, tuple[str, str]],
                   filters: Filters) -> list[ServiceSkm]:
    """Compute the SKM of each service from the answers submitted in the filters' period."""
    start, end = filters.bounds()
    r = SurveyResponse
    stmt = select(r.process_key, func.count(), *[func.sum(getattr(r, u.key)) for u in UNSUR]).where(
        r.process_key.in_(list(process_keys)))
    if start is not None:
        stmt = stmt.where(r.submitted_at >= start)
    if end is not None:
        stmt = stmt.where(r.submitted_at < end)
    sums = {row[0]: (int(row[1]), [int(x) for x in row[2:]]) for row in session.execute(stmt.group_by(r.process_key))}
    result = []
    for key in process_keys:
        count, totals = sums.get(key, (0, [0] * len(UNSUR)))
        name_id, name_en = names.get(key, (key, key))
        result.append(ServiceSkm(key, name_id, name_en, compute_skm(totals, count)))
    return result


def period_label(date_from: date | None, date_to: date | None) -> str:
    """Return a period as text for headings and file names."""
    return f"{date_from.isoformat() if date_from else '…'}–{date_to.isoformat() if date_to else '…'}"


def skm_dashboard(session: Session, *, actor: Actor, filters: Filters) -> list[ServiceSkm]:
    """Return the SKM of each service the actor may see on the dashboard, for the filters' period."""
    scope = scope_for(session, actor=actor, filters=filters)
    return skm_by_service(session, process_keys=scope.keys, names=scope.names(), filters=filters)

"""The community satisfaction survey (Survei Kepuasan Masyarakat, SKM) and its index.

Source: Peraturan Menteri PAN-RB Nomor 14 Tahun 2017 tentang Pedoman Penyusunan Survei Kepuasan
Masyarakat Unit Penyelenggara Pelayanan Publik, Lampiran (text reproduced at
https://puskaandriana.blogspot.com/2023/03/permenpan-no-14-th-2017-tentang-survey.html; the same
computation in a published local report: https://e-smile.tubaba.go.id/main/skm/laporan/online).
- Nine elements (unsur), in the regulation's order: persyaratan; sistem, mekanisme dan prosedur;
  waktu penyelesaian; biaya/tarif; produk spesifikasi jenis pelayanan; kompetensi pelaksana;
  perilaku pelaksana; penanganan pengaduan, saran dan masukan; sarana dan prasarana.
  Each is answered on a scale of 1 to 4, in the words of the annex's sample questionnaire
  ("Kuesioner SKM", answers a–d scored 1–4; a filled-in copy:
  https://pdfcoffee.com/permen-14-2017-okkk-pdf-free.html): e.g. persyaratan tidak sesuai / kurang
  sesuai / sesuai / sangat sesuai; biaya sangat mahal / cukup mahal / murah / gratis; pengaduan
  tidak ada / ada tetapi tidak berfungsi / berfungsi kurang maksimal / dikelola dengan baik. The
  questionnaire asks sarana (question 8) before pengaduan (question 9); we keep the element order
  (U8 pengaduan, U9 sarana) so that stored columns and reports follow the element list.
- The questionnaire's respondent profile (jenis kelamin, usia, pendidikan, pekerjaan) is stored
  with each answer as a category code (PROFILE below), with "tidak ingin menyebutkan" where a
  respondent may decline; no name or contact is ever asked. The age is asked as a group, not in
  years, so that a profile never narrows down to one person in a small office.
- NRR per unsur (nilai rata-rata) = total of its scores / number of answers to it.
- Every unsur has the same weight, "bobot nilai rata-rata tertimbang = jumlah bobot / jumlah
  unsur = 1/X", so 1/9 for nine (the regulation's worked example rounds it to 0,11; reports often
  write 0,111). We use 1/9 exactly, so nine perfect scores give 100.00, not 99.90.
- SKM (IKM) = Σ NRR × 1/9; converted to the 25–100 scale, "SKM unit pelayanan × 25".
- Grades (mutu pelayanan) on the converted value: A 88,31–100,00 Sangat Baik; B 76,61–88,30 Baik;
  C 65,00–76,60 Kurang Baik; D 25,00–64,99 Tidak Baik. We round the converted value half-up to two
  decimals first, so every value falls in exactly one interval.
One applicant answers once per completed case (an integrated application: once per service), online
(channel "daring", after the tracking number and PIN) or at the counter kiosk (channel "kiosk", for a
chosen service, with or without the case's tracking number and PIN).
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
from engine.catalogue.registry import latest_versions
from engine.directory.actors import Actor
from engine.errors import AlreadyExists, InvalidInput, NotFound
from engine.models import Bundle, Case, SurveyResponse
from engine.sla.service import Filters, scope_for
from forms.validation import FieldError, FormInvalid


@dataclass(frozen=True)
class Unsur:
    """One element of the survey: its column, its name, its question and its four answers, in both languages."""

    key: str
    name_id: str
    name_en: str
    question_id: str
    question_en: str
    answers: tuple[tuple[str, str], ...]  # (id, en) for scores 1, 2, 3, 4

    @property
    def choices(self) -> list[tuple[int, str, str]]:
        """Return (score, id, en) for the four answers, lowest first."""
        return [(score, text_id, text_en) for score, (text_id, text_en) in enumerate(self.answers, start=1)]


def _fit(word_id: str, word_en: str) -> tuple[tuple[str, str], ...]:
    return ((f"Tidak {word_id}", f"Not {word_en}"), (f"Kurang {word_id}", f"Not quite {word_en}"),
            (word_id.capitalize(), word_en.capitalize()), (f"Sangat {word_id}", f"Very {word_en}"))


UNSUR: tuple[Unsur, ...] = (
    Unsur("u1", "Persyaratan", "Requirements",
          "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
          "How well did the service's requirements fit the kind of service?", _fit("sesuai", "fitting")),
    Unsur("u2", "Sistem, mekanisme, dan prosedur", "System, mechanism and procedure",
          "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
          "How easy was the service's procedure at this office?", _fit("mudah", "easy")),
    Unsur("u3", "Waktu penyelesaian", "Completion time",
          "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
          "How fast was the service delivered?", _fit("cepat", "fast")),
    Unsur("u4", "Biaya/tarif", "Fee",
          "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
          "How reasonable was the fee for the service?",
          (("Sangat mahal", "Very expensive"), ("Cukup mahal", "Rather expensive"), ("Murah", "Cheap"),
           ("Gratis", "Free of charge"))),
    Unsur("u5", "Produk spesifikasi jenis pelayanan", "Service product",
          "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum dalam standar "
          "pelayanan dengan hasil yang diberikan?",
          "How well did the result match the product published in the service standard?", _fit("sesuai", "fitting")),
    Unsur("u6", "Kompetensi pelaksana", "Staff competence",
          "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
          "How competent were the staff?", _fit("kompeten", "competent")),
    Unsur("u7", "Perilaku pelaksana", "Staff behaviour",
          "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?",
          "How polite and friendly were the staff?", _fit("sopan dan ramah", "polite and friendly")),
    Unsur("u8", "Penanganan pengaduan, saran, dan masukan", "Handling of complaints and suggestions",
          "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
          "How are service users' complaints handled?",
          (("Tidak ada", "There is none"), ("Ada tetapi tidak berfungsi", "There is one, but it does not work"),
           ("Berfungsi kurang maksimal", "It works, but not well enough"),
           ("Dikelola dengan baik", "It is well managed"))),
    Unsur("u9", "Sarana dan prasarana", "Facilities",
          "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
          "How good were the facilities and infrastructure?",
          (("Buruk", "Poor"), ("Cukup", "Fair"), ("Baik", "Good"), ("Sangat baik", "Very good"))),
)


@dataclass(frozen=True)
class ProfileField:
    """One question of the respondent profile: its column, its label and its choices (code, id, en)."""

    key: str
    label_id: str
    label_en: str
    choices: tuple[tuple[str, str, str], ...]

    def label_of(self, code: str | None) -> tuple[str, str]:
        """Return a stored code's label (id, en); None is an answer given without a profile."""
        for value, text_id, text_en in self.choices:
            if value == code:
                return text_id, text_en
        return "Tidak diisi", "Not given"


DECLINE = ("x", "Tidak ingin menyebutkan", "Prefer not to say")
PROFILE: tuple[ProfileField, ...] = (
    ProfileField("gender", "Jenis kelamin", "Sex",
                 (("l", "Laki-laki", "Male"), ("p", "Perempuan", "Female"), DECLINE)),
    ProfileField("age_group", "Usia", "Age",
                 (("lt20", "Di bawah 20 tahun", "Under 20"), ("20_29", "20–29 tahun", "20–29"),
                  ("30_39", "30–39 tahun", "30–39"), ("40_49", "40–49 tahun", "40–49"),
                  ("50_59", "50–59 tahun", "50–59"), ("60p", "60 tahun ke atas", "60 or over"), DECLINE)),
    ProfileField("education", "Pendidikan terakhir", "Highest education",
                 (("sd", "SD ke bawah", "Primary school or less"), ("smp", "SMP/sederajat", "Junior high school"),
                  ("sma", "SMA/sederajat", "Senior high school"), ("d1_d3", "D1–D3", "Diploma (D1–D3)"),
                  ("d4_s1", "D4–S1", "Bachelor (D4–S1)"), ("s2p", "S2 ke atas", "Master or higher"), DECLINE)),
    ProfileField("occupation", "Pekerjaan", "Occupation",
                 (("pns", "PNS", "Civil servant"), ("tni", "TNI", "Armed forces"), ("polri", "POLRI", "Police"),
                  ("swasta", "Pegawai swasta", "Private employee"), ("wirausaha", "Wirausaha", "Self-employed"),
                  ("lainnya", "Lainnya", "Other"), DECLINE)),
)
SERVICE_ERROR = FieldError("service", "required", "Pilih layanan yang Anda terima.", "Choose the service you received.")
CHANNELS = (("daring", "Daring", "Online"), ("kiosk", "Kios layanan", "Counter kiosk"))
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
            errors.append(FieldError(unsur.key, "required", f"Pilih salah satu jawaban untuk \"{unsur.name_id}\".",
                                     f"Choose an answer for \"{unsur.name_en}\"."))
        else:
            scores[unsur.key] = value
    if comment is not None and len(comment) > COMMENT_MAX:
        errors.append(FieldError("comment", "maxLength", f"Saran paling banyak {COMMENT_MAX} karakter.",
                                 f"Suggestions may be at most {COMMENT_MAX} characters."))
    if errors:
        raise FormInvalid(errors)
    return scores


def profile_errors(profile: Mapping[str, Any]) -> list[FieldError]:
    """Return an error for every profile question without one of its choices."""
    errors = []
    for question in PROFILE:
        if str(profile.get(question.key) or "") not in {code for code, _, _ in question.choices}:
            errors.append(FieldError(question.key, "required",
                                     f"Pilih salah satu jawaban untuk \"{question.label_id}\" "
                                     f"(boleh \"{DECLINE[1]}\").",
                                     f"Choose an answer for \"{question.label_en}\" (\"{DECLINE[2]}\" is fine)."))
    return errors


def validate_response(answers: Mapping[str, Any], comment: str | None,
                      profile: Mapping[str, Any] | None) -> tuple[dict[str, int], dict[str, str | None]]:
    """Return the scores and the profile codes, or raise FormInvalid naming every bad field (profile first)."""
    errors = profile_errors(profile) if profile is not None else []
    try:
        scores = validate_answers(answers, comment)
    except FormInvalid as exc:
        raise FormInvalid(errors + exc.field_errors) from None
    if errors:
        raise FormInvalid(errors)
    codes = {q.key: (str(profile[q.key]) if profile is not None else None) for q in PROFILE}
    return scores, codes


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
                  language: str, now: datetime, profile: Mapping[str, Any] | None = None,
                  channel: str = "daring", process_key: str | None = None) -> list[SurveyResponse]:
    """Record the answers for every finished, unanswered case of the tracking number (of one service if given).

    `profile` None records the answers without a respondent profile (API clients that do not ask it).
    """
    status = survey_status(session, tracking_number=tracking_number)
    pending = [c for c in status.pending if process_key is None or c.process_key == process_key]
    if not pending:
        if status.answered and len(status.pending) == len(pending):
            raise SurveyAlreadyAnswered("the survey for this application has been answered already")
        if process_key is not None and status.pending:
            raise SurveyNotOpen("this tracking number has no finished, unrated case of the chosen service")
        raise SurveyNotOpen("the survey opens when the service is finished")
    scores, codes = validate_response(answers, comment, profile)
    rows = [_row(case.process_key, scores, codes, comment, language, now, channel, case.id) for case in pending]
    session.add_all(rows)
    session.flush()  # the unique case_id refuses a second answer that raced this one
    return rows


def _row(process_key: str, scores: Mapping[str, int], codes: Mapping[str, str | None], comment: str | None,
         language: str, now: datetime, channel: str, case_id: int | None) -> SurveyResponse:
    return SurveyResponse(case_id=case_id, process_key=process_key, comment=(comment or "").strip() or None,
                          language="en" if language == "en" else "id", submitted_at=now, channel=channel,
                          **scores, **codes)


def submit_kiosk(session: Session, *, process_key: str, answers: Mapping[str, Any], profile: Mapping[str, Any],
                 comment: str | None, language: str, now: datetime) -> SurveyResponse:
    """Record one visitor's answers given at the counter kiosk for a service, without a case."""
    unknown = process_key not in {v.key for v in latest_versions(session)}
    try:
        scores, codes = validate_response(answers, comment, profile)
    except FormInvalid as exc:
        raise FormInvalid(([SERVICE_ERROR] if unknown else []) + exc.field_errors) from None
    if unknown:
        raise FormInvalid([SERVICE_ERROR])
    row = _row(process_key, scores, codes, comment, language, now, "kiosk", None)
    session.add(row)
    session.flush()
    return row


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

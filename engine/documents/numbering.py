"""Document numbers the platform gives: a service's `number_format` and its per-year sequence.

```toml
[document]
number_format = "SK-PBG-3471-{yyyy}{mm}{dd}-{seq:03}"
```
A format is literal text (letters, digits, space and `/ - . _`) and placeholders, never code:
`{seq}` (or `{seq:04}`, zero-padded to 4) exactly once, the date of signing in WIB (`{year}`/`{yyyy}`,
`{yy}`, `{month}`/`{mm}`, `{month_roman}`, `{day}`/`{dd}`), `{agency}` (the publishing agency's code)
and `{service}` (the service key), both upper-cased. The sequence is per service and restarts every
year when the format prints the year; without a year it never restarts (so numbers stay unique).

The number is drawn when the case reaches an issuing end event, in the transaction of the step
that got it there (the head of office's signature): `document_number` keeps one row per case,
unique per (service, year, seq). Two signings racing for the same seq: the second insert fails on
the unique constraint inside a savepoint and draws the next one (SQLite already queues writers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.models import DocumentNumber

WIB = ZoneInfo("Asia/Jakarta")
MAX_NUMBER = 120  # issued_document.number
MAX_TRIES = 20
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
LITERAL = re.compile(r"[A-Za-z0-9 /._-]*")
SEQ = re.compile(r"seq(?::0?([1-9]))?")
YEAR_NAMES = ("year", "yyyy", "yy")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
FIELDS = (*YEAR_NAMES, "month", "mm", "month_roman", "day", "dd", "agency", "service")
NAMES = ("seq", "seq:0N", *FIELDS)  # as the lint message lists them


@dataclass(frozen=True)
class NumberContext:
    """What a number is made of besides its sequence: when, and whose."""

    process_key: str
    agency: str
    at: datetime


def format_errors(fmt: Any) -> list[tuple[str, str]]:
    """Check a number format; return what is wrong (English, Indonesian), each naming the part and the fix."""
    if not isinstance(fmt, str) or not fmt.strip():
        return [('document.number_format must be text such as "SK-PBG-{yyyy}-{seq:04}"',
                 'document.number_format harus berupa teks seperti "SK-PBG-{yyyy}-{seq:04}"')]
    known = ", ".join("{" + n + "}" for n in NAMES)
    errors: list[tuple[str, str]] = []
    seqs = 0
    for name in PLACEHOLDER.findall(fmt):
        if SEQ.fullmatch(name):
            seqs += 1
        elif name not in FIELDS:
            errors.append((f"document.number_format: unknown placeholder '{{{name}}}'; use one of {known} "
                           "(N: the digits of the zero-padded sequence, 1-9)",
                           f"document.number_format: placeholder '{{{name}}}' tidak dikenal; gunakan salah satu "
                           f"dari {known} (N: jumlah digit nomor urut berisi nol di depan, 1-9)"))
    outside = PLACEHOLDER.sub("", fmt)
    if not LITERAL.fullmatch(outside):
        bad = "".join(sorted(set(re.sub(r"[A-Za-z0-9 /._-]", "", outside))))
        errors.append((f"document.number_format: '{bad}' may not appear outside a placeholder; "
                       "use letters, digits, space and / - . _",
                       f"document.number_format: '{bad}' tidak boleh ada di luar placeholder; "
                       "gunakan huruf, angka, spasi dan / - . _"))
    if seqs != 1:
        errors.append(("document.number_format must hold the sequence exactly once: {seq} or {seq:04}",
                       "document.number_format harus memuat nomor urut tepat satu kali: {seq} atau {seq:04}"))
    if len(fmt) > MAX_NUMBER // 2:
        errors.append((f"document.number_format is longer than {MAX_NUMBER // 2} characters",
                       f"document.number_format lebih panjang dari {MAX_NUMBER // 2} karakter"))
    return errors


def _yearly(fmt: str) -> bool:
    return any(name in YEAR_NAMES for name in PLACEHOLDER.findall(fmt))


def render(fmt: str, *, seq: int, ctx: NumberContext) -> str:
    """Return the number a (checked) format gives for a sequence value at a time, for a service."""
    day = ctx.at.astimezone(WIB)
    values = {"year": f"{day.year:04d}", "yyyy": f"{day.year:04d}", "yy": f"{day.year % 100:02d}",
              "month": f"{day.month:02d}", "mm": f"{day.month:02d}", "month_roman": ROMAN[day.month - 1],
              "day": f"{day.day:02d}", "dd": f"{day.day:02d}", "agency": ctx.agency.upper(),
              "service": ctx.process_key.upper()}

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        found = SEQ.fullmatch(name)
        if found:
            return f"{seq:0{int(found.group(1) or 1)}d}"
        return values.get(name, "")

    return PLACEHOLDER.sub(one, fmt)[:MAX_NUMBER]


def _year(fmt: str, at: datetime) -> int:
    return at.astimezone(WIB).year if _yearly(fmt) else 0


def _last(session: Session, process_key: str, year: int) -> int:
    return session.scalar(select(func.max(DocumentNumber.seq)).where(
        DocumentNumber.process_key == process_key, DocumentNumber.year == year)) or 0


def next_number(session: Session, *, fmt: str, ctx: NumberContext) -> str:
    """Return the number the next signing would get (a preview: nothing is drawn)."""
    return render(fmt, seq=_last(session, ctx.process_key, _year(fmt, ctx.at)) + 1, ctx=ctx)


def number_of(session: Session, *, case_id: int) -> str | None:
    """Return the number drawn for a case, or None."""
    return session.scalar(select(DocumentNumber.number).where(DocumentNumber.case_id == case_id))


def draw(session: Session, *, case_id: int, fmt: str, ctx: NumberContext) -> str:
    """Draw the case's number (once: a case keeps the number it got) and return it."""
    drawn = number_of(session, case_id=case_id)
    if drawn is not None:
        return drawn
    year = _year(fmt, ctx.at)
    for _ in range(MAX_TRIES):
        seq = _last(session, ctx.process_key, year) + 1
        number = render(fmt, seq=seq, ctx=ctx)
        try:
            with session.begin_nested():
                session.add(DocumentNumber(case_id=case_id, process_key=ctx.process_key, year=year, seq=seq,
                                           number=number, created_at=ctx.at))
        except IntegrityError:
            continue  # another signing took this seq (or this case's row) first: look again
        return number
    raise RuntimeError(f"could not draw a document number for case {case_id}")  # 20 lost races in a row

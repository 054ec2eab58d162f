"""Read an official holiday list from a file: the bundled TOML format or a CSV, with an error per bad line.

TOML: `[[holiday]]` tables with `date`, `name`, `kind` (engine/data/holidays_id.toml).
CSV: `date,name,kind` lines (a header line with those words is skipped), dates as YYYY-MM-DD,
UTF-8 (a byte-order mark from a spreadsheet is accepted), comma or semicolon separated.
Every problem names its line so the administrator can fix the file; nothing is imported while any
line is wrong.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.errors import InvalidInput
from engine.sla.calendar import HOLIDAY_KINDS

MAX_FILE_BYTES = 256 * 1024
MAX_NAME = 255
KIND_NAMES = {"national": ("libur nasional", "national holiday"), "cuti_bersama": ("cuti bersama", "collective leave")}
_HEADER = re.compile(r"^\s*\[\[\s*holiday\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True)
class LineError:
    """One bad line of an imported file, said in both languages."""

    line: int
    message_id: str
    message_en: str


class HolidayFileInvalid(InvalidInput):
    """An imported holiday file has bad lines; `errors` lists each with its line number."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(f"line {first.line}: {first.message_en}",
                         message_id=f"baris {first.line}: {first.message_id}")


@dataclass(frozen=True)
class Holiday:
    """One day of an imported list."""

    day: date
    name: str
    kind: str


def read_holiday_file(raw: bytes, *, filename: str) -> list[Holiday]:
    """Return the holidays of a .toml or .csv file; HolidayFileInvalid naming every bad line."""
    if len(raw) > MAX_FILE_BYTES:
        raise HolidayFileInvalid([LineError(0, f"berkas lebih dari {MAX_FILE_BYTES // 1024} KiB",
                                            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HolidayFileInvalid([LineError(0, "berkas bukan teks UTF-8", "the file is not UTF-8 text")]) from None
    lower = filename.lower()
    if lower.endswith(".toml"):
        holidays = _from_toml(text)
    elif lower.endswith(".csv"):
        holidays = _from_csv(text)
    else:
        raise HolidayFileInvalid([LineError(0, "pilih berkas .toml atau .csv", "choose a .toml or .csv file")])
    if not holidays:
        raise HolidayFileInvalid([LineError(0, "berkas tidak memuat satu hari libur pun",
                                            "the file lists no holiday")])
    return holidays


def _check(line: int, day: Any, name: Any, kind: Any, seen: dict[date, int]) -> tuple[Holiday | None, list[LineError]]:
    errors = []
    if not isinstance(day, date) or isinstance(day, datetime):
        errors.append(LineError(line, f"tanggal '{day}' bukan tanggal seperti 2027-01-01",
                                f"date '{day}' is not a date like 2027-01-01"))
    if not isinstance(name, str) or not name.strip():
        errors.append(LineError(line, "nama hari libur kosong", "the holiday's name is missing"))
    elif len(name.strip()) > MAX_NAME:
        errors.append(LineError(line, f"nama lebih dari {MAX_NAME} karakter",
                                f"the name is over {MAX_NAME} characters"))
    if kind not in HOLIDAY_KINDS:
        errors.append(LineError(line, f"jenis '{kind}' harus national atau cuti_bersama",
                                f"kind '{kind}' must be national or cuti_bersama"))
    if isinstance(day, date) and day in seen:
        errors.append(LineError(line, f"tanggal {day} sudah ada di baris {seen[day]}",
                                f"date {day} is already listed on line {seen[day]}"))
    if errors or not isinstance(day, date) or not isinstance(name, str):
        return None, errors
    seen[day] = line
    return Holiday(day, name.strip(), str(kind)), []


def _from_toml(text: str) -> list[Holiday]:
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise HolidayFileInvalid([LineError(int(found.group(1)) if found else 0,
                                            f"bukan TOML yang sah: {exc}", f"not valid TOML: {exc}")]) from None
    entries = document.get("holiday", [])
    if not isinstance(entries, list):
        raise HolidayFileInvalid([LineError(0, "holiday harus berupa [[holiday]]",
                                            "holiday must be [[holiday]] tables")])
    # tomllib keeps no positions: the n-th [[holiday]] header is the n-th entry's line.
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if _HEADER.match(line)]
    holidays: list[Holiday] = []
    errors: list[LineError] = []
    seen: dict[date, int] = {}
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else 0
        item = entry if isinstance(entry, dict) else {}
        holiday, problems = _check(line, item.get("date"), item.get("name"), item.get("kind"), seen)
        errors.extend(problems)
        if holiday is not None:
            holidays.append(holiday)
    if errors:
        raise HolidayFileInvalid(errors)
    return holidays


def _from_csv(text: str) -> list[Holiday]:
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    holidays: list[Holiday] = []
    errors: list[LineError] = []
    seen: dict[date, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in ("date", "tanggal"):
            continue
        if len(cells) != 3:
            errors.append(LineError(number, f"harus 3 kolom (tanggal,nama,jenis), ada {len(cells)}",
                                    f"needs 3 columns (date,name,kind), has {len(cells)}"))
            continue
        try:
            day: Any = date.fromisoformat(cells[0])
        except ValueError:
            day = cells[0]
        holiday, problems = _check(number, day, cells[1], cells[2], seen)
        errors.extend(problems)
        if holiday is not None:
            holidays.append(holiday)
    if errors:
        raise HolidayFileInvalid(errors)
    return holidays

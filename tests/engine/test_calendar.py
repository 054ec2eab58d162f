"""Tests of the Indonesian working-day calendar and its holiday data file."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.sla.calendar import WorkingCalendar, load_holiday_data, parse_holidays

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.default()


def test_default_is_cached(cal: WorkingCalendar) -> None:
    assert WorkingCalendar.default() is cal


def test_weekends_are_skipped(cal: WorkingCalendar) -> None:
    # Thu 5 Nov 2026 + 2 working days: Fri 6, (Sat, Sun), Mon 9.
    assert cal.add_working_days(date(2026, 11, 5), 2) == date(2026, 11, 9)
    assert not cal.is_working_day(date(2026, 11, 7))
    assert not cal.is_working_day(date(2026, 11, 8))
    assert cal.is_working_day(date(2026, 11, 9))


def test_independence_day_monday_is_skipped(cal: WorkingCalendar) -> None:
    assert date(2026, 8, 17).weekday() == 0
    assert cal.holiday_name(date(2026, 8, 17)) == "Hari Proklamasi Kemerdekaan Republik Indonesia"
    # Fri 14 Aug + 1 working day skips the weekend and Monday the 17th.
    assert cal.add_working_days(date(2026, 8, 14), 1) == date(2026, 8, 18)


def test_idul_fitri_2026_cluster(cal: WorkingCalendar) -> None:
    # Nyepi, cuti bersama, Idul Fitri on the weekend and two more cuti bersama days:
    # nothing from Wed 18 to Tue 24 March 2026 is a working day.
    closed = [date(2026, 3, d) for d in range(18, 25)]
    assert not any(cal.is_working_day(d) for d in closed)
    assert cal.add_working_days(date(2026, 3, 17), 1) == date(2026, 3, 25)
    assert cal.working_days_between(date(2026, 3, 16), date(2026, 3, 25)) == 2
    assert "Idul Fitri" in (cal.holiday_name(date(2026, 3, 21)) or "")


def test_crossing_year_end(cal: WorkingCalendar) -> None:
    # Wed 23 Dec 2026: 24 (cuti), 25 (Natal), weekend, Mon 28, Tue 29, Wed 30, Thu 31,
    # Fri 1 Jan 2027 (Tahun Baru), weekend, Mon 4 Jan.
    assert cal.add_working_days(date(2026, 12, 23), 4) == date(2026, 12, 31)
    assert cal.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)
    assert cal.working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5


def test_zero_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 11, 9), 0) == date(2026, 11, 9)
    assert cal.add_working_days(date(2026, 11, 7), 0) == date(2026, 11, 9)


def test_negative_days_count_backwards(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 8, 18), -1) == date(2026, 8, 14)


def test_due_at_from_friday_evening(cal: WorkingCalendar) -> None:
    created = datetime(2026, 8, 14, 19, 30, tzinfo=WIB)
    due = cal.due_at(created, 1)
    assert due.tzinfo is not None
    assert due.utcoffset() == timedelta(0)
    assert due == datetime(2026, 8, 18, 9, 0, tzinfo=UTC)  # 16:00 WIB on Tue 18 Aug
    assert due.astimezone(WIB).hour == 16


def test_due_at_converts_utc_to_wib_first(cal: WorkingCalendar) -> None:
    # 18:00 UTC on Thu 5 Nov is already Fri 6 Nov 01:00 in Jakarta.
    created = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)
    assert cal.due_at(created, 1).astimezone(WIB).date() == date(2026, 11, 9)


def test_due_at_refuses_naive_datetime(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.due_at(datetime(2026, 1, 5, 9, 0), 1)


def test_between_is_consistent_with_add(cal: WorkingCalendar) -> None:
    start = date(2026, 1, 1)
    for offset in range(366):
        day = start + timedelta(days=offset)
        for n in (1, 2, 5, 14):
            end = cal.add_working_days(day, n)
            assert cal.is_working_day(end)
            assert cal.working_days_between(day, end) == n, (day, n)
            assert cal.working_days_between(end, day) == -n


def test_between_matches_a_day_by_day_count(cal: WorkingCalendar) -> None:
    start = date(2025, 12, 1)
    for span in range(0, 80, 3):
        end = start + timedelta(days=span)
        slow = sum(cal.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
        assert cal.working_days_between(start, end) == slow


def test_outside_data_range_counts_weekends_only(cal: WorkingCalendar) -> None:
    # 1 Jan 2030 is a Tuesday; without data it is an ordinary working day.
    assert cal.is_working_day(date(2030, 1, 1))
    assert cal.add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)
    assert cal.working_days_between(date(2019, 12, 27), date(2020, 1, 6)) == 6
    assert cal.due_at(datetime(2031, 6, 6, 10, 0, tzinfo=WIB), 3).astimezone(WIB).date() == date(2031, 6, 11)


def test_custom_holidays_and_zone() -> None:
    cal = WorkingCalendar({date(2026, 11, 10): "Libur daerah"}, tz=ZoneInfo("Asia/Makassar"))
    assert cal.add_working_days(date(2026, 11, 9), 1) == date(2026, 11, 11)
    assert cal.due_at(datetime(2026, 11, 9, 8, 0, tzinfo=UTC), 0).hour == 8  # 16:00 WITA


def test_data_file_sanity() -> None:
    raw = load_holiday_data()
    document = tomllib.loads(raw.decode("utf-8"))
    entries = document["holiday"]
    dates = [entry["date"] for entry in entries]
    assert len(dates) == len(set(dates)), "a date is listed twice"
    parsed = parse_holidays(raw)
    assert len(parsed) == len(entries)
    assert {d.year for d in parsed} == {2024, 2025, 2026, 2027}
    for day, (name, kind) in parsed.items():
        assert name.strip(), day
        assert kind in ("national", "cuti_bersama")
    assert dates == sorted(dates), "keep the file in date order so reviews are easy"
    for year in (2024, 2025, 2026):
        kinds = {kind for day, (_name, kind) in parsed.items() if day.year == year}
        assert kinds == {"national", "cuti_bersama"}, year
        assert parsed[date(year, 8, 17)][1] == "national"
        assert parsed[date(year, 12, 25)][1] == "national"


@pytest.mark.parametrize(
    "toml",
    [
        b'[[holiday]]\ndate = 2026-01-01\nname = ""\nkind = "national"\n',
        b'[[holiday]]\ndate = 2026-01-01\nname = "A"\nkind = "regional"\n',
        b'[[holiday]]\ndate = "2026-01-01"\nname = "A"\nkind = "national"\n',
        b'[[holiday]]\ndate = 2026-01-01\nname = "A"\nkind = "national"\n'
        b'[[holiday]]\ndate = 2026-01-01\nname = "B"\nkind = "national"\n',
    ],
)
def test_parse_holidays_refuses_bad_entries(toml: bytes) -> None:
    with pytest.raises(ValueError, match="holiday"):
        parse_holidays(toml)


def test_adding_an_absurd_number_of_working_days_is_refused() -> None:
    from engine.sla.calendar import MAX_WORKING_DAYS, WorkingCalendar

    with pytest.raises(ValueError, match="at most"):
        WorkingCalendar.default().add_working_days(date(2026, 1, 5), MAX_WORKING_DAYS + 1)


def test_the_bundled_file_imports_as_it_parses() -> None:
    from engine.sla.calendar import provisional_years
    from engine.sla.holiday_import import read_holiday_file

    raw = load_holiday_data()
    imported = read_holiday_file(raw, filename="holidays_id.toml")
    assert {h.day: (h.name, h.kind) for h in imported} == parse_holidays(raw)
    assert provisional_years(raw) == frozenset({2027})


def test_a_toml_import_names_the_line_of_each_bad_entry() -> None:
    from engine.sla.holiday_import import HolidayFileInvalid, read_holiday_file

    raw = (b'[[holiday]]\ndate = 2027-01-01\nname = "Tahun Baru"\nkind = "national"\n\n'
           b'[[holiday]]\ndate = 2027-01-02\nname = ""\nkind = "regional"\n')
    with pytest.raises(HolidayFileInvalid) as caught:
        read_holiday_file(raw, filename="skb.TOML")
    assert [(e.line, e.message_en) for e in caught.value.errors] == [
        (6, "the holiday's name is missing"), (6, "kind 'regional' must be national or cuti_bersama")]
    with pytest.raises(HolidayFileInvalid) as broken:
        read_holiday_file(b'[[holiday]]\ndate = 2027-01-01\nname = "A\n', filename="skb.toml")
    assert broken.value.errors[0].line == 3


def test_friday_and_special_hours_set_the_closing_time() -> None:
    from engine.sla.hours import RAMADAN_WEEK, HoursRange

    ramadan = HoursRange(date(2027, 2, 8), date(2027, 3, 9), RAMADAN_WEEK)
    cal = WorkingCalendar({}, ranges=[ramadan])
    wednesday = datetime(2027, 2, 10, 9, 0, tzinfo=WIB)  # in Ramadan
    assert cal.due_at(wednesday, 1).astimezone(WIB) == datetime(2027, 2, 11, 15, 0, tzinfo=WIB)
    assert cal.due_at(wednesday, 2).astimezone(WIB) == datetime(2027, 2, 12, 15, 30, tzinfo=WIB)  # a Friday
    assert cal.due_at(datetime(2027, 3, 17, 9, 0, tzinfo=WIB), 2).astimezone(WIB) == datetime(
        2027, 3, 19, 16, 30, tzinfo=WIB)
    assert cal.working_time_between(datetime(2027, 2, 12, 8, 0, tzinfo=WIB),
                                    datetime(2027, 2, 12, 14, 0, tzinfo=WIB)) == timedelta(hours=4.5)

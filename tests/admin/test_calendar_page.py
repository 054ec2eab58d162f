"""The working-calendar page over HTTP: admins add and remove holidays, set hours, import the official list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.models import AuditEntry, CalendarHoliday, WorkingCalendarRow
from engine.sla import calendar_store

Login = Callable[[str], str]
pytestmark = pytest.mark.postgres

OFFICIAL_2027 = b"""# SKB 2027 (test copy)
[[holiday]]
date = 2027-01-01
name = "Tahun Baru 2027 Masehi"
kind = "national"

[[holiday]]
date = 2027-03-09
name = "Cuti Bersama Idul Fitri 1448 Hijriah"
kind = "cuti_bersama"
"""


def holidays_of(ctx: AppContext, year: int) -> dict[date, tuple[str, str, bool]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(CalendarHoliday).where(CalendarHoliday.day >= date(year, 1, 1),
                                                             CalendarHoliday.day <= date(year, 12, 31)))
        return {r.day: (r.name, r.kind, r.provisional) for r in rows}


def test_the_page_lists_a_year_and_marks_2027_provisional(client: TestClient, catalogue: AppContext,
                                                          page_login: Login) -> None:
    page_login("admin")
    page = client.get("/admin/kalender?tahun=2027")
    assert page.status_code == 200
    assert 'id="provisional-badge">sementara</span>' in page.text
    assert "Tahun Baru 2027 Masehi" in page.text
    official = client.get("/admin/kalender?tahun=2026")
    assert "provisional-badge" not in official.text
    assert "Cuti Bersama Idul Fitri 1447 Hijriah" in official.text


def test_an_admin_adds_and_removes_a_holiday_and_the_calendar_follows(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    rt = catalogue.rt
    friday = date(2026, 11, 13)
    assert rt.calendar.is_working_day(friday)
    added = client.post("/admin/kalender/libur", data={"csrf_token": token, "tanggal": friday.isoformat(),
                                                       "nama": "Hari Jadi Kota", "jenis": "national"},
                        follow_redirects=False)
    assert added.status_code == 303
    assert "Hari libur disimpan." in client.get(added.headers["location"]).text
    assert holidays_of(catalogue, 2026)[friday] == ("Hari Jadi Kota", "national", False)
    with catalogue.sessions() as session:
        assert not rt.calendars.refresh(session).is_working_day(friday)  # invalidated on commit: no wait
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "calendar.holiday_set")) == "admin"
    removed = client.post(f"/admin/kalender/libur/{friday.isoformat()}/hapus", data={"csrf_token": token},
                          follow_redirects=False)
    assert removed.status_code == 303
    with catalogue.sessions() as session:
        assert rt.calendars.refresh(session).is_working_day(friday)
    missing = client.post(f"/admin/kalender/libur/{friday.isoformat()}/hapus", data={"csrf_token": token})
    assert missing.status_code == 422
    assert "bukan hari libur" in missing.text


def test_bad_holiday_input_is_a_422_naming_the_problem(client: TestClient, catalogue: AppContext,
                                                       page_login: Login) -> None:
    token = page_login("admin")
    bad_date = client.post("/admin/kalender/libur", data={"csrf_token": token, "tanggal": "13-11-2026",
                                                          "nama": "X", "jenis": "national"})
    assert bad_date.status_code == 422
    assert "tanggal &#39;13-11-2026&#39; tidak sah" in bad_date.text
    bad_kind = client.post("/admin/kalender/libur?lang=en", data={"csrf_token": token, "tanggal": "2026-11-13",
                                                                  "nama": "X", "jenis": "regional"})
    assert bad_kind.status_code == 422
    assert "kind must be national or cuti_bersama" in bad_kind.text


def test_importing_the_official_list_replaces_the_year_at_once(client: TestClient, catalogue: AppContext,
                                                                page_login: Login) -> None:
    token = page_login("admin")
    before = holidays_of(catalogue, 2027)
    assert len(before) > 2
    assert all(provisional for _name, _kind, provisional in before.values())
    response = client.post("/admin/kalender/impor", data={"csrf_token": token},
                           files={"berkas": ("skb-2027.toml", OFFICIAL_2027, "application/toml")},
                           follow_redirects=False)
    assert response.status_code == 303
    after = holidays_of(catalogue, 2027)
    assert after == {date(2027, 1, 1): ("Tahun Baru 2027 Masehi", "national", False),
                     date(2027, 3, 9): ("Cuti Bersama Idul Fitri 1448 Hijriah", "cuti_bersama", False)}
    assert len(holidays_of(catalogue, 2026)) > 10  # other years untouched
    page = client.get(response.headers["location"]).text
    assert "provisional-badge" not in page
    assert "Cuti Bersama Idul Fitri 1448 Hijriah" in page


def test_a_bad_file_imports_nothing_and_names_every_bad_line(client: TestClient, catalogue: AppContext,
                                                              page_login: Login) -> None:
    token = page_login("admin")
    before = holidays_of(catalogue, 2027)
    bad_csv = ("tanggal,nama,jenis\n2027-01-01,Tahun Baru,national\n2027-02-30,Tanggal mustahil,national\n"
               "2027-03-09,,cuti_bersama\n2027-04-01,Libur daerah,regional\n2027-01-01,Lagi,national\n")
    response = client.post("/admin/kalender/impor", data={"csrf_token": token},
                           files={"berkas": ("skb.csv", bad_csv.encode(), "text/csv")})
    assert response.status_code == 422
    text = response.text
    assert "4 baris salah" in text
    assert "Baris 3: tanggal &#39;2027-02-30&#39; bukan tanggal" in text
    assert "Baris 4: nama hari libur kosong" in text
    assert "Baris 5: jenis &#39;regional&#39; harus national atau cuti_bersama" in text
    assert "Baris 6: tanggal 2027-01-01 sudah ada di baris 2" in text
    bad_toml = client.post("/admin/kalender/impor?lang=en", data={"csrf_token": token},
                           files={"berkas": ("skb.toml", b'[[holiday]]\ndate = 2027-01-01\nname = "A"\n', "x")})
    assert bad_toml.status_code == 422
    assert "Line 1: kind &#39;None&#39; must be national or cuti_bersama" in bad_toml.text
    wrong_kind = client.post("/admin/kalender/impor", data={"csrf_token": token},
                             files={"berkas": ("skb.xlsx", b"PK\x03\x04", "application/zip")})
    assert wrong_kind.status_code == 422
    assert holidays_of(catalogue, 2027) == before


def test_weekly_hours_are_saved_and_refused_when_reversed(client: TestClient, catalogue: AppContext,
                                                          page_login: Login) -> None:
    token = page_login("admin")
    hours = {"csrf_token": token}
    for day in range(5):
        hours |= {f"h{day}_buka": "07:30", f"h{day}_tutup": "15:30", f"h{day}_rehat_mulai": "",
                  f"h{day}_rehat_akhir": ""}
    assert client.post("/admin/kalender/jam", data=hours, follow_redirects=False).status_code == 303
    with catalogue.sessions() as session:
        row = session.get(WorkingCalendarRow, 1)
        assert row is not None
        assert (row.week[0], row.week[5]) == ([["07:30", "15:30"]], [])
        assert calendar_store.load(session) is not None
    reversed_ = client.post("/admin/kalender/jam", data=hours | {"h4_buka": "16:00", "h4_tutup": "08:00"})
    assert reversed_.status_code == 422
    assert "Jumat: jam tutup 08:00 harus sesudah jam buka 16:00" in reversed_.text


def test_a_ramadan_range_is_added_and_shortens_the_day(client: TestClient, catalogue: AppContext,
                                                       page_login: Login) -> None:
    token = page_login("admin")
    data = {"csrf_token": token, "r_nama": "Ramadan 1448 H", "r_mulai": "2027-02-08", "r_akhir": "2027-03-09"}
    for day in range(4):
        data |= {f"r{day}_buka": "08:00", f"r{day}_tutup": "15:00"}
    data |= {"r4_buka": "08:00", "r4_tutup": "15:30", "r4_rehat_mulai": "11:30", "r4_rehat_akhir": "13:00"}
    assert client.post("/admin/kalender/ramadan", data=data, follow_redirects=False).status_code == 303
    with catalogue.sessions() as session:
        calendar = catalogue.rt.calendars.refresh(session)
    assert calendar.closing_time(date(2027, 2, 10)).hour == 15
    assert calendar.closing_time(date(2027, 3, 16)).hour == 16
    backwards = client.post("/admin/kalender/ramadan", data=data | {"r_akhir": "2027-01-01"})
    assert backwards.status_code == 422


@pytest.mark.parametrize("username", ["analis", "dpmptsp_front_office", "dpmptsp_supervisor", "warga"])
def test_everyone_but_admins_gets_403(client: TestClient, catalogue: AppContext, page_login: Login,
                                      username: str) -> None:
    token = page_login(username)
    assert client.get("/admin/kalender").status_code == 403
    assert client.post("/admin/kalender/libur", data={"csrf_token": token, "tanggal": "2026-11-13", "nama": "X",
                                                      "jenis": "national"}).status_code == 403
    assert client.post("/admin/kalender/impor", data={"csrf_token": token},
                       files={"berkas": ("a.toml", OFFICIAL_2027, "x")}).status_code == 403
    assert client.post("/admin/kalender/libur/2026-12-25/hapus", data={"csrf_token": token}).status_code == 403
    assert date(2026, 11, 13) not in holidays_of(catalogue, 2026)
    assert len(holidays_of(catalogue, 2027)) > 2


def test_every_form_needs_the_csrf_token(client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    page_login("admin")
    assert client.post("/admin/kalender/libur", data={"tanggal": "2026-11-13", "nama": "X",
                                                      "jenis": "national"}).status_code == 403
    assert client.post("/admin/kalender/libur/2026-12-25/hapus", data={}).status_code == 403
    assert date(2026, 12, 25) in holidays_of(catalogue, 2026)

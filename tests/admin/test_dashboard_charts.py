"""The dashboard's server-drawn charts and the heat map's scale: marks for the seeded data, colours from real hours."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from admin import charts
from engine.context import AppContext
from engine.sla.trend import TrendPoint
from tests.admin.conftest import Login
from tests.conftest import FakeClock
from tests.factories import Driver, make_user, pbg_application


def _points(*rows: tuple[int, int, int]) -> list[TrendPoint]:
    start = date(2026, 3, 2)
    return [TrendPoint(start + timedelta(days=n), 1, *row) for n, row in enumerate(rows)]


def test_one_bar_per_day_and_one_point_per_day_with_measured_cases() -> None:
    points = _points((3, 2, 1), (0, 0, 0), (5, 4, 4), (1, 0, 0))
    volume = charts.volume_chart(points)
    assert [m.value for m in volume.marks] == [3, 0, 5, 1]
    assert volume.maximum == 5
    tallest = max(volume.marks, key=lambda m: m.height)
    assert tallest.key == "2026-03-04"
    assert tallest.y == charts.TOP
    assert volume.marks[1].height == 0
    compliance = charts.compliance_chart(points)
    assert [(m.key, m.value) for m in compliance.marks] == [("2026-03-02", 50.0), ("2026-03-04", 100.0)]
    assert compliance.path.count("L") == 1
    assert [m.label for m in charts.axis_labels(points)] == ["02-03-2026", "04-03-2026", "05-03-2026"]


def test_nice_ceiling_rounds_the_axis_up() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 11, 240)] == [1, 1, 5, 10, 20, 250]


def test_heat_map_colours_follow_real_hours() -> None:
    # Every wait short: relative-only colouring made the 0.05 h step the darkest; on the real scale all are pale.
    short = charts.heat_scale({"a": 0.01, "b": 0.05})
    assert short.scale == charts.HEAT_MIN_SCALE_H
    assert short.levels == {"a": 1, "b": 1}
    mixed = charts.heat_scale({"fast": 0.02, "mid": 9.0, "slow": 20.0})
    assert mixed.scale == 20.0
    assert mixed.levels == {"fast": 1, "mid": 2, "slow": 4}
    assert mixed.bands == [(1, 0.0, 5.0), (2, 5.0, 10.0), (3, 10.0, 15.0), (4, 15.0, None)]


def _seed(ctx: AppContext, clock: FakeClock) -> None:
    """Three PBG cases: two on Monday 2 March 2026, one on Wednesday; the first goes past the front office."""
    d = Driver(ctx)
    applicant = make_user(ctx, "pemohon_grafik")
    first = d.start("pbg", pbg_application(), applicant)
    d.start("pbg", pbg_application(nama_pemohon="Siti Aminah"), applicant)
    clock.advance(hours=2)
    d.complete(first.id, "Task_kelengkapan", make_user(ctx, "loket_grafik", "dpmptsp.front_office"),
               {"kelengkapan": "lengkap"})
    clock.advance(days=2)
    d.start("pbg", pbg_application(nama_pemohon="Joko"), applicant)


def test_the_dashboard_draws_the_seeded_cases(catalogue: AppContext, clock: FakeClock, client: TestClient,
                                              page_login: Login) -> None:
    _seed(catalogue, clock)
    page_login("admin")
    page = client.get("/dasbor?dari=2026-03-01&sampai=2026-03-07&layanan=pbg")
    assert page.status_code == 200
    html = page.text
    volume = html[html.index('id="chart-volume"'):html.index('id="chart-compliance"')]
    assert re.findall(r'<rect class="bar" data-day="([0-9-]+)"', volume) == ["2026-03-02", "2026-03-04"]
    assert "<title>02-03-2026: 2</title>" in volume
    assert "<title>04-03-2026: 1</title>" in volume
    assert 'role="img" aria-labelledby="chart-volume-t chart-volume-d"' in volume
    compliance = html[html.index('id="chart-compliance"'):html.index('id="trend-table"')]
    assert '<circle class="point"' not in compliance  # no case has completed yet
    assert "Belum ada kasus selesai yang punya SLA" in compliance
    rows = re.findall(r'<tr><th scope="row">([0-9-]+)</th><td><a href="[^"]+" data-drill="day">(\d+)</a></td>', html)
    assert rows == [("01-03-2026", "0"), ("02-03-2026", "2"), ("03-03-2026", "0"), ("04-03-2026", "1"),
                    ("05-03-2026", "0"), ("06-03-2026", "0"), ("07-03-2026", "0")]
    agencies = re.findall(r'<tr data-agency="([a-z_]+)">', html)
    tasks_chart = html[html.index('id="chart-agency-tasks"'):html.index('id="chart-agency-compliance"')]
    assert re.findall(r'<rect class="bar" data-agency="([a-z_]+)"', tasks_chart) == agencies
    assert "dpmptsp" in agencies
    median = html[html.index('id="chart-agency-median"'):html.index('id="h-services"')]
    assert 'data-agency="dpmptsp"' in median
    assert "<title>DPMPTSP Kota Yogyakarta: 2.0</title>" in median
    heat = _heat(html)
    assert heat["heat"] == {"Task_kelengkapan": 2.0, "Task_gambar_teknis": 48.0}  # medians of the waits
    assert heat["levels"] == {"Task_kelengkapan": 1, "Task_gambar_teknis": 4}
    assert '<span data-level="4"><i class="swatch heat-4"></i>≥ 36.0 jam</span>' in html


def _heat(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="heatmap-data">(.*?)</script>', html, re.DOTALL)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_a_near_zero_wait_is_not_painted_the_darkest(catalogue: AppContext, clock: FakeClock, client: TestClient,
                                                     page_login: Login) -> None:
    Driver(catalogue).start("pbg", pbg_application(), make_user(catalogue, "pemohon_singkat"))
    clock.advance(minutes=3)  # the only wait of the day: 0.05 h, also the longest
    page_login("admin")
    html = client.get("/dasbor?dari=2026-03-02&sampai=2026-03-02&layanan=pbg").text
    heat = _heat(html)
    assert heat["heat"] == {"Task_kelengkapan": 0.05}
    assert heat["levels"] == {"Task_kelengkapan": 1}
    assert heat["scale"] == charts.HEAT_MIN_SCALE_H
    assert '<span data-level="1"><i class="swatch heat-1"></i>0.0–2.0 jam</span>' in html


def test_the_charts_speak_english_too(catalogue: AppContext, clock: FakeClock, client: TestClient,
                                      page_login: Login) -> None:
    _seed(catalogue, clock)
    page_login("admin")
    html = client.get("/dasbor?dari=2026-03-01&sampai=2026-03-07&lang=en").text
    assert '<title id="chart-volume-t">Applications started per day</title>' in html
    assert "7 days, 3 applications in all, at most 2 in one day." in html
    assert "<title>Investment and One-Stop Integrated Service Office of Yogyakarta City: 3</title>" in html
    assert "Investment and One-…</text>" in html  # the long name shortened beside its bar, whole in its title

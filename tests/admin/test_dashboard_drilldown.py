"""The dashboard's drill-down: every figure links to the staff case list, filtered to the cases behind it."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import login  # noqa: F401 - fixture
from tests.api.test_tasks import FRONT, GRIYA, api_drawings, complete, start
from tests.conftest import FakeClock

PageLogin = Callable[[str], str]
ApiLogin = Callable[[str], dict[str, str]]


def listed(client: TestClient, url: str) -> set[int]:
    """Return the ids of the cases the staff case list shows at a URL."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    return {int(n) for n in re.findall(r'<tr data-case="(\d+)">', response.text)}


def drill(html: str, row: str, kind: str) -> str:
    """Return the link of one figure: the `data-drill` link in the dashboard row `row` (e.g. data-service="pbg")."""
    found = re.search(rf'<tr {row}>(.*?)</tr>', html, re.DOTALL)
    assert found is not None, row
    link = re.search(rf'<a href="([^"]+)" data-drill="{kind}"', found.group(1))
    assert link is not None, (row, kind)
    return htmllib.unescape(link.group(1))


def test_every_figure_links_to_the_cases_behind_it(client: TestClient, login: ApiLogin, page_login: PageLogin,
                                                   clock: FakeClock) -> None:
    waiting = start(client, login)["id"]  # still at the completeness check
    at_tpa = start(client, login)["id"]
    complete(client, login, FRONT, at_tpa, "Task_kelengkapan", {"kelengkapan": "lengkap"})
    complete(client, login, GRIYA, at_tpa, "Task_gambar_teknis", api_drawings(client, login(GRIYA)))
    page_login("admin")
    board = client.get("/dasbor", params={"layanan": "pbg"}).text
    service = 'data-service="pbg"'
    assert drill(board, service, "volume") == "/kasus?layanan=pbg"
    default = client.get("/dasbor").text  # the last 30 days
    assert drill(default, service, "volume") == "/kasus?dari=2026-02-01&sampai=2026-03-02&layanan=pbg"
    assert listed(client, drill(board, service, "volume")) == {waiting, at_tpa}
    assert listed(client, drill(board, service, "open")) == {waiting, at_tpa}
    assert listed(client, drill(board, service, "completed")) == set()
    assert listed(client, drill(board, service, "overdue")) == set()
    assert listed(client, drill(board, 'data-agency="pupr"', "open")) == {at_tpa}
    assert listed(client, drill(board, 'data-agency="dpmptsp"', "completed")) == {at_tpa}
    assert listed(client, drill(board, 'data-step="Task_kelengkapan"', "open")) == {waiting}
    assert listed(client, drill(board, 'data-step="Task_kelengkapan"', "completed")) == {at_tpa}
    assert listed(client, drill(board, 'data-step="Task_tpa"', "open")) == {at_tpa}
    assert 'data-drill="day"' in board  # the trend's days, in its table
    heat = re.search(r'<script type="application/json" id="heatmap-data">(.*?)</script>', board, re.DOTALL)
    assert heat is not None
    assert "langkah=Task_tpa" in heat.group(1)
    clock.advance(days=60)  # past the 28 working days of the service
    board = client.get("/dasbor", params={"layanan": "pbg"}).text
    assert listed(client, drill(board, service, "overdue")) == {waiting, at_tpa}
    assert listed(client, drill(board, 'data-step="Task_kelengkapan"', "overdue")) == {waiting}
    # The period: cases started before it are not listed.
    assert listed(client, "/kasus?layanan=pbg&dari=2027-01-01") == set()


def test_a_supervisor_drills_into_their_own_agency_only(client: TestClient, login: ApiLogin,
                                                       page_login: PageLogin) -> None:
    waiting = start(client, login)["id"]
    page_login("pupr_supervisor")
    assert listed(client, "/kasus?layanan=pbg&status=berjalan") == set()  # no PUPR task yet
    board = client.get("/dasbor").text
    assert 'data-agency="dpmptsp"' not in board
    page_login("dpmptsp_supervisor")
    assert listed(client, "/kasus?layanan=pbg&status=berjalan") == {waiting}
    assert listed(client, "/kasus?instansi=pupr") == set()


def test_bad_filters_are_a_clear_400(client: TestClient, page_login: PageLogin) -> None:
    page_login("admin")
    for params, wanted in [({"dari": "kemarin"}, "bukan tanggal (YYYY-MM-DD)"),
                           ({"status": "hilang"}, "bukan salah satu dari / is not one of: berjalan, selesai"),
                           ({"tugas": "x"}, "terbuka, terlambat, selesai"),
                           ({"dari": "2026-03-10", "sampai": "2026-03-01"}, "Tanggal akhir sebelum tanggal awal")]:
        response = client.get("/kasus", params=params)
        assert response.status_code == 400, params
        assert wanted in response.text

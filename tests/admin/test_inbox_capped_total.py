"""The inbox page counts its tasks up to a thousand and still pages past them."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from engine.context import AppContext
from tests.api.conftest import login  # noqa: F401 - fixture
from tests.api.test_task_pages import OFFICER, ROLE, seed_tasks

PageLogin = Callable[[str], str]


def test_past_a_thousand_tasks_the_page_says_more_and_keeps_a_next_link(
        catalogue: AppContext, client: TestClient, page_login: PageLogin) -> None:
    seed_tasks(catalogue, 1060, ROLE, first=40000)
    page_login(OFFICER)
    first = client.get("/kotak-tugas")
    assert first.status_code == 200, first.text
    assert "1.000+ tugas" in first.text
    assert 'rel="next"' in first.text
    assert 'id="page-limit"' not in first.text
    # Pages end with the first 1,000 tasks: page 20 is full, has no next page, and says how to reach the rest.
    twentieth = client.get("/kotak-tugas", params={"halaman": 20})
    assert twentieth.text.count("<tr data-task=") == 50
    assert 'rel="next"' not in twentieth.text
    assert 'rel="prev"' in twentieth.text
    assert "Hanya 20 halaman pertama (1.000 tugas) yang ditampilkan" in twentieth.text
    # A page past them lists nothing and says so, with a way back to the last page shown.
    last = client.get("/kotak-tugas", params={"halaman": 22})
    assert last.status_code == 200
    assert last.text.count("<tr data-task=") == 0
    assert "persempit daftar dengan pencarian atau filter" in last.text
    assert "halaman=20" in last.text
    assert "Tidak ada tugas terbuka yang cocok" not in last.text


def test_under_a_thousand_the_page_gives_the_exact_count(catalogue: AppContext, client: TestClient,
                                                         page_login: PageLogin) -> None:
    seed_tasks(catalogue, 60, ROLE, first=60000)
    page_login(OFFICER)
    html = client.get("/kotak-tugas").text
    assert "60 tugas" in html
    assert "1.000+" not in html
    assert "Halaman 1 / 2" in html

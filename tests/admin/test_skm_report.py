"""The SKM semester report page, its CSV and its API; complaint figures on the dashboard."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from engine.context import AppContext
from engine.db import transaction
from engine.sla import survey as survey
from tests.admin.conftest import Login
from tests.engine.sla_package import sla_package
from tests.factories import deploy

PROFILE = {"gender": "l", "age_group": "20_29", "education": "d4_s1", "occupation": "pns"}


def record_answers(catalogue: AppContext) -> None:
    """Record three kiosk answers for sla_uji: u1 = 4, 3, 2 (NRR 3.00), the rest 3: IKM 3.0000, x 25 = 75.00 (C)."""
    deploy(catalogue, sla_package())
    with transaction(catalogue.sessions) as session:
        for first in (4, 3, 2):
            survey.submit_kiosk(session, process_key="sla_uji", answers={"u1": first, **{f"u{i}": 3 for i in
                                                                                        range(2, 10)}},
                                profile=PROFILE, comment="Kontak saya 081234567890" if first == 2 else None,
                                language="id", now=catalogue.rt.clock())


def test_the_report_page_csv_and_access(client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    record_answers(catalogue)
    page_login("admin")
    page = client.get("/dasbor/skm", params={"semester": "2026-1", "populasi": "sla_uji:40"})
    assert page.status_code == 200, page.text
    assert "Semester I 2026 (Januari–Juni)" in page.text
    assert 'data-unit="sla_uji"' in page.text
    assert 'data-unit="*"' in page.text
    assert "75.00" in page.text
    assert "C — Kurang Baik" in page.text
    assert "di bawah minimum" in page.text  # 3 respondents, population 40 -> minimum 36
    assert "Kontak saya […]" in page.text
    assert "081234567890" not in page.text
    assert 'href="/dasbor/skm.csv?semester=2026-1' in page.text
    download = client.get("/dasbor/skm.csv", params={"semester": "2026-1", "populasi": "sla_uji:40"})
    assert download.status_code == 200
    assert "laporan-skm-2026-1.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert ["sample", "sla_uji", "Layanan uji SLA", "minimum_sample", "Krejcie-Morgan", "36", ""] in rows
    assert ["index", "*", "Seluruh MPP", "converted", "", "75.00", ""] in rows
    assert ["profile", "sla_uji", "Layanan uji SLA", "occupation", "PNS", "3", "100.00"] in rows
    bad = client.get("/dasbor/skm", params={"semester": "2026-7"})
    assert bad.status_code == 400
    assert "bukan semester" in bad.text
    page_login("pupr_supervisor")
    other = client.get("/dasbor/skm", params={"semester": "2026-1"})
    assert other.status_code == 200
    assert 'data-unit="sla_uji"' not in other.text
    page_login("warga")
    assert client.get("/dasbor/skm").status_code == 403


def test_the_dashboard_shows_complaint_figures_and_links(client: TestClient, catalogue: AppContext,
                                                         page_login: Login) -> None:
    page_login("admin")
    board = client.get("/dasbor")
    assert board.status_code == 200
    assert 'id="complaint-table"' in board.text
    assert 'href="/admin/pengaduan"' in board.text  # in the table's note and the staff navigation
    assert 'href="/dasbor/skm"' in board.text
    assert 'href="/skm/kios"' in board.text

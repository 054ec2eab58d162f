"""The service-standard form's `[standard]` components over HTTP: shown, edited in both languages, saved, linted."""

from __future__ import annotations

import tomllib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from engine.catalogue import standard_components
from engine.context import AppContext
from tests.admin.test_studio_standard import AGENCY, form_values, new_draft, post, stored
from tests.factories import make_analyst

Login = Callable[[str], str]
KEYS = [c.key for c in standard_components.COMPONENTS]
WRITTEN = {
    "c_legal_basis_id": "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik\r\n"
                        "Peraturan Wali Kota Yogyakarta Nomor 9 Tahun 2025 tentang Izin Uji",
    "c_legal_basis_en": "Law 25/2009 on Public Services\r\nYogyakarta Mayor Regulation 9/2025 on Test Permits",
    "c_hours_id": "Senin–Kamis 08.00–15.00; Jumat 08.00–14.00", "c_hours_en": "Mon–Thu 08:00–15:00; Fri 08:00–14:00",
    "c_complaints_id": "Melalui SP4N-LAPOR! dan meja pengaduan MPP", "c_complaints_en": "Through SP4N-LAPOR! and the "
                                                                                      "MPP complaint desk",
    "c_complaints_days": "5",
    "c_facilities_id": "Ruang tunggu\r\nToilet difabel", "c_facilities_en": "Waiting room\r\nAccessible toilet",
    "c_competence_id": "Memahami Perwal 9/2025", "c_competence_en": "Knows Mayor Regulation 9/2025",
    "c_supervision_id": "Kepala Dinas Uji", "c_supervision_en": "The Head of the Test Office",
    "c_staffing_id": "2 orang", "c_staffing_en": "2 officers",
    "c_guarantee_id": "Izin selesai dalam 5 hari kerja", "c_guarantee_en": "The permit within 5 working days",
    "c_security_id": "Data pemohon dirahasiakan", "c_security_en": "Applicants' data is kept confidential",
    "c_evaluation_id": "SKM tiap semester", "c_evaluation_en": "SKM survey each semester",
    "c_signatory_id": "Kepala Dinas Uji", "c_signatory_en": "Head of the Test Office",
}


@pytest.fixture
def draft(catalogue: AppContext) -> int:  # noqa: F811 - the imported fixture
    make_analyst(catalogue, "analis_uji", AGENCY)
    return new_draft(catalogue, "analis_uji")


def test_a_new_drafts_placeholders_are_shown_on_each_field_and_the_analyst_writes_them(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/standar")
    assert page.status_code == 200
    for component in standard_components.COMPONENTS:
        for lang in ("id", "en"):
            assert f'id="f-c_{component.key}_{lang}"' in page.text
        assert f'id="p-c_{component.key}_id-1"' in page.text  # lint's placeholder problem, on the field
        assert component.label[0] in page.text
    assert "masih berisi isian awal" in page.text
    assert 'id="f-c_complaints_days"' in page.text

    response = post(client, draft, form_values(page.text), csrf_token=token, **WRITTEN)
    assert response.status_code == 303, response.text
    table = tomllib.loads(stored(catalogue, draft).decode())["standard"]
    assert table["legal_basis"] == [
        {"id": "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik", "en": "Law 25/2009 on Public Services"},
        {"id": "Peraturan Wali Kota Yogyakarta Nomor 9 Tahun 2025 tentang Izin Uji",
         "en": "Yogyakarta Mayor Regulation 9/2025 on Test Permits"}]
    assert table["complaints"] == {"id": "Melalui SP4N-LAPOR! dan meja pengaduan MPP",
                                   "en": "Through SP4N-LAPOR! and the MPP complaint desk", "response_days": 5}
    assert table["facilities"][1] == {"id": "Toilet difabel", "en": "Accessible toilet"}
    assert table["signatory"] == {"id": "Kepala Dinas Uji", "en": "Head of the Test Office"}
    assert sorted(table) == sorted([*KEYS, "signatory"])

    saved = client.get(response.headers["location"])
    assert "masih berisi isian awal" not in saved.text  # lint is satisfied
    assert "Peraturan Wali Kota Yogyakarta Nomor 9 Tahun 2025 tentang Izin Uji</textarea>" in saved.text
    # Saved again unchanged: the same bytes.
    before = stored(catalogue, draft)
    again = post(client, draft, form_values(saved.text), csrf_token=token)
    assert again.status_code == 303, again.text
    assert stored(catalogue, draft) == before


def test_lines_that_do_not_pair_up_are_refused_on_their_field(
        client: TestClient, catalogue: AppContext, page_login: Login, draft: int) -> None:  # noqa: F811
    token = page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/standar")
    before = stored(catalogue, draft)
    response = post(client, draft, form_values(page.text), csrf_token=token,
                    **{**WRITTEN, "c_facilities_en": "Waiting room", "c_complaints_days": "nol"})
    assert response.status_code == 422
    assert 'id="e-c_facilities_en"' in response.text
    assert "Sarana, prasarana dan/atau fasilitas (bahasa Inggris) wajib diisi (baris 2)" in response.text
    assert 'id="e-c_complaints_days"' in response.text
    assert "Toilet difabel" in response.text  # what the analyst typed is kept
    assert stored(catalogue, draft) == before

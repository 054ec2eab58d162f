"""The public Standar Pelayanan and Maklumat Pelayanan pages of a catalogue service, without logging in."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from engine.context import AppContext


def text_of(page: str) -> str:
    """Return the page's text with tags dropped and entities decoded (what a reader sees)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_standard_page_shows_all_fourteen_components_of_the_pbg_in_order(
        client: TestClient, catalogue: AppContext) -> None:  # noqa: F811 - fixtures
    client.cookies.clear()
    page = client.get("/layanan/pbg/standar-pelayanan")
    assert page.status_code == 200
    assert 'href="/masuk"' in page.text  # nobody is logged in
    text = text_of(page.text)
    labels = ["Persyaratan", "Sistem, mekanisme dan prosedur", "Jangka waktu penyelesaian", "Biaya/tarif",
              "Produk pelayanan", "Penanganan pengaduan, saran dan masukan", "Dasar hukum",
              "Sarana, prasarana dan/atau fasilitas", "Kompetensi pelaksana", "Pengawasan internal", "Jumlah pelaksana",
              "Jaminan pelayanan", "Jaminan keamanan dan keselamatan pelayanan", "Evaluasi kinerja pelaksana"]
    positions = [text.index(f"{n}. {label}") for n, label in enumerate(labels, 1)]
    assert positions == sorted(positions)
    for expected in (
        "Persetujuan Bangunan Gedung (PBG)",
        "Gambar teknis (arsitektur, struktur, mekanikal-elektrikal-plambing)",  # requirements
        "28 hari kerja sejak berkas dinyatakan lengkap",
        "Peraturan Pemerintah Nomor 16 Tahun 2021 tentang Peraturan Pelaksanaan Undang-Undang Nomor 28 Tahun 2002",
        "Undang-Undang Nomor 28 Tahun 2002 tentang Bangunan Gedung sebagaimana diubah dengan Undang-Undang Nomor 6 "
        "Tahun 2023",
        "Batas waktu jawaban: 3 hari kerja",
        "Ruang konsultasi Tim Profesi Ahli (TPA) dan akses SIMBG",
        "Tim Profesi Ahli dengan sertifikat keahlian arsitektur, struktur dan MEP",
        "8 orang: 2 front office",
        "Persetujuan Bangunan Gedung (rumah MBR paling lama 10 hari kerja)",
        "UU 27/2022 tentang Pelindungan Data Pribadi",
        "Senin–Kamis 08.00–15.00 WIB; Jumat 08.00–14.00 WIB",
    ):
        assert expected in text, expected
    assert re.search(r'<link rel="stylesheet" href="/static/web/standard-print.css">', page.text)
    css = client.get("/static/web/standard-print.css")
    assert css.status_code == 200
    assert "size: A4" in css.text
    assert ".site-header" in css.text


def test_the_standard_page_speaks_english_when_asked(client: TestClient, catalogue: AppContext) -> None:  # noqa: F811
    text = text_of(client.get("/layanan/sip/standar-pelayanan?lang=en").text)
    assert "Service Standard" in text
    assert "14. Staff performance evaluation" in text
    assert "Law 17/2023 on Health" in text
    assert "Government Regulation 28/2024 implementing Law 17/2023 on Health" in text
    assert "Undang-Undang Nomor 17" not in text


def test_the_pledge_page_shows_the_guarantee_and_the_signatory_placeholder(
        client: TestClient, catalogue: AppContext) -> None:  # noqa: F811
    client.cookies.clear()
    page = client.get("/layanan/paspor/maklumat-pelayanan")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Maklumat Pelayanan" in text
    assert "Dengan ini kami, Kantor Imigrasi Kelas I TPI Yogyakarta, menyatakan sanggup menyelenggarakan " \
           "pelayanan" in text
    assert "paspor diselesaikan paling lama 4 hari kerja sejak berkas lengkap" in text
    signatory = re.search(r'id="penanda-tangan">([^<]*)<', page.text)
    assert signatory is not None
    assert signatory.group(1) == "Kepala Kantor Imigrasi Kelas I TPI Yogyakarta"
    assert "nama pejabat, diisi saat ditandatangani" in text  # the name is left to write on the printed sheet


def test_the_service_page_links_both_pages_and_an_unknown_service_is_a_404(
        client: TestClient, catalogue: AppContext) -> None:  # noqa: F811
    page = client.get("/layanan/sip").text
    assert 'href="/layanan/sip/standar-pelayanan"' in page
    assert 'href="/layanan/sip/maklumat-pelayanan"' in page
    for path in ("/layanan/tidak_ada/standar-pelayanan", "/layanan/tidak_ada/maklumat-pelayanan"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "<html" in missing.text

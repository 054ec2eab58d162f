"""The queue's pages over HTTP: kiosk and ticket (public), the counter desk, booking a visit, the hall set-up.

The test clock stands on Monday 2 March 2026, 08:00 WIB (tests/conftest.py FakeClock).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.context import AppContext
from engine.directory.actors import actor_for
from engine.directory.service import get_user
from engine.models import Case, QueueBooking, QueueCounter, QueueTicket
from tests.factories import Driver, pbg_application

Login = Callable[[str], str]


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def _take(client: TestClient, **fields: str) -> str:
    token = _csrf(client, "/antrean/instansi/dpmptsp")
    taken = client.post("/antrean/ambil", data={"csrf_token": token, "instansi": "dpmptsp", **fields},
                        follow_redirects=False)
    assert taken.status_code == 303, taken.text
    return str(taken.headers["location"])


def _counter_id(ctx: AppContext, code: str) -> int:
    with ctx.sessions() as session:
        found = session.scalar(select(QueueCounter.id).where(QueueCounter.code == code))
        assert found is not None
        return found


def test_the_kiosk_prints_a_ticket_with_its_place_and_the_desk_calls_it(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    kiosk = client.get("/antrean")
    assert 'id="instansi-dpmptsp"' in kiosk.text
    assert "Saya sudah booking" in kiosk.text
    first = client.get(_take(client, layanan="pbg"))
    assert 'id="ticket-number">A-001<' in first.text
    second = client.get(_take(client, layanan=""))
    assert 'id="ticket-ahead">1<' in second.text
    assert "± 5 menit" in second.text  # one ahead, 10 minutes assumed, two open counters

    token = page_login("dpmptsp_front_office")
    desk = _counter_id(catalogue, "A1")
    called = client.post(f"/loket/{desk}/panggil", data={"csrf_token": token})
    assert 'id="desk-number">A-001<' in called.text
    assert 'href="/layanan/pbg/ajukan"' in called.text  # the front-office filing of the ticket's service
    busy = client.post(f"/loket/{desk}/panggil", data={"csrf_token": token})
    assert busy.status_code == 409
    assert "masih melayani tiket A-001" in busy.text
    assert "Silakan menuju" in client.get(first.url.path).text
    done = client.post(f"/loket/{desk}/selesai", data={"csrf_token": token})
    assert "Tiket selesai dilayani." in done.text


def test_a_finished_visit_records_the_application_it_led_to(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    with catalogue.sessions() as session:
        warga = actor_for(session, get_user(session, "warga"))
    case = Driver(catalogue).start("pbg", pbg_application(), warga)
    with catalogue.sessions() as session:
        number = session.get_one(Case, case.id).tracking_number
    _take(client, layanan="pbg")
    token = page_login("dpmptsp_front_office")
    desk = _counter_id(catalogue, "A1")
    client.post(f"/loket/{desk}/panggil", data={"csrf_token": token})
    unknown = client.post(f"/loket/{desk}/selesai", data={"csrf_token": token, "nomor_permohonan": "MPP-NOPE-0000"})
    assert unknown.status_code == 422
    assert "Tidak ada permohonan bernomor &#39;MPP-NOPE-0000&#39;" in unknown.text
    assert 'id="desk-number">A-001<' in unknown.text  # the ticket is still at the counter: nothing was lost
    done = client.post(f"/loket/{desk}/selesai", data={"csrf_token": token, "nomor_permohonan": number.lower()})
    assert "Tiket selesai dilayani." in done.text
    with catalogue.sessions() as session:
        ticket = session.scalars(select(QueueTicket).where(QueueTicket.number == "A-001")).one()
        assert (ticket.status, ticket.case_id) == ("done", case.id)


def test_bad_kiosk_input_is_named_and_a_counter_refuses_other_agencies(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = _csrf(client, "/antrean")
    refused = client.post("/antrean/ambil", data={"csrf_token": token, "instansi": "dpmptsp", "layanan": "skck"})
    assert refused.status_code == 422
    assert "tidak dilayani di loket instansi ini" in refused.text
    unknown = client.post("/antrean/booking", data={"csrf_token": token, "kode": "ZZZZZZ"})
    assert unknown.status_code == 422
    assert "tidak ada booking dengan kode ini" in unknown.text
    assert client.post("/antrean/ambil", data={"instansi": "dpmptsp"}).status_code == 403  # no CSRF token
    police = page_login("polresta_intelkam")
    desk = _counter_id(catalogue, "A1")
    assert client.get(f"/loket/{desk}").status_code == 403
    assert client.post(f"/loket/{desk}/panggil", data={"csrf_token": police}).status_code == 403
    assert 'id="loket-C1"' in client.get("/loket").text


def test_an_applicant_books_a_slot_sees_it_refused_when_full_and_cancels(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    admin = page_login("admin")
    saved = client.post("/admin/antrean/instansi/polresta", data={
        "csrf_token": admin, "awalan": "C", "menit_slot": "30", "kapasitas": "1", "kapasitas_drive_thru": "0"})
    assert "Pengaturan antrean instansi disimpan." in saved.text
    token = page_login("warga")
    slots = client.get("/kunjungan", params={"layanan": "skck", "tanggal": "2026-03-03"})
    assert 'value="09:00"' in slots.text
    booked = client.post("/kunjungan", data={"csrf_token": token, "layanan": "skck", "tanggal": "2026-03-03",
                                             "kanal": "tatap_muka", "slot": "09:00"})
    assert "Kunjungan dipesan." in booked.text
    full = client.post("/kunjungan", data={"csrf_token": token, "layanan": "skck", "tanggal": "2026-03-03",
                                           "kanal": "tatap_muka", "slot": "09:00"})
    assert full.status_code == 409
    assert "slot pukul 09:00 sudah penuh" in full.text
    sunday = client.get("/kunjungan", params={"layanan": "skck", "tanggal": "2026-03-08"})
    assert sunday.status_code == 422
    assert "Kantor tutup pada 2026-03-08" in sunday.text
    with catalogue.sessions() as session:
        booking = session.scalar(select(QueueBooking))
        assert booking is not None
    cancelled = client.post(f"/kunjungan/{booking.id}/batal", data={"csrf_token": token})
    assert "Booking dibatalkan." in cancelled.text
    other = page_login("dpmptsp_front_office")
    assert client.post(f"/kunjungan/{booking.id}/batal", data={"csrf_token": other}).status_code == 403


def test_an_admin_adds_and_closes_a_counter_and_the_dashboard_counts_the_queue(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:
    token = page_login("admin")
    added = client.post("/admin/antrean/loket", data={"csrf_token": token, "kode": "a3", "nama": "Loket 7 Reklame",
                                                      "instansi": "dpmptsp", "layanan": ["reklame"]})
    assert "Loket ditambahkan." in added.text
    taken = client.post("/admin/antrean/loket", data={"csrf_token": token, "kode": "A3", "nama": "Lagi",
                                                      "instansi": "dpmptsp"})
    assert taken.status_code == 422
    assert "kode loket A3 sudah dipakai" in taken.text
    closed = client.post(f"/admin/antrean/loket/{_counter_id(catalogue, 'A3')}/status",
                         data={"csrf_token": token, "aktif": "tidak"})
    assert "Status loket diubah." in closed.text
    bad = client.post("/admin/antrean/instansi/dpmptsp", data={
        "csrf_token": token, "awalan": "A1", "menit_slot": "30", "kapasitas": "4", "kapasitas_drive_thru": "2"})
    assert bad.status_code == 422
    assert "Awalan nomor harus 1-3 huruf" in bad.text
    _take(client, layanan="pbg")
    board = client.get("/dasbor")
    assert 'data-queue="dpmptsp"' in board.text
    assert client.get("/admin/antrean").status_code == 200
    page_login("dpmptsp_front_office")
    assert client.get("/admin/antrean").status_code == 403

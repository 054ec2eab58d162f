"""Notifications end to end: real SMTP server, real webhook receiver, real database, real jobs."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.catalogue.package import from_files
from engine.context import AppContext, build_context
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.jobs.service import run_due_jobs
from engine.lint.service import lint_package
from engine.models import Job, Notification, NotificationAttempt
from engine.notify import webhooks as webhooks
from engine.settings import Settings
from tests.conftest import ROOT, FakeClock
from tests.factories import Driver, deploy, make_user
from tests.notify_servers import SmtpSink, free_port, smtp_server, webhook_receiver
from tests.packages import simple_package
from tests.processes.test_sip import LENGKAP, application

SIP = ROOT / "processes" / "sip"
SKCK = ROOT / "processes" / "skck"
SENT_BACK = {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "STR belum dilegalisir"}
REFUSED = {"hasil_verifikasi": "ditolak", "catatan_verifikasi": "Rekomendasi sudah tidak berlaku"}


def make_context(db_url: str, tmp_path: Path, clock: FakeClock, **settings: Any) -> AppContext:
    """Build a context like the `ctx` fixture's, with notification settings."""
    return build_context(Settings(database_url=db_url, files_dir=tmp_path / "files", outbox_dir=tmp_path / "outbox",
                                  processes_dir=ROOT / "processes", smtp_starttls=False, notify_max_attempts=3,
                                  **settings), migrate=False, clock=clock)


@pytest.fixture
def mail(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[tuple[AppContext, SmtpSink]]:
    """A context whose e-mails go to a real local SMTP server."""
    with smtp_server() as (sink, port):
        context = make_context(db_url, tmp_path, clock, smtp_host="127.0.0.1", smtp_port=port,
                               smtp_from="MPP Kota Yogyakarta <mpp@jogjakota.test>")
        yield context, sink
        context.engine.dispose()


def citizen(ctx: AppContext, username: str, *, email: str | None, language: str) -> Actor:
    with transaction(ctx.sessions) as session:
        user = directory.create_user(session, username=username, email=email, language=language)
        return actor_for(session, user)


def officer(ctx: AppContext, username: str, role: str, *, email: str | None = None, language: str = "id") -> Actor:
    with transaction(ctx.sessions) as session:
        user = directory.create_user(session, username=username, platform_role="officer", email=email,
                                     language=language)
        directory.grant(session, user=user, role_key=role)
        return actor_for(session, user)


def notes(ctx: AppContext, **where: Any) -> list[Notification]:
    with ctx.sessions() as session:
        stmt = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Notification, key) == value)
        return list(session.scalars(stmt))


def attempts(ctx: AppContext, note_id: int) -> list[NotificationAttempt]:
    with ctx.sessions() as session:
        return list(session.scalars(select(NotificationAttempt).where(NotificationAttempt.notification_id == note_id)
                                    .order_by(NotificationAttempt.id)))


def job_of(ctx: AppContext, note: Notification) -> Job:
    with ctx.sessions() as session:
        job = session.scalar(select(Job).where(Job.task_id == note.uid))
        assert job is not None
        return job


def subjects(sink: SmtpSink, address: str) -> list[str]:
    return [str(m["Subject"]) for m in sink.to(address)]


def test_applicants_are_told_in_their_own_language(mail: tuple[AppContext, SmtpSink]) -> None:
    ctx, sink = mail
    deploy(ctx, SIP)
    back = officer(ctx, "bo", "dpmptsp.back_office")
    verifikator = officer(ctx, "verifikator", "dinkes.verifikator")
    d = Driver(ctx)
    expected = {"id": ("telah diterima", "menunggu tindakan Anda", "selesai"),
                "en": ("received", "needs your action", "completed")}
    for username, language in (("ani", "id"), ("john", "en")):
        actor = citizen(ctx, username, email=f"{username}@mail.test", language=language)
        case = d.start("sip", application(email="typed-in-form@example.id"), actor)
        d.run_jobs()
        d.complete(case.id, "Task_admin", back, SENT_BACK)
        d.run_jobs()
        d.complete(case.id, "Task_melengkapi", actor, {"keterangan_perbaikan": "Dilengkapi"})
        d.complete(case.id, "Task_admin", back, LENGKAP)
        d.run_jobs()  # no e-mail for officers' steps
        d.complete(case.id, "Task_verifikasi", verifikator, REFUSED)
        d.run_jobs()
        received = sink.to(f"{username}@mail.test")
        n = case.tracking_number
        words = expected[language]
        if language == "id":
            assert subjects(sink, f"{username}@mail.test") == [
                f"Permohonan {n} {words[0]}", f"Permohonan {n} {words[1]}", f"Permohonan {n} {words[2]}"]
        else:
            assert subjects(sink, f"{username}@mail.test") == [
                f"Application {n} {words[0]}", f"Application {n} {words[1]}", f"Application {n} {words[2]}"]
        assert {m["Content-Language"] for m in received} == {language}
        assert all(m["From"] == "MPP Kota Yogyakarta <mpp@jogjakota.test>" for m in received)
        sent_back = received[1].get_content()
        assert "Melengkapi berkas SIP" in sent_back
        # SLA of 5 working days from Monday 2 March 2026, 16:00 WIB, written for people in their language.
        assert ("9 Maret 2026, 16.00 WIB" if language == "id" else "9 March 2026, 16:00 WIB") in sent_back
        service = "Surat Izin Praktik Tenaga Kesehatan" if language == "id" else "Practice Licence for Health Workers"
        assert all(service in m.get_content() for m in received)
        assert "Permohonan ditolak" in received[2].get_content()  # the outcome
    assert sink.to("typed-in-form@example.id") == []  # the account's address wins over the form's
    assert len(sink.messages) == 6
    assert {n.status for n in notes(ctx)} == {"sent"}


def test_a_walk_in_applicant_is_written_to_at_the_address_in_the_form(mail: tuple[AppContext, SmtpSink]) -> None:
    ctx, sink = mail
    deploy(ctx, SIP)
    front = officer(ctx, "fo", "dpmptsp.front_office", email="fo@jogjakota.test")
    d = Driver(ctx)
    case = d.start("sip", application(email="walkin@example.id"), front)
    d.run_jobs()
    assert subjects(sink, "walkin@example.id") == [f"Permohonan {case.tracking_number} telah diterima"]
    assert sink.to("fo@jogjakota.test") == []


def test_payment_due_is_announced_by_the_task_marker(mail: tuple[AppContext, SmtpSink]) -> None:
    ctx, sink = mail
    deploy(ctx, SKCK)
    from tests.processes.test_skck import CLEAN
    from tests.processes.test_skck import application as skck_application

    intelkam = officer(ctx, "intelkam", "polresta.intelkam")
    siti = citizen(ctx, "siti", email="siti@mail.test", language="en")
    d = Driver(ctx)
    case = d.start("skck", skck_application(sidik_jari_terdaftar=True), siti, channel="daring")
    d.complete(case.id, "Task_penelitian", intelkam, CLEAN)
    d.run_jobs()
    assert subjects(sink, "siti@mail.test") == [f"Application {case.tracking_number} received",
                                                f"Payment due for application {case.tracking_number}"]
    assert "Pembayaran PNBP SKCK" in sink.to("siti@mail.test")[1].get_content()
    assert [n.event for n in notes(ctx)] == ["received", "payment_due"]  # not also "sent_back"


def test_officers_holding_the_role_are_told_when_a_task_is_overdue(mail: tuple[AppContext, SmtpSink],
                                                                   clock: FakeClock) -> None:
    ctx, sink = mail
    deploy(ctx, SIP)
    officer(ctx, "bo_en", "dpmptsp.back_office", email="bo.en@jogjakota.test", language="en")
    officer(ctx, "bo_id", "dpmptsp.back_office", email="bo.id@jogjakota.test")
    officer(ctx, "bo_tanpa_email", "dpmptsp.back_office")
    officer(ctx, "verifikator", "dinkes.verifikator", email="dinkes@jogjakota.test")
    ani = citizen(ctx, "ani", email="ani@mail.test", language="id")
    d = Driver(ctx)
    case = d.start("sip", application(), ani)
    d.run_jobs()
    clock.advance(days=2)  # Task_admin was due on Tuesday 16:00 WIB
    d.run_jobs()  # the scan flags it and queues the notices
    d.run_jobs()  # they go out
    n = case.tracking_number
    task = "Pemeriksaan administrasi berkas SIP"
    assert subjects(sink, "bo.en@jogjakota.test") == [f"Task overdue: {task} ({n})"]
    assert subjects(sink, "bo.id@jogjakota.test") == [f"Tugas melewati batas waktu: {task} ({n})"]
    assert sink.to("dinkes@jogjakota.test") == []
    assert [n.event for n in notes(ctx, event="overdue")] == ["overdue", "overdue"]
    d.run_jobs()
    assert len(notes(ctx, event="overdue")) == 2  # flagged once, told once


def test_without_an_smtp_host_emails_are_recorded_as_skipped(ctx: AppContext) -> None:
    deploy(ctx, SIP)
    ani = citizen(ctx, "ani", email="ani@mail.test", language="id")
    d = Driver(ctx)
    d.start("sip", application(), ani)
    d.run_jobs()
    [note] = notes(ctx)
    assert (note.event, note.channel, note.status, note.last_error) == (
        "received", "email", "skipped", "MPP_SMTP_HOST is not set")
    assert [a.outcome for a in attempts(ctx, note.id)] == ["skipped"]
    assert job_of(ctx, note).status == "done"


def test_a_dead_smtp_server_is_retried_with_backoff_then_recorded_as_failed(
        db_url: str, tmp_path: Path, clock: FakeClock) -> None:
    ctx = make_context(db_url, tmp_path, clock, smtp_host="127.0.0.1", smtp_port=free_port())
    deploy(ctx, SIP)
    ani = citizen(ctx, "ani", email="ani@mail.test", language="id")
    d = Driver(ctx)
    d.start("sip", application(), ani)
    d.run_jobs()
    [note] = notes(ctx)
    assert (note.status, note.attempts) == ("pending", 1)
    job = job_of(ctx, note)
    assert job.status == "pending"
    assert (job.due_at - clock.now).total_seconds() == 30
    d.run_jobs()  # not due yet: nothing is tried
    assert len(attempts(ctx, note.id)) == 1
    clock.advance(seconds=30)
    d.run_jobs()
    assert (job_of(ctx, note).due_at - clock.now).total_seconds() == 60  # the wait doubles
    clock.advance(seconds=60)
    d.run_jobs()  # the third attempt is the last (MPP_NOTIFY_MAX_ATTEMPTS=3)
    [note] = notes(ctx)
    tries = attempts(ctx, note.id)
    assert (note.status, note.attempts, [a.outcome for a in tries]) == ("failed", 3, ["failed"] * 3)
    assert "ConnectionRefusedError" in (note.last_error or "")
    assert job_of(ctx, note).status == "failed"
    clock.advance(hours=2)
    d.run_jobs()
    assert len(attempts(ctx, note.id)) == 3  # given up for good
    ctx.engine.dispose()


def _subscribe(ctx: AppContext, agency: str, url: str, events: list[str]) -> str:
    with transaction(ctx.sessions) as session:
        _row, secret = webhooks.create_subscription(session, agency_code=agency, url=url, events=events,
                                                    active=True, actor="admin",
                                                    key=ctx.settings.secret_key.get_secret_value())
        return secret


def _valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Verify a signature the way a partner would, without the platform's code."""
    parts = dict(p.split("=", 1) for p in headers["x-mpp-signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_webhook_deliveries_arrive_signed_for_the_agencies_that_subscribed(ctx: AppContext) -> None:
    deploy(ctx, SIP)
    directory_agency = "pupr"
    with transaction(ctx.sessions) as session:
        directory.ensure_agency(session, code=directory_agency, name_id="Dinas PUPR")
    back = make_user(ctx, "bo", "dpmptsp.back_office")
    ani = citizen(ctx, "ani", email=None, language="id")
    with webhook_receiver() as dinkes, webhook_receiver() as results_only, webhook_receiver() as outsider:
        dinkes_secret = _subscribe(ctx, "dinkes", dinkes.url, ["received", "sent_back", "result_ready"])
        _subscribe(ctx, "dpmptsp", results_only.url, ["result_ready"])
        _subscribe(ctx, directory_agency, outsider.url, ["received"])  # takes no part in SIP
        d = Driver(ctx)
        case = d.start("sip", application(), ani)
        d.complete(case.id, "Task_admin", back, SENT_BACK)
        d.run_jobs()
        assert [json.loads(r.body)["type"] for r in dinkes.requests] == ["received", "sent_back"]
        assert results_only.requests == []
        assert outsider.requests == []
        first = dinkes.requests[0]
        body = json.loads(first.body)
        assert first.headers["x-mpp-event-id"] == body["id"]
        assert first.headers["x-mpp-event"] == "received"
        assert first.headers["content-type"] == "application/json"
        assert body["case"]["tracking_number"] == case.tracking_number
        assert body["case"]["service"]["en"].startswith("Practice Licence")
        assert "email" not in first.body.decode()
        assert "nik" not in body["case"]
        assert json.loads(dinkes.requests[1].body)["task"]["element_id"] == "Task_melengkapi"
        assert all(_valid(dinkes_secret, r.headers, r.body) for r in dinkes.requests)
        assert not _valid("whsec_wrong", first.headers, first.body)
        assert not _valid(dinkes_secret, first.headers, first.body.replace(b"received", b"overdue"))
        stamp = int(first.headers["x-mpp-signature"].split(",")[0][2:])
        assert webhooks.verify(dinkes_secret, header=first.headers["x-mpp-signature"], body=first.body, now=stamp)
        assert not webhooks.verify(dinkes_secret, header=first.headers["x-mpp-signature"], body=first.body,
                                   now=stamp + 301)  # too old: a replay
    # The account has no address, so e-mails go to the form's (recorded as skipped: no SMTP host here).
    assert {(n.channel, n.recipient, n.status) for n in notes(ctx)} == {
        ("webhook", dinkes.url, "sent"), ("email", "ani@example.id", "skipped")}


def test_a_receiver_answering_500_is_retried_with_backoff_until_it_accepts(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, SIP)
    ani = citizen(ctx, "ani", email=None, language="id")
    with webhook_receiver(plan=[500, 503]) as partner:
        secret = _subscribe(ctx, "dinkes", partner.url, ["received"])
        d = Driver(ctx)
        d.start("sip", application(), ani)
        d.run_jobs()
        d.run_jobs()  # the retry is not due yet
        assert len(partner.requests) == 1
        clock.advance(seconds=30)
        d.run_jobs()
        assert len(partner.requests) == 2
        clock.advance(seconds=59)
        d.run_jobs()
        assert len(partner.requests) == 2  # the second wait is 60 s
        clock.advance(seconds=1)
        d.run_jobs()
        assert len(partner.requests) == 3
    [note] = notes(ctx, channel="webhook")
    assert (note.status, note.attempts) == ("sent", 3)
    assert [(a.outcome, a.status_code) for a in attempts(ctx, note.id)] == [
        ("failed", 500), ("failed", 503), ("sent", 200)]
    assert len({r.headers["x-mpp-event-id"] for r in partner.requests}) == 1  # one event, retried
    assert len({r.body for r in partner.requests}) == 1
    assert all(_valid(secret, r.headers, r.body) for r in partner.requests)


def test_two_workers_send_nothing_twice(mail: tuple[AppContext, SmtpSink]) -> None:
    ctx, sink = mail
    deploy(ctx, SIP)
    d = Driver(ctx)
    with webhook_receiver() as partner:
        _subscribe(ctx, "dinkes", partner.url, ["received"])
        for i in range(6):
            d.start("sip", application(), citizen(ctx, f"warga{i}", email=f"warga{i}@mail.test", language="id"))
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                while run_due_jobs(ctx.sessions, rt=ctx.rt, worker=name, limit=1):
                    pass
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert len(partner.requests) == 6
        assert len({r.headers["x-mpp-delivery"] for r in partner.requests}) == 6
    assert len(sink.messages) == 6
    assert len({m["Message-ID"] for m in sink.messages}) == 6
    assert {(n.status, n.attempts) for n in notes(ctx)} == {("sent", 1)}


MARKED = '<spiffworkflow:property name="slaDays" value="3"/>'


def _marked_package(marker: str | None, templates: dict[str, str], *, applicant: bool = False) -> Any:
    """The simple package, its user task marked, optionally in the applicant's lane, with extra files."""
    base = simple_package("bayar")
    bpmn = base.files["process.bpmn"].decode()
    if marker is not None:
        bpmn = bpmn.replace(MARKED, MARKED + f'<spiffworkflow:property name="notify" value="{marker}"/>')
    if applicant:
        bpmn = bpmn.replace('name="Petugas [dinas.petugas]"', 'name="Pemohon [applicant]"')
    return from_files({**base.files, "process.bpmn": bpmn.encode(),
                       **{name: text.encode() for name, text in templates.items()}})


def test_a_package_overrides_a_template_and_a_failing_one_falls_back(mail: tuple[AppContext, SmtpSink]) -> None:
    ctx, sink = mail
    deploy(ctx, _marked_package("payment_due", {
        "notifications/en/payment_due.txt": "Please pay Rp {{ data.total }} for {{ tracking_number }}\n\n"
                                            "{{ service }}: {{ task.name }} by {{ task.due }}.\n",
        # Fails only with the case's data (lint renders with empty data): the platform's text is sent instead.
        "notifications/id/payment_due.txt": "Bayar {{ data.harga // 0 }}\n\nx\n",
    }))
    d = Driver(ctx)
    for username, language in (("john", "en"), ("ani", "id")):
        case = d.start("bayar", {"harga": 2500, "jumlah": 4}, citizen(ctx, username, email=f"{username}@mail.test",
                                                                       language=language))
        d.run_jobs()
        assert subjects(sink, f"{username}@mail.test")[-1] == (
            f"Please pay Rp 10000 for {case.tracking_number}" if language == "en"
            else f"Tagihan pembayaran permohonan {case.tracking_number}")
    assert "Test service bayar: Periksa by 5 March 2026, 16:00 WIB." in sink.to("john@mail.test")[-1].get_content()


def test_each_version_sends_its_own_templates_while_its_cases_run(mail: tuple[AppContext, SmtpSink]) -> None:
    # The worker reads a version's templates once and keeps them (its files never change): a new version's
    # cases get the new text, the old version's cases still the old one, in the same process.
    ctx, sink = mail
    d = Driver(ctx)
    started = []
    for text in ("Bayar versi satu {{ tracking_number }}", "Bayar versi dua {{ tracking_number }}"):
        deploy(ctx, _marked_package("payment_due", {"notifications/id/payment_due.txt": text + "\n\nx\n"}))
        case = d.start("bayar", {"harga": 1, "jumlah": 1}, citizen(ctx, f"ani{len(started)}", language="id",
                                                                   email=f"ani{len(started)}@mail.test"))
        d.run_jobs()
        started.append(case)
    d.start("bayar", {"harga": 1, "jumlah": 1}, citizen(ctx, "ani_baru", email="ani_baru@mail.test", language="id"))
    d.run_jobs()
    assert subjects(sink, "ani0@mail.test")[-1] == f"Bayar versi satu {started[0].tracking_number}"
    assert subjects(sink, "ani1@mail.test")[-1] == f"Bayar versi dua {started[1].tracking_number}"
    assert subjects(sink, "ani_baru@mail.test")[-1].startswith("Bayar versi dua ")
    assert d.case(started[0].id).process_version_id != d.case(started[1].id).process_version_id


@pytest.mark.parametrize(("marker", "events"), [(None, ["received", "sent_back"]), ("none", ["received"])])
def test_an_applicant_task_tells_the_applicant_unless_marked_none(
        ctx: AppContext, marker: str | None, events: list[str]) -> None:
    deploy(ctx, _marked_package(marker, {}, applicant=True))
    d = Driver(ctx)
    d.start("bayar", {"harga": 1, "jumlah": 1}, citizen(ctx, "ani", email="ani@mail.test", language="id"))
    assert [n.event for n in notes(ctx)] == events


def test_lint_refuses_an_unknown_marker() -> None:
    problems = lint_package(_marked_package("sometimes", {}))
    assert any(p.element_id == "Task_periksa" and "notify 'sometimes'" in p.message for p in problems)


def test_lint_checks_notification_templates() -> None:
    problems = lint_package(_marked_package(None, {
        "notifications/en/received.txt": "Received {{ tracking_number }} ({{ data.harga }})\n\nThanks.\n",
        "notifications/id/diterima.txt": "Diterima\n",
        "notifications/fr/received.txt": "Reçu\n",
        "notifications/id/received.txt": "Diterima {{ trackng_number }}\n\nx\n",
        "notifications/id/sent_back.txt": "{% if task %}Kembali\n",
        "notifications/id/payment_due.txt": "{{ data.__class__.__mro__ }}\n\nx\n",
        "notifications/id/result_ready.txt": "\n\nSelesai tanpa judul\n",
    }))
    found = {p.file: p.message for p in problems if p.file.startswith("notifications/")}
    assert set(found) == {"notifications/id/diterima.txt", "notifications/fr/received.txt",
                          "notifications/id/received.txt", "notifications/id/sent_back.txt",
                          "notifications/id/payment_due.txt", "notifications/id/result_ready.txt"}
    assert "unknown notification template" in found["notifications/id/diterima.txt"]
    assert "unknown notification template" in found["notifications/fr/received.txt"]
    assert "trackng_number" in found["notifications/id/received.txt"]  # a misspelt name
    assert "line 1" in found["notifications/id/sent_back.txt"]  # a syntax error
    assert "does not render" in found["notifications/id/payment_due.txt"]  # the sandbox refuses internals
    assert "subject" in found["notifications/id/result_ready.txt"]

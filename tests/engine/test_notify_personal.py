"""Messages carry no NIK or sensitive value; a name or phone reaches only the person it belongs to.

Real SMTP (tests/notify_servers.py), a real webhook receiver, the SIP package with a template of its
own that prints the case's classified fields.
"""

from __future__ import annotations

import json

from engine.catalogue.package import from_files, from_path
from engine.context import AppContext
from tests.conftest import FakeClock
from tests.engine.test_notifications import SIP, _subscribe, citizen, mail, officer  # noqa: F401 - fixture
from tests.factories import Driver, deploy
from tests.notify_servers import SmtpSink, webhook_receiver
from tests.processes.test_sip import application

NIK = "3471046006900004"
PRINTS_DATA = ("{{ tracking_number }}\n\nNIK {{ data.nik }}; nama {{ data.nama_pemohon }}; "
               "telepon {{ data.telepon }}; surel {{ data.email }}; praktik {{ data.alamat_tempat_praktik }}\n")


def _sip_printing_data() -> object:
    files = dict(from_path(SIP).files)
    for lang in ("id", "en"):
        for event in ("received", "overdue"):
            files[f"notifications/{lang}/{event}.txt"] = PRINTS_DATA.encode()
    return from_files(files)


def test_the_applicant_is_told_without_their_nik_but_with_their_own_name(
        mail: tuple[AppContext, SmtpSink]) -> None:  # noqa: F811 - the fixture imported above
    ctx, sink = mail
    deploy(ctx, _sip_printing_data())  # type: ignore[arg-type]
    ani = citizen(ctx, "ani", email="ani@mail.test", language="id")
    d = Driver(ctx)
    d.start("sip", application(email="ani@mail.test"), ani)
    d.run_jobs()
    [message] = sink.to("ani@mail.test")
    body = message.get_content()
    assert NIK not in body
    assert "NIK 3471********0004;" in body
    assert "nama Ani Lestari, A.Md.Keb.;" in body  # their own name, to themselves
    assert "telepon 085712345678;" in body
    assert "praktik Jl. Parangtritis 45, Mantrijeron" in body  # a practice's address: marked not personal


def test_an_officer_told_of_an_overdue_task_reads_the_applicant_masked(
        mail: tuple[AppContext, SmtpSink], clock: FakeClock) -> None:  # noqa: F811
    ctx, sink = mail
    deploy(ctx, _sip_printing_data())  # type: ignore[arg-type]
    officer(ctx, "bo", "dpmptsp.back_office", email="bo@jogjakota.test")
    d = Driver(ctx)
    d.start("sip", application(), citizen(ctx, "ani", email="ani@mail.test", language="id"))
    d.run_jobs()
    clock.advance(days=2)
    d.run_jobs()
    d.run_jobs()
    [message] = sink.to("bo@jogjakota.test")
    body = message.get_content()
    assert NIK not in body
    assert "Ani Lestari" not in body
    assert "085712345678" not in body
    assert "NIK 3471********0004; nama A** L****** A******; telepon 0857****5678; surel a***@example.id;" in body


def test_webhook_events_carry_no_personal_data(ctx: AppContext) -> None:
    deploy(ctx, SIP)
    with webhook_receiver() as dinkes:
        _subscribe(ctx, "dinkes", dinkes.url, ["received"])
        d = Driver(ctx)
        d.start("sip", application(), citizen(ctx, "ani", email="ani@mail.test", language="id"))
        d.run_jobs()
        [delivery] = dinkes.requests
    body = delivery.body.decode()
    for value in application().values():
        if isinstance(value, str) and len(value) > 5:
            assert value not in body, value
    assert json.loads(body)["case"]["process_key"] == "sip"

"""The signing step shows the document number the platform draws: the lint rule, the catalogue, the birth certificate.

The signing step is the task whose completion reaches an issuing end event (engine/lint/signing.py):
the number is drawn in that transaction, so that task's form shows it read-only.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.cases.messages import deliver_message
from engine.catalogue.package import Package, from_files, from_path
from engine.context import AppContext
from engine.db import transaction
from engine.documents import preview as preview
from engine.documents.spec import spec_of
from engine.lint.service import lint_package
from engine.models import Case, DocumentNumber
from tests.conftest import ROOT, FakeClock
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package
from tests.processes.test_akta_kelahiran import APPLICATION

NUMBERED = """
[document]
title = { id = "Surat Keterangan Uji", en = "Test Statement" }
end_events = ["EndEvent_1"]
number_format = "SK/{yyyy}/{seq:04}"
holder_field = "catatan"
"""
SHOWN = {"type": "string", "title": "Nomor surat", "readOnly": True}


def _package(shape: str, *, number_field: bool = True, form_shows: bool = False) -> Package:
    files = dict(simple_package("uji_ttd", shape=shape).files)
    document = NUMBERED + ('number_field = "nomor_surat"\n' if number_field else "")
    files["service.toml"] += document.encode()
    if form_shows:
        form = json.loads(files["forms/periksa.schema.json"])
        form["properties"]["nomor_surat"] = SHOWN
        files["forms/periksa.schema.json"] = json.dumps(form).encode()
    return from_files(files)


def _signing(package: Package) -> list[tuple[str, str | None, str, str, str]]:
    return [(p.file, p.element_id, p.severity, p.message, p.message_id) for p in lint_package(package)
            if "signing" in p.message or "issues the document" in p.message]


@pytest.mark.parametrize("shape", ["plain", "loop"])
def test_lint_warns_when_the_task_that_issues_the_document_does_not_show_its_number(shape: str) -> None:
    [(file, element, severity, en, id_)] = _signing(_package(shape))
    assert (file, element, severity) == ("process.bpmn", "Task_periksa", "warning")
    assert "completing 'Task_periksa' issues the document (it reaches 'EndEvent_1'" in en
    assert "'forms/periksa.schema.json' does not show 'nomor_surat'" in en
    assert '"nomor_surat": {"type": "string", "readOnly": true}' in en  # the fix
    assert "menyelesaikan 'Task_periksa' menerbitkan dokumen" in id_
    assert "tidak menampilkan 'nomor_surat'" in id_
    assert _signing(_package(shape, form_shows=True)) == []


def test_lint_asks_for_a_number_field_when_the_platform_numbers_the_document_without_one() -> None:
    [(file, element, severity, en, id_)] = _signing(_package("plain", number_field=False))
    assert (file, element, severity) == ("service.toml", "document.number_format", "warning")
    assert "no case-data field holds it" in en
    assert 'name a field with number_field' in en
    assert "on the form of Task_periksa" in en
    assert "beri nama kolomnya dengan number_field" in id_


def test_a_task_followed_by_a_wait_does_not_sign() -> None:
    # The timer fires in a job's transaction, which draws the number: no officer signs it.
    assert _signing(_package("wait")) == []


def test_no_document_number_no_warning() -> None:
    files = dict(simple_package("uji_ttd").files)
    files["service.toml"] += NUMBERED.replace('number_format = "SK/{yyyy}/{seq:04}"\n', "").encode()
    assert _signing(from_files(files)) == []


def test_every_numbering_package_shows_its_number_on_every_signing_form() -> None:
    numbered = []
    for folder in sorted(p for p in (ROOT / "processes").iterdir() if (p / "service.toml").is_file()):
        package = from_path(folder)
        spec = spec_of(package.service())
        if spec is None or not spec.number_format:
            continue
        assert spec.number_field, f"{folder.name}: number_format without number_field"
        assert _signing(package) == [], folder.name
        numbered.append(folder.name)
    assert {"akta_kelahiran", "paspor", "nikah", "samsat", "sip", "slf", "bpjs", "pbg"} <= set(numbered)


def test_the_birth_certificate_hand_over_shows_the_number_the_record_then_gets(ctx: AppContext,
                                                                               clock: FakeClock) -> None:
    akta = ROOT / "processes" / "akta_kelahiran"
    deploy(ctx, akta)
    warga, petugas = make_user(ctx, "warga"), make_user(ctx, "petugas", "disdukcapil.petugas")
    siak = make_user(ctx, "siak", "disdukcapil.siak")
    d = Driver(ctx)
    case = d.start("akta_kelahiran", APPLICATION, warga)
    d.complete(case.id, "Task_verifikasi", petugas, {"berkas_lengkap": True})
    d.run_jobs()
    with transaction(ctx.sessions) as session:
        deliver_message(session, rt=ctx.rt, case_id=case.id, name="jawaban_siak", actor=siak,
                        payload={"status": "diterbitkan", "nomor_akta": "3471-LU-20022026-0001"})
    form = json.loads((akta / "forms" / "serahkan_akta.schema.json").read_text())
    with ctx.sessions() as session:
        row = session.get(Case, case.id)
        assert row is not None
        shown = preview.signing_info(session, case=row, schema=form, now=clock())
    assert shown is not None
    assert shown.generated
    assert shown.title_id == "Bukti Penerbitan Akta Kelahiran"
    assert shown.number.startswith("3471-LT-")
    assert shown.number.endswith("-0001")
    d.complete(case.id, "Task_serahkan_akta", petugas, {"akta_diserahkan": True, "cara_penyerahan": "loket"})
    with ctx.sessions() as session:
        drawn = session.scalar(select(DocumentNumber.number).where(DocumentNumber.case_id == case.id))
    assert drawn == shown.number

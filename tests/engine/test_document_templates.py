"""Document templates: lint checks the `[document]` table and tries the template in the sandbox."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import FunctionLoader
from sqlalchemy import select

from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.documents import pdf as pdf
from engine.documents import service as documents
from engine.lint.service import lint_package
from engine.models import Job
from tests.factories import Driver, deploy, make_user
from tests.packages import simple_package

DOCUMENT = """
[document]
title = { id = "Surat Keterangan Uji", en = "Test Statement" }
end_events = ["EndEvent_1"]
template = "documents/surat.html"
holder_field = "catatan"
facts = [{ field = "harga", id = "Harga", en = "Price" }]
"""
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = '{% extends "mpp/document.html" %}{% block closing %}<p>Total: {{ data.total | rupiah }}</p>{% endblock %}'


def package_with(template: str | None = TEMPLATE, document: str = DOCUMENT, key: str = "uji_dok") -> Package:
    """The simple test package with a `[document]` table and (optionally) its template."""
    files = dict(simple_package(key).files)
    files["service.toml"] = files["service.toml"] + document.encode()
    if template is not None:
        files["documents/surat.html"] = template.encode()
    return from_files(files)


def messages(package: Package) -> list[str]:
    return [f"{p.file}: {p.message}" for p in lint_package(package) if p.severity == "error"]


def test_a_good_document_table_and_template_lint_clean() -> None:
    assert messages(package_with()) == []


@pytest.mark.parametrize(("template", "expected"), [
    (None, "document.template 'documents/surat.html' is not in the package"),
    ("{% if %}", "documents/surat.html: document template: line 1: Expected an expression"),
    ("{% macro m() %}x{% endmacro %}", "macros are not allowed"),
    ("{% for a in data %}{% for b in data %}{% for c in data %}{% endfor %}{% endfor %}{% endfor %}",
     "loops may nest at most 2 deep"),
    ("{% for a in data recursive %}{{ loop(a) }}{% endfor %}", "recursive loops are not allowed"),
    ("{{ ''.__class__.__mro__ }}", "SecurityError"),
    ("{{ 'x' * 100000000 }}", "repeated text or list too long"),
    ("{% for i in range(100000) %}{% endfor %}", "range() produced more than"),
    ('<img src="/etc/passwd">', "Local file access is disabled"),
    ('<table><tr><td><img src="http://127.0.0.1/x.png"></td></tr></table>', "Remote resource access is disabled"),
    ("<table><tr><td>a <i>miring</i></td></tr></table>", "the HTML cannot be laid out"),
    ('{% include "../service.toml" %}', "TemplateNotFound"),
])
def test_lint_refuses_templates_that_fail_or_escape(template: str | None, expected: str) -> None:
    found = messages(package_with(template))
    assert len(found) == 1, found
    assert expected in found[0]


def test_rendering_is_bounded_in_memory_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox lets these through; the render's child process stops them.
    [memory] = messages(package_with("{{ 'x'.ljust(10 ** 9) }}"))
    assert "rendering used more than 256 MiB of memory" in memory
    monkeypatch.setattr(pdf, "RENDER_TIMEOUT_S", 1.0)
    [slow] = messages(package_with("{% set x = [1] * 9000 %}{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}"))
    assert "rendering took longer than 1 s" in slow


@pytest.mark.parametrize(("document", "expected"), [
    ('[document]\ntitle = { id = "A" }\nend_events = ["EndEvent_1"]', "document.title must be a table"),
    ('[document]\ntitle = { id = "A", en = "A" }\nend_events = ["EndEvent_tidak_ada"]',
     "'EndEvent_tidak_ada' is not the id of an end event"),
    ('[document]\ntitle = { id = "A", en = "A" }\nend_events = []', "document.end_events must list"),
    ('[document]\ntitle = { id = "A", en = "A" }\nend_events = ["EndEvent_1"]\nfacts = [{ field = "1x" }]',
     "document.facts item 1: field must name a case-data field"),
    ('[document]\ntitle = { id = "A", en = "A" }\nend_events = ["EndEvent_1"]\ntemplate = "x.txt"',
     "document.template must be the package path of an .html file"),
])
def test_lint_checks_the_document_table(document: str, expected: str) -> None:
    found = messages(package_with(document=document))
    assert any(expected in m for m in found), found


def test_rendering_escapes_case_data_and_formats_dates_and_amounts() -> None:
    item = pdf.RenderInput(
        title_id="Surat", title_en="Letter", number="1", holder='<img src="/etc/passwd">', agency_id="Dinas",
        agency_en="Office", service_id="Layanan", service_en="Service",
        issued_at=datetime(2026, 3, 16, 3, tzinfo=UTC), verify_url="http://x/verifikasi/C", code="C", key_id="k",
        template=None, facts=[("Tanggal", "Date", "2026-03-16")], data={})
    html = pdf.render_html(item, {})
    assert "&lt;img" in html
    assert "16 Maret 2026" in html
    assert pdf.rupiah(1807500) == "Rp1.807.500"
    assert pdf.tanggal("bukan tanggal") == "bukan tanggal"
    assert pdf.render_document(item, {}) == pdf.render_document(item, {})


def test_the_platform_layout_is_compiled_once_per_process_a_package_template_each_time() -> None:
    layout = (pdf.BUILTIN_DIR / "document.html").read_text("utf-8")
    first, second = (pdf.DocumentEnvironment(FunctionLoader(pdf.package_templates({}))) for _ in range(2))
    assert first.compile(layout, "mpp/document.html") is second.compile(layout, "mpp/document.html")
    assert first.compile(layout + " ", "mpp/document.html") is not first.compile(layout, "mpp/document.html")
    assert first.compile(TEMPLATE, "documents/surat.html") is not second.compile(TEMPLATE, "documents/surat.html")


def test_the_warmed_render_server_prints_what_a_cold_process_prints() -> None:
    item = pdf.RenderInput(
        title_id="Surat", title_en="Letter", number="7/2026", holder="Siti", agency_id="Dinas", agency_en="Office",
        service_id="Layanan", service_en="Service", issued_at=datetime(2026, 3, 16, 3, tzinfo=UTC),
        verify_url="http://x/verifikasi/C", code="C", key_id="k", template="documents/surat.html",
        facts=[("Harga", "Price", "Rp10.000")], data={"total": 25000})
    files = {"documents/surat.html": TEMPLATE.encode()}
    cold = subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-c", "import pickle, sys\nfrom engine.documents import pdf\n"
         "sys.stdout.buffer.write(pdf._render_pdf(*pickle.loads(sys.stdin.buffer.read())))"],
        input=pickle.dumps((item, files)), capture_output=True, check=True, cwd=ROOT).stdout
    assert cold.startswith(b"%PDF")
    assert pdf.render_document(item, files) == cold  # in a child of the render server, after its warm-up


@pytest.mark.parametrize(("value", "printed"), [
    (10**400, str(10**400)), ("Infinity", "Infinity"), (float("nan"), "nan"), ("1e999999", "1e999999")],
    ids=["10**400", "Infinity", "nan", "1e999999"])
def test_an_amount_no_double_holds_is_printed_as_it_is(value: object, printed: str) -> None:
    assert pdf.rupiah(value) == printed  # was OverflowError: the document job failed on it


def test_a_template_that_fails_at_issue_time_leaves_the_case_completed(ctx: AppContext) -> None:
    # Lint renders with placeholders, so a failure that needs real data shows only when issuing.
    template = "{% if data.harga == 0 %}{{ 1 // data.harga }}{% endif %}"
    deploy(ctx, package_with(template))
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("uji_dok", {"harga": 0, "jumlah": 1}, make_user(ctx, "pemohon"))
    assert d.complete(case.id, "Task_periksa", officer, {"catatan": "Sri"}) == "completed"
    d.run_jobs()
    with ctx.sessions() as session:
        job = session.scalar(select(Job).where(Job.kind == documents.JOB_KIND, Job.case_id == case.id))
        assert documents.list_for_case(session, case_id=case.id) == []
    assert job is not None
    assert job.status == "pending"  # retried with back-off
    assert "ZeroDivisionError" in (job.last_error or "")
    assert d.case(case.id).status == "completed"


def test_a_small_package_issues_its_document(ctx: AppContext) -> None:
    deploy(ctx, package_with())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("uji_dok", {"harga": 1500, "jumlah": 2}, make_user(ctx, "pemohon"))
    d.complete(case.id, "Task_periksa", officer, {"catatan": "Sri Lestari"})
    d.run_jobs()
    with ctx.sessions() as session:
        [doc] = documents.list_for_case(session, case_id=case.id)
        _row, data = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
    assert doc.number == f"UJI_DOK/2026/{case.id:06d}"  # no number field: the platform numbers it
    assert b"%PDF-" in data[:8]

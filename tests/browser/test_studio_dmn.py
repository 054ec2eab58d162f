"""The DMN editor in a real browser: a fee table added to a new service, edited in dmn-js, linted, run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Route, expect
from sqlalchemy import select

from engine.catalogue import blank, drafts
from engine.db import transaction
from engine.directory.actors import SYSTEM, actor_for
from engine.models import PackageDraft, User
from tests.browser.conftest import LiveServer
from tests.engine.test_runtime_contract import END_EVENT, START_EVENT, flow_package, user_task
from tests.factories import Driver, deploy
from tests.packages import fill_standard

STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'")


def new_draft(live: LiveServer, key: str) -> int:
    """Start a draft of a new service of an existing agency as the demo analyst; return its id."""
    with transaction(live.ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == "analis"))
        assert user is not None
        row = drafts.create_blank(session, actor_for(session, user), blank.NewService(
            key=key, agency="dpmptsp", name_id="Izin kios", name_en="Kiosk permit", declare_agency=False,
            roles=[blank.RoleDecl("front_office", "Front office", "Front office")]))
        # The analyst writes the service standard's components first (a new draft has placeholders lint refuses).
        toml = drafts.read_file(session, row, "service.toml").decode()
        drafts.save_file(session, actor_for(session, user), row, name="service.toml",
                         content=fill_standard(toml).encode(), loaded_revision=row.revision)
        return row.id


def saved_dmn(live: LiveServer, draft: int, name: str) -> str:
    with live.ctx.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        return drafts.read_file(session, row, name).decode()


def cell(page: Page, row: int, kind: str) -> Locator:
    """Return the text of one cell of the open decision table (kind: input, output or annotation)."""
    selector = "td.annotation" if kind == "annotation" else f"td.{kind}-cell"
    return page.locator("#dmn-editor tbody tr").nth(row).locator(f"{selector} [contenteditable]")


def type_into(page: Page, target: Locator, text: str) -> None:
    """Click a cell and replace what it holds by typing, as a user does."""
    target.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def save(page: Page, expected: str) -> None:
    page.get_by_role("button", name="Simpan", exact=True).click()
    expect(page.locator("#studio-status")).to_have_text(expected)


def test_analyst_adds_a_fee_table_edits_it_in_dmn_js_and_the_engine_runs_it(
    page: Page, live_server: LiveServer, login: Callable[[Page, str], None], axe_check: Callable[..., None],
    shot: Callable[[Page, str], Path],
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    draft = new_draft(live_server, "izin_kios")
    login(page, "analis")
    page.goto(f"{live_server.url}/studio/draf/{draft}/dmn/baru")
    axe_check(page)
    for label, value in (("Nama berkas", "tarif"), ("Id keputusan", "tarif_kios"), ("Nama keputusan", "Tarif kios"),
                         ("Isian masukan", "jumlah"), ("Isian keluaran", "biaya")):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Buat dan buka penyunting").click()
    expect(page).to_have_url(f"{live_server.url}/studio/draf/{draft}/dmn?nama=tarif.dmn")

    # The starter opens on its table: two example rules. Split the second, add a third through dmn-js.
    rows = page.locator("#dmn-editor tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("button", name="Tabel: Tarif kios")).to_have_attribute("aria-pressed", "true")
    type_into(page, cell(page, 1, "input"), "100 <= ? < 500")
    page.get_by_role("button", name="Tambah aturan").click()
    expect(rows).to_have_count(3)
    type_into(page, cell(page, 2, "input"), ">= 500")
    type_into(page, cell(page, 2, "output"), "250000")
    type_into(page, cell(page, 2, "annotation"), "500 atau lebih")
    save(page, "Tersimpan. Tidak ada masalah pada berkas ini.")
    xml = saved_dmn(live_server, draft, "tarif.dmn")
    assert "<text>&gt;= 500</text>" in xml
    assert "<text>250000</text>" in xml
    assert "<text>100 &lt;= ? &lt; 500</text>" in xml
    assert "<description>500 atau lebih</description>" in xml, xml
    axe_check(page)
    shot(page, "studio-dmn-table")

    # What dmn-js wrote is what SpiffWorkflow runs: a business-rule task on the saved file.
    rule = ("Task_tarif", '<bpmn:businessRuleTask id="Task_tarif" name="Hitung tarif"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>tarif_kios</spiffworkflow:calledDecisionId></bpmn:extensionElements>"
            "{io}</bpmn:businessRuleTask>")
    nodes = [START_EVENT, rule, user_task(), END_EVENT]
    deploy(live_server.ctx, flow_package("tarif_kios_uji", nodes, {"Petugas [dinas.petugas]": [n for n, _ in nodes]},
                                         {"tarif.dmn": xml.encode()}))
    driver = Driver(live_server.ctx)
    fees = [driver.case(driver.start("tarif_kios_uji", {"harga": 1, "jumlah": n}, SYSTEM).id).data["biaya"]
            for n in (99, 100, 499, 500)]
    assert fees == [50000, 100000, 100000, 250000]

    # FEEL's `true` is not Python: lint names the cell, the table marks it, the list leads to it.
    type_into(page, cell(page, 0, "output"), "true")
    save(page, "Tersimpan. Ditemukan 1 galat dan 0 peringatan pada berkas ini.")
    problem = page.locator("#lint-results li")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("Aturan 1 · Biaya")
    expect(problem).to_contain_text("'true' bukan Python; tulis True.")
    marked = page.locator(f'#dmn-editor td[data-element-id="{problem.get_attribute("data-element-id")}"]')
    assert page.evaluate("(node) => getComputedStyle(node, '::after').content", marked.element_handle()) == '"1"'
    page.locator("#dmn-views button").first.focus()
    problem.get_by_role("button").click()
    focused = page.evaluate("() => document.activeElement.closest('td').getAttribute('data-element-id')")
    assert focused == problem.get_attribute("data-element-id")
    axe_check(page)
    shot(page, "studio-dmn-problem")
    type_into(page, cell(page, 0, "output"), "50000")
    save(page, "Tersimpan. Tidak ada masalah pada berkas ini.")
    expect(problem).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("button", name="Unduh .dmn").click()
    assert download.value.suggested_filename == "tarif.dmn"
    assert "250000" in Path(download.value.path()).read_text(encoding="utf-8")

    # Another analyst saves the file in between: the save is refused, named, and a reload shows theirs.
    data = page.evaluate("() => JSON.parse(document.getElementById('studio-data').textContent)")
    theirs = saved_dmn(live_server, draft, "tarif.dmn").replace("<text>250000</text>", "<text>300000</text>")
    token = page.evaluate("() => document.querySelector('meta[name=csrf-token]').content")
    with live_server.ctx.sessions() as session:
        revision = session.get(PackageDraft, draft).revision  # type: ignore[union-attr]
    other = page.request.put(f"{live_server.url}{data['save_url']}", data={"content": theirs, "revisi": revision},
                             headers={"X-CSRF-Token": token})
    assert other.status == 200
    type_into(page, cell(page, 2, "output"), "275000")
    save(page, "Belum tersimpan: terjadi benturan perubahan.")
    conflict = page.get_by_role("alert")
    expect(conflict).to_contain_text("disimpan oleh analis")
    axe_check(page)
    page.get_by_role("button", name="Muat ulang berkas").click()
    expect(cell(page, 2, "output")).to_have_text("300000")
    expect(page.get_by_role("alert")).to_be_hidden()


def test_the_editor_runs_under_a_strict_content_security_policy(
    page: Page, live_server: LiveServer, login: Callable[[Page, str], None],
) -> None:
    """No eval, no inline script: dmn-js needs neither. (Its inline style attributes are restated in CSS.)"""
    draft = new_draft(live_server, "izin_kios_csp")
    login(page, "analis")
    page.request.post(f"{live_server.url}/studio/draf/{draft}/dmn/baru", form={
        "nama": "tarif", "csrf_token": page.evaluate("() => document.querySelector('meta[name=csrf-token]').content")})

    def strict(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route(lambda url: "/dmn?nama=" in url, strict)
    page.add_init_script("window.blocked = []; document.addEventListener('securitypolicyviolation',"
                         " (e) => window.blocked.push(e.effectiveDirective));")
    page.goto(f"{live_server.url}/studio/draf/{draft}/dmn?nama=tarif.dmn")
    rows = page.locator("#dmn-editor[data-ready=true] tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Tambah aturan").click()
    type_into(page, cell(page, 2, "output"), "0")
    cell(page, 2, "input").click(button="right")
    expect(page.get_by_text("Hapus aturan")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Diagram keputusan (DRD)").click()
    expect(page.locator("#dmn-editor svg[role=img]")).to_be_visible()
    save(page, "Tersimpan. Tidak ada masalah pada berkas ini.")
    assert "<text>0</text>" in saved_dmn(live_server, draft, "tarif.dmn")
    blocked: list[Any] = page.evaluate("() => window.blocked")
    assert [d for d in blocked if d.startswith("script-src")] == []

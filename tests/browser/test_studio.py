"""The analyst's journey in a real browser: edit the PBG diagram, lint, deploy version 2, compare."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

TASK = "Task_kelengkapan"
LANE = "Lane_tpa"


def shape(page: Page, element_id: str, within: str = "#canvas") -> Any:
    """Return the diagram shape of an element (bpmn-js marks each with data-element-id)."""
    return page.locator(f'{within} g.djs-element[data-element-id="{element_id}"]')


def selected(page: Page) -> list[str]:
    return list(page.evaluate("() => mppModeler.get('selection').get().map(e => e.id)"))


def select_on_canvas(page: Page, element_id: str, *, at_left: bool = False) -> None:
    """Click an element on the canvas as a user would (a lane on its label band at the left)."""
    if selected(page) == [element_id]:
        return  # a second click on a lane's band would start editing its name
    # Bring it into view at 100 % first, as a user would by zooming and panning; keep a lane's
    # label band clear of the palette.
    page.evaluate("""([id, atLeft]) => { const canvas = mppModeler.get('canvas');
        canvas.zoom(1); canvas.scrollToElement(mppModeler.get('elementRegistry').get(id));
        if (atLeft) { canvas.scroll({ dx: 120, dy: 0 }); } }""", [element_id, at_left])
    page.locator("#canvas").scroll_into_view_if_needed()
    box, frame = shape(page, element_id).bounding_box(), page.locator("#canvas").bounding_box()
    assert box is not None
    assert frame is not None
    x = box["x"] + (12 if at_left else box["width"] / 2)
    # A selected lane has a resize handle mid-way down its left edge: click the band above it.
    y = box["y"] + box["height"] * (0.3 if at_left else 0.5)
    y = min(max(y, frame["y"] + 20), frame["y"] + frame["height"] - 20)
    page.mouse.click(x, y)
    page.wait_for_function("(id) => mppModeler.get('selection').get().map(e => e.id).join() === id", arg=element_id)


def open_mpp_group(page: Page) -> None:
    header = page.locator('#properties [data-group-id="group-mpp"] .bio-properties-panel-group-header')
    expect(header).to_be_visible()
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def test_analyst_edits_lints_deploys_and_compares(
    page: Page, live_server: Any, login: Callable[[Page, str], None], axe_check: Callable[..., None],
    shot: Callable[[Page, str], Path],
) -> None:
    page.set_viewport_size({"width": 1440, "height": 1000})
    login(page, "analis")
    page.goto(f"{live_server.url}/studio")
    expect(page.get_by_role("heading", name="Studio proses")).to_be_visible()
    pbg = page.locator('tr[data-process="pbg"]')
    expect(pbg.locator('li[data-version="1"]')).to_be_visible()
    axe_check(page)
    shot(page, "studio-list")

    # Open PBG in the modeler and change the SLA of a task through the MPP properties group.
    pbg.get_by_role("link", name="Ubah pbg").click()
    expect(shape(page, TASK)).to_be_visible()
    select_on_canvas(page, TASK)
    open_mpp_group(page)
    sla = page.get_by_label("SLA (hari kerja)")
    expect(sla).to_have_value("2")
    sla.fill("4")
    sla.press("Tab")
    form = page.get_by_label("Formulir (JSON Schema)")
    expect(form).to_have_value("kelengkapan.schema.json")
    assert page.evaluate(
        "() => mppModeler.get('elementRegistry').get('Task_kelengkapan').businessObject"
        ".extensionElements.values[0].properties.find(p => p.name === 'slaDays').value") == "4"

    axe_check(page)
    shot(page, "studio-modeler")
    page.get_by_role("button", name="Periksa (lint)").click()
    expect(page.locator("#studio-status")).to_have_text("Tidak ada masalah ditemukan.")

    # A deliberate error: give a lane a role that is not a role; lint shows it on that lane.
    select_on_canvas(page, LANE, at_left=True)
    open_mpp_group(page)
    role = page.get_by_label("Peran (agency.role)")
    expect(role).to_have_value("")
    role.fill("bukan peran")
    role.press("Tab")
    page.get_by_role("button", name="Periksa (lint)").click()
    problem = page.locator(f'#lint-results button[data-element-id="{LANE}"]')
    expect(problem).to_be_visible()
    expect(page.locator("#lint-results li")).to_have_count(1)
    expect(page.locator("#lint-results li")).to_contain_text("bukan peran")  # in the page's language
    expect(shape(page, LANE)).to_have_class(re_marker("mpp-lint-error"))
    expect(page.locator(".djs-overlay .mpp-lint-badge")).to_have_count(1)
    shot(page, "studio-modeler-lint")
    # The result list is keyboard-reachable and takes the user to the element.
    select_on_canvas(page, TASK)
    problem.focus()
    page.keyboard.press("Enter")
    assert selected(page) == [LANE]

    # Deploying with a lint error is refused, with the list shown.
    page.get_by_role("button", name="Terapkan sebagai versi baru").click()
    expect(page.locator("#studio-status")).to_contain_text("Galat lint menghalangi penerapan")
    expect(problem).to_be_visible()

    # Clear the role again (the lane name states it), lint clean, check accessibility, deploy.
    select_on_canvas(page, LANE, at_left=True)
    open_mpp_group(page)
    role = page.get_by_label("Peran (agency.role)")
    role.fill("")
    role.press("Tab")
    page.get_by_role("button", name="Periksa (lint)").click()
    expect(page.locator("#lint-results li")).to_have_count(0)
    expect(page.locator("#studio-status")).to_have_text("Tidak ada masalah ditemukan.")
    expect(page.locator(".djs-overlay .mpp-lint-badge")).to_have_count(0)
    axe_check(page)
    page.get_by_role("button", name="Terapkan sebagai versi baru").click()
    expect(page).to_have_url(f"{live_server.url}/studio?diterapkan=pbg&versi=2&baru=1")
    expect(page.get_by_role("status")).to_contain_text("pbg: versi 2 diterapkan.")
    expect(pbg.locator('li[data-version="2"]')).to_be_visible()

    # Compare versions 1 and 2: the task's SLA change, the file diff, highlighted diagrams.
    pbg.get_by_role("link", name="Bandingkan versi pbg").click()
    expect(page).to_have_url(f"{live_server.url}/studio/pbg/banding?a=1&b=2")
    row = page.locator(f'tr[data-element="{TASK}"]')
    expect(row).to_have_count(1)
    expect(page.locator("table.diff-elements tbody tr")).to_have_count(1)
    expect(row.locator('li[data-field="slaDays"]')).to_have_text("SLA (hari kerja): 2 → 4")
    diff = page.locator('details[data-file="process.bpmn"] pre')
    expect(diff).to_contain_text('value="4"')
    expect(diff).not_to_contain_text("<spiffworkflow:properties />")  # the cleared role left nothing behind
    expect(page.locator("#viewer-b")).to_have_attribute("data-ready", "true")
    expect(shape(page, TASK, "#viewer-b")).to_have_class(re_marker("mpp-diff-changed"))
    expect(shape(page, TASK, "#viewer-a")).to_have_class(re_marker("mpp-diff-changed"))
    axe_check(page)
    shot(page, "studio-compare")
    # "Show on the diagram" zooms both diagrams to the changed task.
    small = shape(page, TASK, "#viewer-b").bounding_box()
    row.get_by_role("button", name=f"Tunjukkan di diagram: {TASK}").click()
    large, frame = shape(page, TASK, "#viewer-b").bounding_box(), page.locator("#viewer-b").bounding_box()
    assert small is not None
    assert large is not None
    assert frame is not None
    assert large["width"] > small["width"] * 1.5
    assert frame["x"] <= large["x"] <= frame["x"] + frame["width"] - large["width"]

    page.goto(f"{live_server.url}/studio/pbg/versi/2")
    expect(page.locator(".studio-viewer")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", level=1)).to_contain_text("versi 2")
    axe_check(page)
    shot(page, "studio-version")


def re_marker(name: str) -> Any:
    import re

    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def test_analyst_opens_a_bpmn_file_from_disk(page: Page, live_server: Any, login: Callable[[Page, str], None],
                                             axe_check: Callable[..., None], tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "processes" / "pbg" / "process.bpmn"
    renamed = tmp_path / "pbg-dari-berkas.bpmn"
    renamed.write_text(source.read_text(encoding="utf-8").replace(
        'name="Pemeriksaan kelengkapan berkas"', 'name="Cek berkas dari unggahan"'), encoding="utf-8")
    login(page, "analis")
    page.goto(f"{live_server.url}/studio/baru")
    expect(page.get_by_label("Berkas paket")).to_be_visible()
    axe_check(page)
    page.goto(f"{live_server.url}/studio/pbg/ubah?dari=1")
    expect(shape(page, TASK)).to_contain_text("Pemeriksaan kelengkapan berkas")
    page.get_by_label("Buka berkas .bpmn").set_input_files(str(renamed))
    expect(page.locator("#studio-status")).to_have_text("Berkas dibuka: pbg-dari-berkas.bpmn")
    expect(shape(page, TASK)).to_contain_text("Cek berkas dari unggahan")
    page.get_by_role("button", name="Periksa (lint)").click()
    expect(page.locator("#studio-status")).to_have_text("Tidak ada masalah ditemukan.")


def test_modeler_round_trips_every_catalogue_diagram(page: Page, live_server: Any,
                                                     login: Callable[[Page, str], None]) -> None:
    """Import and save each catalogue diagram in bpmn-js: what the platform reads survives unchanged."""
    from engine.catalogue import package as package
    from engine.catalogue.versions import main_bpmn_name
    from engine.catalogue.versions_diff import diff_versions
    from engine.lint.service import lint_package

    login(page, "analis")
    page.goto(f"{live_server.url}/studio/pbg/ubah")
    expect(shape(page, TASK)).to_be_visible()
    folders = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "processes").glob("*/service.toml"))
    assert len(folders) >= 10
    for folder in folders:
        files = package.from_path(folder).files
        name = main_bpmn_name(files, package.from_path(folder).service()["key"])
        saved = page.evaluate("""async (xml) => {
            const modeler = new BpmnJS({ container: document.createElement('div'),
                                         moddleExtensions: { spiffworkflow: MppStudioProperties.moddle } });
            const result = await modeler.importXML(xml);
            if (result.warnings.length) { return 'WARNINGS ' + result.warnings.map(w => w.message).join('; '); }
            const out = (await modeler.saveXML({ format: true })).xml;
            modeler.destroy();
            return out; }""", files[name].decode("utf-8"))
        assert not saved.startswith("WARNINGS"), f"{folder.name}: {saved}"
        edited = {**files, name: saved.encode("utf-8")}
        assert diff_versions(files, edited).elements == [], folder.name
        assert lint_package(package.from_files(edited)) == lint_package(package.from_files(files)), folder.name


def test_leaving_the_modeler_with_edits_asks_first(page: Page, live_server: Any,
                                                   login: Callable[[Page, str], None]) -> None:
    login(page, "analis")
    page.goto(f"{live_server.url}/studio/pbg/ubah")
    expect(shape(page, TASK)).to_be_visible()
    select_on_canvas(page, TASK)
    open_mpp_group(page)
    page.get_by_label("Tahap untuk pemohon (Inggris)").fill("Counter check")
    page.get_by_label("Tahap untuk pemohon (Inggris)").press("Tab")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    with page.expect_event("dialog"):
        page.get_by_role("navigation", name="Remah roti").get_by_role("link", name="Studio").click()
    assert asked == ["beforeunload"]
    expect(page).to_have_url(f"{live_server.url}/studio/pbg/ubah")  # dismissed: the edits stay

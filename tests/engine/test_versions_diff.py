"""Tests of the version comparison: elements matched by id, the facts the platform reads, file diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.catalogue import package as package
from engine.catalogue.versions_diff import diff_files, diff_versions, unified_diff

ROOT = Path(__file__).resolve().parents[2]
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" targetNamespace="http://mpp.go.id">\n'
)


def diagram(*, lane: str = "Loket [dpmptsp.front_office]", name: str = "Periksa berkas", sla: str = "2",
            form: str = "periksa.schema.json", condition: str = 'hasil == "lengkap"', extra: str = "") -> bytes:
    """Return a small process: a lane, a user task with properties, a gateway with a condition."""
    return (HEAD + f"""
<bpmn:process id="uji" isExecutable="true">
  <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_loket" name="{lane}">
    <bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="StartEvent_1"/>
  <bpmn:userTask id="Task_periksa" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>
    <spiffworkflow:property name="slaDays" value="{sla}"/>
  </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
  <bpmn:exclusiveGateway id="Gateway_1"/>
  <bpmn:sequenceFlow id="Flow_ok" sourceRef="Gateway_1" targetRef="EndEvent_1">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:endEvent id="EndEvent_1"/>
  {extra}
</bpmn:process></bpmn:definitions>""").encode()


def changed_fields(before: bytes, after: bytes, element_id: str) -> dict[str, tuple[str | None, str | None]]:
    result = diff_versions({"process.bpmn": before}, {"process.bpmn": after})
    change = next(c for c in result.elements if c.element_id == element_id)
    assert change.kind == "changed"
    return {f.field: (f.before, f.after) for f in change.fields}


def test_identical_packages_have_no_difference() -> None:
    files = {"process.bpmn": diagram(), "service.toml": b'key = "uji"\n'}
    result = diff_versions(files, dict(files))
    assert result.is_empty
    assert result.elements == []
    assert result.files == []


def test_renamed_task_and_changed_sla_are_reported_on_the_task() -> None:
    fields = changed_fields(diagram(), diagram(name="Verifikasi berkas", sla="3"), "Task_periksa")
    assert fields == {"name": ("Periksa berkas", "Verifikasi berkas"), "slaDays": ("2", "3")}


def test_changed_form_file_is_named_form() -> None:
    assert changed_fields(diagram(), diagram(form="lain.schema.json"), "Task_periksa") == {
        "form": ("periksa.schema.json", "lain.schema.json")
    }


def test_changed_condition_is_reported_on_the_flow() -> None:
    fields = changed_fields(diagram(), diagram(condition='hasil == "ok"'), "Flow_ok")
    assert fields == {"condition": ('hasil == "lengkap"', 'hasil == "ok"')}


def test_lane_role_change_is_reported_on_the_lane_and_the_tasks_lane() -> None:
    before, after = diagram(), diagram(lane="Loket [pupr.tpa]")
    assert changed_fields(before, after, "Lane_loket")["role"] == ("dpmptsp.front_office", "pupr.tpa")
    assert changed_fields(before, after, "Task_periksa") == {
        "lane": ("Loket [dpmptsp.front_office]", "Loket [pupr.tpa]")
    }


def test_lane_that_loses_its_role_reports_an_empty_role() -> None:
    assert changed_fields(diagram(), diagram(lane="Loket"), "Lane_loket")["role"] == ("dpmptsp.front_office", "")


def test_added_and_removed_elements_carry_type_and_name() -> None:
    script = '<bpmn:scriptTask id="Task_hitung" name="Hitung"><bpmn:script>total = 1</bpmn:script></bpmn:scriptTask>'
    timer = ('<bpmn:intermediateCatchEvent id="Timer_1"><bpmn:timerEventDefinition id="TimerDef_1">'
             '<bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    result = diff_versions({"process.bpmn": diagram(extra=timer)}, {"process.bpmn": diagram(extra=script)})
    kinds = {(c.element_id, c.kind, c.type, c.name) for c in result.elements}
    # The timer's definition is part of the event, not an element of its own.
    assert kinds == {("Task_hitung", "added", "scriptTask", "Hitung"),
                     ("Timer_1", "removed", "intermediateCatchEvent (timer)", "")}
    assert result.ids("added") == ["Task_hitung"]
    assert result.ids("removed") == ["Timer_1"]


def test_script_and_timer_edits_are_reported() -> None:
    script = '<bpmn:scriptTask id="Task_hitung"><bpmn:script>{}</bpmn:script></bpmn:scriptTask>'
    fields = changed_fields(diagram(extra=script.format("total = 1")), diagram(extra=script.format("total = 2")),
                            "Task_hitung")
    assert fields == {"script": ("total = 1", "total = 2")}


def test_moving_a_shape_changes_the_file_but_no_element() -> None:
    shape = '<!-- {} -->'
    result = diff_versions({"process.bpmn": diagram(extra=shape.format("x=1"))},
                           {"process.bpmn": diagram(extra=shape.format("x=2"))})
    assert result.elements == []
    assert [(f.name, f.kind) for f in result.files] == [("process.bpmn", "changed")]


def test_attribute_dropped_at_its_default_value_is_no_change() -> None:
    # Modelers (bpmn-js) leave out cancelActivity="true" on save: the same boundary event.
    event = '<bpmn:boundaryEvent id="Timer_batas" attachedToRef="Task_periksa"{}/>'
    result = diff_versions({"process.bpmn": diagram(extra=event.format(' cancelActivity="true"'))},
                           {"process.bpmn": diagram(extra=event.format(""))})
    assert result.elements == []
    changed = diff_versions({"process.bpmn": diagram(extra=event.format(""))},
                            {"process.bpmn": diagram(extra=event.format(' cancelActivity="false"'))})
    assert [(c.element_id, [(f.field, f.before, f.after) for f in c.fields]) for c in changed.elements] == [
        ("Timer_batas", [("cancelActivity", None, "false")])]


def test_files_added_removed_and_changed_with_a_unified_diff() -> None:
    before = {"service.toml": b'key = "uji"\nsla_days = 5\n', "forms/a.schema.json": b"{}", "logo.png": b"\x89PNG1"}
    after = {"service.toml": b'key = "uji"\nsla_days = 7\n', "forms/b.schema.json": b"{}", "logo.png": b"\x89PNG2"}
    changes = {c.name: c for c in diff_files(before, after)}
    assert {n: c.kind for n, c in changes.items()} == {
        "forms/a.schema.json": "removed", "forms/b.schema.json": "added",
        "logo.png": "changed", "service.toml": "changed"}
    assert changes["logo.png"].diff is None  # binary: no text diff
    text = changes["service.toml"].diff
    assert text is not None
    assert "--- a/service.toml" in text
    assert "-sla_days = 5" in text
    assert "+sla_days = 7" in text


def test_long_diffs_are_cut_and_say_so() -> None:
    before = "\n".join(f"baris {i}" for i in range(5000)).encode()
    text, truncated = unified_diff("notes.txt", before, b"")
    assert truncated
    assert text is not None
    assert text.count("\n") < 2100


def test_text_file_that_is_not_utf8_gets_no_text_diff() -> None:
    assert unified_diff("notes.txt", b"\xff\xfe", b"abc") == (None, False)


def test_unreadable_bpmn_is_listed_not_raised() -> None:
    result = diff_versions({"process.bpmn": diagram()}, {"process.bpmn": b"<!DOCTYPE x><x/>"})
    assert result.unreadable == ["process.bpmn"]
    # Every element of the readable side appears as removed, rather than the page failing.
    assert "Task_periksa" in result.ids("removed")


@pytest.mark.parametrize("key", ["pbg", "nikah"])
def test_catalogue_package_compared_with_itself_is_empty(key: str) -> None:
    files = package.from_path(ROOT / "processes" / key).files
    assert diff_versions(files, dict(files)).is_empty


def test_pbg_edit_names_only_the_edited_task() -> None:
    files = package.from_path(ROOT / "processes" / "pbg").files
    edited = dict(files)
    edited["process.bpmn"] = files["process.bpmn"].replace(
        b'name="Pemeriksaan kelengkapan berkas"', b'name="Periksa kelengkapan"')
    result = diff_versions(files, edited)
    assert [(c.element_id, c.kind) for c in result.elements] == [("Task_kelengkapan", "changed")]

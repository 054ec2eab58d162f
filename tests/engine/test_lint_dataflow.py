"""The data-flow contract: every place that reads case data reads a field the package sets.

Each fault is a one-line change to a clean package. Lint refuses the fault with the element at
fault (and the closest right name); the clean twin runs end to end, so what lint passes runs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.errors import Problem
from engine.lint.service import lint_package
from tests.factories import Driver, deploy, make_user
from tests.packages import STANDARD

SERVICE = """key = "izin_uji"
agency = "dinas"
name = { id = "Izin uji", en = "Test permit" }
product = { id = "Surat izin", en = "Permit" }
sla_days = 5
channels = ["tatap_muka", "drive_thru", "daring"]
start_form = "forms/permohonan.schema.json"
requirements = [{ id = "KTP", en = "ID card" }]

[[agencies]]
code = "dinas"
kind = "city_office"
name = { id = "Dinas Uji", en = "Test Office" }
roles = [
  { key = "petugas", name = { id = "Petugas", en = "Officer" } },
  { key = "kepala", name = { id = "Kepala", en = "Head" } },
]

[document]
title = { id = "Surat Izin Uji", en = "Test Permit" }
end_events = ["EndEvent_terbit"]
number_field = "nomor_izin"
holder_field = "nama_pemohon"
facts = [{ field = "jenis_usaha", id = "Jenis usaha", en = "Kind of business" }]
"""

START = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {
        "nama_pemohon": {"type": "string", "minLength": 1, "x-mpp-personal": "personal"},
        "jumlah_klaim": {"type": "integer", "minimum": 1},
        "jenis_usaha": {"type": "string", "enum": ["warung", "toko"]},
        "channel": {"type": "string", "enum": ["tatap_muka", "drive_thru", "daring"]},
    },
    "required": ["nama_pemohon", "jumlah_klaim", "jenis_usaha"],
}
PERIKSA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {"hasil": {"type": "string", "enum": ["lengkap", "tidak_lengkap"]},
                   "catatan": {"type": "string"}},
    "required": ["hasil"],
}
TTD = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {"nomor_izin": {"type": "string", "minLength": 1}}, "required": ["nomor_izin"],
}


def _props(form: str) -> str:
    return (f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
            f'name="formJsonSchemaFilename" value="{form}"/></spiffworkflow:properties></bpmn:extensionElements>')


BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs" targetNamespace="http://mpp.test">
  <bpmn:process id="izin_uji" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_hasil</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_tarif</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Script_total</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_tolak</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_kepala" name="Kepala [dinas.kepala]">
        <bpmn:flowNodeRef>Task_ttd</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_terbit</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"/>
    <bpmn:userTask id="Task_periksa" name="Periksa berkas">{_props("periksa.schema.json")}</bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_hasil" name="Lengkap?" default="Flow_tolak"/>
    <bpmn:businessRuleTask id="Task_tarif" name="Tarif"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>tarif</spiffworkflow:calledDecisionId></bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:scriptTask id="Script_total" name="Hitung total"><bpmn:script>total = biaya * jumlah_klaim</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="Task_ttd" name="Tanda tangan">{_props("ttd.schema.json")}</bpmn:userTask>
    <bpmn:endEvent id="EndEvent_terbit" name="Izin terbit"/>
    <bpmn:endEvent id="EndEvent_tolak" name="Ditolak"/>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_periksa"/>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_periksa" targetRef="Gateway_hasil"/>
    <bpmn:sequenceFlow id="Flow_lengkap" sourceRef="Gateway_hasil" targetRef="Task_tarif">
      <bpmn:conditionExpression>hasil == "lengkap"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_tolak" sourceRef="Gateway_hasil" targetRef="EndEvent_tolak"/>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_tarif" targetRef="Script_total"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Script_total" targetRef="Task_ttd"/>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_ttd" targetRef="EndEvent_terbit"/>
  </bpmn:process>
</bpmn:definitions>
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_tarif" name="Tarif" namespace="http://x">
  <decision id="tarif" name="Tarif">
    <decisionTable id="Table_tarif" hitPolicy="UNIQUE">
      <input id="Input_jenis" label="Jenis"><inputExpression id="Expr_jenis" typeRef="string">
        <text>jenis_usaha</text></inputExpression></input>
      <input id="Input_klaim" label="Klaim"><inputExpression id="Expr_klaim" typeRef="number">
        <text>jumlah_klaim</text></inputExpression></input>
      <output id="Output_biaya" name="biaya" typeRef="number"/>
      <rule id="Rule_warung"><inputEntry id="In_w1"><text>"warung"</text></inputEntry>
        <inputEntry id="In_w2"><text>-</text></inputEntry><outputEntry id="Out_w"><text>1000</text></outputEntry></rule>
      <rule id="Rule_toko"><inputEntry id="In_t1"><text>"toko"</text></inputEntry>
        <inputEntry id="In_t2"><text>-</text></inputEntry><outputEntry id="Out_t"><text>5000</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def files(**changes: tuple[str, str]) -> dict[str, bytes]:
    """Return the clean package's files; each change is (old, new) text replaced in that file."""
    out = {
        "service.toml": SERVICE + STANDARD, "process.bpmn": BPMN, "tarif.dmn": DMN,
        "forms/permohonan.schema.json": json.dumps(START), "forms/periksa.schema.json": json.dumps(PERIKSA),
        "forms/ttd.schema.json": json.dumps(TTD),
    }
    for key, (old, new) in changes.items():
        name = key.replace("__", "/").replace("_dot_", ".")
        assert old in out[name], (name, old)
        out[name] = out[name].replace(old, new)
    return {name: text.encode() for name, text in out.items()}


def package(**changes: tuple[str, str]) -> Package:
    """Return the clean package with some changes."""
    return from_files(files(**changes))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def the_error(pkg: Package, element_id: str | None, *words: str) -> Problem:
    """Assert lint finds exactly one error, at element_id, mentioning words, in both languages."""
    found = errors(lint_package(pkg))
    assert len(found) == 1, [p.render() for p in found]
    problem = found[0]
    assert problem.element_id == element_id, problem.render()
    for word in words:
        assert word in problem.message, (word, problem.message)
        if "'" in word or "_" in word:  # names and ids appear in the Indonesian text too
            assert word in problem.message_id, (word, problem.message_id)
    assert problem.message_id
    assert problem.message_id != problem.message
    return problem


# ---------------------------------------------------------------- the clean twin


def test_the_clean_package_lints_clean() -> None:
    assert lint_package(package()) == []


def test_the_clean_package_runs_end_to_end(ctx: AppContext) -> None:
    deploy(ctx, package())
    officer = make_user(ctx, "petugas", "dinas.petugas")
    head = make_user(ctx, "kepala", "dinas.kepala")
    d = Driver(ctx)
    data = {"nama_pemohon": "Sri", "jumlah_klaim": 3, "jenis_usaha": "toko"}
    for channel in ("tatap_muka", "drive_thru", "daring"):
        case = d.start("izin_uji", data, make_user(ctx, f"warga_{channel}"), channel=channel)
        d.complete(case.id, "Task_periksa", officer, {"hasil": "lengkap"})
        assert d.complete(case.id, "Task_ttd", head, {"nomor_izin": f"IZ-{case.id}"}) == "completed"
        assert d.case(case.id).data["total"] == 15000


# ---------------------------------------------------------------- faults


def test_condition_on_a_field_no_form_asks_for() -> None:
    pkg = package(process_dot_bpmn=('hasil == "lengkap"', 'hasl == "lengkap"'))
    the_error(pkg, "Gateway_hasil", "'hasl'", "'hasil'", "Flow_lengkap")


def test_form_field_name_with_a_typo() -> None:
    pkg = package(forms__periksa_dot_schema_dot_json=('"hasil": {"type"', '"hasill": {"type"'))
    problems = errors(lint_package(pkg))
    assert {p.element_id for p in problems} == {"Gateway_hasil"}
    assert any("'hasill'" in p.message for p in problems)  # "did you mean" the name the form has


def test_dmn_input_expression_with_a_typo() -> None:
    pkg = package(tarif_dot_dmn=("<text>jumlah_klaim</text>", "<text>jumlah_kliam</text>"))
    problem = the_error(pkg, "Input_klaim", "'jumlah_kliam'", "'jumlah_klaim'", "Task_tarif")
    assert problem.file == "tarif.dmn"


def test_dmn_input_entry_outside_the_enum() -> None:
    pkg = package(tarif_dot_dmn=('<text>"toko"</text>', '<text>"tokoh"</text>'))
    the_error(pkg, "In_t1", "'tokoh'", "'toko'")


def test_document_holder_field_that_nothing_sets() -> None:
    pkg = package(service_dot_toml=('holder_field = "nama_pemohon"', 'holder_field = "nama_pemohonn"'))
    problem = the_error(pkg, None, "'nama_pemohonn'", "'nama_pemohon'", "EndEvent_terbit")
    assert problem.file == "service.toml"


def test_document_fact_that_nothing_sets() -> None:
    pkg = package(service_dot_toml=('field = "jenis_usaha"', 'field = "jenis_usah"'))
    the_error(pkg, None, "'jenis_usah'")


def test_channel_offered_but_refused_by_the_start_form() -> None:
    pkg = package(forms__permohonan_dot_schema_dot_json=('"tatap_muka", "drive_thru", "daring"]',
                                                         '"tatap_muka", "daring"]'))
    problem = the_error(pkg, None, "drive_thru")
    assert problem.file == "service.toml"


def test_comparison_with_a_value_outside_the_enum() -> None:
    pkg = package(process_dot_bpmn=('hasil == "lengkap"', 'hasil == "lengkp"'))
    the_error(pkg, "Gateway_hasil", "'lengkp'", "'lengkap'")


def test_comparison_with_a_value_of_another_type() -> None:
    pkg = package(process_dot_bpmn=('hasil == "lengkap"', "hasil == True"))
    the_error(pkg, "Gateway_hasil", "'hasil'")


def test_script_reading_a_field_set_nowhere() -> None:
    pkg = package(process_dot_bpmn=("total = biaya * jumlah_klaim", "total = biaya * jumlah"))
    the_error(pkg, "Script_total", "'jumlah'", "'jumlah_klaim'")


@pytest.mark.parametrize("script", ["total = time.time()", "total = sum(map(int, [biaya]))",
                                    "total = get_env('TARIF')"])
def test_script_calling_what_the_sandbox_lacks(script: str) -> None:
    pkg = package(process_dot_bpmn=("total = biaya * jumlah_klaim", script))
    problem = the_error(pkg, "Script_total", "scripts do not have")
    assert "add_working_days" in problem.message  # the message lists what there is instead


def test_timer_reading_a_field_set_nowhere() -> None:
    timer = ('<bpmn:boundaryEvent id="Timer_batas" attachedToRef="Task_ttd"><bpmn:timerEventDefinition id="T1">'
             '<bpmn:timeDuration>batas_waktu</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
             '<bpmn:sequenceFlow id="Flow_t" sourceRef="Timer_batas" targetRef="EndEvent_tolak"/>')
    pkg = package(process_dot_bpmn=('<bpmn:endEvent id="EndEvent_tolak" name="Ditolak"/>',
                                    '<bpmn:endEvent id="EndEvent_tolak" name="Ditolak"/>' + timer))
    the_error(pkg, "Timer_batas", "'batas_waktu'")


def test_lane_binding_to_a_field_set_nowhere() -> None:
    binding = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="bindUser" '
               'value="kepala_dipilih"/></spiffworkflow:properties></bpmn:extensionElements>')
    pkg = package(process_dot_bpmn=('name="Kepala [dinas.kepala]">', 'name="Kepala [dinas.kepala]">' + binding))
    the_error(pkg, "Task_ttd", "'kepala_dipilih'")


def test_template_reading_a_field_set_nowhere() -> None:
    pkg = from_files(files() | {"notifications/id/received.txt": b"Permohonan {{ data.nama_pemohn }} diterima\n"
                                                                 b"Terima kasih."})
    problem = the_error(pkg, None, "data.nama_pemohn", "data.nama_pemohon")
    assert problem.file == "notifications/id/received.txt"


# ---------------------------------------------------------------- paths, loops and conditions


def test_a_field_set_on_some_paths_is_a_warning_naming_one() -> None:
    pkg = package(process_dot_bpmn=("total = biaya * jumlah_klaim", "total = biaya * len(catatan)"))
    problems = lint_package(pkg)
    assert [(p.severity, p.element_id) for p in problems] == [("warning", "Script_total")]
    assert "StartEvent_1 → Task_periksa → Gateway_hasil → Task_tarif → Script_total" in problems[0].message
    assert "Task_periksa" in problems[0].message_id


def test_a_field_required_under_a_condition_the_flow_proves_is_set() -> None:
    # catatan is required when hasil is "tidak_lengkap"; the default flow of the gateway proves it.
    periksa = dict(PERIKSA, allOf=[{"if": {"properties": {"hasil": {"const": "tidak_lengkap"}}, "required": ["hasil"]},
                                    "then": {"required": ["catatan"]}}])
    script = ('<bpmn:scriptTask id="Script_alasan"><bpmn:script>alasan = catatan</bpmn:script></bpmn:scriptTask>'
              '<bpmn:sequenceFlow id="Flow_alasan" sourceRef="Script_alasan" targetRef="EndEvent_tolak"/>')
    changed = files(process_dot_bpmn=('<bpmn:sequenceFlow id="Flow_tolak" sourceRef="Gateway_hasil" '
                                      'targetRef="EndEvent_tolak"/>',
                                      '<bpmn:sequenceFlow id="Flow_tolak" sourceRef="Gateway_hasil" '
                                      'targetRef="Script_alasan"/>' + script))
    changed["forms/periksa.schema.json"] = json.dumps(periksa).encode()
    assert lint_package(from_files(changed)) == []
    # On the other branch the same read is only "maybe": a warning.
    changed["process.bpmn"] = changed["process.bpmn"].replace(b"total = biaya * jumlah_klaim",
                                                              b"total = biaya * len(catatan)")
    assert [p.severity for p in lint_package(from_files(changed))] == ["warning"]


def test_the_start_forms_condition_a_flow_proves_sets_its_field() -> None:
    # merek is required when jenis_usaha is "toko" (the start form's if/then): a flow proving it may read it.
    start = dict(START, properties=dict(START["properties"], merek={"type": "string", "minLength": 1}),
                 allOf=[{"if": {"properties": {"jenis_usaha": {"const": "toko"}}, "required": ["jenis_usaha"]},
                         "then": {"required": ["merek"]}}])
    changed = files(process_dot_bpmn=('hasil == "lengkap"', 'hasil == "lengkap" and jenis_usaha == "toko"'))
    changed["forms/permohonan.schema.json"] = json.dumps(start).encode()
    changed["process.bpmn"] = changed["process.bpmn"].replace(b"total = biaya * jumlah_klaim",
                                                              b"total = biaya * len(merek)")
    assert lint_package(from_files(changed)) == []
    # Without the condition the read is only "maybe": a warning.
    changed["process.bpmn"] = changed["process.bpmn"].replace(b' and jenis_usaha == "toko"', b"")
    assert [p.severity for p in lint_package(from_files(changed))] == ["warning"]


def test_a_later_and_term_is_read_only_when_the_earlier_holds() -> None:
    periksa = dict(PERIKSA, properties=dict(PERIKSA["properties"], perlu_survei={"type": "boolean"}),
                   allOf=[{"if": {"properties": {"hasil": {"const": "lengkap"}}, "required": ["hasil"]},
                           "then": {"required": ["perlu_survei"]}}])
    changed = files(process_dot_bpmn=('hasil == "lengkap"', 'hasil == "lengkap" and perlu_survei == False'))
    changed["forms/periksa.schema.json"] = json.dumps(periksa).encode()
    assert lint_package(from_files(changed)) == []


def test_a_loop_settles_and_a_field_set_in_it_is_surely_set_after() -> None:
    # Sent back to the same check until complete: the check's required field is set after the loop,
    # its optional one only maybe.
    loop = files(process_dot_bpmn=('<bpmn:sequenceFlow id="Flow_tolak" sourceRef="Gateway_hasil" '
                                   'targetRef="EndEvent_tolak"/>',
                                   '<bpmn:sequenceFlow id="Flow_tolak" sourceRef="Gateway_hasil" '
                                   'targetRef="Task_periksa"/>'))
    loop["process.bpmn"] = (loop["process.bpmn"].replace(b"<bpmn:flowNodeRef>EndEvent_tolak</bpmn:flowNodeRef>", b"")
                            .replace(b'<bpmn:endEvent id="EndEvent_tolak" name="Ditolak"/>', b"")
                            .replace(b"total = biaya * jumlah_klaim", b"total = biaya * jumlah_klaim + len(catatan)"))
    problems = lint_package(from_files(loop))
    assert [(p.severity, p.element_id, "'catatan'" in p.message) for p in problems] == [
        ("warning", "Script_total", True)]
    loop["process.bpmn"] = loop["process.bpmn"].replace(b"len(catatan)", b"len(hasil)")
    assert lint_package(from_files(loop)) == []


def test_parallel_branches_both_set_before_the_join() -> None:
    parallel = """<bpmn:parallelGateway id="Gateway_pecah"/><bpmn:parallelGateway id="Gateway_gabung"/>
      <bpmn:scriptTask id="Script_a"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>
      <bpmn:scriptTask id="Script_b"><bpmn:script>b = 2</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="Flow_p1" sourceRef="Gateway_pecah" targetRef="Script_a"/>
      <bpmn:sequenceFlow id="Flow_p2" sourceRef="Gateway_pecah" targetRef="Script_b"/>
      <bpmn:sequenceFlow id="Flow_p3" sourceRef="Script_a" targetRef="Gateway_gabung"/>
      <bpmn:sequenceFlow id="Flow_p4" sourceRef="Script_b" targetRef="Gateway_gabung"/>
      <bpmn:sequenceFlow id="Flow_p5" sourceRef="Gateway_gabung" targetRef="Script_total"/>"""
    pkg = package(process_dot_bpmn=('<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_tarif" targetRef="Script_total"/>',
                                    '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_tarif" targetRef="Gateway_pecah"/>'
                                    + parallel))
    pkg = from_files({**pkg.files, "process.bpmn": pkg.files["process.bpmn"].replace(
        b"total = biaya * jumlah_klaim", b"total = biaya * jumlah_klaim + a + b")})
    assert errors(lint_package(pkg)) == []
    assert not [p for p in lint_package(pkg) if "'a'" in p.message or "'b'" in p.message]


def test_data_flows_through_a_sub_process() -> None:
    sub = """<bpmn:subProcess id="Sub_hitung"><bpmn:startEvent id="StartEvent_s"/>
      <bpmn:scriptTask id="Script_s"><bpmn:script>biaya_tambahan = 10</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="EndEvent_s"/>
      <bpmn:sequenceFlow id="Flow_s1" sourceRef="StartEvent_s" targetRef="Script_s"/>
      <bpmn:sequenceFlow id="Flow_s2" sourceRef="Script_s" targetRef="EndEvent_s"/></bpmn:subProcess>
      <bpmn:sequenceFlow id="Flow_sub" sourceRef="Sub_hitung" targetRef="Script_total"/>"""
    changed = files(process_dot_bpmn=('<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_tarif" '
                                      'targetRef="Script_total"/>',
                                      '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_tarif" '
                                      'targetRef="Sub_hitung"/>' + sub))
    changed["process.bpmn"] = changed["process.bpmn"].replace(
        b"total = biaya * jumlah_klaim", b"total = biaya * jumlah_klaim + biaya_tambahan")
    assert lint_package(from_files(changed)) == []


def test_messages_name_the_element_by_its_name_too() -> None:
    problem = the_error(package(process_dot_bpmn=('hasil == "lengkap"', 'hasl == "lengkap"')), "Gateway_hasil")
    assert problem.element_name == "Lengkap?"
    assert "(Lengkap?)" in problem.render("id")
    assert "galat" in problem.render("id")


def _run(pkg: Package, ctx: AppContext) -> dict[str, Any]:
    deploy(ctx, pkg)
    officer = make_user(ctx, "petugas", "dinas.petugas")
    d = Driver(ctx)
    case = d.start("izin_uji", {"nama_pemohon": "Sri", "jumlah_klaim": 2, "jenis_usaha": "warung"},
                   make_user(ctx, "warga"))
    d.complete(case.id, "Task_periksa", officer, {"hasil": "tidak_lengkap"})
    return {"status": d.case(case.id).status}


def test_a_refused_branch_of_the_clean_twin_runs_too(ctx: AppContext) -> None:
    assert _run(package(), ctx) == {"status": "completed"}


# ---------------------------------------------------------------- timer values


def _with_timer(kind: str, value: str) -> Package:
    timer = (f'<bpmn:boundaryEvent id="Timer_batas" attachedToRef="Task_ttd"><bpmn:timerEventDefinition id="T1">'
             f"<bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
             '<bpmn:sequenceFlow id="Flow_t" sourceRef="Timer_batas" targetRef="EndEvent_tolak"/>')
    return package(process_dot_bpmn=('<bpmn:endEvent id="EndEvent_tolak" name="Ditolak"/>',
                                     '<bpmn:endEvent id="EndEvent_tolak" name="Ditolak"/>' + timer))


@pytest.mark.parametrize(("kind", "value"), [
    ("timeDuration", '"P3D"'), ("timeDuration", "timedelta(seconds=30)"), ("timeDuration", '"PT" + "1H"'),
    ("timeDate", "after_working_days(3)"), ("timeDate", "add_working_days(today(), 3)"),
    ("timeDate", "now() + timedelta(hours=2)"), ("timeCycle", '"R3/PT1H"'),
])
def test_timer_values_of_the_right_type_pass(kind: str, value: str) -> None:
    assert lint_package(_with_timer(kind, value)) == []


@pytest.mark.parametrize(("kind", "value", "hint"), [
    ("timeDuration", "add_working_days(now(), 3)", "after_working_days"),
    ("timeDuration", "3", "timedelta"),
    ("timeDate", "timedelta(days=1)", "timeDuration"),
    ("timeCycle", "now()", "str"),
    ("timeDuration", "jumlah_klaim", "timedelta"),
])
def test_timer_values_of_the_wrong_type_are_refused(kind: str, value: str, hint: str) -> None:
    the_error(_with_timer(kind, value), "Timer_batas", hint)


# ---------------------------------------------------------------- elements the engine runs, or lint refuses


def _replace_task(tag: str, extra: str = "") -> Package:
    return package(process_dot_bpmn=(f'<bpmn:userTask id="Task_ttd" name="Tanda tangan">{_props("ttd.schema.json")}'
                                     "</bpmn:userTask>",
                                     f'<bpmn:{tag} id="Task_ttd" name="Tanda tangan"{extra}>{_props("ttd.schema.json")}'
                                     f"</bpmn:{tag}>"))


@pytest.mark.parametrize("tag", ["manualTask", "task"])
def test_manual_and_plain_tasks_are_work_items_of_their_lane(tag: str, ctx: AppContext) -> None:
    pkg = _replace_task(tag)
    assert lint_package(pkg) == []
    deploy(ctx, pkg)
    officer, head = make_user(ctx, "petugas", "dinas.petugas"), make_user(ctx, "kepala", "dinas.kepala")
    d = Driver(ctx)
    case = d.start("izin_uji", {"nama_pemohon": "Sri", "jumlah_klaim": 1, "jenis_usaha": "warung"},
                   make_user(ctx, "warga"))
    d.complete(case.id, "Task_periksa", officer, {"hasil": "lengkap"})
    assert d.task(case.id, "Task_ttd").role == "dinas.kepala"
    assert d.complete(case.id, "Task_ttd", head, {"nomor_izin": "IZ-1"}) == "completed"


@pytest.mark.parametrize("tag", ["manualTask", "task"])
def test_a_manual_or_plain_task_outside_a_lane_is_refused(tag: str) -> None:
    pkg = _replace_task(tag)
    pkg = from_files({**pkg.files, "process.bpmn": pkg.files["process.bpmn"].replace(
        b"<bpmn:flowNodeRef>Task_ttd</bpmn:flowNodeRef>", b"")})
    problem = the_error(pkg, "Task_ttd", "not in a lane")
    assert "tidak berada di lajur" in problem.message_id


def _catch(definition: str, *, throw: str = "") -> Package:
    event = (f'<bpmn:intermediateCatchEvent id="Event_tunggu">{definition}</bpmn:intermediateCatchEvent>'
             '<bpmn:sequenceFlow id="Flow_e" sourceRef="Event_tunggu" targetRef="Task_ttd"/>')
    pkg = package(process_dot_bpmn=('<bpmn:sequenceFlow id="Flow_4" sourceRef="Script_total" targetRef="Task_ttd"/>',
                                     '<bpmn:sequenceFlow id="Flow_4" sourceRef="Script_total" '
                                     'targetRef="Event_tunggu"/>' + event + throw))
    return from_files({**pkg.files, "process.bpmn": pkg.files["process.bpmn"].replace(
        b'<bpmn:process id="izin_uji"', b'<bpmn:signal id="Signal_1" name="siap"/><bpmn:process id="izin_uji"')})


def test_a_signal_nothing_throws_would_stall_the_case() -> None:
    problem = the_error(_catch('<bpmn:signalEventDefinition id="S1" signalRef="Signal_1"/>'), "Event_tunggu",
                        "'Signal_1'", "for good")
    assert "selamanya" in problem.message_id


def test_a_signal_the_package_throws_is_fine() -> None:
    throw = ('<bpmn:endEvent id="EndEvent_sinyal"><bpmn:signalEventDefinition id="S2" signalRef="Signal_1"/>'
             "</bpmn:endEvent>")
    pkg = _catch('<bpmn:signalEventDefinition id="S1" signalRef="Signal_1"/>', throw=throw)
    assert not [p for p in lint_package(pkg) if "Signal_1" in p.message]


def test_a_start_event_with_a_trigger_is_refused() -> None:
    pkg = package(process_dot_bpmn=('<bpmn:startEvent id="StartEvent_1"/>',
                                    '<bpmn:startEvent id="StartEvent_1"><bpmn:timerEventDefinition id="T0">'
                                    '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
                                    "</bpmn:startEvent>"))
    the_error(pkg, "StartEvent_1", "timer", "plain start event")


def test_a_conditional_catch_is_a_warning() -> None:
    pkg = _catch('<bpmn:conditionalEventDefinition id="C1"><bpmn:condition>total &gt; 0</bpmn:condition>'
                 "</bpmn:conditionalEventDefinition>")
    assert [(p.severity, p.element_id) for p in lint_package(pkg)] == [("warning", "Event_tunggu")]

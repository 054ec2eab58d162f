"""Lint: what a case reads from a partner's reply must be a key the reply carries (connectors.toml `response`)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from engine.catalogue.package import Package, from_files
from engine.errors import Problem
from engine.lint.service import lint_package
from tests.engine.test_connectors import START_FORM
from tests.packages import AGENCY, FORM, SERVICE

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_hasil" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_hasil"><bpmn:participant id="Part_hasil" processRef="hasil"/></bpmn:collaboration>
  <bpmn:message id="Message_selesai" name="bpjs_tk_selesai"/>
  <bpmn:message id="Message_gagal" name="bpjs_tk_gagal"/>
  <bpmn:process id="hasil" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="Petugas [dinas.petugas]">
      <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_kirim</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Gateway_tunggu</bpmn:flowNodeRef><bpmn:flowNodeRef>Event_selesai</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Event_gagal</bpmn:flowNodeRef><bpmn:flowNodeRef>Script_catat</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef><bpmn:flowNodeRef>Gateway_hasil</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_gagal</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Service_kirim"/>
    <bpmn:serviceTask id="Service_kirim" name="Kirim mutasi"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="bpjs_tk.transfer" resultVariable="kirim"/></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_kirim" targetRef="Gateway_tunggu"/>
    <bpmn:eventBasedGateway id="Gateway_tunggu"><bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_3</bpmn:outgoing><bpmn:outgoing>Flow_4</bpmn:outgoing></bpmn:eventBasedGateway>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_tunggu" targetRef="Event_selesai"/>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Gateway_tunggu" targetRef="Event_gagal"/>
    <bpmn:intermediateCatchEvent id="Event_selesai" name="Mutasi tercatat"><bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:outgoing>Flow_5</bpmn:outgoing><bpmn:messageEventDefinition id="Def_selesai" messageRef="Message_selesai">
      {selesai_var}</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="Event_gagal" name="Mutasi ditolak"><bpmn:incoming>Flow_4</bpmn:incoming>
      <bpmn:outgoing>Flow_6</bpmn:outgoing><bpmn:messageEventDefinition id="Def_gagal" messageRef="Message_gagal">
      <bpmn:extensionElements><spiffworkflow:messageVariable>{gagal_var}</spiffworkflow:messageVariable>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Event_selesai" targetRef="Script_catat"/>
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Event_gagal" targetRef="{gagal_target}"/>
    <bpmn:scriptTask id="Script_catat" name="Catat nomor" scriptFormat="python">
      <bpmn:incoming>Flow_5</bpmn:incoming><bpmn:outgoing>Flow_7</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_7" sourceRef="Script_catat" targetRef="Task_periksa"/>
    <bpmn:userTask id="Task_periksa" name="Periksa"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_7</bpmn:incoming><bpmn:outgoing>Flow_8</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_8" sourceRef="Task_periksa" targetRef="Gateway_hasil"/>
    <bpmn:exclusiveGateway id="Gateway_hasil" default="Flow_9"><bpmn:incoming>Flow_8</bpmn:incoming>
      <bpmn:outgoing>Flow_9</bpmn:outgoing><bpmn:outgoing>Flow_10</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_9" sourceRef="Gateway_hasil" targetRef="EndEvent_1"/>
    <bpmn:sequenceFlow id="Flow_10" sourceRef="Gateway_hasil" targetRef="EndEvent_gagal">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_9</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="EndEvent_gagal" name="Ditolak BPJS"><bpmn:incoming>Flow_10</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
HASIL = "<bpmn:extensionElements><spiffworkflow:messageVariable>hasil</spiffworkflow:messageVariable>" \
        "</bpmn:extensionElements>"
CONNECTORS = """
[operations."bpjs_tk.transfer"]
system = "bpjs_tk"
path = "/peserta/{nik}/mutasi"
body = { nik = "nik" }
reply = "bpjs_tk_selesai"
error_reply = "bpjs_tk_gagal"
[operations."bpjs_tk.transfer".response]
nomor_mutasi = "/data/nomor"
tanggal = "/data/tanggal"
"""
GOOD_SCRIPT = 'nomor = hasil["nomor_mutasi"]\ntanggal_mutasi = hasil.get("tanggal")'


def package(*, script: str = GOOD_SCRIPT, condition: str = 'nomor == "X"', selesai_var: str = HASIL,
            gagal_var: str = "gagal", gagal_target: str = "EndEvent_gagal", connectors: str = CONNECTORS) -> Package:
    """Build a package: a described call, its reply and error reply caught, then a script and a gateway reading."""
    bpmn = BPMN.format(script=escape(script), condition=escape(condition), selesai_var=selesai_var,
                       gagal_var=gagal_var, gagal_target=gagal_target)
    return from_files({
        "service.toml": (SERVICE.format(key="hasil") + AGENCY).encode(),
        "process.bpmn": bpmn.encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
        "connectors.toml": connectors.encode(),
    })


def reply_problems(pkg: Package) -> list[Problem]:
    return [p for p in lint_package(pkg) if "messageVariable" in p.message or "carries only" in p.message]


def test_reading_the_keys_the_reply_carries_is_accepted() -> None:
    assert reply_problems(package()) == []
    assert [p for p in lint_package(package()) if p.severity == "error"] == []


def test_a_script_reading_a_key_no_response_produces_is_an_error_with_the_closest_key() -> None:
    [problem] = reply_problems(package(script='nomor = hasil.get("nomor")'))
    assert (problem.file, problem.element_id, problem.severity) == ("process.bpmn", "Script_catat", "error")
    assert "'hasil[\"nomor\"]'" in problem.message
    assert "carries only nomor_mutasi, tanggal" in problem.message
    assert "Did you mean 'nomor_mutasi'?" in problem.message
    assert "Maksud Anda 'nomor_mutasi'?" in problem.message_id
    assert "tidak ada kunci response di connectors.toml" in problem.message_id


def test_a_condition_reading_an_unmapped_key_by_subscript_or_attribute_is_an_error() -> None:
    for condition in ('hasil["status_mutasi"] == "ditolak"', 'hasil.status_mutasi == "ditolak"'):
        [problem] = reply_problems(package(condition=condition))
        assert (problem.element_id, problem.severity) == ("Gateway_hasil", "error"), condition
        assert "the condition of 'Flow_10'" in problem.message


def test_the_error_reply_carries_status_body_and_message() -> None:
    target = "Script_catat"
    fine = package(gagal_var="hasil", gagal_target=target, script='pesan = hasil.get("message")')
    assert reply_problems(fine) == []
    [problem] = reply_problems(package(gagal_var="hasil", gagal_target=target, script='kode = hasil["kode"]'))
    assert "carries only body, message, nomor_mutasi, status, tanggal" in problem.message


def test_a_key_only_the_reply_carries_read_on_the_error_replys_path_is_a_warning() -> None:
    [problem] = reply_problems(package(gagal_var="hasil", gagal_target="Script_catat"))
    assert (problem.element_id, problem.severity) == ("Script_catat", "warning")
    assert "'Event_gagal'" in problem.message
    assert "'bpjs_tk_gagal', which carries only body, message, status" in problem.message
    assert problem.message_id.startswith("skrip 'Script_catat' membaca")
    # Each catcher with its own path: nothing to warn about.
    assert reply_problems(package(gagal_var="hasil")) == []


def test_a_reply_caught_without_a_message_variable_loses_its_fields() -> None:
    problems = reply_problems(package(selesai_var="", script='nomor = "tanpa"'))
    [problem] = [p for p in problems if p.element_id == "Event_selesai"]
    assert problem.severity == "warning"
    assert "without a messageVariable" in problem.message
    assert "nomor_mutasi, tanggal" in problem.message
    assert "tanpa messageVariable" in problem.message_id


def test_a_variable_a_script_also_sets_is_not_judged_by_the_reply() -> None:
    script = 'hasil = {"lain": 1}\nnomor = hasil["lain"]'
    assert reply_problems(package(script=script)) == []


def test_a_body_reaching_into_a_reply_key_no_response_produces_is_an_error() -> None:
    second = """
[operations."bpjs_tk.konfirmasi"]
system = "bpjs_tk"
path = "/konfirmasi"
body = { nomor = "hasil.nomor", tanggal = "hasil.tanggal" }
reply = "bpjs_tk_selesai"
"""
    pkg = package(connectors=CONNECTORS + second)
    # A second service task between the script and the user task calls bpjs_tk.konfirmasi.
    bpmn = pkg.files["process.bpmn"].decode().replace(
        '<bpmn:userTask id="Task_periksa"',
        '<bpmn:serviceTask id="Service_konfirmasi"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
        'id="bpjs_tk.konfirmasi" resultVariable="konfirmasi"/></bpmn:extensionElements>'
        '<bpmn:incoming>Flow_7</bpmn:incoming><bpmn:outgoing>Flow_7b</bpmn:outgoing></bpmn:serviceTask>'
        '<bpmn:sequenceFlow id="Flow_7b" sourceRef="Service_konfirmasi" targetRef="Task_periksa"/>'
        '<bpmn:userTask id="Task_periksa"').replace(
        '<bpmn:sequenceFlow id="Flow_7" sourceRef="Script_catat" targetRef="Task_periksa"/>',
        '<bpmn:sequenceFlow id="Flow_7" sourceRef="Script_catat" targetRef="Service_konfirmasi"/>').replace(
        '<bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>',
        '<bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_konfirmasi</bpmn:flowNodeRef>')
    files = dict(pkg.files)
    files["process.bpmn"] = bpmn.encode()
    problems = [p for p in lint_package(from_files(files)) if "sends 'hasil." in p.message]
    assert [(p.file, p.severity) for p in problems] == [("connectors.toml", "error")]
    assert "'hasil.nomor'" in problems[0].message
    assert "mengirim 'hasil.nomor'" in problems[0].message_id



SUBPROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_hasil" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_hasil"><bpmn:participant id="Part_hasil" processRef="hasil"/></bpmn:collaboration>
  <bpmn:message id="Message_selesai" name="bpjs_tk_selesai"/>
  <bpmn:message id="Message_gagal" name="bpjs_tk_gagal"/>
  <bpmn:process id="hasil" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="Petugas [dinas.petugas]">
      <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_kirim</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>SubProcess_selesai</bpmn:flowNodeRef><bpmn:flowNodeRef>SubProcess_gagal</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Service_kirim"/>
    <bpmn:serviceTask id="Service_kirim" name="Kirim mutasi"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="bpjs_tk.transfer" resultVariable="kirim"/></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Service_kirim" targetRef="Task_periksa"/>
    <bpmn:userTask id="Task_periksa" name="Periksa"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    {subprocesses}
  </bpmn:process>
</bpmn:definitions>
"""
EVENT_SUBPROCESS = """<bpmn:subProcess id="SubProcess_{name}" name="Balasan {name}" triggeredByEvent="true">
      <bpmn:startEvent id="StartEvent_{name}" name="Jawaban {name}" isInterrupting="false">
        <bpmn:outgoing>Flow_{name}_1</bpmn:outgoing>
        <bpmn:messageEventDefinition id="Def_{name}" messageRef="Message_{name}"><bpmn:extensionElements>
          <spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable>
        </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:startEvent>
      <bpmn:sequenceFlow id="Flow_{name}_1" sourceRef="StartEvent_{name}" targetRef="Script_{name}"/>
      <bpmn:scriptTask id="Script_{name}" name="Catat {name}" scriptFormat="python">
        <bpmn:incoming>Flow_{name}_1</bpmn:incoming><bpmn:outgoing>Flow_{name}_2</bpmn:outgoing>
        <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="Flow_{name}_2" sourceRef="Script_{name}" targetRef="EndEvent_{name}"/>
      <bpmn:endEvent id="EndEvent_{name}"><bpmn:incoming>Flow_{name}_2</bpmn:incoming></bpmn:endEvent>
    </bpmn:subProcess>"""


def subprocess_package(selesai: str, gagal: str) -> Package:
    """Build a package whose reply and error reply are taken by non-interrupting event sub-processes."""
    parts = [EVENT_SUBPROCESS.format(name="selesai", variable="hasil", script=escape(selesai)),
             EVENT_SUBPROCESS.format(name="gagal", variable="gagal", script=escape(gagal))]
    files = dict(package().files)
    files["process.bpmn"] = SUBPROCESS.format(subprocesses="\n    ".join(parts)).encode()
    return from_files(files)


def test_replies_taken_by_event_sub_processes_are_checked_inside_them() -> None:
    assert reply_problems(subprocess_package('nomor = hasil.get("nomor_mutasi")',
                                             'catatan = str(gagal.get("message") or "")')) == []
    problems = {p.element_id: p for p in reply_problems(subprocess_package('nomor = hasil.get("nomor_mutasian")',
                                                                           'catatan = gagal["pesan"]'))}
    assert set(problems) == {"Script_selesai", "Script_gagal"}
    assert "Did you mean 'nomor_mutasi'?" in problems["Script_selesai"].message
    assert "response] table" in problems["Script_selesai"].message
    assert "An error reply always carries status, body and message" in problems["Script_gagal"].message
    assert "Balasan galat selalu membawa status, body, dan message" in problems["Script_gagal"].message_id

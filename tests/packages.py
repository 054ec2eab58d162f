"""Small process packages built in memory for engine tests."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from engine.catalogue.package import Package, from_files

SERVICE = """key = "{key}"
agency = "dinas"
name = {{ id = "Layanan uji {key}", en = "Test service {key}" }}
description = {{ id = "Layanan untuk pengujian", en = "A service for tests" }}
product = {{ id = "Surat", en = "Letter" }}
sla_days = 5
fee = {{ id = "Gratis", en = "Free" }}
channels = ["tatap_muka", "daring"]
requirements = [{{ id = "KTP", en = "ID card" }}]
start_form = "forms/start.schema.json"
"""
# How long closed cases are kept (engine/privacy/retention.py); lint warns when a package declares none.
RETENTION = """
[retention]
years = 5
after = "closed"
action = "anonymise"
basis = { id = "UU 43/2009 tentang Kearsipan", en = "Law 43/2009 on Archives" }
"""
# Every service-standard component lint requires (engine/catalogue/standard_components.py), after the retention.
STANDARD = RETENTION + """
[standard]
legal_basis = [{ id = "UU Nomor 25 Tahun 2009 tentang Pelayanan Publik", en = "Law 25/2009 on Public Services" }]
hours = { id = "Senin-Jumat 08.00-15.00", en = "Monday-Friday 08:00-15:00" }
complaints = { id = "Pengaduan melalui SP4N-LAPOR!", en = "Complaints through SP4N-LAPOR!", response_days = 3 }
facilities = [{ id = "Ruang tunggu", en = "Waiting room" }]
competence = [{ id = "Memahami peraturan layanan", en = "Knows the service's regulations" }]
supervision = { id = "Atasan langsung", en = "The direct superior" }
staffing = { id = "2 orang", en = "2 officers" }
guarantee = { id = "Layanan sesuai standar", en = "Service as the standard says" }
security = { id = "Data pemohon dijaga kerahasiaannya", en = "Applicants' data is kept confidential" }
evaluation = { id = "SKM tiap semester", en = "SKM survey each semester" }
"""


def fill_standard(service_toml: str) -> str:
    """Write the service standard's components over a new draft's placeholders, as an analyst must to publish."""
    head, found, _placeholders = service_toml.partition("\n[standard]\n")
    assert found, "service.toml has no [standard] table"
    return head + STANDARD


# The agency and role the test diagrams' lanes use, then the service standard's other components;
# appended after SERVICE's top-level keys.
AGENCY = """
[[agencies]]
code = "dinas"
kind = "city_office"
name = { id = "Dinas Uji", en = "Test Office" }
roles = [{ key = "petugas", name = { id = "Petugas", en = "Officer" } }]
""" + STANDARD

FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"catatan": {"type": "string", "title": "Catatan", "maxLength": 200}},
        "required": ["catatan"]}
START_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"harga": {"type": "integer", "minimum": 0}, "jumlah": {"type": "integer", "minimum": 1}},
              "required": ["harga", "jumlah"]}

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_{key}"><bpmn:participant id="Part_{key}" processRef="{key}"/></bpmn:collaboration>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Script_hitung</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>{extra_refs}<bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_hitung"/>
    <bpmn:scriptTask id="Script_hitung" name="Hitung">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_hitung" targetRef="Task_periksa"/>
    <bpmn:userTask id="Task_periksa" name="{task_name}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
        <spiffworkflow:property name="slaDays" value="3"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    {tail}
  </bpmn:process>
</bpmn:definitions>
"""

PLAIN_TAIL = """<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>"""

# A loop of user tasks: used to grow a case's history to any length.
LOOP_TAIL = """<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="Gateway_lagi"/>
    <bpmn:exclusiveGateway id="Gateway_lagi" default="Flow_lagi">
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_selesai</bpmn:outgoing>
      <bpmn:outgoing>Flow_lagi</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_selesai" sourceRef="Gateway_lagi" targetRef="EndEvent_1">
      <bpmn:conditionExpression>catatan == "selesai"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_lagi" sourceRef="Gateway_lagi" targetRef="Task_periksa"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_selesai</bpmn:incoming></bpmn:endEvent>"""

# A script-only cycle with no wait state: the engine must stop it, not hang. (Lint proves a condition
# on a constant never holds; `n` is computed here so that only the engine's step budget can tell.)
ENDLESS_TAIL = """<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="Script_putar"/>
    <bpmn:scriptTask id="Script_putar" name="Putar"><bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:incoming>Flow_balik</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing>
      <bpmn:script>n = harga - harga + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Script_putar" targetRef="Gateway_putar"/>
    <bpmn:exclusiveGateway id="Gateway_putar" default="Flow_balik"><bpmn:incoming>Flow_4</bpmn:incoming>
      <bpmn:outgoing>Flow_balik</bpmn:outgoing><bpmn:outgoing>Flow_keluar</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_balik" sourceRef="Gateway_putar" targetRef="Script_putar"/>
    <bpmn:sequenceFlow id="Flow_keluar" sourceRef="Gateway_putar" targetRef="EndEvent_1">
      <bpmn:conditionExpression>n == 2</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_keluar</bpmn:incoming></bpmn:endEvent>"""

# An intermediate timer after the user task: the case waits, then ends.
WAIT_TAIL = """<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="Timer_tunggu"/>
    <bpmn:intermediateCatchEvent id="Timer_tunggu" name="Tunggu"><bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:outgoing>Flow_4</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerDef_tunggu"><bpmn:{timer_kind}>{timer}</bpmn:{timer_kind}>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Timer_tunggu" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_4</bpmn:incoming></bpmn:endEvent>"""

TAILS = {"plain": (PLAIN_TAIL, ""),
         "loop": (LOOP_TAIL, "<bpmn:flowNodeRef>Gateway_lagi</bpmn:flowNodeRef>"),
         "wait": (WAIT_TAIL, "<bpmn:flowNodeRef>Timer_tunggu</bpmn:flowNodeRef>"),
         "endless": (ENDLESS_TAIL, "<bpmn:flowNodeRef>Script_putar</bpmn:flowNodeRef>"
                                   "<bpmn:flowNodeRef>Gateway_putar</bpmn:flowNodeRef>")}


def simple_package(key: str = "uji", *, script: str = "total = harga * jumlah", task_name: str = "Periksa",
                   shape: str = "plain", timer: str = '"P3D"', timer_kind: str = "timeDuration") -> Package:
    """Build a one-lane package: start, a script task, a user task, then `shape` (plain, loop, wait, endless)."""
    tail, refs = TAILS[shape]
    tail = tail.replace("{timer_kind}", timer_kind).replace("{timer}", escape(timer))
    bpmn = BPMN.format(key=key, script=escape(script), task_name=escape(task_name), tail=tail, extra_refs=refs)
    return from_files({
        "service.toml": (SERVICE.format(key=key) + AGENCY).encode(),
        "process.bpmn": bpmn.encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
    })


MESSAGE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{key}" targetNamespace="http://mpp.test">
  <bpmn:message id="Message_izin" name="izin_lokasi_terbit"/>
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_petugas" name="Petugas [dinas.petugas]">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>{refs}<bpmn:flowNodeRef>Task_periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    {body}
    <bpmn:userTask id="Task_periksa" name="Periksa">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_periksa" targetRef="EndEvent_1"/>
    {end}
  </bpmn:process>
</bpmn:definitions>
"""

THROWER_BODY = """<bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="StartEvent_1" targetRef="Task_periksa"/>"""
THROWER_END = """<bpmn:endEvent id="EndEvent_1" name="Izin terbit"><bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:messageEventDefinition id="MessageDef_1" messageRef="Message_izin"><bpmn:extensionElements>
        <spiffworkflow:messagePayload>{"nomor_izin": "IL-" + catatan}</spiffworkflow:messagePayload>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:endEvent>"""
WAITER_BODY = """<bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Event_tunggu"/>
    <bpmn:intermediateCatchEvent id="Event_tunggu" name="Menunggu izin lokasi"><bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="MessageDef_2" messageRef="Message_izin"><bpmn:extensionElements>
        <spiffworkflow:messageVariable>izin_lokasi</spiffworkflow:messageVariable>
      </bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Event_tunggu" targetRef="Task_periksa"/>"""
# The waiter, but with a task of its own first: it starts waiting only after that task.
LATE_WAITER_BODY = """<bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_1" targetRef="Task_siapkan"/>
    <bpmn:userTask id="Task_siapkan" name="Siapkan">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="periksa.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_0</bpmn:incoming><bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:userTask>""" + WAITER_BODY.split("</bpmn:startEvent>", 1)[1].replace(
    'sourceRef="StartEvent_1"', 'sourceRef="Task_siapkan"')
WAITER_END = '<bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>'


def message_package(key: str, *, role: str) -> Package:
    """Build a package that throws (`thrower`) or waits for (`waiter`, `late_waiter`) `izin_lokasi_terbit`."""
    waiter_refs = "<bpmn:flowNodeRef>Event_tunggu</bpmn:flowNodeRef>"
    body, end, refs = {
        "thrower": (THROWER_BODY, THROWER_END, ""),
        "waiter": (WAITER_BODY, WAITER_END, waiter_refs),
        "late_waiter": (LATE_WAITER_BODY, WAITER_END,
                        waiter_refs + "<bpmn:flowNodeRef>Task_siapkan</bpmn:flowNodeRef>"),
    }[role]
    bpmn = MESSAGE_BPMN.replace("{body}", body).replace("{end}", end).replace("{refs}", refs).replace("{key}", key)
    service = SERVICE.format(key=key).replace('channels = ["tatap_muka", "daring"]',
                                              'channels = ["tatap_muka", "daring", "terpadu"]')
    return from_files({
        "service.toml": (service + AGENCY).encode(),
        "process.bpmn": bpmn.encode(),
        "forms/periksa.schema.json": json.dumps(FORM).encode(),
        "forms/start.schema.json": json.dumps(START_FORM).encode(),
    })


# Money fields checked to the cent: jsonschema's multipleOf divides, which failed (a 500) on numbers no
# double holds. The start form's `harga` and the task form's `biaya` are such fields.
MONEY_START_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                    "properties": {"harga": {"type": "number", "multipleOf": 0.01, "minimum": 0},
                                   "jumlah": {"type": "integer", "minimum": 1}},
                    "required": ["harga", "jumlah"]}
MONEY_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"catatan": {"type": "string", "maxLength": 200},
                             "biaya": {"type": "number", "multipleOf": 0.01}},
              "required": ["catatan"]}


def money_package(key: str = "uang", *, script: str = "total = harga * jumlah") -> Package:
    """Build `simple_package` with money fields (multipleOf 0.01) in its start form and its task form."""
    files = dict(simple_package(key, script=script).files)
    files["forms/start.schema.json"] = json.dumps(MONEY_START_FORM).encode()
    files["forms/periksa.schema.json"] = json.dumps(MONEY_FORM).encode()
    return from_files(files)

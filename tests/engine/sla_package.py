"""A two-agency service for the SLA and survey tests: a front desk (dinas) then a technical check (teknis)."""

from __future__ import annotations

import json

from engine.catalogue.package import Package, from_files
from tests.packages import STANDARD

SERVICE = """key = "sla_uji"
agency = "dinas"
name = { id = "Layanan uji SLA", en = "SLA test service" }
description = { id = "Layanan untuk pengujian", en = "A service for tests" }
product = { id = "Surat", en = "Letter" }
sla_days = 3
fee = { id = "Gratis", en = "Free" }
channels = ["tatap_muka", "daring"]
requirements = [{ id = "KTP", en = "ID card" }]
start_form = "forms/start.schema.json"

[[agencies]]
code = "dinas"
kind = "city_office"
name = { id = "Dinas Uji", en = "Test Office" }
roles = [{ key = "loket", name = { id = "Petugas loket", en = "Counter officer" } }]

[[agencies]]
code = "teknis"
kind = "city_office"
name = { id = "Dinas Teknis", en = "Technical Office" }
roles = [{ key = "verifikator", name = { id = "Verifikator", en = "Verifier" } }]
"""

FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"catatan": {"type": "string", "title": "Catatan", "maxLength": 200}}}

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_sla" targetNamespace="http://mpp.test">
  <bpmn:collaboration id="Collab_sla"><bpmn:participant id="Part_sla" processRef="sla_uji"/></bpmn:collaboration>
  <bpmn:process id="sla_uji" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_loket" name="Loket [dinas.loket]">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_terima</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_teknis" name="Verifikator [teknis.verifikator]">
        <bpmn:flowNodeRef>Task_verifikasi</bpmn:flowNodeRef><bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_terima"/>
    <bpmn:userTask id="Task_terima" name="Terima berkas">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="catatan.schema.json"/>
        <spiffworkflow:property name="slaDays" value="1"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_terima" targetRef="Task_verifikasi"/>
    <bpmn:userTask id="Task_verifikasi" name="Verifikasi teknis">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="catatan.schema.json"/>
        <spiffworkflow:property name="slaDays" value="2"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_verifikasi" targetRef="EndEvent_1"/>
    <bpmn:endEvent id="EndEvent_1" name="Selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_1"><bpmndi:BPMNPlane id="Plane_1" bpmnElement="Collab_sla">
    <bpmndi:BPMNShape id="Part_di" bpmnElement="Part_sla" isHorizontal="true">
      <dc:Bounds x="100" y="60" width="600" height="250"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Lane_loket_di" bpmnElement="Lane_loket" isHorizontal="true">
      <dc:Bounds x="130" y="60" width="570" height="125"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Lane_teknis_di" bpmnElement="Lane_teknis" isHorizontal="true">
      <dc:Bounds x="130" y="185" width="570" height="125"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
      <dc:Bounds x="172" y="102" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Task_terima_di" bpmnElement="Task_terima"><dc:Bounds x="260" y="80" width="100" height="80"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Task_verifikasi_di" bpmnElement="Task_verifikasi">
      <dc:Bounds x="420" y="205" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1"><dc:Bounds x="592" y="227" width="36" height="36"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="208" y="120"/><di:waypoint x="260" y="120"/>
    </bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="360" y="120"/><di:waypoint x="390" y="120"/>
      <di:waypoint x="390" y="245"/><di:waypoint x="420" y="245"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="Flow_3_di" bpmnElement="Flow_3"><di:waypoint x="520" y="245"/><di:waypoint x="592" y="245"/>
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def sla_package() -> Package:
    """Build the two-step, two-agency service `sla_uji` (SLA 3 working days; steps 1 and 2 days)."""
    start = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
             "properties": {"perihal": {"type": "string", "maxLength": 100}}}
    return from_files({"service.toml": (SERVICE + STANDARD).encode(), "process.bpmn": BPMN.encode(),
                       "forms/catatan.schema.json": json.dumps(FORM).encode(),
                       "forms/start.schema.json": json.dumps(start).encode()})

"""The first files of a new service: service.toml, a diagram with one lane per role, the start form.

What an analyst gets from "Layanan baru" before drawing anything: a package that lints clean
(a start event in the applicant's lane, one review task in the first officer lane, an end event),
so every later problem lint reports is one the analyst made, not one the template left; the one
exception is the `[standard]` components (legal basis, complaints, hours, ...), which no template
can know: they start as placeholders, and lint names each one until the analyst writes it. A new
decision table (`decision_table`) starts the same way: two example rules that lint clean.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from xml.sax.saxutils import escape, quoteattr

import tomlkit

from engine.catalogue import standard_components as components

LANE_HEIGHT = 160
QUOTES = {"\"": "&quot;"}
LANE_LEFT = 190
POOL_WIDTH = 900


@dataclass(frozen=True)
class RoleDecl:
    """A role of the service's agency: its key inside the agency and its names."""

    key: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class NewService:
    """What the analyst typed on the "Layanan baru" page."""

    key: str
    agency: str
    name_id: str
    name_en: str
    roles: list[RoleDecl]
    # When the agency is new: its names and kind, declared in service.toml so deployment creates it.
    agency_name_id: str = ""
    agency_name_en: str = ""
    agency_kind: str = "city_office"
    declare_agency: bool = True
    channels: list[str] = field(default_factory=lambda: ["tatap_muka", "daring"])


def service_toml(new: NewService) -> str:
    """Return the service standard of a new service, with its agency and roles declared."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Service standard of {new.key}, created in the studio."))
    doc["key"] = new.key
    doc["agency"] = new.agency
    doc["name"] = _inline({"id": new.name_id, "en": new.name_en or new.name_id})
    doc["description"] = _inline({"id": new.name_id, "en": new.name_en or new.name_id})
    doc["product"] = _inline({"id": "Surat keputusan", "en": "Decision letter"})
    doc["sla_days"] = 5
    doc["fee"] = _inline({"id": "Tanpa biaya", "en": "Free of charge"})
    doc["channels"] = new.channels
    doc["start_form"] = "forms/permohonan.schema.json"
    requirements = tomlkit.array()
    requirements.append(_inline({"id": "KTP pemohon", "en": "Applicant's ID card"}))
    requirements.multiline(True)
    doc["requirements"] = requirements
    if new.declare_agency:
        agencies = tomlkit.aot()
        entry = tomlkit.table()
        entry["code"] = new.agency
        entry["kind"] = new.agency_kind
        entry["name"] = _inline({"id": new.agency_name_id or new.agency, "en": new.agency_name_en or new.agency})
        roles = tomlkit.array()
        for role in new.roles:
            roles.append(_inline({"key": role.key, "name": {"id": role.name_id, "en": role.name_en or role.name_id}}))
        roles.multiline(True)
        entry["roles"] = roles
        agencies.append(entry)
        doc["agencies"] = agencies
    doc["standard"] = _standard_placeholders()
    return tomlkit.dumps(doc)


def _standard_placeholders() -> tomlkit.items.Table:
    """Return `[standard]` with every component present and still to be written (lint names each one)."""
    table = tomlkit.table()
    table.add(tomlkit.comment("The other service-standard components: replace each placeholder (docs/onboarding.md)."))
    placeholder: dict[str, object] = {"id": components.PLACEHOLDER[0], "en": components.PLACEHOLDER[1]}
    for component in components.COMPONENTS:
        if component.kind == "list":
            items = tomlkit.array()
            items.append(_inline(placeholder))
            table[component.key] = items
        elif component.kind == "complaints":
            table[component.key] = _inline({**placeholder, "response_days": 3})
        else:
            table[component.key] = _inline(placeholder)
    return table


def _inline(values: dict[str, object]) -> tomlkit.items.InlineTable:
    table = tomlkit.inline_table()
    for name, value in values.items():
        table[name] = _inline(value) if isinstance(value, dict) else value
    return table


def process_bpmn(new: NewService) -> str:
    """Return a diagram with the applicant's lane and one lane per role: start, one review task, end."""
    lanes = [("Lane_pemohon", "Pemohon [applicant]")] + [
        (f"Lane_{role.key}", f"{role.name_id} [{new.agency}.{role.key}]") for role in new.roles]
    first = lanes[1][0] if len(lanes) > 1 else lanes[0][0]
    height = LANE_HEIGHT * len(lanes)
    pool_x, pool_y = 160, 80
    lane_xml, shapes = [], []
    for index, (lane_id, name) in enumerate(lanes):
        refs = {"Lane_pemohon": ["StartEvent_permohonan"]}.get(lane_id, [])
        if lane_id == first:
            refs += ["Task_periksa", "EndEvent_selesai"]
        if lane_id == "Lane_pemohon" and first == lane_id:
            refs = ["StartEvent_permohonan", "Task_periksa", "EndEvent_selesai"]
        body = "".join(f"\n        <bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
        lane_xml.append(f'      <bpmn:lane id="{lane_id}" name={quoteattr(name)}>{body}\n      </bpmn:lane>')
        shapes.append(f'      <bpmndi:BPMNShape id="{lane_id}_di" bpmnElement="{lane_id}" isHorizontal="true">'
                      f'<dc:Bounds x="{pool_x + 30}" y="{pool_y + index * LANE_HEIGHT}" width="{POOL_WIDTH - 30}" '
                      f'height="{LANE_HEIGHT}" /></bpmndi:BPMNShape>')
    start_y = pool_y + LANE_HEIGHT // 2
    task_row = next(i for i, (lane_id, _) in enumerate(lanes) if lane_id == first)
    task_y = pool_y + task_row * LANE_HEIGHT + LANE_HEIGHT // 2
    template = string.Template((FsPath(__file__).parent / "templates" / "blank.bpmn").read_text(encoding="utf-8"))
    return template.substitute(
        key=new.key,
        name=escape(new.name_id, QUOTES),
        lanes="\n".join(lane_xml),
        pool_x=pool_x,
        pool_y=pool_y,
        pool_width=POOL_WIDTH,
        height=height,
        shapes="\n".join(shapes),
        start_x=LANE_LEFT + 62,
        start_top=start_y - 18,
        task_x=LANE_LEFT + 200,
        task_top=task_y - 40,
        end_x=LANE_LEFT + 402,
        end_top=task_y - 18,
        start_right=LANE_LEFT + 98,
        start_y=start_y,
        bend_x=LANE_LEFT + 150,
        task_y=task_y,
        task_right=LANE_LEFT + 300)


def start_form() -> tuple[str, str]:
    """Return the start form (JSON Schema, UI schema): the applicant's name and NIK."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Permohonan", "type": "object", "required": ["nama_pemohon", "nik"],
        "properties": {
            "nama_pemohon": {"type": "string", "title": "Nama pemohon", "minLength": 1, "maxLength": 120,
                             "x-mpp-personal": "personal"},
            "nik": {"type": "string", "title": "NIK", "pattern": "^[0-9]{16}$", "x-mpp-personal": "sensitive"},
        },
    }
    ui = {"ui:order": ["nama_pemohon", "nik"], "nik": {"ui:help": "16 digit sesuai KTP"}}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n", json.dumps(ui, indent=2) + "\n"


def review_form() -> tuple[str, str]:
    """Return the review task's form: a decision and a note."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Periksa permohonan", "type": "object", "required": ["keputusan"],
        "properties": {
            "keputusan": {"type": "string", "title": "Keputusan", "enum": ["setuju", "tolak"]},
            "catatan": {"type": "string", "title": "Catatan", "maxLength": 2000},
        },
    }
    ui = {"ui:order": ["keputusan", "catatan"], "catatan": {"ui:widget": "textarea"}}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n", json.dumps(ui, indent=2) + "\n"


def files_of(new: NewService) -> dict[str, bytes]:
    """Return every file of the new package."""
    start, start_ui = start_form()
    review, review_ui = review_form()
    return {"service.toml": service_toml(new).encode(), "process.bpmn": process_bpmn(new).encode(),
            "forms/permohonan.schema.json": start.encode(), "forms/permohonan.uischema.json": start_ui.encode(),
            "forms/periksa.schema.json": review.encode(), "forms/periksa.uischema.json": review_ui.encode()}


@dataclass(frozen=True)
class NewDecisionTable:
    """What the analyst typed on the "new decision table" form."""

    name: str
    decision_id: str
    decision_name: str
    input_name: str
    output_name: str


def field_label(field: str) -> str:
    """Return a case field's name as a label: `luas_bangunan` reads "Luas bangunan"."""
    return field.replace("_", " ").capitalize()


def decision_table(table: NewDecisionTable, *, namespace: str) -> str:
    """Return a DMN 1.3 file with one decision table: a number input, a number output, two example rules.

    It follows the catalogue's conventions (hit policy UNIQUE, cells are Python as SpiffWorkflow reads
    them: `< 100`, `>= 100`, `-` for any value) and lints clean, so what lint says later is the analyst's.
    """
    ident, field, out = table.decision_id, table.input_name, table.output_name
    values = {
        "id": ident, "name": quoteattr(table.decision_name), "ns": escape(namespace), "field": field,
        "field_label": quoteattr(field_label(field)), "out": out, "out_label": quoteattr(field_label(out)),
    }
    return DECISION_TABLE.format(**values)


DECISION_TABLE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" \
xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" \
id="Definitions_{id}" name={name} namespace="http://mpp.jogjakota.go.id/dmn/{ns}">
  <decision id="{id}" name={name}>
    <decisionTable id="DecisionTable_{id}" hitPolicy="UNIQUE">
      <input id="Input_{field}" label={field_label}>
        <inputExpression id="InputExpression_{field}" typeRef="number"><text>{field}</text></inputExpression>
      </input>
      <output id="Output_{out}" label={out_label} name="{out}" typeRef="number" />
      <rule id="Rule_{id}_kecil">
        <description>Contoh: di bawah 100. Ubah batas dan nilainya.</description>
        <inputEntry id="InputEntry_{id}_kecil"><text>&lt; 100</text></inputEntry>
        <outputEntry id="OutputEntry_{id}_kecil"><text>50000</text></outputEntry>
      </rule>
      <rule id="Rule_{id}_besar">
        <description>Contoh: 100 atau lebih.</description>
        <inputEntry id="InputEntry_{id}_besar"><text>&gt;= 100</text></inputEntry>
        <outputEntry id="OutputEntry_{id}_besar"><text>100000</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_{id}">
      <dmndi:DMNShape id="DMNShape_{id}" dmnElementRef="{id}">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""

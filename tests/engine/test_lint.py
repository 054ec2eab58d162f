"""Tests of the package linter: each check names the element at fault; all problems are reported."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from engine.bpmn.conventions import role_from_lane_name
from engine.catalogue.package import Package, from_files
from engine.errors import Problem
from engine.lint.service import UNSUPPORTED_ELEMENTS, lint_package
from tests.packages import STANDARD

# ---------------------------------------------------------------- builders

SERVICE = """
key = "pbg"
agency = "dpmptsp"
name = { id = "Persetujuan Bangunan Gedung", en = "Building Approval" }
product = { id = "Dokumen PBG", en = "PBG approval document" }
sla_days = 28
channels = ["tatap_muka", "daring"]
start_form = "forms/application.schema.json"
requirements = [{ id = "KTP pemohon", en = "Applicant's ID card" }]
"""
# Appended by make(): the agencies and roles the test diagrams' lanes use (declared, as deployment needs).
AGENCIES = """
[[agencies]]
code = "dpmptsp"
kind = "city_office"
name = { id = "DPMPTSP", en = "One-stop service office" }
roles = [
  { key = "front_office", name = { id = "Front office", en = "Front office" } },
  { key = "back_office", name = { id = "Back office", en = "Back office" } },
]

[[agencies]]
code = "pupr"
kind = "city_office"
name = { id = "Dinas PUPR", en = "Public Works Office" }
roles = [{ key = "tpa", name = { id = "Tim Profesi Ahli", en = "Expert team" } }]

[[agencies]]
code = "konsultan"
kind = "private"
name = { id = "Konsultan perencana", en = "Design consultants" }
roles = [{ key = "perencana", name = { id = "Konsultan perencana", en = "Design consultant" } }]
"""

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"catatan": {"type": "string"}, "luas_bangunan": {"type": "number"}, "x": {"type": "number"},
                   "batas_hari": {"type": "string"}, "belum_selesai": {"type": "boolean"}},
    # What the test diagrams' conditions, scripts, timers and decisions read: set from the start.
    "required": ["luas_bangunan", "x", "batas_hari", "belum_selesai"],
}
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" targetNamespace="http://mpp.go.id">\n'
)


def props(**values: str) -> str:
    """Return an extensionElements block with spiffworkflow properties (and nothing else)."""
    inner = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in values.items())
    properties = f"<spiffworkflow:properties>{inner}</spiffworkflow:properties>"
    return f"<bpmn:extensionElements>{properties}</bpmn:extensionElements>"


def user_task(task_id: str, form: str | None = "verifikasi.schema.json", extra: str = "", **more: str) -> str:
    values = ({"formJsonSchemaFilename": form} if form else {}) | more
    return f'<bpmn:userTask id="{task_id}" name="Verifikasi berkas" {extra}>{props(**values)}</bpmn:userTask>'


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    body = (
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
        if condition is not None
        else ""
    )
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}</bpmn:sequenceFlow>'


def chain(*ids: str, prefix: str = "Flow") -> str:
    """Connect ids in order with sequence flows named Flow_<source>."""
    return "".join(flow(f"{prefix}_{a}", a, b) for a, b in zip(ids, ids[1:], strict=False))


def lane_set(*lanes: tuple[str, str, list[str]] | tuple[str, str, list[str], str]) -> str:
    """Return a laneSet; each lane is (id, name, node ids[, extension xml])."""
    out = []
    for lane in lanes:
        lane_id, name, refs = lane[0], lane[1], lane[2]
        ext = lane[3] if len(lane) > 3 else ""
        out.append(
            f'<bpmn:lane id="{lane_id}" name="{name}">{ext}'
            + "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs)
            + "</bpmn:lane>"
        )
    return '<bpmn:laneSet id="LaneSet_1">' + "".join(out) + "</bpmn:laneSet>"


def process(pid: str, body: str, lanes: str = "", executable: str = "true") -> str:
    return f'<bpmn:process id="{pid}" isExecutable="{executable}">{lanes}{body}</bpmn:process>'


def definitions(*parts: str) -> bytes:
    return (HEAD + "\n".join(parts) + "\n</bpmn:definitions>\n").encode()


def simple_process(pid: str = "pbg", task: str | None = None, lanes: str | None = None) -> str:
    task = task or user_task("Task_verifikasi")
    lanes = (
        lanes
        if lanes is not None
        else lane_set(
            ("Lane_fo", "Front Office [dpmptsp.front_office]", ["StartEvent_1", "Task_verifikasi", "EndEvent_1"])
        )
    )
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + task
        + '<bpmn:endEvent id="EndEvent_1"/>'
        + chain("StartEvent_1", "Task_verifikasi", "EndEvent_1")
    )
    return process(pid, body, lanes)


def make(
    files: Mapping[str, bytes | str] | None = None,
    *,
    service: str = SERVICE,
    bpmn: bytes | None = None,
    drop: tuple[str, ...] = (),
) -> Package:
    """Build a package: a clean single-task process unless parts are replaced."""
    base: dict[str, bytes | str] = {
        "service.toml": service + AGENCIES + STANDARD,
        "process.bpmn": bpmn if bpmn is not None else definitions(simple_process()),
        "forms/application.schema.json": json.dumps(SCHEMA),
        "forms/verifikasi.schema.json": json.dumps(SCHEMA),
    }
    base.update(files or {})
    return from_files({k: v.encode() if isinstance(v, str) else v for k, v in base.items() if k not in drop})


def problems_for(package: Package) -> list[Problem]:
    return lint_package(package)


def ids(problems: list[Problem], severity: str = "error") -> set[str | None]:
    return {p.element_id for p in problems if p.severity == severity}


def only(problems: list[Problem], element_id: str | None, *words: str) -> Problem:
    """Return the single problem about element_id, checking that its message has the words."""
    matching = [p for p in problems if p.element_id == element_id]
    assert len(matching) == 1, problems
    for word in words:
        assert word in matching[0].message, matching[0]
    return matching[0]


# ---------------------------------------------------------------- a clean, feature-rich package

DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_retribusi" name="Retribusi"
    namespace="http://mpp.go.id">
  <decision id="Decision_tarif" name="Tarif retribusi">
    <decisionTable id="DecisionTable_tarif">
      <input id="Input_luas" label="Luas">
        <inputExpression id="InputExpression_luas" typeRef="number"><text>luas_bangunan</text></inputExpression>
      </input>
      <output id="Output_tarif" name="tarif" typeRef="number"/>
      <rule id="Rule_kecil">
        <inputEntry id="InputEntry_kecil"><text>&lt; 100</text></inputEntry>
        <outputEntry id="OutputEntry_kecil"><text>10000</text></outputEntry>
      </rule>
      <rule id="Rule_lain">
        <inputEntry id="InputEntry_lain"><text>-</text></inputEntry>
        <outputEntry id="OutputEntry_lain"><text>25000</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def rich_bpmn() -> bytes:
    tpa_role = props(role="pupr.tpa")
    body = "".join(
        [
            '<bpmn:startEvent id="StartEvent_1"/>',
            user_task("Task_verifikasi", formUiSchemaFilename="verifikasi.uischema.json", slaDays="3"),
            '<bpmn:businessRuleTask id="Task_tarif"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>Decision_tarif</spiffworkflow:calledDecisionId>"
            "</bpmn:extensionElements></bpmn:businessRuleTask>",
            '<bpmn:scriptTask id="Task_hitung"><bpmn:script>retribusi = tarif * luas_bangunan</bpmn:script>'
            "</bpmn:scriptTask>",
            '<bpmn:exclusiveGateway id="Gateway_luas" default="Flow_kecil"/>',
            user_task("Task_tpa"),
            '<bpmn:boundaryEvent id="Event_tpa_lewat" attachedToRef="Task_tpa"><bpmn:timerEventDefinition '
            'id="Timer_tpa"><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
            '<bpmn:callActivity id="Call_terbit" calledElement="terbitkan_dokumen"/>',
            '<bpmn:endEvent id="EndEvent_1"/>',
            '<bpmn:endEvent id="EndEvent_lewat"/>',
            chain("StartEvent_1", "Task_verifikasi", "Task_tarif", "Task_hitung", "Gateway_luas"),
            flow("Flow_besar", "Gateway_luas", "Task_tpa", "luas_bangunan &gt;= 500"),
            flow("Flow_kecil", "Gateway_luas", "Call_terbit"),
            chain("Task_tpa", "Call_terbit", "EndEvent_1"),
            flow("Flow_lewat", "Event_tpa_lewat", "EndEvent_lewat"),
        ]
    )
    lanes = lane_set(
        (
            "Lane_fo",
            "Front Office [dpmptsp.front_office]",
            [
                "StartEvent_1",
                "Task_verifikasi",
                "Task_tarif",
                "Task_hitung",
                "Gateway_luas",
                "Call_terbit",
                "EndEvent_1",
            ],
        ),
        ("Lane_tpa", "Tim Profesi Ahli", ["Task_tpa", "Event_tpa_lewat", "EndEvent_lewat"], tpa_role),
    )
    return definitions(process("pbg", body, lanes))


def issue_bpmn() -> bytes:
    body = (
        '<bpmn:startEvent id="StartEvent_2"/>'
        + user_task("Task_ambil", extra='camunda:candidateGroups="dpmptsp.back_office"')
        + '<bpmn:endEvent id="EndEvent_2"/>'
        + chain("StartEvent_2", "Task_ambil", "EndEvent_2")
    )
    return definitions(process("terbitkan_dokumen", body))


def rich_package(**replace: bytes | str) -> Package:
    files: dict[str, bytes | str] = {
        "process.bpmn": rich_bpmn(),
        "terbit.bpmn": issue_bpmn(),
        "retribusi.dmn": DMN,
        "forms/verifikasi.uischema.json": json.dumps({"catatan": {"ui:widget": "textarea"}}),
    }
    files.update(replace)
    return make(files)


def test_clean_package_reports_nothing() -> None:
    assert lint_package(make()) == []


def test_rich_clean_package_reports_nothing() -> None:
    assert lint_package(rich_package()) == []


# ---------------------------------------------------------------- service.toml


def test_service_toml_missing() -> None:
    problems = lint_package(make(drop=("service.toml",)))
    assert any(p.file == "service.toml" and "missing" in p.message for p in problems)


def test_service_toml_not_toml() -> None:
    problems = lint_package(make(service="key = \n"))
    assert [p.file for p in problems] == ["service.toml"]
    assert "not valid TOML" in problems[0].message


def test_service_toml_required_keys_and_values() -> None:
    service = 'key = "pbg"\nsla_days = 0\nchannels = ["loket", "daring"]\nrequirements = "KTP"\n'
    messages = [p.message for p in lint_package(make(service=service)) if p.file == "service.toml"]
    for expected in ("agency", "name", "product", "sla_days", "loket", "requirements"):
        assert any(expected in m for m in messages), (expected, messages)


def test_service_channels_must_not_be_empty() -> None:
    service = SERVICE.replace('channels = ["tatap_muka", "daring"]', "channels = []")
    assert any("channels" in p.message for p in lint_package(make(service=service)))


def test_service_unknown_key_is_a_warning() -> None:
    problems = lint_package(make(service=SERVICE + "sla_day = 3\n"))
    assert [(p.severity, "sla_day" in p.message) for p in problems] == [("warning", True)]


def test_start_form_missing_and_invalid() -> None:
    missing = lint_package(make(drop=("forms/application.schema.json",)))
    assert any(p.file == "service.toml" and "application.schema.json" in p.message for p in missing)
    invalid = lint_package(make({"forms/application.schema.json": '{"type": "objek"}'}))
    assert any(p.file == "forms/application.schema.json" and "JSON Schema" in p.message for p in invalid)


# ---------------------------------------------------------------- files and processes


def test_unsafe_xml_becomes_a_problem() -> None:
    bad = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    problems = lint_package(make({"extra.bpmn": bad}))
    problem = next(p for p in problems if p.file == "extra.bpmn")
    assert "DOCTYPE" in problem.message
    assert not problem.message.startswith("extra.bpmn:")


def test_wrong_root_elements() -> None:
    problems = lint_package(make({"x.bpmn": b"<root/>", "y.dmn": b"<definitions/>"}))
    assert {p.file for p in problems} == {"x.bpmn", "y.dmn"}


def test_package_without_bpmn() -> None:
    problems = lint_package(make(drop=("process.bpmn",)))
    assert any(p.file == "<package>" and ".bpmn" in p.message for p in problems)


def test_main_process_must_exist() -> None:
    problems = lint_package(make(service=SERVICE.replace('key = "pbg"', 'key = "imb"')))
    only(problems, None, "imb", "pbg")


def test_process_must_be_executable() -> None:
    bpmn = definitions(simple_process().replace('isExecutable="true"', 'isExecutable="false"'))
    only(lint_package(make(bpmn=bpmn)), "pbg", "isExecutable")


def test_reserved_ids_refused() -> None:
    bpmn = definitions(simple_process().replace("StartEvent_1", "Start"))
    only(lint_package(make(bpmn=bpmn)), "Start", "reserved")


def test_duplicate_ids_refused() -> None:
    bpmn = definitions(simple_process().replace("EndEvent_1", "Task_verifikasi"))
    assert "Task_verifikasi" in ids(lint_package(make(bpmn=bpmn)))


@pytest.mark.parametrize(
    ("snippet", "element_id", "word"),
    [
        ('<bpmn:complexGateway id="Gateway_rumit"/>', "Gateway_rumit", "complexGateway"),
        (
            '<bpmn:intermediateThrowEvent id="Event_komp"><bpmn:compensateEventDefinition id="Comp_1"/>'
            "</bpmn:intermediateThrowEvent>",
            "Event_komp",
            "compensat",
        ),
        (
            '<bpmn:intermediateThrowEvent id="Event_link"><bpmn:linkEventDefinition id="Link_1" name="a"/>'
            "</bpmn:intermediateThrowEvent>",
            "Event_link",
            "link",
        ),
        ('<bpmn:adHocSubProcess id="Sub_adhoc"><bpmn:task id="Task_a"/></bpmn:adHocSubProcess>', "Sub_adhoc", "ad-hoc"),
    ],
)
def test_unsupported_elements(snippet: str, element_id: str, word: str) -> None:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + snippet
        + '<bpmn:endEvent id="EndEvent_1"/>'
        + chain("StartEvent_1", element_id, "EndEvent_1")
    )
    problems = lint_package(make(bpmn=definitions(process("pbg", body))))
    problem = next(p for p in problems if "not supported" in p.message)
    assert problem.element_id == element_id
    assert word in problem.message


def test_unsupported_list_names_the_known_gaps() -> None:
    for tag in (
        "complexGateway",
        "compensateEventDefinition",
        "linkEventDefinition",
        "choreographyTask",
        "conversation",
        "adHocSubProcess",
        "dataStoreReference",
    ):
        assert tag in UNSUPPORTED_ELEMENTS
    for tag in ("manualTask", "transaction", "eventBasedGateway", "userTask"):
        assert tag not in UNSUPPORTED_ELEMENTS


# ---------------------------------------------------------------- lanes, roles and user tasks


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("pupr.tpa", "pupr.tpa"),
        ("Tim Profesi Ahli [pupr.tpa]", "pupr.tpa"),
        ("Pemohon [applicant]", "applicant"),
        ("applicant", "applicant"),
        (" dpmptsp.front_office ", "dpmptsp.front_office"),
        ("Tim Profesi Ahli", None),
        ("PUPR.TPA", None),
        ("Tim [pupr]", None),
        ("pupr.tpa.extra", None),
        ("", None),
    ],
)
def test_role_from_lane_name(name: str, role: str | None) -> None:
    assert role_from_lane_name(name) == role


def test_user_task_outside_any_lane() -> None:
    only(
        lint_package(
            make(bpmn=definitions(simple_process(lanes=""))),
        ),
        "Task_verifikasi",
        "lane",
    )


def test_lane_without_role() -> None:
    lanes = lane_set(("Lane_x", "Petugas", ["StartEvent_1", "Task_verifikasi", "EndEvent_1"]))
    only(lint_package(make(bpmn=definitions(simple_process(lanes=lanes)))), "Lane_x", "Task_verifikasi", "role")


def test_lane_role_property_must_be_a_role() -> None:
    lanes = lane_set(("Lane_x", "pupr.tpa", ["StartEvent_1", "Task_verifikasi", "EndEvent_1"], props(role="PUPR TPA")))
    problems = lint_package(make(bpmn=definitions(simple_process(lanes=lanes))))
    assert ids(problems) == {"Lane_x"}
    assert any("PUPR TPA" in p.message for p in problems)


def test_lane_bindings_must_be_plain_names() -> None:
    ext = props(bindOrganisation="konsultan", bindUser="data['user']")
    lanes = lane_set(
        ("Lane_k", "Konsultan [konsultan.perencana]", ["StartEvent_1", "Task_verifikasi", "EndEvent_1"], ext)
    )
    only(lint_package(make(bpmn=definitions(simple_process(lanes=lanes)))), "Lane_k", "bindUser")


def test_same_lane_name_with_different_roles() -> None:
    other = process(
        "lain",
        '<bpmn:startEvent id="StartEvent_9"/><bpmn:endEvent id="EndEvent_9"/>' + chain("StartEvent_9", "EndEvent_9"),
        lane_set(
            (
                "Lane_dup",
                "Front Office [dpmptsp.front_office]",
                ["StartEvent_9", "EndEvent_9"],
                props(role="dpmptsp.back_office"),
            )
        ),
    )
    # The name-versus-property warning (engine/lint/roles.py) also fires; this test is about the error.
    problems = [p for p in lint_package(make({"lain.bpmn": definitions(other)})) if p.severity == "error"]
    assert len(problems) == 1
    assert problems[0].element_id in {"Lane_dup", "Lane_fo"}
    assert "Front Office" in problems[0].message
    assert "different role" in problems[0].message


def test_candidate_groups_replace_the_lane() -> None:
    ok = user_task("Task_verifikasi", extra='camunda:candidateGroups="pupr.tpa, dpmptsp.front_office"')
    assert lint_package(make(bpmn=definitions(simple_process(task=ok, lanes="")))) == []
    bad = user_task("Task_verifikasi", extra='camunda:candidateGroups="Admin"')
    only(lint_package(make(bpmn=definitions(simple_process(task=bad, lanes="")))), "Task_verifikasi", "Admin")


def test_nested_task_takes_the_subprocess_lane() -> None:
    sub = (
        '<bpmn:subProcess id="Sub_periksa"><bpmn:startEvent id="StartEvent_s"/>'
        + user_task("Task_dalam")
        + '<bpmn:endEvent id="EndEvent_s"/>'
        + chain("StartEvent_s", "Task_dalam", "EndEvent_s")
        + "</bpmn:subProcess>"
    )
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + sub
        + '<bpmn:endEvent id="EndEvent_1"/>'
        + chain("StartEvent_1", "Sub_periksa", "EndEvent_1")
    )
    lanes = lane_set(("Lane_fo", "dpmptsp.front_office", ["StartEvent_1", "Sub_periksa", "EndEvent_1"]))
    assert lint_package(make(bpmn=definitions(process("pbg", body, lanes)))) == []


@pytest.mark.parametrize(
    ("task", "files", "words"),
    [
        (user_task("Task_verifikasi", form=None), {}, ["formJsonSchemaFilename"]),
        (user_task("Task_verifikasi", form="tidak_ada.schema.json"), {}, ["tidak_ada.schema.json"]),
        (user_task("Task_verifikasi", formUiSchemaFilename="ui.json"), {}, ["ui.json"]),
        (user_task("Task_verifikasi", slaDays="tiga"), {}, ["slaDays"]),
        (user_task("Task_verifikasi", slaDays="0"), {}, ["slaDays"]),
    ],
)
def test_user_task_properties(task: str, files: dict[str, str], words: list[str]) -> None:
    problems = lint_package(make(files, bpmn=definitions(simple_process(task=task))))
    only(problems, "Task_verifikasi", *words)


def test_form_file_must_be_json_and_a_schema() -> None:
    not_json = lint_package(make({"forms/verifikasi.schema.json": "{'type': 'object'}"}))
    assert [(p.file, "not valid JSON" in p.message) for p in not_json] == [("forms/verifikasi.schema.json", True)]
    not_schema = lint_package(make({"forms/verifikasi.schema.json": '{"properties": {"a": {"type": 5}}}'}))
    assert [p.file for p in not_schema] == ["forms/verifikasi.schema.json"]
    assert "properties/a/type" in not_schema[0].message


# ---------------------------------------------------------------- expressions


def script_task(task_id: str) -> str:
    """A neutral flow node: a script task (plain tasks are work items and need a lane)."""
    return f'<bpmn:scriptTask id="{task_id}"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'


def one_step(node: str, node_id: str, extra: str = "", flows: str | None = None) -> bytes:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + node
        + '<bpmn:endEvent id="EndEvent_1"/>'
        + extra
        + (flows if flows is not None else chain("StartEvent_1", node_id, "EndEvent_1"))
    )
    return definitions(process("pbg", body))


@pytest.mark.parametrize(
    ("node", "node_id"),
    [
        ('<bpmn:scriptTask id="Script_x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>', "Script_x"),
        (
            '<bpmn:scriptTask id="Script_x"><bpmn:script>x = __import__("os")</bpmn:script></bpmn:scriptTask>',
            "Script_x",
        ),
        ('<bpmn:scriptTask id="Script_x"><bpmn:script>  </bpmn:script></bpmn:scriptTask>', "Script_x"),
        (
            '<bpmn:task id="Task_x"><bpmn:extensionElements><spiffworkflow:preScript>x = (</spiffworkflow:preScript>'
            "</bpmn:extensionElements></bpmn:task>",
            "Task_x",
        ),
        (
            '<bpmn:task id="Task_x"><bpmn:extensionElements>'
            "<spiffworkflow:postScript>().__class__</spiffworkflow:postScript>"
            "</bpmn:extensionElements></bpmn:task>",
            "Task_x",
        ),
        (
            '<bpmn:task id="Task_x"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>len(</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>",
            "Task_x",
        ),
        (
            '<bpmn:task id="Task_x"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopDataInputRef>berkas[0]</bpmn:loopDataInputRef>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>",
            "Task_x",
        ),
        (
            '<bpmn:task id="Task_x"><bpmn:multiInstanceLoopCharacteristics>'
            "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
            "<bpmn:completionCondition>selesai ==</bpmn:completionCondition>"
            "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>",
            "Task_x",
        ),
        (
            '<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:timeDuration>'
            '"P2X"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
            "Event_t",
        ),
        (
            '<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:timeDate>'
            '"besok pagi"</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
            "Event_t",
        ),
        (
            '<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:timeCycle>'
            '"R3/PT1Q"</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
            "Event_t",
        ),
        (
            '<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:timeDuration>'
            "__import__('os')</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
            "Event_t",
        ),
    ],
)
def test_bad_expressions_name_their_element(node: str, node_id: str) -> None:
    problems = lint_package(make(bpmn=one_step(node, node_id)))
    assert ids(problems) == {node_id}, problems


def test_bad_condition_names_the_flow() -> None:
    gateway = '<bpmn:exclusiveGateway id="Gateway_1" default="Flow_b"/>'
    flows = (
        flow("Flow_a0", "StartEvent_1", "Gateway_1")
        + flow("Flow_a", "Gateway_1", "EndEvent_1", "luas &gt;")
        + flow("Flow_b", "Gateway_1", "EndEvent_1")
    )
    only(lint_package(make(bpmn=one_step(gateway, "Gateway_1", flows=flows))), "Flow_a")


@pytest.mark.parametrize("value", ["PT1H", "P2D", "R3/PT1H", "2026-12-01T09:00:00+07:00"])
def test_unquoted_timer_gets_a_hint(value: str) -> None:
    node = (
        f'<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:timeDuration>'
        f"{value}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    problem = only(lint_package(make(bpmn=one_step(node, "Event_t"))), "Event_t")
    assert f'"{value}"' in problem.message
    assert "quoted" in problem.message


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("timeDuration", '"PT1H30M"'),
        ("timeDuration", "batas_hari"),
        ("timeDate", '"2026-12-01T09:00:00+07:00"'),
        ("timeCycle", '"R3/PT1H"'),
        ("timeCycle", '"R/2026-12-01T09:00:00+07:00/P1D"'),
    ],
)
def test_good_timers_pass(kind: str, value: str) -> None:
    node = (
        f'<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:{kind}>'
        f"{value}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    assert lint_package(make(bpmn=one_step(node, "Event_t"))) == []


def test_timer_date_without_offset_means_wib() -> None:
    node = (
        '<bpmn:intermediateCatchEvent id="Event_t"><bpmn:timerEventDefinition id="T1"><bpmn:timeDate>'
        '"2026-12-01T09:00:00"</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
    )
    assert lint_package(make(bpmn=one_step(node, "Event_t"))) == []


def test_message_correlation_expression() -> None:
    messages = (
        '<bpmn:message id="Message_bayar" name="pembayaran"/>'
        '<bpmn:correlationProperty id="Corr_nomor" name="nomor">'
        '<bpmn:correlationPropertyRetrievalExpression messageRef="Message_bayar">'
        "<bpmn:formalExpression>nomor[</bpmn:formalExpression>"
        "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"
    )
    node = (
        '<bpmn:intermediateCatchEvent id="Event_bayar"><bpmn:messageEventDefinition id="M1" '
        'messageRef="Message_bayar"/></bpmn:intermediateCatchEvent>'
    )
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + node
        + '<bpmn:endEvent id="EndEvent_1"/>'
        + chain("StartEvent_1", "Event_bayar", "EndEvent_1")
    )
    problems = lint_package(make(bpmn=definitions(messages, process("pbg", body))))
    only(problems, "Corr_nomor", "correlation")


def _dmn(input_expr: str = "luas_bangunan", entry: str = "&lt; 100", output: str = "10000") -> bytes:
    return (
        DMN.decode()
        .replace("<text>luas_bangunan</text>", f"<text>{input_expr}</text>")
        .replace("<text>&lt; 100</text>", f"<text>{entry}</text>")
        .replace("<text>10000</text>", f"<text>{output}</text>")
        .encode()
    )


@pytest.mark.parametrize(
    ("dmn", "element_id"),
    [
        (_dmn(input_expr="luas bangunan"), "Input_luas"),
        (_dmn(entry="&gt; &gt; 5"), "InputEntry_kecil"),
        (_dmn(output="__import__('os')"), "OutputEntry_kecil"),
    ],
)
def test_bad_dmn_cells(dmn: bytes, element_id: str) -> None:
    problems = lint_package(rich_package(**{"retribusi.dmn": dmn}))
    only(problems, element_id)
    assert all(p.file == "retribusi.dmn" for p in problems)


@pytest.mark.parametrize("entry", ["-", "", "&gt;= 100", '"A"', "? &gt; 5", "[1, 2]"])
def test_dmn_input_entries_that_are_fine(entry: str) -> None:
    assert lint_package(rich_package(**{"retribusi.dmn": _dmn(entry=entry)})) == []


def test_business_rule_task_needs_a_known_decision() -> None:
    bpmn = rich_bpmn().replace(b">Decision_tarif<", b">Decision_hilang<")
    only(lint_package(rich_package(**{"process.bpmn": bpmn})), "Task_tarif", "Decision_hilang")


# ---------------------------------------------------------------- call activities


def test_call_activity_to_unknown_process() -> None:
    only(lint_package(rich_package(**{"terbit.bpmn": b""})), "Call_terbit", "terbitkan_dokumen")


def caller(pid: str, calls: str, n: int) -> str:
    body = (
        f'<bpmn:startEvent id="StartEvent_{n}"/><bpmn:callActivity id="Call_{n}" calledElement="{calls}"/>'
        f'<bpmn:endEvent id="EndEvent_{n}"/>' + chain(f"StartEvent_{n}", f"Call_{n}", f"EndEvent_{n}")
    )
    return process(pid, body)


def test_call_cycles_are_refused() -> None:
    self_call = lint_package(make(bpmn=definitions(caller("pbg", "pbg", 1))))
    only(self_call, "Call_1", "pbg → pbg")
    cycle = lint_package(
        make(bpmn=definitions(caller("pbg", "arsip", 1)), files={"arsip.bpmn": definitions(caller("arsip", "pbg", 2))})
    )
    assert ids(cycle) == {"Call_1", "Call_2"}
    assert any("pbg → arsip → pbg" in p.message for p in cycle)


# ---------------------------------------------------------------- reachability


def test_unreachable_and_dead_end_nodes() -> None:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + script_task("Task_a") + script_task("Task_yatim")
        + script_task("Task_buntu") + '<bpmn:parallelGateway id="Gateway_p"/><bpmn:endEvent id="EndEvent_1"/>'
        + chain("StartEvent_1", "Gateway_p", "Task_a", "EndEvent_1")
        + flow("Flow_buntu", "Gateway_p", "Task_buntu")
        + flow("Flow_yatim", "Task_yatim", "EndEvent_1")
    )
    problems = lint_package(make(bpmn=definitions(process("pbg", body))))
    assert ids(problems) == {"Task_yatim", "Task_buntu"}
    assert "cannot be reached" in only(problems, "Task_yatim").message
    assert "no path to an end event" in only(problems, "Task_buntu").message


def test_boundary_events_and_event_subprocesses_count() -> None:
    event_sub = (
        '<bpmn:subProcess id="Sub_batal" triggeredByEvent="true"><bpmn:startEvent id="StartEvent_b">'
        '<bpmn:messageEventDefinition id="Msg_b"/></bpmn:startEvent><bpmn:endEvent id="EndEvent_b"/>'
        + chain("StartEvent_b", "EndEvent_b")
        + "</bpmn:subProcess>"
    )
    boundary = (
        '<bpmn:boundaryEvent id="Event_lewat" attachedToRef="Task_a"><bpmn:timerEventDefinition id="T1">'
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
    )
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>' + script_task("Task_a")
        + boundary
        + event_sub
        + '<bpmn:endEvent id="EndEvent_1"/><bpmn:endEvent id="EndEvent_2"/>'
        + chain("StartEvent_1", "Task_a", "EndEvent_1")
        + flow("Flow_lewat", "Event_lewat", "EndEvent_2")
    )
    problems = lint_package(make(bpmn=definitions(process("pbg", body))))
    # The event sub-process is refused (the engine does not run them), but nothing in it is "unreachable".
    assert [(p.element_id, p.severity) for p in problems] == [("Sub_batal", "error")]
    assert "event sub-processes are not run reliably" in problems[0].message
    dead_boundary = body.replace(flow("Flow_lewat", "Event_lewat", "EndEvent_2"), "")
    problems = lint_package(make(bpmn=definitions(process("pbg", dead_boundary))))
    assert ids(problems) == {"Event_lewat", "EndEvent_2", "Sub_batal"}


def test_nodes_inside_a_subprocess_are_checked_there() -> None:
    sub = (
        '<bpmn:subProcess id="Sub_1"><bpmn:startEvent id="StartEvent_s"/><bpmn:task id="Task_s"/>'
        '<bpmn:endEvent id="EndEvent_s"/>' + flow("Flow_s", "StartEvent_s", "EndEvent_s") + "</bpmn:subProcess>"
    )
    bpmn = one_step(sub, "Sub_1")
    problems = lint_package(make(bpmn=bpmn))
    assert ids(problems) == {"Task_s"}


# ---------------------------------------------------------------- SpiffWorkflow's own parser, and everything at once


def test_spiffworkflow_parser_problems_are_reported() -> None:
    gateway = '<bpmn:exclusiveGateway id="Gateway_1"/>'
    flows = (
        flow("Flow_a0", "StartEvent_1", "Gateway_1")
        + flow("Flow_a", "Gateway_1", "EndEvent_1", "x &gt; 1")
        + flow("Flow_b", "Gateway_1", "EndEvent_1")
    )
    problems = lint_package(make(bpmn=one_step(gateway, "Gateway_1", flows=flows)))
    problem = only(problems, "Flow_b", "SpiffWorkflow")
    assert problem.file == "process.bpmn"


def test_schema_violations_are_warnings() -> None:
    bpmn = definitions(simple_process()).replace(
        b'<bpmn:laneSet id="LaneSet_1">', b'<bpmn:laneSet id="LaneSet_1" x="1">'
    )
    problems = lint_package(make(bpmn=bpmn))
    assert [p.severity for p in problems] == ["warning"]
    assert "schema" in problems[0].message


def test_every_problem_is_reported_not_just_the_first() -> None:
    body = (
        '<bpmn:startEvent id="StartEvent_1"/>'
        + user_task("Task_tanpa_form", form=None)  # 1. no form
        + '<bpmn:scriptTask id="Script_jahat"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'  # 2.
        + '<bpmn:complexGateway id="Gateway_rumit"/>'  # 3. unsupported
        + '<bpmn:scriptTask id="Task_yatim"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>'  # 4. unreachable
        + '<bpmn:callActivity id="Call_hilang" calledElement="tidak_ada"/>'  # 5. unknown process
        + '<bpmn:endEvent id="EndEvent_1"/>'
        + chain("StartEvent_1", "Task_tanpa_form", "Script_jahat", "Gateway_rumit", "Call_hilang", "EndEvent_1")
        + flow("Flow_yatim", "Task_yatim", "EndEvent_1")
    )
    lanes = lane_set(("Lane_fo", "dpmptsp.front_office", ["Task_tanpa_form"]))
    problems = lint_package(make(bpmn=definitions(process("pbg", body, lanes))))
    assert ids(problems) == {"Task_tanpa_form", "Script_jahat", "Gateway_rumit", "Task_yatim", "Call_hilang"}
    assert all(p.file == "process.bpmn" and p.severity == "error" for p in problems)
    assert not any("cannot load" in p.message for p in problems)  # SpiffWorkflow's parser runs on clean packages only


# ---------------------------------------------------------------- smaller structural rules


def test_duplicate_process_ids_across_files() -> None:
    problems = lint_package(make({"salinan.bpmn": definitions(simple_process().replace("Lane_fo", "Lane_fo2"))}))
    assert any(p.element_id == "pbg" and "also defined" in p.message for p in problems)


def test_innermost_lane_decides_the_role() -> None:
    child = (
        '<bpmn:childLaneSet id="LaneSet_2"><bpmn:lane id="Lane_anak" name="Petugas">'
        "<bpmn:flowNodeRef>Task_verifikasi</bpmn:flowNodeRef></bpmn:lane></bpmn:childLaneSet>"
    )
    lanes = (
        '<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_induk" name="dpmptsp.front_office">'
        "<bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_verifikasi</bpmn:flowNodeRef>"
        f"<bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>{child}</bpmn:lane></bpmn:laneSet>"
    )
    only(lint_package(make(bpmn=definitions(simple_process(lanes=lanes)))), "Lane_anak", "Petugas")


def test_dmn_structure() -> None:
    two = DMN.replace(b"</definitions>", b'<decision id="Decision_dua"/></definitions>')
    problems = lint_package(rich_package(**{"retribusi.dmn": two}))
    assert any(p.file == "retribusi.dmn" and "exactly one decision" in p.message for p in problems)
    assert "Decision_dua" in ids(problems)  # and it has no decision table
    extra_cell = DMN.replace(
        b'<inputEntry id="InputEntry_kecil">',
        b'<inputEntry id="InputEntry_lebih"><text>-</text></inputEntry><inputEntry id="InputEntry_kecil">',
    )
    only(lint_package(rich_package(**{"retribusi.dmn": extra_cell})), "Rule_kecil", "2 input cells")


def test_business_rule_task_without_decision_reference() -> None:
    node = '<bpmn:businessRuleTask id="Task_aturan"/>'
    only(lint_package(make(bpmn=one_step(node, "Task_aturan"))), "Task_aturan", "calledDecisionId")


def test_unbounded_standard_loop_is_a_warning() -> None:
    node = (
        '<bpmn:scriptTask id="Task_ulang"><bpmn:standardLoopCharacteristics>'
        "<bpmn:loopCondition>belum_selesai</bpmn:loopCondition>"
        "</bpmn:standardLoopCharacteristics><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>"
    )
    problems = lint_package(make(bpmn=one_step(node, "Task_ulang")))
    assert [(p.severity, p.element_id) for p in problems] == [("warning", "Task_ulang")]


def test_compensation_activity_refused() -> None:
    node = '<bpmn:task id="Task_balik" isForCompensation="true"/>'
    assert "Task_balik" in ids(lint_package(make(bpmn=one_step(node, "Task_balik"))))


def test_form_paths_follow_the_runtime_lookup() -> None:
    prefixed = user_task("Task_verifikasi", form="forms/verifikasi.schema.json")
    only(lint_package(make(bpmn=definitions(simple_process(task=prefixed)))), "Task_verifikasi", "relative to forms/")
    service = SERVICE.replace('"forms/application.schema.json"', '"application.schema.json"')
    assert any("start_form" in p.message for p in lint_package(make(service=service)))


def test_every_form_file_must_be_json() -> None:
    problems = lint_package(make({"forms/lama.schema.json": "{bukan json"}))
    assert [(p.file, "not valid JSON" in p.message) for p in problems] == [("forms/lama.schema.json", True)]


def test_unnamed_lane_routes_nothing() -> None:
    lanes = lane_set(("Lane_x", "", ["StartEvent_1", "Task_verifikasi", "EndEvent_1"], props(role="pupr.tpa")))
    only(lint_package(make(bpmn=definitions(simple_process(lanes=lanes)))), "Lane_x", "no name")

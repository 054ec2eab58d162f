"""Lint rules for diagrams drawn for other engines (Camunda 7 and 8, SpiffArena) and for shapes
SpiffWorkflow's parser refuses with an unhelpful error.

Each message says, in English and Bahasa Indonesia, what is wrong, on which element, and what
to write instead. The rules run before SpiffWorkflow's parser so that the analyst reads these
sentences instead of the parser's first complaint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.bpmn.conventions import ACTIVITIES, BPMN_NS, CAMUNDA_NS, NSMAP
from engine.catalogue.package import Package, from_files
from engine.errors import Problem

Checker = Callable[[str], "str | None"]
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"

# Indonesian names of the places an expression is read (engine.lint.diagram.EXPRESSION_SITES).
SITE_NAMES_ID = {
    "condition": "kondisi",
    "script": "skrip",
    "pre-script": "pra-skrip",
    "post-script": "pasca-skrip",
    "timeDuration": "timeDuration",
    "timeDate": "timeDate",
    "timeCycle": "timeCycle",
    "loop cardinality": "kardinalitas perulangan",
    "loop input collection": "koleksi masukan perulangan",
    "loop output collection": "koleksi keluaran perulangan",
    "completion condition": "kondisi selesai",
    "loop condition": "kondisi perulangan",
    "event condition": "kondisi event",
    "message payload": "muatan pesan",
    "message variable": "variabel pesan",
    "correlation expression": "ekspresi korelasi",
    "payload expression": "ekspresi muatan",
    "variable name": "nama variabel",
}

PLATFORM_SERVICE_EN = (
    "a service task here names an operation the platform provides, with "
    '<spiffworkflow:serviceTaskOperator id="agency.operation"> and its parameters '
    "(e.g. disdukcapil.serahkan); the platform queues the call and the partner answers with a message"
)
PLATFORM_SERVICE_ID = (
    "di sini service task menyebut operasi yang disediakan platform, dengan "
    '<spiffworkflow:serviceTaskOperator id="instansi.operasi"> beserta parameternya '
    "(mis. disdukcapil.serahkan); platform mengantrekan panggilan dan mitra menjawab dengan pesan"
)


def _problem(file: str, where: str | None, english: str, indonesian: str) -> Problem:
    return Problem(file, where, english, "error", indonesian)


# ---------------------------------------------------------------- Camunda expressions

_JUEL = re.compile(r"^\s*[$#]\{(?P<body>.*)\}\s*$", re.DOTALL)
_STRING = re.compile(r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")
_JUEL_WORDS = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "ge": ">=",
    "lt": "<",
    "le": "<=",
    "div": "/",
    "mod": "%",
    "null": "None",
    "true": "True",
    "false": "False",
    "empty": "not",
}
_FEEL_WORDS = {"null": "None", "true": "True", "false": "False"}


def _outside_strings(text: str, change: Callable[[str], str]) -> str:
    """Apply change to the parts of an expression that are not string literals."""
    parts = _STRING.split(text)
    return "".join(part if index % 2 else change(part) for index, part in enumerate(parts))


def _juel_to_python(body: str) -> str:
    def change(code: str) -> str:
        code = code.replace("&&", " and ").replace("||", " or ")
        code = re.sub(r"!(?!=)", " not ", code)
        return re.sub(r"\b(\w+)\b", lambda m: _JUEL_WORDS.get(m.group(1), m.group(1)), code)

    return " ".join(_outside_strings(body, change).split())


def _feel_to_python(body: str) -> str:
    def change(code: str) -> str:
        code = re.sub(r"(?<![<>=!])=(?!=)", "==", code)
        return re.sub(r"\b(\w+)\b", lambda m: _FEEL_WORDS.get(m.group(1), m.group(1)), code)

    return " ".join(_outside_strings(body, change).split())


def _suggestion(python: str, check: Checker, fallback: str) -> str:
    return python if python and check(python) is None else fallback


def _dialect(text: str, check: Checker, fallback: str) -> tuple[str, str, str] | None:
    """Return (language in English, in Indonesian, Python example) for Camunda JUEL or FEEL text."""
    juel = _JUEL.match(text)
    if juel:
        example = _suggestion(_juel_to_python(juel.group("body")), check, fallback)
        return "Camunda expression language (JUEL)", "bahasa ekspresi Camunda (JUEL)", example
    stripped = text.strip()
    if stripped.startswith("=") and not stripped.startswith("=="):
        example = _suggestion(_feel_to_python(stripped[1:]), check, fallback)
        return "Camunda 8 FEEL (an expression starting with =)", "FEEL Camunda 8 (ekspresi diawali =)", example
    return None


def foreign_expression(what: str, where: str | None, text: str, check: Checker) -> tuple[str, str] | None:
    """Return (English, Indonesian) when an expression is Camunda JUEL (`${...}`) or FEEL (`=...`)."""
    found = _dialect(text, check, "amount > 100")
    if found is None:
        return None
    language, language_id, example = found
    what_id = SITE_NAMES_ID.get(what, what)
    return (
        f"{what} of '{where}': {language} is not supported: write the {what} in Python, e.g. {example}",
        f"{what_id} pada '{where}': {language_id} tidak didukung: tulis {what_id} dalam Python, mis. {example}",
    )


# ---------------------------------------------------------------- timers

_CRON_FIELD = r"[0-9*?/,LW#A-Za-z-]+"
_CRON = re.compile(rf"^{_CRON_FIELD}(?:\s+{_CRON_FIELD}){{4,6}}$")


def is_cron(text: str) -> bool:
    """Tell whether a timer value is a cron expression (Quartz or Unix style) rather than ISO-8601."""
    value = text.strip().strip("\"'")
    return bool(_CRON.match(value)) and any(c.isdigit() or c in "*?" for c in value)


def timer_problem(file: str, where: str | None, kind: str, text: str, check: Checker) -> Problem | None:
    """Return the problem of a timer written for another engine (JUEL, FEEL, cron), or None."""
    found = _dialect(text, check, '"P2D"')
    if found is not None:
        language, language_id, example = found
        return _problem(
            file,
            where,
            f"the timer of '{where}': {kind} {text.strip()} is written in {language}, which is not supported: "
            f'write it in Python, e.g. {example} (a data field holding an ISO-8601 value, or a quoted "P2D")',
            f"timer pada '{where}': {kind} {text.strip()} ditulis dalam {language_id}, yang tidak didukung: "
            f'tulis dalam Python, mis. {example} (field data berisi nilai ISO-8601, atau "P2D" berkutip)',
        )
    if is_cron(text):
        value = text.strip()
        return _problem(
            file,
            where,
            f"the timer of '{where}': {kind} {value} is a cron expression, which is not supported: "
            'write an ISO-8601 repeating interval as a quoted string, e.g. "R/P1D" (every day) or '
            '"R/2026-01-05T09:00:00+07:00/P1D" (every day at 09:00 WIB), or a quoted timeDate',
            f"timer pada '{where}': {kind} {value} adalah ekspresi cron, yang tidak didukung: "
            'tulis interval berulang ISO-8601 sebagai string berkutip, mis. "R/P1D" (setiap hari) atau '
            '"R/2026-01-05T09:00:00+07:00/P1D" (setiap hari pukul 09.00 WIB), atau timeDate berkutip',
        )
    return None


def unquoted_timer_problem(file: str, where: str | None, kind: str, text: str) -> Problem:
    """Return the problem of an ISO-8601 timer value written without quotes."""
    return _problem(
        file,
        where,
        f"the timer of '{where}': {kind} {text} must be a quoted string, "
        f'e.g. "{text}" (timer values are Python expressions)',
        f"timer pada '{where}': {kind} {text} harus berupa string berkutip, "
        f'mis. "{text}" (nilai timer adalah ekspresi Python)',
    )


# ---------------------------------------------------------------- script tasks

PYTHON_FORMATS = ("python", "python3", "py", "text/x-python")


def script_task_problems(file: str, root: Any, check_script: Checker) -> list[Problem]:
    """Check each script task: Python, written in the task, and valid for the sandbox."""
    out: list[Problem] = []
    for task in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        task_id = task.get("id")
        resource = task.get(f"{{{CAMUNDA_NS}}}resource")
        fmt = (task.get("scriptFormat") or "").strip()
        script = task.find(f"{{{BPMN_NS}}}script")
        body = script.text or "" if script is not None else ""
        if resource:
            out.append(
                _problem(
                    file,
                    task_id,
                    f"script task '{task_id}' loads its script from camunda:resource=\"{resource}\": "
                    "external script files are not supported; write the Python script in the task itself",
                    f"script task '{task_id}' memuat skripnya dari camunda:resource=\"{resource}\": "
                    "berkas skrip eksternal tidak didukung; tulis skrip Python di dalam task itu sendiri",
                )
            )
        elif fmt and fmt.lower() not in PYTHON_FORMATS:
            out.append(
                _problem(
                    file,
                    task_id,
                    f"script task '{task_id}' is written in {fmt}: scripts here are Python, run in the "
                    "platform's sandbox; rewrite the script in Python and set scriptFormat to python",
                    f"script task '{task_id}' ditulis dalam {fmt}: skrip di sini adalah Python yang dijalankan "
                    "di sandbox platform; tulis ulang skrip dalam Python dan isi scriptFormat dengan python",
                )
            )
        elif not body.strip():
            out.append(
                _problem(
                    file,
                    task_id,
                    f"script task '{task_id}': the script is empty; write the Python script in the task",
                    f"script task '{task_id}': skripnya kosong; tulis skrip Python di dalam task",
                )
            )
        elif error := check_script(body):
            out.append(Problem(file, task_id, f"script of '{task_id}': {error}"))
    return out


# ---------------------------------------------------------------- service tasks

_CAMUNDA_IMPLEMENTATIONS = (
    ("class", "Java classes"),
    ("delegateExpression", "Java delegate expressions"),
    ("expression", "Java expressions"),
)
_IMPLEMENTATIONS_ID = {
    "Java classes": "kelas Java",
    "Java delegate expressions": "ekspresi delegate Java",
    "Java expressions": "ekspresi Java",
    "external task workers": "pekerja external task",
    "Camunda connectors": "konektor Camunda",
    "Camunda 8 job workers": "job worker Camunda 8",
}
# (label, fix in English, fix in Indonesian) by task type.
_TASK_FIXES = {
    "serviceTask": ("service task", PLATFORM_SERVICE_EN, PLATFORM_SERVICE_ID),
    "sendTask": (
        "send task",
        "remove it: a send task sends the bpmn:message named by its messageRef by itself",
        "hapus: send task mengirim bpmn:message yang disebut messageRef-nya dengan sendirinya",
    ),
    "businessRuleTask": (
        "business rule task",
        "remove it: a business rule task runs the DMN decision named by spiffworkflow:calledDecisionId",
        "hapus: business rule task menjalankan keputusan DMN yang disebut spiffworkflow:calledDecisionId",
    ),
    "scriptTask": (
        "script task",
        "remove it and write the script in Python in the task",
        "hapus dan tulis skripnya dalam Python di dalam task",
    ),
}
_TASKS = tuple(_TASK_FIXES)


def _foreign_implementation(task: Any) -> tuple[str, str] | None:
    """Return (what the task uses, what kind of thing it is) for a Camunda implementation."""
    for attribute, kind in _CAMUNDA_IMPLEMENTATIONS:
        value = task.get(f"{{{CAMUNDA_NS}}}{attribute}")
        if value:
            return f'camunda:{attribute}="{value}"', kind
    if task.get(f"{{{CAMUNDA_NS}}}type") == "external":
        topic = task.get(f"{{{CAMUNDA_NS}}}topic") or ""
        return f'camunda:type="external" (topic "{topic}")', "external task workers"
    connector = task.find(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}connector")
    if connector is not None:
        name = (connector.findtext(f"{{{CAMUNDA_NS}}}connectorId") or "").strip()
        return f"camunda:connector {name}".strip(), "Camunda connectors"
    job = task.find(f"{{{BPMN_NS}}}extensionElements/{{{ZEEBE_NS}}}taskDefinition")
    if job is not None:
        return f'zeebe:taskDefinition type="{job.get("type", "")}"', "Camunda 8 job workers"
    return None


def service_task_problems(file: str, root: Any) -> list[Problem]:
    """Report Camunda implementations (Java, external workers, connectors) and operator-less service tasks."""
    out: list[Problem] = []
    for task in root.iter(*(f"{{{BPMN_NS}}}{local}" for local in _TASKS)):
        task_id, local = task.get("id"), task.tag.rsplit("}", 1)[1]
        found = _foreign_implementation(task)
        has_operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NSMAP) is not None
        if found is not None:
            uses, kind = found
            label, fix_en, fix_id = _TASK_FIXES[local]
            out.append(
                _problem(
                    file,
                    task_id,
                    f"{label} '{task_id}' uses {uses}: {kind} are not available on this platform; {fix_en}",
                    f"{label} '{task_id}' memakai {uses}: {_IMPLEMENTATIONS_ID[kind]} tidak tersedia di "
                    f"platform ini; {fix_id}",
                )
            )
        elif local == "serviceTask" and not has_operator:
            out.append(
                _problem(
                    file,
                    task_id,
                    f"service task '{task_id}' names no operation; {PLATFORM_SERVICE_EN}",
                    f"service task '{task_id}' tidak menyebut operasi; {PLATFORM_SERVICE_ID}",
                )
            )
    return out


# ---------------------------------------------------------------- multi-instance


def multi_instance_problems(file: str, root: Any) -> list[Problem]:
    """Report multi-instance activities that say neither how many times nor over which collection."""
    out: list[Problem] = []
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        owner = loop.getparent()
        where = owner.get("id") if owner is not None else None
        if loop.find(f"{{{BPMN_NS}}}loopCardinality") is not None:
            continue
        if loop.find(f"{{{BPMN_NS}}}loopDataInputRef") is not None:
            continue
        collection = loop.get(f"{{{CAMUNDA_NS}}}collection")
        if collection:
            item = loop.get(f"{{{CAMUNDA_NS}}}elementVariable") or "item"
            name = _JUEL.match(collection)
            plain = name.group("body").strip() if name else collection
            out.append(
                _problem(
                    file,
                    where,
                    f"multi-instance '{where}' uses camunda:collection=\"{collection}\", which is not read here: "
                    f"set the loop input collection (bpmn:loopDataInputRef) to {plain} and the input data item "
                    f"(bpmn:inputDataItem) to {item}",
                    f"multi-instance '{where}' memakai camunda:collection=\"{collection}\", yang tidak dibaca di "
                    f"sini: isi koleksi masukan perulangan (bpmn:loopDataInputRef) dengan {plain} dan item data "
                    f"masukan (bpmn:inputDataItem) dengan {item}",
                )
            )
        else:
            out.append(
                _problem(
                    file,
                    where,
                    f"multi-instance '{where}' says neither how many times it runs (loopCardinality) nor over "
                    "which collection (loopDataInputRef); set one of them",
                    f"multi-instance '{where}' tidak menyebut berapa kali dijalankan (loopCardinality) maupun "
                    "atas koleksi apa (loopDataInputRef); isi salah satunya",
                )
            )
    return out


# ---------------------------------------------------------------- shapes SpiffWorkflow refuses

_SPLITTERS = frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway", "startEvent"}
)
_WAITING_EVENTS = (
    "messageEventDefinition",
    "timerEventDefinition",
    "signalEventDefinition",
    "conditionalEventDefinition",
)


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def shape_problems(file: str, root: Any) -> list[Problem]:
    """Report flow shapes SpiffWorkflow cannot build: splits without gateways, misplaced events."""
    nodes = {n.get("id"): n for n in root.iter() if n.get("id") and isinstance(n.tag, str)}
    outgoing: dict[str, list[Any]] = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
    out: list[Problem] = []
    for node_id, flows in outgoing.items():
        node = nodes.get(node_id)
        if node is None or split_ns(node) != BPMN_NS:
            continue
        local = _local(node)
        if local == "eventBasedGateway":
            out += _event_gateway_problems(file, node_id, flows, nodes)
        elif len(flows) > 1 and local not in _SPLITTERS:
            names = ", ".join(str(f.get("id")) for f in flows)
            out.append(
                _problem(
                    file,
                    node_id,
                    f"'{node_id}' ({local}) has {len(flows)} outgoing sequence flows ({names}): only gateways and "
                    f"start events may split the flow; draw one flow to an exclusive, inclusive or parallel "
                    f"gateway after '{node_id}' and split there",
                    f"'{node_id}' ({local}) memiliki {len(flows)} sequence flow keluar ({names}): hanya gateway "
                    f"dan start event yang boleh memecah alur; tarik satu alur ke gateway eksklusif, inklusif "
                    f"atau paralel setelah '{node_id}' dan pecah di sana",
                )
            )
    return out + _boundary_problems(file, root, nodes)


def split_ns(element: Any) -> str | None:
    """Return the namespace of an element's tag."""
    tag = element.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else None


def _event_gateway_problems(file: str, gateway: str, flows: list[Any], nodes: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    for flow in flows:
        target_id = flow.get("targetRef", "")
        target = nodes.get(target_id)
        if target is None:
            continue  # the flow checks report a missing end
        local = _local(target)
        waits = local == "receiveTask" or (
            local == "intermediateCatchEvent"
            and any(target.find(f"{{{BPMN_NS}}}{d}") is not None for d in _WAITING_EVENTS)
        )
        if not waits:
            out.append(
                _problem(
                    file,
                    gateway,
                    f"event-based gateway '{gateway}' leads to '{target_id}' ({local}): an event-based gateway "
                    "must be followed only by intermediate catch events (message, timer, signal, conditional) "
                    f"or receive tasks; put a catch event between '{gateway}' and '{target_id}'",
                    f"gateway berbasis event '{gateway}' mengarah ke '{target_id}' ({local}): gateway berbasis "
                    "event hanya boleh diikuti intermediate catch event (pesan, timer, sinyal, kondisional) "
                    f"atau receive task; sisipkan catch event di antara '{gateway}' dan '{target_id}'",
                )
            )
    return out


def _boundary_problems(file: str, root: Any, nodes: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    for event in root.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        event_id, host_id = event.get("id"), (event.get("attachedToRef") or "").strip()
        host = nodes.get(host_id)
        if host is not None and _local(host) in ACTIVITIES:
            continue
        if host is None:
            en = f"boundary event '{event_id}' is attached to nothing ('{host_id}' is no element of this file)"
            idn = f"boundary event '{event_id}' tidak menempel pada apa pun ('{host_id}' tidak ada di berkas ini)"
        else:
            en = f"boundary event '{event_id}' is attached to '{host_id}' ({_local(host)})"
            idn = f"boundary event '{event_id}' menempel pada '{host_id}' ({_local(host)})"
        out.append(
            _problem(
                file,
                event_id,
                f"{en}: boundary events can only sit on tasks, sub-processes and call activities; "
                "attach it to one of them",
                f"{idn}: boundary event hanya dapat menempel pada task, sub-proses dan call activity; "
                "tempelkan pada salah satunya",
            )
        )
    return out


# ---------------------------------------------------------------- data objects


def data_association_problems(file: str, root: Any) -> list[Problem]:
    """Report data associations whose reference leads to no data object."""
    objects = {o.get("id") for o in root.iter(f"{{{BPMN_NS}}}dataObject")}
    refs = {r.get("id"): r for r in root.iter(f"{{{BPMN_NS}}}dataObjectReference")}
    stores = {r.get("id") for r in root.iter(f"{{{BPMN_NS}}}dataStoreReference")}
    out: list[Problem] = []
    paths = (
        ("dataInputAssociation", "sourceRef", "reads", "membaca"),
        ("dataOutputAssociation", "targetRef", "writes", "menulis"),
    )
    for association, end, verb, verb_id in paths:
        for ref in root.iter(f"{{{BPMN_NS}}}{association}"):
            task = ref.getparent()
            task_id = task.get("id") if task is not None else None
            for node in ref.findall(f"{{{BPMN_NS}}}{end}"):
                name = (node.text or "").strip()
                if name in stores:
                    continue  # reported as an unsupported data store
                target = refs.get(name)
                if target is not None and target.get("dataObjectRef") in objects:
                    continue
                data_object = target.get("dataObjectRef") if target is not None else None
                why_en = (
                    f"its data object '{data_object}' does not exist"
                    if target is not None
                    else "it is no data object reference of this file"
                )
                why_id = (
                    f"objek datanya '{data_object}' tidak ada"
                    if target is not None
                    else "itu bukan referensi objek data di berkas ini"
                )
                out.append(
                    _problem(
                        file,
                        task_id,
                        f"'{task_id}' {verb} data '{name}', but {why_en}; point the association at a "
                        "data object reference whose data object is in the process",
                        f"'{task_id}' {verb_id} data '{name}', tetapi {why_id}; arahkan asosiasi ke referensi "
                        "objek data yang objek datanya ada di proses",
                    )
                )
    return out


def foreign_problems(file: str, root: Any, check_script: Checker) -> list[Problem]:
    """Run every rule of this module on one BPMN document."""
    return [
        *script_task_problems(file, root, check_script),
        *service_task_problems(file, root),
        *multi_instance_problems(file, root),
        *shape_problems(file, root),
        *data_association_problems(file, root),
    ]


def first_process_id(root: Any) -> str | None:
    """Return the id of the first executable process of a diagram, else of its first process."""
    processes = root.findall(f"{{{BPMN_NS}}}process")
    for process in processes:
        if process.get("isExecutable") == "true" and process.get("id"):
            return str(process.get("id"))
    return str(processes[0].get("id")) if processes and processes[0].get("id") else None


# ---------------------------------------------------------------- a bare diagram as a package

DIAGRAM_SERVICE = """key = "{key}"
agency = "mpp"
name = {{ id = "Diagram", en = "Diagram" }}
product = {{ id = "Diagram", en = "Diagram" }}
sla_days = 1
channels = ["daring"]
requirements = []

[[agencies]]
code = "mpp"
kind = "city_office"
name = {{ id = "MPP", en = "MPP" }}
"""


def diagram_package(name: str, raw: bytes) -> Package:
    """Wrap one .bpmn file as a package, with a generated service.toml keyed on its first process."""
    from engine.bpmn.xmlsafe import parse_xml

    try:
        key = first_process_id(parse_xml(raw, filename=name)) or "main"
    except Exception:  # lint itself reports why the file cannot be read
        key = "main"
    return from_files({"service.toml": DIAGRAM_SERVICE.format(key=key).encode(), name: raw}, source=name)


def diagram_problems(problems: list[Problem], name: str) -> list[Problem]:
    """Keep the problems of the diagram itself: drop those about files the analyst did not write.

    Dropped: everything about the generated service.toml and the package as a whole, and
    "form file ... is not in the package" (a bare diagram brings no forms). Kept: every problem
    located in the diagram, including a user task that names no form at all.
    """
    return [p for p in problems if p.file == name and "is not in the package (expected forms/" not in p.message]

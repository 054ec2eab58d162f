"""Check a process package against the platform's conventions before it is deployed.

`lint_package` reports every problem it finds instead of stopping at the first, so a modeller
can fix a whole package in one round. SpiffWorkflow's own parser runs last, and only when the
other checks found no error, because it stops at its first complaint and would repeat theirs.
Rules on diagram content (expressions, flows, calls) live in `engine.lint.diagram`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.bpmn import conventions as cv
from engine.bpmn.conventions import BPMN_NS, CAMUNDA_NS, NSMAP, UNSUPPORTED_ELEMENTS
from engine.bpmn.load import load_problems
from engine.catalogue import standard_components as components
from engine.catalogue.package import Package
from engine.documents.spec import document_problems
from engine.errors import Problem, UnsafeXml
from engine.lint.connector_paths import connector_error_codes, connector_path_problems
from engine.lint.connectors import connector_problems
from engine.lint.data import data_problems
from engine.lint.diagram import (
    bpmn_tag,
    call_problems,
    dmn_problems,
    element_ref,
    expression_problems,
    owner_ref,
    reachability_problems,
    split_tag,
)
from engine.lint.events import event_problems
from engine.lint.forms import form_file_problems
from engine.lint.personal import personal_problems
from engine.lint.roles import role_problems
from engine.lint.signing import signing_problems
from engine.lint.sla_limit import sla_limit_problems
from engine.lint.text import localize
from engine.notify.templates import template_problems
from engine.privacy import notice as notice
from engine.privacy import retention as retention
from engine.sla.clock import SLA_CLOCK_VALUES

__all__ = ["UNSUPPORTED_ELEMENTS", "Report", "check_form_file", "check_service", "lint_package"]

PACKAGE = "<package>"
SERVICE = "service.toml"
RESERVED_IDS = ("Start", "End")
# Elements that become work items of their lane's role, with how messages name them.
HUMAN_TASKS = {"userTask": "user task", "manualTask": "manual task", "task": "task"}


@dataclass
class Report:
    """Collects problems in the order they are found, each once."""

    problems: list[Problem] = field(default_factory=list)
    checked_forms: set[tuple[str, bool]] = field(default_factory=set)

    def error(self, file: str, element_id: str | None, message: str, message_id: str = "") -> None:
        """Record an error (English, and Indonesian when given): the package cannot be deployed."""
        self.extend([Problem(file, element_id, message, "error", message_id)])

    def warning(self, file: str, element_id: str | None, message: str, message_id: str = "") -> None:
        """Record a warning: deployable, but probably not what the modeller meant."""
        self.extend([Problem(file, element_id, message, "warning", message_id)])

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record problems found by a rule function."""
        self.problems.extend(p for p in problems if p not in self.problems)

    def has_errors(self) -> bool:
        """Tell whether any error was recorded."""
        return any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class Document:
    """One parsed XML file of the package."""

    name: str
    root: Any


def lint_package(package: Package, *, known_roles: set[str] | None = None) -> list[Problem]:
    """Check a whole package and return every problem found (empty when it is clean)."""
    report = Report()
    service = check_service(package, report)
    bpmn, dmn = _parse_documents(package, report)
    key = service.get("key") if service else None
    _check_processes(bpmn, key if isinstance(key, str) else None, report)
    for doc in bpmn:
        _check_unsupported(doc, report)
        _check_user_tasks(package, doc, report)
        report.extend(expression_problems(doc.name, doc.root))
        report.extend(reachability_problems(doc.name, doc.root))
    _check_lanes(bpmn, report)
    report.extend(role_problems(service, [(d.name, d.root) for d in bpmn], known_roles) if service else [])
    report.extend(document_problems(package, service, [(doc.name, doc.root) for doc in bpmn]))
    report.extend(signing_problems(package, service, [(doc.name, doc.root) for doc in bpmn]))
    report.extend(call_problems([(doc.name, doc.root) for doc in bpmn]))
    report.extend(event_problems([(doc.name, doc.root) for doc in bpmn], connector_error_codes(package)))
    _check_other_forms(package, report)
    refused = frozenset(p.file for p in report.problems if p.severity == "error")
    report.extend(personal_problems(package, skip=refused))
    report.extend(sla_limit_problems(package, [(doc.name, doc.root) for doc in bpmn]))
    report.extend(template_problems(package))
    _check_decisions(bpmn, dmn, report)
    for doc in dmn:
        report.extend(dmn_problems(doc.name, doc.root))
    if not any(p.file.startswith("forms/") and p.severity == "error" for p in report.problems):
        # Unreadable forms would make every field they hold look unset; fix those first.
        report.extend(data_problems(package, service, [(d.name, d.root) for d in bpmn],
                                    [(d.name, d.root) for d in dmn]))
        report.extend(connector_problems(package, service, [(d.name, d.root) for d in bpmn],
                                         [(d.name, d.root) for d in dmn]))
        report.extend(connector_path_problems(package, [(d.name, d.root) for d in bpmn]))
    if isinstance(key, str) and bpmn and not report.has_errors():
        report.extend(load_problems(package, key))
    return localize(report.problems, [d.root for d in bpmn])


# ---------------------------------------------------------------- service.toml and forms


def check_service(package: Package, report: Report) -> dict[str, Any] | None:
    """Check service.toml; return it parsed, or None when it is missing or unreadable."""
    raw = package.files.get(SERVICE)
    if raw is None:
        report.error(SERVICE, None, "service.toml is missing", "service.toml tidak ada")
        return None
    try:
        service = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        report.error(SERVICE, None, "service.toml is not UTF-8 text", "service.toml bukan teks UTF-8")
        return None
    except tomllib.TOMLDecodeError as exc:
        report.error(SERVICE, None, f"service.toml is not valid TOML: {exc}",
                     f"service.toml bukan TOML yang sah: {exc}")
        return None
    for english, indonesian in cv.service_errors(service):
        report.error(SERVICE, None, english, indonesian)
    for key in cv.unknown_service_keys(service):
        report.warning(SERVICE, None, f"unknown key '{key}' is ignored (a typo?)",
                       f"kunci '{key}' tidak dikenal dan diabaikan (salah ketik?)")
    for component, (english, indonesian) in components.standard_errors(service):
        report.error(SERVICE, f"standard.{component}" if component else None, english, indonesian)
    for key in components.unknown_keys(service):
        report.warning(SERVICE, None, f"unknown key 'standard.{key}' is ignored (a typo?)",
                       f"kunci 'standard.{key}' tidak dikenal dan diabaikan (salah ketik?)")
    _check_privacy(service, report)
    start_form = service.get("start_form")
    if isinstance(start_form, str) and start_form.strip():
        # The runtime looks start_form up as a package path, and loads only forms/*.json.
        if not (start_form.startswith("forms/") and start_form.endswith(".json")):
            report.error(SERVICE, None, f"start_form '{start_form}' must be a package path like forms/<name>.json",
                         f"start_form '{start_form}' harus berupa path dalam paket seperti forms/<nama>.json")
        else:
            check_form_file(package, report, SERVICE, None, start_form, schema=True)
    return service


def _check_privacy(service: dict[str, Any], report: Report) -> None:
    # A missing [retention] only warns: an error would refuse every package written before it existed.
    for english, indonesian in retention.retention_errors(service) + notice.notice_errors(service):
        report.error(SERVICE, None, english, indonesian)
    if "retention" not in service:
        report.warning(SERVICE, None, *retention.MISSING)


def check_form_file(
    package: Package, report: Report, file: str, element_id: str | None, value: str, *, schema: bool
) -> None:
    """Check that a form file named by a task or service.toml exists and is valid JSON (Schema)."""
    path = package.form_path(value)
    what = "form schema" if schema else "UI schema"
    owner = f"user task '{element_id}'" if element_id else "start_form"
    # Task properties are read at run time as paths relative to forms/, so "forms/x.json" would miss.
    if element_id is not None and path != f"forms/{value}":
        report.error(
            file, element_id, f"{owner}: write the {what} file relative to forms/ ('{path[6:]}', not '{value}')"
        )
    elif not path.endswith(".json"):
        report.error(file, element_id, f"{owner}: {what} file '{value}' must be a .json file")
    elif path not in package.files:
        report.error(file, element_id, f"{owner}: {what} file '{value}' is not in the package (expected {path})")
    else:
        _check_json_file(package, report, path, what, schema=schema)


def _check_other_forms(package: Package, report: Report) -> None:
    # Deployment loads every forms/*.json, so even a file no task names must be valid JSON.
    checked = {path for path, _schema in report.checked_forms}
    for path in sorted(package.files):
        if path.startswith("forms/") and path.endswith(".json") and path not in checked:
            _check_json_file(package, report, path, "form file", schema=False)


def _check_json_file(package: Package, report: Report, path: str, what: str, *, schema: bool) -> None:
    if (path, schema) in report.checked_forms:
        return  # a form shared by several tasks is reported once, on the form file itself
    report.checked_forms.add((path, schema))
    report.extend(form_file_problems(path, package.files[path], what, schema=schema))


# ---------------------------------------------------------------- files, processes, elements


def _parse_documents(package: Package, report: Report) -> tuple[list[Document], list[Document]]:
    bpmn: list[Document] = []
    dmn: list[Document] = []
    for name in [*package.bpmn_files, *package.dmn_files]:
        try:
            root = package.xml(name)
        except UnsafeXml as exc:
            report.error(name, None, exc.message.removeprefix(f"{name}: "))
            continue
        namespace, local = split_tag(root.tag)
        if name.endswith(".bpmn"):
            if (namespace, local) != (BPMN_NS, "definitions"):
                report.error(name, None, f"the root element is <{local}>, not a BPMN 2.0 <bpmn:definitions>")
            else:
                bpmn.append(Document(name, root))
        elif local != "definitions" or namespace not in cv.DMN_NAMESPACES:
            report.error(name, None, f"the root element is <{local}>, not DMN <definitions> (DMN 1.1 to 1.3)")
        else:
            dmn.append(Document(name, root))
    if not package.bpmn_files:
        report.error(PACKAGE, None, "the package has no .bpmn file")
    return bpmn, dmn


def _check_ids(doc: Document, report: Report) -> None:
    seen: set[str] = set()
    # Only BPMN model elements: extension children (spiffworkflow:parameter, camunda:formField)
    # carry `id` attributes that are parameter or field names, and diagram shapes are not run.
    extensions = bpmn_tag("extensionElements")
    for element in doc.root.iter(f"{{{BPMN_NS}}}*"):
        element_id = element.get("id")
        if not element_id or any(a.tag == extensions for a in element.iterancestors()):
            continue
        if element_id in RESERVED_IDS:
            report.error(doc.name, element_id, f"the id '{element_id}' is reserved by SpiffWorkflow; rename it")
        if element_id in seen:
            report.error(doc.name, element_id, f"the id '{element_id}' is used by more than one element")
        seen.add(element_id)


def _check_processes(docs: list[Document], key: str | None, report: Report) -> None:
    seen: dict[str, str] = {}
    for doc in docs:
        _check_ids(doc, report)
        for process in doc.root.iter(bpmn_tag("process")):
            pid = process.get("id", "")
            if process.get("isExecutable") != "true":
                report.error(doc.name, pid, f"process '{pid}' must be marked executable (isExecutable=\"true\")")
            if pid in seen and seen[pid] != doc.name:
                report.error(doc.name, pid, f"process id '{pid}' is also defined in {seen[pid]}")
            seen.setdefault(pid, doc.name)
    if key is not None and docs and key not in seen:
        known = ", ".join(sorted(seen)) or "none"
        report.error(SERVICE, None, f"no BPMN process has the id '{key}' given as key (processes: {known})")


def _check_unsupported(doc: Document, report: Report) -> None:
    for element in doc.root.iter():
        namespace, local = split_tag(element.tag)
        if namespace != BPMN_NS:
            continue
        if local in UNSUPPORTED_ELEMENTS:
            where = owner_ref(element) if local.endswith("EventDefinition") else element_ref(element)
            report.error(
                doc.name, where, f"<bpmn:{local}> in '{where}' is not supported: {UNSUPPORTED_ELEMENTS[local]}"
            )
        if element.get("isForCompensation") == "true":
            report.error(doc.name, element.get("id"), "compensation activities are not supported")
        if local == "subProcess" and element.get("triggeredByEvent") == "true":
            report.error(
                doc.name, element.get("id"),
                "event sub-processes are not run reliably by the engine: their start events are not offered to "
                "messages or timers, and SpiffWorkflow 3 rewires the shared process definition when one starts, "
                "so later cases of the version would start it at once. Use a boundary event on the tasks it "
                "should interrupt, or, for a partner's late answer, store = \"<field>\" in connectors.toml",
                "event sub-process belum dijalankan dengan andal oleh mesin: event awalnya tidak ditawarkan kepada "
                "pesan atau timer, dan SpiffWorkflow 3 mengubah definisi proses bersama saat event sub-process "
                "dimulai, sehingga permohonan berikutnya pada versi itu langsung memulainya. Gunakan boundary "
                "event pada tugas yang hendak disela, atau, untuk jawaban mitra yang datang belakangan, "
                "store = \"<isian>\" di connectors.toml")


# ---------------------------------------------------------------- lanes and user tasks


def _effective_lane(task: Any, lanes: dict[str, Any]) -> Any:
    """Return the lane SpiffWorkflow gives a task: inside a sub-process, the sub-process's lane."""
    chain = []
    node = task
    while node is not None and node.tag != bpmn_tag("process"):
        chain.append(node)
        node = node.getparent()
    for outer in reversed(chain):
        lane = lanes.get(outer.get("id", ""))
        if lane is not None:
            return lane
    return None


def _check_user_tasks(package: Package, doc: Document, report: Report) -> None:
    lanes = cv.lanes_by_node(doc.root)
    tasks_by_lane: dict[Any, list[str]] = {}
    # Manual and plain tasks are work items of their lane's role too, with an optional form.
    for task in doc.root.iter(*(bpmn_tag(kind) for kind in HUMAN_TASKS)):
        task_id, what = task.get("id", ""), HUMAN_TASKS[split_tag(task.tag)[1]]
        groups = task.get(f"{{{CAMUNDA_NS}}}candidateGroups")
        if groups is not None:
            roles = [g.strip() for g in groups.split(",") if g.strip()]
            bad = [g for g in roles if not cv.is_role(g)] or ([] if roles else ["(empty)"])
            if bad:
                report.error(
                    doc.name,
                    task_id,
                    f"{what} '{task_id}': candidateGroups {', '.join(bad)} is not a role like 'pupr.tpa'",
                )
        elif (lane := _effective_lane(task, lanes)) is None:
            report.error(
                doc.name, task_id, f"{what} '{task_id}' is not in a lane; put it in a lane that names a role"
            )
        else:
            tasks_by_lane.setdefault(lane, []).append(task_id)
        _check_task_properties(package, doc, task, report)
    for lane, task_ids in tasks_by_lane.items():
        info = cv.lane_info(lane)
        if not lane.get("name"):
            # SpiffWorkflow gives tasks of an unnamed lane no lane at all, so no role reaches them.
            report.error(
                doc.name,
                info.lane_id,
                f"lane '{info.lane_id}' holds user task(s) {', '.join(task_ids)} "
                "but has no name; name it, e.g. 'Front Office [dpmptsp.front_office]'",
            )
        elif info.role is None and "role" not in cv.element_properties(lane):
            report.error(
                doc.name,
                info.lane_id,
                f"lane '{info.name or info.lane_id}' holds user task(s) "
                f"{', '.join(task_ids)} but names no role; name it like 'Tim Profesi Ahli [pupr.tpa]' "
                "or give it a role property",
            )


def _check_task_properties(package: Package, doc: Document, task: Any, report: Report) -> None:
    task_id = task.get("id", "")
    props = cv.element_properties(task)
    form = props.get("formJsonSchemaFilename")
    if not form and split_tag(task.tag)[1] == "userTask":
        report.error(doc.name, task_id, f"user task '{task_id}' has no formJsonSchemaFilename property")
    elif form:
        check_form_file(package, report, doc.name, task_id, form, schema=True)
    ui_form = props.get("formUiSchemaFilename")
    if ui_form:
        check_form_file(package, report, doc.name, task_id, ui_form, schema=False)
    sla = props.get("slaDays")
    if sla is not None and not (sla.isascii() and sla.isdecimal() and int(sla) > 0):
        report.error(
            doc.name, task_id, f"{HUMAN_TASKS[split_tag(task.tag)[1]]} '{task_id}': slaDays '{sla}' must be a whole "
            "number of working days above 0"
        )
    clock = props.get("slaClock")
    if clock is not None and clock not in SLA_CLOCK_VALUES:
        report.error(
            doc.name, task_id, f"{HUMAN_TASKS[split_tag(task.tag)[1]]} '{task_id}': slaClock '{clock}' must be one of "
            f"{', '.join(SLA_CLOCK_VALUES)}"
        )
    marker = props.get("notify")
    if marker is not None and marker not in cv.NOTIFY_MARKERS:
        report.error(
            doc.name, task_id, f"{HUMAN_TASKS[split_tag(task.tag)[1]]} '{task_id}': notify '{marker}' must be one of "
            f"{', '.join(cv.NOTIFY_MARKERS)}"
        )


def _check_lanes(docs: list[Document], report: Report) -> None:
    # The runtime merges lanes of all files by name, so one name must mean one routing.
    by_name: dict[str, tuple[str, cv.LaneInfo]] = {}
    for doc in docs:
        for lane in doc.root.iter(bpmn_tag("lane")):
            info, props = cv.lane_info(lane), cv.element_properties(lane)
            if "role" in props and info.role is None:
                report.error(
                    doc.name,
                    info.lane_id,
                    f"lane '{info.name}': role property '{props['role']}' is not a role like 'pupr.tpa' or 'applicant'",
                )
            for prop in ("bindOrganisation", "bindUser", "bindAgency"):
                if prop in props and not cv.is_identifier(props[prop].strip()):
                    report.error(
                        doc.name,
                        info.lane_id,
                        f"lane '{info.name}': {prop} '{props[prop]}' must be a plain data key (letters, digits and _)",
                    )
            raw_name = lane.get("name")
            if not raw_name:
                continue
            first_file, first = by_name.setdefault(raw_name, (doc.name, info))
            if _routing(first) != _routing(info):
                report.error(
                    doc.name,
                    info.lane_id,
                    f"lane name '{raw_name}' is also used by lane "
                    f"'{first.lane_id}' in {first_file} with a different role or binding",
                )


def _routing(info: cv.LaneInfo) -> tuple[str | None, str | None, str | None, str | None]:
    return info.role, info.bind_organisation, info.bind_user, info.bind_agency


# ---------------------------------------------------------------- decisions


def _check_decisions(bpmn: list[Document], dmn: list[Document], report: Report) -> None:
    decisions: set[str] = set()
    for doc in dmn:
        ns = split_tag(doc.root.tag)[0]
        found = doc.root.findall(f"{{{ns}}}decision")
        if len(found) != 1:
            report.error(doc.name, None, f"a DMN file must hold exactly one decision; found {len(found)}")
        for decision in found:
            decisions.add(decision.get("id", ""))
            if decision.find(f"{{{ns}}}decisionTable") is None:
                report.error(doc.name, decision.get("id"), f"decision '{decision.get('id')}' has no decision table")
    for doc in bpmn:
        for task in doc.root.iter(bpmn_tag("businessRuleTask")):
            task_id = task.get("id", "")
            ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NSMAP)
            called = (ref.text or "").strip() if ref is not None else ""
            if not called:
                report.error(doc.name, task_id, f"business rule task '{task_id}' has no spiffworkflow:calledDecisionId")
            elif called not in decisions:
                report.error(
                    doc.name,
                    task_id,
                    f"business rule task '{task_id}' calls decision '{called}', "
                    "which is in no .dmn file of the package",
                )

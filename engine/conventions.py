"""The platform's BPMN conventions (docs/bpmn-conventions.md) as code: lanes name roles.

Both the linter and the runtime read lanes through this module, so a package that lints clean
routes its tasks exactly the way the linter saw them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
)
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS, "camunda": CAMUNDA_NS}

ROLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$")  # fits the agency and role columns
APPLICANT_ROLE = "applicant"
# Data keys named by lane bindings and loop references: a plain name the sandbox can read.
IDENTIFIER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
CHANNELS = ("tatap_muka", "drive_thru", "terpadu", "daring")
# A user task's `notify` property: what its opening tells the applicant (engine/notify.py).
NOTIFY_MARKERS = ("sent_back", "payment_due", "none")

_BRACKETED_ROLE = re.compile(r"\[\s*([^\[\]]+?)\s*\]\s*$")


@dataclass(frozen=True)
class LaneInfo:
    """Who receives the tasks of one lane."""

    lane_id: str
    name: str
    role: str | None
    bind_organisation: str | None
    bind_user: str | None


def is_role(value: str) -> bool:
    """Tell whether a string is a role: `agency.role` or the special `applicant`."""
    return value == APPLICANT_ROLE or bool(ROLE_RE.match(value))


def is_identifier(value: str) -> bool:
    """Tell whether a string is a plain data-key name (letters, digits, `_`, no leading `_`)."""
    return bool(IDENTIFIER_RE.match(value))


def role_from_lane_name(name: str) -> str | None:
    """Return the role a lane name states ("pupr.tpa", "Tim Profesi Ahli [pupr.tpa]"), or None."""
    name = name.strip()
    if is_role(name):
        return name
    match = _BRACKETED_ROLE.search(name)
    if match and is_role(match.group(1)):
        return match.group(1)
    return None


def element_properties(element: Any) -> dict[str, str]:
    """Return the spiffworkflow:property name/value pairs of a BPMN element."""
    found: dict[str, str] = {}
    for prop in element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property", namespaces=NSMAP
    ):
        name = prop.get("name")
        if name:
            found[name] = prop.get("value", "")
    return found


def lane_info(lane: Any) -> LaneInfo:
    """Read one <bpmn:lane>: the role property first, then a role in the lane name."""
    name = (lane.get("name") or "").strip()
    props = element_properties(lane)
    declared = props.get("role")
    if declared is not None:
        role = declared.strip() if is_role(declared.strip()) else None
    else:
        role = role_from_lane_name(name)
    return LaneInfo(
        lane_id=lane.get("id", ""),
        name=name,
        role=role,
        bind_organisation=_binding(props.get("bindOrganisation")),
        bind_user=_binding(props.get("bindUser")),
    )


def _binding(value: str | None) -> str | None:
    if value is None or not is_identifier(value.strip()):
        return None
    return value.strip()


def read_lanes(root: Any) -> dict[str, LaneInfo]:
    """Read every named lane of a <bpmn:definitions>, keyed by lane name as SpiffWorkflow reports it."""
    lanes: dict[str, LaneInfo] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        # SpiffWorkflow's task_spec.lane is the raw name attribute, so key by that, unstripped.
        raw_name = lane.get("name")
        if raw_name:
            lanes[raw_name] = lane_info(lane)
    return lanes


def lanes_by_node(root: Any) -> dict[str, Any]:
    """Map flow-node ids to the innermost <bpmn:lane> listing them, as SpiffWorkflow resolves lanes."""
    found: dict[str, Any] = {}
    # Document order puts a child lane's refs after its parent's, so the innermost lane wins.
    for ref in root.iter(f"{{{BPMN_NS}}}flowNodeRef"):
        if ref.text:
            found[ref.text] = ref.getparent()
    return found


# ---------------------------------------------------------------- BPMN elements
# What SpiffWorkflow 3.2 cannot run, or parses into something that silently does nothing
# (found by parsing each element with SpiffBpmnParser and running the result).
_CHOREOGRAPHY = "choreographies cannot be executed"
_CONVERSATION = "conversations cannot be executed"
_GLOBAL = "global tasks cannot be called; call a process instead"
_DATA_STORE = "data stores are not available; keep data in the case data"
UNSUPPORTED_ELEMENTS: dict[str, str] = {
    "complexGateway": "SpiffWorkflow has no complex gateway; use an exclusive or inclusive gateway",
    "implicitThrowEvent": "SpiffWorkflow cannot run implicit throw events",
    "adHocSubProcess": "ad-hoc sub-processes are experimental in SpiffWorkflow 3.2; use a sub-process",
    "compensateEventDefinition": "compensation is not executed by SpiffWorkflow 3.2 (the event would do nothing)",
    "linkEventDefinition": "link events are read as plain events by SpiffWorkflow 3.2; draw a sequence flow",
    "dataStore": _DATA_STORE,
    "dataStoreReference": _DATA_STORE,
    "choreography": _CHOREOGRAPHY,
    "choreographyTask": _CHOREOGRAPHY,
    "subChoreography": _CHOREOGRAPHY,
    "callChoreography": _CHOREOGRAPHY,
    "conversation": _CONVERSATION,
    "subConversation": _CONVERSATION,
    "callConversation": _CONVERSATION,
    "globalTask": _GLOBAL,
    "globalUserTask": _GLOBAL,
    "globalManualTask": _GLOBAL,
    "globalScriptTask": _GLOBAL,
    "globalBusinessRuleTask": _GLOBAL,
}


# ---------------------------------------------------------------- timers
_N = r"\d+(?:[.,]\d+)?"
# Weeks stand alone, as SpiffWorkflow's duration parser requires.
ISO_DURATION_RE = re.compile(
    rf"^P(?:{_N}W|(?=\d|T\d)(?:{_N}Y)?(?:{_N}M)?(?:{_N}D)?(?:T(?=\d)(?:{_N}H)?(?:{_N}M)?(?:{_N}S)?)?)$"
)
# What an unquoted ISO value looks like; Python reads PT1H as a name and R3/PT1H as a division.
_LOOKS_ISO = re.compile(r"^(R\d*/)?(P\d|PT\d|\d{4}-\d\d-\d\d)")


def looks_like_unquoted_iso(text: str) -> bool:
    """Tell whether a timer expression is an ISO-8601 value someone forgot to quote."""
    return bool(_LOOKS_ISO.match(text.strip()))


def timer_literal_error(kind: str, value: str) -> str | None:
    """Check a quoted timer value against ISO-8601 for its kind; return what is wrong or None."""
    if kind == "timeDuration":
        if ISO_DURATION_RE.match(value):
            return None
        return f'"{value}" is not an ISO-8601 duration such as "P2D" or "PT1H"'
    if kind == "timeDate":
        return _date_error(value)
    parts = value.split("/")
    if len(parts) not in (2, 3) or not re.match(r"^R\d*$", parts[0]):
        return f'"{value}" is not an ISO-8601 repeating interval such as "R3/PT1H"'
    for part in parts[1:]:
        if not ISO_DURATION_RE.match(part) and _date_error(part) is not None:
            return f'"{value}": "{part}" is neither an ISO-8601 duration nor a date-time'
    return None


def _date_error(value: str) -> str | None:
    from datetime import datetime

    try:
        datetime.fromisoformat(value)
    except ValueError:
        return f'"{value}" is not an ISO-8601 date-time such as "2026-12-01T09:00:00+07:00"'
    return None


# ---------------------------------------------------------------- service.toml
SERVICE_KEYS = (
    "key",
    "agency",
    "name",
    "description",
    "product",
    "sla_days",
    "fee",
    "channels",
    "start_form",
    "requirements",
    "agencies",
    "document",
)
AGENCY_KINDS = ("city_office", "vertical", "state_company", "private")
_PROCESS_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def service_errors(service: dict[str, Any]) -> list[str]:
    """Check the published service standard in service.toml; return what is wrong."""
    errors: list[str] = []
    key = service.get("key")
    if not isinstance(key, str) or not _PROCESS_ID_RE.match(key):
        errors.append("key must be the id of the main BPMN process (letters, digits, _ . -)")
    if not isinstance(service.get("agency"), str) or not _CODE_RE.match(service["agency"]):
        errors.append('agency must be the code of the publishing agency, e.g. "dpmptsp"')
    errors += _bilingual(service, "name", required=True)
    errors += _bilingual(service, "product", required=True)
    errors += _bilingual(service, "description", required=False)
    errors += _bilingual(service, "fee", required=False)
    sla = service.get("sla_days")
    if isinstance(sla, bool) or not isinstance(sla, int) or sla <= 0:
        errors.append("sla_days must be a whole number of working days above 0")
    errors += _channel_errors(service.get("channels"))
    errors += _requirement_errors(service.get("requirements"))
    errors += _agency_errors(service.get("agencies", []))
    if "start_form" in service and not (isinstance(service["start_form"], str) and service["start_form"].strip()):
        errors.append('start_form must be the path of a JSON Schema file, e.g. "forms/application.schema.json"')
    return errors


def unknown_service_keys(service: dict[str, Any]) -> list[str]:
    """Return top-level service.toml keys the platform does not read (likely typos)."""
    return sorted(k for k in service if k not in SERVICE_KEYS)


def _bilingual(table: dict[str, Any], key: str, *, required: bool) -> list[str]:
    value = table.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, dict):
        return [f'{key} must be a table with Indonesian and English text: {key} = {{ id = "...", en = "..." }}']
    return [
        f"{key}.{lang} is missing or empty"
        for lang in ("id", "en")
        if not isinstance(value.get(lang), str) or not value[lang].strip()
    ]


def _channel_errors(channels: Any) -> list[str]:
    if not isinstance(channels, list) or not channels:
        return [f"channels must be a non-empty list drawn from {', '.join(CHANNELS)}"]
    unknown = [str(c) for c in channels if c not in CHANNELS]
    errors = [f"unknown channel(s) {', '.join(unknown)}; allowed: {', '.join(CHANNELS)}"] if unknown else []
    if len(set(map(str, channels))) != len(channels):
        errors.append("channels lists a channel twice")
    return errors


def _requirement_errors(requirements: Any) -> list[str]:
    if not isinstance(requirements, list):
        return ['requirements must be a list of { id = "...", en = "..." } tables (it may be empty)']
    errors: list[str] = []
    for index, item in enumerate(requirements, start=1):
        if not isinstance(item, dict):
            errors.append(f'requirements item {index} must be a table {{ id = "...", en = "..." }}')
        else:
            errors += [
                f"requirements item {index}: the {lang} text is missing"
                for lang in ("id", "en")
                if not isinstance(item.get(lang), str) or not item[lang].strip()
            ]
    return errors


def _agency_errors(agencies: Any) -> list[str]:
    if not isinstance(agencies, list):
        return ["[[agencies]] must be an array of tables"]
    errors: list[str] = []
    for index, agency in enumerate(agencies, start=1):
        if not isinstance(agency, dict):
            errors.append(f"agencies item {index} must be a table")
            continue
        if not isinstance(agency.get("code"), str) or not _CODE_RE.match(agency["code"]):
            errors.append(f"agencies item {index}: code must be lowercase letters, digits and _")
        if agency.get("kind") not in AGENCY_KINDS:
            errors.append(f"agencies item {index}: kind must be one of {', '.join(AGENCY_KINDS)}")
        errors += [f"agencies item {index}: {e}" for e in _bilingual(agency, "name", required=True)]
    return errors


def candidate_group_roles(root: Any) -> dict[str, str]:
    """Map user-task ids to the first role named by `camunda:candidateGroups`, when it names one."""
    roles: dict[str, str] = {}
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        groups = task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or ""
        for group in (g.strip() for g in groups.split(",")):
            if ROLE_RE.match(group) or group == APPLICANT_ROLE:
                roles[str(task.get("id"))] = group
                break
    return roles

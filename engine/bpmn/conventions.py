"""The platform's BPMN conventions (docs/bpmn-conventions.md) as code: lanes name roles.

Both the linter and the runtime read lanes through this module, so a package that lints clean
routes its tasks exactly the way the linter saw them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.bpmn import timers as timers

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
# A user task's `notify` property: what its opening tells the applicant (engine/notify/service.py).
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
    # A data key naming an agency: the lane's role moves to that agency's role of the same key (when it has it).
    bind_agency: str | None = None


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
        bind_agency=_binding(props.get("bindAgency")),
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
# Flow nodes, and among them the activities (what a boundary event can sit on).
ACTIVITIES = frozenset(
    {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
     "callActivity", "subProcess", "transaction", "adHocSubProcess"}
)
FLOW_NODES = ACTIVITIES | frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway", "startEvent",
     "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "implicitThrowEvent"}
)

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
            return _run_time_error(kind, value)
        return f'"{value}" is not an ISO-8601 duration such as "P2D" or "PT1H"'
    if kind == "timeDate":
        return _date_error(value)
    parts = value.split("/")
    if len(parts) not in (2, 3) or not re.match(r"^R\d*$", parts[0]):
        return f'"{value}" is not an ISO-8601 repeating interval such as "R3/PT1H"'
    for part in parts[1:]:
        if not ISO_DURATION_RE.match(part) and _date_error(part) is not None:
            return f'"{value}": "{part}" is neither an ISO-8601 duration nor a date-time'
    return _run_time_error(kind, value)


def _run_time_error(kind: str, value: str) -> str | None:
    """Ask the run time's own check (engine.bpmn.timers): too long, repeating too often."""
    try:
        timers.timer_value(kind, value, engine_now=datetime.now(UTC), wall_now=datetime.now(UTC))
    except timers.TimerValueError as exc:
        return str(exc)
    return None


def _date_error(value: str) -> str | None:
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
    "scenarios_required",  # docs/scenarios.md: deployment refuses the package unless its scenarios pass
    "standard",  # the other service-standard components: engine/catalogue/standard_components.py
    "outreach",  # jemput bola: officers visit these groups of applicants (engine/cases/priority.py)
    "retention",  # how long closed cases are kept, and the legal basis (engine/privacy/retention.py)
    "privacy",  # the service's purpose in its privacy notice (engine/privacy/notice.py)
)
OUTREACH_GROUPS = ("disabilitas", "lansia", "sakit")
AGENCY_KINDS = ("city_office", "provincial_office", "vertical", "state_company", "private")
_PROCESS_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# The part of a role key after the agency: `front_office` in `dpmptsp.front_office`.
_ROLE_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


Message = tuple[str, str]
"""One problem in English and in Bahasa Indonesia, in that order."""


def service_errors(service: dict[str, Any]) -> list[Message]:
    """Check the published service standard in service.toml; return what is wrong (English, Indonesian)."""
    errors: list[Message] = []
    key = service.get("key")
    if not isinstance(key, str) or not _PROCESS_ID_RE.match(key):
        errors.append((
            "key must be the id of the main BPMN process (letters, digits, _ . -)",
            "key harus berupa id proses BPMN utama (huruf, angka, _ . -)",
        ))
    if not isinstance(service.get("agency"), str) or not _CODE_RE.match(service["agency"]):
        errors.append((
            'agency must be the code of the publishing agency, e.g. "dpmptsp"',
            'agency harus berupa kode instansi penerbit layanan, mis. "dpmptsp"',
        ))
    errors += _bilingual(service, "name", required=True)
    errors += _bilingual(service, "product", required=True)
    errors += _bilingual(service, "description", required=False)
    errors += _bilingual(service, "fee", required=False)
    sla = service.get("sla_days")
    if isinstance(sla, bool) or not isinstance(sla, int) or sla <= 0:
        errors.append((
            "sla_days must be a whole number of working days above 0",
            "sla_days harus berupa bilangan bulat hari kerja di atas 0",
        ))
    errors += _channel_errors(service.get("channels"))
    errors += _requirement_errors(service.get("requirements"))
    errors += _agency_errors(service.get("agencies", []))
    if "scenarios_required" in service and not isinstance(service["scenarios_required"], bool):
        errors.append((
            "scenarios_required must be true or false",
            "scenarios_required harus berupa true atau false",
        ))
    if "outreach" in service:
        errors += _outreach_errors(service["outreach"])
    if "start_form" in service and not (isinstance(service["start_form"], str) and service["start_form"].strip()):
        errors.append((
            'start_form must be the path of a JSON Schema file, e.g. "forms/application.schema.json"',
            'start_form harus berupa path berkas JSON Schema, mis. "forms/application.schema.json"',
        ))
    return errors


def unknown_service_keys(service: dict[str, Any]) -> list[str]:
    """Return top-level service.toml keys the platform does not read (likely typos)."""
    return sorted(k for k in service if k not in SERVICE_KEYS)


def _bilingual(table: dict[str, Any], key: str, *, required: bool) -> list[Message]:
    value = table.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, dict):
        return [(
            f'{key} must be a table with Indonesian and English text: {key} = {{ id = "...", en = "..." }}',
            f'{key} harus berupa tabel berisi teks bahasa Indonesia dan Inggris: {key} = {{ id = "...", en = "..." }}',
        )]
    return [
        (f"{key}.{lang} is missing or empty", f"{key}.{lang} tidak ada atau kosong")
        for lang in ("id", "en")
        if not isinstance(value.get(lang), str) or not value[lang].strip()
    ]


def _channel_errors(channels: Any) -> list[Message]:
    allowed = ", ".join(CHANNELS)
    if not isinstance(channels, list) or not channels:
        return [(
            f"channels must be a non-empty list drawn from {allowed}",
            f"channels harus berupa daftar yang tidak kosong dari {allowed}",
        )]
    unknown = ", ".join(str(c) for c in channels if c not in CHANNELS)
    errors: list[Message] = []
    if unknown:
        errors.append((
            f"unknown channel(s) {unknown}; allowed: {allowed}",
            f"kanal tidak dikenal: {unknown}; yang diizinkan: {allowed}",
        ))
    if len(set(map(str, channels))) != len(channels):
        errors.append(("channels lists a channel twice", "channels mencantumkan satu kanal dua kali"))
    return errors


def _outreach_errors(outreach: Any) -> list[Message]:
    groups = ", ".join(OUTREACH_GROUPS)
    shape = (f'outreach must be a table: outreach = {{ id = "...", en = "...", for = ["disabilitas", ...] }} '
             f'with for drawn from {groups}',
             f'outreach harus berupa tabel: outreach = {{ id = "...", en = "...", for = ["disabilitas", ...] }} '
             f'dengan for dari {groups}')
    if not isinstance(outreach, dict):
        return [shape]
    errors = _bilingual({"outreach": outreach}, "outreach", required=True)
    chosen = outreach.get("for")
    if not isinstance(chosen, list) or not chosen or any(g not in OUTREACH_GROUPS for g in chosen):
        errors.append(shape)
    elif len(set(chosen)) != len(chosen):
        errors.append(("outreach.for lists a group twice", "outreach.for mencantumkan satu kelompok dua kali"))
    unknown = sorted(str(k) for k in outreach if k not in ("id", "en", "for"))
    if unknown:
        errors.append((f"outreach: unknown key(s) {', '.join(unknown)}; use id, en and for",
                       f"outreach: kunci tidak dikenal {', '.join(unknown)}; gunakan id, en, dan for"))
    return errors


def _requirement_errors(requirements: Any) -> list[Message]:
    if not isinstance(requirements, list):
        return [(
            'requirements must be a list of { id = "...", en = "..." } tables (it may be empty)',
            'requirements harus berupa daftar tabel { id = "...", en = "..." } (boleh kosong)',
        )]
    errors: list[Message] = []
    for index, item in enumerate(requirements, start=1):
        if not isinstance(item, dict):
            errors.append((
                f'requirements item {index} must be a table {{ id = "...", en = "..." }}',
                f'requirements butir {index} harus berupa tabel {{ id = "...", en = "..." }}',
            ))
        else:
            errors += [
                (f"requirements item {index}: the {lang} text is missing",
                 f"requirements butir {index}: teks {lang} tidak ada")
                for lang in ("id", "en")
                if not isinstance(item.get(lang), str) or not item[lang].strip()
            ]
    return errors + _document_errors([item for item in requirements if isinstance(item, dict)])


_DOCUMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _document_errors(requirements: list[dict[str, Any]]) -> list[Message]:
    """Check the upload slots: `document` is a code (the same code in two services is one shared upload)."""
    errors: list[Message] = []
    seen: set[str] = set()
    for index, item in enumerate(requirements, start=1):
        code = item.get("document")
        if code is not None and not (isinstance(code, str) and _DOCUMENT_CODE.match(code)):
            errors.append((f'requirements item {index}: document must be a code such as "ktp" '
                           "(lower-case letters, digits and _)",
                           f'requirements butir {index}: document harus berupa kode seperti "ktp" '
                           "(huruf kecil, angka dan _)"))
        elif code is not None and code in seen:
            errors.append((f'requirements item {index}: document code "{code}" is used twice',
                           f'requirements butir {index}: kode document "{code}" dipakai dua kali'))
        if isinstance(code, str):
            seen.add(code)
        if "optional" in item and (not isinstance(item["optional"], bool) or code is None):
            errors.append((f"requirements item {index}: optional must be true or false, beside a document code",
                           f"requirements butir {index}: optional harus true atau false, bersama kode document"))
    return errors


def _agency_errors(agencies: Any) -> list[Message]:
    if not isinstance(agencies, list):
        return [("[[agencies]] must be an array of tables", "[[agencies]] harus berupa larik tabel")]
    errors: list[Message] = []
    for index, agency in enumerate(agencies, start=1):
        if not isinstance(agency, dict):
            errors.append((f"agencies item {index} must be a table", f"agencies butir {index} harus berupa tabel"))
            continue
        where_en, where_id = f"agencies item {index}", f"agencies butir {index}"
        if not isinstance(agency.get("code"), str) or not _CODE_RE.match(agency["code"]):
            errors.append((
                f"{where_en}: code must be lowercase letters, digits and _",
                f"{where_id}: code harus berupa huruf kecil, angka, dan _",
            ))
        else:
            where_en, where_id = f"agency '{agency['code']}'", f"instansi '{agency['code']}'"
        if agency.get("kind") not in AGENCY_KINDS:
            errors.append((
                f"{where_en}: kind must be one of {', '.join(AGENCY_KINDS)}",
                f"{where_id}: kind harus salah satu dari {', '.join(AGENCY_KINDS)}",
            ))
        errors += [(f"{where_en}: {en}", f"{where_id}: {id_}") for en, id_ in _bilingual(agency, "name", required=True)]
        errors += [(f"{where_en}: {en}", f"{where_id}: {id_}") for en, id_ in _agency_role_errors(agency)]
    return errors


def _agency_role_errors(agency: dict[str, Any]) -> list[Message]:
    """Check an agency's `roles = [{ key = "...", name = { id = "...", en = "..." } }, ...]`."""
    roles = agency.get("roles", [])
    if agency.get("parent") is not None and roles:
        return [(
            f"a provider holds the roles of its marketplace '{agency['parent']}'; declare roles there",
            f"penyedia memegang peran milik marketplace '{agency['parent']}'; deklarasikan peran di sana",
        )]
    if not isinstance(roles, list):
        return [(
            'roles must be a list of { key = "...", name = { id = "...", en = "..." } } tables',
            'roles harus berupa daftar tabel { key = "...", name = { id = "...", en = "..." } }',
        )]
    errors: list[Message] = []
    seen: set[str] = set()
    for index, role in enumerate(roles, start=1):
        if not isinstance(role, dict):
            errors.append((f"roles item {index} must be a table", f"roles butir {index} harus berupa tabel"))
            continue
        key = role.get("key")
        if not isinstance(key, str) or not _ROLE_KEY_RE.match(key):
            errors.append((
                f"roles item {index}: key must be the role's own part, lowercase letters, digits and _ "
                '(key = "front_office" for the role dpmptsp.front_office)',
                f"roles butir {index}: key harus bagian nama peran itu sendiri, huruf kecil, angka, dan _ "
                '(key = "front_office" untuk peran dpmptsp.front_office)',
            ))
            continue
        if key in seen:
            errors.append((f"role '{key}' is declared twice", f"peran '{key}' dideklarasikan dua kali"))
        seen.add(key)
        names = _bilingual(role, "name", required=True)
        errors += [(f"role '{key}': {en}", f"peran '{key}': {id_}") for en, id_ in names]
        if unknown := sorted(set(role) - {"key", "name"}):
            errors.append((
                f"role '{key}': unknown key(s) {', '.join(unknown)}",
                f"peran '{key}': kunci tidak dikenal {', '.join(unknown)}",
            ))
    return errors


def declared_agencies(service: dict[str, Any]) -> set[str]:
    """Return the codes of the agencies a service.toml declares under [[agencies]]."""
    agencies = service.get("agencies", [])
    if not isinstance(agencies, list):
        return set()
    return {a["code"] for a in agencies if isinstance(a, dict) and isinstance(a.get("code"), str)}


def declared_roles(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Return the roles a service.toml declares, `agency.role` -> (Indonesian name, English name)."""
    found: dict[str, tuple[str, str]] = {}
    agencies = service.get("agencies", [])
    for agency in agencies if isinstance(agencies, list) else []:
        if not isinstance(agency, dict) or not isinstance(agency.get("code"), str):
            continue
        roles = agency.get("roles", [])
        if not isinstance(roles, list):
            continue
        for role in roles:
            if isinstance(role, dict) and isinstance(role.get("key"), str):
                names = role["name"] if isinstance(role.get("name"), dict) else {}
                name_id = str(names.get("id") or "").strip()
                found[f"{agency['code']}.{role['key']}"] = (name_id, str(names.get("en") or "").strip() or name_id)
    return found


def candidate_group_roles(root: Any) -> dict[str, str]:
    """Map user-, manual- and plain-task ids to the first role `camunda:candidateGroups` names, if any."""
    roles: dict[str, str] = {}
    for task in root.iter(*(f"{{{BPMN_NS}}}{kind}" for kind in ("userTask", "manualTask", "task"))):
        groups = task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or ""
        for group in (g.strip() for g in groups.split(",")):
            if ROLE_RE.match(group) or group == APPLICANT_ROLE:
                roles[str(task.get("id"))] = group
                break
    return roles

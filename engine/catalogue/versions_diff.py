"""Compare two versions of a process package: which BPMN elements and which files changed.

Pure functions over the packages' files, so the studio can explain a new version before or
after it is deployed. Elements are matched by id across all the package's BPMN files; what is
compared for each is what the platform reads (docs/bpmn-conventions.md), not the diagram layout.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from engine.bpmn import conventions as cv
from engine.bpmn.conventions import BPMN_NS, NSMAP
from engine.bpmn.xmlsafe import parse_xml
from engine.errors import UnsafeXml
from engine.lint.diagram import split_tag

MAX_DIFF_LINES = 2000
# Children that only make up a parent element; their content is folded into the parent's facts.
_PART_SUFFIXES = ("EventDefinition", "LoopCharacteristics", "Expression", "laneSet", "definitions")
_TEXT_SUFFIXES = (".bpmn", ".dmn", ".json", ".toml", ".html", ".md", ".txt", ".css", ".svg")


@dataclass(frozen=True)
class FieldChange:
    """One fact of an element that differs between the versions."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ElementChange:
    """A BPMN element added, removed or changed between two versions."""

    element_id: str
    kind: str  # added | removed | changed
    type: str
    name: str
    fields: list[FieldChange] = field(default_factory=list)


@dataclass(frozen=True)
class FileChange:
    """A package file added, removed or changed, with a unified diff when it is text."""

    name: str
    kind: str  # added | removed | changed
    diff: str | None
    truncated: bool = False


@dataclass(frozen=True)
class VersionDiff:
    """Everything that differs between two versions of a package."""

    elements: list[ElementChange]
    files: list[FileChange]
    unreadable: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Tell whether the two versions are identical."""
        return not self.elements and not self.files

    def ids(self, kind: str) -> list[str]:
        """Return the ids of elements with one kind of change, for highlighting a diagram."""
        return [change.element_id for change in self.elements if change.kind == kind]


def diff_versions(before: dict[str, bytes], after: dict[str, bytes]) -> VersionDiff:
    """Compare the files of two package versions (name → content)."""
    unreadable: list[str] = []
    old = _package_elements(before, unreadable)
    new = _package_elements(after, unreadable)
    return VersionDiff(diff_elements(old, new), diff_files(before, after), unreadable)


def diff_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[FileChange]:
    """List files added, removed or changed, with a unified diff for changed text files."""
    changes: list[FileChange] = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            changes.append(FileChange(name, "added", None))
        elif name not in after:
            changes.append(FileChange(name, "removed", None))
        elif before[name] != after[name]:
            text, truncated = unified_diff(name, before[name], after[name])
            changes.append(FileChange(name, "changed", text, truncated))
    return changes


def unified_diff(name: str, before: bytes, after: bytes) -> tuple[str | None, bool]:
    """Return a unified diff of two text files (None for binary content) and whether it was cut."""
    if not name.endswith(_TEXT_SUFFIXES):
        return None, False
    try:
        old, new = before.decode("utf-8"), after.decode("utf-8")
    except UnicodeDecodeError:
        return None, False
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"a/{name}", f"b/{name}", lineterm=""))
    truncated = len(lines) > MAX_DIFF_LINES
    return "\n".join(lines[:MAX_DIFF_LINES]), truncated


def diff_elements(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[ElementChange]:
    """Compare element facts by id: added and removed elements, and changed facts of the rest."""
    changes: list[ElementChange] = []
    for element_id in sorted(set(old) | set(new)):
        was, now = old.get(element_id), new.get(element_id)
        if was is None and now is not None:
            changes.append(ElementChange(element_id, "added", now["type"], now.get("name", "")))
        elif now is None and was is not None:
            changes.append(ElementChange(element_id, "removed", was["type"], was.get("name", "")))
        elif was is not None and now is not None and was != now:
            fields = [FieldChange(key, was.get(key), now.get(key))
                      for key in sorted(set(was) | set(now)) if was.get(key) != now.get(key)]
            changes.append(ElementChange(element_id, "changed", now["type"], now.get("name", ""), fields))
    return changes


def _package_elements(files: dict[str, bytes], unreadable: list[str]) -> dict[str, dict[str, str]]:
    elements: dict[str, dict[str, str]] = {}
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = parse_xml(files[name], filename=name)
        except UnsafeXml:
            unreadable.append(name)
            continue
        elements.update(element_facts(root))
    return elements


def element_facts(root: Any) -> dict[str, dict[str, str]]:
    """Read, for every BPMN element with an id, the facts the platform acts on."""
    lanes = cv.lanes_by_node(root)
    facts: dict[str, dict[str, str]] = {}
    for element in root.iter():
        namespace, local = split_tag(element.tag)
        element_id = element.get("id")
        if namespace != BPMN_NS or not element_id or local.endswith(_PART_SUFFIXES):
            continue
        found = {"type": _type_of(element, local)}
        if element.get("name"):
            found["name"] = element.get("name", "")
        lane = lanes.get(element_id)
        if lane is not None:
            found["lane"] = lane.get("name") or lane.get("id", "")
        found.update(_content(element, local))
        facts[element_id] = found
    return facts


def _type_of(element: Any, local: str) -> str:
    kinds = [split_tag(child.tag)[1].removesuffix("EventDefinition")
             for child in element if split_tag(child.tag)[1].endswith("EventDefinition")]
    return f"{local} ({', '.join(kinds)})" if kinds else local


def _content(element: Any, local: str) -> dict[str, str]:
    """Collect an element's properties, expressions, scripts and references."""
    found = {_PROPERTY_FIELDS.get(name, f"property {name}"): value
             for name, value in cv.element_properties(element).items()}
    if local == "lane":
        # The role the runtime routes by, whether a property or the lane name states it.
        found["role"] = cv.lane_info(element).role or ""
    for attribute in ("sourceRef", "targetRef", "default", "attachedToRef", "calledElement", "processRef",
                      "messageRef", "cancelActivity", "isExecutable"):
        if element.get(attribute) is not None and _DEFAULTS.get(attribute) != element.get(attribute):
            found[attribute] = element.get(attribute, "")
    groups = element.get(f"{{{cv.CAMUNDA_NS}}}candidateGroups")
    if groups is not None:
        found["candidateGroups"] = groups
    for label, path in _TEXT_PARTS:
        texts = [(node.text or "").strip() for node in element.xpath(path, namespaces=NSMAP)]
        if texts:
            found[label] = "\n".join(texts)
    return found


# Attribute values BPMN assumes when absent: modelers drop them on save, which changes nothing.
_DEFAULTS = {"cancelActivity": "true"}
# Fact names for the properties the platform reads (docs/bpmn-conventions.md).
_PROPERTY_FIELDS = {
    "formJsonSchemaFilename": "form",
    "formUiSchemaFilename": "uiForm",
    "slaDays": "slaDays",
    "stage": "stage",
    "stageEn": "stageEn",
    "role": "roleProperty",
    "bindOrganisation": "bindOrganisation",
    "bindUser": "bindUser",
    "bindAgency": "bindAgency",
    "notify": "notify",
}
# What a modeller writes as text inside an element (its own, not its children's).
_TEXT_PARTS: tuple[tuple[str, str], ...] = (
    ("condition", "./bpmn:conditionExpression"),
    ("script", "./bpmn:script"),
    ("preScript", "./bpmn:extensionElements/spiffworkflow:preScript"),
    ("postScript", "./bpmn:extensionElements/spiffworkflow:postScript"),
    ("instructions", "./bpmn:extensionElements/spiffworkflow:instructionsForEndUser"),
    ("calledDecisionId", "./bpmn:extensionElements/spiffworkflow:calledDecisionId"),
    ("timer", "./bpmn:timerEventDefinition/*"),
    ("messagePayload", ".//spiffworkflow:messagePayload"),
    ("messageVariable", ".//spiffworkflow:messageVariable"),
    ("loop", "./bpmn:multiInstanceLoopCharacteristics/*|./bpmn:standardLoopCharacteristics/*"),
)

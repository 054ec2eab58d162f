"""A data-flow model of a package: the case-data fields surely or maybe set before each element.

A forward analysis over each process's flow graph, iterated to a fixed point so loops settle.
The state before an element holds the fields set on every path from the start (`surely`,
intersected where paths merge, united where parallel branches join) and those set on some path
(`maybe`). What sets fields: the start form and task forms (required properties surely, optional
ones maybe), script assignments, DMN outputs, service-task results, message variables and
multi-instance items. Sub-processes and call activities are analysed with the state they are
entered with; their end states flow back. `engine.lint.data` checks every reader against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.bpmn import conventions as cv
from engine.bpmn.conventions import FLOW_NODES, NSMAP
from engine.catalogue.package import Package
from engine.lint.diagram import bpmn_tag, split_tag
from engine.lint.names import Fact, equality_facts, script_effect

PLATFORM = "<platform>"
_TASKS_WITH_FORMS = ("userTask", "manualTask", "task")


@dataclass(frozen=True)
class FieldInfo:
    """One place that sets a field, with what it says of the field's type and values."""

    name: str
    source: str  # element id, or a file for the start form
    types: frozenset[str] = frozenset()  # JSON Schema types; empty when unknown
    enum: frozenset[Any] | None = None  # allowed values, when the source lists them


@dataclass(frozen=True)
class State:
    """Fields before (or after) one element: `surely` is None until some path reaches it."""

    surely: frozenset[str] | None
    maybe: frozenset[str] = frozenset()

    def has(self, name: str) -> bool:
        """Tell whether the field is set on every path reaching this point."""
        return self.surely is not None and name in self.surely


TOP = State(None)


def meet(states: Iterable[State]) -> State:
    """Merge paths that join at an exclusive or inclusive merge: surely on all, maybe on any."""
    surely: frozenset[str] | None = None
    maybe: frozenset[str] = frozenset()
    for state in states:
        if state.surely is not None:
            surely = state.surely if surely is None else surely & state.surely
        maybe |= state.maybe
    return State(surely, maybe | (surely or frozenset()))


def join(states: list[State]) -> State:
    """Merge branches a parallel gateway waits for: each branch's fields are all set."""
    if not states or any(s.surely is None for s in states):
        return TOP
    surely = frozenset().union(*(s.surely or frozenset() for s in states))
    return State(surely, frozenset().union(*(s.maybe for s in states)) | surely)


@dataclass
class Effect:
    """What one element sets, for sure and on some paths, and what it removes."""

    surely: set[str] = field(default_factory=set)
    maybe: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)

    def apply(self, state: State) -> State:
        """Return the state after the element."""
        if state.surely is None:
            return state
        surely = (state.surely - self.removed) | self.surely
        return State(frozenset(surely), frozenset((state.maybe - self.removed) | self.maybe | surely))


@dataclass
class Model:
    """The result: field sources, the state before and after each element, and the flow graph."""

    fields: dict[str, list[FieldInfo]] = field(default_factory=dict)
    before: dict[str, State] = field(default_factory=dict)
    after: dict[str, State] = field(default_factory=dict)
    preds: dict[str, list[str]] = field(default_factory=dict)
    starts: set[str] = field(default_factory=set)
    # (field, value) -> fields a form requires when that field has that value (if/then)
    implied: dict[tuple[str, Any], set[str]] = field(default_factory=dict)

    def refine(self, state: State, facts: list[Fact]) -> State:
        """Return the state on a flow whose condition proves `facts`: forms' if/then requirements hold."""
        if state.surely is None or not facts:
            return state
        gained: set[str] = set()
        for name, values in facts:
            sets = [self.implied.get((name, v), set()) for v in values]
            if sets:
                gained |= set.intersection(*sets)
        gained &= state.maybe
        return State(state.surely | gained, state.maybe) if gained else state

    def add_field(self, info: FieldInfo) -> None:
        """Record a place that sets a field."""
        found = self.fields.setdefault(info.name, [])
        if info not in found:
            found.append(info)

    def enum_of(self, name: str) -> frozenset[Any] | None:
        """Return every value a field can hold when all its sources list them, else None."""
        infos = self.fields.get(name, [])
        if not infos or any(i.enum is None for i in infos):
            return None
        return frozenset().union(*(i.enum or frozenset() for i in infos))

    def types_of(self, name: str) -> frozenset[str]:
        """Return the JSON types a field can have, or empty when some source does not say."""
        infos = self.fields.get(name, [])
        if not infos or any(not i.types for i in infos):
            return frozenset()
        return frozenset().union(*(i.types for i in infos))

    def record(self, table: dict[str, State], node_id: str, state: State) -> None:
        """Merge one analysis's state into what is known of a point (call sites merge)."""
        old = table.get(node_id)
        table[node_id] = state if old is None else meet([old, state])

    def path_missing(self, node_id: str, name: str) -> list[str]:
        """Return element ids along a path from a start to node_id on which `name` is never set."""
        parents: dict[str, str | None] = {node_id: None}
        queue = [node_id]
        while queue:
            current = queue.pop(0)
            if current in self.starts:
                path = []
                step: str | None = current
                while step is not None:
                    path.append(step)
                    step = parents[step]
                return path
            for pred in self.preds.get(current, []):
                after = self.after.get(pred, TOP)
                if pred not in parents and after.surely is not None and name not in after.surely:
                    parents[pred] = current
                    queue.append(pred)
        return [node_id]


# ---------------------------------------------------------------- forms


def conditional_requirements(schema: Any) -> Iterator[tuple[str, Any, set[str]]]:
    """Yield (field, value, required fields) for each `if: {field: const}` / `then: required` of a form."""
    if not isinstance(schema, dict):
        return
    for part in [schema, *(p for p in schema.get("allOf") or [] if isinstance(p, dict))]:
        cond, then = part.get("if"), part.get("then")
        if not (isinstance(cond, dict) and isinstance(then, dict) and isinstance(then.get("required"), list)):
            continue
        required = {r for r in then["required"] if isinstance(r, str)}
        for name, prop in (cond.get("properties") or {}).items():
            if isinstance(prop, dict) and "const" in prop and _hashable(prop["const"]):
                yield name, prop["const"], required
            elif isinstance(prop, dict) and isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1:
                yield name, prop["enum"][0], required


def form_fields(schema: Any, source: str) -> tuple[list[FieldInfo], set[str]]:
    """Return the fields a JSON Schema form can set and the names it requires."""
    infos: list[FieldInfo] = []
    required: set[str] = set()
    if not isinstance(schema, dict):
        return infos, required
    for name, prop in _properties(schema):
        infos.append(_field_info(name, prop, source))
    top = schema.get("required")
    if isinstance(top, list):
        required |= {r for r in top if isinstance(r, str)}
    for part in schema.get("allOf") or []:
        if isinstance(part, dict) and isinstance(part.get("required"), list):
            required |= {r for r in part["required"] if isinstance(r, str)}
    return infos, required


def _properties(schema: dict[str, Any], depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > 8:
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        yield from ((k, v) for k, v in props.items() if isinstance(k, str))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict):
                yield from _properties(part, depth + 1)
    for key in ("then", "else"):
        if isinstance(schema.get(key), dict):
            yield from _properties(schema[key], depth + 1)
    for part in (schema.get("dependentSchemas") or {}).values():
        if isinstance(part, dict):
            yield from _properties(part, depth + 1)


def _field_info(name: str, prop: Any, source: str) -> FieldInfo:
    if not isinstance(prop, dict):
        return FieldInfo(name, source)
    kind = prop.get("type")
    types = frozenset([kind] if isinstance(kind, str) else [k for k in kind or [] if isinstance(k, str)])
    enum = prop.get("enum")
    if "const" in prop:
        enum = [prop["const"]]
    elif enum is None and isinstance(prop.get("oneOf"), list):
        consts = [o.get("const") for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
        enum = consts if consts and len(consts) == len(prop["oneOf"]) else None
    values = frozenset(v for v in enum if _hashable(v)) if isinstance(enum, list) else None
    return FieldInfo(name, source, types, values)


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def load_form(package: Package, path: str | None) -> Any:
    """Return a form file of the package parsed, or None when it is missing or not JSON."""
    if not path or path not in package.files:
        return None
    try:
        return json.loads(package.files[path].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


# ---------------------------------------------------------------- analysis


class Analyzer:
    """Builds the model for one package: `Analyzer(package, processes, decisions).run(key, entry)`."""

    def __init__(self, package: Package, processes: dict[str, Any], decisions: dict[str, list[str]]) -> None:
        self.package = package
        self.processes = processes  # process id -> <bpmn:process>
        self.decisions = decisions  # decision id -> output names
        self.model = Model()
        self._effects: dict[str, Effect] = {}
        self._calling: list[str] = []
        self._operations: dict[str, str | None] | None = None  # operation -> stored field (connectors.toml)

    def run(self, key: str, entry: State) -> Model:
        """Analyse the main process from its entry state, and every process no call reaches."""
        for process in self.processes.values():  # forms and decisions first: flows' facts need their enums
            for node in process.iter():
                if split_tag(node.tag)[1] in FLOW_NODES and node.get("id"):
                    self._effect(node)
        if key in self.processes:
            self._container(self.processes[key], entry)
        called = {c.get("calledElement") for p in self.processes.values() for c in p.iter(bpmn_tag("callActivity"))}
        for pid, process in self.processes.items():
            if pid != key and pid not in called:
                self._container(process, entry)
        return self.model

    # --------------------------------------------------------- graph

    def _container(self, container: Any, entry: State) -> State:
        nodes = {n.get("id"): n for n in container if split_tag(n.tag)[1] in FLOW_NODES and n.get("id")}
        preds: dict[str, list[str]] = {n: [] for n in nodes}
        facts: dict[tuple[str, str], list[Fact]] = {}
        for flow in container.findall(bpmn_tag("sequenceFlow")):
            source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
            if source in nodes and target in nodes:
                preds[target].append(source)
                facts[(source, target)] = self._flow_facts(flow, nodes[source], container)
        for node_id, preds_of in preds.items():
            self.model.preds.setdefault(node_id, []).extend(p for p in preds_of if p not in self.model.preds[node_id])
        before: dict[str, State] = dict.fromkeys(nodes, TOP)
        after: dict[str, State] = dict.fromkeys(nodes, TOP)
        for _ in range(len(nodes) + 10):
            changed = False
            for node_id, node in nodes.items():
                incoming = {p: self.model.refine(after[p], facts.get((p, node_id), [])) for p in preds[node_id]}
                new_before = self._entry_state(node, node_id, incoming, before, entry)
                new_after = self._transfer(node, new_before)
                if new_before != before[node_id] or new_after != after[node_id]:
                    before[node_id], after[node_id], changed = new_before, new_after, True
            if not changed:
                break
        for node_id in nodes:
            self.model.record(self.model.before, node_id, before[node_id])
            self.model.record(self.model.after, node_id, after[node_id])
        ends = [after[n] for n, node in nodes.items() if split_tag(node.tag)[1] == "endEvent"]
        return meet(ends) if ends else entry

    def _entry_state(self, node: Any, node_id: str, incoming: dict[str, State], before: dict[str, State],
                     entry: State) -> State:
        kind = split_tag(node.tag)[1]
        states = list(incoming.values())
        if kind == "startEvent" or node.get("triggeredByEvent") == "true":
            self.model.starts.add(node_id)
            return meet([entry, *states])
        if kind == "boundaryEvent":
            # A boundary event fires while its activity runs: the activity's own data is not there yet.
            return before.get(node.get("attachedToRef", ""), TOP)
        if kind == "parallelGateway" and len(states) > 1:
            return join(states)
        return meet(states)

    def _flow_facts(self, flow: Any, source: Any, container: Any) -> list[Fact]:
        """Return what taking a flow proves: its condition, or for a default flow the others' negation."""
        cond = flow.find(bpmn_tag("conditionExpression"))
        if cond is not None and (cond.text or "").strip():
            return equality_facts(cond.text or "")
        if source.get("default") != flow.get("id"):
            return []
        others = [f.find(bpmn_tag("conditionExpression")) for f in container.findall(bpmn_tag("sequenceFlow"))
                  if f.get("sourceRef") == source.get("id") and f.get("id") != flow.get("id")]
        excluded: dict[str, set[Any]] = {}
        for other in others:
            found = equality_facts(other.text or "") if other is not None else []
            if len(found) != 1:
                return []
            excluded.setdefault(found[0][0], set()).update(found[0][1])
        if len(excluded) != 1:
            return []
        name, values = next(iter(excluded.items()))
        enum = self.model.enum_of(name)
        return [(name, frozenset(enum - values))] if enum is not None and enum - values else []

    def _transfer(self, node: Any, state: State) -> State:
        if state.surely is None:
            return state
        kind = split_tag(node.tag)[1]
        if kind in ("subProcess", "transaction", "adHocSubProcess"):
            state = self._nested(node, state)
        elif kind == "callActivity":
            state = self._call(node, state)
        return self._effect(node).apply(state)

    def _nested(self, node: Any, state: State) -> State:
        # Event sub-processes inside are nodes of the container and start from its entry state.
        return self._container(node, state)

    def _call(self, node: Any, state: State) -> State:
        called = (node.get("calledElement") or "").strip()
        process = self.processes.get(called)
        if process is None or called in self._calling:
            return state  # other rules report missing processes and call cycles
        self._calling.append(called)
        try:
            return self._container(process, state)
        finally:
            self._calling.pop()

    # --------------------------------------------------------- effects

    def _effect(self, node: Any) -> Effect:
        node_id = node.get("id", "")
        if node_id not in self._effects:
            self._effects[node_id] = self._compute_effect(node, node_id)
        return self._effects[node_id]

    def _compute_effect(self, node: Any, node_id: str) -> Effect:
        effect = Effect()
        kind = split_tag(node.tag)[1]
        self._scripts(node, node_id, effect, "preScript")
        if kind in _TASKS_WITH_FORMS:
            self._form(node, node_id, effect)
        elif kind == "scriptTask":
            script = node.find(bpmn_tag("script"))
            self._script(script.text if script is not None else "", node_id, effect)
        elif kind == "businessRuleTask":
            ref = node.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NSMAP)
            for name in self.decisions.get((ref.text or "").strip() if ref is not None else "", []):
                effect.surely.add(name)
                self.model.add_field(FieldInfo(name, node_id))
        elif kind == "serviceTask":
            operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NSMAP)
            result = operator.get("resultVariable") if operator is not None else None
            if result:
                effect.surely.add(result)
                self.model.add_field(FieldInfo(result, node_id))
            stored = self._stored_field(str(operator.get("id") or "")) if operator is not None else None
            if stored:  # written whenever the partner answers: known, but never sure at a later element
                self.model.add_field(FieldInfo(stored, node_id))
        for variable in node.xpath(".//spiffworkflow:messageVariable", namespaces=NSMAP):
            if variable.text and variable.text.strip():
                effect.surely.add(variable.text.strip())
                self.model.add_field(FieldInfo(variable.text.strip(), node_id))
        self._loops(node, node_id, effect)
        self._scripts(node, node_id, effect, "postScript")
        return effect

    def _stored_field(self, operation: str) -> str | None:
        """Return the case field connectors.toml's `store` gives the operation's answer, if any."""
        from engine.connectors.spec import FILE, described

        if self._operations is None:  # parsed once per package, not per service task
            self._operations = {name: op.store for name, op in described(self.package.files.get(FILE)).items()}
        return self._operations.get(operation)

    def _form(self, node: Any, node_id: str, effect: Effect) -> None:
        props = cv.element_properties(node)
        schema = load_form(self.package, self.package.form_path(props["formJsonSchemaFilename"])
                           if props.get("formJsonSchemaFilename") else None)
        infos, required = form_fields(schema, node_id)
        for name, value, fields in conditional_requirements(schema):
            self.model.implied.setdefault((name, value), set()).update(fields)
        for info in infos:
            self.model.add_field(info)
            (effect.surely if info.name in required else effect.maybe).add(info.name)

    def _scripts(self, node: Any, node_id: str, effect: Effect, tag: str) -> None:
        for script in node.findall(f"bpmn:extensionElements/spiffworkflow:{tag}", NSMAP):
            self._script(script.text or "", node_id, effect)

    def _script(self, source: str, node_id: str, effect: Effect) -> None:
        found = script_effect(source or "")
        if found is None:
            return
        effect.surely |= found.surely
        effect.maybe |= found.maybe
        effect.removed |= found.removed - found.surely
        for name in found.surely | found.maybe:
            values = found.constants.get(name)
            enum = frozenset(values) if values and all(_hashable(v) for v in values) else None
            self.model.add_field(FieldInfo(name, node_id, _types_of(values), enum if enum else None))

    def _loops(self, node: Any, node_id: str, effect: Effect) -> None:
        for loop in node.findall(bpmn_tag("multiInstanceLoopCharacteristics")):
            for tag in ("inputDataItem", "outputDataItem"):
                item = loop.find(bpmn_tag(tag))
                if item is not None and item.get("id"):
                    effect.maybe.add(item.get("id"))
                    self.model.add_field(FieldInfo(item.get("id"), node_id))
            output = loop.find(bpmn_tag("loopDataOutputRef"))
            if output is not None and (output.text or "").strip():
                effect.surely.add(output.text.strip())
                self.model.add_field(FieldInfo(output.text.strip(), node_id, frozenset({"array"})))


def _types_of(values: set[Any] | None) -> frozenset[str]:
    if not values:
        return frozenset()
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int | float):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("string")
        else:
            return frozenset()
    return frozenset(kinds)


def start_state(model: Model, service: dict[str, Any], package: Package) -> State:
    """Return the state a case starts with: the start form's fields and the channel."""
    schema = load_form(package, service.get("start_form") if isinstance(service.get("start_form"), str) else None)
    infos, required = form_fields(schema, str(service.get("start_form") or "service.toml"))
    for info in infos:
        model.add_field(info)
    for name, value, fields in conditional_requirements(schema):  # the start form's if/then, as a task form's
        model.implied.setdefault((name, value), set()).update(fields)
    channels = service.get("channels")
    values = frozenset(c for c in channels if isinstance(c, str)) if isinstance(channels, list) else None
    model.add_field(FieldInfo("channel", PLATFORM, frozenset({"string"}), values or frozenset(cv.CHANNELS)))
    names = {i.name for i in infos}
    surely = frozenset((required & names) | {"channel"})
    return State(surely, frozenset(names) | surely)


def build_model(package: Package, service: dict[str, Any], bpmn: list[Any], dmn: list[Any]) -> Model:
    """Build the data-flow model of a package from its parsed BPMN and DMN documents."""
    processes = {p.get("id"): p for root in bpmn for p in root.iter(bpmn_tag("process")) if p.get("id")}
    decisions: dict[str, list[str]] = {}
    for root in dmn:
        ns = split_tag(root.tag)[0]
        for decision in root.iter(f"{{{ns}}}decision"):
            outputs = decision.findall(f"{{{ns}}}decisionTable/{{{ns}}}output")
            decisions[decision.get("id", "")] = [o.get("name") for o in outputs if o.get("name")]
    analyzer = Analyzer(package, processes, decisions)
    entry = start_state(analyzer.model, service, package)
    key = service.get("key")
    return analyzer.run(key if isinstance(key, str) else "", entry)

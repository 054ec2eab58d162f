"""Validate submitted data against a form's JSON Schema, with field-level bilingual messages.

Form schemas come inside uploaded packages: trusted to deploy, not to run. Before a schema is used
it passes `schema_problems` (the rules lint applies too): bounded in depth and size, every `$ref`
resolves inside the form itself, no loop of references, and every pattern compiles on RE2. The
validator then resolves references through a registry whose retrieval refuses everything (never
jsonschema's deprecated fallback that fetched `http://` and `file://` URIs), and runs `pattern`,
`patternProperties`, `additionalProperties` and the `regex` format on RE2, whose time is linear in
the text: no pattern can stall the server.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import re2
from jsonschema import Draft202012Validator, FormatChecker, _keywords, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from forms.errors import DomainError

# Limits of a form file (lint refuses more, naming the limit). The catalogue's largest
# form is 6 levels deep, 166 values and 5 KiB: these leave room for any real form, not for a bomb.
MAX_SCHEMA_BYTES = 256 * 1024  # one form file (lint checks the file)
MAX_SCHEMA_DEPTH = 32  # nested objects and arrays, the top object being level 1
MAX_SCHEMA_NODES = 10_000  # values of every kind: keywords, property names, items
MAX_DATA_DEPTH = 64  # submitted data; a recursive schema would otherwise recurse as deep as the data
MAX_PATTERN_TEXT = 10_000  # characters a pattern is matched against (property names too); longer never match
# Keywords that apply their subschemas to the same instance: a loop of them through a $ref never ends.
IN_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "$ref", "$dynamicRef")


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: where, which rule, and what to tell the user."""

    path: str
    code: str
    message_id: str
    message_en: str


class FormInvalid(DomainError):
    """Submitted data does not satisfy the form; nothing was saved."""

    code = "form-invalid"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message_en}" for e in errors),
                         message_id="; ".join(f"{e.path}: {e.message_id}" for e in errors))
        self.field_errors = errors

    @property
    def errors(self) -> dict[str, str]:
        """Map each field path to its English message."""
        return {e.path: e.message_en for e in self.field_errors}


@dataclass(frozen=True)
class SchemaProblem:
    """One reason a form schema cannot be used: where (JSON pointer, form field) and what to do."""

    pointer: str
    field: str
    message_en: str
    message_id: str

    def where(self, lang: str = "en") -> str:
        """Name the place in the schema for people: the field when there is one, else the pointer."""
        if self.field:
            return f"{'isian' if lang == 'id' else 'field'} '{self.field}' ({self.pointer})"
        return self.pointer or ("tingkat teratas" if lang == "id" else "top level")


class FormSchemaUnsafe(FormInvalid):
    """The form's schema itself cannot be used (deployed before lint refused such schemas)."""

    def __init__(self, problems: list[SchemaProblem]) -> None:
        first = problems[0]
        super().__init__([FieldError(
            "(form)", "schema",
            f"Formulir ini tidak dapat dipakai: {first.where('id')}: {first.message_id} "
            "Analis layanan perlu memperbaiki formulirnya.",
            f"This form cannot be used: {first.where()}: {first.message_en} The service's analyst must fix the form.",
        )])
        self.problems = problems


_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("Wajib diisi.", "This field is required."),
    "type": ("Jenis isian tidak sesuai ({expected}).", "Wrong kind of value (expected {expected})."),
    "enum": ("Pilih salah satu: {expected}.", "Choose one of: {expected}."),
    "const": ("Nilai harus {expected}.", "Value must be {expected}."),
    "minimum": ("Minimal {expected}.", "Must be at least {expected}."),
    "exclusiveMinimum": ("Harus lebih dari {expected}.", "Must be greater than {expected}."),
    "maximum": ("Maksimal {expected}.", "Must be at most {expected}."),
    "exclusiveMaximum": ("Harus kurang dari {expected}.", "Must be less than {expected}."),
    "minLength": ("Minimal {expected} karakter.", "At least {expected} characters."),
    "maxLength": ("Maksimal {expected} karakter.", "At most {expected} characters."),
    "pattern": ("Format tidak sesuai.", "Does not match the expected format."),
    "format": ("Format {expected} tidak sesuai.", "Not a valid {expected}."),
    "minItems": ("Minimal {expected} item.", "At least {expected} items."),
    "maxItems": ("Maksimal {expected} item.", "At most {expected} items."),
    "additionalProperties": ("Isian tidak dikenal: {expected}.", "Unknown field(s): {expected}."),
}

_validators: dict[int, tuple[Any, Any]] = {}
MAX_CACHED = 512
_lock = threading.Lock()
# An address the mailer can send to: jsonschema's own "email" check only looks for an "@", so a
# form accepted "p  yélo@contoh.id" and the applicant was never told anything.
EMAIL_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def is_email_address(value: object) -> bool:
    """Tell whether a value is an e-mail address the platform can send to (non-strings pass)."""
    return not isinstance(value, str) or bool(EMAIL_ADDRESS.match(value))


# ---------------------------------------------------------------- patterns on RE2

_RE2 = re2.Options()
_RE2.log_errors = False  # a refused pattern is reported to the analyst, not logged by RE2 on stderr


def _regex(pattern: str) -> Any:
    return re2.compile(pattern, _RE2)  # RE2 keeps its own cache of compiled patterns


@functools.lru_cache(maxsize=1024)
def _schema_regex(pattern: str) -> Any:
    """Return a form's own pattern compiled: RE2's cache costs more to look up than this one.

    Only patterns of deployed schemas come here, never submitted values (the `regex` format), so what is
    kept is bounded by the forms; a pattern that does not compile raises and is not kept.
    """
    return _regex(pattern)


def _search(pattern: str, text: str) -> bool:
    """Tell whether a pattern matches anywhere in a text (JSON Schema's unanchored `pattern`).

    RE2 is linear in the text, but a crafted pattern (`(.*a){999}`) costs about 20 µs a character:
    a text longer than MAX_PATTERN_TEXT never matches, so no pattern costs more than a fraction of
    a second. Patterned fields hold codes, numbers and names, never pages.
    """
    if len(text) > MAX_PATTERN_TEXT:
        return False
    try:
        return _schema_regex(pattern).search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate: not text any pattern is meant to accept
        return False


def is_regex(value: object) -> bool:
    """Tell whether a value is a pattern RE2 compiles (non-strings pass): the `regex` format."""
    return not isinstance(value, str) or _regex(value) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    # RE2 is linear in the text, but a crafted pattern costs microseconds a character: a text that
    # its maxLength refuses anyway is not matched (the maxLength error tells the applicant).
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(instance) > limit:
        return
    if not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any,
                        schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _extras(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Return the keys neither `properties` nor `patternProperties` cover (jsonschema's, on RE2)."""
    properties, patterns = schema.get("properties", {}), list(schema.get("patternProperties", {}))
    return [k for k in instance if k not in properties and not any(_search(p, k) for p in patterns)]


def _additional_properties(validator: Any, additional: Any, instance: Any,
                           schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = _extras(instance, schema)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        unexpected = ", ".join(repr(extra) for extra in sorted(extras))
        yield ValidationError(f"Additional properties are not allowed ({unexpected} unexpected)")


# Keywords whose checks look at the instance alone: they never descend into a subschema nor resolve a reference.
FLAT_KEYWORDS = frozenset({
    "type", "enum", "const", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
    "required", "dependentRequired"})
_flat: dict[int, tuple[Any, list[tuple[Any, Any]] | None]] = {}


def _flat_checks(validator: Any, subschema: Any) -> list[tuple[Any, Any]] | None:
    """Return a subschema's (check, value) pairs when all its checks are flat, else None (computed once per object)."""
    entry = _flat.get(id(subschema))
    if entry is None or entry[0] is not subschema:
        checks: list[tuple[Any, Any]] | None = None
        if isinstance(subschema, dict):
            found = [(validator.VALIDATORS[k], v) for k, v in subschema.items() if k in validator.VALIDATORS]
            if all(k in FLAT_KEYWORDS for k in subschema if k in validator.VALIDATORS):
                checks = found
        entry = (subschema, checks)
        with _lock:
            _flat[id(subschema)] = entry
            while len(_flat) > MAX_CACHED * 64:
                _flat.pop(next(iter(_flat)))
    return entry[1]


def _properties(validator: Any, properties: dict[str, Any], instance: Any,
                schema: dict[str, Any]) -> Iterator[ValidationError]:
    """jsonschema's `properties`, except that a value a flat subschema accepts is not descended into.

    Descending builds a validator for the subschema (most of a form's checking time); a flat subschema's
    checks are the very functions that validator would run on the value, run here on this one (they use it
    only for its type and format checkers, which are the same). A value they refuse is descended into as
    before, so every error is jsonschema's own, with its path.
    """
    if not validator.is_type(instance, "object"):
        return
    for name, subschema in properties.items():
        if name in instance and not _flat_accepts(validator, subschema, instance[name]):
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


def _items(validator: Any, items: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """jsonschema's `items`, except that an item a flat subschema accepts is not descended into (see `_properties`)."""
    if "prefixItems" in schema or _flat_checks(validator, items) is None:
        yield from _keywords.items(validator, items, instance, schema)
        return
    if not validator.is_type(instance, "array"):
        return
    for index, item in enumerate(instance):
        if not _flat_accepts(validator, items, item):
            yield from validator.descend(item, items, path=index)


def _flat_accepts(validator: Any, subschema: Any, value: Any) -> bool:
    """Tell whether a flat subschema accepts a value (False: not flat, or refused, so descend to learn why)."""
    checks = _flat_checks(validator, subschema)
    return checks is not None and not any(True for check, arg in checks
                                          for _error in check(validator, arg, value, subschema) or ())


_formats = FormatChecker()
_formats.checks("email")(is_email_address)
_formats.checks("regex", raises=(re2.error, UnicodeEncodeError))(is_regex)
# The meta-schema check leaves patterns to `_pattern_problem`, which says what RE2 refuses and why.
_META_FORMATS = FormatChecker([f for f in Draft202012Validator.FORMAT_CHECKER.checkers if f != "regex"])
FormValidator = validators.extend(Draft202012Validator, {
    "pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties,
    "properties": _properties, "items": _items,
})


# ---------------------------------------------------------------- references: inside the form only


def _refuse(uri: str) -> Resource[Any]:
    """Retrieve nothing: a reference that is not inside the form is an error, never a fetch."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


# Without `registry=`, jsonschema falls back to a registry that fetches any URI with urlopen.
REGISTRY: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]


# ---------------------------------------------------------------- what makes a schema unusable


def _field(segments: tuple[str, ...]) -> str:
    """Return the form field a schema location concerns ("alamat.kode_pos", "anggota[].nik"), or ""."""
    names: list[str] = []
    i = 0
    while i < len(segments):
        segment = segments[i]
        if segment in ("properties", "patternProperties") and i + 1 < len(segments):
            names.append(segments[i + 1])
            i += 1
        elif segment in ("$defs", "definitions", "dependentSchemas"):
            i += 1  # a definition's name is no field
        elif segment in ("items", "prefixItems") and names:
            names[-1] += "[]"
        i += 1
    return ".".join(names)


def _problem(segments: tuple[str, ...], english: str, indonesian: str) -> SchemaProblem:
    pointer = "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)
    return SchemaProblem(pointer, _field(segments), english, indonesian)


def bounds_problem(document: Any) -> SchemaProblem | None:
    """Return why a form file's JSON is too deep or too large to be used, or None when it is within bounds."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_SCHEMA_NODES:
            return _problem((), f"the form has more than {MAX_SCHEMA_NODES} keywords and values; split it into "
                                "several steps",
                            f"formulir memiliki lebih dari {MAX_SCHEMA_NODES} kata kunci dan nilai; bagi menjadi "
                            "beberapa langkah")
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_SCHEMA_DEPTH:
            return _problem((), f"the form is nested deeper than {MAX_SCHEMA_DEPTH} levels of objects and arrays; "
                                "flatten it, or move repeated parts into $defs",
                            f"formulir bersarang lebih dari {MAX_SCHEMA_DEPTH} tingkat objek dan larik; "
                            "sederhanakan, atau pindahkan bagian yang berulang ke $defs")
        stack.extend((child, depth + 1) for child in _children(value))
    return None


def _children(value: dict[str, Any] | list[Any]) -> Iterable[Any]:
    return value.values() if isinstance(value, dict) else value


def _meta_problem(schema: dict[str, Any]) -> SchemaProblem | None:
    try:
        Draft202012Validator.check_schema(schema, format_checker=_META_FORMATS)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "the top level"
        return _problem(tuple(str(p) for p in exc.path),
                        f"not a valid JSON Schema (draft 2020-12) at {where}: {exc.message}",
                        f"bukan JSON Schema yang sah (draft 2020-12) di {where}: {exc.message}")
    return None


def _nodes(schema: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], dict[str, Any], Any]]:
    """Yield every object of the schema with its location and the resolver of its base URI.

    Every object, not only those in schema positions: a JSON-pointer `$ref` can use any of them.
    """
    stack: list[tuple[tuple[str, ...], Any, Any]] = [((), schema, REGISTRY.resolver_with_root(
        DRAFT202012.create_resource(schema)))]
    while stack:
        segments, value, resolver = stack.pop()
        if isinstance(value, list):
            stack.extend(((*segments, str(i)), item, resolver) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, dict):
            if segments and isinstance(value.get("$id"), str) and _is_uri(value["$id"]):
                resolver = resolver.in_subresource(DRAFT202012.create_resource(value))
            yield segments, value, resolver
            stack.extend(((*segments, str(k)), v, resolver) for k, v in reversed(value.items()))


def _is_uri(text: str) -> bool:
    try:
        urlsplit(text)
    except ValueError:  # "http://[x": resolving against it would raise deep inside jsonschema
        return False
    return True


def _resolve(resolver: Any, ref: str) -> Any:
    """Return what a reference points to inside the form; raise Unresolvable for anything else."""
    try:
        return resolver.lookup(ref).contents
    except (ValueError, TypeError, LookupError, AttributeError) as exc:  # a pointer through a non-container
        raise Unresolvable(ref=ref) from exc


def _ref_problem(segments: tuple[str, ...], keyword: str, ref: str, resolver: Any) -> SchemaProblem | None:
    try:
        _resolve(resolver, ref)
    except Unresolvable:
        pass
    else:
        return None
    where = (*segments, keyword)
    if ref.startswith("#"):
        return _problem(where, f"{keyword} '{ref}' points to nothing in this form; define it (e.g. under $defs) "
                               "or correct the reference",
                        f"{keyword} '{ref}' tidak menunjuk apa pun dalam formulir ini; definisikan (mis. di $defs) "
                        "atau perbaiki rujukannya")
    if not urlsplit(ref).scheme and not ref.startswith("//"):
        return _problem(where, f"{keyword} '{ref}' refers to another file; references between form files are not "
                               "supported: copy the definition into this form's $defs and refer to it as "
                               "'#/$defs/<name>'",
                        f"{keyword} '{ref}' merujuk berkas lain; rujukan antar-berkas formulir tidak didukung: salin "
                        "definisinya ke $defs formulir ini dan rujuk sebagai '#/$defs/<nama>'")
    return _problem(where, f"{keyword} '{ref}' points outside this form; a form may refer only to its own "
                           "definitions, like '#/$defs/<name>' (nothing is ever fetched from the network or files)",
                    f"{keyword} '{ref}' menunjuk ke luar formulir ini; formulir hanya boleh merujuk definisinya "
                    "sendiri, seperti '#/$defs/<nama>' (tidak ada yang diambil dari jaringan atau dari berkas)")


def _pattern_problem(segments: tuple[str, ...], pattern: str) -> SchemaProblem | None:
    try:
        _regex(pattern)
    except (re2.error, UnicodeEncodeError) as exc:
        reason = exc.args[0].decode("utf-8", "replace") if isinstance(exc.args[0], bytes) else str(exc.args[0])
        return _problem(segments, f"the pattern '{pattern}' cannot be used ({reason}): patterns run on RE2, a "
                                  "linear-time engine without backreferences (\\1) or lookaround ((?=, (?!, (?<=, "
                                  "(?<!); rewrite it without them, e.g. check each part with its own field or "
                                  "pattern",
                        f"pola '{pattern}' tidak dapat dipakai ({reason}): pola dijalankan dengan RE2, mesin "
                        "berwaktu linear tanpa rujukan balik (\\1) atau lookaround ((?=, (?!, (?<=, (?<!); tulis "
                        "ulang tanpa keduanya, mis. periksa tiap bagian dengan isian atau pola sendiri")
    return None


def _node_problems(segments: tuple[str, ...], node: dict[str, Any], resolver: Any) -> Iterator[SchemaProblem]:
    if segments and "$schema" in node:
        # jsonschema switches to the validator a nested $schema names, with Python `re` patterns.
        yield _problem((*segments, "$schema"), "$schema may be given only at the top of a form; remove it here",
                       "$schema hanya boleh di tingkat teratas formulir; hapus di sini")
    if isinstance(node.get("$id"), str) and not _is_uri(node["$id"]):
        yield _problem((*segments, "$id"), f"$id '{node['$id']}' is not a valid URI; remove it or correct it",
                       f"$id '{node['$id']}' bukan URI yang sah; hapus atau perbaiki")
    for keyword in ("$ref", "$dynamicRef"):
        if isinstance(node.get(keyword), str) and (found := _ref_problem(segments, keyword, node[keyword], resolver)):
            yield found
    if isinstance(node.get("pattern"), str) and (found := _pattern_problem((*segments, "pattern"), node["pattern"])):
        yield found
    if isinstance(node.get("patternProperties"), dict):
        for key in node["patternProperties"]:
            if found := _pattern_problem((*segments, "patternProperties", key), key):
                yield found


def _loop_problem(nodes: list[tuple[tuple[str, ...], dict[str, Any], Any]]) -> SchemaProblem | None:
    """Find references that lead back to themselves on the same value (checking would never end)."""
    where = {id(node): segments for segments, node, _ in nodes}
    edges: dict[int, list[int]] = {}
    for _segments, node, resolver in nodes:
        targets: list[Any] = []
        for keyword in IN_PLACE:
            value = node.get(keyword)
            if keyword.startswith("$") and isinstance(value, str):
                try:
                    targets.append(_resolve(resolver, value))
                except Unresolvable:
                    continue  # reported by _ref_problem
            elif keyword in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
                targets.extend(value)
            elif keyword == "dependentSchemas" and isinstance(value, dict):
                targets.extend(value.values())
            elif keyword in ("not", "if", "then", "else"):
                targets.append(value)
        edges[id(node)] = [id(t) for t in targets if isinstance(t, dict) and id(t) in where]
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for start in edges:
        stack = [(start, iter(edges[start]))]
        state.setdefault(start, 1)
        while stack and state[start] != 2:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                stack.pop()
            elif state.get(child) == 1:
                return _problem(where[current], "this part refers back to itself (through $ref) without going into "
                                             "a field, so checking would never end; break the loop",
                                "bagian ini merujuk kembali ke dirinya sendiri (lewat $ref) tanpa masuk ke isian, "
                                "sehingga pemeriksaan tidak akan selesai; putuskan putarannya")
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(edges[child])))
    return None


def schema_problems(schema: Any) -> list[SchemaProblem]:
    """Return why a form schema cannot be used safely: empty when it can (lint and validation ask this)."""
    if not isinstance(schema, dict):
        return [_problem((), "a form schema must be a JSON object", "skema formulir harus berupa objek JSON")]
    first = bounds_problem(schema) or _meta_problem(schema)
    if first is not None:
        return [first]  # nothing below is safe, or meaningful, on such a document
    nodes = list(_nodes(schema))
    problems = [problem for segments, node, resolver in nodes for problem in _node_problems(segments, node, resolver)]
    if any("unevaluatedProperties" in node for _, node, _ in nodes) and any(
            isinstance(node.get("patternProperties"), dict) for _, node, _ in nodes):
        # jsonschema's unevaluatedProperties matches patternProperties with Python `re`, not RE2.
        problems.append(_problem((), "unevaluatedProperties cannot be combined with patternProperties in a form; "
                                     "use additionalProperties instead",
                                 "unevaluatedProperties tidak dapat digabung dengan patternProperties dalam "
                                 "formulir; gunakan additionalProperties"))
    if not problems and (loop := _loop_problem(nodes)) is not None:
        problems.append(loop)
    return problems


# ---------------------------------------------------------------- validation


def _validator(schema: dict[str, Any]) -> Any:
    """Return the validator of a schema, built once; raise FormSchemaUnsafe for an unusable schema."""
    # Keyed by identity: schemas come from cached process versions and live as long as they do.
    entry = _validators.get(id(schema))
    if entry is None or entry[0] is not schema:
        problems = schema_problems(schema)
        # The root's own $schema goes: a `$ref: "#"` would otherwise switch to jsonschema's stock validator.
        built = problems or FormValidator({k: v for k, v in schema.items() if k != "$schema"}, registry=REGISTRY,
                                          format_checker=_formats)
        entry = (schema, built)
        with _lock:
            _validators[id(schema)] = entry
            while len(_validators) > MAX_CACHED:  # callers that pass a fresh dict each time
                _validators.pop(next(iter(_validators)))
    if isinstance(entry[1], list):
        raise FormSchemaUnsafe(entry[1])
    return entry[1]


def check_usable(schema: dict[str, Any]) -> None:
    """Raise FormSchemaUnsafe when a form schema cannot be used (checked once per schema object)."""
    _validator(schema)


def _too_deep(data: Any) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DATA_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in _children(value))
    return False


def _field_error(error: ValidationError) -> FieldError:
    path = ".".join(str(p) for p in error.absolute_path)
    expected: Any = error.validator_value
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path = f"{path}.{missing}" if path else missing
        expected = ""
    elif error.validator == "additionalProperties":
        expected = ", ".join(sorted(_extras(error.instance, error.schema)))
    elif error.validator == "enum":
        expected = ", ".join(str(v) for v in expected)
    message_id, message_en = _MESSAGES.get(str(error.validator), ("Isian tidak valid.", "Invalid value."))
    return FieldError(path or "(form)", str(error.validator),
                      message_id.format(expected=expected), message_en.format(expected=expected))


def validate(schema: dict[str, Any] | None, data: Any) -> dict[str, Any]:
    """Return the data when it satisfies the schema; raise FormInvalid listing every bad field."""
    if not isinstance(data, dict):
        raise FormInvalid([FieldError("(form)", "type", "Data harus berupa objek.", "Data must be an object.")])
    if schema is None:
        return data
    validator = _validator(schema)
    if _too_deep(data):
        raise FormInvalid([FieldError("(form)", "depth", f"Data bersarang lebih dari {MAX_DATA_DEPTH} tingkat.",
                                      f"Data is nested deeper than {MAX_DATA_DEPTH} levels.")])
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    except (Unresolvable, RecursionError) as exc:  # not expected after schema_problems; never a 500
        raise FormSchemaUnsafe([_problem((), "the schema cannot be applied (a reference that does not resolve, or "
                                             "one that never ends)",
                                          "skema tidak dapat diterapkan (rujukan yang tidak dapat diselesaikan, atau "
                                          "yang tidak pernah berakhir)")]) from exc
    if errors:
        by_path: dict[str, FieldError] = {}
        for error in errors:
            field = _field_error(error)
            by_path.setdefault(field.path, field)
        raise FormInvalid(list(by_path.values()))
    return data

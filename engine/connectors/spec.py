"""The package's `connectors.toml`: operations described as data (method, path, body, response).

A package never carries a URL or a secret: an operation names a `system`, whose base URL and
credential an admin binds (engine.connectors.bindings). docs/connectors.md documents the format.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

FILE = "connectors.toml"
# Operations with a Python adapter registered by engine.runtime.build_runtime; a test keeps them equal.
BUILT_IN_OPERATIONS = frozenset({"disdukcapil.serahkan", "pembayaran.buat_tagihan", "koreksi_data.terapkan"})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SYSTEM = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
KEYS = {"system", "method", "path", "body", "timeout_s", "retries", "reply", "store", "error_reply", "error_event",
        "optional", "response"}
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


class SpecInvalid(Exception):
    """connectors.toml cannot be used; `problems` lists what is wrong, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Operation:
    """One described call: where it goes, what it sends, what comes back into the case."""

    name: str
    system: str
    method: str
    path: str
    reply: str | None  # the message delivered on success; or None with `store`
    body: dict[str, Any] | None = None
    error_reply: str | None = None
    error_event: str | None = None  # the errorCode thrown into the case on a refusal or when retries run out
    optional: bool = False  # an unbound system skips the call (the city has no such integration)
    store: str | None = None  # the case field the answer is written into when it comes; nothing waits for it
    timeout_s: float = 10.0
    retries: int = 3
    response: dict[str, str] = field(default_factory=dict)

    def path_fields(self) -> list[str]:
        """Return the case fields the path names."""
        return PLACEHOLDER.findall(self.path)

    def body_fields(self) -> list[str]:
        """Return the case fields the body template names (the first part of a dotted name)."""
        return [name.split(".")[0] for name in _template_fields(self.body or {})]


def _template_fields(template: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for value in template.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict) and "value" not in value:
            out += _template_fields(value)
    return out


def path_problem(path: str) -> str | None:
    """Say why a path may not be joined to a bound base URL, or None when it may."""
    if not path.startswith("/"):
        return f"path '{path}' must start with '/'"
    if "//" in path or ".." in path or "\\" in path or "://" in path or "@" in path or "#" in path:
        return f"path '{path}' may not hold '//', '..', '\\', '@', '#' or a full URL: the admin binds the host"
    return None


def _body_problems(template: Any, where: str) -> list[str]:
    if not isinstance(template, dict):
        return [f"{where} must be a table"]
    out: list[str] = []
    for key, value in template.items():
        if isinstance(value, dict) and "value" in value:
            if set(value) != {"value"}:
                out.append(f"{where}.{key}: a literal is {{ value = ... }} alone")
        elif isinstance(value, dict):
            out += _body_problems(value, f"{where}.{key}")
        elif not isinstance(value, str) or not value:
            out.append(f"{where}.{key} must name a case field (a string), a nested table or {{ value = ... }}")
    return out


def _operation(name: str, raw: Any) -> tuple[Operation | None, list[str]]:
    where = f"operations.\"{name}\""
    if not isinstance(raw, dict):
        return None, [f"{where} must be a table"]
    out = [f"{where}: unknown key '{k}'" for k in sorted(set(raw) - KEYS)]
    system, method, path, reply = raw.get("system"), raw.get("method", "POST"), raw.get("path"), raw.get("reply")
    if not isinstance(system, str) or not SYSTEM.match(system):
        out.append(f"{where}: system must be a lower-case code like 'bpjs_tk'")
    if method not in METHODS:
        out.append(f"{where}: method must be one of {', '.join(METHODS)}")
    problem = path_problem(path) if isinstance(path, str) else f"{where}: path is required"
    if problem:
        out.append(f"{where}: {problem}" if isinstance(path, str) else problem)
    store = raw.get("store")
    if store is not None and not (isinstance(store, str) and FIELD.match(store)):
        out.append(f"{where}: store must name a case field like 'simbg' (letters, digits, '_')")
    if ("reply" in raw) == (store is not None):
        out.append(f"{where}: give either reply (a message the diagram waits for) or store (a case field the "
                   f"answer is written into), one of them")
    if store is not None and ("error_reply" in raw or "error_event" in raw):
        out.append(f"{where}: a stored answer has no error_reply or error_event: nothing waits for it, so a "
                   f"failure is stored too, as {{ galat = {{ status, body, message }} }}")
    for key in ("reply", "error_reply"):
        if key in raw and not (isinstance(raw.get(key), str) and raw.get(key)):
            out.append(f"{where}: {key} must name a message the diagram waits for")
    error_event, optional = raw.get("error_event"), raw.get("optional", False)
    if error_event is not None and not (isinstance(error_event, str) and ERROR_CODE.match(error_event)):
        out.append(f"{where}: error_event must be an error code like 'LAPOR_GAGAL' (letters, digits, _ . -)")
    if error_event is not None and "error_reply" in raw:
        out.append(f"{where}: use error_reply (a message) or error_event (a boundary error), not both")
    if not isinstance(optional, bool):
        out.append(f"{where}: optional must be true or false")
    timeout, retries = raw.get("timeout_s", 10), raw.get("retries", 3)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 120:
        out.append(f"{where}: timeout_s must be a number of seconds above 0, at most 120")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        out.append(f"{where}: retries must be a whole number from 0 to 10")
    if "body" in raw:
        out += _body_problems(raw["body"], f"{where}.body")
    response = raw.get("response", {})
    if not isinstance(response, dict) or not all(
            isinstance(v, str) and (v == "" or v.startswith("/")) for v in response.values()):
        out.append(f"{where}.response: each field maps to a JSON pointer like \"/data/nomor\"")
    if out:
        return None, out
    return Operation(name=name, system=str(system), method=str(method), path=str(path),
                     reply=str(reply) if reply is not None else None, store=store,
                     body=raw.get("body"), error_reply=raw.get("error_reply"), error_event=error_event,
                     optional=bool(optional), timeout_s=float(timeout),
                     retries=int(retries), response=dict(response)), []


def parse(text: str) -> dict[str, Operation]:
    """Parse connectors.toml into operations by name; raise SpecInvalid listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecInvalid([f"not valid TOML: {exc}"]) from exc
    operations = raw.get("operations", {})
    problems = [f"unknown top-level key '{k}'" for k in sorted(set(raw) - {"operations"})]
    if not isinstance(operations, dict):
        raise SpecInvalid([*problems, "[operations] must be a table of operations"])
    found: dict[str, Operation] = {}
    for name, body in operations.items():
        operation, errors = _operation(name, body)
        problems += errors
        if operation is not None:
            found[name] = operation
    if problems:
        raise SpecInvalid(problems)
    return found


def described(raw: bytes | None) -> dict[str, Operation]:
    """Return the operations a package's connectors.toml describes; {} when it is absent or invalid.

    For readers that only need what is described (lint's other rules, the data-flow model): the
    shape's problems are reported once, by engine.lint.connectors.
    """
    if raw is None:
        return {}
    try:
        return parse(raw.decode("utf-8", errors="replace"))
    except SpecInvalid:
        return {}

"""Load a package with SpiffWorkflow's own parser, as the runtime will, and say what it refuses.

Lint runs this last (its own rules explain most faults better); the messages are made readable:
no Python object addresses, no sentences cut off, elements named by tag and id.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from typing import Any

from engine.bpmn.conventions import BPMN_NS
from engine.catalogue.package import Package
from engine.errors import Problem

PACKAGE = "<package>"


def split_tag(tag: Any) -> tuple[str | None, str]:
    """Split an lxml tag into (namespace, local name)."""
    if isinstance(tag, str) and tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return None, str(tag)



def load_problems(package: Package, key: str) -> list[Problem]:
    """Load a package the way the runtime does; return what SpiffWorkflow refuses (and XSD warnings).

    On success the parser is kept with the package, so compiling it does not parse again.
    """
    report: list[Problem] = []
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
    from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

    parser = SpiffBpmnParser()
    steps: list[tuple[str, Callable[[], object]]] = []
    for name in package.bpmn_files:
        _check_schema(VALIDATOR, package, name, report)
        steps.append((name, _loader(parser.add_bpmn_xml, package, name)))
    for name in package.dmn_files:
        steps.append((name, _loader(parser.add_dmn_xml, package, name)))
    steps.append((PACKAGE, lambda: parser.get_subprocess_specs(key)))
    steps.append((PACKAGE, lambda: [parser.get_spec(pid) for pid in parser.get_process_ids()]))
    steps.append((PACKAGE, lambda: [dmn.parse() for dmn in parser.dmn_parsers.values()]))
    for file, step in steps:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # deprecation notices about message payloads
                step()
        except ValidationException as exc:
            message = exception_text(exc)
            if exc.tag and message.endswith("of type"):  # SpiffWorkflow leaves this sentence open
                message += f" {exc.tag} ('{exc.id}')"
            elif exc.tag and exc.id and exc.id not in message:
                message += f" ({exc.tag} '{exc.id}')"
            report.append(Problem(
                exc.file_name or file,
                exc.id or None,
                f"SpiffWorkflow cannot load this: {message}",
                "error",
                f"SpiffWorkflow tidak dapat memuat ini: {message}",
            ))
            return report  # later steps would only repeat the same failure
        except Exception as exc:  # SpiffWorkflow raises bare exceptions for some diagrams
            message = f"{type(exc).__name__}: {exception_text(exc)}"
            report.append(Problem(
                file,
                None,
                f"SpiffWorkflow cannot load this: {message}",
                "error",
                f"SpiffWorkflow tidak dapat memuat ini: {message}",
            ))
            return report
    package.remember("spiff_parser", parser)  # compile takes it: SpiffWorkflow's parser runs once
    return report


_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_OBJECT_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")
_EXCEPTION_REPR = re.compile(r"^(\w+(?:Error|Exception|Exit))\((.*)\)$", re.DOTALL)
_XML_TEXT = re.compile(r"^\s*<(?:\w+:)?(\w+)\b[^>]*>", re.DOTALL)


def exception_text(exc: BaseException) -> str:
    """Return every argument of a SpiffWorkflow exception as one sentence, without object addresses."""
    text = _args_text(exc.args) or type(exc).__name__
    text += "".join(f". {note}" for note in getattr(exc, "notes", []) or [])
    return text


def _args_text(raw_args: tuple[object, ...]) -> str:
    args: list[object] = []
    for raw in raw_args:
        arg = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if isinstance(arg, BaseException):  # SpiffWorkflow wraps what its parser raised
            arg = f"{type(arg).__name__}: {exception_text(arg)}"
        elif isinstance(arg, str) and (xml := _XML_TEXT.match(arg)):
            element_id = re.search(r'\bid="([^"]*)"', xml.group(0))
            arg = f"<bpmn:{xml.group(1)}>" + (f" '{element_id.group(1)}'" if element_id else "")
        elif isinstance(arg, str) and (wrapped := _EXCEPTION_REPR.match(arg.strip())):
            arg = _unwrap(wrapped)  # the parser stores repr() of the exception it caught
        elif not isinstance(arg, str) and callable(getattr(arg, "get", None)) and hasattr(arg, "tag"):
            element: Any = arg  # an lxml element
            arg = f"<bpmn:{split_tag(element.tag)[1]}> '{element.get('id', '')}'"
        args.append(arg)
    first = str(args[0]) if args else ""
    if len(args) > 1 and "%" in first:
        try:
            text = first.replace("%r", "%s") % tuple(args[1:])
        except (TypeError, ValueError):
            text = " ".join(str(a) for a in args)
    else:
        text = " ".join(str(a) for a in args)
    text = _ELEMENT_REPR.sub(lambda m: f"<bpmn:{m.group(1)}>", text)
    return _OBJECT_REPR.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text).strip()


def _unwrap(match: re.Match[str]) -> str:
    try:
        inner = ast.literal_eval(f"({match.group(2)},)")
    except (ValueError, SyntaxError):
        return match.group(0)
    return f"{match.group(1)}: {_args_text(tuple(inner))}"


def _loader(add: Callable[..., object], package: Package, name: str) -> Callable[[], object]:
    return lambda: add(package.xml(name), filename=name)


def _check_schema(validator: Any, package: Package, name: str, report: list[Problem]) -> None:
    """Warn about departures from the BPMN 2.0 XSD; SpiffWorkflow itself does not require it."""
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    try:
        validator.validate(package.xml(name), name)
    except ValidationException as exc:
        line = f" (line {exc.line_number})" if exc.line_number else ""
        detail = str(exc.args[0]).replace(f"{{{BPMN_NS}}}", "bpmn:")
        report.append(Problem(name, None, f"the file does not follow the BPMN 2.0 schema{line}: {detail}",
                              "warning"))

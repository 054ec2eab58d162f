"""Domain errors raised by the engine; they know nothing of HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "engine_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One problem found in a package: where it is, what is wrong and what to change.

    `message` is English; `message_id` says the same in Bahasa Indonesia (filled from the
    translation table in `engine.lint_text` when a rule gives only English). `element_name` is
    the BPMN name of the element, for people who know their diagram by names, not ids.
    """

    file: str
    element_id: str | None
    message: str
    severity: str = "error"
    message_id: str = ""
    element_name: str = ""

    def text(self, lang: str = "en") -> str:
        """Return the message in a language: `id` (falling back to English) or `en`."""
        return self.message_id or self.message if lang == "id" else self.message

    def render(self, lang: str = "en") -> str:
        """Return one line for people: file#element (name): severity: message."""
        where = self.file + (f"#{self.element_id}" if self.element_id else "")
        if self.element_name:
            where += f" ({self.element_name})"
        severity = {"error": "galat", "warning": "peringatan"}.get(self.severity, self.severity)
        return f"{where}: {severity if lang == 'id' else self.severity}: {self.text(lang)}"

    def __str__(self) -> str:
        where = self.file + (f"#{self.element_id}" if self.element_id else "")
        return f"{where}: {self.severity}: {self.message}"


class PackageInvalid(EngineError):
    """The package failed lint; `problems` lists everything found."""

    code = "package_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"package has {len(errors)} error(s)")
        self.problems = problems


class UnsafeXml(EngineError):
    """An uploaded XML file was refused before parsing (DOCTYPE, entities, size, encoding)."""

    code = "unsafe_xml"

    def __init__(self, filename: str, message: str) -> None:
        super().__init__(f"{filename}: {message}")
        self.filename = filename


class NotFound(EngineError):
    """A named object does not exist (or the caller may not know it exists)."""

    code = "not_found"


class ProcessNotFound(NotFound):
    code = "process_not_found"


class CaseNotFound(NotFound):
    code = "case_not_found"


class TaskNotFound(NotFound):
    code = "task_not_found"


class AlreadyExists(EngineError):
    """Something with this name or code exists already."""

    code = "already_exists"


class CaseConflict(EngineError):
    """Someone else changed the case first; reload and try again."""

    code = "conflict"


class TaskAlreadyCompleted(CaseConflict):
    code = "task_already_completed"


class TaskClaimedByOther(CaseConflict):
    code = "task_claimed"


class TaskNotForYourRole(EngineError):
    code = "task_not_for_your_role"




class NotAllowed(EngineError):
    """The actor may not do this (for example, file an application for someone else)."""

    code = "not_allowed"


class InvalidInput(EngineError):
    """An argument is malformed (unknown channel, bad filter)."""

    code = "invalid_input"


@dataclass
class ScriptFailure(EngineError):
    """A script or expression in a diagram failed; becomes an incident on the case."""

    element_id: str
    detail: str
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.element_id}: {self.detail}")

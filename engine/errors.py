"""Domain errors raised by the engine; they know nothing of HTTP.

Every one derives from `DomainError` (defined in `forms.errors`, the lowest layer, so that
`forms.validation.FormInvalid` shares it) and names its kind of problem in `code`: the slug of the
problem type the web edge answers with. Subclasses that are not a kind of their own inherit it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forms.errors import DomainError

__all__ = ["AlreadyExists", "CaseConflict", "CaseNotFound", "DomainError", "InvalidInput",
           "NotAllowed", "NotFound", "PackageInvalid", "Problem", "ProcessNotFound", "ScriptFailure",
           "TaskAlreadyCompleted", "TaskClaimedByOther", "TaskNotForYourRole", "TaskNotFound", "UnsafeXml"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a package: where it is, what is wrong and what to change.

    `message` is English; `message_id` says the same in Bahasa Indonesia (filled from the
    translation table in `engine.lint.text` when a rule gives only English). `element_name` is
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


class PackageInvalid(DomainError):
    """The package failed lint; `problems` lists everything found."""

    code = "package-invalid"

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"package has {len(errors)} error(s)")
        self.problems = problems


class UnsafeXml(DomainError):
    """An uploaded XML file was refused before parsing (DOCTYPE, entities, size, encoding)."""

    code = "unsafe-xml"

    def __init__(self, filename: str, message: str) -> None:
        super().__init__(f"{filename}: {message}")
        self.filename = filename


class NotFound(DomainError):
    """A named object does not exist (or the caller may not know it exists)."""

    code = "not-found"


class ProcessNotFound(NotFound):
    """No process (or no such version of it) is deployed under this key."""


class CaseNotFound(NotFound):
    """No case has this id, or the actor may not know it exists."""


class TaskNotFound(NotFound):
    """No open task has this id, or the actor may not know it exists."""


class AlreadyExists(DomainError):
    """Something with this name or code exists already."""

    code = "conflict"


class CaseConflict(DomainError):
    """Someone else changed the case first; reload and try again."""

    code = "conflict"


class TaskAlreadyCompleted(CaseConflict):
    """The task was completed already (perhaps by someone else a moment ago)."""

    code = "task-already-completed"


class TaskClaimedByOther(CaseConflict):
    """Another officer holds the task."""

    code = "task-claimed"


class TaskNotForYourRole(DomainError):
    """The actor does not hold the role (in the organisation) the task is routed to."""

    code = "forbidden"


class NotAllowed(DomainError):
    """The actor may not do this (for example, file an application for someone else)."""

    code = "forbidden"


class InvalidInput(DomainError):
    """An argument is malformed (unknown channel, bad filter)."""

    code = "bad-request"


@dataclass
class ScriptFailure(DomainError):
    """A script or expression in a diagram failed; becomes an incident on the case (never an answer)."""

    element_id: str
    detail: str
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.element_id}: {self.detail}")

"""Notification texts: per-language templates, rendered in Jinja2's sandbox, checked at deployment.

A template is plain text: the first line is the subject, the rest the body. The platform's live
in engine/data/notifications/<lang>/<event>.txt; a service package may replace any of them with
its own `notifications/<lang>/<event>.txt`. Package templates come from uploads, so they render
in `SandboxedEnvironment` (no attribute access to internals, bounded `range`), and one that fails
at run time is replaced by the platform's, so the person is told anyway. Lint renders each with
sample values, so a misspelt name is found when the package is deployed, not when it is sent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import isolation
from engine.catalogue.labels import stored_files
from engine.catalogue.package import Package
from engine.errors import Problem
from engine.isolation import IsolationLimit, ProcessLimits
from engine.models import Case, Notification, User
from engine.notify.service import EVENTS, LANGUAGES
from forms.personal import mask_data, mask_sensitive

log = logging.getLogger("mpp.notify")
TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "notifications"
PREFIX = "notifications/"
WIB = ZoneInfo("Asia/Jakarta")
_MONTHS = {"id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                  "Oktober", "November", "Desember"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")}
_env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)


# A version's classified fields, name -> "personal" / "sensitive": engine.runtime.Runtime.classified, which reads
# them once per version.
Classified = Callable[[Session, int], dict[str, str]]
# A version's stored files under a prefix, name -> content: engine.runtime.Runtime.version_files (once per version).
VersionFiles = Callable[[Session, int, str], dict[str, bytes]]


def render(session: Session, *, note: Notification, public_url: str, classified: Classified,
           files: VersionFiles = stored_files) -> tuple[str, str]:
    """Render a notification's subject and body in its language, preferring the service's own template."""
    values = template_values(session, note=note, public_url=public_url, classified=classified)
    name = f"{PREFIX}{note.language}/{note.event}.txt"
    override = files(session, note.context["case"]["version_id"], PREFIX).get(name)
    text = None
    if override is not None:
        try:
            text = render_package_template(override.decode("utf-8"), values)
        except Exception as exc:  # noqa: BLE001 - any failure of a package's template: use the platform's
            log.warning("template %s of %s failed (%s); using the platform's", name,
                        note.context["case"]["process_key"], exc)
    if text is None:
        text = _platform_template(note.language, note.event).render(values)
    return split(text)


# A package's template renders in a worker process (engine.isolation): Jinja2's sandbox stops it
# from reaching Python's internals, the worker's limits stop nested loops and huge strings.
TEMPLATE_LIMITS = ProcessLimits(wall_s=2.0, memory_mb=128)


_LIMIT_ID = {"time": "waktu", "cpu": "waktu CPU", "memory": "memori"}


class TemplateProblem(Exception):
    """A package's template failed to compile or render (picklable, unlike Jinja2's own errors)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message, line)
        self.message, self.line = message, line


def _render_here(source: str, values: dict[str, Any]) -> str:
    try:
        return _env.from_string(source).render(values)
    except TemplateError as exc:
        raise TemplateProblem(str(exc), getattr(exc, "lineno", None)) from None


def render_package_template(source: str, values: dict[str, Any]) -> str:
    """Render a package's template text in a bounded worker process; TemplateProblem or IsolationLimit if it fails."""
    return isolation.run(_render_here, source, values, limits=TEMPLATE_LIMITS)


def split(text: str) -> tuple[str, str]:
    """Split rendered text into a one-line subject and the body."""
    subject, _, body = text.strip().partition("\n")
    return " ".join(subject.split())[:250], body.strip() + "\n"


@lru_cache(maxsize=32)
def _platform_template(language: str, event: str) -> Template:
    return _env.from_string((TEMPLATES / language / f"{event}.txt").read_text("utf-8"))


def template_values(session: Session, *, note: Notification, public_url: str,
                    classified: Classified) -> dict[str, Any]:
    """Return what a template sees: the event snapshot in the recipient's language, and the case data.

    The case data comes masked where the forms classify it (forms.personal): a message never carries a
    NIK, a KK number or another sensitive value; the applicant's own name and address reach only them.
    """
    lang, context = note.language, note.context
    case = context["case"]
    task = context.get("task")
    data = _shown_data(session, note=note, classified=classified) if note.case_id else None
    return {
        "lang": lang, "event": note.event, "tracking_number": case["tracking_number"],
        "service": case["service"][lang], "stage": case["stage"][lang], "status": case["status"],
        "outcome": case.get("outcome"), "portal_url": public_url,
        "task": None if task is None else {"name": task["name"], "due": format_due(task.get("due_at"), lang)},
        "data": data or {},
    }


def _shown_data(session: Session, *, note: Notification, classified: Classified) -> dict[str, Any]:
    row = session.execute(select(Case.data, User.email).outerjoin(User, User.id == Case.applicant_id)
                          .where(Case.id == note.case_id)).one_or_none()
    if row is None or not isinstance(row[0], dict):
        return {}
    data, applicant = row
    fields = classified(session, note.context["case"]["version_id"])
    addresses = {str(a).strip().lower() for a in (applicant, data.get("email")) if isinstance(a, str)}
    if note.channel == "email" and note.recipient.strip().lower() in addresses:
        return mask_sensitive(data, fields)
    return mask_data(data, fields)


def format_due(value: str | None, lang: str) -> str:
    """Write a due time for people: '4 Maret 2026, 16.00 WIB' or '4 March 2026, 16:00 WIB'."""
    if not value:
        return ""
    local = datetime.fromisoformat(value).astimezone(WIB)
    clock = local.strftime("%H.%M" if lang == "id" else "%H:%M")
    return f"{local.day} {_MONTHS.get(lang, _MONTHS['id'])[local.month - 1]} {local.year}, {clock} WIB"


def _sample(lang: str, event: str) -> dict[str, Any]:
    # Any case-data key may exist at run time, so every one reads as an empty string here.
    task = None if event in ("received", "result_ready") else {"name": "Tugas", "due": "2 Maret 2026, 16.00 WIB"}
    return {"lang": lang, "event": event, "tracking_number": "MPP-0000-0000", "service": "Layanan", "stage": "Tahap",
            "status": "running", "outcome": "Selesai", "portal_url": "https://mpp.example", "task": task,
            "data": defaultdict(str)}


def template_problems(package: Package) -> list[Problem]:
    """Check a package's notification templates: known names, UTF-8, a subject line, and that they render."""
    problems: list[Problem] = []
    for name, content in sorted(package.files.items()):
        if not name.startswith(PREFIX):
            continue
        parts = name[len(PREFIX):].split("/")
        if len(parts) != 2 or parts[0] not in LANGUAGES or parts[1].removesuffix(".txt") not in EVENTS \
                or not parts[1].endswith(".txt"):
            problems.append(Problem(name, None, f"unknown notification template; name it notifications/<lang>/"
                                                f"<event>.txt with lang {' or '.join(LANGUAGES)} and event one of "
                                                f"{', '.join(EVENTS)}"))
            continue
        try:
            text = render_package_template(content.decode("utf-8"), _sample(parts[0], parts[1][:-4]))
        except UnicodeDecodeError:
            problems.append(Problem(name, None, "the template is not UTF-8 text"))
            continue
        except TemplateProblem as exc:
            problems.append(Problem(name, None, f"the template does not render"
                                                f"{f' (line {exc.line})' if exc.line else ''}: {exc.message}"))
            continue
        except IsolationLimit as exc:
            problems.append(Problem(
                name, None, f"rendering the template with sample values {exc.message}; a template must not loop "
                            "or build text without bound",
                message_id=f"templat melampaui batas {_LIMIT_ID.get(exc.limit, 'proses')} saat ditampilkan dengan "
                           "nilai contoh; templat tidak boleh berulang atau menyusun teks tanpa batas"))
            continue
        except Exception:  # noqa: BLE001, S112 - arithmetic on the sample's empty data; real data may differ
            continue
        if not text.split("\n", 1)[0].strip():
            problems.append(Problem(name, None, "the first line, the e-mail's subject, is empty"))
    return problems

"""The privacy notice on the application forms (apply, front office, integrated): its text and the required box."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from engine.privacy import notice as notice
from engine.runtime import Runtime
from portal.needs import Label
from web.jsonform import errors_by_field
from web.templates import pick

FIELD = notice.FIELD


def read(form: FormData) -> bool | None:
    """Return True when the box was ticked; None otherwise (an unticked checkbox sends nothing)."""
    return True if str(form.get(FIELD) or "") == "1" else None


def errors(rt: Runtime, accepted: bool | None, *, lang: str) -> dict[str, str]:
    """Return the notice's error by field name, in the page's language (none when accepted or not required)."""
    return errors_by_field(notice.acceptance_errors(accepted, required=rt.settings.privacy_notice_required), lang=lang)


def label(lang: str) -> Label:
    """Return the error-summary label of the acceptance box."""
    return Label(FIELD, f"f-{FIELD}", pick(lang, "Pemberitahuan privasi", "Privacy notice"))


def context(services: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what the form's notice partial shows: the notice of each service applied for."""
    return {"privacy_notices": [notice.notice_for(service) for service in services]}

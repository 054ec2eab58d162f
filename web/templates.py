"""Jinja2 pages: one environment per page package, sharing web/templates (the base layout)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from engine.cases import priority as priority
from engine.privacy.access import is_dpo
from engine.sla.escalation import supervised_agencies
from web.session import LANG_COOKIE, csrf_token, issue_csrf, language

SHARED = Path(__file__).resolve().parent / "templates"

# The four channels of the mall (see DOMAIN.md): name and what it means, in both languages.
CHANNELS = {
    "tatap_muka": (("Tatap muka", "Datang ke loket MPP dan dilayani petugas."),
                   ("Face-to-face", "Come to an MPP counter and be served by an officer.")),
    "drive_thru": (("Drive-thru", "Menyerahkan dan mengambil berkas tanpa turun dari kendaraan."),
                   ("Drive-thru", "Hand in and collect papers without leaving your vehicle.")),
    "terpadu": (("Layanan terpadu", "Beberapa layanan sekaligus dalam satu permohonan di satu loket."),
                ("Integrated one-stop", "Several services at once, in one application at one counter.")),
    "daring": (("Daring (tanpa tatap muka)", "Mengajukan dari rumah; berkas diunggah dan hasil dilacak daring."),
               ("Contactless (online)", "Apply from home; upload the papers and track the result online.")),
}
# Case-history actions as staff read them (the public timeline has its own plain-language lines).
ACTIONS = {"started": ("Diajukan", "Filed"), "claimed": ("Diambil", "Claimed"), "unclaimed": ("Dilepas", "Released"),
           "completed": ("Diselesaikan", "Completed"), "timer_fired": ("Batas waktu tercapai", "Timer fired"),
           "message_received": ("Pesan diterima", "Message received"),
           "error_received": ("Kegagalan sistem mitra diterima", "Partner system's failure received"),
           "answer_stored": ("Jawaban sistem mitra dicatat", "Partner system's answer recorded"),
           "cancelled": ("Dibatalkan", "Cancelled"),
           "retried": ("Dicoba ulang", "Retried"), "incident": ("Gangguan", "Incident"),
           "overdue": ("Terlambat", "Overdue"), "escalated": ("Dieskalasi", "Escalated"),
           "document_issued": ("Dokumen terbit", "Document issued"),
           "corrected": ("Data dikoreksi atas permintaan pemohon", "Data corrected at the applicant's request"),
           "document_revoked": ("Dokumen dicabut", "Document revoked"), "sent": ("Dikirim", "Sent")}
STATUS = {"running": ("Diproses", "In progress"), "completed": ("Selesai", "Completed"),
          "incident": ("Tertunda (gangguan sistem)", "Held (system incident)"),
          "cancelled": ("Dibatalkan", "Cancelled"), "closed": ("Ditutup", "Closed")}


def pick(lang: str, id_text: str, en_text: str) -> str:
    """Return the text in the page language (Bahasa Indonesia unless English was chosen)."""
    return en_text if lang == "en" else id_text


def pick_dict(lang: str, texts: Any, fallback: str = "") -> str:
    """Return the language's entry of an {"id": ..., "en": ...} mapping (or the value itself)."""
    if isinstance(texts, dict):
        return str(texts.get(lang) or texts.get("id") or texts.get("en") or fallback)
    return str(texts) if texts is not None else fallback


class Pages:
    """Render a package's templates with the shared layout and per-request globals."""

    def __init__(self, directory: Path) -> None:
        self.env = Environment(loader=ChoiceLoader([FileSystemLoader(str(directory)), FileSystemLoader(str(SHARED))]),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.globals.update(static=lambda p: f"/static/web/{p}", vendor=lambda p: f"/static/vendor/{p}")
        self.env.filters["rupiah"] = rupiah
        self.env.filters["wib"] = wib
        self.env.globals.update(CHANNELS=CHANNELS, STATUS=STATUS, ACTIONS=ACTIONS, sees_dashboard=sees_dashboard,
                                sees_access_record=sees_access_record)
        # Priority service and jemput bola labels (engine/cases/priority.py).
        self.env.globals.update(PRIORITY=priority.PRIORITY, OUTREACH=priority.OUTREACH,
                                OUTREACH_REASON=priority.OUTREACH_REASON)

    def render(self, request: Request, name: str, context: dict[str, Any] | None = None, *,
               status: int = 200) -> HTMLResponse:
        """Render `name` to an HTML response; set the CSRF and language cookies it relies on."""
        lang = language(request)
        values: dict[str, Any] = {
            "request": request, "lang": lang, "csrf_token": csrf_token(request),
            "user": request.scope.get("mpp.actor"),
            "t": lambda id_text, en_text: pick(lang, id_text, en_text),
            "tr": lambda texts, fallback="": pick_dict(lang, texts, fallback),
            "path": request.url.path,
        }
        values.update(context or {})
        html = self.env.get_template(name).render(values)
        response = HTMLResponse(html, status_code=status)
        issue_csrf(request, response)
        if request.query_params.get("lang") in ("id", "en"):
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
        # Pages carry personal data: never cache them in shared caches or the back-forward cache.
        response.headers["Cache-Control"] = "no-store"
        return response


def sees_access_record(actor: Any) -> bool:
    """Tell whether the navigation offers the personal-data access record: the data-protection officer, admins."""
    return actor is not None and is_dpo(actor)


def sees_dashboard(actor: Any) -> bool:
    """Tell whether the navigation offers the dashboard: administrators and agency supervisors."""
    return actor is not None and (actor.platform_role == "admin" or bool(supervised_agencies(actor)))


def rupiah(value: Any) -> str:
    """Format a number as Rupiah with Indonesian thousands separators."""
    try:
        return "Rp" + f"{int(round(float(value))):,}".replace(",", ".")
    except (TypeError, ValueError):
        return str(value)


WIB = timezone(timedelta(hours=7), "WIB")


def wib(value: Any, with_time: bool = True) -> str:
    """Format a UTC datetime (or a date) in Western Indonesian Time, day first."""
    if isinstance(value, datetime):
        local = value.astimezone(WIB)
        return local.strftime("%d-%m-%Y %H:%M WIB" if with_time else "%d-%m-%Y")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return "" if value is None else str(value)


shared_pages = Pages(SHARED)

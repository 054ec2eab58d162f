"""Complaint shapes: a service's answered complaints (public) and the complaint figures (staff)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import Model


class AnsweredComplaintRead(Model):
    """An answered complaint as the public sees it: never who complained."""

    summary: str
    filed_at: datetime
    due_at: datetime
    answered_at: datetime
    on_time: bool
    answer_id: str | None
    answer_en: str | None
    lapor_ticket: str | None = Field(description="the SP4N-LAPOR! ticket, when the complaint was forwarded there")


class ComplaintFiguresRead(Model):
    """Complaints about one service."""

    service_key: str
    agency: str = Field(description="the agency complaints about the service go to")
    filed: int
    answered: int
    on_time: int = Field(description="answered by the response deadline")
    open: int
    open_overdue: int = Field(description="still unanswered past the deadline")
    on_time_share: float | None = Field(
        description="on_time / (answered + open_overdue): the share answered on time among complaints already due")

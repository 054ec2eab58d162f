"""Drive a PBG case to its issued document (shared by the engine, API and browser tests)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.cases import steps as steps
from engine.cases.service import StartedCase
from engine.context import AppContext
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.documents.service import DocumentSummary, list_for_case
from tests.factories import (
    APPROVED,
    DRAWINGS,
    PAID,
    PBG,
    SIGNED,
    SKRD,
    SPPST,
    Driver,
    add_provider,
    deploy,
    make_user,
    pbg_application,
)


@dataclass
class PbgCast:
    applicant: Actor
    front: Actor
    consultant: Actor
    tpa: Actor
    teknis: Actor
    back: Actor
    kasir: Actor
    kepala: Actor


def pbg_cast(ctx: AppContext, prefix: str = "doc", applicant: Actor | None = None) -> PbgCast:
    """Deploy PBG (a no-op when deployed) and make one user per role, named `<prefix>_<role>`."""
    deploy(ctx, PBG)
    with ctx.sessions() as session:
        known = steps.is_provider(session, ctx.rt, "konsultan_griya", "konsultan")
    if not known:
        add_provider(ctx, "konsultan_griya", "konsultan")
    return PbgCast(
        applicant=applicant or make_user(ctx, f"{prefix}_warga"),
        front=make_user(ctx, f"{prefix}_fo", "dpmptsp.front_office"),
        consultant=make_user(ctx, f"{prefix}_griya", "konsultan.perencana", org="konsultan_griya"),
        tpa=make_user(ctx, f"{prefix}_tpa", "pupr.tpa"),
        teknis=make_user(ctx, f"{prefix}_teknis", "pupr.teknis"),
        back=make_user(ctx, f"{prefix}_bo", "dpmptsp.back_office"),
        kasir=make_user(ctx, f"{prefix}_kasir", "dpmptsp.kasir"),
        kepala=make_user(ctx, f"{prefix}_kepala", "dpmptsp.kepala"),
    )


def drive_to_bill(d: Driver, cast: PbgCast) -> StartedCase:
    """Start a PBG case and take it up to the retribution bill; return it (id, tracking number, PIN)."""
    case = d.start("pbg", pbg_application(), cast.applicant)
    d.complete(case.id, "Task_kelengkapan", cast.front, {"kelengkapan": "lengkap"})
    d.complete(case.id, "Task_gambar_teknis", cast.consultant, DRAWINGS)
    d.complete(case.id, "Task_tpa", cast.tpa, APPROVED)
    d.complete(case.id, "Task_sppst", cast.teknis, SPPST)
    d.complete(case.id, "Task_skrd", cast.back, SKRD)
    return case


def complete_pbg(ctx: AppContext, cast: PbgCast) -> StartedCase:
    """Drive a PBG case along its whole approved path (without running jobs); return it."""
    d = Driver(ctx)
    case = drive_to_bill(d, cast)
    d.complete(case.id, "Task_pembayaran", cast.applicant, PAID)
    d.complete(case.id, "Task_verifikasi", cast.kasir, {"pembayaran_valid": True})
    assert d.complete(case.id, "Task_tanda_tangan", cast.kepala, SIGNED) == "completed"
    return case


def actor_named(ctx: AppContext, username: str) -> Actor:
    """Return the actor of an existing user (a demo account, say)."""
    with ctx.sessions() as session:
        return actor_for(session, directory.get_user(session, username))


def issued_pbg(ctx: AppContext, cast: PbgCast) -> tuple[StartedCase, DocumentSummary]:
    """Complete a PBG case and run the worker's jobs; return the case and its one document."""
    case = complete_pbg(ctx, cast)
    Driver(ctx).run_jobs()
    with ctx.sessions() as session:
        docs = list_for_case(session, case_id=case.id)
    assert len(docs) == 1
    return case, docs[0]

"""Plain factory functions that make real rows, and a small driver for running cases."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.cases.service import StartedCase, start_case
from engine.cases.tasks import complete_task, list_tasks
from engine.catalogue import package as package
from engine.catalogue import registry as registry
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from engine.directory.actors import Actor, actor_for
from engine.errors import TaskNotForYourRole
from engine.jobs.service import ensure_overdue_scan, run_due_jobs
from engine.models import Case, CaseEvent, OpenTask

ROOT = Path(__file__).resolve().parent.parent
PBG = ROOT / "processes" / "pbg"


def deploy(ctx: AppContext, source: Path | package.Package) -> registry.DeployResult:
    """Deploy a package folder (or an in-memory package)."""
    pkg = source if isinstance(source, package.Package) else package.from_path(source)
    with transaction(ctx.sessions) as session:
        return registry.deploy(session, package=pkg, actor="test")


def add_provider(ctx: AppContext, code: str, marketplace: str) -> None:
    """Register a private firm under a marketplace agency."""
    with transaction(ctx.sessions) as session:
        directory.ensure_agency(session, code=code, name_id=code, kind="private", parent_code=marketplace)


def make_user(ctx: AppContext, username: str, *roles: str, org: str | None = None,
              platform_role: str | None = None) -> Actor:
    """Create a user holding the given roles (in `org`, or each role's agency) and return its actor."""
    with transaction(ctx.sessions) as session:
        kind = platform_role or ("officer" if roles else "applicant")
        user = directory.create_user(session, username=username, platform_role=kind)
        for role in roles:
            directory.grant(session, user=user, role_key=role, organisation_code=org)
        return actor_for(session, user)


def run_and_commit(session: Any, batch: Any) -> None:
    """Run a step's write batch and commit: SQLite writes at `run`, PostgreSQL sends its one statement at the commit."""
    batch.run()
    session.commit()


def pbg_application(**overrides: Any) -> dict[str, Any]:
    """Return valid start data for a PBG application."""
    data = {
        "nama_pemohon": "Budi Santoso", "nik": "3471012345678901", "email": "budi@example.id",
        "telepon": "081234567890", "alamat_bangunan": "Jl. Malioboro 10, Yogyakarta",
        "fungsi_bangunan": "hunian", "luas_bangunan": 120.5, "jumlah_lantai": 2, "rumah_mbr": False,
        "consultant": "konsultan_griya",
    }
    data.update(overrides)
    return data


# A small real PDF: the file store accepts it (engine/documents/filestore.py checks the magic number).
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PBG_REQUIRED = ("ktp", "bukti_tanah")  # processes/pbg/service.toml: the requirements not optional at filing
DRAWING_FIELDS = ("gambar_arsitektur", "gambar_struktur", "gambar_mep")


def api_upload(client: Any, headers: dict[str, str], name: str = "berkas.pdf") -> str:
    """Upload a small PDF through POST /api/files as the headers' user; return its `file:<id>` reference."""
    response = client.post("/api/files", files={"file": (name, PDF, "application/pdf")}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["ref"])


def pbg_documents(client: Any, headers: dict[str, str]) -> dict[str, list[str]]:
    """Upload the documents a PBG application requires at filing (ID card, land proof); return them by code."""
    return {code: [api_upload(client, headers, f"{code}.pdf")] for code in PBG_REQUIRED}


def api_drawings(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    """Upload the three drawings as the consultant (headers) through the API; return the task's form data."""
    return {**DRAWINGS, **{name: [api_upload(client, headers, f"{name}.pdf")] for name in DRAWING_FIELDS}}


def pbg_slot_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    """Return the uploads of the PBG apply form's required documents (its `doc__<code>` file inputs)."""
    return [(f"doc__{code}", (f"{code}.pdf", PDF, "application/pdf")) for code in PBG_REQUIRED]


# What each PBG officer enters on the way to a signed approval (the scenario tests share them).
# File fields hold `file:<id>` references (engine/documents/filestore.py); the engine does not open them.
DRAWINGS = {"gambar_arsitektur": ["file:1"], "gambar_struktur": ["file:2"], "gambar_mep": ["file:3"],
            "nama_penanggung_jawab": "Ir. Sri Wahyuni", "nomor_sertifikat_keahlian": "SKA-1-2345"}
# The panel's classification of the building feeds the PP 16/2021 retribution formula (processes/pbg/retribution.dmn).
CLASSIFIED = {"klasifikasi_kompleksitas": "sederhana", "klasifikasi_permanensi": "permanen",
              "klasifikasi_risiko_kebakaran": "rendah", "klasifikasi_zonasi_gempa": "zona_4",
              "klasifikasi_lokasi": "sedang", "klasifikasi_ketinggian": "rendah",
              "klasifikasi_kepemilikan": "perorangan", "indeks_bangunan_terbangun": "baru"}
APPROVED = {"hasil_tpa": "disetujui", "nomor_berita_acara": "BA/TPA/2026/017", "tanggal_berita_acara": "2026-03-10",
            **CLASSIFIED}
SPPST = {"nomor_sppst": "SPPST/2026/088", "tanggal_sppst": "2026-03-11", "retribusi_dikonfirmasi": True}
SKRD = {"nomor_skrd": "SKRD/2026/311", "tanggal_skrd": "2026-03-12"}
PAID = {"nomor_ssrd": "SSRD-99812", "bank_pembayaran": "Bank BPD DIY", "tanggal_pembayaran": "2026-03-13"}
SIGNED = {"nomor_pbg": "PBG-3471-2026-0042", "tanggal_pbg": "2026-03-16"}


@dataclass
class Driver:
    """Runs cases the way the CLI and API do: one transaction per operation."""

    ctx: AppContext

    def start(self, process_key: str, data: dict[str, Any], actor: Actor, channel: str = "tatap_muka") -> StartedCase:
        with transaction(self.ctx.sessions) as session:
            applicant = actor.user_id if actor.platform_role == "applicant" else None
            return start_case(session, rt=self.ctx.rt, process_key=process_key, data=data, channel=channel,
                              actor=actor, applicant_id=applicant)

    def open_tasks(self, case_id: int) -> list[OpenTask]:
        with self.ctx.sessions() as session:
            from engine.cases.service import open_tasks

            return open_tasks(session, case_id)

    def task(self, case_id: int, element_id: str) -> OpenTask:
        matches = [t for t in self.open_tasks(case_id) if t.element_id == element_id]
        assert matches, f"no open {element_id}; open: {[t.element_id for t in self.open_tasks(case_id)]}"
        return matches[0]

    def complete(self, case_id: int, element_id: str, actor: Actor, data: dict[str, Any]) -> str:
        task = self.task(case_id, element_id)
        with transaction(self.ctx.sessions) as session:
            return complete_task(session, rt=self.ctx.rt, task_id=task.id, actor=actor, data=data).status

    def open_ids(self, case_id: int) -> list[str]:
        """Return the element ids of a case's open tasks."""
        return [t.element_id for t in self.open_tasks(case_id)]

    def complete_checked(self, case_id: int, element_id: str, actor: Actor, data: dict[str, Any], *,
                         refused: Iterable[Actor]) -> str:
        """Complete a task as `actor`, after checking that each of `refused` may not."""
        for outsider in refused:
            with pytest.raises(TaskNotForYourRole):
                self.complete(case_id, element_id, outsider, data)
        return self.complete(case_id, element_id, actor, data)

    def case(self, case_id: int) -> Case:
        with self.ctx.sessions() as session:
            row = session.get(Case, case_id)
            assert row is not None
            return row

    def events(self, case_id: int) -> list[CaseEvent]:
        with self.ctx.sessions() as session:
            from engine.cases.service import history

            return history(session, case_id)

    def inbox(self, actor: Actor) -> list[OpenTask]:
        with self.ctx.sessions() as session:
            rows, _total = list_tasks(session, actor=actor, limit=500)
            return rows

    def run_jobs(self) -> int:
        """Run what a worker runs in one poll: schedule the overdue scan, then every due job."""
        with transaction(self.ctx.sessions) as session:
            ensure_overdue_scan(session, now=self.ctx.rt.clock(), every_s=0)
        return run_due_jobs(self.ctx.sessions, rt=self.ctx.rt)


def make_analyst(ctx: AppContext, username: str, *agencies: str) -> None:
    """Create an analyst who logs in with the demo password, holding the agencies' analyst roles.

    An agency the directory does not hold yet is registered first (by its code alone).
    """
    from api.bootstrap import DEMO_PASSWORD
    from engine.catalogue import stewards
    from tests.conftest import fast_hasher

    with transaction(ctx.sessions) as session:
        user = directory.create_user(session, username=username, platform_role="analyst",
                                     password_hash=fast_hasher().hash(DEMO_PASSWORD))
        for agency in agencies:
            directory.ensure_agency(session, code=agency)
            stewards.ensure_analyst_role(session, agency)
            directory.grant(session, user=user, role_key=stewards.analyst_role(agency))

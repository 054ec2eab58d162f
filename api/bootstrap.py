"""Set-up steps for `make run`: deploy the catalogue and create demo accounts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.conventions import APPLICANT_ROLE, BPMN_NS, lane_info, lanes_by_node
from engine.bpmn.xmlsafe import parse_xml
from engine.catalogue import package as package
from engine.catalogue import registry as registry
from engine.catalogue import stewards
from engine.directory import service as directory
from engine.models import Agency, Membership, Role, User
from engine.privacy import access as privacy
from engine.queue import setup as queue_setup
from engine.sla.escalation import supervisor_role

DEMO_PASSWORD = "demo12345"  # noqa: S105 - printed on purpose for local demo accounts only

# Design-consultant firms of the PBG marketplace (private providers the applicant chooses from).
DEMO_PROVIDERS = {
    "konsultan": [
        ("konsultan_griya", "CV Griya Rancang Yogya"),
        ("konsultan_mataram", "PT Mataram Desain Konstruksi"),
    ],
}


@dataclass(frozen=True)
class DemoAccount:
    """A demo login printed by `make run`."""

    username: str
    password: str
    what: str


@dataclass(frozen=True)
class StepAccounts:
    """One user task of a service and the demo accounts that may do it (its lane's role)."""

    task_id: str
    name: str
    role: str
    usernames: tuple[str, ...]


def step_accounts(session: Session, process_key: str) -> list[StepAccounts]:
    """Return each user task of a service's newest diagram, in diagram order, with who may do it.

    Read from the deployed lanes and the accounts that hold their roles, so the map printed by
    `mpp bootstrap` (and mirrored in the README) cannot drift from the package.
    """
    version = registry.list_versions(session, process_key)[0].version
    root = parse_xml(registry.main_bpmn(session, key=process_key, version=version), filename="process.bpmn")
    lanes = lanes_by_node(root)
    steps = []
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        lane = lanes.get(task.get("id", ""))
        role = (lane_info(lane).role if lane is not None else None) or ""
        if role == APPLICANT_ROLE:
            users = tuple(session.scalars(select(User.username).where(User.platform_role == "applicant",
                                                                        User.email.like("%@demo.mpp.local"))
                                          .order_by(User.username)))
        else:
            users = tuple(session.scalars(select(User.username).join(Membership, Membership.user_id == User.id)
                                          .where(Membership.role_key == role).order_by(User.username)))
        steps.append(StepAccounts(task.get("id", ""), " ".join((task.get("name") or "").split()), role, users))
    return steps


def deploy_folder(session: Session, root: Path) -> list[registry.DeployResult]:
    """Deploy every package folder under `root` (each needs a service.toml)."""
    results = []
    for folder in sorted(p.parent for p in root.glob("*/service.toml")):
        results.append(registry.deploy(session, package=package.from_path(folder), actor="bootstrap"))
    return results


def _user(session: Session, password_hash: str, username: str, platform_role: str, name: str) -> User:
    existing = session.scalar(select(User).where(User.username == username))
    if existing is not None:
        return existing
    return directory.create_user(session, username=username, platform_role=platform_role, display_name=name,
                                 email=f"{username}@demo.mpp.local", password_hash=password_hash)


def _seed_dpo(session: Session, demo_hash: str) -> DemoAccount:
    """Create the local government's data-protection officer (UU 27/2022 art. 53) and its demo account."""
    directory.ensure_agency(session, code=privacy.DPO_AGENCY, name_id="Pemerintah Daerah", name_en="Local Government",
                            kind="city_office")
    directory.ensure_roles(session, [privacy.DPO_ROLE], {privacy.DPO_ROLE: "Pejabat Pelindungan Data Pribadi"})
    user = _user(session, demo_hash, "ppdp", "officer", "Pejabat Pelindungan Data Pribadi")
    directory.grant(session, user=user, role_key=privacy.DPO_ROLE)
    return DemoAccount("ppdp", DEMO_PASSWORD, f"data-protection officer {privacy.DPO_ROLE}")


def seed_demo(session: Session) -> list[DemoAccount]:
    """Create providers and one demo account per role of the deployed catalogue (idempotent)."""
    # One hash for the one demo password: argon2 is slow on purpose, and these accounts share it.
    demo_hash = PasswordHasher().hash(DEMO_PASSWORD)
    accounts = [DemoAccount("admin", DEMO_PASSWORD, "admin"), DemoAccount("analis", DEMO_PASSWORD, "analyst"),
                DemoAccount("warga", DEMO_PASSWORD, "applicant")]
    _user(session, demo_hash, "admin", "admin", "Administrator")
    _user(session, demo_hash, "analis", "analyst", "Analis Proses")
    _user(session, demo_hash, "warga", "applicant", "Budi Santoso")
    for marketplace, firms in DEMO_PROVIDERS.items():
        if session.scalar(select(Agency.id).where(Agency.code == marketplace)) is None:
            continue
        for code, name in firms:
            directory.ensure_agency(session, code=code, name_id=name, name_en=name, kind="private",
                                    parent_code=marketplace)
    # Every agency with roles gets its supervisor, who receives overdue tasks (engine/sla/escalation.py).
    agencies = set(session.scalars(select(Role.agency_code).where(Role.agency_code != privacy.DPO_AGENCY)))
    supervisors = {supervisor_role(code): "Penyelia" for code in agencies}
    directory.ensure_roles(session, supervisors, supervisors)
    for role in session.scalars(select(Role).where(Role.key.not_like(f"%.{stewards.ANALYST}"),
                                                   Role.agency_code != privacy.DPO_AGENCY).order_by(Role.key)):
        providers = session.scalars(select(Agency.code).where(Agency.parent_code == role.agency_code)
                                    .order_by(Agency.code))
        orgs = list(providers) or [role.agency_code]
        for org in orgs:
            username = role.key.replace(".", "_") if org == role.agency_code else f"{org}_{role.key.split('.', 1)[1]}"
            user = _user(session, demo_hash, username, "officer", f"Petugas {role.key} ({org})")
            directory.grant(session, user=user, role_key=role.key, organisation_code=org)
            accounts.append(DemoAccount(username, DEMO_PASSWORD, f"officer {role.key} @ {org}"))
    accounts.append(_seed_dpo(session, demo_hash))
    # The demo analyst edits the services of every agency that has roles (engine/catalogue/stewards.py).
    analyst = _user(session, demo_hash, "analis", "analyst", "Analis Proses")
    for code in sorted(agencies):
        stewards.ensure_analyst_role(session, code)
        directory.grant(session, user=analyst, role_key=stewards.analyst_role(code))
    queue_setup.seed_demo_hall(session)  # the hall's booths and counters (docs/queue.md)
    return accounts

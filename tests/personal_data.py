"""A small service whose application carries a NIK, a name and a KTP scan, classified (issue 20's tests)."""

from __future__ import annotations

import json

from api.bootstrap import DEMO_PASSWORD
from engine.catalogue.package import Package, from_files
from engine.context import AppContext
from engine.db import transaction
from engine.directory import service as directory
from tests.conftest import fast_hasher
from tests.packages import AGENCY, BPMN, FORM, PLAIN_TAIL, SERVICE

KEY = "privasi_uji"
NIK = "3471012345678901"
NIK_MASKED = "3471********8901"
NAME = "Siti Rahmawati"
START = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
         "properties": {"nik": {"type": "string", "title": "NIK", "x-mpp-personal": "sensitive"},
                        "nama_pemohon": {"type": "string", "title": "Nama", "x-mpp-personal": "personal"},
                        "harga": {"type": "integer", "minimum": 0}, "jumlah": {"type": "integer", "minimum": 1}},
         "required": ["nik", "nama_pemohon", "harga", "jumlah"]}
# The ID card scan is a requirement document classified in service.toml.
REQUIREMENTS = ('requirements = [{ id = "KTP", en = "ID card", document = "ktp", optional = false, '
                'personal = "sensitive" }]')


def personal_package() -> Package:
    service = SERVICE.format(key=KEY).replace('requirements = [{ id = "KTP", en = "ID card" }]', REQUIREMENTS)
    bpmn = BPMN.format(key=KEY, script="total = harga * jumlah", task_name="Periksa", tail=PLAIN_TAIL, extra_refs="")
    return from_files({"service.toml": (service + AGENCY).encode(), "process.bpmn": bpmn.encode(),
                       "forms/periksa.schema.json": json.dumps(FORM).encode(),
                       "forms/start.schema.json": json.dumps(START).encode()})


def make_staff(ctx: AppContext, username: str, *roles: str) -> None:
    """Create an officer who logs in with the demo password, holding the roles (created when missing)."""
    with transaction(ctx.sessions) as session:
        directory.ensure_roles(session, roles)
        user = directory.create_user(session, username=username, platform_role="officer",
                                     password_hash=fast_hasher().hash(DEMO_PASSWORD))
        for role in roles:
            directory.grant(session, user=user, role_key=role)

"""A new partner joins a running platform by uploading its package: no code change, no restart."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

PARTNER = Path(__file__).resolve().parents[1] / "data" / "partner_bpn"


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"partner/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def test_a_partner_package_deployed_at_run_time_serves_applicants(
    client: TestClient, login: Callable[[str], dict[str, str]],
) -> None:
    assert "cek_sertifikat" not in [p["key"] for p in client.get("/api/processes").json()]
    lint = client.post("/api/processes/lint", headers=login("analis"),
                       files={"files": ("partner.zip", _zip(PARTNER), "application/zip")})
    assert lint.json() == {"ok": True, "problems": []}
    deployed = client.post("/api/processes", headers=login("analis"),
                           files={"files": ("partner.zip", _zip(PARTNER), "application/zip")})
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["new_roles"] == ["bpn.loket", "bpn.pemeriksa"]
    assert "cek_sertifikat" in [p["key"] for p in client.get("/api/processes").json()]

    admin = login("admin")
    officers = {}
    for username, role in (("bpn_loket", "bpn.loket"), ("bpn_pemeriksa", "bpn.pemeriksa")):
        user = client.post("/api/users", headers=admin, json={"username": username, "password": "sandi-bpn-2026",
                                                              "platform_role": "officer"})
        assert user.status_code == 201, user.text
        granted = client.post(f"/api/users/{user.json()['id']}/memberships", headers=admin, json={"role_key": role})
        assert granted.status_code == 201, granted.text
        token = client.post("/api/auth/token", data={"username": username, "password": "sandi-bpn-2026"})
        officers[role] = {"Authorization": f"Bearer {token.json()['access_token']}"}

    case = client.post("/api/cases", headers=login("warga"), json={
        "process_key": "cek_sertifikat", "channel": "daring",
        "data": {"nomor_sertifikat": "12.03.04.05.1.00123", "nama_pemilik": "Budi Santoso"},
        "privacy_notice_accepted": True})
    assert case.status_code == 201, case.text
    for role, element, data in (("bpn.loket", "Task_terima", {"sertifikat_asli_diterima": True}),
                                ("bpn.pemeriksa", "Task_cek", {"hasil": "sesuai"})):
        inbox = client.get("/api/tasks", headers=officers[role]).json()["items"]
        assert [t["element_id"] for t in inbox] == [element]
        done = client.post(f"/api/tasks/{inbox[0]['id']}/complete", headers=officers[role], json={"data": data})
        assert done.status_code == 200, done.text
    tracked = client.get(f"/api/track/{case.json()['tracking_number']}", params={"pin": case.json()["pin"]})
    assert tracked.json()["status"] == "completed"

"""The `mpp` command line, run as a newcomer runs it: a real process on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MPP = [sys.executable, "-m", "api.cli"]


def _mpp(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    return subprocess.run([*MPP, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    result = _mpp(tmp, "bootstrap")
    assert result.returncode == 0, result.stderr
    assert "service pbg: version 1" in result.stdout
    assert "dpmptsp_front_office" in result.stdout
    return tmp


def test_lint_reports_every_problem_with_file_and_element(tmp_path: Path) -> None:
    bad = tmp_path / "rusak"
    bad.mkdir()
    (bad / "service.toml").write_text('key = "rusak"\n')
    (bad / "process.bpmn").write_text("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>"
                                      "<bpmn:process id='rusak' isExecutable='false'/></bpmn:definitions>")
    result = _mpp(tmp_path, "lint", "--lang", "en", str(bad))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(lines) >= 3
    assert any("process.bpmn#rusak" in line and "isExecutable" in line for line in lines)
    assert any("service.toml" in line for line in lines)


def test_lint_passes_the_catalogue(tmp_path: Path) -> None:
    result = _mpp(tmp_path, "lint", *[str(p.parent) for p in sorted((ROOT / "processes").glob("*/service.toml"))])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "processes/pbg: ok" in result.stdout.replace(str(ROOT) + "/", "")


def test_deploying_the_same_package_twice_creates_one_version(bootstrapped: Path) -> None:
    result = _mpp(bootstrapped, "deploy", str(ROOT / "processes" / "pbg"))
    assert result.returncode == 0, result.stderr
    assert "pbg: version 1 (unchanged)" in result.stdout


def test_a_case_runs_by_hand_from_the_command_line(bootstrapped: Path) -> None:
    data = {"nama_pemohon": "Siti", "nik": "3471015508900002", "email": "siti@example.id",
            "telepon": "081298765432", "alamat_bangunan": "Jl. Kaliurang", "fungsi_bangunan": "usaha",
            "luas_bangunan": 250, "jumlah_lantai": 2, "rumah_mbr": False, "consultant": "konsultan_mataram"}
    started = _mpp(bootstrapped, "start", "pbg", "--data", json.dumps(data), "--channel", "drive_thru")
    assert started.returncode == 0, started.stderr
    assert "tracking MPP-" in started.stdout
    listing = _mpp(bootstrapped, "tasks", "--user", "dpmptsp_front_office")
    task_id = listing.stdout.split()[0]
    refused = _mpp(bootstrapped, "complete", task_id, "--user", "pupr_tpa", "--data", '{"kelengkapan": "lengkap"}')
    assert refused.returncode == 1
    assert "role you do not hold" in refused.stderr
    invalid = _mpp(bootstrapped, "complete", task_id, "--user", "dpmptsp_front_office", "--data",
                   '{"kelengkapan": "mungkin"}')
    assert invalid.returncode == 1
    assert "kelengkapan: Choose one of: lengkap, tidak_lengkap." in invalid.stderr
    done = _mpp(bootstrapped, "complete", task_id, "--user", "dpmptsp_front_office", "--data",
                '{"kelengkapan": "lengkap"}')
    assert done.returncode == 0, done.stderr
    consultant = _mpp(bootstrapped, "tasks", "--user", "konsultan_mataram_perencana")
    assert "gambar teknis" in consultant.stdout
    other = _mpp(bootstrapped, "tasks", "--user", "konsultan_griya_perencana")
    assert "0 open task(s)" in other.stdout


def test_create_admin_then_log_in(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from engine.context import build_context
    from engine.settings import Settings

    created = _mpp(tmp_path, "create-admin", "kepala_it", "--password", "rahasia-sekali-9")
    assert created.returncode == 0, created.stderr
    again = _mpp(tmp_path, "create-admin", "kepala_it", "--password", "rahasia-sekali-9")
    assert again.returncode == 1
    assert "taken" in again.stderr
    short = _mpp(tmp_path, "create-admin", "lain", "--password", "pendek")
    assert short.returncode == 1
    ctx = build_context(Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    with TestClient(create_app(ctx)) as client:
        response = client.post("/api/auth/token", data={"username": "kepala_it", "password": "rahasia-sekali-9"})
        assert response.status_code == 200
        me = client.get("/api/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
        assert me.json()["platform_role"] == "admin"
    ctx.engine.dispose()

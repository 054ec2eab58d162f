"""`mpp test` and `mpp deploy --require-tests`, run as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
MPP = [sys.executable, "-m", "api.cli"]
APPLY = '[[steps]]\napply = "daring"\ndata = { harga = 1500, jumlah = 3 }\n'


def _mpp(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPP_DATABASE_URL": db_url}
    return subprocess.run([*MPP, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _package(folder: Path, **tests: str) -> Path:
    """Write the small test package (tests/packages.py) with scenario files to a folder."""
    from tests.packages import simple_package

    for name, content in simple_package().files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    for name, body in tests.items():
        (folder / "tests").mkdir(exist_ok=True)
        (folder / "tests" / f"{name}.toml").write_text(body)
    return folder


def test_the_catalogue_s_scenarios_pass(db_url: str) -> None:
    folders = [str(p.parent) for p in sorted((ROOT / "processes").glob("*/service.toml"))]
    result = _mpp(db_url, "test", *folders)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.replace(str(ROOT) + "/", "").splitlines()
    for scenario in ("processes/pbg/tests/terbit.toml", "processes/pbg/tests/kedaluwarsa.toml",
                     "processes/skck/tests/terbit.toml", "processes/halal/tests/terbit.toml",
                     "processes/pengaduan/tests/dijawab.toml", "processes/pengaduan/tests/diteruskan_lapor.toml",
                     "processes/pengaduan/tests/dialihkan.toml",
                     "processes/pbg/tests/simbg.toml", "processes/halal/tests/nib_oss.toml",
                     "processes/halal/tests/nib_tidak_ditemukan.toml", "processes/halal/tests/reguler_lph.toml",
                     "processes/pbg/tests/ditolak_tpa.toml", "processes/pbg/tests/mbr.toml",
                     "processes/samsat/tests/terlambat.toml", "processes/paspor/tests/anak_lima_tahun.toml",
                     "processes/nikah/tests/dispensasi_usia.toml"):
        assert any(line.startswith(f"LULUS  {scenario}: ") for line in lines), lines
    assert "processes/sip: tidak ada skenario uji (tests/*.toml)" in lines
    count = len(list((ROOT / "processes").glob("*/tests/*.toml")))  # every package's scenarios, all passing
    assert lines[-1] == f"{count} skenario: {count} lulus, 0 gagal"


def test_a_failing_scenario_is_reported_in_english_with_its_steps_and_exit_1(db_url: str, tmp_path: Path) -> None:
    folder = _package(tmp_path / "uji", salah=APPLY + '[[steps]]\nexpect = { status = "completed" }\n')
    result = _mpp(db_url, "test", "--lang", "en", "--steps", str(folder))
    assert result.returncode == 1
    assert f"FAIL  {folder}/tests/salah.toml: salah (" in result.stdout
    assert 'tests/salah.toml: error: step 2: status: expected "completed", got "running"' in result.stdout
    assert "Application filed through the daring channel" in result.stdout
    assert "1 scenario(s): 0 passed, 1 failed" in result.stderr


def test_deploy_with_required_tests_refuses_a_package_whose_scenarios_fail(db_url: str, tmp_path: Path) -> None:
    failing = _package(tmp_path / "gagal", salah=APPLY + '[[steps]]\nexpect = { stage = "Selesai" }\n')
    refused = _mpp(db_url, "deploy", "--require-tests", str(failing))
    assert refused.returncode == 1
    assert 'tests/salah.toml: error: step 2: stage: expected "Selesai", got "Periksa"' in refused.stderr
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM process_version")).scalar() == 0
    shutil.rmtree(failing / "tests")
    passing = _package(failing, baik=APPLY + '[[steps]]\nexpect = { status = "running" }\n')
    deployed = _mpp(db_url, "deploy", "--require-tests", str(passing))
    assert deployed.returncode == 0, deployed.stderr
    assert "uji: version 1 (deployed)" in deployed.stdout
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM process_version")).scalar() == 1
    engine.dispose()

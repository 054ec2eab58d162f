"""`mpp keys`: status per key id, rotation to a new key, a fresh key, and a missing key named."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.context import AppContext
from tests.factories import PBG, Driver, add_provider, deploy, make_user, pbg_application

ROOT = Path(__file__).resolve().parent.parent
KEY = base64.b64encode(b"c" * 32).decode()


def _keys(ctx: AppContext, *args: str, data_keys: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPP_DATABASE_URL": ctx.settings.database_url, "MPP_FILES_DIR": str(ctx.settings.files_dir),
           "MPP_SECRET_KEY": ctx.settings.secret_key.get_secret_value()}
    env.pop("MPP_DATA_KEYS", None)
    if data_keys is not None:
        env["MPP_DATA_KEYS"] = data_keys
    return subprocess.run([sys.executable, "-m", "api.cli", "keys", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def filed(ctx: AppContext) -> int:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    return Driver(ctx).start("pbg", pbg_application(), make_user(ctx, "warga")).id


def test_status_rotate_and_a_missing_key(ctx: AppContext, filed: int) -> None:
    status = _keys(ctx, "status")
    assert status.returncode == 0, status.stderr
    assert "active key: k0" in status.stdout
    assert "sealed values: k0 " in status.stdout
    missing = _keys(ctx, "status", data_keys=f"k1:{KEY}")
    assert missing.returncode == 1
    assert "stored data uses key(s) not configured: k0" in missing.stderr
    rotated = _keys(ctx, "rotate", "--batch", "1", data_keys=f"k1:{KEY},k0")
    assert rotated.returncode == 0, rotated.stderr
    assert "done: 1 case(s) re-sealed" in rotated.stdout
    assert "values re-sealed, by former key: k0 " in rotated.stdout
    after = _keys(ctx, "status", data_keys=f"k1:{KEY}")
    assert after.returncode == 0, after.stderr
    assert "sealed values: k1 " in after.stdout
    assert "k0" not in after.stdout


def test_a_new_key_is_printed_ready_for_mpp_data_keys(ctx: AppContext) -> None:
    made = _keys(ctx, "new", "k2")
    assert made.returncode == 0, made.stderr
    kid, encoded = made.stdout.strip().split(":", 1)
    assert kid == "k2"
    assert len(base64.b64decode(encoded)) == 32
    assert _keys(ctx, "new", "bad id").returncode == 1

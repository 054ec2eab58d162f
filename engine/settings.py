"""Settings from the environment (prefix MPP_), one cached instance per process."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
SECRET_FILE = ROOT / "var" / "secret.key"


def _local_secret() -> SecretStr:
    """Read (or create once) a random key under var/, so a single machine needs no set-up."""
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        SECRET_FILE.write_text(secrets.token_urlsafe(48))
        SECRET_FILE.chmod(0o600)
    return SecretStr(SECRET_FILE.read_text().strip())


class Settings(BaseSettings):
    """Every setting the platform reads; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="MPP_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{ROOT / 'var' / 'mpp.db'}"
    processes_dir: Path = ROOT / "processes"
    files_dir: Path = ROOT / "var" / "files"
    outbox_dir: Path = ROOT / "var" / "outbox"
    secret_key: SecretStr = Field(default_factory=_local_secret)
    token_minutes: int = 60
    case_cache_size: int = 2000
    script_timeout_s: float = 0.5
    engine_step_budget: int = 10_000
    worker_poll_s: float = 1.0
    job_lease_s: int = 60
    sqlite_synchronous: str = "NORMAL"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()

"""Settings from the environment (prefix MPP_), one cached instance per process."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    max_file_bytes: int = 10 * 1024 * 1024
    signing_key_file: Path = ROOT / "var" / "signing.key"
    # Where `mpp serve` listens (its --host/--port set these); the public URL defaults to them.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Printed in the QR code of issued documents and in e-mails. Empty: derived from host and port.
    public_url: str = ""
    # The environment this platform runs in; outbound calls use the connector bindings of this one.
    environment: str = Field(default="default", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    secret_key: SecretStr = Field(default_factory=_local_secret)
    # Keys sealing sensitive personal data at rest, "kid:<base64 32 bytes>,..." newest (active) first;
    # unset: one key derived from secret_key (docs/privacy.md "Encryption at rest").
    data_keys: SecretStr | None = None
    token_minutes: int = 60
    web_session_minutes: int = 480
    cookie_secure: bool = False
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated in
    # MPP_TRUSTED_PROXIES); empty: the socket peer is the client (docs/operations.md "Rate limits").
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    case_cache_size: int = 2000
    script_timeout_s: float = 0.5
    script_memory_mb: int = 128
    # Package code runs in worker processes under kernel limits (docs/security.md); "inline" runs
    # it in the API process under the language guards only (for platforms without fork and /proc).
    isolation: Literal["process", "inline"] = "process"
    isolation_workers: int = Field(default=2, ge=1, le=64)
    # How many requests of one API process run their routes at once; the others wait for a thread (web/routing.py).
    request_threads: int = Field(default=2, ge=1, le=256)
    engine_step_budget: int = 10_000
    worker_poll_s: float = 1.0
    # How much the job worker yields the CPU to requests (the nice value it adds to its thread, and so to the
    # document renderers it starts): documents and mail can wait a moment, an officer's click should not. 0: none.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # How often each API process looks for task changes other processes committed (GET /api/tasks/feed).
    feed_poll_s: float = Field(default=1.0, gt=0, le=60)
    job_lease_s: int = 60
    sqlite_synchronous: str = "NORMAL"
    sqlite_busy_timeout_s: float = 30.0
    # Notifications (docs/operations.md): with no SMTP host, e-mails are recorded as skipped.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "MPP <noreply@localhost>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    notify_timeout_s: float = 10.0
    notify_max_attempts: int = 6
    # The bank's SNAP virtual-account API (docs/payments.md). Without a client secret no bill can be
    # created and every payment notification is refused: there is no default secret to guess.
    bank_base_url: str = "http://127.0.0.1:8600"
    bank_partner_id: str = "MPP-BILLER"
    bank_partner_service_id: str = "   88899"
    bank_channel_id: str = "95221"
    bank_client_id: str = "mpp-local"
    bank_client_secret: SecretStr | None = None
    bank_timeout_s: float = 10.0
    bank_qris: bool = False  # also generate a QRIS (SNAP QR MPM) for each bill, beside its VA
    # Every application must carry the applicant's acceptance of the service's privacy notice (UU 27/2022;
    # engine/privacy/notice.py). Turn off only while old API clients learn to send `privacy_notice_accepted`.
    privacy_notice_required: bool = True

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> list[str]:
        """Split the comma-separated list and refuse anything that is not an IP address or network."""
        items = value.split(",") if isinstance(value, str) else value if isinstance(value, list | tuple) else [value]
        return [str(ipaddress.ip_network(str(item).strip(), strict=False)) for item in items if str(item).strip()]


    @model_validator(mode="after")
    def _derive_public_url(self) -> Settings:
        """Without MPP_PUBLIC_URL, point at the address the platform is served on."""
        if self.public_url:
            self.public_url = self.public_url.rstrip("/")
        else:
            self.public_url = served_url(self.host, self.port)
        return self


def served_url(host: str, port: int) -> str:
    """Return the URL a browser on another machine uses for a server bound to host:port."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - bound to every interface: name the machine instead
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()

"""The public URL follows where `mpp serve` listens unless MPP_PUBLIC_URL says otherwise; issued QR codes use it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
import segno
from PIL import Image

from api.cli import use_address
from engine.context import build_context, get_context
from engine.documents import service as documents
from engine.settings import Settings, get_settings
from tests.conftest import FakeClock
from tests.documents import complete_pbg, pbg_cast
from tests.factories import Driver


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Start without MPP_HOST/PORT/PUBLIC_URL and leave none (nor a cached settings object) behind."""
    for name in ("MPP_HOST", "MPP_PORT", "MPP_PUBLIC_URL"):
        monkeypatch.setenv(name, "")  # remembered, so `use_address` writing os.environ is undone too
        monkeypatch.delenv(name)
    yield monkeypatch
    get_settings.cache_clear()
    get_context.cache_clear()


def test_public_url_is_derived_from_host_and_port(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings().public_url == "http://127.0.0.1:8000"
    assert Settings(port=8080).public_url == "http://127.0.0.1:8080"
    assert Settings(host="::1", port=8080).public_url == "http://[::1]:8080"
    assert Settings(host="0.0.0.0", port=9000).public_url.endswith(":9000")  # noqa: S104
    assert "0.0.0.0" not in Settings(host="0.0.0.0").public_url  # noqa: S104 - a phone cannot open that
    assert Settings(port=8080, public_url="https://mpp.jogjakota.go.id/").public_url == "https://mpp.jogjakota.go.id"
    clean_env.setenv("MPP_PUBLIC_URL", "https://mpp.example")
    assert use_address("127.0.0.1", 8080).public_url == "https://mpp.example"  # set explicitly: kept


def test_serving_on_another_port_puts_that_port_in_the_qr_code(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                                               db_url: str, clock: FakeClock) -> None:
    served = use_address("127.0.0.1", 8123)  # what `mpp serve --port 8123` (and `make run PORT=8123`) does
    assert served.public_url == "http://127.0.0.1:8123"
    # Every process built from this environment afterwards (the embedded worker, `--workers N`) agrees.
    settings = Settings(database_url=db_url, files_dir=tmp_path / "files", outbox_dir=tmp_path / "outbox",
                        signing_key_file=tmp_path / "signing.key")
    assert settings.public_url == "http://127.0.0.1:8123"
    ctx = build_context(settings, migrate=False, clock=clock)
    try:
        case_id = complete_pbg(ctx, pbg_cast(ctx)).id
        Driver(ctx).run_jobs()
        with ctx.sessions() as session:
            [doc] = documents.list_for_case(session, case_id=case_id)
            _row, pdf = documents.document_pdf(session, settings=ctx.settings, document_id=doc.id)
    finally:
        ctx.engine.dispose()
    url = f"http://127.0.0.1:8123/verifikasi/{doc.verify_code}"
    [image] = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    assert image.image.convert("1").tobytes() == Image.open(buffer).convert("1").tobytes()
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.subject == url

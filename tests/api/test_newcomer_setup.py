"""What a newcomer meets first: the demo map, the sample application, `mpp start --as`, offline API docs, the icon."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api.bootstrap import step_accounts
from engine.cases.service import start_form
from engine.context import AppContext
from forms.validation import validate

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "pbg-permohonan.json"


def test_the_sample_application_is_valid_for_pbg_start_form(catalogue: AppContext) -> None:
    with catalogue.sessions() as session:
        schema = start_form(session, rt=catalogue.rt, process_key="pbg").schema
    data = json.loads(SAMPLE.read_text())
    validate(schema, data)  # raises FormInvalid, naming the field, once the form and the sample drift apart
    assert set(schema["required"]) <= set(data)


def test_the_demo_map_names_who_does_each_pbg_step_from_the_lanes(catalogue: AppContext) -> None:
    with catalogue.sessions() as session:
        steps = {s.task_id: s for s in step_accounts(session, "pbg")}
    assert steps["Task_kelengkapan"].usernames == ("dpmptsp_front_office",)
    assert steps["Task_kelengkapan"].role == "dpmptsp.front_office"
    assert steps["Task_pembayaran"].usernames == ("warga",)
    assert steps["Task_gambar_teknis"].usernames == ("konsultan_griya_perencana", "konsultan_mataram_perencana")
    assert steps["Task_tanda_tangan"].usernames == ("dpmptsp_kepala",)
    assert all(s.usernames for s in steps.values()), [s for s in steps.values() if not s.usernames]


def test_the_readme_mirrors_the_generated_map(catalogue: AppContext) -> None:
    with catalogue.sessions() as session:
        steps = step_accounts(session, "pbg")
    readme = (ROOT / "README.md").read_text()
    for number, step in enumerate(steps, start=1):
        row = re.search(rf"^\| {number} \| {re.escape(step.name)} \| (.+?) \|", readme, re.MULTILINE)
        assert row, f"README's PBG map lacks step {number} {step.name!r}: re-paste `mpp bootstrap`'s map"
        assert all(f"`{user}`" in row.group(1) for user in step.usernames), row.group(0)


def _mpp(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPP_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_mpp_start_says_who_files_and_refuses_an_unknown_user(catalogue_template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    shutil.copy(catalogue_template_db, db)
    filed = _mpp(db, "start", "pbg", "--data", f"@{SAMPLE}", "--channel", "tatap_muka")
    assert filed.returncode == 0, filed.stderr
    assert filed.stdout.startswith("filing as warga (applicant)\n")
    assert "tracking MPP-" in filed.stdout
    unknown = _mpp(db, "start", "pbg", "--data", f"@{SAMPLE}", "--as", "siapa")
    assert unknown.returncode == 1
    assert "no user 'siapa'" in unknown.stderr
    assert "tracking" not in unknown.stdout
    listing = _mpp(db, "accounts")
    assert re.search(r"^\s+dpmptsp_front_office\s+officer\s+dpmptsp\.front_office$", listing.stdout, re.MULTILINE)
    assert re.search(r"^\s+konsultan_griya_perencana\s+officer\s+konsultan\.perencana @ konsultan_griya$",
                     listing.stdout, re.MULTILINE)


def test_api_docs_load_swagger_ui_from_the_platform_itself(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "SwaggerUIBundle" in client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").text
    assert client.get("/static/vendor/swagger-ui/package.json").status_code == 404  # only the browser files
    assert '"validatorUrl": null' in page.text  # nothing sent to validator.swagger.io


def test_the_favicon_answers_and_every_page_links_it(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    home = client.get("/").text
    assert '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">' in home
    svg = client.get("/static/web/favicon.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")

"""Through the API and the pages: lint refuses unsafe forms at deploy, and a form that got in earlier fails cleanly."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from api.bootstrap import DEMO_PASSWORD
from engine.context import AppContext
from engine.models import ProcessFile, ProcessVersion
from tests.forms.traps import SECRET, Trap, finishes_within, secret_file
from tests.packages import START_FORM, simple_package

Login = Callable[[str], dict[str, str]]
START = "forms/start.schema.json"
DEEP = '{"type": "object", "properties": {"a": ' * 5000 + "{}" + "}}" * 5000


def start_form(**properties: Any) -> dict[str, Any]:
    return {**START_FORM, "properties": {**START_FORM["properties"], **properties}}


def package_zip(key: str, start: dict[str, Any] | str) -> bytes:
    files = dict(simple_package(key).files)
    files[START] = (start if isinstance(start, str) else json.dumps(start)).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in sorted(files.items()):
            archive.writestr(f"{key}/{name}", content)
    return buffer.getvalue()


def deploy(client: TestClient, login: Login, key: str, start: dict[str, Any] | str) -> Response:
    return client.post("/api/processes", files=[("files", ("paket.zip", package_zip(key, start), "application/zip"))],
                       headers=login("analis"))


def apply(client: TestClient, login: Login, key: str, **data: Any) -> Response:
    body = {"process_key": key, "channel": "daring", "data": {"harga": 1, "jumlah": 1, **data},
            "privacy_notice_accepted": True}
    return client.post("/api/cases", json=body, headers=login("warga"))


def problem_of(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    return body


def slipped_in(ctx: AppContext, key: str, schema: dict[str, Any] | str) -> None:
    """Replace the stored start form of a deployed version, as if it had been deployed before lint refused it.

    Deployment does not compile into the runtime's cache, so the first application reads the replaced file.
    """
    raw = (schema if isinstance(schema, str) else json.dumps(schema)).encode()
    with ctx.sessions.begin() as session:
        version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.key == key))
        session.execute(update(ProcessFile).where(ProcessFile.version_id == version_id, ProcessFile.name == START)
                        .values(content=raw))


@pytest.mark.parametrize(("start", "words"), [
    (DEEP, "deeper than 32 levels"),
    (start_form(nik={"$ref": "umum.schema.json#/$defs/nik"}), "another file"),
    (start_form(nik={"$ref": "#/$defs/nik"}), "points to nothing"),
    (start_form(sandi={"type": "string", "pattern": "^(?=.*[0-9]).{8,}$"}), "RE2"),
])
def test_deploying_an_unsafe_form_is_refused_by_lint_with_its_reason(client: TestClient, login: Login,
                                                                     start: dict[str, Any] | str, words: str) -> None:
    body = problem_of(deploy(client, login, "uji_tolak", start), 422, "package-invalid")
    [problem] = [p for p in body["problems"] if p["file"] == START]
    assert words in problem["message"]
    assert problem["message_id"]
    assert problem["message_id"] != problem["message"]
    assert client.get("/api/processes/uji_tolak").status_code == 404


def test_deploying_a_form_that_refers_to_a_web_address_sends_no_request(client: TestClient, login: Login,
                                                                       trap: Trap, tmp_path: Path) -> None:
    for ref in (f"{trap.url}/skema.json", secret_file(tmp_path).as_uri()):
        response = deploy(client, login, "uji_luar", start_form(nik={"$ref": ref}))
        assert "outside this form" in json.dumps(problem_of(response, 422, "package-invalid")["problems"])
        assert SECRET not in response.text
    lint = client.post("/api/processes/lint", headers=login("analis"), files=[
        ("files", ("paket.zip", package_zip("uji_luar", DEEP), "application/zip"))])
    assert lint.status_code == 200, lint.text
    assert lint.json()["ok"] is False
    assert not trap.reached


def test_a_catastrophic_pattern_deploys_and_an_application_is_answered_at_once(client: TestClient,
                                                                              login: Login) -> None:
    start = {**start_form(kode={"type": "string", "pattern": "^(a+)+$"}), "required": ["harga", "jumlah", "kode"]}
    assert deploy(client, login, "uji_pola", start).status_code == 201
    login("warga")  # logged in beforehand: the timed call is the application alone
    # A bound on liveness, not a timing: backtracking would need about 2**5000 steps on this text, so a
    # generous bound tells a stall from a busy machine (1 s failed once under a suite's load).
    done, response = finishes_within(30.0, lambda: apply(client, login, "uji_pola", kode="a" * 5000 + "!"))
    assert done, "the application was still being checked after 30 s"
    body = problem_of(response, 422, "form-invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("kode", "pattern")]
    assert apply(client, login, "uji_pola", kode="aaaa").status_code == 201


DEEP_ENOUGH_TO_RECURSE = '{"type": "object", "properties": {"a": ' * 400 + "{}" + "}}" * 400
SLIPPED_IN: dict[str, Callable[[Trap, Path], dict[str, Any] | str]] = {
    "web address": lambda trap, _: start_form(nik={"$ref": f"{trap.url}/skema.json"}),
    "local file": lambda _, folder: start_form(nik={"$ref": secret_file(folder).as_uri()}),
    "missing file": lambda _, __: start_form(nik={"$ref": "hilang.schema.json"}),
    "400 levels deep": lambda _, __: DEEP_ENOUGH_TO_RECURSE,
    "lookahead": lambda _, __: start_form(nik={"type": "string", "pattern": "^(?=3471)[0-9]{16}$"}),
}


@pytest.mark.parametrize("kind", SLIPPED_IN)
def test_a_form_deployed_before_the_rules_is_a_clear_422_and_reaches_nothing(client: TestClient, login: Login,
                                                                           catalogue: AppContext, trap: Trap,
                                                                           tmp_path: Path, kind: str) -> None:
    assert deploy(client, login, "uji_lama", START_FORM).status_code == 201
    slipped_in(catalogue, "uji_lama", SLIPPED_IN[kind](trap, tmp_path))
    response = apply(client, login, "uji_lama", nik="3471012345678901", a={"a": {"a": 1}})
    body = problem_of(response, 422, "form-invalid")
    assert [e["field"] for e in body["errors"]] == ["(form)"]
    assert "This form cannot be used" in body["errors"][0]["message_en"]
    assert "Formulir ini tidak dapat dipakai" in body["errors"][0]["message"]
    assert SECRET not in response.text
    assert not trap.reached


def test_the_apply_page_of_such_a_form_is_an_error_page_not_a_crash(client: TestClient, login: Login,
                                                                    catalogue: AppContext) -> None:
    assert deploy(client, login, "uji_halaman", START_FORM).status_code == 201
    slipped_in(catalogue, "uji_halaman", start_form(nik={"$ref": "http://127.0.0.1:9/skema.json"}))
    page = TestClient(client.app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/masuk").text)
    assert token
    page.post("/masuk", data={"username": "warga", "password": DEMO_PASSWORD, "csrf_token": token.group(1)})
    response = page.get("/layanan/uji_halaman/ajukan")
    assert response.status_code == 422, response.text
    assert "text/html" in response.headers["content-type"]
    assert "tidak dapat dipakai" in response.text

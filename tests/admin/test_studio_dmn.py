"""The DMN editor over HTTP: a new decision table in a draft, what it runs to, who may open it, its assets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from engine.catalogue import drafts
from engine.context import AppContext
from engine.directory.actors import SYSTEM
from engine.models import PackageDraft
from tests.admin.test_studio_drafts import draft_id, save, start
from tests.engine.test_runtime_contract import END_EVENT, START_EVENT, flow_package, user_task
from tests.factories import Driver, deploy, make_analyst, make_user
from web.static_files import NODE_MODULES, VENDOR, MissingAssets, mount_static

Login = Callable[[str], str]
FEE_TABLE = {"nama": "tarif", "id_keputusan": "tarif", "nama_keputusan": "Tarif layanan", "masukan": "jumlah",
             "keluaran": "biaya"}


def new_table(http: TestClient, token: str | None, draft: int, **fields: str) -> Response:
    data = {**fields, **({"csrf_token": token} if token else {})}
    response: Response = http.post(f"/studio/draf/{draft}/dmn/baru", data=data, follow_redirects=False)
    return response


def page_data(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="studio-data">(.*?)</script>', page, re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found[1])
    return data


def draft_row(ctx: AppContext, draft: int) -> tuple[dict[str, bytes], list[str]]:
    """Return a draft's files and its lint problems, as text lines."""
    with ctx.sessions() as session:
        row = session.get(PackageDraft, draft)
        assert row is not None
        return drafts.files(session, row), [str(p) for p in drafts.lint(session, row)]


def test_a_new_fee_table_lints_clean_and_a_business_rule_task_runs_it(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = draft_id(start(client, token))
    created = new_table(client, token, draft, **FEE_TABLE)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/studio/draf/{draft}/dmn?nama=tarif.dmn"

    editor = client.get(created.headers["location"])
    assert editor.status_code == 200
    data = page_data(editor.text)
    assert (data["name"], data["problems"], data["other_errors"]) == ("tarif.dmn", [], 0)
    assert data["save_url"] == f"/studio/draf/{draft}/berkas?nama=tarif.dmn"
    assert '<decision id="tarif" name="Tarif layanan">' in str(data["xml"])
    assert "/static/vendor/dmn-js/dmn-modeler.production.min.js" in editor.text
    files, problems = draft_row(catalogue, draft)
    assert problems == []  # the whole draft, the new table with it

    # The same file, called by a business-rule task in a small package: deployment lints it again.
    rule = ("Task_tarif", '<bpmn:businessRuleTask id="Task_tarif" name="Hitung tarif"><bpmn:extensionElements>'
            "<spiffworkflow:calledDecisionId>tarif</spiffworkflow:calledDecisionId></bpmn:extensionElements>"
            "{io}</bpmn:businessRuleTask>")
    nodes = [START_EVENT, rule, user_task(), END_EVENT]
    deploy(catalogue, flow_package("tarif_uji", nodes, {"Petugas [dinas.petugas]": [n for n, _ in nodes]},
                                   {"tarif.dmn": files["tarif.dmn"]}))
    driver = Driver(catalogue)
    small, large = (driver.start("tarif_uji", {"harga": 1, "jumlah": n}, SYSTEM) for n in (99, 100))
    assert (driver.case(small.id).data["biaya"], driver.case(large.id).data["biaya"]) == (50000, 100000)
    officer = make_user(catalogue, "petugas_tarif", "dinas.petugas")
    assert driver.complete(large.id, "Task_periksa", officer, {"catatan": "ok"}) == "completed"


def test_the_draft_page_s_short_form_names_the_decision_after_the_file(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = draft_id(start(client, token))
    assert new_table(client, token, draft, nama="retribusi_kios").status_code == 303
    files, problems = draft_row(catalogue, draft)
    xml = files["retribusi_kios.dmn"].decode()
    assert '<decision id="retribusi_kios" name="Retribusi kios">' in xml
    assert "<text>luas_bangunan</text>" in xml
    assert 'name="retribusi_kios" typeRef="number"' in xml
    assert 'hitPolicy="UNIQUE"' in xml
    assert problems == []


def test_bad_or_clashing_names_come_back_on_the_form_and_save_nothing(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = draft_id(start(client, token))
    refused = new_table(client, token, draft, nama="../luar", id_keputusan="1x", nama_keputusan="Tarif",
                        masukan="class", keluaran="Biaya Total")
    assert refused.status_code == 422
    for field in ("nama", "id_keputusan", "masukan", "keluaran"):
        assert re.search(rf'id="dmn-{field}" name="{field}" value="[^"]*"[^>]*aria-invalid="true"', refused.text)
    assert 'value="Biaya Total"' in refused.text  # what was typed stays
    assert 'aria-invalid="true"' not in refused.text.split('id="dmn-nama_keputusan"')[1].split(">")[0]

    assert new_table(client, token, draft, **FEE_TABLE).status_code == 303
    again = new_table(client, token, draft, **{**FEE_TABLE, "nama": "tarif_lain.dmn"})
    assert again.status_code == 422
    assert "Keputusan &#39;tarif&#39; sudah ada di draf ini" in again.text
    same_file = new_table(client, token, draft, **{**FEE_TABLE, "id_keputusan": "tarif_kedua", "masukan": "Jumlah"})
    assert same_file.status_code == 422
    assert "Draf sudah memiliki berkas &#39;tarif.dmn&#39;" in same_file.text  # every problem at once
    assert 'id="dmn-masukan-error"' in same_file.text
    files, _ = draft_row(catalogue, draft)
    assert sorted(name for name in files if name.endswith(".dmn")) == ["tarif.dmn"]


def test_the_editor_shows_the_problems_of_its_own_file_by_element(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    token = page_login("analis")
    draft = draft_id(start(client, token))
    assert new_table(client, token, draft, **FEE_TABLE).status_code == 303
    editor = page_data(client.get(f"/studio/draf/{draft}/dmn", params={"nama": "tarif.dmn"}).text)
    broken = str(editor["xml"]).replace("<text>100000</text>", "<text>100000 *</text>")
    saved = save(client, token, draft, "tarif.dmn", broken, int(str(editor["revision"])))
    assert saved.status_code == 200  # type: ignore[attr-defined]
    revision = saved.json()["revisi"]  # type: ignore[attr-defined]
    assert save(client, token, draft, "forms/periksa.schema.json", "{", revision).status_code == 200  # type: ignore[attr-defined]

    data = page_data(client.get(f"/studio/draf/{draft}/dmn", params={"nama": "tarif.dmn"}).text)
    problems = data["problems"]
    assert isinstance(problems, list)
    assert [(p["element_id"], p["severity"]) for p in problems] == [("OutputEntry_tarif_besar", "error")]
    assert problems[0]["message"].startswith("sel keputusan 'OutputEntry_tarif_besar'")
    assert data["other_errors"] == 1  # the broken form: counted, not listed here


def test_only_the_draft_s_analysts_open_it_and_forms_need_the_csrf_token(
        client: TestClient, catalogue: AppContext, page_login: Login) -> None:  # noqa: F811
    make_analyst(catalogue, "analis_pdam", "pdam")
    token = page_login("analis")
    url = start(client, token, instansi_mode="ada", instansi="dpmptsp", peran=["front_office"], peran_kode=[],
                peran_nama_id=[], peran_nama_en=[])
    draft = draft_id(url)
    assert new_table(client, None, draft, **FEE_TABLE).status_code == 403
    assert new_table(client, "not-the-token", draft, **FEE_TABLE).status_code == 403
    assert new_table(client, token, draft, **FEE_TABLE).status_code == 303

    other = page_login("analis_pdam")
    assert client.get(f"{url}/dmn", params={"nama": "tarif.dmn"}).status_code == 404
    assert client.get(f"{url}/dmn/baru").status_code == 404
    assert new_table(client, other, draft, **{**FEE_TABLE, "nama": "punya_pdam"}).status_code == 404
    files, _ = draft_row(catalogue, draft)
    assert "punya_pdam.dmn" not in files

    page_login("dpmptsp_front_office")
    assert client.get(f"{url}/dmn", params={"nama": "tarif.dmn"}, follow_redirects=False).status_code == 403
    page_login("analis")
    assert client.get(f"{url}/dmn", params={"nama": "tidak_ada.dmn"}).status_code == 404
    assert client.get(f"{url}/dmn", params={"nama": "process.bpmn"}).status_code == 404
    assert client.get(f"{url}/dmn/baru").status_code == 200


def test_dmn_js_is_served_from_its_dist_folder_only(client: TestClient) -> None:  # noqa: F811
    script = client.get("/static/vendor/dmn-js/dmn-modeler.production.min.js")
    assert script.status_code == 200
    assert script.text.startswith("/*! dmn-js - dmn-modeler v17.")
    for asset in ("assets/dmn-js-decision-table.css", "assets/dmn-font/css/dmn.css",
                  "assets/dmn-font/font/dmn.woff2"):
        assert client.get(f"/static/vendor/dmn-js/{asset}").status_code == 200, asset
    assert client.get("/static/vendor/dmn-js/../package.json").status_code == 404
    assert client.get("/static/vendor/dmn-js/%2e%2e/package.json").status_code == 404


def test_the_app_refuses_to_start_without_dmn_js(tmp_path: Path) -> None:
    for name, rel in VENDOR.items():
        if name != "dmn-js":
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).symlink_to(NODE_MODULES / rel)
    with pytest.raises(MissingAssets, match=r"\(dmn-js\)"):
        mount_static(FastAPI(), node_modules=tmp_path)

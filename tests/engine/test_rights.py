"""Data subjects' rights: the export holds every value a citizen gave and nothing of another citizen."""

from __future__ import annotations

import json

from engine.context import AppContext
from engine.db import transaction
from engine.privacy import rights as rights
from engine.sla import survey as survey
from tests.conftest import FakeClock
from tests.engine.test_retention import NAME, NIK, PARTNER_NIK, PHONE, _closed_case, privacy_package
from tests.factories import deploy, make_user

OTHER = {"nama_pemohon": "Bambang Tetangga", "nik": "3471015001900999", "telepon": "089999999999"}


def test_the_export_holds_all_of_one_citizen_and_nothing_of_another(ctx: AppContext, clock: FakeClock) -> None:
    deploy(ctx, privacy_package())
    siti, bambang = make_user(ctx, "siti"), make_user(ctx, "bambang")
    officer = make_user(ctx, "petugas", "dinas.petugas")
    mine = _closed_case(ctx, siti, officer)
    theirs = _closed_case(ctx, bambang, officer, data=OTHER)
    with transaction(ctx.sessions) as session:
        from engine.models import Case

        number = session.get(Case, mine).tracking_number  # type: ignore[union-attr]
        survey.submit_survey(session, tracking_number=number, answers={f"u{i}": 4 for i in range(1, 10)},
                             comment="Cepat", language="id", now=clock())
    with ctx.sessions() as session:
        export = rights.personal_data(session, user_id=siti.user_id or 0, now=clock())
        text = rights.as_json(export).decode()
        pdf = rights.as_pdf(export, lang="en")
    assert export["format"] == rights.FORMAT
    assert export["account"]["username"] == "siti"
    [case] = export["cases"]
    assert case["tracking_number"] == number
    assert case["status"] == "completed"
    given = {item["field"]: item["value"] for item in case["data"]}
    assert {k: given[k] for k in ("nama_pemohon", "nik", "telepon", "jumlah")} == {
        "nama_pemohon": NAME, "nik": NIK, "telepon": PHONE, "jumlah": 3}
    assert given["nik_pasangan"] == PARTNER_NIK  # what the office recorded about the application too
    assert [e["action"] for e in case["history"]][:1] == ["started"]
    assert {e["by"] for e in case["history"]} <= {"you", "officer", "system"}  # never an officer's name
    assert "petugas" not in json.dumps(case["history"])
    assert [f["filename"] for f in export["files"]] == ["ktp.pdf"]
    assert export["files"][0]["by_you"]
    assert export["surveys"][0]["scores"] == [4] * 9
    for value in OTHER.values():
        assert value not in text
    assert str(theirs) not in {str(c["tracking_number"]) for c in export["cases"]}
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1500

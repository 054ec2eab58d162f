"""Completing a task over the API says where the case went next (issue 16, item 14)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_tasks import FRONT, Login, complete, start


def test_completion_names_the_next_steps_and_their_agency(client: TestClient, login: Login) -> None:
    case = start(client, login)
    done = complete(client, login, FRONT, case["id"], "Task_kelengkapan", {"kelengkapan": "lengkap"})
    assert done["case_status"] == "running"
    [step] = done["next_steps"]
    assert step["name"] == "Penyusunan/pengunggahan gambar teknis"
    assert step["role"] == "konsultan.perencana"
    assert step["agency"]
    assert step["agency_name"]
    sent_back = start(client, login)
    back = complete(client, login, FRONT, sent_back["id"], "Task_kelengkapan",
                    {"kelengkapan": "tidak_lengkap", "catatan_kelengkapan": "KTP buram."})
    assert [s["role"] for s in back["next_steps"]] == ["applicant"]

"""Notifications over HTTP (admin only): webhook subscriptions, their signed deliveries, every delivery's record."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from engine.context import AppContext
from engine.models import AuditEntry, User
from tests.factories import Driver, pbg_application, pbg_documents
from tests.notify_servers import Received, webhook_receiver

Login = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
HOOKS = "/api/notifications/webhooks"


def apply(client: TestClient, login: Login) -> dict[str, Any]:
    response = client.post("/api/cases", json={"process_key": "pbg", "data": pbg_application(), "channel": "daring",
                                               "documents": pbg_documents(client, login("warga")),
                                               "privacy_notice_accepted": True},
                           headers=login("warga"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def signed_by(secret: str, request: Received) -> bool:
    """Verify a delivery's signature the way docs/operations.md tells partners to."""
    parts = dict(p.split("=", 1) for p in request.headers["x-mpp-signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    return body


def test_admin_subscribes_a_partner_and_follows_its_deliveries(client: TestClient, login: Login,
                                                               catalogue: AppContext) -> None:
    admin = login("admin")
    with webhook_receiver() as partner:
        created = client.post(HOOKS, json={"agency_code": "pupr", "url": partner.url, "events": ["received"]},
                              headers=admin)
        assert created.status_code == 201, created.text
        hook = created.json()
        secret = hook["secret"]
        assert secret.startswith("whsec_")
        assert hook["secret_hint"] == secret[-4:]
        assert (hook["agency_code"], hook["events"], hook["active"], hook["created_by"]) == (
            "pupr", ["received"], True, "admin")
        listed = client.get(HOOKS, params={"agency": "pupr"}, headers=admin).json()
        assert [h["id"] for h in listed] == [hook["id"]]
        assert "secret" not in listed[0]
        assert secret not in client.get(f"{HOOKS}/{hook['id']}", headers=admin).text
        assert client.get(HOOKS, params={"agency": "dinkes"}, headers=admin).json() == []

        first = apply(client, login)
        Driver(catalogue).run_jobs()
        [delivery] = partner.requests
        assert signed_by(secret, delivery)
        assert json.loads(delivery.body)["case"]["tracking_number"] == first["tracking_number"]
        page = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=admin).json()
        assert page["total"] == 1
        [item] = page["items"]
        assert (item["event"], item["status"], item["attempts"]) == ("received", "sent", 1)
        assert item["case_id"] == first["id"]
        assert item["event_id"] == delivery.headers["x-mpp-event-id"]
        assert [(a["outcome"], a["status_code"]) for a in item["attempt_log"]] == [("sent", 200)]

        paused = client.patch(f"{HOOKS}/{hook['id']}", json={"active": False}, headers=admin)
        assert paused.status_code == 200
        assert paused.json()["active"] is False
        apply(client, login)
        Driver(catalogue).run_jobs()
        assert len(partner.requests) == 1  # an inactive subscription receives nothing

        rotated = client.post(f"{HOOKS}/{hook['id']}/secret", headers=admin).json()
        assert rotated["secret"] != secret
        assert rotated["secret_hint"] == rotated["secret"][-4:]
        client.patch(f"{HOOKS}/{hook['id']}", json={"active": True, "events": ["result_ready", "received"]},
                     headers=admin)
        apply(client, login)
        Driver(catalogue).run_jobs()
        assert len(partner.requests) == 2
        assert signed_by(rotated["secret"], partner.requests[1])
        assert not signed_by(secret, partner.requests[1])
    assert client.get(f"{HOOKS}/{hook['id']}", headers=admin).json()["events"] == ["received", "result_ready"]

    emails = client.get("/api/notifications", params={"channel": "email", "case_id": first["id"]}, headers=admin)
    assert emails.status_code == 200, emails.text
    [email] = emails.json()["items"]
    with catalogue.sessions() as session:
        account = session.scalar(select(User).where(User.username == "warga"))
        assert account is not None
        assert account.email
    # The account's address and language win over the form's; no SMTP host is set here, so it is skipped.
    # The list shows the address masked (docs/privacy.md).
    masked = account.email[0] + "***@" + account.email.split("@")[1]
    assert (email["recipient"], email["language"], email["status"]) == (masked, account.language, "skipped")
    assert client.get("/api/notifications", params={"status": "failed"}, headers=admin).json()["total"] == 0

    assert client.delete(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 204
    assert_problem(client.get(f"{HOOKS}/{hook['id']}", headers=admin), 404, "not-found")
    assert_problem(client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=admin), 404, "not-found")
    with catalogue.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("webhook.%"))
                                       .order_by(AuditEntry.id)))
    assert actions == ["webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.updated",
                       "webhook.deleted"]


def routes(hook_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", HOOKS, None),
        ("POST", HOOKS, {"agency_code": "pupr", "url": "https://partner.example/hook", "events": ["received"]}),
        ("GET", f"{HOOKS}/{hook_id}", None),
        ("PATCH", f"{HOOKS}/{hook_id}", {"url": "https://evil.example/steal"}),
        ("DELETE", f"{HOOKS}/{hook_id}", None),
        ("POST", f"{HOOKS}/{hook_id}/secret", None),
        ("GET", f"{HOOKS}/{hook_id}/deliveries", None),
        ("GET", "/api/notifications", None),
    ]


@pytest.mark.parametrize("username", [None, "warga", "analis", "dpmptsp_front_office", "pupr_tpa"])
def test_only_admins_reach_notifications(client: TestClient, login: Login, username: str | None) -> None:
    hook = client.post(HOOKS, json={"agency_code": "pupr", "url": "https://partner.example/hook",
                                    "events": ["received"]}, headers=login("admin")).json()
    headers = login(username) if username else {}
    for method, path, body in routes(hook["id"]):
        response = client.request(method, path, json=body, headers=headers)
        assert_problem(response, 401 if username is None else 403, "unauthenticated" if username is None
                       else "forbidden")
    after = client.get(f"{HOOKS}/{hook['id']}", headers=login("admin")).json()
    assert (after["url"], after["secret_hint"]) == ("https://partner.example/hook", hook["secret_hint"])


@pytest.mark.parametrize(("body", "status", "slug", "says"), [
    ({"agency_code": "tidak_ada", "url": "https://p.example/h", "events": ["received"]}, 400, "bad-request",
     "no agency 'tidak_ada'"),
    ({"agency_code": "pupr", "url": "ftp://p.example/h", "events": ["received"]}, 400, "bad-request", "http(s)"),
    ({"agency_code": "pupr", "url": "https://user:pw@p.example/h", "events": ["received"]}, 400, "bad-request",
     "user name or password"),
    ({"agency_code": "pupr", "url": "https://p.example/h", "events": ["everything"]}, 422, "validation", "events"),
    ({"agency_code": "pupr", "url": "https://p.example/h", "events": []}, 422, "validation", "events"),
    ({"agency_code": "PUPR!", "url": "https://p.example/h", "events": ["received"]}, 422, "validation",
     "agency_code"),
])
def test_a_bad_subscription_is_refused_saying_what_is_wrong(client: TestClient, login: Login, body: dict[str, Any],
                                                            status: int, slug: str, says: str) -> None:
    response = client.post(HOOKS, json=body, headers=login("admin"))
    assert says in response.text
    assert_problem(response, status, slug)
    assert client.get(HOOKS, headers=login("admin")).json() == []


def test_unknown_subscriptions_are_404_and_bad_ids_422(client: TestClient, login: Login) -> None:
    admin = login("admin")
    for method in ("GET", "PATCH", "DELETE"):
        assert_problem(client.request(method, f"{HOOKS}/999", json={"active": False}, headers=admin), 404, "not-found")
    assert_problem(client.post(f"{HOOKS}/999/secret", headers=admin), 404, "not-found")
    assert_problem(client.get(f"{HOOKS}/0", headers=admin), 422, "validation")
    assert_problem(client.get("/api/notifications", params={"channel": "sms"}, headers=admin), 422, "validation")


def test_an_admin_sets_the_language_of_a_users_emails(client: TestClient, login: Login, catalogue: AppContext) -> None:
    admin = login("admin")
    users = client.get("/api/users", params={"limit": 500}, headers=admin).json()
    warga = next(u for u in users if u["username"] == "warga")
    changed = client.patch(f"/api/users/{warga['id']}", json={"language": "en"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "en"
    assert_problem(client.patch(f"/api/users/{warga['id']}", json={"language": "fr"}, headers=admin), 422,
                   "validation")
    case = apply(client, login)
    Driver(catalogue).run_jobs()
    [email] = client.get("/api/notifications", params={"case_id": case["id"]}, headers=admin).json()["items"]
    assert (email["channel"], email["event"], email["language"]) == ("email", "received", "en")

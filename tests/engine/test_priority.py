"""Priority service and jemput bola: service.toml's `outreach` checked by lint, the request checked per service."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bpmn import conventions as cv
from engine.cases import priority

BASE: dict[str, Any] = {"key": "x", "agency": "dinas", "name": {"id": "X", "en": "X"},
                        "product": {"id": "P", "en": "P"}, "sla_days": 3, "channels": ["daring"], "requirements": []}
VISIT = priority.Outreach("disabilitas", "Jl. Solo 1", "0812")


@pytest.mark.parametrize(("outreach", "expected"), [
    ({"id": "Petugas datang.", "en": "An officer comes.", "for": ["disabilitas", "lansia"]}, []),
    (True, ["outreach must be a table"]),
    ({"id": "Petugas datang.", "en": "", "for": ["lansia"]}, ["outreach.en is missing or empty"]),
    ({"id": "a", "en": "b", "for": ["vip"]}, ["outreach must be a table"]),
    ({"id": "a", "en": "b", "for": []}, ["outreach must be a table"]),
    ({"id": "a", "en": "b", "for": ["lansia", "lansia"]}, ["outreach.for lists a group twice"]),
    ({"id": "a", "en": "b", "for": ["lansia"], "untuk": 1}, ["outreach: unknown key(s) untuk"]),
])
def test_lint_checks_the_outreach_table(outreach: Any, expected: list[str]) -> None:
    errors = [english for english, _indonesian in cv.service_errors({**BASE, "outreach": outreach})]
    assert [e for e in errors if e.startswith("outreach")] == [e for e in errors if any(e.startswith(x)
                                                                                         for x in expected)]
    assert len(errors) == len(expected)
    assert "outreach" not in cv.unknown_service_keys({**BASE, "outreach": outreach})


def test_a_request_is_checked_against_the_service() -> None:
    offered = {"outreach": {"id": "a", "en": "b", "for": ["lansia", "disabilitas"]}}
    assert priority.outreach_groups(offered) == ["disabilitas", "lansia"]
    assert priority.check(offered, priority.Needs("hamil", VISIT)) == []
    assert [e.path for e in priority.check({}, priority.Needs(outreach=VISIT))] == ["outreach"]
    sick = priority.Outreach("sakit", " ", "")
    assert [e.path for e in priority.check(offered, priority.Needs("vip", sick))] == [
        "priority", "outreach_for", "outreach_address", "outreach_contact"]


def test_a_package_with_its_own_jemput_bola_step_follows_the_case_request() -> None:
    schema = {"properties": {"jemput_bola": {"type": "boolean"}, "alamat_kunjungan": {"type": "string"}}}
    asked = priority.Needs(outreach=priority.Outreach("disabilitas", " Jl. Solo 1 ", "0812"))
    assert priority.with_form_fields(schema, {}, asked) == {"jemput_bola": True, "alamat_kunjungan": "Jl. Solo 1"}
    assert priority.with_form_fields(schema, {}, priority.Needs()) == {"jemput_bola": False}
    assert priority.with_form_fields(schema, {"jemput_bola": True}, priority.Needs()) == {"jemput_bola": True}
    assert priority.with_form_fields({"properties": {}}, {"a": 1}, asked) == {"a": 1}


def test_an_integrated_application_asks_once_and_each_service_takes_what_it_offers() -> None:
    skck = {"outreach": {"id": "a", "en": "b", "for": ["lansia", "disabilitas"]}}
    akta = {"outreach": {"id": "a", "en": "b", "for": ["sakit", "disabilitas", "lansia"]}}
    pbg: dict[str, Any] = {}
    assert priority.bundle_groups([skck, pbg, akta]) == ["disabilitas", "lansia", "sakit"]
    ill = priority.Needs("hamil", priority.Outreach("sakit", "Jl. Solo 1", "0812"))
    assert priority.check_bundle([skck, pbg, akta], ill) == []
    # The visit goes onto the services that offer it to the applicant's group; priority onto every one.
    assert [priority.for_service(s, ill) for s in (skck, pbg, akta)] == [priority.Needs("hamil"),
                                                                         priority.Needs("hamil"), ill]
    none_offers = priority.check_bundle([pbg, {}], priority.Needs(outreach=VISIT))
    assert [(e.path, e.message_en) for e in none_offers] == [
        ("outreach", "No service in this application offers jemput bola (an officer's visit).")]
    assert [e.path for e in priority.check_bundle([skck, pbg], priority.Needs("vip", ill.outreach))] == [
        "priority", "outreach_for"]

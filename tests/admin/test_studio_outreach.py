"""The studio's service-standard form edits jemput bola (service.toml `outreach`)."""
# ruff: noqa: F811 - the fixtures are imported, then named as test arguments

from __future__ import annotations

import tomllib
from collections.abc import Callable

from fastapi.testclient import TestClient

from engine.catalogue import standard, standard_checks, standard_write
from engine.context import AppContext
from tests.admin.test_studio_standard import draft, form_values, stored  # noqa: F401 - fixture

Login = Callable[[str], str]
TOML = b'''# A service.
key = "izin_uji"
agency = "dinas_uji"
name = { id = "Izin Uji", en = "Test Permit" }
product = { id = "Izin", en = "Permit" }
sla_days = 3
channels = ["tatap_muka"]
requirements = []
'''


def posted(page: str, *extra: tuple[str, str]) -> standard.Standard:
    """Read the form as the route does from what a browser posts, with extra fields."""
    return standard.from_form([*form_values(page), *extra], key="izin_uji", agency="dinas_uji")


def test_the_standard_form_shows_jemput_bola(client: TestClient, catalogue: AppContext, page_login: Login,
                                            draft: int) -> None:
    page_login("analis_uji")
    page = client.get(f"/studio/draf/{draft}/standar").text
    for text in ("Layanan ini menyediakan jemput bola", 'name="outreach_id"', 'name="outreach_en"',
                 'id="f-outreach-disabilitas" name="outreach_for" value="disabilitas"'):
        assert text in page, text
    assert not standard.read(stored(catalogue, draft)).outreach


def test_jemput_bola_is_read_checked_written_and_removed() -> None:
    off = standard.from_form([("name_id", "Izin Uji")], key="izin_uji", agency="dinas_uji")
    assert off.outreach is None
    half = standard.from_form([("outreach_on", "1"), ("outreach_id", "Petugas datang.")], key="k", agency="a")
    errors = standard_checks.validate(half)
    assert errors["outreach_en"][0] == "Uraian jemput bola (bahasa Inggris) wajib diisi"
    assert errors["outreach_for"][1] == "Choose at least one group of applicants for jemput bola"
    on = standard.from_form([("outreach_on", "1"), ("outreach_id", "Petugas datang."), ("outreach_en", "A visit."),
                             ("outreach_for", "disabilitas"), ("outreach_for", "lansia")], key="k", agency="a")
    assert "outreach_for" not in standard_checks.validate(on)
    std = standard.read(TOML)
    std.outreach = on.outreach
    written = standard_write.write(TOML, std)
    text = written.decode()
    assert tomllib.loads(text)["outreach"] == {"id": "Petugas datang.", "en": "A visit.",
                                               "for": ["disabilitas", "lansia"]}
    assert text.index("\noutreach = ") < text.index("\nrequirements = ")  # in its usual place, after channels
    again = standard.read(written)
    assert again.outreach == on.outreach
    assert standard_write.write(written, again) == written  # saved unchanged: the same bytes
    again.outreach = None
    removed = tomllib.loads(standard_write.write(written, again).decode())
    assert removed == {k: v for k, v in tomllib.loads(text).items() if k != "outreach"}


def test_a_lint_problem_on_outreach_is_shown_on_its_field() -> None:
    std = standard.read(TOML)
    assert standard_checks.field_of("outreach.en is missing or empty", None, std) == "outreach_en"
    assert standard_checks.field_of("outreach must be a table: ...", None, std) == "outreach_for"

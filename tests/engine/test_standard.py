"""service.toml as a form: read, write back with tomlkit (comments and unknown keys kept), check, map lint."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.catalogue import previews, standard, standard_checks, standard_write
from engine.catalogue.package import from_path
from engine.catalogue.standard import AgencyDecl, DocumentForm, Fact, Requirement, Role, Text
from engine.errors import Problem
from engine.lint.service import lint_package
from engine.notify.service import EVENTS

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = sorted(ROOT.glob("processes/*/service.toml"))
AKTA = (ROOT / "processes" / "akta_kelahiran" / "service.toml").read_bytes()


def test_the_catalogue_has_twenty_services() -> None:
    # The kiosk permit was retired (PP 16/2021); business licensing added PKKPR, SLHS and the trade licence
    # (docs/business-licensing.md); koreksi_data is the personal-data correction request.
    assert len(CATALOGUE) == 20


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.parent.name)
def test_every_catalogue_standard_saves_unchanged_as_the_same_bytes(path: Path) -> None:
    raw = path.read_bytes()
    assert standard_write.write(raw, standard.read(raw)) == raw


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.parent.name)
def test_every_catalogue_standard_passes_the_forms_checks(path: Path) -> None:
    files = from_path(path.parent).files
    std = standard.read(path.read_bytes())
    assert standard_checks.validate(std, forms=standard.form_choices(files), templates=list(files)) == {}


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.parent.name)
def test_the_form_posted_back_unchanged_is_the_same_file(path: Path) -> None:
    raw = path.read_bytes()
    std = standard.read(raw)
    posted = standard.from_form(_as_form(std), key=std.key, agency=std.agency)
    assert standard_write.write(raw, posted) == raw


def _as_form(std: standard.Standard) -> list[tuple[str, str]]:
    """Return the fields the page posts for a model (what admin/templates/studio/standard.html renders)."""
    items = [(f"{name}_{lang}", getattr(getattr(std, name), lang)) for name in ("name", "description", "product", "fee")
             for lang in ("id", "en")]
    items += [("sla_days", std.sla_days), ("start_form", std.start_form)] + [("channels", c) for c in std.channels]
    for i, r in enumerate(std.requirements):
        items += [(f"req-{i}-id", r.text.id), (f"req-{i}-en", r.text.en), (f"req-{i}-asal", str(r.origin))]
    for i, a in enumerate(std.agencies):
        items += [(f"ag-{i}-asal", str(a.origin)), (f"ag-{i}-code", a.code), (f"ag-{i}-kind", a.kind),
                  (f"ag-{i}-parent", a.parent), (f"ag-{i}-name_id", a.name.id), (f"ag-{i}-name_en", a.name.en)]
        for j, role in enumerate(a.roles):
            items += [(f"ag-{i}-role-{j}-asal", str(role.origin)), (f"ag-{i}-role-{j}-key", role.key),
                      (f"ag-{i}-role-{j}-name_id", role.name.id), (f"ag-{i}-role-{j}-name_en", role.name.en)]
    if std.document:
        d = std.document
        items += [("doc_on", "1"), ("doc_title_id", d.title.id), ("doc_title_en", d.title.en),
                  ("doc_template", d.template), ("doc_number_field", d.number_field),
                  ("doc_holder_field", d.holder_field)] + [("doc_end_events", e) for e in d.end_events]
        for k, f in enumerate(d.facts):
            items += [(f"fact-{k}-asal", str(f.origin)), (f"fact-{k}-field", f.field), (f"fact-{k}-id", f.label.id),
                      (f"fact-{k}-en", f.label.en)]
    if std.outreach:
        items += [("outreach_on", "1"), ("outreach_id", std.outreach.text.id), ("outreach_en", std.outreach.text.en)]
        items += [("outreach_for", g) for g in std.outreach.groups]
    if std.retention:
        items += [("retention_on", "1"), ("retention_years", std.retention.years),
                  ("retention_action", std.retention.action), ("retention_basis_id", std.retention.basis.id),
                  ("retention_basis_en", std.retention.basis.en)]
    return items + _components_form(std.components)


def _components_form(comps: standard.Components) -> list[tuple[str, str]]:
    """Return the `[standard]` fields: a textarea per language, a list component one item per line."""
    items = [(f"c_{key}_{lang}", getattr(text, lang)) for key, text in comps.texts.items() for lang in ("id", "en")]
    items += [(f"c_{key}_{lang}", "\r\n".join(getattr(t, lang) for t in texts))
              for key, texts in comps.lists.items() for lang in ("id", "en")]
    return [*items, ("c_complaints_days", comps.response_days), ("c_signatory_id", comps.signatory.id),
            ("c_signatory_en", comps.signatory.en)]


def test_an_edit_changes_only_what_changed_and_keeps_comments_and_order() -> None:
    raw = b"".join(line for line in AKTA.splitlines(keepends=True) if not line.startswith(b"number_field"))
    std = standard.read(raw)  # without number_field: a key the file does not have
    std.name.id = "Akta Lahir"
    std.sla_days = "4"
    std.requirements.append(Requirement(Text("Pas foto", "Photograph")))
    std.document.number_field = "nomor_akta"  # type: ignore[union-attr]
    out = standard_write.write(raw, std).decode()
    before, after = raw.decode().splitlines(), out.splitlines()
    changed = [line for line in after if line not in before]
    assert changed == ['name = { id = "Akta Lahir", en = "Birth Certificate" }', "sla_days = 4",
                       '  { id = "Pas foto", en = "Photograph" },', 'number_field = "nomor_akta"']
    # A key the file did not have goes to its usual place, not after the table's trailing comments.
    assert after.index('number_field = "nomor_akta"') == after.index('template = "documents/akta_kelahiran.html"') + 1
    assert "# The product this service issues" in out
    assert out.startswith("# Birth certificate: filed at the MPP counter")


def test_keys_the_form_does_not_know_survive_edits_of_their_rows() -> None:
    raw = AKTA.replace(b'key = "petugas", name', b'key = "petugas", catatan = "loket 3", name')
    raw = raw.replace(b'sla_days = 3', b'sla_days = 3  # working days\nmasa_berlaku = "5 tahun"')
    raw = raw.replace(b'holder_field = "nama_bayi"', b'holder_field = "nama_bayi"\ncetak_foto = true')
    std = standard.read(raw)
    assert std.other_keys == ["masa_berlaku"]
    agency = std.agencies[0]
    agency.roles[0].name.en = "Counter officer"
    agency.roles.insert(0, Role("arsip", Text("Arsiparis", "Archivist")))
    std.sla_days = "6"
    std.document.facts.pop(0)  # type: ignore[union-attr]
    out = standard_write.write(raw, std).decode()
    data = tomllib.loads(out)
    assert data["masa_berlaku"] == "5 tahun"
    assert "sla_days = 6  # working days" in out
    assert data["document"]["cetak_foto"] is True
    petugas = next(r for r in data["agencies"][0]["roles"] if r["key"] == "petugas")
    assert petugas == {"key": "petugas", "catatan": "loket 3",
                       "name": {"id": "Petugas Disdukcapil di MPP", "en": "Counter officer"}}
    assert [f["field"] for f in data["document"]["facts"]] == ["tanggal_lahir", "jenis_kelamin"]


def test_agencies_added_and_removed_keep_the_section_comment_before_the_document() -> None:
    std = standard.read(AKTA)
    std.agencies.append(AgencyDecl("dpmptsp", "city_office", "", Text("DPMPTSP", "DPMPTSP"),
                                   [Role("jemput_bola", Text("Jemput bola", "Outreach"))]))
    out = standard_write.write(AKTA, std).decode()
    data = tomllib.loads(out)
    assert [a["code"] for a in data["agencies"]] == ["disdukcapil", "dpmptsp"]
    assert out.index('code = "dpmptsp"') < out.index("# The product this service issues") < out.index("[document]")
    assert "\n\n\n" not in out
    again = standard.read(out.encode())
    again.agencies = again.agencies[1:]
    data = tomllib.loads(standard_write.write(out.encode(), again).decode())
    assert [a["code"] for a in data["agencies"]] == ["dpmptsp"]


def test_the_document_table_can_be_removed_and_added() -> None:
    std = standard.read(AKTA)
    std.document = None
    without = standard_write.write(AKTA, std)
    assert "document" not in tomllib.loads(without.decode())
    std = standard.read(without)
    std.document = DocumentForm(Text("Surat", "Letter"), ["EndEvent_terbit"], "", "", "nama_bayi",
                                [Fact("tempat_lahir", Text("Tempat lahir", "Place of birth"))])
    data = tomllib.loads(standard_write.write(without, std).decode())
    assert data["document"] == {"title": {"id": "Surat", "en": "Letter"}, "end_events": ["EndEvent_terbit"],
                                "holder_field": "nama_bayi",
                                "facts": [{"field": "tempat_lahir", "id": "Tempat lahir", "en": "Place of birth"}]}


def test_optional_texts_left_empty_are_removed() -> None:
    std = standard.read(AKTA)
    std.description = Text()
    data = tomllib.loads(standard_write.write(AKTA, std).decode())
    assert "description" not in data
    assert data["fee"] == {"id": "Gratis (Rp0)", "en": "Free (Rp0)"}


def test_validation_names_each_wrong_field_in_both_languages() -> None:
    std = standard.read(AKTA)
    std.name.en = ""
    std.description = Text("Hanya Indonesia", "")
    std.sla_days = "0"
    std.channels = ["pos"]
    std.start_form = "forms/lain.schema.json"
    std.requirements.append(Requirement(Text("", "English only")))
    std.agencies.append(AgencyDecl("Bad Code", "mall", "", Text("", ""), [Role("X", Text("a", "b")),
                                                                          Role("x", Text("a", ""))]))
    std.document.end_events = []  # type: ignore[union-attr]
    std.document.facts.append(Fact("bukan nama", Text("", "Label")))  # type: ignore[union-attr]
    errors = standard_checks.validate(std, forms=["forms/permohonan.schema.json"], templates=[])
    assert errors["name_en"] == ("Nama layanan (bahasa Inggris) wajib diisi", "Service name (English) is required")
    assert errors["description_en"][1] == "Description (English) is required, or leave both languages empty"
    assert errors["sla_days"][0] == "SLA harus bilangan bulat hari kerja, 1 sampai 365"
    assert errors["channels"][1] == "Choose at least one service channel"
    assert "start_form" in errors
    assert errors["req-4-id"][0] == "Persyaratan (bahasa Indonesia) wajib diisi"
    assert set(errors) >= {"ag-1-code", "ag-1-kind", "ag-1-name_id", "ag-1-name_en", "ag-1-role-0-key",
                           "ag-1-role-1-name_en", "doc_end_events", "doc_template", "fact-3-field", "fact-3-id"}


def test_a_form_posted_with_empty_rows_forgets_them() -> None:
    std = standard.from_form([("req-0-id", "KTP"), ("req-0-en", "ID card"), ("req-5-id", ""), ("req-5-en", " "),
                              ("ag-0-code", ""), ("ag-0-kind", "city_office")], key="k", agency="a")
    standard.drop_empty_rows(std)
    assert [r.text.plain() for r in std.requirements] == [{"id": "KTP", "en": "ID card"}]
    assert std.agencies == []


def test_row_buttons_add_and_remove_exactly_their_rows() -> None:
    items = [("req-0-id", "a"), ("req-2-id", "c"), ("ag-0-code", "x"), ("ag-0-role-0-key", "k"), ("ag-1-code", "y")]
    assert standard.edit_rows(items, "tambah-req") == [*items, ("req-3-id", "")]
    assert standard.edit_rows(items, "hapus-req-0") == items[1:]
    assert standard.edit_rows(items, "tambah-role-1") == [*items, ("ag-1-role-0-key", "")]
    assert standard.edit_rows(items, "hapus-ag-0") == [("req-0-id", "a"), ("req-2-id", "c"), ("ag-1-code", "y")]
    assert standard.edit_rows(items, "simpan") is None


def test_lint_problems_of_service_toml_find_their_fields() -> None:
    raw = AKTA.replace(b"sla_days = 3", b"sla_days = 0").replace(b'en = "Birth Certificate" }', b'en = "" }')
    raw = raw.replace(b'{ key = "siak", name = { id = "Sistem SIAK Disdukcapil", en = "SIAK population '
                      b'administration system" } }', b'{ key = "siak", name = { id = "Sistem SIAK" } }')
    raw = raw.replace(b'end_events = ["EndEvent_terbit"]', b'end_events = ["EndEvent_x"]')
    files = dict(from_path(ROOT / "processes" / "akta_kelahiran").files)
    files["service.toml"] = raw
    from engine.catalogue.package import from_files

    problems = [p for p in lint_package(from_files(files)) if p.file == "service.toml"]
    std = standard.read(raw)
    fields = {standard_checks.field_of(p.message, p.element_id, std) for p in problems}
    assert {"sla_days", "name_en", "ag-0-role-1-name_en", "doc_end_events"} <= fields


@pytest.mark.parametrize(("message", "field"), [
    ("requirements item 2: the en text is missing", "req-1-en"),
    ("agencies item 1: code must be lowercase letters, digits and _", "ag-0-code"),
    ("agencies item 3: code must be lowercase letters, digits and _", None),
    ("agency 'disdukcapil': kind must be one of city_office", "ag-0-kind"),
    ("document.facts item 2: the id label is missing", "fact-1-id"),
    ("[document] facts field 'jenis_kelamin' (issued at 'EndEvent_terbit') reads the field", "fact-2-field"),
    ("channels offers drive_thru, but the start form allows channel only", "channels"),
    ("document template: line 3: unexpected '}'", "doc_template"),
    ("unknown key 'x' is ignored (a typo?)", None),
])
def test_messages_map_to_fields(message: str, field: str | None) -> None:
    assert standard_checks.field_of(message, None, standard.read(AKTA)) == field


def test_a_problem_that_names_its_key_needs_no_message_matching() -> None:
    problem = Problem("service.toml", "key", "the draft is for 'a'; service.toml names 'b'")
    assert standard_checks.field_of(problem.message, problem.element_id, standard.read(AKTA)) == "key"


def test_sample_data_fills_the_start_form_and_the_documents_fields() -> None:
    files = from_path(ROOT / "processes" / "pbg").files
    data = previews.sample_data(files)
    assert len(data["nik"]) == 16
    assert data["nik"].isdigit()
    assert data["channel"] in ("tatap_muka", "drive_thru", "terpadu", "daring")
    assert data["nomor_pbg"] == "CONTOH/0001"


def test_every_notification_event_has_a_label() -> None:
    assert set(previews.EVENT_LABELS) == set(EVENTS)
    assert previews.template_kind("notifications/id/received.txt") == "notification"
    assert previews.template_kind("notifications/id/unknown.txt") is None
    assert previews.template_kind("documents/pbg.html") == "document"
    assert previews.template_kind("process.bpmn") is None


def test_a_catalogue_document_template_previews_as_the_engine_prints_it() -> None:
    files = from_path(ROOT / "processes" / "pbg").files
    data = {**previews.sample_data(files), "nomor_sppst": "SPPST/77", "retribusi": 1807500}
    preview = previews.preview_template(files, name="documents/pbg.html",
                                        source=files["documents/pbg.html"].decode(), data=data)
    assert "SPPST/77" in preview.html
    assert "Rp1.807.500" in preview.html
    assert preview.pdf.startswith(b"%PDF")


def test_a_template_the_sandbox_refuses_is_a_clear_error() -> None:
    files = from_path(ROOT / "processes" / "pbg").files
    with pytest.raises(previews.TemplateInvalid) as caught:
        previews.preview_template(files, name="documents/pbg.html", data={},
                                  source="<p>\n{{ ''.__class__.__mro__[1].__subclasses__() }}</p>")
    assert caught.value.line == 2
    assert "Templat tidak dapat ditampilkan (baris 2)" in caught.value.text("id")


def test_a_first_agency_goes_before_the_document_table() -> None:
    std = standard.read(AKTA)
    std.agencies = []
    without = standard_write.write(AKTA, std)
    assert "agencies" not in tomllib.loads(without.decode())
    std = standard.read(without)
    std.agencies = [AgencyDecl("disdukcapil", "city_office", "", Text("Disdukcapil", "Civil registry"))]
    text = standard_write.write(without, std).decode()
    assert tomllib.loads(text)["agencies"] == [{"code": "disdukcapil", "kind": "city_office",
                                                "name": {"id": "Disdukcapil", "en": "Civil registry"}}]
    assert text.index("[[agencies]]") < text.index("[document]")


def test_line_breaks_typed_in_a_textarea_are_stored_as_newlines() -> None:
    std = standard.from_form([("description_id", "Baris satu\r\nbaris dua")], key="k", agency="a")
    assert std.description.id == "Baris satu\nbaris dua"

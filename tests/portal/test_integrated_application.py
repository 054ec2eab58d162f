"""The integrated application in the portal (several services, one form, one tracking number) and document slots."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.context import AppContext
from engine.models import Bundle, Case, CaseEvent, OpenTask, StoredFile
from tests.web.test_pages import csrf, log_in

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FORM = "/terpadu?layanan=skck&layanan=pdam_sambungan"
SHARED = {"nik": "3471010101800001", "telepon": "081234567890", "email": "sari@example.id"}
SKCK = {"skck__nama_lengkap": "Sari Wulandari", "skck__tempat_lahir": "Yogyakarta", "skck__tanggal_lahir": "1990-04-01",
        "skck__jenis_kelamin": "perempuan", "skck__alamat": "Jl. Kaliurang 5", "skck__keperluan": "melamar_pekerjaan"}
PDAM = {"pdam_sambungan__nama_pemohon": "Sari Wulandari", "pdam_sambungan__nomor_kk": "3471010101800002",
        "pdam_sambungan__alamat_pemasangan": "Jl. Kaliurang 5", "pdam_sambungan__kemantren": "jetis",
        "pdam_sambungan__kelompok_pelanggan": "rumah_tangga", "pdam_sambungan__diameter_pipa": "1/2"}
DOCS = ("ktp", "kk", "akta_atau_ijazah", "pas_foto", "denah_lokasi")


def _files(*codes: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(f"doc__{code}", (f"{code}.pdf", PDF, "application/pdf")) for code in codes]


def _post(client: TestClient, data: dict[str, str], codes: tuple[str, ...] = DOCS):
    token = csrf(client, FORM)
    body = {**SHARED, **SKCK, **PDAM, "privacy_notice_accepted": "1", **data, "csrf_token": token,
            "layanan": ["skck", "pdam_sambungan"]}
    return client.post("/terpadu", data=body, files=_files(*codes))


def _count(ctx: AppContext, model: type) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_form_asks_shared_fields_once_and_each_services_own_apart(client: TestClient) -> None:
    log_in(client, "warga")
    page = client.get(FORM).text
    for shared in ("nik", "telepon", "email", "doc__ktp", "doc__kk"):
        assert page.count(f'name="{shared}"') == 1, shared
    assert 'name="skck__nama_lengkap"' in page
    assert 'name="pdam_sambungan__nama_pemohon"' in page
    assert 'name="skck__nik"' not in page
    assert 'name="pdam_sambungan__nik"' not in page
    assert 'name="doc__pas_foto"' in page
    assert 'name="doc__denah_lokasi"' in page
    assert 'name="skck__channel"' not in page
    assert 'name="channel"' not in page
    chooser = client.get("/terpadu").text
    assert 'value="skck"' in chooser
    assert 'value="pdam_sambungan"' in chooser


def test_two_services_file_as_one_application_with_one_tracking_number(client: TestClient,
                                                                       catalogue: AppContext) -> None:
    log_in(client, "warga")
    filed = _post(client, {})
    assert filed.status_code == 200, filed.text
    number = re.search(r'id="tracking-number">([A-Z0-9-]+)<', filed.text)
    assert number
    with catalogue.sessions() as session:
        bundle = session.scalar(select(Bundle).where(Bundle.tracking_number == number[1]))
        assert bundle is not None
        members = list(session.scalars(select(Case).where(Case.bundle_id == bundle.id).order_by(Case.id)))
        assert [c.process_key for c in members] == ["skck", "pdam_sambungan"]
        assert {c.channel for c in members} == {"terpadu"}
        assert members[0].data["nik"] == members[1].data["nik"] == SHARED["nik"]
        assert members[1].data["nama_pemohon"] == "Sari Wulandari"
        assert "nama_pemohon" not in members[0].data
        # The shared ID card was uploaded once; each case has its own row of it, so each case's officers read it.
        answered = {}
        for case in members:
            event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                           CaseEvent.action == "requirement_files"))
            assert event is not None
            assert event.diff is not None
            answered[case.process_key] = event.diff["files"]
        assert set(answered["skck"]) == {"ktp", "kk", "akta_atau_ijazah", "pas_foto"}
        assert set(answered["pdam_sambungan"]) == {"ktp", "kk", "denah_lokasi"}
        ktp_skck, ktp_pdam = (int(answered[k]["ktp"][0].split(":")[1]) for k in ("skck", "pdam_sambungan"))
        assert ktp_skck != ktp_pdam
        rows = [session.get(StoredFile, ktp_skck), session.get(StoredFile, ktp_pdam)]
        assert [r.case_id for r in rows if r] == [members[0].id, members[1].id]
        assert rows[0]
        assert rows[1]
        assert rows[0].sha256 == rows[1].sha256
    tracked = client.get(f"/lacak/{number[1]}").text
    assert "Surat Keterangan Catatan Kepolisian" in tracked
    assert "Sambungan Baru Air Minum" in tracked
    assert 'id="bundle-parts"' in tracked


def test_a_refusal_names_the_service_and_field_and_files_nothing(client: TestClient, catalogue: AppContext) -> None:
    log_in(client, "warga")
    before = (_count(catalogue, Case), _count(catalogue, Bundle))
    refused = _post(client, {"pdam_sambungan__nomor_kk": "12"})  # SKCK is fine, PDAM is not
    assert refused.status_code == 422
    assert 'id="f-pdam_sambungan__nomor_kk-error"' in refused.text
    assert "Sambungan Baru Air Minum PDAM Tirtamarta:" in refused.text
    assert (_count(catalogue, Case), _count(catalogue, Bundle)) == before
    # What was typed and uploaded comes back, the uploads ticked to keep.
    assert 'value="Sari Wulandari"' in refused.text
    assert re.search(r'name="doc__ktp__keep" value="file:\d+" checked', refused.text)


def test_a_missing_required_document_is_refused_naming_the_requirement(client: TestClient,
                                                                      catalogue: AppContext) -> None:
    log_in(client, "warga")
    before = _count(catalogue, Case)
    refused = _post(client, {}, codes=("ktp", "kk", "akta_atau_ijazah", "denah_lokasi"))  # no photo for SKCK
    assert refused.status_code == 422
    assert "Dokumen persyaratan wajib diunggah: Pas foto 4x6" in refused.text
    assert 'id="f-doc__pas_foto-error"' in refused.text
    assert _count(catalogue, Case) == before


def test_a_single_service_application_needs_its_required_documents(client: TestClient,
                                                                   catalogue: AppContext) -> None:
    log_in(client, "warga")
    page = client.get("/layanan/skck/ajukan").text
    assert 'name="doc__ktp"' in page
    assert 'name="doc__kartu_sidik_jari"' in page
    data = {k.removeprefix("skck__"): v for k, v in SKCK.items()} | SHARED | {"channel": "daring",
                                                                              "privacy_notice_accepted": "1"}
    before = _count(catalogue, Case)
    refused = client.post("/layanan/skck/ajukan", data={**data, "csrf_token": csrf(client, "/layanan/skck/ajukan")},
                          files=_files("ktp", "kk", "pas_foto"))
    assert refused.status_code == 422
    assert "Dokumen persyaratan wajib diunggah: Fotokopi akta kelahiran atau ijazah terakhir" in refused.text
    assert "Kartu sidik jari" not in refused.text.split('id="error-summary"')[1].split("</div>")[0]  # optional
    assert _count(catalogue, Case) == before
    kept = re.findall(r'name="(doc__\w+)__keep" value="(file:\d+)"', refused.text)
    filed = client.post("/layanan/skck/ajukan",
                        data={**data, "csrf_token": csrf(client, "/layanan/skck/ajukan"),
                              **{f"{name}__keep": ref for name, ref in kept}},
                        files=_files("akta_atau_ijazah"))
    assert filed.status_code == 200, filed.text
    assert _count(catalogue, Case) == before + 1


def test_the_officer_ticks_each_requirement_and_the_check_is_kept_in_history(client: TestClient,
                                                                            catalogue: AppContext) -> None:
    log_in(client, "warga")
    assert _post(client, {}).status_code == 200
    with catalogue.sessions() as session:
        case = session.scalar(select(Case).where(Case.process_key == "skck").order_by(Case.id.desc()))
        assert case is not None
        task = session.scalar(select(OpenTask).where(OpenTask.case_id == case.id))
        assert task is not None
        case_id, officer = case.id, task.role.replace(".", "_")
    assert client.get(f"/kasus/{case_id}/persyaratan").status_code in (303, 401, 403, 404)  # not the applicant's
    client.cookies.clear()
    log_in(client, officer)
    page = client.get(f"/kasus/{case_id}/persyaratan?kembali=/tugas/{task.id}")
    assert page.status_code == 200
    assert "Pas foto 4x6" in page.text
    assert re.search(r'<a href="/berkas/\d+">pas_foto.pdf</a>', page.text)
    assert "Kartu sidik jari" in page.text
    assert "tidak diunggah" in page.text
    token = csrf(client, f"/kasus/{case_id}/persyaratan")
    empty = client.post(f"/kasus/{case_id}/persyaratan", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "Tandai sekurang-kurangnya satu persyaratan" in empty.text
    saved = client.post(f"/kasus/{case_id}/persyaratan",
                        data={"csrf_token": token, "cek__ktp": "sesuai", "cek__pas_foto": "tidak_sesuai",
                              "catatan__pas_foto": "Latar belakang biru, harus merah", "kembali": f"/tugas/{task.id}"},
                        follow_redirects=False)
    assert saved.status_code == 303
    with catalogue.sessions() as session:
        event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "checklist"))
        assert event is not None
        assert event.actor == officer
        assert event.diff == {"items": {"ktp": {"ok": True, "note": ""},
                                        "pas_foto": {"ok": False, "note": "Latar belakang biru, harus merah"}}}
    shown = client.get(saved.headers["location"]).text
    assert 'id="checklist-saved"' in shown
    assert 'value="Latar belakang biru, harus merah"' in shown
    assert re.search(r'id="cek-pas_foto-no" name="cek__pas_foto" value="tidak_sesuai" checked', shown)
    assert f'href="/tugas/{task.id}"' in shown
    assert 'id="checklist-link"' in client.get(f"/tugas/{task.id}").text

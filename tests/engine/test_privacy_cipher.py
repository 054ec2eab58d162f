"""Sealed values and files: AES-256-GCM bound to their field, tagged with their key id, keys from configuration."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from pydantic import SecretStr

from engine.bpmn import state as state
from engine.context import AppContext
from engine.privacy import cipher as cipher
from engine.privacy import keys as keys
from engine.privacy.fields import Sealer, sensitive_fields
from engine.settings import Settings
from tests.factories import PBG, Driver, add_provider, deploy, make_user, pbg_application

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()


def ring(text: str | None) -> keys.Keyring:
    return keys.keyring_from(Settings(secret_key=SecretStr("s" * 48), data_keys=SecretStr(text) if text else None))


def test_the_first_configured_key_seals_and_every_listed_key_opens() -> None:
    old, new = ring(f"k1:{KEY_A}"), ring(f"k2:{KEY_B},k1:{KEY_A}")
    token = cipher.seal_text("nik", '"3471012345678901"', old)
    assert token.startswith("enc:1:k1:")
    assert "3471012345678901" not in token
    assert cipher.open_text("nik", token, new) == '"3471012345678901"'
    assert cipher.kid_of(cipher.seal_text("nik", "1", new)) == "k2"
    assert cipher.seal_text("nik", "1", new) != cipher.seal_text("nik", "1", new), "a fresh nonce each time"


def test_without_configuration_one_key_is_derived_as_k0_and_a_bare_k0_names_it() -> None:
    default = ring(None)
    assert (default.active, list(default.keys)) == ("k0", ["k0"])
    token = cipher.seal_text("nik", "1", default)
    assert cipher.open_text("nik", token, ring(f"k1:{KEY_A},k0")) == "1"
    assert default.lookup_key == ring(f"k1:{KEY_A}").lookup_key, "lookups survive a data-key rotation"


def test_a_value_moved_to_another_field_or_altered_does_not_open() -> None:
    keyring = ring(f"k1:{KEY_A}")
    token = cipher.seal_text("nik", '"3471012345678901"', keyring)
    with pytest.raises(cipher.SealBroken, match="'no_kk'"):
        cipher.open_text("no_kk", token, keyring)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(cipher.SealBroken):
        cipher.open_text("nik", tampered, keyring)
    with pytest.raises(cipher.SealBroken, match="key 'k1'"):
        cipher.open_text("nik", token, ring(f"k1:{KEY_B}"))


def test_a_missing_key_is_named_never_guessed() -> None:
    token = cipher.seal_text("nik", "1", ring(f"k1:{KEY_A}"))
    with pytest.raises(keys.KeyMissing, match="data key 'k1' is not configured") as raised:
        cipher.open_fields({"nik": token}, keyring=ring(f"k2:{KEY_B}"))
    assert raised.value.kid == "k1"


@pytest.mark.parametrize(("text", "message"), [
    ("k1", "is not 'id:base64key'"),
    ("k 1:" + KEY_A, "is not 'id:base64key'"),
    ("k1:not*base64", "not base64"),
    ("k1:" + base64.b64encode(b"short").decode(), "has 5 bytes, not 32"),
    (f"k1:{KEY_A},k1:{KEY_B}", "given twice"),
])
def test_malformed_keys_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(keys.KeyringInvalid, match=message):
        ring(text)


def test_plain_values_are_read_as_they_are_and_only_sensitive_fields_are_sealed() -> None:
    keyring = ring(f"k1:{KEY_A}")
    data = {"nik": "3471012345678901", "nama_pemohon": "Budi", "luas": 12.5, "kosong": None}
    sealed = cipher.seal_fields(data, {"nik", "luas", "kosong"}, keyring=keyring)
    assert sealed["nama_pemohon"] == "Budi"
    assert sealed["kosong"] is None
    assert cipher.is_sealed(sealed["nik"])
    assert cipher.is_sealed(sealed["luas"])
    assert cipher.open_tree({"set": sealed, "list": [sealed]}, keyring=keyring) == {"set": data, "list": [data]}
    assert cipher.open_fields(data, keyring=keyring) is data, "legacy plain data opens as it is"


def test_files_are_sealed_bound_to_their_hash_and_legacy_files_read_as_they_are() -> None:
    keyring, pdf = ring(f"k1:{KEY_A}"), b"%PDF-1.4 a scanned KTP"
    digest = hashlib.sha256(pdf).hexdigest()
    blob = cipher.seal_bytes(pdf, sha256=digest, keyring=keyring)
    assert cipher.file_kid(blob) == "k1"
    assert pdf not in blob
    assert cipher.open_bytes(blob, sha256=digest, keyring=keyring) == pdf
    assert cipher.open_bytes(pdf, sha256=digest, keyring=keyring) == pdf
    with pytest.raises(cipher.SealBroken):
        cipher.open_bytes(blob, sha256=hashlib.sha256(b"other").hexdigest(), keyring=keyring)


def test_lookup_hashes_match_the_same_digits_only() -> None:
    keyring = ring(f"k1:{KEY_A}")
    first = cipher.lookup_hash("3471 0123 4567 8901", keyring)
    assert first == cipher.lookup_hash("3471012345678901", keyring) != cipher.lookup_hash("3471012345678900", keyring)
    assert first is not None
    assert "3471" not in first
    assert cipher.lookup_hash("", keyring) is None


def test_sealed_task_rows_open_to_what_the_serializer_writes(ctx: AppContext) -> None:
    deploy(ctx, PBG)
    add_provider(ctx, "konsultan_griya", "konsultan")
    applicant = make_user(ctx, "warga")
    officer = make_user(ctx, "fo", "dpmptsp.front_office")
    d = Driver(ctx)
    case = d.start("pbg", pbg_application(nik="3471055566677788"), applicant)
    d.complete(case.id, "Task_kelengkapan", officer, {"kelengkapan": "lengkap"})
    with ctx.sessions() as session:
        loaded = ctx.rt.load_case(session, case.id)
    sealer = ctx.rt.sealer(loaded.compiled)
    assert "nik" in sealer.sensitive == sensitive_fields(loaded.compiled.forms) >= {"nik"}
    for task in loaded.workflow.raw.tasks.values():
        encoded = state._encode(task, sealer)
        assert "3471055566677788" not in encoded
        assert state.open_row(json.loads(encoded)) == json.loads(state.reference_encode(task))
    assert Sealer().seal({"nik": "1"}) == {"nik": "1"}

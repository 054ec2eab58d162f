"""The pure rules of engine/privacy/access.py: who is the data subject, who reviews, reasons, masked diffs."""

from __future__ import annotations

import pytest

from engine.directory.actors import Actor
from engine.errors import InvalidInput
from engine.models import Case
from engine.privacy.access import DPO_ROLE, is_data_subject, is_dpo, masked_diff, reason_given

FIELDS = {"nik": "sensitive", "nama_pemohon": "personal"}


def test_the_applicant_is_the_data_subject_and_a_counter_officer_filing_for_a_walk_in_is_not() -> None:
    applicant, counter = Actor(7, "warga", "applicant"), Actor(9, "loket", "officer")
    assert is_data_subject(applicant, Case(applicant_id=7, filed_by_id=7))
    assert not is_data_subject(counter, Case(applicant_id=7, filed_by_id=9))
    assert not is_data_subject(counter, Case(applicant_id=None, filed_by_id=9))
    assert is_data_subject(applicant, Case(applicant_id=None, filed_by_id=7))


def test_only_the_data_protection_officer_and_admins_review_the_record() -> None:
    assert is_dpo(Actor(1, "ppdp", "officer", frozenset({(DPO_ROLE, "pemda")})))
    assert is_dpo(Actor(2, "admin", "admin"))
    assert not is_dpo(Actor(3, "penyelia", "officer", frozenset({("dinas.supervisor", "dinas")})))
    assert not is_dpo(Actor(4, "warga", "applicant", frozenset({(DPO_ROLE, "pemda")})))


def test_a_reason_is_trimmed_and_an_empty_or_overlong_one_is_refused_in_both_languages() -> None:
    assert reason_given("  cek   pengaduan \n") == "cek pengaduan"
    with pytest.raises(InvalidInput) as empty:
        reason_given(" \t")
    assert empty.value.text("id") == "tuliskan alasan untuk menampilkan data pribadi"
    assert empty.value.text("en") == "give a reason to show the personal data"
    with pytest.raises(InvalidInput):
        reason_given("x" * 501)


def test_a_history_diff_masks_only_the_classified_values_it_sets() -> None:
    diff = {"set": {"nik": "3471012345678901", "nama_pemohon": "Siti Rahmawati", "harga": 10}, "removed": ["x"]}
    assert masked_diff(diff, FIELDS) == {"set": {"nik": "3471********8901", "nama_pemohon": "S*** R******",
                                                 "harga": 10}, "removed": ["x"]}
    assert masked_diff(None, FIELDS) is None

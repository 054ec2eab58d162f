"""The staff case page's pager when the total is capped (engine/cases/listing.TOTAL_CAP)."""

from __future__ import annotations

from admin.casesearch import PAGE, page_count
from engine.cases.listing import TOTAL_CAP


def test_an_exact_total_gives_the_exact_number_of_pages() -> None:
    assert page_count(0, page=1, full=False) == (1, False)
    assert page_count(PAGE + 1, page=1, full=True) == (2, False)
    assert page_count(TOTAL_CAP, page=1, full=True) == (-(-TOTAL_CAP // PAGE), False)


def test_beyond_the_cap_the_pager_offers_the_next_page_while_pages_are_full() -> None:
    last_counted = -(-(TOTAL_CAP + 1) // PAGE)
    assert page_count(TOTAL_CAP + 1, page=1, full=True) == (last_counted, True)
    assert page_count(TOTAL_CAP + 1, page=last_counted + 5, full=True) == (last_counted + 6, True)
    assert page_count(TOTAL_CAP + 1, page=last_counted + 5, full=False) == (last_counted + 5, True)

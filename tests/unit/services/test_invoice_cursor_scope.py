"""An invoice listing's cursor is bound to its query (caller, role, filters, updated_since): reused with another
one it is a 400 naming the cause, never a position read in another listing (which ended it early, as if complete)."""

from __future__ import annotations

import pytest
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET
from test_paging import INVOICE_POSITION, NOT_A_CURSOR, RecordingInvoices

from chalicelib.domain.directory import Principal
from chalicelib.services import paging
from chalicelib.services.errors import InvalidInput
from chalicelib.services.search import search_invoices

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier", "recipient"))
OTHER_QUERY = "returned for another query"
QUERY = {"role": "supplier", "status": "203", "updated_since": "2026-11-01T00:00:00Z"}


class NextPage(RecordingInvoices):
    def search(self, query):
        super().search(query)
        return [], INVOICE_POSITION


def first_cursor(params: dict, principal: Principal = SUPPLIER) -> str:
    _, cursor = search_invoices(principal, params, invoices=NextPage())
    assert cursor is not None
    return cursor


def test_a_cursor_pages_on_with_its_own_query_written_the_same_way():
    cursor = first_cursor(QUERY)
    invoices = RecordingInvoices()
    # the same query, spelled otherwise (the zone and precision of updated_since, a default role): the same listing
    search_invoices(SUPPLIER, {**QUERY, "updated_since": "2026-11-01T01:00:00.000+01:00", "cursor": cursor,
                               "limit": "5"}, invoices=invoices)  # fmt: skip
    assert invoices.queries[0].before == INVOICE_POSITION


@pytest.mark.parametrize(
    "changed",
    [{"status": "207"}, {"status": None}, {"role": "recipient"}, {"number": "F-1"}, {"counterpart": MAIRIE_SIRET},
     {"issued_from": "2026-01-01"}, {"issued_to": "2026-12-31"}, {"updated_since": "2026-11-02T00:00:00Z"},
     {"updated_since": None}],
)  # fmt: skip
def test_a_cursor_reused_with_another_query_is_refused(changed):
    cursor = first_cursor(QUERY)
    params = {k: v for k, v in {**QUERY, **changed}.items() if v is not None}
    invoices = RecordingInvoices()
    with pytest.raises(InvalidInput, match=OTHER_QUERY):
        search_invoices(SUPPLIER, {**params, "cursor": cursor}, invoices=invoices)
    assert invoices.queries == []


def test_another_party_s_cursor_is_refused():
    cursor = first_cursor({"role": "recipient"}, Principal(MAIRIE_SIRET, "Mairie", ("recipient",)))
    with pytest.raises(InvalidInput, match=OTHER_QUERY):
        search_invoices(SUPPLIER, {"role": "recipient", "cursor": cursor}, invoices=RecordingInvoices())


def test_a_scoped_cursor_with_a_forged_position_is_no_cursor():
    scope = paging.query_scope("x")
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        search_invoices(SUPPLIER, {"cursor": paging.encode_cursor("not a position", scope)},
                        invoices=RecordingInvoices())  # fmt: skip

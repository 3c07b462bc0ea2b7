"""Paged listings (invoice search, structure directory, flow reports): one cursor and `limit` parsing for all.

Bad input is an InvalidInput (a 400 problem), never an exception that would be a 500; a cursor too long for a
DynamoDB key never reaches DynamoDB; a listing's cursor does not page another listing.
"""

from __future__ import annotations

import pytest
from invoices import SUPPLIER_SIRET

from chalicelib.domain.directory import Principal
from chalicelib.domain.flows import Flow, FlowFile
from chalicelib.services import directory as directory_service
from chalicelib.services import flows as flow_service
from chalicelib.services import paging
from chalicelib.services.errors import InvalidInput
from chalicelib.services.search import search_invoices

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier",))
INVOICE_POSITION = "2026-11-26T08:00:00.000Z#01JDZ8Q6XW0000000000000000"
STRUCTURE_POSITION = "mairie de test#21380185500015"
NOT_A_CURSOR = "'cursor' is not a cursor this API returned"
DYNAMODB_KEY_BYTES = 1024  # a sort-key value (condition or exclusive start key) takes at most this


class RecordingInvoices:
    """The repository's search, recording the query; refuses what DynamoDB would refuse (moto does not)."""

    def __init__(self):
        self.queries = []

    def search(self, query):
        if query.before is not None and len(query.before.encode()) > DYNAMODB_KEY_BYTES:
            raise RuntimeError("ValidationException: the sort-key condition exceeds 1024 bytes")  # a 500
        if query.before is not None and query.updated_since and query.before <= f"{query.updated_since}#\uffff":
            raise RuntimeError("ValidationException: BETWEEN's lower bound is above its upper bound")  # a 500
        self.queries.append(query)
        return [], None


class RecordingDirectory:
    def __init__(self):
        self.afters = []

    def search(self, query, role, limit, after):
        if after is not None and len(after.encode()) > DYNAMODB_KEY_BYTES:
            raise RuntimeError("ValidationException: the exclusive start key exceeds 1024 bytes")  # a 500
        self.afters.append(after)
        return [], None


def a_flow(count: int = 3) -> Flow:
    files = [FlowFile(flow_service.file_key(i), f"{i}.xml") for i in range(1, count + 1)]
    return Flow("01JDZ8Q6XW0000000000000000", SUPPLIER_SIRET, "t", "t", files=files)


def flow_cursor() -> str:
    _, cursor = flow_service.files_page(a_flow(), limit="1")
    assert cursor is not None
    return cursor


# --- cursors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("position", [INVOICE_POSITION, STRUCTURE_POSITION, "file#00002", "é" * 500])
def test_a_cursor_decodes_to_its_position(position):
    assert paging.decode_cursor(paging.encode_cursor(position)) == position
    assert paging.encode_cursor(None) is None and paging.encode_cursor("") is None


@pytest.mark.parametrize("cursor", ["%%%", "4pyT_", "_w", "gA"])  # not base64, one character too many, not UTF-8
def test_a_cursor_that_does_not_decode_is_refused(cursor):
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        paging.decode_cursor(cursor)


@pytest.mark.parametrize("size", [paging.MAX_CURSOR_BYTES + 1, 2000, 100_000])
def test_a_cursor_too_long_for_a_dynamodb_key_is_refused(size):
    assert paging.MAX_CURSOR_BYTES < DYNAMODB_KEY_BYTES
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        paging.decode_cursor(paging.encode_cursor("2" * (size - 27) + "#01JDZ8Q6XW0000000000000000"))
    longest = "é" * (paging.MAX_CURSOR_BYTES // 2)  # bytes are counted, not characters
    assert paging.decode_cursor(paging.encode_cursor(longest)) == longest
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        paging.decode_cursor(paging.encode_cursor(longest + "é"))


def test_a_forged_long_invoice_search_cursor_never_reaches_dynamodb():
    invoices = RecordingInvoices()
    forged = paging.encode_cursor("2026-11-26T08:00:00.000Z" + "9" * 2000 + "#01JDZ8Q6XW0000000000000000")
    assert len(forged) > 2000
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        search_invoices(SUPPLIER, {"cursor": forged}, invoices=invoices)
    assert invoices.queries == []


def test_a_forged_long_structure_search_cursor_never_reaches_dynamodb():
    directory = RecordingDirectory()
    forged = paging.encode_cursor("mairie" + "e" * 2000 + "#21380185500015")  # fits the query 'mairie'
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        directory_service.search_structures({"q": "mairie", "cursor": forged}, directory=directory)
    assert directory.afters == []


def test_a_forged_long_flow_report_cursor_is_refused():
    with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
        flow_service.files_page(a_flow(), cursor=paging.encode_cursor("file#" + "9" * 2000))


def test_each_listing_takes_back_its_own_cursors():
    invoices = RecordingInvoices()
    search_invoices(SUPPLIER, {"cursor": paging.encode_cursor(INVOICE_POSITION)}, invoices=invoices)
    assert invoices.queries[0].before == INVOICE_POSITION
    directory = RecordingDirectory()
    directory_service.search_structures(
        {"q": "Mairie", "cursor": paging.encode_cursor(STRUCTURE_POSITION)}, directory=directory
    )
    assert directory.afters == [STRUCTURE_POSITION]
    files, _ = flow_service.files_page(a_flow(), cursor=flow_cursor())
    assert [f.name for f in files] == ["2.xml", "3.xml"]


def test_a_cursor_of_another_listing_is_refused():
    invoice_cursor = paging.encode_cursor(INVOICE_POSITION)
    structure_cursor = paging.encode_cursor(STRUCTURE_POSITION)
    for cursor in (flow_cursor(), structure_cursor):  # both have a '#' too
        with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
            search_invoices(SUPPLIER, {"cursor": cursor}, invoices=RecordingInvoices())
    for cursor in (invoice_cursor, flow_cursor()):
        with pytest.raises(InvalidInput, match="for this 'q'"):
            directory_service.search_structures({"q": "mairie", "cursor": cursor}, directory=RecordingDirectory())
    for cursor in (invoice_cursor, structure_cursor):
        with pytest.raises(InvalidInput, match=NOT_A_CURSOR):
            flow_service.files_page(a_flow(), cursor=cursor)


def test_the_invoice_search_cursor_bounds_the_callers_own_partition_only():
    """A cursor carries a position, never a party: whoever sends it searches its own invoices."""
    invoices = RecordingInvoices()
    other = Principal("21380185500015", "Mairie", ("recipient",))
    search_invoices(other, {"cursor": paging.encode_cursor(INVOICE_POSITION)}, invoices=invoices)
    assert invoices.queries[0].siret == other.siret and invoices.queries[0].role == "recipient"


# --- limit ----------------------------------------------------------------------------------------


def test_page_limit():
    assert paging.page_limit(None, 25, 100) == 25
    assert paging.page_limit("1", 25, 100) == 1 and paging.page_limit("100", 25, 100) == 100


@pytest.mark.parametrize("raw", ["", "0", "101", "-1", "abc", "1.5", "²", "٣", "１０", "1" * 5000])
def test_page_limit_refuses_anything_but_ascii_digits_in_range(raw):
    with pytest.raises(InvalidInput, match=r"'limit' must be an integer from 1 to 100\."):
        paging.page_limit(raw, 25, 100)


@pytest.mark.parametrize("raw", ["0", "²", "٣", "1" * 5000])
def test_every_listing_refuses_a_bad_limit(raw):
    with pytest.raises(InvalidInput, match="'limit' must be an integer from 1 to 100"):
        search_invoices(SUPPLIER, {"limit": raw}, invoices=RecordingInvoices())
    with pytest.raises(InvalidInput, match="'limit' must be an integer from 1 to 100"):
        directory_service.search_structures({"q": "mairie", "limit": raw}, directory=RecordingDirectory())
    with pytest.raises(InvalidInput, match="'limit' must be an integer from 1 to 1000"):
        flow_service.files_page(a_flow(), limit=raw)


# --- search filters -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["²", "2²", "٢٠٣", "999", "", "1" * 5000])
def test_a_status_filter_that_is_not_a_status_code_is_invalid_input(status):
    with pytest.raises(InvalidInput, match="'status' must be one of"):
        search_invoices(SUPPLIER, {"status": status}, invoices=RecordingInvoices())


def test_a_status_filter_in_ascii_digits_is_searched():
    invoices = RecordingInvoices()
    search_invoices(SUPPLIER, {"status": "213"}, invoices=invoices)
    search_invoices(SUPPLIER, {"status": "213,203,213"}, invoices=invoices)
    assert [q.statuses for q in invoices.queries] == [(213,), (203, 213)]


@pytest.mark.parametrize(
    "position, since",
    [
        ("2020-01-01#01JDZ8Q6XW0000000000000000", "2030-01-01T00:00:00Z"),  # a cursor far before updated_since
        (INVOICE_POSITION, "2026-11-26T08:00:00Z"),  # the cursor's very instant: nothing after it and before it
        (INVOICE_POSITION, "2026-11-26T09:00:00+01:00"),  # the same instant in another zone
    ],
)
def test_a_cursor_at_or_before_updated_since_is_an_empty_last_page_without_a_query(position, since):
    invoices = RecordingInvoices()
    params = {"updated_since": since, "cursor": paging.encode_cursor(position)}
    assert search_invoices(SUPPLIER, params, invoices=invoices) == ([], None)
    assert invoices.queries == []  # never a BETWEEN whose lower bound is above its upper (DynamoDB refuses it)


def test_a_cursor_after_updated_since_is_searched():
    invoices = RecordingInvoices()
    params = {"updated_since": "2026-11-26T07:59:59Z", "cursor": paging.encode_cursor(INVOICE_POSITION)}
    search_invoices(SUPPLIER, params, invoices=invoices)
    [query] = invoices.queries
    assert query.before == INVOICE_POSITION and query.updated_since == "2026-11-26T07:59:59.000Z"


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_updated_since_out_of_range_in_utc_is_a_400(since):
    invoices = RecordingInvoices()
    with pytest.raises(InvalidInput, match="'updated_since' is out of range"):
        search_invoices(SUPPLIER, {"updated_since": since}, invoices=invoices)
    assert invoices.queries == []


def test_the_repository_answers_an_empty_range_without_asking_dynamodb(monkeypatch):
    from chalicelib.adapters import invoice_repository
    from chalicelib.services.ports import InvoiceQuery

    def no_query(*args, **kwargs):
        raise AssertionError("DynamoDB was asked")

    monkeypatch.setattr(invoice_repository.InvoiceRecord.by_supplier, "query", no_query)
    query = InvoiceQuery(role="supplier", siret=SUPPLIER_SIRET, limit=25, updated_since="2030-01-01T00:00:00.000Z",
                         before="2020-01-01#01JDZ8Q6XW0000000000000000")  # fmt: skip
    assert invoice_repository.search_invoices(query) == ([], None)


@pytest.mark.parametrize("since", ["2026-11-26T07:59:59z", "2026-11-26t07:59:59Z", "2026-11-26T08:59:59+01:00"])
def test_updated_since_takes_any_rfc_3339_form_of_an_instant(since):
    invoices = RecordingInvoices()
    search_invoices(SUPPLIER, {"updated_since": since}, invoices=invoices)
    [query] = invoices.queries
    assert query.updated_since == "2026-11-26T07:59:59.000Z"

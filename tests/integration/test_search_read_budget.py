"""A filtered invoice search reads a bounded part of the caller's index per request and resumes where it stopped.

The invoices are written straight into the table (as processing writes them), with updated_at one second apart,
so that many of them can surround a few matching ones without running the pipeline for each.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import CHR_SIRET, MAIRIE_SIRET, SUPPLIER_SIRET

from chalicelib.adapters import invoice_repository
from chalicelib.config import settings
from chalicelib.domain.ids import new_id
from chalicelib.domain.invoice import HistoryEntry, Invoice, InvoiceSummary
from chalicelib.services import paging, search

OTHER_BUYER = "55203253400646"


@pytest.fixture
def shards(request, monkeypatch):
    monkeypatch.setenv("INDEX_SHARDS", str(request.param))
    settings.cache_clear()
    yield request.param
    monkeypatch.undo()
    settings.cache_clear()


@pytest.fixture
def evaluated(monkeypatch):
    """The index entries DynamoDB evaluated (ScannedCount) and the invoices read by id, since the last reset."""
    from pynamodb.connection.table import TableConnection

    counts = {"entries": 0, "invoices": 0}
    query, batch_get = TableConnection.query, TableConnection.batch_get_item

    def counting_query(self, *args, **kwargs):
        page = query(self, *args, **kwargs)
        counts["entries"] += page["ScannedCount"] if kwargs.get("index_name") else 0
        return page

    def counting_batch_get(self, keys, *args, **kwargs):
        counts["invoices"] += len(keys)
        return batch_get(self, keys, *args, **kwargs)

    monkeypatch.setattr(TableConnection, "query", counting_query)
    monkeypatch.setattr(TableConnection, "batch_get_item", counting_batch_get)
    return counts


def store(n: int, *, status: int = 203, recipient: str | None = MAIRIE_SIRET, buyer: str = MAIRIE_SIRET) -> Invoice:
    """The n-th invoice of the supplier, last updated n seconds after 08:00 (a larger n is newer)."""
    at = f"2026-11-26T08:{n // 60:02d}:{n % 60:02d}.000Z"
    invoice = Invoice(
        id=new_id(),
        supplier_siret=SUPPLIER_SIRET,
        supplier_name="Atelier Numérique SARL",
        format="ubl",
        content_type="application/xml",
        original_key=f"originals/{n}",
        original_size=1,
        original_sha256="0" * 64,
        created_at=at,
        updated_at=at,
        processing="done",
        summary=InvoiceSummary(number=f"F-B-{n:04d}", issue_date=date(2026, 11, 20), buyer_siret=buyer),
        recipient_siret=recipient,
        history=[HistoryEntry(status, at, "platform")],
    )
    invoice_repository.DynamoInvoiceRepository().save(invoice)
    return invoice


def page_through(client, key: str, query: str, counts: dict, cursor: str | None = None) -> list[dict]:
    """Every answer of a paging loop that stops at the first page without next_cursor; checks each request's reads."""
    answers = []
    while True:
        counts["entries"] = counts["invoices"] = 0
        url = f"/v1/invoices?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.http.get(url, headers=auth(key))
        assert response.status_code == 200, response.body
        body = json.loads(response.body)
        answers.append({**body, "read": dict(counts)})
        cursor = body["next_cursor"]
        if not cursor:
            return answers
        assert len(answers) < 500, "the cursor does not move"


def numbers(answers: list[dict]) -> list[str]:
    return [item["number"] for answer in answers for item in answer["items"]]


MATCHING = {0, 1, 5, 23, 24, 25, 26, 61, 62, 90, 118, 119}


@pytest.mark.parametrize("shards", [1, 3], indirect=True)
@pytest.mark.parametrize(("limit", "budget"), [(1, 2), (2, 3), (3, 7), (25, 5)])
def test_a_filtered_search_reads_at_most_its_budget_and_pages_to_exactly_the_matches(
    client, monkeypatch, evaluated, shards, limit, budget
):
    """120 invoices, 12 of them 204 in clusters and alone: paging status=204 until no next_cursor returns exactly
    those, newest first, each once, and no request evaluates more than the budget of index entries per shard
    (before, a sparse filter read the caller's whole partition in one request)."""
    monkeypatch.setattr(search, "SHARD_READ_BUDGET", budget)
    for n in range(120):
        store(n, status=204 if n in MATCHING else 203)
    answers = page_through(client, SUPPLIER_KEY, f"role=supplier&status=204&limit={limit}", evaluated)
    assert numbers(answers) == [f"F-B-{n:04d}" for n in sorted(MATCHING, reverse=True)]
    assert all(len(a["items"]) <= limit for a in answers)
    assert max(a["read"]["entries"] for a in answers) <= shards * budget
    assert any(a["next_cursor"] and len(a["items"]) < limit for a in answers)  # the budget cut pages short


@pytest.mark.parametrize("shards", [3], indirect=True)
def test_a_filtered_delta_sync_with_a_budget_misses_nothing_after_updated_since(client, monkeypatch, evaluated, shards):
    """updated_since with a cursor is a BETWEEN that includes the cursor's own entry: with a budget of 2 entries
    per shard, the resumed search still moves on and returns every match after updated_since, once."""
    monkeypatch.setattr(search, "SHARD_READ_BUDGET", 2)
    for n in range(80):
        store(n, status=204 if n in MATCHING else 203)
    since = "2026-11-26T08:00:24.000Z"  # exclusive: the match at 24 s is not listed, 25 s and later are
    answers = page_through(client, SUPPLIER_KEY, f"role=supplier&status=204&limit=2&updated_since={since}", evaluated)
    assert numbers(answers) == [f"F-B-{n:04d}" for n in sorted(MATCHING, reverse=True) if 24 < n < 80]
    assert max(a["read"]["entries"] for a in answers) <= shards * 2


@pytest.mark.parametrize("shards", [3], indirect=True)
def test_a_cursor_of_an_unfiltered_page_resumes_a_filtered_search(client, monkeypatch, evaluated, shards):
    """Cursors keep their format ("<updated_at>#<id>"): one taken from any page resumes below its position."""
    monkeypatch.setattr(search, "SHARD_READ_BUDGET", 3)
    stored = [store(n, status=204 if n in MATCHING else 203) for n in range(100)]
    cursor = paging.encode_cursor(f"{stored[62].updated_at}#{stored[62].id}")
    answers = page_through(client, SUPPLIER_KEY, "role=supplier&status=204&limit=2", evaluated, cursor=cursor)
    assert numbers(answers) == [f"F-B-{n:04d}" for n in sorted(MATCHING, reverse=True) if n < 62]


@pytest.mark.parametrize("shards", [3], indirect=True)
def test_an_unfiltered_search_ignores_the_budget(client, monkeypatch, evaluated, shards):
    """Every entry of an unfiltered search is a match: its pages stay full, whatever the budget."""
    monkeypatch.setattr(search, "SHARD_READ_BUDGET", 2)
    for n in range(30):
        store(n)
    answers = page_through(client, SUPPLIER_KEY, "role=supplier&limit=7", evaluated)
    assert [len(a["items"]) for a in answers] == [7, 7, 7, 7, 2]
    assert numbers(answers) == [f"F-B-{n:04d}" for n in reversed(range(30))]


@pytest.mark.parametrize("shards", [1, 3], indirect=True)
@pytest.mark.parametrize("check_budget", [1, 100])
def test_counterpart_finds_the_rejected_invoices_naming_that_buyer(
    client, monkeypatch, evaluated, shards, check_budget
):
    """A rejected (213) invoice has no recipient: for its supplier, its counterpart is the buyer it names. Rejected
    invoices naming other buyers are read to be checked, at most `check_budget` of them per request."""
    monkeypatch.setattr(search, "SHARD_READ_BUDGET", 4)
    monkeypatch.setattr(invoice_repository, "POST_CHECK_BUDGET", check_budget)
    expected = []
    for n in range(60):
        if n % 7 == 0:
            store(n, recipient=CHR_SIRET, buyer=CHR_SIRET)
            expected.append(n)
        elif n % 5 == 0:
            store(n, status=213, recipient=None, buyer=CHR_SIRET)
            expected.append(n)
        elif n % 2:
            store(n, status=213, recipient=None, buyer=OTHER_BUYER)
        else:
            store(n, recipient=MAIRIE_SIRET, buyer=CHR_SIRET)  # routed to another structure: its counterpart
    answers = page_through(client, SUPPLIER_KEY, f"role=supplier&counterpart={CHR_SIRET}&limit=3", evaluated)
    assert numbers(answers) == [f"F-B-{n:04d}" for n in reversed(expected)]
    assert max(a["read"]["invoices"] for a in answers) <= 3 + check_budget
    mairie = page_through(client, SUPPLIER_KEY, f"role=supplier&counterpart={MAIRIE_SIRET}&limit=3", evaluated)
    assert set(numbers(mairie)) == {f"F-B-{n:04d}" for n in range(0, 60, 2) if n % 7 and n % 5}
    recipient = page_through(client, MAIRIE_KEY, f"role=recipient&counterpart={SUPPLIER_SIRET}", evaluated)
    assert numbers(recipient) == numbers(mairie)  # a rejected invoice is in no recipient's listing


def test_the_openapi_document_says_a_short_page_can_have_a_next_one(client):
    search_route = json.loads(client.http.get("/openapi.json").body)["paths"]["/v1/invoices"]["get"]
    assert "short, even empty, and still have a next_cursor" in search_route["description"]
    assert "even empty, can have one" in search_route["responses"]["200"]["description"]
    [counterpart] = [p for p in search_route["parameters"] if p["name"] == "counterpart"]
    assert "the buyer it names" in counterpart["description"]


@pytest.mark.parametrize("query", ["role=recipient&limit=5", "role=recipient&limit=5&status=203"])
def test_an_index_entry_that_still_gives_a_former_recipient_is_not_listed(client, monkeypatch, query):
    """An index is eventually consistent on AWS (moto updates it at once): the by-recipient pages DynamoDB answers
    are replayed from before a re-route, and the former recipient's search must not list the invoice."""
    from pynamodb.connection.table import TableConnection

    moved = store(1)
    kept = store(0)
    real_query = TableConnection.query
    stale = {}
    for shard in range(settings().index_shards):
        partition = invoice_repository.party_key(MAIRIE_SIRET, shard)
        stale[partition] = real_query(invoice_repository.InvoiceRecord._get_connection(), partition,
                                      index_name="by-recipient")  # fmt: skip
    assert any(item["id"]["S"] == moved.id for page in stale.values() for item in page["Items"])
    moved.recipient_siret = CHR_SIRET  # re-routed: the table says CHR, the lagging index still says Mairie
    invoice_repository.DynamoInvoiceRepository().save(moved)

    def lagging(self, hash_key, *args, **kwargs):
        return (
            stale[hash_key]
            if kwargs.get("index_name") == "by-recipient"
            else real_query(self, hash_key, *args, **kwargs)
        )

    monkeypatch.setattr(TableConnection, "query", lagging)
    body = json.loads(client.http.get(f"/v1/invoices?{query}", headers=auth(MAIRIE_KEY)).body)
    assert [item["id"] for item in body["items"]] == [kept.id] and body["next_cursor"] is None

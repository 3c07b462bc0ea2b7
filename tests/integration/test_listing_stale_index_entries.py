"""An invoice listing reads its candidates from a GSI (eventually consistent) and the invoices from the table
(consistent): an invoice changed since its entry was indexed is left out of the page that entry falls on. It is
listed at its new position, which a delta poll covers; a late page of a long pass never shows a change newer than
the pass's positions (a poller's watermark taken from the items would jump past changes the pass skipped)."""

from __future__ import annotations

from datetime import date

import pytest
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET

from chalicelib.adapters import invoice_repository
from chalicelib.domain.directory import Principal
from chalicelib.domain.ids import new_id
from chalicelib.domain.invoice import HistoryEntry, Invoice, InvoiceSummary
from chalicelib.services import search

REPO = invoice_repository.DynamoInvoiceRepository()
SUPPLIER = Principal(SUPPLIER_SIRET, "A", ("supplier",))


def _store(at: str) -> Invoice:
    invoice = Invoice(id=new_id(), supplier_siret=SUPPLIER_SIRET, supplier_name="A", format="ubl",
                      content_type="application/xml", original_key="o", original_size=1, original_sha256="0" * 64,
                      created_at=at, updated_at=at, processing="done",
                      summary=InvoiceSummary(number="N", issue_date=date(2026, 11, 20), buyer_siret=MAIRIE_SIRET),
                      recipient_siret=MAIRIE_SIRET, history=[HistoryEntry(203, at, "platform")])  # fmt: skip
    REPO.save(invoice)
    return invoice


def _changed(invoice: Invoice, at: str, code: int) -> Invoice:
    fresh = REPO.get(invoice.id)
    fresh.set_status(code, "recipient", None, None, at)
    return fresh


def _with_stale_entries(monkeypatch, fresh: list[Invoice]) -> None:
    """The table holds `fresh` while the index still lists them where they were (a GSI lagging behind)."""
    real, by_id = invoice_repository.get_invoices, {i.id: i for i in fresh}
    monkeypatch.setattr(invoice_repository, "get_invoices",
                        lambda ids: {k: by_id.get(k, v) for k, v in real(ids).items()})  # fmt: skip


def _page(params: dict) -> tuple[list[Invoice], str | None]:
    return search.search_invoices(SUPPLIER, {"role": "supplier", **params}, invoices=REPO)


def test_a_late_page_leaves_out_an_invoice_changed_since_its_entry_and_a_poll_finds_it(aws, monkeypatch):
    invoices = [_store(f"2026-11-26T08:00:{s:02d}.000Z") for s in range(1, 11)]
    x, y = invoices[1], invoices[4]  # 08:00:02 and 08:00:05
    seen: dict[str, tuple[str, int]] = {}

    def note(page):
        for i in page:
            seen[i.id] = max(seen.get(i.id, ("", 0)), (i.updated_at, i.status.code))

    page, cursor = _page({"limit": "3"})
    note(page)
    REPO.save(_changed(y, "2026-11-26T08:00:21.000Z", 204))  # moves above the cursor: the pass skips it
    fresh_x = _changed(x, "2026-11-26T08:00:30.000Z", 207)  # in the table; its entry still says 08:00:02
    _with_stale_entries(monkeypatch, [fresh_x])
    pass_items = list(page)
    while cursor:
        position = search.decode_cursor(cursor)
        page, cursor = _page({"limit": "3", "cursor": cursor})
        assert all(f"{i.updated_at}#{i.id}" < position for i in page), "a page shows a change above its cursor"
        pass_items += page
        note(page)
    monkeypatch.undo()
    REPO.save(fresh_x)  # the index catches up

    assert x.id not in {i.id for i in pass_items}
    newest = max(i.updated_at for i in pass_items)
    assert newest == "2026-11-26T08:00:10.000Z"  # the watermark stays within the pass's positions
    page, cursor = _page({"updated_since": "2026-11-26T08:00:05.000Z"})  # newest seen minus the overlap
    note(page)
    assert cursor is None
    assert seen[y.id] == ("2026-11-26T08:00:21.000Z", 204)
    assert seen[x.id] == ("2026-11-26T08:00:30.000Z", 207)


@pytest.mark.parametrize("check_budget", [100, 1])  # 1: each stale entry ends its page (reads stay bounded)
def test_stale_entries_never_end_a_pass_early(aws, monkeypatch, check_budget):
    monkeypatch.setattr(invoice_repository, "POST_CHECK_BUDGET", check_budget)
    invoices = [_store(f"2026-11-26T08:00:{s:02d}.000Z") for s in range(1, 11)]
    stale = invoices[5:9]  # 08:00:06 to 08:00:09: four in a row, more than a page
    _with_stale_entries(monkeypatch, [_changed(i, f"2026-11-26T08:01:0{n}.000Z", 207) for n, i in enumerate(stale)])
    pages, cursor, params = [], None, {"limit": "2"}
    while True:
        page, cursor = _page({**params, **({"cursor": cursor} if cursor else {})})
        pages.append([i.updated_at for i in page])
        if not cursor:
            break
    listed = [at for page in pages for at in page]
    expected = [i.updated_at for i in reversed(invoices) if i not in stale]
    assert listed == expected  # every current entry once, newest first: none lost after the stale ones

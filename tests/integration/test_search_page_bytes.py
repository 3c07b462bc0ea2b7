"""A search page stops within a byte budget: Lambda answers at most 6 MB, and a hundred rejected invoices whose
findings quote long values would be ~10 MB (review r30). The next page resumes at the first invoice left out."""

from __future__ import annotations

import json
from dataclasses import replace

from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice
from test_pipeline import deposit, process

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.domain.ids import new_id
from chalicelib.services.paging import PAGE_BYTES

INVOICES = 60


def _lines_with_unit(n: int, unit: str) -> bytes:
    """An invoice of `n` lines whose unit code is a free text the ERP mapped wrongly: BR-CL-23 quotes it each time."""
    base = ubl_invoice("F-BYTES-1").decode()
    start = base.index("<cac:InvoiceLine>")
    end = base.index("</cac:InvoiceLine>") + len("</cac:InvoiceLine>")
    line = base[start:end].replace('unitCode="C62"', f'unitCode="{unit}"')
    lines = "\n".join(line.replace("<cbc:ID>1</cbc:ID>", f"<cbc:ID>{i}</cbc:ID>", 1) for i in range(1, n + 1))
    return (base[:start] + lines + base[end:]).encode()


def _envelope_bytes(response) -> int:
    """What Lambda hands API Gateway: the proxy JSON, its body a JSON string (ASCII-escaped)."""
    envelope = {"statusCode": response.status_code, "headers": dict(response.headers), "body": response.body.decode()}
    return len(json.dumps(envelope).encode())


def test_pages_of_invoices_with_long_findings_stay_within_the_budget_and_return_each_invoice_once(client, pump):
    r = deposit(client, _lines_with_unit(100, "UNITE-DE-MESURE-INCONNUE-" * 36))
    assert r.status_code == 202, r.body
    first = json.loads(r.body)["id"]
    process(pump)
    repo = DynamoInvoiceRepository()
    rejected = repo.get(first)
    assert rejected.status.code == 213 and len(rejected.errors) >= 80  # up to the 96 KiB kept
    ids = {first}
    for i in range(INVOICES - 1):  # the same record under other ids: ~100 KB of findings each
        clone = replace(rejected, id=new_id(), version=None)
        clone.summary = replace(rejected.summary, number=f"F-BYTES-{i + 2}")
        repo.save(clone)
        ids.add(clone.id)

    seen, pages, cursor = [], [], None
    while True:
        url = "/v1/invoices?role=supplier&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.http.get(url, headers=auth(SUPPLIER_KEY))
        assert page.status_code == 200, page.body[:300]
        assert _envelope_bytes(page) < PAGE_BYTES + 4096  # the items, the page's own keys and the headers
        body = json.loads(page.body)
        pages.append(len(body["items"]))
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10
    assert len(pages) >= 2 and pages[0] < INVOICES  # the budget, not `limit`, cut the first page
    assert len(seen) == len(set(seen)) == INVOICES
    assert set(seen) == ids

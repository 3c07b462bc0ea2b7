"""Attachments sent in the body, over in-memory ports: a keyed retry finds its first attempt by the derived id, and
the file is locked only once recorded."""

from __future__ import annotations

import pytest
from fakes import FakeIdempotency, FakeInvoices, FakeObjectStore
from invoices import ubl_invoice
from processing_support import process_original
from test_attachment_upload_service import DIRECT, DIRECTORY, NOW, PDF, SUPPLIER

from chalicelib.services import layout, lifecycle
from chalicelib.services.deposit import deposit_invoice
from chalicelib.services.errors import Conflict


@pytest.fixture(name="ports")
def ports_fixture():
    """An invoice made available to its recipient (it takes attachments), with its in-memory ports."""
    invoices, originals = FakeInvoices(), FakeObjectStore()
    invoice = deposit_invoice(SUPPLIER, ubl_invoice(), "application/xml", invoices=invoices, originals=originals,
                              max_bytes=100_000)  # fmt: skip
    process_original(layout.original_key(invoice.id), invoices=invoices, originals=originals, directory=DIRECTORY)
    return invoices, originals, invoice.id


def add(ports, data=PDF, name="annexe.pdf", key="erp-1", idempotency=None):
    invoices, originals, invoice_id = ports
    return lifecycle.add_attachment(
        SUPPLIER, invoice_id, name, data, invoices=invoices, originals=originals, idempotency=idempotency,
        idempotency_key=key, now=lambda: NOW, **DIRECT
    )  # fmt: skip


def test_a_keyed_retry_without_the_guard_s_record_answers_the_recorded_attachment(ports):
    invoices, originals, invoice_id = ports
    _invoice, first = add(ports, idempotency=FakeIdempotency())
    _invoice, again = add(ports, idempotency=FakeIdempotency())  # the guard forgot the key: the id remembers
    assert again == first
    assert [a.id for a in invoices.get(invoice_id).attachments] == [first.id]


def test_a_keyed_retry_with_another_file_is_a_conflict_and_changes_nothing(ports):
    invoices, originals, invoice_id = ports
    _invoice, first = add(ports)
    with pytest.raises(Conflict):
        add(ports, data=PDF + b"v2")
    assert [a.id for a in invoices.get(invoice_id).attachments] == [first.id]
    assert originals.objects[first.key].data == PDF


def test_the_file_is_written_unlocked_and_locked_once_recorded(ports):
    invoices, originals, invoice_id = ports
    recorded_at_lock = []
    real_retain = originals.retain

    def retain(key, since=None):
        recorded_at_lock.append(any(a.key == key for a in invoices.get(invoice_id).attachments))
        real_retain(key, since)

    originals.retain = retain
    _invoice, attachment = add(ports, key=None)
    assert attachment.key in originals.unretained
    assert recorded_at_lock == [True] and originals.retained[-1] == attachment.key


def test_the_derived_id_is_per_invoice_and_per_caller():
    from chalicelib.domain.ids import derived_id, is_ulid

    ids = {derived_id("attachment", f"{invoice}:{siret}", "k") for invoice in ("A", "B") for siret in ("1", "2")}
    assert len(ids) == 4 and all(is_ulid(i) for i in ids)

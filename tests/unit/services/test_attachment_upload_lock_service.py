"""A completed attachment upload, over in-memory ports: the copy is locked only once recorded, once per completion,
and a completion that finds the record already there locks it too."""

from __future__ import annotations

import pytest
from fakes import FakeInvoices, FakeObjectStore
from invoices import ubl_invoice
from processing_support import process_original
from test_attachment_upload_service import DIRECTORY, PDF, SUPPLIER, FakeSigner, complete, ticket, upload

from chalicelib.services import layout
from chalicelib.services.deposit import deposit_invoice


@pytest.fixture(name="ports")
def ports_fixture():
    """An invoice made available to its recipient (it takes attachments), with its in-memory ports."""
    invoices, originals = FakeInvoices(), FakeObjectStore()
    invoice = deposit_invoice(SUPPLIER, ubl_invoice(), "application/xml", invoices=invoices, originals=originals,
                              max_bytes=100_000)  # fmt: skip
    process_original(layout.original_key(invoice.id), invoices=invoices, originals=originals, directory=DIRECTORY)
    return invoices, originals, FakeSigner(), invoice.id


def spy_on_locks(ports) -> list[bool]:
    """Whether the attachment was recorded when each lock was asked for."""
    invoices, originals, _signer, invoice_id = ports
    recorded_at_lock = []
    real_retain = originals.retain

    def retain(key, since=None):
        recorded_at_lock.append(any(a.key == key for a in invoices.get(invoice_id).attachments))
        real_retain(key, since)

    originals.retain = retain
    return recorded_at_lock


def test_the_copy_is_locked_once_recorded(ports):
    recorded_at_lock = spy_on_locks(ports)
    issued = ticket(ports)
    upload(ports, issued, PDF)
    _invoice, attachment = complete(ports, issued)
    assert attachment.key == layout.attachment_key(ports[3], issued.upload_id)
    assert recorded_at_lock == [True] and ports[1].retained == [attachment.key]


def test_completing_again_locks_the_recorded_attachment(ports):
    issued = ticket(ports)
    upload(ports, issued, PDF)
    _invoice, first = complete(ports, issued)
    recorded_at_lock = spy_on_locks(ports)
    _invoice, again = complete(ports, issued)
    assert again == first
    assert recorded_at_lock == [True] and ports[1].retained == [first.key, first.key]

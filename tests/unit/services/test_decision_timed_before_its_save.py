"""Processing times a decision (its updated_at and history) right before its save: after the directory reads and
the number claim, which AWS retries under throttling for seconds. Timed before them, a record could appear in the
listings seconds after its updated_at, past a poller's overlap."""

from __future__ import annotations

from fakes import FakeDirectory, FakeInvoices, FakeObjectStore
from invoices import ubl_invoice
from processing_support import process_original
from test_services import DIRECTORY, SUPPLIER

from chalicelib.services import layout
from chalicelib.services.deposit import deposit_invoice


class Clock:
    def __init__(self):
        self.second = 0

    def __call__(self) -> str:
        return f"2026-11-26T08:00:{self.second:02d}.000Z"


class SlowDirectory(FakeDirectory):
    """Each read takes 3 s (retried under throttling)."""

    def __init__(self, clock: Clock):
        super().__init__(*DIRECTORY.structures.values())
        self.clock = clock

    def structure(self, siret):
        self.clock.second += 3
        return super().structure(siret)


class SlowClaims(FakeInvoices):
    """The number claim takes 6 s (retried under throttling)."""

    def __init__(self, clock: Clock):
        super().__init__()
        self.clock = clock

    def claim_number(self, claim_number, invoice_id) -> None:
        self.clock.second += 6
        super().claim_number(claim_number, invoice_id)

    def save(self, invoice, claim_number=None) -> None:
        self.saved_at = self.clock()
        super().save(invoice, claim_number)


def decided(body: bytes):
    clock = Clock()
    invoices, originals = SlowClaims(clock), FakeObjectStore()
    deposited = deposit_invoice(SUPPLIER, body, "application/xml", invoices=invoices, originals=originals,
                                max_bytes=100_000, now=clock)  # fmt: skip
    invoice = process_original(layout.original_key(deposited.id), invoices=invoices, originals=originals,
                               directory=SlowDirectory(clock), now=clock)  # fmt: skip
    return invoice, invoices.saved_at


def test_an_acceptance_is_timed_after_its_directory_reads_and_its_number_claim():
    invoice, saved_at = decided(ubl_invoice("F-SLOW-1"))
    assert invoice.status.code == 203 and saved_at > "2026-11-26T08:00:06.000Z"  # a read and the claim at least
    assert invoice.updated_at == saved_at and {h.at for h in invoice.history} == {saved_at}


def test_a_rejection_is_timed_after_its_directory_reads():
    invoice, saved_at = decided(ubl_invoice("F-SLOW-2", service_code=None))  # Mairie requires a service code
    assert invoice.status.code == 213 and saved_at > "2026-11-26T08:00:00.000Z"
    assert invoice.updated_at == invoice.history[-1].at == saved_at

"""A number claim is only ever held by an invoice that is, or may still be, accepted: an attempt that claimed and
died leaves no claim once its invoice is decided 213, and no rejection ever removes another invoice's claim."""

from __future__ import annotations

import pytest
from fakes import FakeDirectory, FakeInvoices, FakeObjectStore
from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice

from chalicelib.domain.directory import Principal, Service, Structure
from chalicelib.services import layout
from chalicelib.services.deposit import deposit_invoice
from chalicelib.services.processing import mark_failed, process_object

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier",))
NUMBER = "F-CLAIM-1"
CLAIM = f"{SUPPLIER_SIRET}#2026#{NUMBER}"


def directory(service_open: bool) -> FakeDirectory:
    """The buyer's only service, open (the invoice is accepted) or closed by an administrator (213 REJ_ADR)."""
    return FakeDirectory(
        Structure(SUPPLIER_SIRET, "Atelier", ("supplier",)),
        Structure(MAIRIE_SIRET, "Mairie", ("recipient",), requires_service_code=True,
                  services=(Service("SERV-TECH", "Services techniques", active=service_open),)),
    )  # fmt: skip


OPEN, CLOSED = directory(True), directory(False)


class DyingInvoices(FakeInvoices):
    """The record write fails after the claim, `dies` times (a Lambda timeout or crash between the two writes)."""

    def __init__(self, dies: int = 0):
        super().__init__()
        self.dies = dies
        self.just_claimed = None  # the invoice whose number was claimed right before its record write

    def claim_number(self, claim_number, invoice_id) -> None:
        super().claim_number(claim_number, invoice_id)
        self.just_claimed = invoice_id

    def save(self, invoice, claim_number=None) -> None:
        after_claim, self.just_claimed = self.just_claimed == invoice.id, None
        if after_claim and self.dies:
            self.dies -= 1
            raise RuntimeError("died after the number claim")
        super().save(invoice, claim_number)


@pytest.fixture
def originals():
    return FakeObjectStore()


def deposited(invoices, originals, number: str = NUMBER) -> str:
    invoice = deposit_invoice(SUPPLIER, ubl_invoice(number), "application/xml", invoices=invoices,
                              originals=originals, max_bytes=100_000)  # fmt: skip
    return layout.original_key(invoice.id)


def process(key, invoices, originals, directory, look_first=False):
    [invoice] = process_object(key, invoices=invoices, originals=originals, directory=directory,
                               look_first=look_first).invoices  # fmt: skip
    return invoice


def test_a_retry_that_rejects_gives_back_the_claim_its_earlier_attempt_left(originals):
    invoices = DyingInvoices(dies=1)
    key = deposited(invoices, originals)
    with pytest.raises(RuntimeError):
        process(key, invoices, originals, OPEN)
    assert list(invoices.claims.values()) == [layout.invoice_id_from_key(key)]
    rejected = process(key, invoices, originals, CLOSED, look_first=True)  # the redelivery
    assert rejected.status.code == 213 and invoices.claims == {}
    assert process(deposited(invoices, originals), invoices, originals, OPEN).status.code == 203


def test_a_redrive_over_a_failed_record_that_rejects_gives_back_the_claim(originals):
    invoices = DyingInvoices(dies=1)
    key = deposited(invoices, originals)
    with pytest.raises(RuntimeError):
        process(key, invoices, originals, OPEN)
    assert mark_failed(key, invoices=invoices, originals=originals, directory=OPEN)  # the last attempt gave up
    rejected = process(key, invoices, originals, CLOSED)  # redriven: a first receive, over the failed record
    assert rejected.status.code == 213 and invoices.claims == {}


def test_a_first_attempt_that_rejects_writes_nothing_more(originals):
    class Releases(FakeInvoices):
        released = 0

        def release_number(self, claim_number, invoice_id):
            self.released += 1
            return super().release_number(claim_number, invoice_id)

    invoices = Releases()
    assert process(deposited(invoices, originals), invoices, originals, CLOSED).status.code == 213
    assert invoices.released == 0  # it claimed nothing: no extra write on the usual 213
    assert process(deposited(invoices, originals), invoices, originals, OPEN).status.code == 203
    assert invoices.released == 0  # nor on an acceptance


def test_a_redelivery_finding_a_213_gives_back_a_claim_left_by_a_crash_before_the_release(originals):
    invoices = FakeInvoices()
    key = deposited(invoices, originals)
    rejected = process(key, invoices, originals, CLOSED)
    invoices.claims[CLAIM] = rejected.id  # an attempt claimed, then the one that saved the 213 died before releasing
    again = process(key, invoices, originals, CLOSED, look_first=True)
    assert again.status.code == 213 and invoices.claims == {}


def test_a_rejected_retry_never_removes_another_invoice_s_claim(originals):
    invoices = FakeInvoices()
    holder = process(deposited(invoices, originals), invoices, originals, OPEN)
    assert holder.status.code == 203 and invoices.claims == {CLAIM: holder.id}
    key = deposited(invoices, originals)
    assert process(key, invoices, originals, CLOSED, look_first=True).status.code == 213  # a redelivery
    assert process(key, invoices, originals, CLOSED, look_first=True).status.code == 213  # and again, decided
    assert invoices.claims == {CLAIM: holder.id}
    duplicate = process(deposited(invoices, originals), invoices, originals, OPEN)
    assert duplicate.history[-1].reason_code == "DOUBLON"


def test_a_delivery_that_rejects_after_another_accepted_leaves_that_claim(originals):
    """Two deliveries of one message, the service closed in between: the acceptance saved first stands, claim and
    all; the rejecting delivery, meeting it, gives nothing back."""
    invoices = FakeInvoices()
    key = deposited(invoices, originals)
    accepted = process(key, invoices, originals, OPEN)
    late = process(key, invoices, originals, CLOSED)  # decides 213, meets the 203 record
    assert late.status.code == 203 and invoices.claims == {CLAIM: accepted.id}
    duplicate = process(deposited(invoices, originals), invoices, originals, OPEN)
    assert duplicate.history[-1].reason_code == "DOUBLON"


def test_a_delivery_that_claims_after_another_saved_a_213_gives_the_claim_back(originals):
    """The other order: the rejection is saved (and has released) first, then the accepting delivery claims and
    meets the 213 record: the 213 stands, and the claim it just made is given back."""
    invoices = FakeInvoices()
    key = deposited(invoices, originals)
    rejected = process(key, invoices, originals, CLOSED)
    late = process(key, invoices, originals, OPEN)  # claims, then its record create meets the 213
    assert late.status.code == 213 and late.version == rejected.version and invoices.claims == {}
    assert process(deposited(invoices, originals), invoices, originals, OPEN).status.code == 203


def test_a_bundle_s_retry_that_rejects_a_member_gives_back_that_member_s_claim(originals):
    import hashlib

    from chalicelib.formats import bundles
    from chalicelib.services.flows import member_invoice_id
    from chalicelib.services.processing import BundleIncomplete

    flow_id = "01JDZ8Q6XW0000000000000000"
    bodies = [ubl_invoice("F-CLAIM-0"), ubl_invoice(NUMBER)]
    ids = [member_invoice_id(flow_id, n) for n in (1, 2)]
    members = [
        bundles.BundleMember(invoice_id, body, {
            layout.META_INVOICE_ID: invoice_id, layout.META_SUPPLIER: SUPPLIER_SIRET, layout.META_FORMAT: "ubl",
            layout.META_SHA256: hashlib.sha256(body).hexdigest(), layout.META_RECEIVED_AT: "2026-11-26T10:00:00Z",
            layout.META_FLOW_ID: flow_id, layout.META_FLOW_FILE: f"file#{n:05d}", layout.META_MEDIA: "application/xml"})
        for n, (invoice_id, body) in enumerate(zip(ids, bodies, strict=True), start=1)
    ]  # fmt: skip
    key = layout.bundle_key(flow_id, 1)
    originals.put(key, bundles.write_bundle(members), bundles.MEDIA_TYPE, {})

    class SecondMemberDies(FakeInvoices):
        died = False

        def save(self, invoice, claim_number=None) -> None:
            if invoice.id == ids[1] and not self.died:  # its number is claimed: processing claims, then saves
                self.died = True
                raise RuntimeError("died after the number claim")
            super().save(invoice, claim_number)

    invoices = SecondMemberDies()
    with pytest.raises(BundleIncomplete):
        process_object(key, invoices=invoices, originals=originals, directory=OPEN)
    assert invoices.claims[CLAIM] == ids[1]
    retried = process_object(key, invoices=invoices, originals=originals, directory=CLOSED, look_first=True)
    assert [i.status.code for i in retried.invoices] == [203, 213] and CLAIM not in invoices.claims

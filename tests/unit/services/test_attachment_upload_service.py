"""Attachments through a presigned upload, over in-memory ports: signing, completion, refusals, idempotence."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fakes import FakeDirectory, FakeInvoices, FakeObjectStore
from invoices import CHR_SIRET, MAIRIE_SIRET, SUPPLIER_SIRET, ubl_invoice
from processing_support import process_original

from chalicelib.domain.directory import Principal, Service, Structure
from chalicelib.domain.invoice import Attachment
from chalicelib.services import layout, lifecycle
from chalicelib.services.deposit import deposit_invoice
from chalicelib.services.errors import (
    ConcurrentUpdate,
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from chalicelib.services.uploads import PresignedUpload

SUPPLIER = Principal(SUPPLIER_SIRET, "Atelier", ("supplier",))
RECIPIENT = Principal(MAIRIE_SIRET, "Mairie", ("recipient",))
STRANGER = Principal(CHR_SIRET, "CHR", ("recipient",))
DIRECTORY = FakeDirectory(
    Structure(SUPPLIER_SIRET, "Atelier", ("supplier",)),
    Structure(MAIRIE_SIRET, "Mairie", ("recipient",), requires_service_code=True,
              services=(Service("SERV-TECH", "Services techniques"),)),
)  # fmt: skip
PDF = b"%PDF-1.7\n" + b"x" * 5000
NOW = "2026-11-26T20:00:00.000Z"
DIRECT = {"max_bytes": 1_000_000, "upload_route": "/v1/invoices/x/attachments/uploads"}  # the direct route's limit


class FakeSigner:
    def __init__(self):
        self.calls = []

    def presigned_post(self, key, fields, max_bytes, expires_in):
        self.calls.append((key, dict(fields), max_bytes, expires_in))
        return {"url": "https://bucket.invalid/", "fields": {"key": key, **fields}}


@pytest.fixture
def ports():
    invoices, originals = FakeInvoices(), FakeObjectStore()
    invoice = deposit_invoice(SUPPLIER, ubl_invoice(), "application/xml", invoices=invoices, originals=originals,
                              max_bytes=100_000)  # fmt: skip
    process_original(layout.original_key(invoice.id), invoices=invoices, originals=originals, directory=DIRECTORY)
    return invoices, originals, FakeSigner(), invoice.id


def fill(invoices, invoice_id: str, size: int, attachment_id: str = "01JAAAAAAAAAAAAAAAAAAAAAAA") -> None:
    """Another attachment of `size` bytes already on the invoice."""
    invoice = invoices.get(invoice_id)
    invoice.attach(Attachment(attachment_id, "gros.pdf", "application/pdf", size, "k", "supplier", NOW))
    invoices.save(invoice)


def ticket(ports, name="annexe.pdf", principal=SUPPLIER):
    invoices, _originals, signer, invoice_id = ports
    return lifecycle.create_attachment_upload(
        principal, invoice_id, name, invoices=invoices, signer=signer, expires_in=900, now=lambda: NOW
    )


def upload(ports, issued: PresignedUpload, data: bytes) -> None:
    """What S3 does with a presigned POST: the object, with the policy's x-amz-meta-* fields as metadata."""
    fields = issued.fields
    metadata = {k.removeprefix("x-amz-meta-"): v for k, v in fields.items() if k.startswith("x-amz-meta-")}
    ports[1].put(fields["key"], data, fields["Content-Type"], metadata)


def complete(ports, issued: PresignedUpload, principal=SUPPLIER):
    invoices, originals, _signer, invoice_id = ports
    return lifecycle.complete_attachment_upload(
        principal, invoice_id, issued.upload_id, invoices=invoices, originals=originals, now=lambda: NOW
    )


def test_the_ticket_fixes_key_type_uploader_and_name_for_fifteen_minutes(ports):
    issued = ticket(ports, "procès-verbal.pdf")
    invoice_id = ports[3]
    key, fields, max_bytes, expires_in = ports[2].calls[0]
    assert key == f"uploads/attachments/{invoice_id}/{issued.upload_id}"  # staging: copied at completion
    assert fields == {
        "Content-Type": "application/pdf",
        "x-amz-meta-invoice-id": invoice_id,
        "x-amz-meta-uploaded-by": SUPPLIER_SIRET,
        "x-amz-meta-name": "proc%C3%A8s-verbal.pdf",
    }
    assert max_bytes == issued.max_bytes == lifecycle.MAX_ATTACHMENT_BYTES and expires_in == 900
    assert issued.expires_at == "2026-11-26T20:15:00Z"
    assert ports[1].objects.keys() == {layout.original_key(invoice_id)}  # nothing written before the upload


def test_the_ticket_allows_only_what_is_left_of_the_invoice_s_limit(ports):
    invoices, _originals, _signer, invoice_id = ports
    left = 3_000_000
    fill(invoices, invoice_id, lifecycle.MAX_INVOICE_BYTES - invoices.get(invoice_id).original_size - left)
    assert ticket(ports).max_bytes == left
    fill(invoices, invoice_id, left, "01JBBBBBBBBBBBBBBBBBBBBBBB")
    with pytest.raises(PayloadTooLarge):
        ticket(ports)


@pytest.mark.parametrize(
    "name, error",
    [("virus.exe", UnsupportedMediaType), ("", InvalidInput), (None, InvalidInput), (42, InvalidInput),
     ("x" * 47 + ".pdf", InvalidInput), ("../a.pdf", InvalidInput), (".pdf", InvalidInput)],
)  # fmt: skip
def test_the_ticket_checks_the_name_like_the_direct_route(ports, name, error):
    with pytest.raises(error):
        ticket(ports, name)
    invoices, originals, _signer, invoice_id = ports
    with pytest.raises(error):
        lifecycle.add_attachment(SUPPLIER, invoice_id, name, PDF, invoices=invoices, originals=originals, **DIRECT)
    assert ports[2].calls == []


def test_only_parties_get_a_ticket(ports):
    with pytest.raises(NotFound):
        ticket(ports, principal=STRANGER)
    assert ports[2].calls == []


def test_completion_records_the_attachment_like_the_direct_route(ports):
    issued = ticket(ports, "procès-verbal.pdf", principal=RECIPIENT)
    upload(ports, issued, PDF)
    invoice, attachment = complete(ports, issued, principal=RECIPIENT)
    key = f"attachments/{invoice.id}/{issued.upload_id}"
    assert attachment == Attachment(issued.upload_id, "procès-verbal.pdf", "application/pdf", len(PDF), key,
                                    "recipient", NOW, RECIPIENT.siret)  # fmt: skip
    assert ports[0].get(invoice.id).attachments == [attachment]
    # a suspended invoice's supplier may complete it (209) after adding an attachment this way
    assert invoice.attachment_since_last(208, "recipient")


def test_completing_twice_gives_the_same_attachment(ports):
    issued = ticket(ports)
    upload(ports, issued, PDF)
    _, first = complete(ports, issued)
    version = ports[0].get(ports[3]).version
    invoice, again = complete(ports, issued)
    assert again == first and len(invoice.attachments) == 1 and ports[0].get(ports[3]).version == version


def test_nothing_uploaded_is_a_conflict(ports):
    with pytest.raises(Conflict, match="Nothing has been uploaded"):
        complete(ports, ticket(ports))
    assert ports[0].get(ports[3]).attachments == []


def test_a_file_of_the_wrong_type_is_refused_and_deleted(ports):
    issued = ticket(ports)
    upload(ports, issued, b"MZ\x90\x00 not a pdf")
    with pytest.raises(UnsupportedMediaType):
        complete(ports, issued)
    assert issued.fields["key"] not in ports[1].objects
    assert ports[0].get(ports[3]).attachments == []
    with pytest.raises(Conflict):  # gone: completing again says so
        complete(ports, issued)


def test_a_file_over_the_limit_is_refused_and_deleted(ports):
    issued = ticket(ports)
    upload(ports, issued, PDF + b"x" * lifecycle.MAX_ATTACHMENT_BYTES)
    with pytest.raises(PayloadTooLarge):
        complete(ports, issued)
    assert issued.fields["key"] not in ports[1].objects


def test_the_invoice_limit_is_checked_again_at_completion(ports):
    """Two tickets issued while there was room: the second completion finds the room taken."""
    invoices, _originals, _signer, invoice_id = ports
    fill(invoices, invoice_id, lifecycle.MAX_INVOICE_BYTES - invoices.get(invoice_id).original_size - len(PDF) - 10)
    first, second = ticket(ports), ticket(ports)
    upload(ports, first, PDF)
    upload(ports, second, PDF)
    complete(ports, first)
    with pytest.raises(PayloadTooLarge):
        complete(ports, second)
    assert second.fields["key"] not in ports[1].objects and first.fields["key"] in ports[1].objects


def test_only_the_uploader_completes_an_upload(ports):
    issued = ticket(ports)
    upload(ports, issued, PDF)
    for other in (RECIPIENT, STRANGER):
        with pytest.raises(NotFound):
            complete(ports, issued, principal=other)
    assert issued.fields["key"] in ports[1].objects  # not theirs to delete
    with pytest.raises(NotFound):
        complete(ports, replace(issued, upload_id="../../originals/x"))


def test_a_completion_racing_another_change_is_retried_on_the_new_version(ports):
    invoices, _originals, _signer, invoice_id = ports
    issued = ticket(ports)
    upload(ports, issued, PDF)
    save, calls = invoices.save, []

    def save_after_a_status_change(invoice, claim_number=None):
        if not calls:  # the recipient changes the status between our read and our write
            calls.append(1)
            other = invoices.get(invoice_id)
            other.set_status(204, "recipient", None, None, NOW)
            save(other)
        save(invoice, claim_number)

    invoices.save = save_after_a_status_change
    invoice, attachment = complete(ports, issued)
    stored = invoices.get(invoice_id)
    assert stored.status.code == 204 and stored.attachments == [attachment]


def test_a_completion_that_keeps_losing_races_is_a_conflict(ports):
    invoices = ports[0]
    issued = ticket(ports)
    upload(ports, issued, PDF)

    def always_stale(invoice, claim_number=None):
        raise ConcurrentUpdate("changed")

    invoices.save = always_stale
    with pytest.raises(ConcurrentUpdate):
        complete(ports, issued)


def test_csv_sniffing_accepts_a_character_cut_by_the_sniffed_bytes():
    text = ("é" * 3000).encode()  # after one ASCII byte, the 4096 sniffed bytes end with half an é
    assert lifecycle._sniff_ok("csv", b"a" + text)
    assert not lifecycle._sniff_ok("csv", b"\xff\xfe" + text)


def test_the_upload_cannot_be_replaced_once_completed(ports):
    """The ticket can still write for 15 minutes: the attachment is the copy taken and checked at completion."""
    issued = ticket(ports, "procès-verbal.pdf", principal=RECIPIENT)
    upload(ports, issued, PDF)
    _, attachment = complete(ports, issued, principal=RECIPIENT)
    upload(ports, issued, b"MZ\x90\x00" + b"x" * 50_000)  # the same ticket, again, after completion
    assert ports[1].objects[attachment.key].data == PDF and attachment.size == len(PDF)


def test_an_invoice_in_a_final_status_takes_no_attachment(ports):
    invoices, originals, _signer, invoice_id = ports
    issued = ticket(ports)  # signed while the invoice is still being processed
    upload(ports, issued, PDF)
    invoice = invoices.get(invoice_id)
    invoice.set_status(210, "recipient", "JUSTIF_ABS", "Refusée", NOW)  # refused: final
    invoices.save(invoice)

    with pytest.raises(Conflict, match="final status \\(210 "):
        complete(ports, issued)
    with pytest.raises(Conflict, match="final status"):
        ticket(ports)
    with pytest.raises(Conflict, match="final status"):
        lifecycle.add_attachment(SUPPLIER, invoice_id, "pv.pdf", PDF, invoices=invoices, originals=originals, **DIRECT)
    assert invoices.get(invoice_id).attachments == []


def test_a_body_over_the_direct_route_s_limit_points_at_the_upload_route(ports):
    invoices, originals, _signer, invoice_id = ports
    limit = {**DIRECT, "max_bytes": len(PDF) - 1}
    for principal in (SUPPLIER, STRANGER):  # before anything is read: the body never fits
        with pytest.raises(PayloadTooLarge) as refused:
            lifecycle.add_attachment(principal, invoice_id, "pv.pdf", PDF, invoices=invoices, originals=originals,
                                     **limit)  # fmt: skip
        assert refused.value.extra == {"limit_bytes": len(PDF) - 1, "upload": DIRECT["upload_route"]}
        assert DIRECT["upload_route"] in refused.value.detail
    assert invoices.get(invoice_id).attachments == []


def fill_count(invoices, invoice_id: str, count: int) -> None:
    """`count` one-byte attachments already on the invoice."""
    invoice = invoices.get(invoice_id)
    for n in range(count):
        invoice.attach(Attachment(f"01J{n:023d}", f"a{n}.csv", "text/csv", 1, f"k{n}", "recipient", NOW))
    invoices.save(invoice)


def test_an_invoice_takes_at_most_a_hundred_attachments_on_either_route(ports):
    invoices, originals, _signer, invoice_id = ports
    fill_count(invoices, invoice_id, lifecycle.MAX_ATTACHMENTS - 1)
    issued = ticket(ports)  # the hundredth: still room
    upload(ports, issued, PDF)
    late = ticket(ports)  # issued while there was room, completed after the hundredth
    upload(ports, late, PDF)
    complete(ports, issued)
    before = set(originals.objects)
    with pytest.raises(PayloadTooLarge, match="at most 100 attachments") as refused:
        lifecycle.add_attachment(SUPPLIER, invoice_id, "b.pdf", PDF, invoices=invoices, originals=originals, **DIRECT)
    assert refused.value.extra["reason"] == "too_many_attachments" and refused.value.extra["limit_attachments"] == 100
    assert set(originals.objects) == before  # checked before the object is written
    with pytest.raises(PayloadTooLarge, match="at most 100 attachments"):
        ticket(ports)
    with pytest.raises(PayloadTooLarge, match="at most 100 attachments"):
        complete(ports, late)
    assert late.fields["key"] not in originals.objects  # the upload that can never be completed is deleted
    assert set(originals.objects) == before - {late.fields["key"]}
    assert len(invoices.get(invoice_id).attachments) == lifecycle.MAX_ATTACHMENTS


class FullRecords(FakeInvoices):
    """A store whose item size limit the next save goes over (DynamoDB's ValidationException)."""

    def __init__(self, records):
        super().__init__()
        self.records, self.full = records.records, False

    def save(self, invoice, claim_number=None) -> None:
        if self.full:
            from chalicelib.services.errors import RecordFull

            raise RecordFull("full", reason="record_full")
        super().save(invoice, claim_number)


def test_an_attachment_the_record_cannot_hold_is_refused_and_its_file_deleted(ports):
    from chalicelib.services.errors import RecordFull

    invoices, originals, signer, invoice_id = ports
    full = FullRecords(invoices)
    issued = ticket(ports)
    upload(ports, issued, PDF)
    before = set(originals.objects)
    full.full = True
    with pytest.raises(RecordFull):
        lifecycle.add_attachment(SUPPLIER, invoice_id, "b.pdf", PDF, invoices=full, originals=originals, **DIRECT)
    assert set(originals.objects) == before  # no orphan object
    with pytest.raises(RecordFull):
        lifecycle.complete_attachment_upload(SUPPLIER, invoice_id, issued.upload_id, invoices=full,
                                             originals=originals, now=lambda: NOW)  # fmt: skip
    assert not any(k.startswith(f"attachments/{invoice_id}/") for k in originals.objects)
    assert full.get(invoice_id).attachments == []

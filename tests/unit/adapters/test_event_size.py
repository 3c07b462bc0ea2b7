"""Events over SNS's 256 KiB message limit: published trimmed, or skipped with a report, never retried (no AWS)."""

from __future__ import annotations

import json

import pytest

from chalicelib.adapters import event_publisher
from chalicelib.adapters.event_publisher import SNS_MESSAGE_BYTES, SnsEventPublisher
from chalicelib.domain.events import TRIMMED_MARKER, StatusChanged
from chalicelib.domain.invoice import HistoryEntry, Invoice, InvoiceSummary

AT = "2026-11-26T10:00:00.000Z"
INVOICE_ID = "01JD0000000000000000000000"


def event_with_number(number: str) -> StatusChanged:
    """As a record written before the length controls may hold it."""
    invoice = Invoice(id=INVOICE_ID, supplier_siret="81234567800013", supplier_name="Atelier", format="ubl",
                      content_type="application/xml", original_key="k", original_size=1, original_sha256="0" * 64,
                      created_at=AT, updated_at=AT, summary=InvoiceSummary(number=number),
                      recipient_siret="21750000100011", recipient_name="Mairie " * 60_000)  # fmt: skip
    invoice.history += [HistoryEntry(200, AT, "platform"), HistoryEntry(203, AT, "platform")]
    return StatusChanged(invoice, invoice.history[1], invoice.history[0], 1)


class FakeSns:
    def __init__(self):
        self.requests = []

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):  # noqa: N803 - boto3's names
        if any(len(e["Message"].encode()) > SNS_MESSAGE_BYTES for e in PublishBatchRequestEntries):
            raise RuntimeError("InvalidParameter: Message too long")  # what SNS answers, every time
        self.requests.append(PublishBatchRequestEntries)
        return {"Successful": [{"Id": e["Id"]} for e in PublishBatchRequestEntries], "Failed": []}


@pytest.fixture
def sns(monkeypatch):
    fake = FakeSns()
    monkeypatch.setattr(event_publisher, "client", lambda name: fake)
    return fake


def test_an_event_over_the_sns_limit_is_published_trimmed_with_its_ids_and_links_whole(sns):
    skipped = []
    publisher = SnsEventPublisher("arn:topic", "https://api.example.org",
                                  on_unsendable=lambda e, size: skipped.append(e))  # fmt: skip
    small = event_with_number("F-1")
    small.invoice.recipient_name = "Mairie"
    publisher.publish([event_with_number("9" * 300_000), small])
    [entries] = sns.requests
    big, normal = (json.loads(e["Message"]) for e in entries)
    assert len(entries[0]["Message"].encode()) <= SNS_MESSAGE_BYTES and skipped == []
    data = big["data"]
    assert data["number"] == "9" * 1000 + TRIMMED_MARKER and data["recipient"]["name"].endswith(TRIMMED_MARKER)
    assert data["invoice_id"] == INVOICE_ID and big["id"] == f"{INVOICE_ID}-1" and big["subject"] == INVOICE_ID
    assert data["links"] == {"invoice": f"https://api.example.org/v1/invoices/{INVOICE_ID}"}
    assert data["recipient"]["siret"] == "21750000100011" and data["status"]["code"] == 203
    assert normal["data"]["number"] == "F-1" and normal["data"]["recipient"]["name"] == "Mairie"  # untouched


def test_an_event_that_cannot_fit_even_trimmed_is_skipped_and_reported_not_retried(sns, monkeypatch):
    monkeypatch.setattr(event_publisher, "SNS_MESSAGE_BYTES", 300)  # smaller than any event's ids and links
    skipped = []
    publisher = SnsEventPublisher("arn:topic", "", on_unsendable=lambda e, size: skipped.append((e.event_id, size)))
    publisher.publish([event_with_number("9" * 300_000)])  # no exception: the stream goes on
    assert sns.requests == [] and [event_id for event_id, _ in skipped] == [f"{INVOICE_ID}-1"]
    assert skipped[0][1] > 300_000


def test_publishing_a_stream_batch_with_an_oversized_event_does_not_block_the_shard(sns):
    from chalicelib.services.publishing import publish_committed_changes

    before = event_with_number("9" * 300_000).invoice
    after = event_with_number("9" * 300_000).invoice
    after.history.append(HistoryEntry(204, AT, "recipient"))
    before.history = before.history[:2]
    published, unpublished = publish_committed_changes([(None, before), (before, after)],
                                                       publisher=SnsEventPublisher("arn:topic", ""))  # fmt: skip
    assert unpublished is None and len(published) == 3 and sum(len(r) for r in sns.requests) == 3

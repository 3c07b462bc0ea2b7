"""The invoice record's stored shape: plain attributes for what is queried, the rest packed (no AWS)."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

from chalicelib.adapters.invoice_repository import from_record, from_stream_image, to_record
from chalicelib.adapters.tables import item_bytes
from chalicelib.domain.invoice import (
    Attachment,
    Error,
    HistoryEntry,
    Invoice,
    InvoiceSummary,
    PaymentMeans,
    Totals,
)


def flow_invoice() -> Invoice:
    invoice = Invoice(
        "01M8CWNBTN0N6SD18NSQWEG2QF", "81234567800013", "Atelier Numérique SARL", "ubl", "application/xml",
        "originals/bundles/01M8CWNBTN4TR1H9NFC97NRTHT-0001.tar", 4132,
        "b0aa64b3170595cf9b8b36adae33c23af30a761b58d1b2f6ea82a9443537cbb5",
        "2026-11-26T21:37:23.285Z", "2026-11-26T21:37:23.285Z",
        original_offset=52224, flow_id="01M8CWNBTN4TR1H9NFC97NRTHT", flow_file="file#00017",
    )  # fmt: skip
    summary = InvoiceSummary(
        number="F-2026-00017",
        issue_date=date(2026, 11, 20),
        currency="EUR",
        totals=Totals(Decimal("100.00"), Decimal("20.00"), Decimal("120.00"), Decimal("120.00")),
        seller_siret="81234567800013",
        seller_name="Atelier Numérique SARL",
        buyer_siret="21750000100011",
        buyer_name="Mairie de Saint-Étienne-du-Bois",
        service_code="SERV-TECH",
        due_date=date(2026, 12, 20),
        seller_vat_id="FR25812345678",
        payment_means=(PaymentMeans("30", "FR7630006000011234567890189", "AGRIFRPP882"),),
    )
    invoice.accept(summary, "Mairie de Saint-Étienne-du-Bois", [], "2026-11-26T21:37:25.012Z")
    return invoice


def test_every_field_survives_the_round_trip_and_the_stream_image():
    invoice = flow_invoice()
    invoice.errors = [Error("BR-CL-10", "warning", "Un avertissement « accentué »", "/Invoice/cbc:ID")]
    invoice.errors_truncated = 3
    invoice.history.append(HistoryEntry(208, "2026-11-27T08:00:00.000Z", "recipient", "JUSTIF_ABS", "Pièce manquante"))
    invoice.attachments = [
        Attachment(
            "01M8CWNBTN0N6SD18NSQWEG2QG",
            "bon.pdf",
            "application/pdf",
            1234,
            "attachments/x/y",
            "supplier",
            "2026-11-27T09:00:00.000Z",
        )  # fmt: skip
    ]
    invoice.version = 4
    expected = copy.deepcopy(invoice)
    record = to_record(invoice)
    assert from_record(record) == expected
    image = record.serialize()  # the attribute values of a stream record
    assert from_stream_image(image) == expected
    lambda_json = {**image, "details": {"B": base64.b64encode(image["details"]["B"]).decode()}}
    assert from_stream_image(json.loads(json.dumps(lambda_json))) == expected  # as Lambda's JSON event has it


def test_a_decided_flow_invoice_costs_one_write_unit():
    """DynamoDB bills a write per started KB of item (attribute names and values, as in infra/cost/bench.py)."""
    record = to_record(flow_invoice())
    image = record.serialize()
    size = 0
    for name, value in image.items():
        [(kind, raw)] = value.items()
        size += len(name) + (len(raw) if kind in ("S", "B") and isinstance(raw, bytes) else len(str(raw).encode()))
    assert size < 1024 - 150, size  # with room for longer names and numbers than these
    assert {"supplier_siret", "recipient_siret", "number", "issue_date", "status_code"} <= set(image)  # filters


def test_five_payment_means_and_four_more_statuses_still_cost_one_write_unit():
    """Review r44 F5: docs/operations.md's richer case (959 B when measured; the invoice above was 853 B)."""
    invoice = flow_invoice()
    means = tuple(PaymentMeans("58", f"FR76 3000 6000 01{n}1 2345 6789 0{n}89", f"AGRIFRPP8{n}2") for n in range(5))
    invoice.summary = replace(invoice.summary, payment_means=means)
    for code in (204, 205, 211, 212):
        invoice.history.append(
            HistoryEntry(code, "2026-11-27T08:00:00.000Z", "recipient", None, "Traitement en cours par le service")
        )
    assert item_bytes(to_record(invoice)) < 1024


def test_a_payment_amount_is_kept_and_records_written_before_amounts_still_read():
    import zlib

    invoice = flow_invoice()
    invoice.history.append(HistoryEntry(212, "2026-11-28T08:00:00.000Z", "supplier", None, None, Decimal("120.00")))
    record = to_record(invoice)
    assert from_record(record).history[-1].amount == Decimal("120.00")
    details = json.loads(zlib.decompress(record.details))
    assert details["history"][-1]["amount"] == "120.00"  # a decimal string, never a float
    assert "amount" not in details["history"][0]  # empty values are left out
    for entry in details["history"]:  # the shape stored before amounts existed
        entry.pop("amount", None)
    record.details = zlib.compress(json.dumps(details).encode())
    assert [h.amount for h in from_record(record).history] == [None, None, None]


def _item_bytes(record) -> int:
    """DynamoDB's item size: each attribute's name and value (binary as bytes, numbers and strings as UTF-8)."""
    size = 0
    for name, value in record.serialize().items():
        ((kind, raw),) = value.items()
        size += len(name.encode()) + (len(raw) if kind == "B" else len(str(raw).encode()))
    return size


def test_no_invoice_content_can_take_a_record_over_dynamodb_s_400_kb():
    """The worst any document can do: every text the summary reads at megabytes of incompressible 4-byte characters,
    thousands of findings quoting them, a rejection comment as long; with the most attachments an invoice takes."""
    import random

    from chalicelib.domain.invoice import MAX_STORED_ERRORS_BYTES
    from chalicelib.services.lifecycle import MAX_ATTACHMENT_NAME, MAX_ATTACHMENTS

    rng = random.Random(7)
    # characters of 4 bytes in UTF-8, and quotes JSON escapes: compresses to nothing
    pool = "".join('"' if rng.random() < 0.1 else chr(rng.randrange(0x10000, 0x10FFFF)) for _ in range(400_000))

    def noise(n: int) -> str:
        start = rng.randrange(0, len(pool) - 25_000)
        return (pool[start:] + pool)[:n]

    invoice = flow_invoice()
    invoice.processing, invoice.history = "pending", []
    summary = InvoiceSummary(number=noise(300_000), issue_date=date(2026, 2, 1), currency=noise(50_000),
                             seller_siret=noise(50_000), seller_name=noise(100_000), buyer_siret=noise(50_000),
                             buyer_name=noise(100_000), service_code=noise(100_000),
                             engagement_number=noise(100_000), seller_vat_id=noise(100_000),
                             payment_means=tuple(PaymentMeans(noise(10_000), noise(10_000), noise(10_000))
                                                 for _ in range(1000)))  # fmt: skip
    findings = [Error(noise(200), "fatal", noise(20_000), noise(20_000)) for _ in range(300)]
    invoice.reject(summary, None, findings, "REJ_SEMAN", noise(300_000), "2026-11-26T21:37:25.012Z", unlisted=9)
    for n in range(MAX_ATTACHMENTS):
        invoice.attach(Attachment(f"01M8CWNBTN{n:016d}", noise(MAX_ATTACHMENT_NAME), "application/vnd.openxml"
                                  "formats-officedocument.wordprocessingml.document", 10_000_000,
                                  f"attachments/{invoice.id}/01M8CWNBTN{n:016d}", "recipient",
                                  "2026-11-26T21:37:25.012Z"))  # fmt: skip
    record = to_record(invoice)
    size = _item_bytes(record)
    assert size < 300 * 1024, size  # about 96 KB: room left for the lifecycle's history
    assert len(invoice.summary.number) == 200 and len(invoice.history[-1].comment) == 1000
    assert sum(len(json.dumps(e.as_dict(), ensure_ascii=False).encode()) for e in invoice.errors) <= (
        MAX_STORED_ERRORS_BYTES
    )
    assert invoice.errors_truncated == 300 - len(invoice.errors) + 9
    assert from_record(record).summary == invoice.summary


def test_the_keys_of_the_latest_keyed_changes_are_kept_and_left_out_when_none():
    import zlib

    from chalicelib.domain.invoice import MAX_REMEMBERED_REQUESTS

    invoice = flow_invoice()
    assert "request_keys" not in json.loads(zlib.decompress(to_record(invoice).details))  # no byte for none
    for n in range(MAX_REMEMBERED_REQUESTS + 2):
        invoice.remember_request(f"key-{n}", f"request-{n}")
    record = to_record(invoice)
    read = from_record(record)
    assert (
        read.request_keys
        == invoice.request_keys
        == [(f"key-{n}", f"request-{n}") for n in range(2, MAX_REMEMBERED_REQUESTS + 2)]
    )  # the oldest are forgotten
    assert read.request_under("key-3") == "request-3" and read.request_under("key-1") is None
    invoice.remember_request("key-3", "request-again")  # the latest use of a key is its answer
    assert invoice.request_under("key-3") == "request-again"


def test_re_route_targets_survive_the_round_trip_beside_the_history_entries():
    """Each re-route's structure is kept under a details key of its own, not in the history entries: code deployed
    before builds an entry with HistoryEntry(**entry) and reads the details' keys it knows only."""
    import zlib

    invoice = flow_invoice()
    assert "rerouted_to" not in json.loads(zlib.decompress(to_record(invoice).details))  # no re-route: no key
    for siret in ("13000123400017", "13000123400017", "35600000000015"):
        invoice.set_status(221, "recipient", "CODE_ROUTAGE_ERR", None, "2026-11-27T08:00:00.000Z")
        invoice.reroute(siret, None, None, "EJ-9", None, "2026-11-27T08:00:01.000Z")
    record = to_record(invoice)
    details = json.loads(zlib.decompress(record.details))
    assert details["rerouted_to"] == [[3, "13000123400017"], [5, "13000123400017"], [7, "35600000000015"]]
    # The name each re-route replaced, by where its stretch began: the buyer's first, then the re-routes' (None).
    assert details["former_recipient_names"] == [[0, "Mairie de Saint-Étienne-du-Bois"], [3, None], [5, None]]
    assert details["former_service_codes"] == [[0, "SERV-TECH"], [3, None], [5, None]]  # and the service codes
    assert all(set(entry) <= set(HistoryEntry.__slots__) for entry in details["history"])
    expected = copy.deepcopy(invoice)
    assert from_record(record) == expected and from_stream_image(record.serialize()) == expected
    assert from_record(record).recipient_at(4) == "13000123400017"  # read back, the stretches are attributed


def test_a_record_written_before_due_dates_and_payment_means_were_kept_reads_them_as_unknown():
    import zlib

    record = to_record(flow_invoice())
    details = json.loads(zlib.decompress(record.details))
    assert details["payment_means"] == [{"code": "30", "account": "FR7630006000011234567890189", "bic": "AGRIFRPP882"}]
    assert details["due_date"] == "2026-12-20" and details["seller_vat_id"] == "FR25812345678"
    for key in ("due_date", "seller_vat_id", "payment_means"):
        del details[key]
    record.details = zlib.compress(json.dumps(details).encode())
    summary = from_record(record).summary
    assert (summary.due_date, summary.seller_vat_id, summary.payment_means) == (None, None, None)
    # A document without payment means keeps that it has none: [] is not "not read".
    invoice = flow_invoice()
    invoice.summary = InvoiceSummary(payment_means=())
    assert from_record(to_record(invoice)).summary.payment_means == ()


def test_a_summary_keeps_the_first_payment_means_and_cuts_their_texts():
    from chalicelib.domain.invoice import MAX_STORED_PAYMENT_MEANS, STORED_PAYMENT_TEXT_LIMIT

    means = tuple(PaymentMeans("30", f"FR76{n:023d}") for n in range(MAX_STORED_PAYMENT_MEANS + 2))
    bounded = InvoiceSummary(seller_vat_id="FR" + "1" * 500, payment_means=(PaymentMeans("3" * 500), *means)).bounded()
    assert len(bounded.payment_means) == MAX_STORED_PAYMENT_MEANS and bounded.payment_means[1:] == means[:-3]
    assert len(bounded.payment_means[0].code) == len(bounded.seller_vat_id) == STORED_PAYMENT_TEXT_LIMIT
    assert bounded.seller_vat_id.endswith("…")


def test_a_summary_cut_to_its_first_payment_means_says_so_and_its_record_keeps_it():
    from chalicelib.domain.invoice import MAX_STORED_PAYMENT_MEANS

    means = tuple(PaymentMeans("30", f"FR76{n:023d}") for n in range(MAX_STORED_PAYMENT_MEANS + 1))
    cut_summary = InvoiceSummary(payment_means=means).bounded()
    assert cut_summary.payment_means_truncated is True
    assert cut_summary.bounded() == cut_summary  # bounded again (a re-route's copy): still cut
    for kept in (means[:MAX_STORED_PAYMENT_MEANS], (), None):
        assert InvoiceSummary(payment_means=kept).bounded().payment_means_truncated is False
    invoice = flow_invoice()
    invoice.summary = cut_summary
    assert from_record(to_record(invoice)).summary == cut_summary
    assert from_record(to_record(flow_invoice())).summary.payment_means_truncated is False


def test_the_type_code_is_kept_and_cut_like_the_other_texts_a_rejected_document_may_hold():
    """BT-3 (type_code) is stored with the summary; a document EN 16931 rejects may write anything there."""
    from chalicelib.domain.invoice import STORED_TYPE_CODE_LIMIT

    invoice = flow_invoice()
    invoice.summary = InvoiceSummary(type="invoice", type_code="386")
    assert from_record(to_record(invoice)).summary.type_code == "386"
    assert len(InvoiceSummary(type_code="3" * 500).bounded().type_code) == STORED_TYPE_CODE_LIMIT

"""Review r32: comments a party cannot see or that reorder text, invoices dated after their deposit, negative
totals' payments, a repeated 207, and the payment e-mails."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from demo import MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import ubl_invoice
from processing_support import deposit_processed as deposit

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


def set_status(client, invoice_id: str, key: str, code: int, reason=None, comment=None, **extra):
    body = {"code": code, "reason_code": reason, "comment": comment, **extra}
    return client.http.post(f"/v1/invoices/{invoice_id}/status", headers=auth(key, **JSON), body=json.dumps(body))


def history(client, invoice_id: str) -> list[dict]:
    return json.loads(client.http.get(f"/v1/invoices/{invoice_id}/history", headers=auth(SUPPLIER_KEY)).body)["history"]


@pytest.mark.parametrize("comment", ["\u200b", "\u2060\ufeff", "  \u3164 "])
def test_a_completion_with_only_invisible_characters_and_no_attachment_is_refused(client, pump, comment):
    invoice = deposit(client, pump, ubl_invoice("R32-ZW-1"))
    assert set_status(client, invoice["id"], MAIRIE_KEY, 208, "JUSTIF_ABS").status_code == 200
    refused = set_status(client, invoice["id"], SUPPLIER_KEY, 209, comment=comment)
    assert refused.status_code == 422, refused.body
    assert "comment or an attachment" in json.loads(refused.body)["detail"]
    assert [h["code"] for h in history(client, invoice["id"])][-1] == 208
    done = set_status(client, invoice["id"], SUPPLIER_KEY, 209, comment=" Bon de livraison joint \u200b")
    assert done.status_code == 200
    assert history(client, invoice["id"])[-1]["comment"] == "Bon de livraison joint \u200b"


def test_a_comment_with_no_visible_character_is_not_stored(client, pump):
    invoice = deposit(client, pump, ubl_invoice("R32-ZW-2"))
    assert set_status(client, invoice["id"], MAIRIE_KEY, 205, comment=" \u200b ").status_code == 200
    assert history(client, invoice["id"])[-1]["comment"] is None


def test_an_invoice_dated_after_its_deposit_is_rejected(client, pump):
    """Dated three days after today: after the recorded deposit's date plus a day, even across a midnight."""
    later = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    invoice = deposit(client, pump, ubl_invoice("R32-FUT-1", issue_date=later))
    deposit_day = date.fromisoformat(invoice["created_at"][:10])
    assert invoice["status"]["code"] == 213
    entry = history(client, invoice["id"])[-1]
    assert entry["reason_code"] == "REJ_SEMAN"
    finding = invoice["errors"][0]
    assert finding["rule"] == "CHORALE-ISSUE-DATE-FUTURE"
    assert finding["message"] == (
        f"BT-2 Invoice issue date {later} is after the deposit date ({deposit_day.isoformat()}): an invoice cannot "
        "be dated after its deposit."
    )
    assert "IssueDate" in finding["location"]


def test_a_negative_total_invoice_is_paid_and_cashed_up_to_its_magnitude(client, pump):
    invoice = deposit(client, pump, ubl_invoice("R32-NEG-1", quantity="-2"))
    assert invoice["status"]["code"] == 203 and invoice["totals"]["with_vat"] == "-120.00"
    assert set_status(client, invoice["id"], MAIRIE_KEY, 205).status_code == 200
    too_much = set_status(client, invoice["id"], MAIRIE_KEY, 211, amount="120.01")
    assert too_much.status_code == 422
    assert json.loads(too_much.body)["detail"] == (
        "'amount' 120.01 is more than the magnitude of its total with VAT (-120.00)."
    )
    assert set_status(client, invoice["id"], MAIRIE_KEY, 211, amount="0").status_code == 422
    assert set_status(client, invoice["id"], MAIRIE_KEY, 211, amount="50.00").status_code == 200
    assert set_status(client, invoice["id"], SUPPLIER_KEY, 212, amount="120.00").status_code == 200
    assert [(h["code"], h.get("amount")) for h in history(client, invoice["id"])][-2:] == [
        (211, "50.00"),
        (212, "120.00"),
    ]


def test_a_repeated_dispute_is_answered_as_applied_and_written_once(client, pump, events_queue):
    invoice = deposit(client, pump, ubl_invoice("R32-207-1"))
    while pump.deliver_stream_once("publish_status_events"):
        pass
    events_queue()
    first = set_status(client, invoice["id"], MAIRIE_KEY, 207, "NON_CONFORME", "écart de quantité")
    retry = set_status(client, invoice["id"], MAIRIE_KEY, 207, "NON_CONFORME", " écart de quantité ")
    assert first.status_code == retry.status_code == 200
    assert json.loads(retry.body) == json.loads(first.body)
    assert [h["code"] for h in history(client, invoice["id"])] == [200, 203, 207]
    other = set_status(client, invoice["id"], MAIRIE_KEY, 207, "CALCUL_ERR", "écart de quantité")
    assert other.status_code == 200
    assert [h["code"] for h in history(client, invoice["id"])] == [200, 203, 207, 207]
    while pump.deliver_stream_once("publish_status_events"):
        pass
    events = [json.loads(m["Message"]) for m in events_queue()]
    assert [e["id"] for e in events] == [f"{invoice['id']}-2", f"{invoice['id']}-3"]


@pytest.mark.parametrize("character", ["\u202e", "\u2066", "\x07", "\x1b", "\x85"])
def test_a_comment_with_a_control_or_bidirectional_character_is_refused(client, pump, character):
    invoice = deposit(client, pump, ubl_invoice("R32-BIDI-1"))
    refused = set_status(client, invoice["id"], MAIRIE_KEY, 210, "NON_CONFORME", f"Montant correct{character} fdp.exe")
    assert refused.status_code == 422
    assert f"(U+{ord(character):04X})" in json.loads(refused.body)["detail"]
    assert [h["code"] for h in history(client, invoice["id"])][-1] == 203
    # review r38: Windows line breaks (a browser's text box, Outlook) and RTL direction marks are plain text
    comment = "Ligne 1\r\n\tLigne 2\rמספר\u200f 12"
    kept = set_status(client, invoice["id"], MAIRIE_KEY, 210, "NON_CONFORME", comment)
    assert kept.status_code == 200, kept.body
    assert history(client, invoice["id"])[-1]["comment"] == "Ligne 1\n\tLigne 2\nמספר\u200f 12"


def test_a_repeated_dispute_with_a_new_key_is_a_new_request_and_its_key_is_kept(client, pump):
    """Review r38: a repeated 207 with a new key was answered as applied without remembering the key, so the same key
    with another body then applied a change instead of a 409."""
    invoice = deposit(client, pump, ubl_invoice("R32-207-2"))
    assert set_status(client, invoice["id"], MAIRIE_KEY, 207, "NON_CONFORME", "écart").status_code == 200

    def keyed(key, reason):
        body = json.dumps({"code": 207, "reason_code": reason, "comment": "écart"})
        headers = auth(MAIRIE_KEY, **JSON, **{"Idempotency-Key": key})
        return client.http.post(f"/v1/invoices/{invoice['id']}/status", headers=headers, body=body)

    assert keyed("k-207-a", "NON_CONFORME").status_code == 200
    assert [h["code"] for h in history(client, invoice["id"])] == [200, 203, 207, 207]
    assert keyed("k-207-a", "NON_CONFORME").status_code == 200  # its retry: no third entry
    assert keyed("k-207-a", "CALCUL_ERR").status_code == 409  # the same key, another body
    assert [h["code"] for h in history(client, invoice["id"])] == [200, 203, 207, 207]


def test_a_re_routing_comment_is_checked_and_stored_as_a_status_change_s(client, pump):
    invoice = deposit(client, pump, ubl_invoice("R32-BIDI-2"))
    assert set_status(client, invoice["id"], MAIRIE_KEY, 221).status_code == 200
    url = f"/v1/invoices/{invoice['id']}/reroute"
    refused = client.http.post(url, headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps({"comment": "a\u202eb"}))
    assert refused.status_code == 422 and "(U+202E)" in json.loads(refused.body)["detail"]
    done = client.http.post(url, headers=auth(SUPPLIER_KEY, **JSON), body=json.dumps({"comment": "\u200b"}))
    assert done.status_code == 200
    assert history(client, invoice["id"])[-1]["comment"] == "Re-routed by the supplier"

"""Webhooks over HTTP on the local stack (subprocess): signed events to receivers on 127.0.0.1, retries, SSRF.

Receivers verify every signature and every event against its JSON Schema, and dedupe on the event id.
"""

from __future__ import annotations

import json
import time

from invoices import MAIRIE_SIRET, SUPPLIER_SIRET, invalid_ubl_invoice, ubl_invoice
from webhook_support import Receiver, validate_event

SUPPLIER_KEY = "demo-supplier-atelier-key"
MAIRIE_KEY = "demo-recipient-mairie-key"
CHR_KEY = "demo-recipient-chr-key"
XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}

# One invoice through every party transition: recipient 204, 207, 208; supplier 209; recipient 205, 211;
# supplier 212 (201/202 are inter-platform statuses, 206/210/213/220/221 end or fork the path).
LIFECYCLE = [
    (MAIRIE_KEY, 204, None, None),
    (MAIRIE_KEY, 207, "MONTANTTOTAL_ERR", "Le montant ne correspond pas au devis"),
    (MAIRIE_KEY, 208, "JUSTIF_ABS", "Merci de joindre le bon de livraison"),
    (SUPPLIER_KEY, 209, None, "Bon de livraison envoyé par courrier"),
    (MAIRIE_KEY, 205, None, None),
    (MAIRIE_KEY, 211, None, None),
    (SUPPLIER_KEY, 212, None, None),
]


def subscribe(stack, key: str, body: dict):
    return stack.request("POST", "/v1/subscriptions", key, json.dumps(body).encode(), JSON)


def subscribed(stack, key: str, receiver: Receiver, **body) -> dict:
    response = subscribe(stack, key, {"url": receiver.url, **body})
    assert response.status == 201, response.body
    subscription = response.json()
    receiver.secret = subscription["secret"]
    return subscription


def deposit(stack, body: bytes) -> str:
    response = stack.request("POST", "/v1/invoices", SUPPLIER_KEY, body, XML)
    assert response.status == 202, response.body
    return response.json()["id"]


def wait_status(stack, invoice_id: str, code: int) -> None:
    def reached():
        invoice = stack.request("GET", f"/v1/invoices/{invoice_id}", SUPPLIER_KEY).json()
        return invoice["status"] and invoice["status"]["code"] == code

    stack.wait_for(reached, timeout=20)


def codes_of(receiver: Receiver, invoice_id: str) -> list[int]:
    """The status codes the receiver saw for this invoice, deduped on the id, in history order."""
    events = {i: e for i, e in receiver.events().items() if e["subject"] == invoice_id}
    return [events[i]["data"]["status"]["code"] for i in sorted(events, key=lambda i: int(i.rsplit("-", 1)[1]))]


def test_receivers_see_every_status_change_200_to_212_once_after_dedupe_and_never_anothers(local_stack):
    with Receiver() as supplier_rx, Receiver() as mairie_rx, Receiver() as chr_rx:
        subscribed(local_stack, SUPPLIER_KEY, supplier_rx)
        subscribed(local_stack, MAIRIE_KEY, mairie_rx, filter={"role": "recipient"})
        subscribed(local_stack, CHR_KEY, chr_rx)
        mail = subscribe(
            local_stack, MAIRIE_KEY, {"email": "compta@mairie.example.fr", "filter": {"status_codes": [203, 212]}}
        )
        assert mail.status == 201 and "secret" not in mail.json()
        assert mail.json()["status"] == "pending_confirmation"
        link = local_stack.wait_for(lambda: confirmation_link(local_stack, "compta@mairie.example.fr"), timeout=20)
        assert link.startswith(local_stack.base_url + "/v1/subscription-confirmations/")  # a link that works
        confirmed = local_stack.request("POST", link.removeprefix(local_stack.base_url))
        assert confirmed.status == 200 and confirmed.json()["status"] == "active"

        invoice_id = deposit(local_stack, ubl_invoice("F-E2E-WH-1"))
        rejected_id = deposit(local_stack, invalid_ubl_invoice("F-E2E-WH-2"))
        wait_status(local_stack, invoice_id, 203)
        for key, code, reason, comment in LIFECYCLE:
            body = {"code": code, "reason_code": reason, "comment": comment}
            if code == 212:
                body["amount"] = "120.00"  # the amount received is required on 212
            response = local_stack.request(
                "POST", f"/v1/invoices/{invoice_id}/status", key, json.dumps(body).encode(), JSON
            )
            assert response.status == 200, (code, response.body)

        expected = [200, 203, 204, 207, 208, 209, 205, 211, 212]
        for receiver in (supplier_rx, mairie_rx):
            local_stack.wait_for(lambda r=receiver: codes_of(r, invoice_id) == expected, timeout=30)
        local_stack.wait_for(lambda: codes_of(supplier_rx, rejected_id) == [213], timeout=30)
        time.sleep(1.0)  # anything late or duplicated has had time to arrive

        for receiver in (supplier_rx, mairie_rx):
            assert receiver.refused == []  # every signature verified, every event valid against its schema
            assert codes_of(receiver, invoice_id) == expected  # exactly once after dedupe, nothing extra
            for received in receiver.received:
                validate_event(received.event)
                data = received.event["data"]
                assert SUPPLIER_SIRET in (data["supplier"]["siret"], data["recipient"]["siret"])
        # README: a rejected invoice's buyer does not become a party to it and gets no event for it (the rejected
        # invoice names the Mairie as its buyer; its 213 reached the supplier above, before the 1 s settling wait)
        assert codes_of(mairie_rx, rejected_id) == []
        last = supplier_rx.events()[f"{invoice_id}-8"]
        assert last["data"]["previous_status"]["code"] == 211 and last["data"]["actor"] == "supplier"
        suspended = supplier_rx.events()[f"{invoice_id}-4"]["data"]
        assert (suspended["reason_code"], suspended["recipient"]["siret"]) == ("JUSTIF_ABS", MAIRIE_SIRET)
        assert chr_rx.attempts == 0  # a structure never receives another's events

        outbox = mails(local_stack, "compta@mairie.example.fr")
        sent = sorted(item["event_id"]["S"] for item in outbox)
        assert [i for i in sent if not i.startswith("confirm-")] == [f"{invoice_id}-1", f"{invoice_id}-8"]
        assert len([i for i in sent if i.startswith("confirm-")]) == 1  # the confirmation, and nothing else


def mails(stack, address: str) -> list[dict]:
    """What the local stack's outbox captured for this address, oldest first."""
    return stack.aws("dynamodb").query(
        TableName="chorale-mail-outbox",
        KeyConditionExpression="#to = :to",
        ExpressionAttributeNames={"#to": "to"},
        ExpressionAttributeValues={":to": {"S": address}},
    )["Items"]


def confirmation_link(stack, address: str) -> str | None:
    for item in mails(stack, address):
        for line in item["text"]["S"].splitlines():
            if "/v1/subscription-confirmations/" in line:
                return line.strip()
    return None


def test_a_failing_then_timing_out_receiver_gets_the_events_once_it_recovers(local_stack):
    with Receiver(mode="fail", sleep=6.0) as receiver:
        subscription = subscribed(local_stack, SUPPLIER_KEY, receiver)
        invoice_id = deposit(local_stack, ubl_invoice("F-E2E-WH-3"))
        local_stack.wait_for(lambda: receiver.attempts >= 4, timeout=30)  # 500s, retried (1 s, 2 s…)
        receiver.mode = "timeout"  # answers after the sender's 5 s timeout
        seen = receiver.attempts
        local_stack.wait_for(lambda: receiver.attempts > seen, timeout=30)
        log = local_stack.request("GET", f"/v1/subscriptions/{subscription['id']}/deliveries", SUPPLIER_KEY).json()
        assert {(d["outcome"], d["status"]) for d in log["deliveries"]} == {("retrying", 500)}
        time.sleep(5.5)  # the receiver keeps holding requests past the sender's 5 s for a while
        receiver.mode = "ok"
        local_stack.wait_for(lambda: codes_of(receiver, invoice_id) == [200, 203], timeout=60)
        assert receiver.refused == []

        def timed_out():
            log = local_stack.request("GET", f"/v1/subscriptions/{subscription['id']}/deliveries", SUPPLIER_KEY)
            return [d for d in log.json()["deliveries"] if d["error"] and "timeout" in d["error"]]

        assert local_stack.wait_for(timed_out, timeout=10)

        def deliveries():  # once both deliveries are logged (the log is written after the receiver's answer)
            log = local_stack.request("GET", f"/v1/subscriptions/{subscription['id']}/deliveries", SUPPLIER_KEY)
            attempts = log.json()["deliveries"]
            delivered = {d["event_id"] for d in attempts if d["outcome"] == "delivered"}
            return attempts if delivered == {f"{invoice_id}-0", f"{invoice_id}-1"} else None  # 200 and 203

        # Within a minute of coming back (docs/webhooks.md), shown by the schedule rather than a stopwatch: no
        # retry was ever put further off than the local stack's 10 s cap.
        waits = [
            d["next_attempt_in"] for d in local_stack.wait_for(deliveries, timeout=10) if d["outcome"] == "retrying"
        ]
        assert len(waits) >= 4 and all(0 < wait <= 10 for wait in waits), waits
        state = local_stack.request("GET", f"/v1/subscriptions/{subscription['id']}", SUPPLIER_KEY).json()
        assert state["status"] == "active"  # retried within the 24 h: never given up


def test_test_event_and_tenant_isolation_over_http(local_stack):
    with Receiver() as receiver:
        subscription = subscribed(local_stack, CHR_KEY, receiver)
        path = f"/v1/subscriptions/{subscription['id']}"
        for key in (SUPPLIER_KEY, MAIRIE_KEY):
            assert local_stack.request("GET", path, key).status == 404
            assert local_stack.request("POST", path + "/test", key).status == 404
            assert local_stack.request("DELETE", path, key).status == 404
        queued = local_stack.request("POST", path + "/test", CHR_KEY)
        assert queued.status == 202
        local_stack.wait_for(lambda: queued.json()["event_id"] in receiver.events(), timeout=15)
        assert local_stack.request("DELETE", path, CHR_KEY).status == 204


def test_ssrf_targets_are_refused(local_stack):
    for url in (
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/",  # 169.254.169.254 as one decimal number
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://user:pass@127.0.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ):
        response = subscribe(local_stack, SUPPLIER_KEY, {"url": url})
        assert response.status == 422, (url, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
    listed = local_stack.request("GET", "/v1/subscriptions", SUPPLIER_KEY).json()["subscriptions"]
    assert all("127.0.0.1" in s["url"] for s in listed if s["url"])

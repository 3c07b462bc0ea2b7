"""After a re-route to another structure, each party reads the history it is entitled to.

The supplier reads all of it (its invoice; the 221 reason is addressed to it). The former recipient is no party any
more: 404 everywhere, out of its searches, no event about what follows. The new recipient reads the history from
its own routing on: what the former recipient wrote (its 204, 208, 221 and their comments) and what the supplier
answered it (209) are that structure's business, not the new recipient's.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from demo import CHR_KEY, MAIRIE_KEY, SUPPLIER_KEY, auth
from invoices import CHR_SIRET, MAIRIE_SIRET, SUPPLIER2_SIRET, ubl_invoice
from webhook_support import Receiver

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.entrypoints import dependencies

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
from replay_events import replay  # noqa: E402

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}

# What only the Mairie (the former recipient) and the supplier's answer to it say.
MAIRIE_SECRETS = ("Mairie: bon de livraison absent", "Bon de livraison joint pour la Mairie",
                  "Marché du CHR, pas du service SERV-TECH de la Mairie")  # fmt: skip
REROUTE_COMMENT = "Adressée au CHR (EJ-9)"


def post(client, key: str, path: str, body: dict):
    return client.http.post(path, headers=auth(key, **JSON), body=json.dumps(body))


def read(client, key: str, path: str):
    return client.http.get(path, headers=auth(key))


def history(client, key: str, invoice_id: str) -> list[dict]:
    response = read(client, key, f"/v1/invoices/{invoice_id}/history")
    assert response.status_code == 200, response.body
    return json.loads(response.body)["history"]


def drain_validation(pump) -> None:
    while pump.deliver_sqs_once("validate_invoices"):
        pass


@pytest.fixture
def rerouted(client, pump):
    """An invoice the Mairie handled (204, 208, the supplier's 209), then sent back as a routing error (221) that the
    supplier re-routed to the CHR. Returns its id; the events of each step are published as they happen."""
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-1"))
    invoice_id = json.loads(created.body)["id"]
    drain_validation(pump)
    status = f"/v1/invoices/{invoice_id}/status"
    for key, body in (
        (MAIRIE_KEY, {"code": 204}),
        (MAIRIE_KEY, {"code": 208, "reason_code": "JUSTIF_ABS", "comment": MAIRIE_SECRETS[0]}),
        (SUPPLIER_KEY, {"code": 209, "comment": MAIRIE_SECRETS[1]}),
        (MAIRIE_KEY, {"code": 221, "reason_code": "CODE_ROUTAGE_ERR", "comment": MAIRIE_SECRETS[2]}),
    ):
        assert post(client, key, status, body).status_code == 200
        pump.deliver_stream_once("publish_status_events")
    moved = post(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute",
                 {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-9",
                  "comment": REROUTE_COMMENT})  # fmt: skip
    assert moved.status_code == 200, moved.body
    pump.deliver_stream_once("publish_status_events")
    return invoice_id


def assert_no_mairie_secret(text: str) -> None:
    for secret in MAIRIE_SECRETS:
        assert secret not in text, secret


def test_the_new_recipient_reads_the_history_from_its_own_routing_on(client, rerouted):
    seen = history(client, CHR_KEY, rerouted)
    assert [(h["code"], h["actor"], h["comment"]) for h in seen] == [(203, "supplier", REROUTE_COMMENT)]
    assert_no_mairie_secret(json.dumps(seen))

    assert post(client, CHR_KEY, f"/v1/invoices/{rerouted}/status", {"code": 204}).status_code == 200
    assert [h["code"] for h in history(client, CHR_KEY, rerouted)] == [203, 204]


def test_the_supplier_still_reads_the_whole_history(client, rerouted):
    seen = history(client, SUPPLIER_KEY, rerouted)
    assert [h["code"] for h in seen] == [200, 203, 204, 208, 209, 221, 203]
    assert [h["comment"] for h in seen[3:6]] == list(MAIRIE_SECRETS)
    assert seen[5]["reason_code"] == "CODE_ROUTAGE_ERR" and seen[-1]["comment"] == REROUTE_COMMENT


def test_the_new_recipient_s_invoice_and_search_results_hold_nothing_of_the_former_recipient(client, rerouted):
    invoice = read(client, CHR_KEY, f"/v1/invoices/{rerouted}")
    assert invoice.status_code == 200
    resource = json.loads(invoice.body)
    assert resource["status"]["code"] == 203 and resource["recipient"]["siret"] == CHR_SIRET
    assert resource["recipient"]["service_code"] is None
    assert_no_mairie_secret(invoice.body.decode())
    page = read(client, CHR_KEY, "/v1/invoices?role=recipient&limit=100")
    assert rerouted in [i["id"] for i in json.loads(page.body)["items"]]
    assert_no_mairie_secret(page.body.decode())


def test_the_former_recipient_s_service_code_does_not_follow_the_invoice_to_another_structure(client, pump):
    """A field left out of a re-route keeps its value, but a service code is one of its structure's services: the
    CHR (which declares none, so takes any) was shown the Mairie's SERV-TECH as its own."""
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-6"))
    invoice_id = json.loads(created.body)["id"]
    drain_validation(pump)
    assert post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status", {"code": 221}).status_code == 200
    moved = post(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute",
                 {"recipient_siret": CHR_SIRET, "engagement_number": "EJ-9"})  # fmt: skip
    assert moved.status_code == 200, moved.body
    assert json.loads(moved.body)["recipient"] == {"siret": CHR_SIRET, "name": "Centre Hospitalier Régional Démo",
                                                   "service_code": None}  # fmt: skip
    resource = json.loads(read(client, CHR_KEY, f"/v1/invoices/{invoice_id}").body)
    assert resource["recipient"]["service_code"] is None and resource["engagement_number"] == "EJ-9"


def test_the_former_recipient_no_longer_reads_the_invoice(client, rerouted):
    for path in ("", "/history", "/file", "/transitions"):
        assert read(client, MAIRIE_KEY, f"/v1/invoices/{rerouted}{path}").status_code == 404, path
    page = json.loads(read(client, MAIRIE_KEY, "/v1/invoices?role=recipient&limit=100").body)
    assert rerouted not in [i["id"] for i in page["items"]]


def test_a_re_route_within_the_same_structure_keeps_its_history(client, pump):
    """The Mairie's own entries stay its own when the supplier only corrects the service or engagement."""
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-2"))
    invoice_id = json.loads(created.body)["id"]
    drain_validation(pump)
    assert post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status",
                {"code": 221, "comment": MAIRIE_SECRETS[2]}).status_code == 200  # fmt: skip
    assert post(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute",
                {"engagement_number": "EJ-77"}).status_code == 200  # fmt: skip
    assert [(h["code"], h["comment"]) for h in history(client, MAIRIE_KEY, invoice_id)][1:] == [
        (203, None), (221, MAIRIE_SECRETS[2]), (203, "Re-routed by the supplier")]  # fmt: skip


def test_status_events_go_to_the_recipient_of_the_moment(client, pump, events_queue):
    """The stream publishes each change with the recipient the invoice had then: the Mairie's 221 to the Mairie,
    the re-route and what follows to the CHR only (the Mairie is not told where its invoice went)."""
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-3"))
    invoice_id = json.loads(created.body)["id"]
    drain_validation(pump)
    assert post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status",
                {"code": 221, "comment": MAIRIE_SECRETS[2]}).status_code == 200  # fmt: skip
    pump.deliver_stream_once("publish_status_events")
    events_queue()
    assert (
        post(
            client,
            SUPPLIER_KEY,
            f"/v1/invoices/{invoice_id}/reroute",
            {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-9"},
        ).status_code
        == 200
    )
    pump.deliver_stream_once("publish_status_events")
    [event] = [json.loads(m["Message"]) for m in events_queue()]
    assert event["id"] == f"{invoice_id}-3" and event["data"]["recipient"]["siret"] == CHR_SIRET
    assert_no_mairie_secret(json.dumps(event))


def test_republished_events_go_to_the_recipient_the_invoice_had_when_they_happened(client, pump, events_queue):
    """Operations' replay (infra/replay_events.py) rebuilt every event of the window from the invoice as it is now:
    the Mairie's 208 and 221, with their comments, went out again naming the CHR as recipient, so to the CHR's
    webhooks and e-mails."""
    before = datetime.now(UTC) - timedelta(seconds=1)
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-4"))
    invoice_id = json.loads(created.body)["id"]
    drain_validation(pump)
    assert post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status",
                {"code": 221, "comment": MAIRIE_SECRETS[2]}).status_code == 200  # fmt: skip
    assert (
        post(
            client,
            SUPPLIER_KEY,
            f"/v1/invoices/{invoice_id}/reroute",
            {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-9"},
        ).status_code
        == 200
    )
    pump.deliver_stream_once("publish_status_events")
    first = {e["id"]: e for e in (json.loads(m["Message"]) for m in events_queue())}
    after = datetime.now(UTC) + timedelta(seconds=1)

    assert replay(before, after, invoices=DynamoInvoiceRepository(), publisher=dependencies.publisher()) == 4
    again = [(json.loads(m["Message"]), m["MessageAttributes"]) for m in events_queue()]
    recipients = {event["id"]: (event["data"]["recipient"]["siret"], attributes["recipient_siret"]["Value"])
                  for event, attributes in again}  # fmt: skip
    assert recipients == {f"{invoice_id}-{n}": (MAIRIE_SIRET, MAIRIE_SIRET) for n in (0, 1, 2)} | {
        f"{invoice_id}-3": (CHR_SIRET, CHR_SIRET)}  # fmt: skip
    assert {event["id"]: event["data"]["recipient"]["siret"] for event, _ in again} == {
        i: e["data"]["recipient"]["siret"] for i, e in first.items()}  # fmt: skip


def test_a_re_route_within_the_structure_a_re_route_sent_it_to_keeps_that_structure_s_history(client, rerouted):
    """Mairie → CHR → CHR: the CHR's own entries before its second routing stay its own (it read only the latest
    re-route on, as the record did not keep whom the first one sent the invoice to)."""
    chr_secret = "CHR: engagement EJ-9 inconnu"
    status = f"/v1/invoices/{rerouted}/status"
    assert post(client, CHR_KEY, status, {"code": 204}).status_code == 200
    assert post(client, CHR_KEY, status, {"code": 221, "comment": chr_secret}).status_code == 200
    again = post(client, SUPPLIER_KEY, f"/v1/invoices/{rerouted}/reroute", {"engagement_number": "EJ-10"})
    assert again.status_code == 200, again.body
    seen = history(client, CHR_KEY, rerouted)
    assert [(h["code"], h["comment"]) for h in seen] == [
        (203, REROUTE_COMMENT), (204, None), (221, chr_secret), (203, "Re-routed by the supplier")]  # fmt: skip
    assert_no_mairie_secret(json.dumps(seen))


def test_replayed_events_of_a_structure_re_routed_away_go_back_to_it(client, pump, events_queue):
    """Mairie → CHR → Lumière: what the CHR did in between went out to it, and a replay sent it to nobody but the
    supplier (recipient null) as the record did not keep that the first re-route sent the invoice to the CHR."""
    before = datetime.now(UTC) - timedelta(seconds=1)
    created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-7"))
    invoice_id = json.loads(created.body)["id"]
    drain_validation(pump)
    for key, path, body in (
        (MAIRIE_KEY, "status", {"code": 221, "comment": MAIRIE_SECRETS[2]}),
        (SUPPLIER_KEY, "reroute", {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-9"}),
        (CHR_KEY, "status", {"code": 221, "comment": "Pas notre marché"}),
        (SUPPLIER_KEY, "reroute", {"recipient_siret": SUPPLIER2_SIRET, "engagement_number": None}),
    ):
        assert post(client, key, f"/v1/invoices/{invoice_id}/{path}", body).status_code == 200, (path, body)
        pump.deliver_stream_once("publish_status_events")
    first = {e["id"]: e["data"]["recipient"]["siret"] for e in (json.loads(m["Message"]) for m in events_queue())}
    expected = {f"{invoice_id}-{n}": siret for n, siret in enumerate([MAIRIE_SIRET] * 3 + [CHR_SIRET] * 2
                                                                     + [SUPPLIER2_SIRET])}  # fmt: skip
    assert first == expected  # as the stream published them

    after = datetime.now(UTC) + timedelta(seconds=1)
    assert replay(before, after, invoices=DynamoInvoiceRepository(), publisher=dependencies.publisher()) == 6
    again = [(json.loads(m["Message"]), m["MessageAttributes"]) for m in events_queue()]
    assert {event["id"]: event["data"]["recipient"]["siret"] for event, _ in again} == expected
    assert {event["id"]: attributes["recipient_siret"]["Value"] for event, attributes in again} == expected


@pytest.fixture
def loopback_receivers(monkeypatch):
    """As on the local stack: webhooks may go to receivers on 127.0.0.1."""
    monkeypatch.setattr(dependencies, "url_policy", lambda: UrlPolicy(local_stack=True))
    dependencies.reset()
    yield
    dependencies.reset()


def subscribed(client, key: str, receiver: Receiver) -> None:
    created = post(client, key, "/v1/subscriptions", {"url": receiver.url})
    assert created.status_code == 201, created.body
    receiver.secret = json.loads(created.body)["secret"]


def deliver_webhooks(pump) -> None:
    pump.deliver_stream_once("publish_status_events")
    while pump.deliver_sqs_once("fan_out_events"):
        pass
    while pump.deliver_sqs_once("deliver_webhooks"):
        pass


def test_each_recipient_s_webhooks_get_only_its_own_part_even_when_operations_replay_the_window(
    client, pump, loopback_receivers
):
    with Receiver() as mairie_rx, Receiver() as chr_rx:
        subscribed(client, MAIRIE_KEY, mairie_rx)
        subscribed(client, CHR_KEY, chr_rx)
        before = datetime.now(UTC) - timedelta(seconds=1)
        created = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **XML), body=ubl_invoice("F-PRIV-5"))
        invoice_id = json.loads(created.body)["id"]
        drain_validation(pump)
        assert post(client, MAIRIE_KEY, f"/v1/invoices/{invoice_id}/status",
                    {"code": 221, "comment": MAIRIE_SECRETS[2]}).status_code == 200  # fmt: skip
        deliver_webhooks(pump)
        moved = post(client, SUPPLIER_KEY, f"/v1/invoices/{invoice_id}/reroute",
                     {"recipient_siret": CHR_SIRET, "service_code": None, "engagement_number": "EJ-9"})  # fmt: skip
        assert moved.status_code == 200, moved.body
        deliver_webhooks(pump)
        mine = {"mairie": [f"{invoice_id}-{n}" for n in (0, 1, 2)], "chr": [f"{invoice_id}-3"]}
        assert sorted(mairie_rx.events()) == mine["mairie"] and sorted(chr_rx.events()) == mine["chr"]

        after = datetime.now(UTC) + timedelta(seconds=1)
        assert replay(before, after, invoices=DynamoInvoiceRepository(), publisher=dependencies.publisher()) == 4
        deliver_webhooks(pump)
        assert [r.event["id"] for r in chr_rx.received] == mine["chr"] * 2  # its own event, again: nothing else
        assert sorted({r.event["id"] for r in mairie_rx.received}) == mine["mairie"]
        assert_no_mairie_secret(json.dumps([r.event for r in chr_rx.received]))
        assert mairie_rx.refused == chr_rx.refused == []

"""A structure with several services subscribes per service (review r43 F4), through the API and the real handlers on
moto: each service's webhook and e-mail get that service's invoices only."""

from __future__ import annotations

import json

import boto3
import pytest
from invoices import ubl_invoice
from test_webhook_delivery_moto import (  # noqa: F401 - local_policy: a fixture
    MAIRIE_KEY,
    PROBLEM,
    auth,
    confirmed_email,
    created,
    deposit,
    local_policy,
    run_pipeline,
    subscribe,
)
from webhook_support import Receiver, validate_event

from chalicelib.adapters.mail import OutboxMailer
from chalicelib.config import settings

pytestmark = pytest.mark.usefixtures("local_policy")


def test_each_service_gets_only_its_own_invoices(client, pump):
    with Receiver() as ecoles_rx, Receiver() as everything_rx:
        ecoles = created(client, MAIRIE_KEY, {"url": ecoles_rx.url, "filter": {"service_codes": ["SERV-ECOLES"]}})
        everything = created(client, MAIRIE_KEY, {"url": everything_rx.url})
        ecoles_rx.secret, everything_rx.secret = ecoles["secret"], everything["secret"]
        assert ecoles["filter"] == {"status_codes": None, "role": None, "service_codes": ["SERV-ECOLES"]}
        assert everything["filter"]["service_codes"] is None  # no filter: every service, as before
        tech_mail = confirmed_email(client, MAIRIE_KEY, pump, "tech@mairie.example.fr",
                                    {"service_codes": [" SERV-TECH "], "status_codes": [203]})  # fmt: skip
        assert tech_mail["filter"]["service_codes"] == ["SERV-TECH"]  # stripped, as a deposit reads BT-10

        to_tech = deposit(client, ubl_invoice("F-SVC-TECH", service_code="SERV-TECH"))
        to_ecoles = deposit(client, ubl_invoice("F-SVC-ECOLES", service_code="SERV-ECOLES", engagement="ENG-1"))
        run_pipeline(pump)

        assert sorted(ecoles_rx.events()) == [f"{to_ecoles}-0", f"{to_ecoles}-1"]
        for event in ecoles_rx.events().values():
            validate_event(event)
            assert event["data"]["recipient"]["service_code"] == "SERV-ECOLES"
        assert sorted(everything_rx.events()) == sorted(f"{i}-{n}" for i in (to_tech, to_ecoles) for n in (0, 1))
        mails = OutboxMailer.messages("tech@mairie.example.fr")[1:]  # after the confirmation mail
        assert [m["event_id"] for m in mails] == [f"{to_tech}-1"]

        # stored and read back (the fan-out reads it from the table): the listing shows it
        listed = json.loads(client.http.get("/v1/subscriptions", headers=auth(MAIRIE_KEY)).body)["subscriptions"]
        assert {s["id"]: s["filter"]["service_codes"] for s in listed} == {
            ecoles["id"]: ["SERV-ECOLES"], everything["id"]: None, tech_mail["id"]: ["SERV-TECH"]
        }  # fmt: skip


def test_status_events_on_the_topic_carry_the_service_code_attribute(client, pump):
    """For a topic subscriber's own SNS filter policy, as recipient_siret."""
    sqs = boto3.client("sqs", region_name=settings().region)
    queue_url = sqs.create_queue(QueueName="service-code-listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=settings().region).subscribe(
        TopicArn=settings().events_topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )  # fmt: skip
    invoice_id = deposit(client, ubl_invoice("F-SVC-ATTR", service_code="SERV-TECH"))
    run_pipeline(pump)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    attributes = {json.loads(m["Body"])["id"]: m["MessageAttributes"] for m in messages["Messages"]}
    assert sorted(attributes) == [f"{invoice_id}-0", f"{invoice_id}-1"]
    assert {a["recipient_service_code"]["StringValue"] for a in attributes.values()} == {"SERV-TECH"}


REFUSED = [
    {"service_codes": []},
    {"service_codes": "SERV-TECH"},
    {"service_codes": [""]},
    {"service_codes": [42]},
    {"service_codes": ["SERV-TECH"], "role": "supplier"},
]


def test_bad_service_filters_are_problems_and_create_nothing(client):
    for event_filter in REFUSED:
        response = subscribe(client, MAIRIE_KEY, {"url": "http://127.0.0.1:9/h", "filter": event_filter})
        assert response.status_code == 400 and response.headers["Content-Type"] == PROBLEM, event_filter
        assert "'filter.service_codes'" in json.loads(response.body)["detail"]
    flows_only = {"url": "http://127.0.0.1:9/h", "events": ["flow.completed"],
                  "filter": {"service_codes": ["SERV-TECH"]}}  # fmt: skip
    assert subscribe(client, MAIRIE_KEY, flows_only).status_code == 400
    assert json.loads(client.http.get("/v1/subscriptions", headers=auth(MAIRIE_KEY)).body)["subscriptions"] == []

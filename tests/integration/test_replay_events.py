"""Operations: re-publishing a window's status events after the stream publisher gave up (infra/replay_events.py)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo import SUPPLIER_KEY, auth
from invoices import ubl_invoice

from chalicelib.adapters.invoice_repository import DynamoInvoiceRepository
from chalicelib.entrypoints import dependencies

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
from replay_events import instant, links_base, replay, stage_environment  # noqa: E402


def deposit(client, number: str) -> str:
    response = client.http.post("/v1/invoices", headers=auth(SUPPLIER_KEY, **{"Content-Type": "application/xml"}),
                                body=ubl_invoice(number))  # fmt: skip
    assert response.status_code == 202, response.body
    return json.loads(response.body)["id"]


def test_the_window_s_status_changes_are_published_again_with_their_first_ids(client, pump, events_queue):
    before = datetime.now(UTC) - timedelta(seconds=1)
    ids = [deposit(client, f"F-REPLAY-{n}") for n in range(3)]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    pump.deliver_stream_once("publish_status_events")
    first = {json.loads(m["Message"])["id"] for m in events_queue()}
    assert first == {f"{i}-{n}" for i in ids for n in (0, 1)}  # 200 and 203 of each, once
    after = datetime.now(UTC) + timedelta(seconds=1)
    invoices, publisher = DynamoInvoiceRepository(), dependencies.publisher()

    assert replay(before, after, invoices=invoices, publisher=publisher, dry_run=True) == 6
    assert events_queue() == []  # a dry run publishes nothing
    assert replay(before, after, invoices=invoices, publisher=publisher) == 6
    again = events_queue()
    assert {json.loads(m["Message"])["id"] for m in again} == first  # same ids: receivers drop what they had
    assert {m["MessageAttributes"]["event_type"]["Value"] for m in again} == {"invoice.status_changed"}

    # Only the changes inside the window: none before the deposits, none after them.
    assert replay(before - timedelta(hours=1), before, invoices=invoices, publisher=publisher) == 0
    assert replay(after, after + timedelta(hours=1), invoices=invoices, publisher=publisher) == 0


def test_the_script_s_arguments_and_the_stage_s_names():
    assert instant("2026-11-26T10:00:00Z") == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert instant("2026-11-26T11:00:00+01:00") == datetime(2026, 11, 26, 10, tzinfo=UTC)
    for bad in ("yesterday", "2026-11-26T10:00:00"):
        try:
            instant(bad)
        except SystemExit as refused:
            assert "ISO 8601" in str(refused) or "time zone" in str(refused)
        else:
            raise AssertionError(f"{bad} accepted")
    assert stage_environment("prod", "eu-west-3", "123456789012") == {
        "AWS_REGION": "eu-west-3",
        "INVOICE_TABLE": "chorale-prod-invoices",
        "SUBSCRIPTION_TABLE": "chorale-prod-subscriptions",
        "EVENTS_TOPIC_ARN": "arn:aws:sns:eu-west-3:123456789012:chorale-prod-events",
    }


def test_replayed_events_link_as_the_stage_s_publisher_does(aws):
    import boto3

    lambda_client = boto3.client("lambda")
    assert links_base(lambda_client, "prod") is None  # no such function: the links stay paths
    role = boto3.client("iam").create_role(RoleName="publisher", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName="chorale-prod-PublishStatusEvents", Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": {"PUBLIC_BASE_URL": "https://abc123.execute-api.eu-west-3.amazonaws.com/api"}},
    )  # fmt: skip
    assert links_base(lambda_client, "prod") == "https://abc123.execute-api.eu-west-3.amazonaws.com/api"

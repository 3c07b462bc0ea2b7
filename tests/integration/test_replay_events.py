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
import replay_events  # noqa: E402
from replay_events import ReplayFailed, instant, links_base, replay, stage_environment  # noqa: E402


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


class FailingAt:
    """The stage's publisher, refusing its `n`th call and the `times - 1` after it with `error`."""

    def __init__(self, n, error, times=1):
        self.publisher, self.n, self.error, self.times = dependencies.publisher(), n, error, times
        self.calls, self.refused = 0, []

    def publish(self, events):
        self.calls += 1
        if self.n <= self.calls < self.n + self.times:
            self.refused.append(events[0].invoice.id)
            raise self.error
        self.publisher.publish(events)


def deposited(client, pump, count):
    ids = [deposit(client, f"F-REPLAY-FAIL-{n}") for n in range(count)]
    while pump.deliver_sqs_once("validate_invoices"):
        pass
    return ids


def test_a_replay_that_fails_says_how_far_it_got_and_exits_1(client, pump, events_queue, capsys, monkeypatch):
    deposited(client, pump, 6)  # 12 events: two publish calls of 10 and 2
    since = datetime.now(UTC) - timedelta(minutes=5)
    failing = FailingAt(2, RuntimeError("SNS refused 2 event(s): InvalidParameter"))
    stage_publisher = lambda: failing  # noqa: E731
    stage_publisher.cache_clear = lambda: None  # dependencies.reset() at teardown
    monkeypatch.setattr(dependencies, "publisher", stage_publisher)
    monkeypatch.setattr(replay_events, "stage_environment", lambda *_: {})  # moto's tables, not chorale-dev-*
    monkeypatch.setattr(replay_events, "PROGRESS_EVERY", 5)
    rc = replay_events.main(["--stage", "dev", "--since", since.isoformat(), "--until", "2099-01-01T00:00:00Z"])
    out = capsys.readouterr()
    assert rc == 1 and failing.calls == 2  # not throttling: not retried
    assert out.out.startswith("published 10 so far (invoice ")
    assert out.err.startswith(f"published 10; failed at invoice {failing.refused[0]} (SNS refused 2 event(s)")
    assert len(events_queue()) == 10  # what it says it published


def test_a_replay_retries_throttling_a_few_times(client, pump, events_queue):
    from botocore.exceptions import ClientError

    deposited(client, pump, 1)
    since, until = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(seconds=1)
    throttling = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PublishBatch")
    waits = []
    publisher = FailingAt(1, throttling, times=2)
    assert replay(since, until, invoices=DynamoInvoiceRepository(), publisher=publisher, sleep=waits.append) == 2
    assert waits == [0.5, 1.0] and publisher.calls == 3 and len(events_queue()) == 2

    waits.clear()
    publisher = FailingAt(1, RuntimeError("SNS refused 2 event(s): [{'Code': 'Throttling'}]"), times=99)
    try:
        replay(since, until, invoices=DynamoInvoiceRepository(), publisher=publisher, sleep=waits.append)
    except ReplayFailed as failure:
        assert failure.published == 0 and "Throttling" in str(failure)
    else:
        raise AssertionError("a throttling that lasts went unreported")
    assert waits == [0.5, 1.0, 2.0, 4.0] and publisher.calls == 5 and events_queue() == []

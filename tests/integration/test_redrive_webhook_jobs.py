"""`make redrive FROM=<given-up queue>` of the webhook deliveries given up while the delivery consumer (Lambda) runs:
a job whose receiver is still down comes back to the given-up queue and is not moved again, and a redriven job gets
a new retry window."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from test_webhook_delivery_moto import SUPPLIER_KEY, auth, created, local_policy  # noqa: F401
from webhook_support import Receiver

from chalicelib.config import settings
from chalicelib.domain.subscriptions import RetrySchedule
from chalicelib.entrypoints import dependencies

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
import redrive as tool  # noqa: E402


@pytest.fixture
def skewed_clock(monkeypatch, local_policy):  # noqa: F811
    """Deliveries give up after 60 s; the consumer's clock can be moved forward."""
    monkeypatch.setattr(dependencies, "retry_schedule", lambda: RetrySchedule(0, 0, max_age_seconds=60))
    real_context, skew = dependencies.delivery_context, {"seconds": 0.0}
    monkeypatch.setattr(
        dependencies, "delivery_context", lambda: replace(real_context(), clock=lambda: time.time() + skew["seconds"])
    )
    return skew


def dead_lettered_jobs(client, pump, skew, receiver, n: int) -> str:
    """n delivery jobs past their retry age, in the given-up queue (the subscription's test event, n times)."""
    subscription = created(client, SUPPLIER_KEY, {"url": receiver.url})
    for _ in range(n):
        client.http.post(f"/v1/subscriptions/{subscription['id']}/test", headers=auth(SUPPLIER_KEY))
    skew["seconds"] = 120.0
    while pump.deliver_sqs_once("deliver_webhooks"):  # first attempts, past 60 s: given up
        pass
    skew["seconds"] = 0.0
    return subscription["id"]


def consumer_runs_after_each_send(sqs, pump, monkeypatch) -> list[int]:
    real, sends = sqs.send_message_batch, []

    def send_then_consume(**kw):
        answer = real(**kw)
        sends.append(len(kw["Entries"]))
        if len(sends) > 20:
            raise RuntimeError("the redrive is still looping after 20 sends")
        pump.deliver_sqs_once("deliver_webhooks")
        return answer

    monkeypatch.setattr(sqs, "send_message_batch", send_then_consume)
    return sends


def given_up_counts(sqs, aws) -> tuple[int, int]:
    url = aws.queue_urls[settings().webhook_given_up_queue]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.mark.parametrize("limit", [None, 5])
def test_a_job_dead_lettered_again_during_the_run_is_not_moved_twice(client, pump, aws, skewed_clock, monkeypatch,
                                                                     limit):  # fmt: skip
    sqs = boto3.client("sqs")
    with Receiver(mode="fail") as receiver:
        dead_lettered_jobs(client, pump, skewed_clock, receiver, 2)
        assert given_up_counts(sqs, aws) == (2, 0)
        skewed_clock["seconds"] = 120.0  # even a new retry window is over: each attempt dead-letters it at once
        sends = consumer_runs_after_each_send(sqs, pump, monkeypatch)
        posts = receiver.attempts

        given_up = settings().webhook_given_up_queue
        assert tool.redrive(sqs, settings().webhook_delivery_queue, limit=limit, source=given_up) == 2
        assert sum(sends) == 2 and receiver.attempts - posts == 2  # one attempt each, not one a loop
        assert given_up_counts(sqs, aws) == (2, 0)  # back where they were, visible for the next run


def test_a_job_that_comes_back_is_reported_and_left_visible(client, pump, aws, skewed_clock, monkeypatch, capsys):
    sqs = boto3.client("sqs")
    name, given_up = settings().webhook_delivery_queue, settings().webhook_given_up_queue
    dlq = aws.queue_urls[given_up]
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"VisibilityTimeout": "30"})  # as deployed
    with Receiver(mode="fail") as receiver:
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"being": "read in the console"}))
        sqs.receive_message(QueueUrl=dlq)  # hidden for 30 s, counted by the run
        dead_lettered_jobs(client, pump, skewed_clock, receiver, 1)
        assert given_up_counts(sqs, aws) == (1, 1)
        skewed_clock["seconds"] = 120.0
        sends = consumer_runs_after_each_send(sqs, pump, monkeypatch)
        real_client = boto3.client
        monkeypatch.setattr(
            boto3, "client", lambda service, **kw: sqs if service == "sqs" else real_client(service, **kw)
        )

        assert tool.main([name, "--from", given_up]) == 0
        assert len(sends) == 1
    out = capsys.readouterr().out
    assert f"moved back to {name}: 1" in out
    assert f"1 moved in this run came back to {given_up} at once: is the cause fixed?" in out
    assert f"left in {given_up}: 1 visible, 1 in flight" in out


def test_a_redriven_job_gets_a_new_retry_window(client, pump, aws, skewed_clock, monkeypatch):
    sqs = boto3.client("sqs")
    with Receiver(mode="fail") as receiver:
        subscription = dead_lettered_jobs(client, pump, skewed_clock, receiver, 1)
        before = time.time()
        assert tool.redrive(sqs, settings().webhook_delivery_queue, source=settings().webhook_given_up_queue) == 1

        [message] = sqs.receive_message(QueueUrl=aws.queue_urls[settings().webhook_delivery_queue])["Messages"]
        job = json.loads(message["Body"])
        assert job["first_attempt_at"] >= before and job["attempt"] == 2 and "reason" not in job
        sqs.change_message_visibility(
            QueueUrl=aws.queue_urls[settings().webhook_delivery_queue],
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=0,
        )
        pump.deliver_sqs_once("deliver_webhooks")  # still down once more: retried, not dead-lettered again
        assert given_up_counts(sqs, aws) == (0, 0)
        receiver.mode = "ok"
        while pump.deliver_sqs_once("deliver_webhooks"):
            pass
    assert len(receiver.received) == 1
    log = json.loads(client.http.get(f"/v1/subscriptions/{subscription}/deliveries", headers=auth(SUPPLIER_KEY)).body)
    assert [(d["attempt"], d["outcome"]) for d in log["deliveries"]] == [
        (3, "delivered"),
        (2, "retrying"),
        (1, "failed"),
    ]

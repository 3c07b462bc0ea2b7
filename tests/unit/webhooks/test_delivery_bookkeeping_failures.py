"""A delivery attempt whose bookkeeping fails after its effect (review r16 F7): the POST, the next attempt's job
and the dead letter are not idempotent, so a write after them that fails must not fail the message (SQS would
deliver it again: a second POST, a second retry chain, a second dead letter)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from test_webhook_delivery import SUPPLIER, context, status_event
from webhook_support import FakeLog, FakeQueue, FakeSender, FakeStore

from chalicelib.domain.subscriptions import Subscription
from chalicelib.services.subscriptions_ports import DeliveryJob, HttpResult
from chalicelib.services.webhooks import deliver

SUBSCRIPTION_ID = "01JDZ8Q6XW0000000000000000"
NOW = 1_000_000.0


def throttled(*_args):
    raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "PutItem")


class UnwritableLog(FakeLog):
    def record(self, attempt):
        throttled()


def store_with(state="active") -> FakeStore:
    store = FakeStore()
    store.add(Subscription(id=SUBSCRIPTION_ID, siret=SUPPLIER, created_at="2026-11-27T00:00:00Z",
                           url="https://hooks.example.com/h", secret="s" * 43, state=state,
                           failing_since="2026-11-26T00:00:00Z" if state == "failing" else None))  # fmt: skip
    return store


@pytest.mark.parametrize(
    ("answer", "first_attempt_at", "outcome"),
    [(204, NOW, "delivered"), (503, NOW, "retrying"), (503, NOW - 86400, "failed")],
)
def test_an_attempt_whose_log_write_fails_is_done_once(answer, first_attempt_at, outcome):
    store, queue, sender = store_with(), FakeQueue(), FakeSender([HttpResult(answer, 10.0)])
    job = DeliveryJob(SUBSCRIPTION_ID, SUPPLIER, status_event(), 1, first_attempt_at)

    attempt = deliver(job, context(store, sender, queue=queue, log=UnwritableLog(), now=NOW))

    assert attempt.outcome == outcome  # the message is acknowledged: SQS does not deliver it again
    assert len(sender.calls) == 1
    assert len(queue.queued) == (1 if outcome == "retrying" else 0)
    assert len(queue.dead) == (1 if outcome == "failed" else 0)


def test_a_delivery_that_cannot_clear_the_failing_state_is_not_posted_again():
    store, sender = store_with("failing"), FakeSender([HttpResult(204, 10.0)])
    store.mark_active = throttled
    job = DeliveryJob(SUBSCRIPTION_ID, SUPPLIER, status_event(), 1, NOW)

    attempt = deliver(job, context(store, sender, now=NOW))

    assert attempt.outcome == "delivered"
    assert len(sender.calls) == 1


def test_a_give_up_that_cannot_mark_the_subscription_failing_is_dead_lettered_once():
    store, queue, sender = store_with(), FakeQueue(), FakeSender([HttpResult(503, 10.0)])
    mark_failing = store.mark_failing
    store.mark_failing = throttled
    job = DeliveryJob(SUBSCRIPTION_ID, SUPPLIER, status_event(), 1, NOW - 86400)
    ctx = context(store, sender, queue=queue, now=NOW)

    with pytest.raises(ClientError):
        deliver(job, ctx)  # the message fails and comes back
    store.mark_failing = mark_failing
    deliver(job, ctx)

    assert len(queue.dead) == 1
    assert store.get(SUPPLIER, SUBSCRIPTION_ID).state == "failing"

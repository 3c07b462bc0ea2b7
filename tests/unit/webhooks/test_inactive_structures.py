"""A deactivated structure gets no notification (review r20): its keys may have been stolen and its subscriptions
set up by the thief, and nobody can delete them with its revoked keys. The fan-out reads the subscribers of a
batch in one batched read and drops the jobs of inactive ones; the subscriptions stay as they are, so a
reactivated structure gets the events from then on. Its e-mail confirmation link confirms nothing meanwhile."""

from __future__ import annotations

import logging

import pytest
from test_webhook_delivery import CONFIRMATIONS, RECIPIENT, SUPPLIER, status_event, subscribe
from webhook_support import FakeQueue, FakeStore, FakeStructures

from chalicelib.services import subscriptions as service
from chalicelib.services.errors import Conflict
from chalicelib.services.webhooks import BatchSubscriptions, fan_out_batch


@pytest.fixture
def store():
    return FakeStore()


def test_the_jobs_of_an_inactive_structure_are_dropped_and_logged_its_subscription_untouched(store, caplog):
    caplog.set_level("WARNING", logger="chalicelib.services.webhooks")
    mine = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    theirs = subscribe(store, RECIPIENT, {"url": "https://hooks.example.com/"})
    directory, queue = FakeStructures(inactive={SUPPLIER}), FakeQueue()
    events = {f"m{code}": status_event(code, sequence=code) for code in (203, 207, 212)}

    jobs_of, failed = fan_out_batch(events, store=BatchSubscriptions(store), queue=queue, directory=directory)

    assert failed == [] and {k: [j.subscription_id for j in jobs] for k, jobs in jobs_of.items()} == {
        k: [theirs.id] for k in events
    }
    assert [job.subscription_id for job, _ in queue.queued] == [theirs.id] * 3
    assert directory.batches == [sorted([SUPPLIER, RECIPIENT])]  # one read for the whole batch
    assert store.get(SUPPLIER, mine.id) == mine  # not failing, nothing changed: reactivation resumes it
    skipped = [r.getMessage() for r in caplog.records if "inactive" in r.getMessage()]
    assert len(skipped) == 3 and all(SUPPLIER in m and mine.id in m for m in skipped)

    directory.inactive.clear()  # reactivated: the next events reach it again
    jobs_of, failed = fan_out_batch({"m": status_event(214, sequence=9)}, store=store, queue=FakeQueue(),
                                    directory=directory)  # fmt: skip
    assert failed == [] and sorted(j.subscription_id for j in jobs_of["m"]) == sorted([mine.id, theirs.id])


def test_a_structure_no_longer_in_the_directory_gets_nothing(store):
    subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})

    class Missing(FakeStructures):
        def structures(self, sirets, *, consistent=True):
            return {}

    jobs_of, failed = fan_out_batch({"m": status_event()}, store=store, queue=FakeQueue(), directory=Missing())
    assert failed == [] and jobs_of == {"m": []}


def test_the_directory_is_read_only_for_events_with_subscribers(store):
    directory = FakeStructures()
    jobs_of, failed = fan_out_batch({"m": status_event()}, store=store, queue=FakeQueue(), directory=directory)
    assert (jobs_of, failed, directory.batches) == ({"m": []}, [], [])


def test_a_failed_read_of_the_subscribers_retries_their_events_and_queues_nothing(store, caplog):
    subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    nobody = status_event(203) | {"data": {"supplier": {"siret": "13000123400017"}}}

    class Down(FakeStructures):
        def structures(self, sirets, *, consistent=True):
            raise RuntimeError("DynamoDB throttled")

    queue = FakeQueue()
    with caplog.at_level(logging.ERROR, logger="chalicelib.services.webhooks"):
        jobs_of, failed = fan_out_batch({"ok": status_event(203), "none": nobody}, store=store, queue=queue,
                                        directory=Down())  # fmt: skip
    assert failed == ["ok"] and jobs_of == {"none": []} and queue.queued == []
    assert any("subscriber" in r.getMessage() for r in caplog.records)


def test_an_inactive_structure_s_email_subscription_cannot_be_confirmed(store):
    queue = FakeQueue()
    subscription = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue)
    [(job, _)] = queue.queued
    token = job.event["data"]["confirmation_url"].removeprefix(CONFIRMATIONS)
    directory = FakeStructures(inactive={RECIPIENT})

    with pytest.raises(Conflict, match=f"structure {RECIPIENT} is not active"):
        service.confirm_subscription(token, store=store, directory=directory, clock=lambda: 1_000_001.0)
    assert store.get(RECIPIENT, subscription.id).pending

    directory.inactive.clear()  # reactivated before the link expires: it confirms
    confirmed = service.confirm_subscription(token, store=store, directory=directory, clock=lambda: 1_000_002.0)
    assert confirmed.state == "active" and store.get(RECIPIENT, subscription.id).state == "active"

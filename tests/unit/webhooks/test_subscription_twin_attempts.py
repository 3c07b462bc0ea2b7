"""Two attempts with one Idempotency-Key running at once (a client that timed out and retried while its first
request was still running): the second answers what the first created, never a 429 nor a second claim."""

from __future__ import annotations

import pytest
from webhook_support import FakeQueue, FakeStore, static_resolver

from chalicelib.domain.directory import Principal
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.services import subscriptions as service
from chalicelib.services.errors import IdempotencyKeyReused

SIRET = "81234567800013"
MAIL = {"email": "compta@mairie.example.fr"}


class FirstAttemptRunning(FakeStore):
    """After `twin_starts()`, the next look finds nothing: the twin looked before the first attempt wrote."""

    looked_early = False

    def twin_starts(self):
        self.looked_early = True

    def get(self, siret, subscription_id):
        if self.looked_early:
            self.looked_early = False
            return None
        return super().get(siret, subscription_id)


def subscribe(store, body, queue, key="sub-1", now=1_000_000.0):
    return service.create_subscription(
        Principal(SIRET, "Atelier", ("supplier",)),
        body,
        store=store,
        resolver=static_resolver({"hooks.example.com": ["93.184.216.34"]}),
        policy=UrlPolicy(),
        queue=queue,
        confirmation_url=lambda token: token,
        idempotency_key=key,
        clock=lambda: now,
        make_confirmation_secret=lambda: "c" * 43,
    )


def test_a_twin_refused_the_mail_answers_the_subscription_the_first_attempt_created():
    store, queue = FirstAttemptRunning(), FakeQueue()
    first = subscribe(store, MAIL, queue)
    store.twin_starts()  # it claims the mail after the first attempt did

    twin = subscribe(store, MAIL, queue, now=1_000_001.0)

    assert twin == first
    assert len(queue.queued) == 1  # one confirmation mail


def test_a_twin_whose_write_finds_the_id_taken_gives_its_claim_back():
    """Another body under the same key, at once: the claim of the refused attempt (another address) is released."""
    store, queue = FirstAttemptRunning(), FakeQueue()
    subscribe(store, MAIL, queue)
    store.twin_starts()

    with pytest.raises(IdempotencyKeyReused):
        subscribe(store, {"email": "autre@mairie.example.fr"}, queue, now=1_000_001.0)

    assert len(queue.queued) == 1
    assert ("autre@mairie.example.fr", SIRET) not in store.mails  # this structure may still have it mailed
    assert store.mail_counts[("autre@mairie.example.fr", 1_000_001 // 86400)] == 0


def test_a_webhook_twin_answers_the_first_attempts_subscription_and_secret():
    store = FirstAttemptRunning()
    first = subscribe(store, {"url": "https://hooks.example.com/h"}, FakeQueue())
    store.twin_starts()

    twin = subscribe(store, {"url": "https://hooks.example.com/h"}, FakeQueue())

    assert twin == first and twin.secret == first.secret
    assert len(store.items) == 1

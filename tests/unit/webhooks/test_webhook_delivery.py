"""Fan-out and delivery use cases on in-memory fakes: signing, retries, DLQ + failing, e-mail, SSRF at delivery."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace

import pytest
from webhook_support import (
    FakeLog,
    FakeMailer,
    FakeQueue,
    FakeSender,
    FakeStore,
    FakeStructures,
    static_resolver,
    validate_event,
)

from chalicelib.domain.directory import Principal
from chalicelib.domain.subscriptions import RetrySchedule
from chalicelib.domain.subscriptions_security import UrlPolicy, verify_signature
from chalicelib.services import subscriptions as service
from chalicelib.services.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unprocessable
from chalicelib.services.subscriptions_ports import DeliveryJob, HttpResult
from chalicelib.services.webhooks import DeliveryContext, deliver, fan_out_batch, mail_for

SUPPLIER, RECIPIENT, OTHER = "81234567800013", "21750000100011", "13000123400017"
RESOLVE = static_resolver({"hooks.example.com": ["93.184.216.34"], "evil.example.com": ["169.254.169.254"]})
INVOICE_ID = "01JD0000000000000000000000"


def principal(siret):
    return Principal(siret, "x", ("supplier", "recipient"))


def status_event(code=203, sequence=1):
    return {
        "specversion": "1.0",
        "id": f"{INVOICE_ID}-{sequence}",
        "source": "urn:chorale:invoices",
        "type": "invoice.status_changed",
        "time": "2026-11-26T10:00:00.000Z",
        "subject": INVOICE_ID,
        "datacontenttype": "application/json",
        "data": {
            "invoice_id": INVOICE_ID,
            "number": "F-1",
            "supplier": {"siret": SUPPLIER, "name": "Atelier"},
            "recipient": {"siret": RECIPIENT, "name": "Mairie"},
            "status": {"code": code, "name": "MISE_A_DISPOSITION", "label": "Mise à disposition", "chorus_pro": "X"},
            "previous_status": {"code": 200, "name": "DEPOSEE", "label": "Déposée", "chorus_pro": "DEPOSEE"},
            "reason_code": None,
            "comment": None,
            "actor": "platform",
            "links": {"invoice": f"https://api.example.org/v1/invoices/{INVOICE_ID}"},
        },
    }


@pytest.fixture
def store():
    return FakeStore()


CONFIRM_SECRET = "c" * 43
CONFIRMATIONS = "https://api.example.com/prod/v1/subscription-confirmations/"


def subscribe(store, siret, body, queue=None, clock=lambda: 1_000_000.0):
    return service.create_subscription(
        principal(siret),
        body,
        store=store,
        resolver=RESOLVE,
        policy=UrlPolicy(),
        queue=queue if queue is not None else FakeQueue(),
        confirmation_url=lambda token: CONFIRMATIONS + token,
        clock=clock,
        make_secret=lambda: "whsec_test",
        make_confirmation_secret=lambda: CONFIRM_SECRET,
    )


def confirmed_email(store, siret, body):
    """An e-mail subscription whose address has opened its confirmation link."""
    queue = FakeQueue()
    subscription = subscribe(store, siret, body, queue)
    [(job, _)] = queue.queued
    token = job.event["data"]["confirmation_url"].removeprefix(CONFIRMATIONS)
    service.confirm_subscription(token, store=store, directory=FakeStructures(), clock=lambda: 1_000_001.0)
    return store.get(siret, subscription.id)


def fan_out_one(event, *, store, queue, clock=time.time):
    """One event through fan_out_batch: the jobs it queued."""
    jobs_of, failed = fan_out_batch({"message": event}, store=store, queue=queue, directory=FakeStructures(),
                                    clock=clock)  # fmt: skip
    assert failed == []
    return jobs_of["message"]


def context(store, sender, queue=None, log=None, mailer=None, now=1_000_000.0, schedule=None):
    return DeliveryContext(
        store=store,
        log=log or FakeLog(),
        queue=queue or FakeQueue(),
        sender=sender,
        mailer=mailer or FakeMailer(),
        resolver=RESOLVE,
        policy=UrlPolicy(),
        schedule=schedule or RetrySchedule(1, 10, 60),
        clock=lambda: now,
        now=lambda: "2026-11-26T10:00:00.000Z",
        rand=lambda: 0.0,
    )


def test_create_refuses_unsafe_urls_and_bad_bodies(store, caplog):
    caplog.set_level("INFO", logger="chalicelib.services.subscriptions")
    with pytest.raises(Unprocessable, match="evil.example.com does not resolve to a public address") as refused:
        subscribe(store, SUPPLIER, {"url": "https://evil.example.com/"})
    assert "169.254" not in refused.value.detail and "link-local" not in refused.value.detail
    assert any("169.254.169.254" in r.getMessage() and "link-local" in r.getMessage() for r in caplog.records)
    with pytest.raises(InvalidInput):
        subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/", "email": "a@b.fr"})
    with pytest.raises(InvalidInput):
        subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/", "events": ["invoice.deleted"]})
    assert store.items == {}


def test_fan_out_queues_one_job_per_matching_subscription_of_the_parties_only(store):
    mine = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    theirs = subscribe(store, RECIPIENT, {"url": "https://hooks.example.com/", "filter": {"status_codes": [212]}})
    subscribe(store, OTHER, {"url": "https://hooks.example.com/"})
    queue = FakeQueue()
    jobs = fan_out_one(status_event(203), store=store, queue=queue, clock=lambda: 5.0)
    assert [(j.subscription_id, j.attempt, j.first_attempt_at) for j in jobs] == [(mine.id, 1, 5.0)]
    assert [j for j, _ in queue.queued] == jobs
    assert {j.subscription_id for j in fan_out_one(status_event(212), store=store, queue=queue)} == {mine.id, theirs.id}


def test_a_fan_out_batch_reads_each_party_s_subscriptions_once(store):
    from chalicelib.services.webhooks import BatchSubscriptions

    mine = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    reads = []
    original = store.for_structure
    store.for_structure = lambda siret: reads.append(siret) or original(siret)
    batch, queue = BatchSubscriptions(store), FakeQueue()
    jobs = [job for code in (200, 203, 212) for job in fan_out_one(status_event(code), store=batch, queue=queue)]
    assert [j.subscription_id for j in jobs] == [mine.id] * 3
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 2  # the supplier's and the recipient's, once


def test_a_fan_out_batch_queues_the_jobs_of_all_its_events_together(store):
    from chalicelib.services.webhooks import BatchSubscriptions

    mine = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    theirs = subscribe(store, RECIPIENT, {"url": "https://hooks.example.com/"})
    calls = []

    class CountingQueue(FakeQueue):
        def enqueue(self, jobs, delay_seconds=0.0):
            calls.append(len(jobs))
            super().enqueue(jobs, delay_seconds)

    queue = CountingQueue()
    events = {f"m{code}": status_event(code) for code in (200, 203, 212)}
    jobs_of, failed = fan_out_batch(events, store=BatchSubscriptions(store), queue=queue, directory=FakeStructures(),
                                    clock=lambda: 7.0)  # fmt: skip
    assert failed == [] and calls == [6]  # one call for the batch (the adapter sends ten per SQS request)
    assert {k: sorted(j.subscription_id for j in jobs) for k, jobs in jobs_of.items()} == {
        k: sorted([mine.id, theirs.id]) for k in events
    }
    assert all(job.first_attempt_at == 7.0 for job, _ in queue.queued)


def test_a_fan_out_batch_retries_only_the_events_that_failed(store):

    subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    nobody = status_event(203) | {"data": {"supplier": {"siret": OTHER}}}  # a party without subscription
    unreadable = {"type": "invoice.status_changed", "data": "not an object"}
    jobs_of, failed = fan_out_batch({"ok": status_event(203), "none": nobody, "bad": unreadable}, store=store,
                                    queue=FakeQueue(), directory=FakeStructures())  # fmt: skip
    assert failed == ["bad"] and len(jobs_of["ok"]) == 1 and jobs_of["none"] == []

    class Down(FakeQueue):
        def enqueue(self, jobs, delay_seconds=0.0):
            raise RuntimeError("SQS unavailable")

    jobs_of, failed = fan_out_batch({"ok": status_event(203), "none": nobody}, store=store, queue=Down(),
                                    directory=FakeStructures())  # fmt: skip
    assert failed == ["ok"] and jobs_of == {"none": []}  # an event with nothing to queue is done


def test_a_delivery_is_signed_with_the_subscription_secret_and_sent_to_the_checked_address(store):
    subscription = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/in?x=1"})
    sender = FakeSender([HttpResult(204, 12.0)])
    log = FakeLog()
    event = status_event()
    attempt = deliver(DeliveryJob(subscription.id, SUPPLIER, event, 1, 999_999.0), context(store, sender, log=log))
    assert attempt.outcome == "delivered" and log.attempts == [attempt]
    target, address, headers, body, timeout = sender.calls[0]
    assert (target.host, target.path, address, timeout) == ("hooks.example.com", "/in?x=1", "93.184.216.34", 5.0)
    assert json.loads(body) == event
    validate_event(json.loads(body))
    assert verify_signature("whsec_test", headers["Chorale-Signature"], body, now=1_000_000.0) == 1_000_000
    assert headers["Chorale-Event-Id"] == event["id"] and headers["Content-Type"].startswith("application/cloudevents")


def test_failures_are_retried_with_the_same_event_then_dead_lettered_and_the_subscription_marked_failing(store):
    subscription = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    sender = FakeSender([HttpResult(500, 3.0, "HTTP 500")])
    queue = FakeQueue()
    job = DeliveryJob(subscription.id, SUPPLIER, status_event(), 1, 1_000_000.0)
    attempt = deliver(job, context(store, sender, queue))
    assert attempt.outcome == "retrying" and attempt.next_attempt_in == 1
    [(retry, delay)] = queue.queued
    assert (retry.attempt, retry.event, delay) == (2, job.event, 1)

    # 70 s later the next retry would pass the 60 s max age: DLQ, failing, visible on the subscription
    late = deliver(retry, context(store, sender, queue, now=1_000_070.0))
    assert late.outcome == "failed" and [j for j, _ in queue.dead] == [retry]
    failing = store.get(SUPPLIER, subscription.id)
    assert failing.state == "failing" and "HTTP 500" in failing.last_error

    # a later success clears the failing state
    deliver(job, context(store, FakeSender([HttpResult(200, 1.0)])))
    assert store.get(SUPPLIER, subscription.id).state == "active"


def test_a_url_that_now_resolves_to_a_refused_address_is_not_called(store):
    subscription = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    sender = FakeSender([HttpResult(204, 1.0)])
    # DNS rebinding: the name was public at subscription time, it now points inside
    rebound = replace(context(store, sender), resolver=static_resolver({"hooks.example.com": ["10.0.0.8"]}))
    attempt = deliver(DeliveryJob(subscription.id, SUPPLIER, status_event(), 1, 1_000_000.0), rebound)
    assert attempt.outcome == "retrying" and "refused" in attempt.error and sender.calls == []
    # the subscriber reads the error (deliveries, last_error): not what its name resolves to inside
    assert "10.0.0.8" not in attempt.error and "private" not in attempt.error and "public address" in attempt.error
    assert "10.0.0.8" not in (store.get(SUPPLIER, subscription.id).last_error or "")


def test_deleted_subscriptions_drop_their_jobs_and_long_delays_are_served_in_steps(store):
    queue = FakeQueue()
    gone = DeliveryJob("01JD0000000000000000000001", SUPPLIER, status_event())
    assert deliver(gone, context(store, None, queue)) is None
    subscription = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    early = DeliveryJob(subscription.id, SUPPLIER, status_event(), 9, 1.0, not_before=1_002_000.0)
    assert deliver(early, context(store, None, queue)) is None
    assert queue.queued == [(early, 2000.0)]


def test_email_subscriptions_get_a_short_message_per_status_change(store):
    subscription = confirmed_email(store, RECIPIENT, {"email": "compta@mairie.fr", "filter": {"role": "recipient"}})
    mailer = FakeMailer()
    jobs = fan_out_one(status_event(), store=store, queue=FakeQueue())
    attempt = deliver(jobs[0], context(store, None, mailer=mailer))
    assert attempt.outcome == "delivered" and subscription.secret is None
    [message] = mailer.sent
    assert message.to == "compta@mairie.fr" and message.subject == "[Chorale] Facture F-1 : Mise à disposition"
    assert "Nouveau statut : 203" in message.text and len(message.text) < 500
    assert f"Détail : GET https://api.example.org/v1/invoices/{INVOICE_ID}\n" in message.text
    assert mail_for(status_event())[0] == message.subject


def test_tenants_cannot_see_or_touch_each_others_subscriptions(store):
    subscription = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"})
    for action in (
        lambda: service.own_subscription(principal(OTHER), subscription.id, store=store),
        lambda: service.delete_subscription(principal(OTHER), subscription.id, store=store),
        lambda: service.rotate_secret(principal(OTHER), subscription.id, store=store),
        lambda: service.recent_deliveries(principal(OTHER), subscription.id, store=store, log=FakeLog()),
    ):
        with pytest.raises(NotFound):
            action()
    assert service.list_subscriptions(principal(OTHER), store=store) == []
    assert service.list_subscriptions(principal(SUPPLIER), store=store) == [subscription]


# --- e-mail double opt-in -----------------------------------------------------------------------


def test_an_email_address_gets_only_its_confirmation_mail_until_it_confirms(store):
    queue, mailer = FakeQueue(), FakeMailer()
    subscription = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue)
    assert subscription.state == "pending_confirmation" and subscription.pending
    assert store.get(RECIPIENT, subscription.id).confirmation_hash != CONFIRM_SECRET  # only a hash is kept
    [(confirmation, _)] = queue.queued
    link = confirmation.event["data"]["confirmation_url"]
    assert link == f"{CONFIRMATIONS}{RECIPIENT}.{subscription.id}.{CONFIRM_SECRET}"

    assert fan_out_one(status_event(), store=store, queue=FakeQueue()) == []  # no invoice event before confirmation
    stray = DeliveryJob(subscription.id, RECIPIENT, status_event())
    assert deliver(stray, context(store, None, mailer=mailer)) is None and mailer.sent == []
    with pytest.raises(Conflict):
        service.send_test_event(principal(RECIPIENT), subscription.id, store=store, queue=queue)

    attempt = deliver(confirmation, context(store, None, mailer=mailer))
    assert attempt.outcome == "delivered" and store.get(RECIPIENT, subscription.id).pending  # sent, not confirmed
    [mail] = mailer.sent
    assert mail.to == "compta@mairie.fr" and link in mail.text and "ignorez ce message" in mail.text

    token = link.removeprefix(CONFIRMATIONS)
    confirmed = service.confirm_subscription(token, store=store, directory=FakeStructures(), clock=lambda: 1_000_100.0)
    assert confirmed.state == "active" and store.get(RECIPIENT, subscription.id).state == "active"
    assert (
        service.confirm_subscription(token, store=store, directory=FakeStructures(), clock=lambda: 1_000_200.0).state
        == "active"
    )  # again
    [job] = fan_out_one(status_event(), store=store, queue=FakeQueue())
    assert deliver(job, context(store, None, mailer=mailer)).outcome == "delivered" and len(mailer.sent) == 2


def test_confirmation_links_that_are_wrong_or_expired_confirm_nothing(store):
    queue = FakeQueue()
    subscription = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue)
    good = f"{RECIPIENT}.{subscription.id}.{CONFIRM_SECRET}"
    expired = 1_000_000.0 + 7 * 24 * 3600
    for token, at in (
        (f"{RECIPIENT}.{subscription.id}.{'d' * 43}", 1_000_001.0),  # another secret
        (f"{SUPPLIER}.{subscription.id}.{CONFIRM_SECRET}", 1_000_001.0),  # another structure's key
        (f"{RECIPIENT}.01JD0000000000000000000009.{CONFIRM_SECRET}", 1_000_001.0),  # no such subscription
        (f"{RECIPIENT}.{subscription.id}", 1_000_001.0),
        ("../../etc/passwd", 1_000_001.0),
        ("x" * 5000, 1_000_001.0),
        (good, expired),
    ):
        with pytest.raises(NotFound):
            service.confirm_subscription(token, store=store, directory=FakeStructures(), clock=lambda at=at: at)
    assert store.get(RECIPIENT, subscription.id).pending


def test_a_confirmation_mail_that_cannot_be_sent_does_not_make_the_subscription_failing(store):
    queue = FakeQueue()
    subscription = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue)
    [(confirmation, _)] = queue.queued

    class RefusingMailer:
        def send(self, message):
            raise RuntimeError("MessageRejected")

    ctx = context(store, None, queue=FakeQueue(), mailer=RefusingMailer(), now=1_000_000.0 + 10_000)
    late = replace(confirmation, attempt=9, first_attempt_at=1_000_000.0 - 100_000)  # past the retry window
    attempt = deliver(late, ctx)
    assert attempt.outcome == "failed" and ctx.queue.dead
    assert store.get(RECIPIENT, subscription.id).state == "pending_confirmation"


def test_webhooks_need_no_confirmation(store):
    queue = FakeQueue()
    subscription = subscribe(store, SUPPLIER, {"url": "https://hooks.example.com/"}, queue)
    assert subscription.state == "active" and queue.queued == []


def test_one_confirmation_mail_per_address_structure_and_day(store):
    queue = FakeQueue()
    first = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue)
    service.delete_subscription(principal(RECIPIENT), first.id, store=store)
    with pytest.raises(TooManyRequests, match="for this structure") as refused:  # deleting and creating again
        subscribe(store, RECIPIENT, {"email": "Compta@Mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 3600)
    # what is left of the window of the first request, made at 1_000_000.0 (review r45 L1)
    assert refused.value.extra["retry_after_seconds"] == 86400 - 3600
    with pytest.raises(TooManyRequests) as at_the_end:  # never 0 (nor negative): "retry now" would be refused
        subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 86_399.5)
    assert at_the_end.value.extra["retry_after_seconds"] == 1
    assert len(queue.queued) == 1 and service.list_subscriptions(principal(RECIPIENT), store=store) == []
    later = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 86_401)
    assert later.pending and len(queue.queued) == 2


def test_a_structure_asking_first_does_not_keep_another_from_subscribing_an_address(store):
    queue = FakeQueue()
    subscribe(store, OTHER, {"email": "compta@mairie.fr"}, queue)  # asked first, every day if it likes
    mine = subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 60)
    assert mine.pending and len(queue.queued) == 2


def test_an_address_gets_a_few_confirmation_mails_a_day_whoever_asks(store):
    queue, fourth = FakeQueue(), "82345678900010"
    for n, siret in enumerate((RECIPIENT, SUPPLIER, OTHER)):
        subscribe(store, siret, {"email": "compta@mairie.fr"}, queue, clock=lambda n=n: 1_000_000.0 + n)
    assert len(queue.queued) == service.CONFIRMATION_MAILS_PER_ADDRESS == 3
    # Review r41: a refusal told the fourth structure that others had subscribed the address today. It is answered
    # as usual, and the address is not mailed a fourth time.
    unmailed = subscribe(store, fourth, {"email": "COMPTA@mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 10)
    assert unmailed.pending and unmailed.confirmation_expires == 1_000_010.0 + 7 * 86400
    assert len(queue.queued) == 3
    assert [s.id for s in service.list_subscriptions(principal(fourth), store=store, clock=lambda: 1_000_020.0)] == [
        unmailed.id
    ]
    # Asked again, it gets what any structure gets when its mail went out, in words true of both (review r44 F4:
    # it was told the mail "was already mailed ... ask its owner to open it", a mail that never existed).
    service.delete_subscription(principal(fourth), unmailed.id, store=store)
    with pytest.raises(TooManyRequests, match="for this structure") as refused:
        subscribe(store, fourth, {"email": "compta@mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 3600)
    assert "today" not in refused.value.detail and "3 " not in refused.value.detail
    assert "was requested" in refused.value.detail and "did not receive it" in refused.value.detail
    assert "already mailed" not in refused.value.detail
    with pytest.raises(TooManyRequests) as mailed:  # the first structure, whose mail went out
        subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, queue, clock=lambda: 1_000_000.0 + 3600)
    assert mailed.value.detail == refused.value.detail
    later = subscribe(store, fourth, {"email": "compta@mairie.fr"}, queue, clock=lambda: 1_000_010.0 + 86_401)
    assert later.pending and len(queue.queued) == 4  # the window over, on another UTC day: mailed


def test_a_confirmation_that_cannot_be_queued_leaves_no_subscription(store):
    class BrokenQueue(FakeQueue):
        def enqueue(self, jobs, delay_seconds=0.0):
            raise RuntimeError("SQS is down")

    with pytest.raises(RuntimeError):
        subscribe(store, RECIPIENT, {"email": "compta@mairie.fr"}, BrokenQueue())
    assert service.list_subscriptions(principal(RECIPIENT), store=store) == []


def test_by_default_a_structure_subscribes_to_what_it_can_receive_and_its_mail_promises_no_more(store):
    def create(roles, body):
        queue = FakeQueue()
        created = service.create_subscription(
            Principal(RECIPIENT, "Mairie", roles), body, store=store, resolver=RESOLVE, policy=UrlPolicy(),
            queue=queue, confirmation_url=lambda token: CONFIRMATIONS + token, clock=lambda: 1_000_000.0,
            make_confirmation_secret=lambda: CONFIRM_SECRET,
        )  # fmt: skip
        return created, queue

    buyer, queue = create(("recipient",), {"email": "compta@mairie.fr"})
    assert buyer.events == ("invoice.status_changed",)  # only suppliers get flow.completed
    [(confirmation, _)] = queue.queued
    text = mail_for(confirmation.event)[1]
    assert "changement de statut" in text and "flux" not in text
    assert f"avant le {confirmation.event['data']['expires_at']} (UTC) :" in text  # a French reader is told the zone
    asked = create(("recipient",), {"url": "https://hooks.example.com/", "events": ["flow.completed"]})[0]
    assert asked.events == ("flow.completed",)  # asked for explicitly: kept as asked
    supplier = create(("supplier",), {"url": "https://hooks.example.com/"})[0]
    assert supplier.events == ("invoice.status_changed", "flow.completed")


def test_a_status_without_a_chorus_pro_name_reads_without_one_in_the_mail():
    event = status_event(212)
    event["data"]["status"] = {"code": 212, "name": "ENCAISSEE", "label": "Encaissée", "chorus_pro": None}
    _subject, text = mail_for(event)
    assert "Nouveau statut : 212 Encaissée," in text and "None" not in text


@pytest.mark.parametrize("smuggled", ["\r\nBcc: victim@example.org", "\nBcc: x", "\u2028Bcc: x", "\x85Bcc: x", "\x00"])
def test_control_characters_of_an_event_never_reach_the_mail_subject_or_add_lines(smuggled):
    event = status_event(210)
    event["data"]["number"] = f"F-1{smuggled}"
    event["data"]["comment"] = f"refusée{smuggled}\nDétail : GET https://evil.example"
    event["data"]["reason_code"] = "JUSTIF_ABS"
    subject, text = mail_for(event)
    control = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
    assert not control.search(subject) and subject.startswith("[Chorale] Facture F-1 ")
    lines = text.splitlines()  # (splits on \u2028, \x85… too)
    plain = status_event(210)
    plain["data"].update(comment="x", reason_code="J")
    assert len(lines) == len(mail_for(plain)[1].splitlines())  # no line added
    assert not any(line.startswith(("Bcc", "Détail : GET https://evil")) for line in lines)
    assert all(not control.search(line) for line in lines)
    flow = {"type": "flow.completed", "id": "e\r\n1", "data": {"flow_id": "F\r\nX", "state": "IN\nX", "error": "a\rb"}}
    subject, text = mail_for(flow)
    assert not control.search(subject) and len(text.splitlines()) == 5


class FlakyMailer(FakeMailer):
    """Refuses the first `refusals` messages, then sends."""

    def __init__(self, refusals):
        super().__init__()
        self.refusals = refusals

    def send(self, message):
        if self.refusals:
            self.refusals -= 1
            raise RuntimeError("Throttling")
        super().send(message)


def test_an_event_is_mailed_once_to_a_subscription_whatever_the_jobs_that_carry_it(store):
    subscription = confirmed_email(store, RECIPIENT, {"email": "compta@mairie.fr"})
    log, mailer, queue = FakeLog(), FlakyMailer(refusals=1), FakeQueue()
    [first] = fan_out_one(status_event(), store=store, queue=FakeQueue(), clock=lambda: 1_000_000.0)
    ctx = context(store, None, queue=queue, log=log, mailer=mailer)
    assert deliver(first, ctx).outcome == "retrying" and mailer.sent == []
    # A replay (another fan-out) while the first job waits for its retry: not mailed, the retry will.
    [replayed] = fan_out_one(status_event(), store=store, queue=FakeQueue(), clock=lambda: 1_000_050.0)
    assert deliver(replayed, ctx) is None and mailer.sent == []
    [(retry, _)] = queue.queued
    assert deliver(retry, context(store, None, log=log, mailer=mailer, now=1_000_100.0)).outcome == "delivered"
    assert deliver(retry, context(store, None, log=log, mailer=mailer, now=1_000_100.0)).outcome == "delivered"
    assert len(mailer.sent) == 2  # the same job's redelivery (a crash before its ack) is still at least once
    # Later copies (a replay, a redriven fan-out DLQ): never mailed again; another event is.
    assert deliver(replace(replayed, first_attempt_at=1_000_500.0), ctx) is None and len(mailer.sent) == 2
    [other] = fan_out_one(status_event(sequence=2), store=store, queue=FakeQueue(), clock=lambda: 1_000_600.0)
    assert deliver(other, ctx).outcome == "delivered" and len(mailer.sent) == 3
    assert [a.outcome for a in log.attempts] == ["retrying", "delivered", "delivered", "delivered"]
    assert store.get(RECIPIENT, subscription.id).state == "active"


def test_a_mail_given_up_can_be_mailed_by_its_redriven_job(store):
    confirmed_email(store, RECIPIENT, {"email": "compta@mairie.fr"})
    log, mailer, queue = FakeLog(), FlakyMailer(refusals=1), FakeQueue()
    [job] = fan_out_one(status_event(), store=store, queue=FakeQueue(), clock=lambda: 1_000_000.0)
    late = replace(job, attempt=9, first_attempt_at=1_000_000.0 - 100_000)  # past the retry window
    assert deliver(late, context(store, None, queue=queue, log=log, mailer=mailer)).outcome == "failed"
    [(dead, _)] = queue.dead
    redriven = replace(dead, attempt=dead.attempt + 1, first_attempt_at=1_000_900.0)  # as infra/redrive.py does
    assert deliver(redriven, context(store, None, log=log, mailer=mailer, now=1_001_000.0)).outcome == "delivered"
    assert len(mailer.sent) == 1


def test_webhooks_stay_at_least_once(store):
    subscribe(store, RECIPIENT, {"url": "https://hooks.example.com/"})
    sender, log = FakeSender([HttpResult(200, 1.0)]), FakeLog()
    for at in (1_000_000.0, 1_000_050.0):
        [job] = fan_out_one(status_event(), store=store, queue=FakeQueue(), clock=lambda at=at: at)
        assert deliver(job, context(store, sender, log=log)).outcome == "delivered"
    assert len(sender.calls) == 2 and log.mailed == {}


@pytest.mark.parametrize("code", [211, 212])
def test_a_payment_mail_shows_the_amount_and_its_currency(code):
    event = status_event(code)
    event["data"].update(amount="50.00", currency="EUR")
    _subject, text = mail_for(event)
    assert "\nMontant : 50.00 EUR\n" in text
    event["data"].pop("currency")  # an event published before it carried the currency
    assert "\nMontant : 50.00\n" in mail_for(event)[1]
    assert "Montant" not in mail_for(status_event(205))[1]


def test_a_status_mail_names_the_service_and_says_its_time_is_utc():
    event = status_event()
    text = mail_for(event)[1]
    assert f"\nDestinataire : Mairie ({RECIPIENT})\n" in text  # no service named: none shown
    assert "\nDate : 2026-11-26T10:00:00.000Z (UTC)\n" in text
    event["data"]["recipient"]["service_code"] = "SERV-TECH"  # a clerk's mailbox sorts on it
    assert f"\nDestinataire : Mairie ({RECIPIENT}), service SERV-TECH\n" in mail_for(event)[1]


def test_an_unconfirmed_address_whose_link_expired_is_neither_listed_nor_counted(store):
    """Review r41: a stranger's address nobody confirmed stayed listed and counted for ever. Its link expired, it
    waits only for the table's TTL (purge_at), which can lag up to 48 h."""
    expired = subscribe(store, RECIPIENT, {"email": "jean.dupont@perso.example"})
    later = expired.confirmation_expires
    assert expired.purge_at == later + 3600 and expired.lapsed(later) and not expired.lapsed(later - 1)
    assert expired.confirmed().purge_at is None  # a confirmed address is kept
    assert service.list_subscriptions(principal(RECIPIENT), store=store, clock=lambda: later) == []
    assert [s.id for s in service.list_subscriptions(principal(RECIPIENT), store=store, clock=lambda: later - 1)] == [
        expired.id
    ]
    for n in range(service.MAX_SUBSCRIPTIONS_PER_STRUCTURE):  # the limit no longer counts it
        subscribe(store, RECIPIENT, {"url": f"https://hooks.example.com/{n}"}, clock=lambda: later)
    with pytest.raises(Conflict, match="at most 25"):
        subscribe(store, RECIPIENT, {"url": "https://hooks.example.com/26"}, clock=lambda: later)


def test_a_previous_secret_lapses_after_its_grace():
    from chalicelib.domain.subscriptions import Subscription

    rotated = Subscription("s", SUPPLIER, "2026-11-28T00:00:00.000Z", url="https://x.fr", secret="a").rotated(
        "b", 1000.0, 86400
    )
    assert not rotated.previous_secret_lapsed(1000.0 + 86400)  # its last instant: still signs... until it ends
    assert rotated.previous_secret_lapsed(1000.0 + 86400.5) and rotated.signing_secrets(1000.0 + 86400.5) == ["b"]
    assert rotated.without_previous_secret().previous_secret is None

"""The retry schedule: exponential, capped, jittered, bounded by the max age."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from webhook_support import FakeLog, FakeMailer, FakeQueue, FakeSender, FakeStore, static_resolver

from chalicelib.config import settings
from chalicelib.domain.subscriptions import RetrySchedule, Subscription
from chalicelib.domain.subscriptions_security import UrlPolicy
from chalicelib.services.subscriptions_ports import DeliveryJob, HttpResult
from chalicelib.services.webhooks import DeliveryContext, deliver

LOCAL = RetrySchedule(base_seconds=1, max_delay_seconds=10, max_age_seconds=86400)
AWS = RetrySchedule(base_seconds=30, max_delay_seconds=3600, max_age_seconds=86400)


def test_delays_double_from_the_base_up_to_the_cap():
    assert [LOCAL.delay(n, rand=0.0) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert [AWS.delay(n, rand=0.0) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


@pytest.mark.parametrize("rand", [0.0, 0.3, 0.999])
def test_jitter_spreads_each_delay_over_its_upper_half(rand):
    for attempt in range(1, 10):
        nominal = LOCAL.delay(attempt, 0.0)
        assert nominal / 2 <= LOCAL.delay(attempt, rand) <= nominal


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (3, 0.0, 4.0),  # rand 0: the nominal delay
        (3, 0.5, 3.0),  # 4 · (1 - 0.5 · 0.5)
        (3, 0.25, 3.5),
        (1, 0.5, 0.75),
        (5, 0.8, 6.0),  # 10 (capped) · (1 - 0.5 · 0.8)
        (9, 0.5, 7.5),  # still the capped delay that is jittered
    ],
)
def test_jitter_takes_rand_times_half_off_the_nominal_delay(attempt, rand, expected):
    assert LOCAL.delay(attempt, rand) == pytest.approx(expected)


def test_jitter_spreads_receivers_that_failed_together():
    assert len({LOCAL.delay(4, r) for r in (0.0, 0.3, 0.6, 0.999)}) == 4
    assert AWS.delay(5, 0.8) == pytest.approx(288)  # 480 · (1 - 0.5 · 0.8)
    assert AWS.next_delay(3, 1_000_000.0, 1_000_000.0, rand=0.5) == pytest.approx(90)  # next_delay keeps it


@pytest.mark.parametrize(("rand", "delay"), [(0.5, 3.0), (0.25, 3.5)])
def test_a_failed_delivery_is_retried_after_a_delay_jittered_by_the_context_s_rand(rand, delay):
    siret, at = "81234567800013", 1_000_000.0
    store, queue = FakeStore(), FakeQueue()
    store.add(
        Subscription("sub1", siret, "2026-11-26T10:00:00.000Z", url="https://hooks.example.com/", secret="whsec_t")
    )
    ctx = DeliveryContext(
        store=store,
        log=FakeLog(),
        queue=queue,
        sender=FakeSender([HttpResult(500, 3.0, "HTTP 500")]),
        mailer=FakeMailer(),
        resolver=static_resolver({"hooks.example.com": ["93.184.216.34"]}),
        policy=UrlPolicy(),
        schedule=LOCAL,
        clock=lambda: at,
        now=lambda: "2026-11-26T10:00:00.000Z",
        rand=lambda: rand,
    )
    job = DeliveryJob("sub1", siret, {"id": "evt-1", "type": "invoice.status_changed"}, attempt=3, first_attempt_at=at)
    attempt = deliver(job, ctx)
    assert attempt.outcome == "retrying" and attempt.next_attempt_in == pytest.approx(delay)
    [(retry, queued_delay)] = queue.queued
    assert retry.attempt == 4 and queued_delay == pytest.approx(delay) and retry.not_before == pytest.approx(at + delay)


def test_a_briefly_down_receiver_gets_its_events_within_a_minute_locally():
    # The first delays sum to well under a minute, and later ones are at most 10 s apart.
    assert sum(LOCAL.nominal()[:5]) < 30 and max(LOCAL.nominal()) == 10


def test_retries_stop_after_the_max_age():
    first = 1_000_000.0
    assert AWS.next_delay(3, first, first + 3600, rand=0.0) == 120
    assert AWS.next_delay(30, first, first + 86400 - 100, rand=0.0) is None
    schedule = AWS.nominal()
    assert sum(schedule) <= 86400 < sum(schedule) + 3600
    assert len(schedule) == 29  # 8 growing delays then hourly: about 29 attempts over 24 h


RETRY_VARIABLES = ("WEBHOOK_RETRY_BASE_SECONDS", "WEBHOOK_RETRY_MAX_DELAY_SECONDS", "WEBHOOK_RETRY_MAX_AGE_SECONDS")
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"CHORALE_LOCAL_STACK": "1"}, LOCAL),  # docs/webhooks.md: locally 1, 2, 4, 8, then every 10 s
        (json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["environment_variables"], AWS),
    ],
    ids=["local-stack", "chalice-prod"],
)
def test_the_configured_schedules_are_the_documented_ones(monkeypatch, environment, expected):
    for name in (*RETRY_VARIABLES, "WEBHOOK_TIMEOUT_SECONDS", "CHORALE_LOCAL_STACK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    configured = settings.__wrapped__()  # read now, not the process's cached settings
    schedule = RetrySchedule(
        configured.webhook_retry_base_seconds,
        configured.webhook_retry_max_delay_seconds,
        configured.webhook_retry_max_age_seconds,
    )
    assert schedule == expected and configured.webhook_timeout_seconds == 5

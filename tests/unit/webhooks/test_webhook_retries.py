"""The retry schedule: exponential, capped, jittered, bounded by the max age."""

from __future__ import annotations

import pytest

from chalicelib.domain.subscriptions import RetrySchedule

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

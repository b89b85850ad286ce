from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from providers.webhooks.schedule import RetryPolicy, parse_retry_after

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)


def test_schedule_is_exactly_the_design() -> None:
    # immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
    policy = RetryPolicy(random=lambda: 0.5)
    waits = [policy.delay_after(n) for n in range(1, 10)]
    assert waits == [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H]
    assert policy.max_attempts == 10
    assert policy.next_attempt_at(10, T0) is None  # dead-lettered after the tenth
    assert policy.delay_after(0) is None


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 0.9), (1.0, 1.1), (0.25, 0.95)])
def test_jitter_spreads_by_ten_percent(draw: float, factor: float) -> None:
    policy = RetryPolicy(random=lambda: draw)
    assert policy.next_attempt_at(3, T0) == T0 + 30 * M * factor


def test_retry_after_is_never_undercut_and_is_capped() -> None:
    policy = RetryPolicy(random=lambda: 0.5)
    assert policy.next_attempt_at(1, T0, retry_after=120 * S) == T0 + 120 * S
    assert policy.next_attempt_at(3, T0, retry_after=10 * S) == T0 + 30 * M
    assert policy.next_attempt_at(1, T0, retry_after=timedelta(days=30)) == T0 + 24 * H


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120 * S),
        (" 7 ", 7 * S),
        ("Sun, 29 Nov 2026 12:02:00 GMT", 2 * M),
        ("Sun, 29 Nov 2026 11:00:00 GMT", timedelta(0)),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(header, T0) == expected

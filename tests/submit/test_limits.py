"""Rate limiter, backoff and the retry budget."""

from __future__ import annotations

import random
import threading
import time

import pytest

from prelabel.submit.limits import Backoff, RateLimiter, RetryBudget


def test_backoff_full_jitter_bounds() -> None:
    b = Backoff(base=0.5, cap=4.0, rng=random.Random(1))
    for retry in range(1, 10):
        ceiling = min(4.0, 0.5 * 2 ** (retry - 1))  # 0.5, 1, 2, 4, 4, ...
        draws = [b.delay(retry) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > 0.8 * ceiling  # full jitter spans the whole range


def test_backoff_honours_retry_after_capped() -> None:
    b = Backoff(base=0.01, cap=0.01, retry_after_cap=5.0, rng=random.Random(2))
    assert b.delay(1, retry_after=2.0) == 2.0
    assert b.delay(1, retry_after=3600) == 5.0


def test_rate_limiter_spaces_requests() -> None:
    limiter = RateLimiter(50.0)  # one slot every 20 ms
    stop = threading.Event()
    t0 = time.monotonic()
    for _ in range(11):
        assert limiter.acquire(stop)
    # 11 slots: the first at once, then 10 intervals of 20 ms
    assert time.monotonic() - t0 >= 0.19


def test_rate_limiter_pause_and_stop() -> None:
    clock = [100.0]
    limiter = RateLimiter(0, clock=lambda: clock[0])
    stop = threading.Event()
    assert limiter.acquire(stop)  # unlimited: no wait
    limiter.pause(30.0)
    stop.set()
    assert not limiter.acquire(stop)  # paused and told to stop: gives up at once


def test_rate_limiter_rejects_negative() -> None:
    with pytest.raises(ValueError):
        RateLimiter(-1)


def test_retry_budget_consecutive_and_ratio() -> None:
    b = RetryBudget(minimum=2, ratio=0.5, consecutive=100)
    for _ in range(4):
        b.job_started()
    # allowed retries: 2 + 0.5 * 4 = 4
    assert [b.failed() is None for _ in range(5)] == [True, True, True, True, False]
    c = RetryBudget(minimum=1000, consecutive=3)
    c.job_started()
    assert c.failed() is None and c.failed() is None
    c.answered()  # a definite answer resets the run of failures
    assert c.failed() is None and c.failed() is None
    assert c.failed() is not None

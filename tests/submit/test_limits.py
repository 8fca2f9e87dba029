"""Rate limiter, backoff and the retry budget."""

from __future__ import annotations

import random
import threading

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


class FakeWait(threading.Event):
    """A stop event whose waits move a fake clock instead of sleeping."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        self.clock[0] += timeout or 0.0
        return self.is_set()


def test_rate_limiter_spaces_requests() -> None:
    clock = [100.0]
    limiter = RateLimiter(50.0, clock=lambda: clock[0])  # one slot every 20 ms
    stop = FakeWait(clock)
    starts = []
    for _ in range(11):
        assert limiter.acquire(stop)
        starts.append(clock[0])
    # 11 slots: the first at once, then one every 20 ms: 100.00, 100.02, ..., 100.20
    assert starts == pytest.approx([100.0 + 0.02 * i for i in range(11)])


def test_rate_limiter_pause_holds_every_slot() -> None:
    clock = [100.0]
    limiter = RateLimiter(10.0, clock=lambda: clock[0])  # one slot every 100 ms
    stop = FakeWait(clock)
    assert limiter.acquire(stop)
    assert clock[0] == 100.0
    limiter.pause(2.5)  # a Retry-After of 2.5 s: nothing starts before 102.5
    assert limiter.acquire(stop)
    assert clock[0] == pytest.approx(102.5)
    assert limiter.acquire(stop)
    assert clock[0] == pytest.approx(102.6)


def test_rate_limiter_pause_and_stop() -> None:
    clock = [100.0]
    limiter = RateLimiter(0, clock=lambda: clock[0])
    stop = threading.Event()
    assert limiter.acquire(stop)  # unlimited: no wait
    limiter.pause(30.0)
    stop.set()
    assert not limiter.acquire(stop)  # paused and told to stop: gives up at once


def test_rate_limiter_rejects_negative() -> None:
    with pytest.raises(ValueError, match="rate must be >= 0"):
        RateLimiter(-1)


def test_retry_budget_consecutive_and_ratio() -> None:
    b = RetryBudget(minimum=2, ratio=0.5, consecutive=100)
    for _ in range(4):
        b.job_started()
    # allowed retries: 2 + 0.5 * 4 = 4
    assert [b.failed() is None for _ in range(5)] == [True, True, True, True, False]
    c = RetryBudget(minimum=1000, consecutive=3)
    c.job_started()
    assert c.failed() is None
    assert c.failed() is None
    c.answered()  # a definite answer resets the run of failures
    assert c.failed() is None
    assert c.failed() is None
    assert c.failed() is not None
    # a new run starts from zero: the spent budget lets the next run retry again
    assert c.reset() is c
    assert (c.started, c.retries, c.failures_in_a_row) == (0, 0, 0)
    assert b.reset().failed() is None

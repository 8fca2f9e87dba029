"""Pacing for the submitter: a shared rate limit, backoff delays and the run-wide retry budget.

All three are shared by the worker threads and take their clock and random source as
arguments, so tests can drive them without sleeping.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class RateLimiter:
    """At most ``rate`` requests per second across all workers (0 = unlimited), plus a
    run-wide pause (``pause``) that a 429/503 with Retry-After imposes on everyone.

    Each ``acquire`` reserves the next free slot, so requests are spaced ``1/rate`` apart
    with no burst: the API's only documented limit (5/s) holds in any one-second window.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0")
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """No request starts in the next ``seconds`` (the longest pause asked wins)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a slot; False when ``stop`` was set meanwhile."""
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._paused_until)
                if start <= now:
                    start = max(now, self._next)
                    self._next = start + self.interval
                    wait = start - now
                    reserved = True
                else:
                    wait = start - now
                    reserved = False
            if wait > 0 and stop.wait(wait):
                return False
            if stop.is_set():
                return False
            if reserved:
                return True


@dataclass
class Backoff:
    """Exponential backoff with full jitter: retry n waits uniform(0, min(cap, base * 2**(n-1)))
    seconds, and never less than the server's Retry-After (itself capped)."""

    base: float = 0.5
    cap: float = 30.0
    retry_after_cap: float = 60.0
    rng: random.Random | None = None

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        rng = self.rng or random
        ceiling = min(self.cap, self.base * (2 ** max(0, retry - 1)))
        wait = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_cap))
        return wait


class RetryBudget:
    """The run-wide circuit breaker.

    The run stops when the retries exceed ``minimum + ratio * jobs started`` (a sick API
    must not turn one run into an hours-long hammering), or when ``consecutive`` attempts in
    a row failed with nothing getting through.
    """

    def __init__(self, minimum: int = 100, ratio: float = 1.0, consecutive: int = 50) -> None:
        self.minimum = minimum
        self.ratio = ratio
        self.consecutive = consecutive
        self._lock = threading.Lock()
        self.started = 0
        self.retries = 0
        self.failures_in_a_row = 0

    def reset(self) -> RetryBudget:
        """Zero the counters for a new run (a budget given in ``Retries`` serves many runs);
        returns itself."""
        with self._lock:
            self.started = self.retries = self.failures_in_a_row = 0
        return self

    def job_started(self) -> None:
        with self._lock:
            self.started += 1

    def answered(self) -> None:
        """A request got a definite answer (created, duplicate, rejected)."""
        with self._lock:
            self.failures_in_a_row = 0

    def failed(self) -> str | None:
        """A retryable failure; returns why the run must stop, or None to retry."""
        with self._lock:
            self.failures_in_a_row += 1
            self.retries += 1
            if self.failures_in_a_row >= self.consecutive:
                return f"{self.failures_in_a_row} failed attempts in a row"
            allowed = self.minimum + self.ratio * self.started
            if self.retries > allowed:
                return (
                    f"retry budget spent ({self.retries} retries for {self.started} jobs started)"
                )
            return None

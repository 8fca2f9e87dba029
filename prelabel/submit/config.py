"""The submitter's settings in three groups, in the manner of httpx's ``Timeout`` and
``Limits``: how patiently every request is retried (:class:`Retries`), how much is asked of
the API at once (:class:`Limits`) and how long one request may take (:class:`Timeouts`).

Each group is a frozen dataclass checked when it is made, so a bad value fails where it is
written, not in the middle of a run::

    Submitter("P", key, retries=Retries(max_attempts=3), limits=Limits(rate=2.0))
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.submit.limits import RetryBudget
from prelabel.submit.transport import MAX_ANSWER_BYTES

# a result of a long video with many tracks runs to tens of MB; held in memory once to be
# checked before it is saved
MAX_RESULT_BYTES = 256 << 20


@dataclass(frozen=True)
class Retries:
    """How every request (job creation, batch creation, listings) is retried.

    At most ``max_attempts`` attempts per request in a run, and none begun more than
    ``give_up_after`` seconds after the first; between attempts a full-jitter backoff from
    ``backoff`` seconds (doubling, up to ``backoff_cap``), never shorter than the server's
    Retry-After, itself honoured up to ``retry_after_cap``. ``budget`` is the run-wide
    circuit breaker of job creation (default: ``RetryBudget()``); ``seed`` makes the jitter
    reproducible.
    """

    max_attempts: int = 8
    backoff: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 60.0
    give_up_after: float = 600.0
    budget: RetryBudget | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if min(self.backoff, self.backoff_cap, self.retry_after_cap, self.give_up_after) < 0:
            raise ValueError("backoff, backoff_cap, retry_after_cap and give_up_after must be >= 0")


@dataclass(frozen=True)
class Limits:
    """How much is asked of the API at once: ``concurrency`` requests in flight, ``rate``
    requests per second for the whole run (0 = unlimited), and answers read up to
    ``answer_bytes`` (a longer one is cut off unread and the attempt retried). A result
    file (``fetch_results``) has its own cap, ``result_bytes``: a longer one is refused
    and not saved."""

    concurrency: int = 4
    rate: float = 5.0
    answer_bytes: int = MAX_ANSWER_BYTES
    result_bytes: int = MAX_RESULT_BYTES

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.rate < 0 or self.answer_bytes < 1 or self.result_bytes < 1:
            raise ValueError(
                "concurrency >= 1, rate >= 0, answer_bytes >= 1 and result_bytes >= 1 are required"
            )


@dataclass(frozen=True)
class Timeouts:
    """``request``: the deadline of one whole request (connect, send, the whole answer), in
    seconds; ``connect``: of its connection alone (never more than ``request``)."""

    request: float = 30.0
    connect: float = 5.0

    def __post_init__(self) -> None:
        if not (self.request > 0 and self.connect > 0):
            raise ValueError("timeouts must be > 0")

"""What a run reports: the status of each job (:class:`Status`), its line in the report
(:class:`JobOutcome`), the run's totals (:class:`SubmitResult`) and a created batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from prelabel.errors import InputError


class Status(str, Enum):
    """What happened to one job in this run (``JobOutcome.status``); compares, hashes and
    prints as its value (``"created"``), as the report and the counts spell it."""

    CREATED = "created"  # created by this run
    EXISTS = "exists"  # FS_0001 to a request of ours whose answer was lost: delivered
    DONE = "done"  # created or exists in the ledger before this run: not sent
    DUPLICATE = "duplicate"  # the same reference_id and payload earlier in this input
    FAILED = "failed"  # rejected by the API or refused locally; see error_code
    CONFLICT = "conflict"  # changed payload for a sent reference_id, or a foreign FS_0001
    NOT_SENT = "not_sent"  # the run stopped before this job got an answer

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def ok(self) -> bool:
        """The job is on the server (or needs nothing): it does not make the run fail."""
        return self in _OK


_OK = frozenset({Status.CREATED, Status.EXISTS, Status.DONE, Status.DUPLICATE})


@dataclass(frozen=True, kw_only=True)
class JobOutcome:
    """One job's line in the report (built by keyword: most fields are optional)."""

    index: int
    reference_id: str | None
    status: Status
    state: str | None = None
    attempts: int = 0
    job_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_id": self.reference_id,
            "status": self.status,
            "state": self.state,
            "attempts": self.attempts,
            "job_id": self.job_id,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "index": self.index,
        }


@dataclass
class SubmitResult:
    """Counts per status, the per-job outcomes and why the run stopped (if it did)."""

    counts: Counter[str] = field(default_factory=Counter)
    outcomes: list[JobOutcome] = field(default_factory=list)
    stop_reason: str | None = None
    retries: int = 0
    retries_by_cause: Counter[str] = field(default_factory=Counter)
    recovered: int = 0
    elapsed: float = 0.0
    requests: int = 0  # job-creation requests sent in this run
    withheld: int = 0  # server values dropped because they held the API key
    # reason -> number of created/existing jobs (any run) still without a job_id
    missing_job_id: Counter[str] = field(default_factory=Counter)
    input_error: InputError | None = None  # the payloads turned out bad during the run

    @property
    def ok(self) -> bool:
        """True when every job is created or exists and the run was not stopped."""
        bad = sum(n for s, n in self.counts.items() if not Status(s).ok)
        return bad == 0 and self.stop_reason is None and self.input_error is None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def problems(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if not o.status.ok]

    def summary(self) -> str:
        parts = [f"{self.counts[s]} {s}" for s in Status if self.counts.get(s, 0)]
        text = f"{self.total} jobs: " + (", ".join(parts) or "nothing to do")
        if self.retries:
            causes = ", ".join(f"{c} {n}" for c, n in self.retries_by_cause.most_common())
            text += f"; {self.retries} retries ({causes})"
        missing = sum(self.missing_job_id.values())
        if missing:
            why = ", ".join(f"{n} {r}" for r, n in self.missing_job_id.most_common())
            text += f"; {missing} without a job_id ({why})"
        if self.withheld:
            text += f"; {self.withheld} server values withheld (they held the API key)"
        if self.elapsed > 0:
            text += f"; {_duration(self.elapsed)}, {self.total / self.elapsed:.1f} jobs/s"
        return text


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class BatchInfo:
    batch_id: str
    name: str
    created: bool

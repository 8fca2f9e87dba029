"""What a run reports: the status of each job (:class:`Status`), its line in the report
(:class:`JobOutcome`), the run's totals (:class:`SubmitResult`) and a created batch.

:class:`RunStatus` and :class:`RunTotals` are what a submit run and a results fetch
(:mod:`prelabel.submit.results`) report alike."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from prelabel.errors import InputError


class RunStatus(str, Enum):
    """The base of a per-job status enum: its members compare, hash and print as their
    value (``"created"``), as the report and the counts spell them; ``ok`` says whether
    the status lets the run succeed."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def ok(self) -> bool:
        raise NotImplementedError


class _HasStatus(Protocol):
    @property
    def status(self) -> RunStatus: ...


OutcomeT = TypeVar("OutcomeT", bound=_HasStatus)


@dataclass
class RunTotals(Generic[OutcomeT]):
    """Counts per status, the per-job outcomes and why the run stopped (if it did)."""

    counts: Counter[str] = field(default_factory=Counter)
    outcomes: list[OutcomeT] = field(default_factory=list)
    stop_reason: str | None = None

    statuses: ClassVar[type[RunStatus]]  # the status enum the counts are keyed by

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def problems(self) -> list[OutcomeT]:
        return [o for o in self.outcomes if not o.status.ok]

    def _settled(self) -> bool:
        """No job counted with a status that fails the run, and the run not stopped."""
        bad = sum(n for s, n in self.counts.items() if not self.statuses(s).ok)
        return bad == 0 and self.stop_reason is None

    def _counted(self, nothing: str) -> str:
        """``"<total> jobs: <n> <status>, ..."`` (or ``nothing``), the start of a summary."""
        parts = [f"{self.counts[s]} {s}" for s in self.statuses if self.counts.get(s, 0)]
        return f"{self.total} jobs: " + (", ".join(parts) or nothing)


def retries_note(retries: int, by_cause: Counter[str]) -> str:
    """The summary's part on retries (empty when there were none)."""
    if not retries:
        return ""
    causes = ", ".join(f"{c} {n}" for c, n in by_cause.most_common())
    return f"; {retries} retries ({causes})"


def withheld_note(withheld: int) -> str:
    """The summary's part on server values dropped because they held the key."""
    return f"; {withheld} server values withheld (they held the API key)" if withheld else ""


class Status(RunStatus):
    """What happened to one job in this run (``JobOutcome.status``); compares, hashes and
    prints as its value (``"created"``), as the report and the counts spell it."""

    CREATED = "created"  # created by this run
    EXISTS = "exists"  # FS_0001 to a request of ours whose answer was lost: delivered
    DONE = "done"  # created or exists in the ledger before this run: not sent
    DUPLICATE = "duplicate"  # the same reference_id and payload earlier in this input
    FAILED = "failed"  # rejected by the API or refused locally; see error_code
    CONFLICT = "conflict"  # changed payload for a sent reference_id, or a foreign FS_0001
    NOT_SENT = "not_sent"  # the run stopped before this job got an answer

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
class SubmitResult(RunTotals[JobOutcome]):
    """A submit run's totals (:class:`RunTotals`), its retries, requests and withheld
    values, the jobs still without a job_id, and bad payloads met during the run."""

    statuses = Status
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
        return self._settled() and self.input_error is None

    def summary(self) -> str:
        text = self._counted("nothing to do") + retries_note(self.retries, self.retries_by_cause)
        missing = sum(self.missing_job_id.values())
        if missing:
            why = ", ".join(f"{n} {r}" for r, n in self.missing_job_id.most_common())
            text += f"; {missing} without a job_id ({why})"
        text += withheld_note(self.withheld)
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

"""What a submit run and a results fetch report alike (RunStatus, RunTotals)."""

from __future__ import annotations

from collections import Counter

import pytest

from prelabel.submit.outcomes import JobOutcome, RunStatus, Status, SubmitResult
from prelabel.submit.results import FetchOutcome, FetchResult, FetchStatus


@pytest.mark.parametrize("enum", [Status, FetchStatus])
def test_statuses_print_and_compare_as_their_values(enum: type[RunStatus]) -> None:
    for s in enum:
        assert str(s) == s.value
        assert f"{s:>12}" == f"{s.value:>12}"
        assert s == s.value
        assert enum(s.value) is s


def test_both_summaries_say_retries_and_withheld_values_the_same_way() -> None:
    causes = Counter({"http_503": 2, "timeout": 1})
    sub = SubmitResult(counts=Counter({"created": 3}), retries=3, retries_by_cause=causes)
    fetch = FetchResult(counts=Counter({"fetched": 3}), retries_by_cause=causes)
    sub.withheld = fetch.withheld = 2
    note = "; 3 retries (http_503 2, timeout 1); 2 server values withheld (they held the API key)"
    assert sub.summary() == "3 jobs: 3 created" + note
    assert fetch.summary() == "3 jobs: 3 fetched" + note
    assert SubmitResult().summary() == "0 jobs: nothing to do"
    assert FetchResult().summary() == "0 jobs: nothing to fetch"


def test_a_failing_status_or_a_stop_fails_either_run() -> None:
    sub = SubmitResult(counts=Counter({"created": 1, "failed": 1}))
    sub.outcomes += [
        JobOutcome(index=0, reference_id="a", status=Status.CREATED),
        JobOutcome(index=1, reference_id="b", status=Status.FAILED),
    ]
    fetch = FetchResult(counts=Counter({"waiting": 1, "no_job_id": 1}))
    fetch.outcomes += [
        FetchOutcome(reference_id="a", status=FetchStatus.WAITING),
        FetchOutcome(reference_id="b", status=FetchStatus.NO_JOB_ID),
    ]
    for run in (sub, fetch):
        assert run.total == 2
        assert not run.ok
        assert [o.reference_id for o in run.problems] == ["b"]
    fine = FetchResult(counts=Counter({"waiting": 1, "done": 2}))
    assert fine.ok  # waiting is not a failure
    fine.stop_reason = "interrupted by SIGINT"
    assert not fine.ok

"""The ledger on its own, and a model-based test of ledger + submitter under any interleaving
of sends, transient failures, lost answers, crashes and resumes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from prelabel.errors import InputError, SubmitError
from prelabel.submit import api
from prelabel.submit.client import Submitter
from prelabel.submit.config import Limits, Retries
from prelabel.submit.ledger import JobState, Ledger, default_ledger_path
from prelabel.submit.outcomes import Status

from .conftest import KEY, small_job


def test_default_path_is_beside_the_input(tmp_path: Path) -> None:
    assert default_ledger_path(tmp_path / "a.jsonl") == tmp_path / "a.jsonl.ledger.sqlite"


def test_states_and_recovery(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger(path) as led:
        run, recovered = led.begin_run("x")
        assert recovered == 0
        assert led.mark_sending("a", "s1", None, run) == 1
        assert led.mark_sending("b", "s2", "B", run) == 1
        led.record("a", JobState.CREATED, job_id="J1")
        # "b" stays in sending: the process dies here
    with Ledger(path) as led:
        b = led.get("b")
        assert b is not None
        assert b.state == "sending"
        assert not b.maybe_sent
        run2, recovered = led.begin_run("x")
        assert recovered == 1
        b = led.get("b")
        assert b is not None
        assert b.maybe_sent
        assert led.in_doubt() == 1  # "b"; "a" is created, so not in doubt
        assert led.mark_sending("b", "s2", "B", run2) == 2
        led.record("b", JobState.EXISTS)
        assert led.in_doubt() == 0
        assert led.counts() == {"pending": 0, "sending": 0, "created": 1, "exists": 1, "failed": 0}
        assert led.missing_job_ids() == {"B": ["b"]}
        assert [r.reference_id for r in led.rows(JobState.EXISTS)] == ["b"]
        led.set_job_id("b", "J2")
        assert led.missing_job_ids() == {}
        a = led.get("a")
        assert a is not None
        assert a.job_id == "J1"
        assert a.done


def test_maybe_sent_never_turns_off(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as led:
        run, _ = led.begin_run()
        led.mark_sending("a", "s", None, run)
        led.record("a", JobState.PENDING, error_code="no_answer", maybe_sent=True)
        led.mark_sending("a", "s", None, run)
        led.record("a", JobState.PENDING, error_code="http_429", maybe_sent=False)
        row = led.get("a")
        assert row is not None
        assert row.maybe_sent
        assert row.attempts == 2


def test_bound_to_one_project_and_api(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as led:
        led.bind("p1", "http://127.0.0.1:1")
        led.bind("p1", "http://127.0.0.1:1")
        with pytest.raises(SubmitError, match="project_id"):
            led.bind("p2", "http://127.0.0.1:1")
        with pytest.raises(SubmitError, match="base_url"):
            led.bind("p1", "https://api.playment.io")


def test_second_process_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with Ledger(path) as first:
        first.acquire()
        with Ledger(path) as second, pytest.raises(SubmitError, match="in use"):
            second.acquire()
    with Ledger(path) as third:
        third.acquire()  # released with the first


def test_not_a_ledger(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a readable ledger"):
        Ledger(bad)
    with pytest.raises(InputError, match="no such ledger"):
        Ledger(tmp_path / "missing.sqlite", readonly=True)


# -- model-based ----------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies: nothing after this point runs (not even except Exception)."""


FAULTS = ["ok", "503", "429", "connect", "lost_after_commit", "crash_before", "crash_after"]
REFS = [f"r{i}" for i in range(6)]


class FakeAPI:
    """The job endpoint in memory, with the server half of idempotency (FS_0001)."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}
        self.plan: list[str] = []
        self.creates = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the listings: every job is in the default batch
            if request.url.path.endswith("/details"):
                data: Any = {"batches": [{"id": "DEF", "name": "Default", "is_default": True}]}
            else:
                jobs = [{"id": j, "reference_id": r} for r, j in self.jobs.items()]
                data = {"jobs": jobs, "next_page_token": ""}
            return httpx.Response(200, json={"data": data, "success": True})
        fault = self.plan.pop(0) if self.plan else "ok"
        if fault == "connect":
            raise httpx.ConnectError("refused", request=request)
        if fault == "crash_before":
            raise Crash
        if fault in ("503", "429"):
            return httpx.Response(int(fault), headers={"retry-after": "0"})
        ref = orjson.loads(request.content)["reference_id"]
        if ref in self.jobs:
            return httpx.Response(400, json={"error": {"code": "FS_0001"}, "success": False})
        self.creates += 1
        self.jobs[ref] = f"job-{self.creates}"
        if fault == "lost_after_commit":
            raise httpx.ReadError("connection reset", request=request)
        if fault == "crash_after":
            raise Crash
        body = {"data": {"job_id": self.jobs[ref], "reference_id": ref}, "success": True}
        return httpx.Response(200, json=body)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="ledger-model-")
        self.path = Path(self.dir) / "jobs.ledger.sqlite"
        self.server = FakeAPI()

    def _run(self, refs: list[str], faults: list[str], max_attempts: int = 3) -> Any:
        self.server.plan = list(faults)
        sub = Submitter(
            "p",
            KEY,
            base_url="http://127.0.0.1:9",
            ledger=self.path,
            limits=Limits(concurrency=1, rate=0),
            retries=Retries(backoff=0, max_attempts=max_attempts),
            transport=httpx.MockTransport(self.server.handler),
        )
        try:
            return sub.submit(small_job(r) for r in refs)
        except Crash:
            return None  # the ledger connection dies with the process below
        finally:
            sub.close()

    @rule(
        refs=st.lists(st.sampled_from(REFS), min_size=1, max_size=6, unique=True),
        faults=st.lists(st.sampled_from(FAULTS), max_size=8),
    )
    def send(self, refs: list[str], faults: list[str]) -> None:
        result = self._run(refs, faults)
        if result is not None:
            # our own jobs are never taken for someone else's
            assert result.counts[Status.CONFLICT] == 0, result.problems

    @invariant()
    def ledger_agrees_with_server(self) -> None:
        if not self.path.exists():
            return
        with Ledger(self.path) as led:
            for row in led.rows():
                if row.state == "created":
                    assert self.server.jobs.get(row.reference_id) == row.job_id
                if row.state == "exists":
                    assert row.reference_id in self.server.jobs
                # FS_0001 is only ever "foreign" when the ledger never sent the job
                assert row.error_code != api.LOCAL_FOREIGN_DUPLICATE

    def teardown(self) -> None:
        try:
            result = self._run(REFS, [], max_attempts=1)  # resume, no faults
            assert result is not None
            assert result.ok, result.problems
            with Ledger(self.path) as led:
                rows = {r.reference_id: r for r in led.rows()}
            assert set(rows) == set(REFS)
            assert all(r.state in ("created", "exists") for r in rows.values())
            # every job ends with its job_id, "exists" ones included (from the listing)
            assert {r: row.job_id for r, row in rows.items()} == self.server.jobs
            assert sorted(self.server.jobs) == sorted(REFS)  # each once (a dict cannot hold two)
            assert self.server.creates == len(REFS)  # ... and nothing was created twice
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


TestLedgerModel = LedgerMachine.TestCase
TestLedgerModel.settings = settings(
    settings.get_profile("ci"), stateful_step_count=8, max_examples=50
)

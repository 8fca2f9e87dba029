"""The Submitter against scripted servers (httpx.MockTransport) and the sandbox."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from prelabel.errors import SubmitError
from prelabel.submit import api
from prelabel.submit.client import Submitter
from prelabel.submit.config import Limits, Retries, Timeouts
from prelabel.submit.ledger import Ledger
from prelabel.submit.outcomes import Status
from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, jobs, small_job

URL = "http://127.0.0.1:9"


class Script:
    """A job endpoint answering from a per-reference script, recording every request."""

    def __init__(self, answers: dict[str, list[Any]] | None = None, default: Any = "ok") -> None:
        self.answers = answers or {}
        self.default = default
        self.requests: list[tuple[float, str, str]] = []  # (time, method, reference_id)
        self.created: dict[str, str] = {}
        self.bodies: dict[str, Any] = {}
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the listings: every job is in the default batch
            return self.listing(request)
        body = orjson.loads(request.content) if request.content else {}
        ref = body.get("reference_id", "")
        with self.lock:
            self.bodies[ref] = body
            self.requests.append((time.monotonic(), request.method, ref))
            script = self.answers.get(ref)
            answer = script.pop(0) if script else self.default
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        if answer == "ok":
            with self.lock:
                if ref in self.created:
                    return _error(400, "FS_0001", "Duplicate Reference Id")
                self.created[ref] = f"J-{ref}"
            return httpx.Response(
                200, json={"data": {"job_id": f"J-{ref}", "reference_id": ref}, "success": True}
            )
        raise AssertionError(answer)

    def listing(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append((time.monotonic(), "GET", ""))
            created = dict(self.created)
        if request.url.path.endswith("/details"):
            data: Any = {"batches": [{"id": "DEF", "name": "Default", "is_default": True}]}
        else:
            data = {
                "jobs": [{"id": j, "reference_id": r} for r, j in created.items()],
                "next_page_token": "",
            }
        return httpx.Response(200, json={"data": data, "success": True})

    def count(self, ref: str) -> int:
        return sum(1 for _, _, r in self.requests if r == ref)


def changed_job(ref: str) -> dict[str, Any]:
    """``small_job(ref)`` with another image: same reference_id, another payload."""
    job = small_job(ref)
    job["data"]["video_data"]["frames"][0]["src"] = f"https://images.example.com/{ref}/2.jpg"
    return job


def _error(status: int, code: str, message: str = "", **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": message}, "success": False}
    return httpx.Response(status, json=body, headers=headers)


def _submitter(
    script: Script,
    tmp_path: Path | None = None,
    *,
    concurrency: int = 1,
    rate: float = 0,
    workflow_id: str | None = None,
    batch_id: str | None = None,
    **retries: Any,
) -> Submitter:
    """A Submitter on ``script``: no rate limit, one worker, a short seeded backoff (the
    other keywords are :class:`Retries` fields)."""
    ledger = tmp_path / "l.sqlite" if tmp_path is not None else None
    return Submitter(
        "p",
        KEY,
        base_url=URL,
        ledger=ledger,
        transport=httpx.MockTransport(script),
        workflow_id=workflow_id,
        batch_id=batch_id,
        limits=Limits(concurrency=concurrency, rate=rate),
        retries=Retries(**{"backoff": 0.001, "seed": 0, **retries}),
    )


def test_all_created_and_rerun_sends_nothing(tmp_path: Path) -> None:
    script = Script()
    with _submitter(script, tmp_path, concurrency=4) as s:
        r = s.submit(jobs(20))
    assert r.ok
    assert r.counts == {"created": 20}
    assert all(o.job_id == f"J-{o.reference_id}" for o in r.outcomes)
    with _submitter(script, tmp_path) as s:
        r2 = s.submit(jobs(20))
    assert r2.ok
    assert r2.counts == {"done": 20}
    assert len(script.requests) == 20  # the second run sent nothing


class RecordingStop(threading.Event):
    """The submitter's stop event, recording every wait it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return super().wait(timeout)


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    script = Script({"a": [_error(429, "rate_limited", **{"retry-after": "0.3"}), "ok"]})
    with _submitter(script, tmp_path) as s:
        s._stop = stop = RecordingStop()
        r = s.submit([small_job("a")])
    assert r.ok
    assert script.count("a") == 2
    # the backoff (at most 1 ms here) is stretched to the Retry-After
    assert stop.waits[0] == pytest.approx(0.3)


def test_lost_answer_then_duplicate_is_exists(tmp_path: Path) -> None:
    class LostAnswer(Script):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            first = not self.requests
            response = super().__call__(request)
            if first:  # created, then the connection drops before the answer
                raise httpx.RemoteProtocolError("Server disconnected", request=request)
            return response

    script = LostAnswer()
    with _submitter(script, tmp_path) as s:
        r = s.submit([small_job("a")])
    assert r.ok
    assert r.counts == {"exists": 1}
    assert list(script.created) == ["a"]
    row = Ledger(tmp_path / "l.sqlite").get("a")
    assert row is not None
    assert row.state == "exists"
    assert row.attempts == 2


def test_foreign_duplicate_is_a_conflict(tmp_path: Path) -> None:
    script = Script()
    script.created["a"] = "J-someone-else"
    with _submitter(script, tmp_path) as s:
        r = s.submit([small_job("a")])
    assert not r.ok
    assert r.counts == {"conflict": 1}
    assert r.outcomes[0].error_code == api.LOCAL_FOREIGN_DUPLICATE


def test_permanent_rejection_is_not_retried(tmp_path: Path) -> None:
    script = Script({"bad": [_error(400, "FS_0007", "Attachment could not be accessed")]})
    with _submitter(script, tmp_path, concurrency=2) as s:
        r = s.submit([small_job("ok1"), small_job("bad"), small_job("ok2")])
    assert r.counts == {"created": 2, "failed": 1}
    (bad,) = r.problems
    assert (bad.error_code, bad.error_message) == ("FS_0007", "Attachment could not be accessed")
    assert script.count("bad") == 1


def test_401_stops_the_run_and_resume_completes(tmp_path: Path) -> None:
    script = Script(default=_error(401, "auth-failure", "bad key"))
    with _submitter(script, tmp_path, concurrency=4) as s:
        r = s.submit(jobs(50))
    assert r.stop_reason is not None
    assert "auth-failure" in r.stop_reason
    assert not r.ok
    assert len(script.requests) <= 4  # at most one request per worker
    script.default = "ok"
    with _submitter(script, tmp_path, concurrency=4) as s:
        r2 = s.submit(jobs(50))
    assert r2.ok
    assert r2.counts["created"] == 50


def test_redirect_is_not_followed(tmp_path: Path) -> None:
    script = Script(default=httpx.Response(307, headers={"location": "https://evil.example/"}))
    with _submitter(script, tmp_path) as s:
        r = s.submit(jobs(3))
    assert r.stop_reason is not None
    assert "redirect" in r.stop_reason
    assert [m for _, m, _ in script.requests] == ["POST"]  # nothing went to evil.example


def test_retry_budget_stops_a_failing_run(tmp_path: Path) -> None:
    from prelabel.submit.limits import RetryBudget

    script = Script(default=_error(503, "api_error"))
    budget = RetryBudget(minimum=5, ratio=0.0, consecutive=1000)
    with _submitter(script, tmp_path, budget=budget, max_attempts=100) as s:
        r = s.submit(jobs(10))
    assert r.stop_reason is not None
    assert "retry budget" in r.stop_reason
    assert len(script.requests) == 6  # 1 first attempt + 5 retries, then the breaker opens


@pytest.mark.parametrize(
    ("max_attempts", "expected"), [(1, "failed"), (2, "failed"), (3, "created")]
)
def test_max_attempts_is_live(tmp_path: Path, max_attempts: int, expected: str) -> None:
    script = Script({"a": [_error(503, "api_error"), _error(502, ""), "ok"]})
    with _submitter(script, tmp_path, max_attempts=max_attempts) as s:
        r = s.submit([small_job("a")])
    assert r.outcomes[0].status == expected
    assert len(script.requests) == max_attempts


def test_rate_limit_is_live(tmp_path: Path) -> None:
    """--rate reaches the limiter every request goes through: the slots it hands out are
    1/rate apart (the spacing itself is tested on a fake clock in test_limits)."""
    script = Script()
    slots: list[float] = []
    with _submitter(script, tmp_path, rate=20, concurrency=1) as s:
        limiter = s._limiter
        acquire = limiter.acquire

        def recording(stop: threading.Event) -> bool:
            ok = acquire(stop)
            slots.append(limiter._next - limiter.interval)  # the start just reserved
            return ok

        limiter.acquire = recording  # type: ignore[method-assign]
        assert s.submit(jobs(10)).ok
    assert limiter.interval == pytest.approx(0.05)
    assert len(script.requests) == 10
    slots.sort()
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert gaps == pytest.approx([0.05] * 9)


def test_changed_payload_is_never_resent(tmp_path: Path) -> None:
    script = Script()
    with _submitter(script, tmp_path) as s:
        assert s.submit([small_job("a")]).ok
    changed = changed_job("a")
    with _submitter(script, tmp_path) as s:
        r = s.submit([changed])
    assert r.counts == {"conflict": 1}
    assert r.outcomes[0].error_code == api.LOCAL_PAYLOAD_CHANGED
    assert len(script.requests) == 1


def test_changed_payload_after_a_lost_answer_is_held(tmp_path: Path) -> None:
    script = Script({"a": [httpx.ReadTimeout("slow")]})
    with _submitter(script, tmp_path, max_attempts=1) as s:
        assert s.submit([small_job("a")]).counts == {"failed": 1}
    with _submitter(script, tmp_path) as s:
        r = s.submit([changed_job("a")])
    assert r.counts == {"conflict": 1}  # the first payload may be on the server
    assert len(script.requests) == 1


def test_changed_payload_after_a_rejection_is_sent(tmp_path: Path) -> None:
    script = Script({"a": [_error(400, "FS_0003", "bad")]})
    with _submitter(script, tmp_path) as s:
        assert s.submit([small_job("a")]).counts == {"failed": 1}
    with _submitter(script, tmp_path) as s:
        assert s.submit([changed_job("a")]).counts == {"created": 1}


def test_duplicates_within_the_input(tmp_path: Path) -> None:
    script = Script()
    with _submitter(script, tmp_path) as s:
        r = s.submit([small_job("a"), small_job("a"), changed_job("a")])
    assert [o.status for o in r.outcomes] == ["created", "duplicate", "conflict"]
    assert len(script.requests) == 1


def test_refused_before_sending(tmp_path: Path) -> None:
    script = Script()
    no_wf = small_job("nowf")
    del no_wf["work_flow_id"]
    invalid = small_job("inv")
    invalid["data"]["video_data"]["frames"][0]["src"] = "not a url"
    with _submitter(script, tmp_path) as s:
        r = s.submit([no_wf, invalid, {"data": {}}, "nope"])
    codes = [o.error_code for o in r.outcomes]
    assert codes == [api.LOCAL_NO_WORKFLOW, api.LOCAL_INVALID, api.LOCAL_INVALID, api.LOCAL_INVALID]
    assert "$.data.video_data.frames[0].src" in (r.outcomes[1].error_message or "")
    assert script.requests == []


def test_workflow_and_batch_fill_only_what_is_missing(tmp_path: Path) -> None:
    script = Script()
    mine = small_job("b")
    mine["batch_id"] = "B-own"
    no_wf = small_job("a")
    del no_wf["work_flow_id"]
    with _submitter(script, tmp_path, workflow_id="WF", batch_id="B-default") as s:
        assert s.submit([no_wf, mine]).ok
    a, b = script.bodies["a"], script.bodies["b"]
    assert (a["work_flow_id"], a["batch_id"]) == ("WF", "B-default")
    assert (b["work_flow_id"], b["batch_id"]) == ("wf-1", "B-own")


def test_sandbox_end_to_end_with_batch_and_job_ids(tmp_path: Path) -> None:
    with Sandbox(KEY, reset_rate=0.3, seed=3, retry_after=0) as sb:
        with Submitter(
            "p",
            KEY,
            base_url=sb.url,
            ledger=tmp_path / "l.sqlite",
            limits=Limits(rate=0),
            retries=Retries(backoff=0.001),
        ) as s:
            batch = s.create_batch("b1", "first", reuse=True)
            s.batch_id = batch.batch_id
            r = s.submit(jobs(60))
            assert r.ok
            assert r.counts["exists"] > 0
            server = {j["reference_id"]: j["job_id"] for j in sb.jobs()}
            rows = {row.reference_id: row for row in s.ledger.rows()}
        assert len(server) == 60
        # exists rows got their job_id from the batch listing
        assert {ref: row.job_id for ref, row in rows.items()} == server
        assert {o.reference_id: o.job_id for o in r.outcomes} == server


def test_batch_create_is_idempotent_when_answers_are_lost() -> None:
    with Sandbox(KEY, reset_rate=1.0) as sb:  # every POST is handled, then dropped
        with Submitter(
            "p", KEY, base_url=sb.url, limits=Limits(rate=0), retries=Retries(backoff=0.001)
        ) as s:
            info = s.create_batch("nightly", reuse=False)
            assert info.created
            with pytest.raises(SubmitError, match="exists already"):
                s.create_batch("nightly")
            assert s.create_batch("nightly", reuse=True).batch_id == info.batch_id
        assert [b["name"] for b in sb.batches("p")] == ["nightly"]


def test_ledger_of_another_api_is_refused(tmp_path: Path) -> None:
    with _submitter(Script(), tmp_path):
        pass
    with pytest.raises(SubmitError, match="base_url"):
        Submitter("p", KEY, base_url="http://127.0.0.1:10", ledger=tmp_path / "l.sqlite")


def test_plain_http_refused_before_any_connection() -> None:
    with pytest.raises(ValueError, match="plain http"):
        Submitter("p", KEY, base_url="http://api.example.com")


def test_key_is_not_in_repr_or_messages(tmp_path: Path) -> None:
    # a proxy that echoes the request headers into its error page
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=f"bad request: {dict(request.headers)}")

    with Submitter(
        "p", KEY, base_url=URL, ledger=tmp_path / "l.sqlite", transport=httpx.MockTransport(echo)
    ) as s:
        assert KEY not in repr(s)
        r = s.submit([small_job("a")])
        row = s.ledger.get("a")
    assert row is not None
    assert row.error_message is not None
    assert "***" in row.error_message
    assert KEY not in row.error_message
    assert KEY not in repr(r)


def _stopped_mid_retry(call: Any, path_end: str) -> tuple[BaseException | None, int]:
    """Run ``call(submitter)`` against an API answering 503 to every request to a path
    ending in ``path_end`` (and "ok" listings otherwise), with a backoff of an hour; stop
    the submitter once the first such request is in. Returns what ``call`` raised and how
    many such requests arrived."""
    arrived = threading.Event()
    hits: list[str] = []
    script = Script()

    def api_(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(path_end):
            hits.append(request.method)
            arrived.set()
            return _error(503, "api_error", "try later")
        return script(request)

    raised: list[BaseException | None] = [None]
    with Submitter(
        "p",
        KEY,
        base_url=URL,
        transport=httpx.MockTransport(api_),
        limits=Limits(rate=0),
        retries=Retries(backoff=3600, backoff_cap=3600, max_attempts=5, seed=0),
    ) as s:

        def run() -> None:
            try:
                call(s)
            except BaseException as exc:
                raised[0] = exc

        worker = threading.Thread(target=run)
        worker.start()
        assert arrived.wait(30)
        s.stop("interrupted by SIGINT")
        worker.join(30)
        assert not worker.is_alive()  # the hour of backoff was not waited out
    return raised[0], len(hits)


def test_stop_ends_a_batch_creation_in_its_backoff() -> None:
    raised, hits = _stopped_mid_retry(lambda s: s.create_batch("nightly"), "/batch")
    assert isinstance(raised, SubmitError)
    assert "batch 'nightly': interrupted" in str(raised)
    assert hits == 1


def test_stop_ends_a_listing_in_its_backoff() -> None:
    raised, hits = _stopped_mid_retry(lambda s: s.batches(), "/details")
    assert isinstance(raised, SubmitError)
    assert "interrupted" in str(raised)
    assert hits == 1


def test_listing_gives_up_after_max_attempts_with_the_last_error() -> None:
    script = Script()

    def api_(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/details"):
            script.requests.append((0.0, "GET", ""))
            return _error(503, "api_error", "try later")
        return script(request)

    with (
        Submitter(
            "p",
            KEY,
            base_url=URL,
            transport=httpx.MockTransport(api_),
            limits=Limits(rate=0),
            retries=Retries(backoff=0, max_attempts=3),
        ) as s,
        pytest.raises(SubmitError, match=r"gave up after 3 attempts \(api_error: try later\)"),
    ):
        s.default_batch()
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: Retries(max_attempts=0),
        lambda: Retries(backoff=-1),
        lambda: Limits(concurrency=0),
        lambda: Limits(rate=-1),
        lambda: Timeouts(0),
    ],
)
def test_settings_are_checked_where_they_are_written(make: Any) -> None:
    with pytest.raises(ValueError, match="must be|are required"):
        make()


def test_a_number_is_the_request_timeout() -> None:
    with Submitter("p", KEY, base_url=URL, timeouts=2.5) as s:
        assert s.timeouts == Timeouts(request=2.5)


def test_status_prints_and_counts_as_its_value() -> None:
    assert f"{Status.NOT_SENT}" == str(Status.NOT_SENT) == "not_sent"
    assert Status("created") is Status.CREATED
    assert Status.CREATED.ok
    assert not Status.FAILED.ok
    assert not Status.NOT_SENT.ok
    assert orjson.dumps({"s": Status.CONFLICT}) == b'{"s":"conflict"}'

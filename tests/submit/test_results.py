"""Results back: fetching completed jobs' results against the sandbox (fake clock) and
scripted servers, and the ledger's results table."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result

from prelabel.cli import main
from prelabel.errors import InputError
from prelabel.submit import api
from prelabel.submit.client import Submitter
from prelabel.submit.config import Limits, Retries
from prelabel.submit.ledger import JobState, Ledger, ResultState
from prelabel.submit.results import (
    INVALID_RESULT,
    NO_RESULT_URL,
    REDIRECT_REFUSED,
    RESULT_TOO_LARGE,
    TOO_MANY_REDIRECTS,
    FetchResult,
    FetchStatus,
    fetch_results,
    result_file_name,
    result_problem,
    saved_results,
)
from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, jobs, ledger_bytes, small_job

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "results"
FAST = Retries(backoff=0.0, max_attempts=8)


class Clock:
    """The sandbox's clock, moved by hand: no test sleeps for a job to complete."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _sandbox(clock: Clock, **kw: Any) -> Sandbox:
    kw.setdefault("annotate", 10.0)
    return Sandbox(KEY, retry_after=0, clock=clock, annotate_seed=3, **kw)


@pytest.fixture
def annotating(clock: Clock) -> Iterator[Sandbox]:
    with _sandbox(clock) as sb:
        yield sb


def _submit(sb: Sandbox, ledger: Path, payloads: list[dict[str, Any]]) -> None:
    with Submitter(
        "p", KEY, base_url=sb.url, ledger=ledger, retries=FAST, limits=Limits(rate=0)
    ) as s:
        assert s.submit(payloads).ok


def _fetch(ledger: Path | Ledger, out: Path, **kw: Any) -> FetchResult:
    kw.setdefault("retries", FAST)
    kw.setdefault("limits", Limits(rate=0))  # the API's 5/s is not what these tests test
    return fetch_results(ledger, out, api_key=KEY, **kw)


def _fetch_cli(ledger: Path, out: Path, *options: str) -> Result:
    """``prelabel results fetch LEDGER -o OUT -q --rate 0 OPTIONS``, the key in the
    environment."""
    args = ["results", "fetch", str(ledger), "-o", str(out), "-q", "--rate", "0", *options]
    return CliRunner().invoke(main, args, env={api.API_KEY_ENV: KEY})


def _by_ref(result: FetchResult) -> dict[str, FetchStatus]:
    return {o.reference_id: o.status for o in result.outcomes}


def test_waiting_jobs_are_left_completed_saved_and_never_fetched_again(
    annotating: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    ledger, out = tmp_path / "l.sqlite", tmp_path / "results"
    _submit(annotating, ledger, jobs(3, "early"))
    clock.now += 5
    _submit(annotating, ledger, jobs(1, "late"))
    clock.now += 5  # early-*: 10 s old, completed; late-00000: 5 s old, not yet

    got = _fetch(ledger, out)
    assert _by_ref(got) == {
        "early-00000": FetchStatus.FETCHED,
        "early-00001": FetchStatus.FETCHED,
        "early-00002": FetchStatus.FETCHED,
        "late-00000": FetchStatus.WAITING,
    }
    assert [o.job_status for o in got.waiting] == ["pending"]
    assert got.ok
    served = {j["reference_id"]: j["job_id"] for j in annotating.jobs()}
    for ref in ("early-00000", "early-00001", "early-00002"):
        saved = (out / f"{ref}.json").read_bytes()
        # what the server sent, byte for byte
        assert saved == orjson.dumps(annotating.result_of(served[ref]))
    assert not (out / "late-00000.json").exists()
    with Ledger(ledger, readonly=True) as led:
        counts = led.result_counts()
    assert counts == {
        "created": 4,
        "no_job_id": 0,
        "not_checked": 0,
        "waiting": 1,
        "completed": 0,
        "fetched": 3,
        "failed": 0,
    }

    # a rerun at the same moment: the fetched are not asked for again, only late-00000
    requests, results_served = annotating.stats["requests"], annotating.stats["results_served"]
    again = _fetch(ledger, out)
    assert again.counts == {"done": 3, "waiting": 1}
    assert annotating.stats["requests"] - requests == 1  # GET job of late-00000
    assert annotating.stats["results_served"] == results_served

    clock.now += 5
    last = _fetch(ledger, out)
    assert last.counts == {"done": 3, "fetched": 1}
    assert sorted(saved_results(out)) == ["early-00000", "early-00001", "early-00002", "late-00000"]


def test_a_fetched_file_removed_is_fetched_again(
    annotating: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    ledger, out = tmp_path / "l.sqlite", tmp_path / "r"
    _submit(annotating, ledger, jobs(2))
    clock.now += 10
    assert _fetch(ledger, out).counts == {"fetched": 2}
    (out / "job-00001.json").unlink()
    assert _by_ref(_fetch(ledger, out)) == {
        "job-00000": FetchStatus.DONE,
        "job-00001": FetchStatus.FETCHED,
    }


def test_the_key_never_reaches_storage_nor_any_byte_written(
    annotating: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    ledger, out, report = tmp_path / "l.sqlite", tmp_path / "r", tmp_path / "report.jsonl"
    payloads = [
        orjson.loads(line)
        for line in (FIXTURES / "prelabels.jsonl").read_bytes().split(b"\n")
        if line
    ]
    _submit(annotating, ledger, payloads + jobs(2))
    clock.now += 10
    # the storage host would have refused a request with the key: this test can fail
    with httpx.Client(timeout=5) as c:
        done = annotating.jobs()[0]["job_id"]
        r = c.get(
            f"{annotating.url}/v1/attachments",
            params={"url": f"{annotating.url}/storage/results/{done}.json"},
            headers={"x-api-key": KEY},
        )
        assert r.status_code == 302
        assert c.get(r.headers["location"], headers={"x-api-key": KEY}).status_code == 400
    assert annotating.stats["key_at_storage"] == 1
    run = _fetch_cli(ledger, out, "--report", str(report))
    assert run.exit_code == 0, run.output
    assert annotating.stats["key_at_storage"] == 1  # no more than the test's own
    assert annotating.stats["results_served"] == 4  # the refused request got nothing
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len([p for p in written if p.parent == out]) == 4
    for p in written:
        assert KEY.encode() not in p.read_bytes(), p
    assert KEY.encode() not in ledger_bytes(ledger)
    assert KEY not in run.output
    lines = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    assert sorted(x["status"] for x in lines) == ["fetched"] * 4


def test_the_example_results_are_what_the_sandbox_serves(clock: Clock, tmp_path: Path) -> None:
    """fixtures/results is made by make_results.py with seed 7; the bytes still match."""
    payloads = [
        orjson.loads(line)
        for line in (FIXTURES / "prelabels.jsonl").read_bytes().splitlines()
        if line.strip()
    ]
    with Sandbox(KEY, annotate=0, annotate_seed=7, clock=clock) as sb:
        _submit(sb, tmp_path / "l.sqlite", payloads)
        assert _fetch(tmp_path / "l.sqlite", tmp_path / "r").counts == {"fetched": 2}
    for ref in ("drive-07", "street"):
        assert (tmp_path / "r" / f"{ref}.json").read_bytes() == (
            FIXTURES / f"{ref}.json"
        ).read_bytes()


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/result.json",
        "data:application/json,{}",
        "http://storage.example.com/result.json",  # plain http off loopback
        "javascript:alert(1)",
    ],
)
def test_a_redirect_to_a_refused_target_is_not_followed(
    clock: Clock, tmp_path: Path, location: str
) -> None:
    with _sandbox(clock, redirect_location=lambda _u: location) as sb:
        _submit(sb, tmp_path / "l.sqlite", jobs(1))
        clock.now += 10
        got = _fetch(tmp_path / "l.sqlite", tmp_path / "r")
        assert sb.stats["results_served"] == 0
    (o,) = got.outcomes
    assert o.status is FetchStatus.FAILED
    assert o.error_code == REDIRECT_REFUSED
    assert o.attempts == 1  # refused, not retried
    assert not got.ok
    assert not (tmp_path / "r" / "job-00000.json").exists()


def test_a_redirect_holding_the_key_is_refused_and_the_key_not_recorded(
    clock: Clock, tmp_path: Path
) -> None:
    with _sandbox(clock, redirect_location=lambda u: f"{u}&leak={KEY}") as sb:
        _submit(sb, tmp_path / "l.sqlite", jobs(1))
        clock.now += 10
        got = _fetch(tmp_path / "l.sqlite", tmp_path / "r")
    assert got.outcomes[0].error_code == REDIRECT_REFUSED
    assert got.withheld >= 1
    assert KEY.encode() not in ledger_bytes(tmp_path / "l.sqlite")


def test_an_oversize_result_is_refused_and_fetched_with_a_larger_cap(
    annotating: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    ledger, out = tmp_path / "l.sqlite", tmp_path / "r"
    _submit(annotating, ledger, jobs(1))
    clock.now += 10
    got = _fetch(ledger, out, limits=Limits(rate=0, result_bytes=100))
    (o,) = got.outcomes
    assert (o.status, o.error_code) == (FetchStatus.FAILED, RESULT_TOO_LARGE)
    assert o.attempts == 1
    assert list(out.glob("*")) == []
    with Ledger(ledger, readonly=True) as led:
        assert led.result_counts()["failed"] == 1
        assert led.result_rows(ResultState.FAILED)[0].job_status == "completed"
    assert _fetch(ledger, out).counts == {"fetched": 1}


def _faults(sb: Sandbox) -> int:
    return sb.stats["fault_503"] + sb.stats["fault_429"] + sb.stats["fault_storage_500"]


def test_5xx_and_429_are_retried(clock: Clock, tmp_path: Path) -> None:
    with _sandbox(clock, fail_rate=0.4, seed=5) as sb:
        _submit(sb, tmp_path / "l.sqlite", jobs(6))
        clock.now += 10
        before = _faults(sb)
        got = _fetch(
            tmp_path / "l.sqlite", tmp_path / "r", retries=Retries(backoff=0, max_attempts=40)
        )
        faults = _faults(sb) - before
    assert got.counts == {"fetched": 6}
    assert faults > 0
    assert got.retries == faults  # every fault met by the fetch was retried, and counted
    assert sb.stats["fault_storage_500"] > 0


def test_a_refused_key_stops_the_run(annotating: Sandbox, clock: Clock, tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    _submit(annotating, ledger, jobs(3))
    clock.now += 10
    got = fetch_results(
        ledger,
        tmp_path / "r",
        api_key="pk_wrong_key_000",
        retries=FAST,
        limits=Limits(rate=0, concurrency=1),
    )
    assert got.stop_reason is not None
    assert got.counts["failed"] == 1
    assert got.counts["not_fetched"] == 2
    assert annotating.stats["unauthorized"] == 1


def test_a_job_without_job_id_is_reported(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite") as led:
        led.bind("p", "https://api.example.com")
        run, _ = led.begin_run()
        led.mark_sending("a", "0" * 64, None, run)
        led.record("a", JobState.CREATED)
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(_never))
    assert got.counts == {"no_job_id": 1}
    assert not got.ok


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected: {request.url}")


# -- scripted servers: the https redirect, the shape check, status case --------------------


class Script:
    """An API on https://api.example.com and a storage host, recording every request."""

    def __init__(self, body: bytes, status: str = "COMPLETED", hops: int = 1) -> None:
        self.body, self.status, self.hops = body, status, hops
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        url = request.url
        if url.host == "api.example.com" and url.path.startswith("/v1/projects/p/jobs/"):
            data = {"status": self.status, "result": "https://private.example.com/r.json"}
            return httpx.Response(200, json={"data": data, "success": True})
        if url.host == "api.example.com" and url.path == "/v1/attachments":
            assert url.params["url"] == "https://private.example.com/r.json"
            return httpx.Response(302, headers={"location": "https://storage.example.com/s/1"})
        if url.host == "storage.example.com":
            n = int(url.path.rsplit("/", 1)[1])
            if n < self.hops:
                return httpx.Response(307, headers={"location": f"/s/{n + 1}"})
            return httpx.Response(200, content=self.body)
        return httpx.Response(404)


def _ledger(tmp_path: Path, ref: str = "a") -> Ledger:
    led = Ledger(tmp_path / "l.sqlite")
    led.bind("p", "https://api.example.com")
    run, _ = led.begin_run()
    led.mark_sending(ref, "0" * 64, None, run)
    led.record(ref, JobState.CREATED, job_id="j-1")
    return led


GOOD = orjson.dumps(
    {"data": {"annotation_data": {"annotations": []}, "video_data": {"frames": []}}}
)


def test_https_redirect_followed_without_the_key_and_status_in_any_case(tmp_path: Path) -> None:
    script = Script(GOOD, status="COMPLETED", hops=3)
    with _ledger(tmp_path) as led:
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(script))
    assert got.counts == {"fetched": 1}
    assert (tmp_path / "r" / "a.json").read_bytes() == GOOD
    api_hosts = [r for r in script.seen if r.url.host == "api.example.com"]
    storage = [r for r in script.seen if r.url.host == "storage.example.com"]
    assert [r.url.path for r in storage] == ["/s/1", "/s/2", "/s/3"]
    assert all(r.headers.get("x-api-key") == KEY for r in api_hosts)
    assert all("x-api-key" not in r.headers for r in storage)


@pytest.mark.parametrize(("hops", "fetched"), [(5, True), (6, False), (99, False)])
def test_at_most_five_redirects_are_followed(tmp_path: Path, hops: int, fetched: bool) -> None:
    script = Script(GOOD, hops=hops)
    with _ledger(tmp_path) as led:
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(script))
    # the attachments redirect is the first hop; storage adds hops - 1
    assert (got.outcomes[0].error_code is None) is fetched
    if not fetched:
        assert got.outcomes[0].error_code == TOO_MANY_REDIRECTS
        assert len([r for r in script.seen if r.url.host == "storage.example.com"]) == 5


def test_a_result_url_holding_the_key_is_not_used(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.startswith("/v1/projects/")  # never the attachments API
        data = {"status": "completed", "result": f"https://x.example.com/r.json?k={KEY}"}
        return httpx.Response(200, json={"data": data, "success": True})

    with _ledger(tmp_path) as led:
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(handler))
    assert got.outcomes[0].error_code == NO_RESULT_URL
    assert got.withheld == 1
    assert KEY.encode() not in ledger_bytes(tmp_path / "l.sqlite")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"<html>not json</html>", "not JSON"),
        (b'{"data": {"annotations": {}}}', "$.data.annotation_data"),
        (
            b'{"data": {"annotation_data": {"annotations": [{"type": "rectangle"}]}, '
            b'"video_data": {"frames": []}}}',
            "$.data.annotation_data.annotations[0].frames",
        ),
        (
            b'{"data": {"annotation_data": {"annotations": []}, "video_data": {}}}',
            "$.data.video_data.frames",
        ),
    ],
)
def test_a_result_not_of_the_video_shape_is_one_error_row(
    tmp_path: Path, body: bytes, where: str
) -> None:
    with _ledger(tmp_path) as led:
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(Script(body)))
        rows = led.result_rows(ResultState.FAILED)
    (o,) = got.outcomes
    assert (o.status, o.error_code) == (FetchStatus.FAILED, INVALID_RESULT)
    assert o.error_message is not None
    assert where in o.error_message
    assert [r.error_code for r in rows] == [INVALID_RESULT]
    assert not (tmp_path / "r" / "a.json").exists()


def test_a_result_holding_the_key_is_not_saved(tmp_path: Path) -> None:
    body = GOOD[:-2] + b', "note": "' + KEY.encode() + b'"}}'
    with _ledger(tmp_path) as led:
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(Script(body)))
    assert got.outcomes[0].error_code == "result_holds_key"
    assert not (tmp_path / "r" / "a.json").exists()
    assert KEY.encode() not in ledger_bytes(tmp_path / "l.sqlite")


def test_completed_without_a_result_url_fails(tmp_path: Path) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"status": "completed", "result": None}})

    with _ledger(tmp_path) as led:
        got = _fetch(led, tmp_path / "r", transport=httpx.MockTransport(handler))
    assert got.outcomes[0].error_code == NO_RESULT_URL


# -- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("drive-07", "drive-07.json"),
        ("a/b", "a%2Fb.json"),
        ("../evil", "%2E.%2Fevil.json"),  # "." is kept inside, encoded in front
        (".hidden", "%2Ehidden.json"),
        ("CON", "%43ON.json"),
        ("nul.txt", "%6Eul.txt.json"),
        ("100%", "100%25.json"),
        ("é x", "%C3%A9%20x.json"),
        ("a\\b:c", "a%5Cb%3Ac.json"),
    ],
)
def test_result_file_names_are_safe_and_reversible(ref: str, name: str) -> None:
    assert result_file_name(ref) == name
    assert unquote(name[: -len(".json")]) == ref


@pytest.mark.parametrize("ref", ["", "x" * 300, "\ud800"])
def test_no_file_name_for_some_reference_ids(ref: str) -> None:
    assert result_file_name(ref) is None


def test_a_traversing_reference_id_stays_inside_the_folder(
    annotating: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    ledger, out = tmp_path / "l.sqlite", tmp_path / "deep" / "r"
    _submit(annotating, ledger, [small_job("../../evil"), small_job("x" * 300)])
    clock.now += 10
    got = _fetch(ledger, out)
    assert _by_ref(got) == {"../../evil": FetchStatus.FETCHED, "x" * 300: FetchStatus.FAILED}
    assert sorted(os.listdir(out)) == ["%2E.%2F..%2Fevil.json"]
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents]
    assert all(p.name.startswith("l.sqlite") for p in outside), outside
    assert saved_results(out) == {"../../evil": out / "%2E.%2F..%2Fevil.json"}


def test_result_problem_accepts_the_example_results() -> None:
    for ref in ("drive-07", "street"):
        assert result_problem(orjson.loads((FIXTURES / f"{ref}.json").read_bytes())) is None


# -- the ledger ----------------------------------------------------------------------------


def _as_schema_1(path: Path) -> None:
    """Turn a ledger into what prelabel wrote before results existed."""
    db = sqlite3.connect(path)
    db.execute("DROP TABLE results")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()


def test_a_schema_1_ledger_reads_and_upgrades(
    annotating: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    ledger = tmp_path / "l.sqlite"
    _submit(annotating, ledger, jobs(2))
    _as_schema_1(ledger)
    with Ledger(ledger, readonly=True) as led:
        assert led.schema_version == "1"
        assert led.result_counts()["not_checked"] == 2
        assert led.result_rows() == []
        assert led.counts()["created"] == 2
    run = CliRunner().invoke(main, ["results", "status", str(ledger)])
    assert run.exit_code == 0
    assert "not checked yet         2" in run.output
    clock.now += 10
    assert _fetch(ledger, tmp_path / "r").counts == {"fetched": 2}
    with Ledger(ledger, readonly=True) as led:
        assert led.schema_version == "2"
        assert led.counts()["created"] == 2
        assert led.result_counts()["fetched"] == 2


def test_results_status_cli_counts_and_failures(clock: Clock, tmp_path: Path) -> None:
    ledger, out = tmp_path / "l.sqlite", tmp_path / "r"
    with _sandbox(clock) as sb:
        _submit(sb, ledger, jobs(2))
        clock.now += 10
        _submit(sb, ledger, jobs(1, "new"))
        run = _fetch_cli(ledger, out, "--max-result-mb", "0.0001")
    assert run.exit_code == 1, run.output
    assert "waiting new-00000 (job status: pending)" in run.output
    assert "job-00000: failed: result_too_large" in run.output
    status = CliRunner().invoke(main, ["results", "status", str(ledger), "--json"])
    assert status.exit_code == 1
    doc = orjson.loads(status.output)
    assert doc["counts"] == {
        "created": 3,
        "no_job_id": 0,
        "not_checked": 0,
        "waiting": 1,
        "completed": 0,
        "fetched": 0,
        "failed": 2,
    }
    assert {f["code"] for f in doc["failed"]} == {RESULT_TOO_LARGE}


def test_fetch_cli_refuses_a_ledger_of_no_project(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.sqlite").close()
    run = _fetch_cli(tmp_path / "l.sqlite", tmp_path / "r")
    assert run.exit_code == 2
    assert "names no project" in run.output


def test_fetch_results_refuses_a_missing_ledger_and_makes_no_file(tmp_path: Path) -> None:
    missing = tmp_path / "l.sqlite"
    with pytest.raises(InputError, match="no such ledger"):
        fetch_results(missing, tmp_path / "r", api_key=KEY, base_url="http://127.0.0.1:9")
    assert sorted(os.listdir(tmp_path)) == []


def test_fetch_via_the_submitter(annotating: Sandbox, clock: Clock, tmp_path: Path) -> None:
    seen: list[str] = []
    _submit(annotating, tmp_path / "l.sqlite", jobs(2))
    clock.now += 10
    with Submitter("p", KEY, base_url=annotating.url, ledger=tmp_path / "l.sqlite") as s:
        got = s.fetch_results(tmp_path / "r", on_outcome=lambda o: seen.append(o.status.value))
    assert seen == ["fetched", "fetched"]
    assert got.ok


def test_the_loop_through_the_cli_against_prelabel_sandbox_annotate(tmp_path: Path) -> None:
    """``prelabel sandbox --annotate 0 --seed 7`` in its own process, then submit and
    results fetch: the files are the example results, byte for byte."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", "from prelabel.cli import main; main()", "sandbox", "--port", "0",
         "--api-key", KEY, "--annotate", "0", "--seed", "7", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    env = {api.API_KEY_ENV: KEY}
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        ledger, out = tmp_path / "l.sqlite", tmp_path / "results"
        sent = CliRunner().invoke(
            main,
            ["submit", str(FIXTURES / "prelabels.jsonl"), "--project-id", "demo",
             "--base-url", url, "--ledger", str(ledger), "--rate", "0", "-q"],
            env=env,
        )  # fmt: skip
        assert sent.exit_code == 0, sent.output
        got = _fetch_cli(ledger, out)
        assert got.exit_code == 0, got.output
        assert "2 jobs: 2 fetched" in got.output
    finally:
        proc.terminate()
        proc.wait(10)
    for ref in ("drive-07", "street"):
        assert (out / f"{ref}.json").read_bytes() == (FIXTURES / f"{ref}.json").read_bytes()
    status = CliRunner().invoke(main, ["results", "status", str(ledger)])
    assert status.exit_code == 0
    assert "fetched                 2" in status.output


def test_a_streamed_result_past_the_cap_is_cut_off(tmp_path: Path) -> None:
    """No Content-Length: the body is counted as it arrives and dropped past the cap."""
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b" " * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.example.com":
            return httpx.Response(200, content=chunks())
        return Script(GOOD)(request)

    with _ledger(tmp_path) as led:
        got = _fetch(
            led,
            tmp_path / "r",
            transport=httpx.MockTransport(handler),
            limits=Limits(rate=0, result_bytes=10 * 1024),
        )
    assert got.outcomes[0].error_code == RESULT_TOO_LARGE
    assert len(sent) <= 12  # 10 KiB cap: read up to the 11th chunk, not the 1,000
    assert not (tmp_path / "r").exists()


def test_the_result_cap_is_checked() -> None:
    with pytest.raises(ValueError, match="result_bytes"):
        Limits(result_bytes=0)

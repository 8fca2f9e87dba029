"""``results fetch`` against a hostile server (tests/submit/hostile.py, mode ``results``):
the key never comes back out, nothing the server says is used before it is checked, and
bad answers give one error per job (or, for bad options, exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from prelabel.cli import main
from prelabel.submit import api
from prelabel.submit.config import Limits, Retries, Timeouts
from prelabel.submit.ledger import JobState, Ledger
from prelabel.submit.results import (
    INVALID_ANSWER,
    JOB_MISMATCH,
    NO_RESULT_URL,
    RESULT_HOLDS_KEY,
    FetchOutcome,
    FetchResult,
    FetchStatus,
    fetch_results,
)

from .conftest import KEY, ledger_bytes
from .hostile import HostileServer

GOOD: dict[str, Any] = {
    "data": {"annotation_data": {"annotations": []}, "video_data": {"frames": []}}
}


def _ledger(path: Path, url: str, job_id: str = "j-1", ref: str = "a") -> Path:
    with Ledger(path) as led:
        led.bind("p", url)
        run, _ = led.begin_run()
        led.mark_sending(ref, "0" * 64, None, run)
        led.record(ref, JobState.CREATED, job_id=job_id)
    return path


def _fetch(
    srv: HostileServer,
    tmp_path: Path,
    job_id: str = "j-1",
    *,
    timeout: float = 5,
    limits: Limits | None = None,
) -> FetchResult:
    ledger = _ledger(tmp_path / "l.sqlite", srv.url, job_id)
    return fetch_results(
        ledger,
        tmp_path / "r",
        api_key=KEY,
        retries=Retries(backoff=0, max_attempts=2),
        limits=limits or Limits(concurrency=1, rate=0),
        timeouts=Timeouts(timeout),
    )


def _cli(tmp_path: Path, *options: str, debug: bool = False) -> Result:
    args = ["--debug"] if debug else []
    args += ["results", "fetch", str(tmp_path / "l.sqlite"), "-o", str(tmp_path / "r"), "-q"]
    args += ["--rate", "0", "--max-attempts", "2", "--backoff-base", "0", *options]
    return CliRunner().invoke(main, args, env={api.API_KEY_ENV: KEY})


def _nothing_written_holds_the_key(tmp_path: Path, *texts: str) -> None:
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p
    assert KEY.encode() not in ledger_bytes(tmp_path / "l.sqlite")
    for t in texts:
        assert KEY not in t


def _one(got: FetchResult) -> FetchOutcome:
    (o,) = got.outcomes
    return o


def test_a_result_holding_the_key_json_escaped_is_not_saved(tmp_path: Path) -> None:
    """``pk\\u005fCANARY...`` holds no key byte for byte, but every reader of the file
    (export, compare) would get the key back: the parsed result is checked."""
    with HostileServer("results") as srv:
        srv.result = (
            orjson.dumps(GOOD)[:-2] + b', "note": "' + KEY.replace("_", "\\u005f").encode() + b'"}}'
        )
        got = _fetch(srv, tmp_path)
    o = _one(got)
    assert (o.status, o.error_code) == (FetchStatus.FAILED, RESULT_HOLDS_KEY)
    assert not (tmp_path / "r" / "a.json").exists()
    _nothing_written_holds_the_key(tmp_path)


def test_a_result_holding_the_key_as_an_object_key_deep_down_is_not_saved(
    tmp_path: Path,
) -> None:
    escaped = KEY.replace("_", "\\u005f").encode()
    nested = b"[" * 900 + b'{"' + escaped + b'": 1}' + b"]" * 900  # deeper than recursion goes
    with HostileServer("results") as srv:
        srv.result = orjson.dumps(GOOD)[:-2] + b', "extra": ' + nested + b"}}"
        got = _fetch(srv, tmp_path)
    o = _one(got)
    assert (o.status, o.error_code) == (FetchStatus.FAILED, RESULT_HOLDS_KEY)
    _nothing_written_holds_the_key(tmp_path)


def test_a_deeply_nested_job_answer_is_one_failure_not_a_crash(tmp_path: Path) -> None:
    """900 levels: orjson parses it (its limit is 1024), and the scrubbing boundary must
    walk it without a RecursionError."""
    with HostileServer("results") as srv:
        srv.job_raw = b'{"success": true, "data": {"status": "completed", "x": '
        srv.job_raw += b"[" * 900 + b"]" * 900 + b"}}"
        srv.job = None
        got = _fetch(srv, tmp_path)
        run = _cli(tmp_path)
    o = _one(got)
    # the answer is read whole; no usable result URL in it
    assert (o.status, o.error_code) == (FetchStatus.FAILED, NO_RESULT_URL)
    assert run.exit_code == 1, run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize("job_id", ["..", "."])
def test_a_dot_job_id_is_not_a_path_segment(tmp_path: Path, job_id: str) -> None:
    """A job_id of ``..`` (which the server chose when the job was created) must not turn
    GET job into GET /v1/projects/p (or ``.`` into the job listing)."""
    with HostileServer("results") as srv:
        _fetch(srv, tmp_path, job_id=job_id)
        first = srv.paths[0]
    assert first == "/v1/projects/p/jobs/" + job_id.replace(".", "%2E")


@pytest.mark.parametrize("status", [1, True, None, ["completed"], {"s": "completed"}, 1.5])
def test_a_status_of_an_odd_type_is_an_error_not_waiting(tmp_path: Path, status: Any) -> None:
    with HostileServer("results") as srv:
        srv.job = {"status": status, "result": "https://private.example.com/r.json"}
        got = _fetch(srv, tmp_path)
    o = _one(got)
    assert (o.status, o.error_code) == (FetchStatus.FAILED, INVALID_ANSWER)
    assert "status" in (o.error_message or "")
    assert not got.ok


def test_a_huge_or_multiline_status_is_bounded_and_on_one_line(tmp_path: Path) -> None:
    with HostileServer("results") as srv:
        srv.job = {"status": "\x1b[2Jpending\nerror: fake line " + "x" * 500_000}
        got = _fetch(srv, tmp_path)
        run = _cli(tmp_path)
    o = _one(got)
    assert o.status is FetchStatus.FAILED
    assert o.error_code == INVALID_ANSWER
    assert o.job_status is None
    assert len(o.error_message or "") < 1000
    assert len(ledger_bytes(tmp_path / "l.sqlite")) < 200_000
    assert "\x1b" not in run.output
    assert "\nerror: fake line" not in run.output


def test_a_long_error_message_is_cut_and_kept_on_one_line(tmp_path: Path) -> None:
    with HostileServer("results") as srv:
        srv.job_http_status = 400
        srv.job_raw = orjson.dumps(
            {"success": False, "error": {"code": "E1", "message": "bad\n\x1b[31m" + "y" * 800_000}}
        )
        got = _fetch(srv, tmp_path)
        run = _cli(tmp_path)
    o = _one(got)
    assert o.status is FetchStatus.FAILED
    assert len(o.error_message or "") < 1000
    assert "\x1b" not in run.output
    assert len(run.output) < 5000


def test_the_answer_of_another_job_is_not_saved_as_ours(tmp_path: Path) -> None:
    with HostileServer("results") as srv:
        srv.job = {
            "status": "completed",
            "job_id": "j-2",
            "reference_id": "b",
            "result": "https://private.example.com/r.json",
        }
        got = _fetch(srv, tmp_path)
        served = srv.requests["/storage/r.json"]
    o = _one(got)
    assert (o.status, o.error_code) == (FetchStatus.FAILED, JOB_MISMATCH)
    assert served == 0
    assert not (tmp_path / "r" / "a.json").exists()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:pw@private.example.com/r.json",
        "/relative/r.json",
        "https://private.example.com/" + "x" * 100_000,
        "https://private.example.com/a\nb",
    ],
)
def test_a_result_url_not_of_a_storage_host_is_not_handed_on(tmp_path: Path, url: str) -> None:
    with HostileServer("results") as srv:
        srv.job = {"status": "completed", "result": url}
        got = _fetch(srv, tmp_path)
        attachments = srv.requests["/v1/attachments"]
    o = _one(got)
    assert (o.status, o.error_code) == (FetchStatus.FAILED, NO_RESULT_URL)
    assert attachments == 0
    assert len(o.error_message or "") < 1000


def test_a_result_url_on_another_host_is_only_handed_to_the_attachments_api(
    tmp_path: Path,
) -> None:
    """The result URL is never requested itself (with or without the key): the API's
    attachments proxy is asked for it, and only API paths get the key."""
    with HostileServer("results") as srv:
        srv.job = {"status": "completed", "result": "{url}/direct/r.json?k={key}"}
        got = _fetch(srv, tmp_path)
        paths, keyed = list(srv.paths), list(srv.keyed)
    assert _one(got).error_code == NO_RESULT_URL  # it held the key
    assert not any(p.startswith("/direct") for p in paths)
    with HostileServer("results") as srv:
        srv.job = {"status": "completed", "result": "https://elsewhere.example.com/r.json"}
        (tmp_path / "2").mkdir()
        got = _fetch(srv, tmp_path / "2")
        paths, keyed = list(srv.paths), list(srv.keyed)
    assert _one(got).status is FetchStatus.FETCHED
    assert [p.split("?")[0] for p in keyed] == ["/v1/projects/p/jobs/j-1", "/v1/attachments"]
    assert "/storage/r.json" in paths


def test_a_location_echoing_the_key_is_refused_and_never_written(tmp_path: Path) -> None:
    with HostileServer("results") as srv:
        srv.location = "{url}/storage/r.json?k={key}"
        got = _fetch(srv, tmp_path)
        run = _cli(tmp_path, "--report", str(tmp_path / "rep.jsonl"), debug=True)
        paths = list(srv.paths)
    assert _one(got).error_code == "redirect_refused"
    assert not any(p.startswith("/storage") for p in paths)
    assert run.exit_code == 1
    _nothing_written_holds_the_key(tmp_path, run.output)


@pytest.mark.parametrize(
    "option",
    [
        ["--max-result-mb", "inf"],
        ["--max-result-mb", "nan"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--rate", "nan"],
        ["--backoff-base", "inf"],
    ],
)
def test_a_non_finite_option_is_a_usage_error(tmp_path: Path, option: list[str]) -> None:
    with HostileServer("results") as srv:
        _ledger(tmp_path / "l.sqlite", srv.url)
        run = _cli(tmp_path, *option)
        asked = sum(srv.requests.values())
    assert run.exit_code == 2, run.output
    assert "Traceback" not in run.output
    assert option[0] in run.output
    assert asked == 0


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_a_storage_host_that_stalls_is_cut_at_the_deadline(tmp_path: Path, mode: str) -> None:
    """Storage never answering, or sending the result a byte per 50 ms (~6 s): each attempt
    ends at the 0.5 s deadline, and the job fails with "no answer" after two."""
    with HostileServer("results", trickle_gap=0.05) as srv:
        srv.storage_mode = mode
        got = _fetch(srv, tmp_path, timeout=0.5)
        sent = srv.sent_bytes
        storage = srv.requests["/storage/r.json"]
    o = _one(got)
    assert (o.status, o.error_code, o.attempts) == (FetchStatus.FAILED, "no_answer", 2)
    assert storage == 2
    assert sent < 2000  # the answers to GET job and the redirects, and a few trickled bytes


def test_a_storage_body_past_the_cap_is_cut_off(tmp_path: Path) -> None:
    with HostileServer("results") as srv:
        srv.storage_mode = "huge"
        limits = Limits(concurrency=1, rate=0, result_bytes=1 << 16)
        got = _fetch(srv, tmp_path, timeout=20, limits=limits)
        sent = srv.sent_bytes
    o = _one(got)
    assert (o.status, o.error_code, o.attempts) == (FetchStatus.FAILED, "result_too_large", 1)
    assert sent < 16 << 20  # 64 MiB offered; the client hung up soon after 64 KiB
    assert not (tmp_path / "r").exists()


def test_a_10_mb_reference_id_is_one_short_error_line(tmp_path: Path) -> None:
    ref = "r" * 10_000_000
    with HostileServer("results") as srv:
        _ledger(tmp_path / "l.sqlite", srv.url, ref=ref)
        run = _cli(tmp_path)
        asked = sum(srv.requests.values())
    assert run.exit_code == 1
    assert "unsafe_reference_id" in run.output
    assert len(run.output) < 5000
    assert asked == 0  # no file name for it: not even looked up


def test_a_report_naming_the_ledger_is_refused_before_any_request(tmp_path: Path) -> None:
    """``--report`` is written after the run, by replacing its file: naming the ledger
    would destroy every job_id the ledger holds."""
    with HostileServer("results") as srv:
        _ledger(tmp_path / "l.sqlite", srv.url)
        before = (tmp_path / "l.sqlite").read_bytes()
        run = _cli(tmp_path, "--report", str(tmp_path / "." / "l.sqlite"))
        asked = sum(srv.requests.values())
    assert run.exit_code == 2, run.output
    assert "--report" in run.output
    assert "ledger" in run.output
    assert asked == 0
    assert (tmp_path / "l.sqlite").read_bytes() == before


@pytest.mark.parametrize("name", ["a.json", "report.jsonl"])
def test_a_report_inside_the_output_folder_is_refused(tmp_path: Path, name: str) -> None:
    """The output folder holds results only: a report in it would replace a result (or be
    read as one by compare and export)."""
    with HostileServer("results") as srv:
        _ledger(tmp_path / "l.sqlite", srv.url)
        run = _cli(tmp_path, "--report", str(tmp_path / "r" / name))
        asked = sum(srv.requests.values())
    assert run.exit_code == 2, run.output
    assert "--output-dir" in run.output
    assert asked == 0
    assert not (tmp_path / "r" / name).exists()


def test_a_report_that_cannot_be_a_file_is_refused_before_any_request(tmp_path: Path) -> None:
    with HostileServer("results") as srv:
        _ledger(tmp_path / "l.sqlite", srv.url)
        (tmp_path / "plain").write_text("x")
        run = _cli(tmp_path, "--report", str(tmp_path / "plain" / "rep.jsonl"))
        asked = sum(srv.requests.values())
    assert run.exit_code == 2, run.output
    assert "Traceback" not in run.output
    assert asked == 0


def test_the_sandbox_refuses_a_huge_expires_as_a_bad_signature() -> None:
    import httpx

    from prelabel.submit.sandbox import SIGNED_PREFIX, Sandbox

    with Sandbox(KEY, annotate=0) as sb, httpx.Client(timeout=5) as c:
        r = c.get(
            f"{sb.url}{SIGNED_PREFIX}j.json", params={"expires": "9" * 5000, "signature": "x"}
        )
        assert (r.status_code, sb.stats["bad_signature"]) == (403, 1)


def test_the_scrubber_walks_any_depth_and_keeps_order() -> None:
    from prelabel.submit.secrets import WITHHELD, Scrubber

    sc = Scrubber(KEY)
    doc = orjson.loads(b"[" * 1000 + b'{"b": 1, "a": ["x", "' + KEY.encode() + b'"]}' + b"]" * 1000)
    out = sc.tree(doc)
    inner = out
    for _ in range(1000):
        (inner,) = inner
    assert list(inner) == ["b", "a"]
    assert inner == {"b": 1, "a": ["x", WITHHELD]}
    assert sc.withheld == 1
    assert sc.holds_in(doc)
    assert not sc.holds_in(out)
    flat = {"k": [1, 2.5, None, True, {"z": "y"}], KEY: 0}
    assert sc.tree(flat) == {"k": [1, 2.5, None, True, {"z": "y"}], WITHHELD: 0}

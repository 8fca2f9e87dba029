"""The submit CLI end to end: the key in no byte prelabel writes, status --json and exit
codes, batch list, SIGTERM and Ctrl-C, a jobs file rewritten during a run, --debug."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from prelabel.cli import main
from prelabel.commands.submit import JobsFile, _finish
from prelabel.errors import InputError
from prelabel.submit.client import Submitter
from prelabel.submit.config import Limits, Retries
from prelabel.submit.ledger import Ledger
from prelabel.submit.outcomes import SubmitResult
from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, jobs, ledger_bytes, small_job
from .hostile import HostileServer

CLI = [sys.executable, "-c", "from prelabel.cli import main; main()"]


def _write(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))
    return path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PLAYMENT_API_KEY": KEY}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, timeout=120)


def test_the_key_is_in_no_byte_prelabel_writes(tmp_path: Path) -> None:
    """Every mode of the hostile server, every command, --debug on: stdout, stderr, the
    ledger, the report and every file left in the work directory are free of the key."""
    path = _write(tmp_path / "jobs.jsonl", [small_job("a"), small_job("b")])
    written: list[bytes] = []
    env = {"PLAYMENT_API_KEY": KEY}

    def inproc(args: list[str]) -> Any:  # the commands that need no subprocess of their own
        return CliRunner().invoke(main, args, env=env)

    with HostileServer("echo") as srv:
        common = ["--project-id", "p", "--base-url", srv.url]
        runs = []
        for mode in ("echo", "echo_error", "echo_html", "redirect", "false", "silent"):
            srv.mode = mode
            ledger = tmp_path / f"{mode}.sqlite"
            runs.append(
                _run(
                    ["--debug", "submit", str(path), *common, "--ledger", str(ledger),
                     "--report", str(tmp_path / f"{mode}.report.jsonl"), "--rate", "0",
                     "--max-attempts", "2", "--backoff-base", "0", "--timeout", "0.5"],
                    tmp_path,
                )
            )  # fmt: skip
            written.append(ledger_bytes(ledger))
            for extra in ([], ["--json"]):
                runs.append(inproc(["--debug", "status", str(ledger), *extra]))
        srv.mode = "echo"
        runs.append(_run(["--debug", "batch", "create", "nightly", *common], tmp_path))
        runs.append(inproc(["--debug", "batch", "list", *common]))
        runs.append(inproc(["--debug", "batch", "list", "--json", *common]))
        assert srv.keys_seen == {KEY}  # the server did get the key, and echoed it
    for r in runs:
        if isinstance(r, subprocess.CompletedProcess):
            written += [r.stdout, r.stderr]
        else:
            written += [r.stdout_bytes, r.stderr_bytes or b"", repr(r.exception).encode()]
    written += [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    for data in written:
        assert KEY.encode() not in data
    # and the hostile answers were really handled, not just silently dropped
    echo = orjson.loads(runs[2].stdout_bytes)  # status --json of the "echo" run
    assert echo["counts"]["created"] == 2
    assert {m["reference_id"] for m in echo["missing_job_id"]} == {"a", "b"}
    assert b"withheld" in runs[0].stderr
    batch_create = runs[-3]
    assert batch_create.returncode == 1
    assert b"Traceback" in batch_create.stderr


def test_status_json_and_exit_codes(tmp_path: Path, sandbox: Sandbox) -> None:
    bad = small_job("u")
    bad["data"]["video_data"]["frames"][0]["src"] = "https://x.invalid/1.jpg"
    path = _write(tmp_path / "jobs.jsonl", [small_job("a"), bad])
    args = ["submit", str(path), "--project-id", "p", "--base-url", sandbox.url, "--rate", "0"]
    r = CliRunner().invoke(main, args, env={"PLAYMENT_API_KEY": KEY})
    assert r.exit_code == 1
    ledger = str(tmp_path / "jobs.jsonl.ledger.sqlite")
    st = CliRunner().invoke(main, ["status", ledger, "--json"])
    assert st.exit_code == 1  # a job failed
    doc = orjson.loads(st.stdout)
    assert doc["counts"]["created"] == 1
    assert doc["counts"]["failed"] == 1
    assert doc["failed"] == [
        {"reference_id": "u", "code": "FS_0007", "message": doc["failed"][0]["message"]}
    ]
    assert "Attachment" in doc["failed"][0]["message"]
    assert doc["missing_job_id"] == []
    assert len(doc["runs"]) == 1
    assert doc["runs"][0]["finished_at"] is not None
    ok = _write(tmp_path / "ok.jsonl", [small_job("a2")])
    args[1] = str(ok)
    assert CliRunner().invoke(main, args, env={"PLAYMENT_API_KEY": KEY}).exit_code == 0
    st = CliRunner().invoke(main, ["status", str(tmp_path / "ok.jsonl.ledger.sqlite")])
    assert st.exit_code == 0
    assert "created  1" in st.output


def test_batch_list_shows_the_default_batch(tmp_path: Path, sandbox: Sandbox) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(3))
    env = {"PLAYMENT_API_KEY": KEY}
    base = ["--project-id", "p", "--base-url", sandbox.url]
    assert CliRunner().invoke(main, ["batch", "create", "nightly", *base], env=env).exit_code == 0
    assert (
        CliRunner().invoke(main, ["submit", str(path), *base, "--rate", "0"], env=env).exit_code
        == 0
    )
    r = CliRunner().invoke(main, ["batch", "list", *base], env=env)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    default = next(x for x in lines if "(default)" in x)
    assert "3 jobs" in default
    assert any("nightly" in x for x in lines)
    js = CliRunner().invoke(main, ["batch", "list", "--json", *base], env=env)
    names = {orjson.loads(x)["name"] for x in js.stdout.splitlines()}
    assert names == {"Default", "nightly"}


def test_exists_jobs_in_the_default_batch_get_their_job_id(tmp_path: Path) -> None:
    """Answers lost after the commit (resets) turn into FS_0001 on the retry; the job ids
    of those jobs, created in the default batch (no batch_id), come from its listing."""
    with Sandbox(KEY, reset_rate=0.3, retry_after=0, seed=3) as sb:
        with Submitter(
            "p",
            KEY,
            base_url=sb.url,
            ledger=tmp_path / "l.sqlite",
            limits=Limits(rate=0),
            retries=Retries(backoff=0, max_attempts=10, seed=2),
        ) as s:
            r = s.submit(jobs(60))
        server = {j["reference_id"]: j["job_id"] for j in sb.jobs()}
        assert all(j["batch_id"] for j in sb.jobs())  # the sandbox's Default batch
    assert r.ok, r.counts
    assert r.counts["exists"] > 0, r.counts
    with Ledger(tmp_path / "l.sqlite", readonly=True) as led:
        ids = {row.reference_id: row.job_id for row in led.rows()}
    assert ids == server
    assert not r.missing_job_id


def test_unresolved_job_ids_are_counted_with_their_reason(tmp_path: Path) -> None:
    """A job settled as "exists" whose batch listing does not show it stays without a
    job_id; the run says how many and why, the ledger keeps the reason, and the next run
    looks again."""
    with Sandbox(KEY, retry_after=0) as sb:
        led_path = tmp_path / "l.sqlite"
        with Submitter("p", KEY, base_url=sb.url, ledger=led_path, limits=Limits(rate=0)) as s:
            s.submit([small_job("a")])
        with Ledger(led_path) as led:  # pretend the answer was lost: exists, no job_id
            led._db.execute("UPDATE jobs SET state = 'exists', job_id = NULL, batch_id = 'gone'")
        with Submitter(
            "p",
            KEY,
            base_url=sb.url,
            ledger=led_path,
            limits=Limits(rate=0),
            retries=Retries(max_attempts=1),
        ) as s:
            r = s.submit([])
        assert sum(r.missing_job_id.values()) == 1
        assert "1 without a job_id" in r.summary()
        with Ledger(led_path, readonly=True) as led:
            row = led.get("a")
        assert row is not None
        assert row.job_id is None
        assert row.error_code == "job_id_unknown"
        with Ledger(led_path) as led:  # the batch is known again: the next run resolves it
            led._db.execute("UPDATE jobs SET batch_id = NULL")
        with Submitter("p", KEY, base_url=sb.url, ledger=led_path, limits=Limits(rate=0)) as s:
            r = s.submit([])
        assert not r.missing_job_id
        with Ledger(led_path, readonly=True) as led:
            row = led.get("a")
        assert row is not None
        assert row.job_id == sb.jobs()[0]["job_id"]
        assert row.error_code is None


def test_jobs_file_rewritten_during_the_run_is_not_mixed(tmp_path: Path) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(5))
    source = JobsFile(path)

    def rewrite(_outcome: object) -> None:  # after the first job: another, shorter file
        if not rewritten:
            rewritten.append(1)
            _write(path, [small_job("other", work_flow_id="wf-2")])

    rewritten: list[int] = []
    with Sandbox(KEY, retry_after=0) as sb:
        with Submitter(
            "p",
            KEY,
            base_url=sb.url,
            ledger=tmp_path / "l.sqlite",
            limits=Limits(concurrency=1, rate=0),
            on_outcome=rewrite,
        ) as s:
            r = s.submit(source)
        refs = sorted(j["reference_id"] for j in sb.jobs())
    assert rewritten
    assert b"other" in path.read_bytes()
    assert r.ok
    assert refs == [f"job-{i:05d}" for i in range(5)]


def test_input_bad_after_sending_began_is_exit_1_with_report(tmp_path: Path) -> None:
    def payloads() -> Any:
        yield small_job("a")
        raise InputError("jobs.jsonl", "line 2", "invalid JSON")

    with (
        Sandbox(KEY, retry_after=0) as sb,
        Submitter(
            "p", KEY, base_url=sb.url, ledger=tmp_path / "l.sqlite", limits=Limits(rate=0)
        ) as s,
    ):
        r = s.submit(payloads())
    assert r.counts == {"created": 1}
    assert r.input_error is not None
    assert not r.ok
    assert r.stop_reason is not None
    assert "line 2" in r.stop_reason
    report = tmp_path / "r.jsonl"
    with pytest.raises(SystemExit) as exit_:
        _finish(r, 2, report, tmp_path / "l.sqlite")
    assert exit_.value.code == 1
    assert len(report.read_bytes().splitlines()) == 1
    nothing = SubmitResult(input_error=InputError("jobs.jsonl", "line 1", "invalid JSON"))
    with pytest.raises(SystemExit) as exit_:
        _finish(nothing, 1, None, tmp_path / "l.sqlite")
    assert exit_.value.code == 2  # nothing was sent


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_writes_the_report(tmp_path: Path, sig: int) -> None:
    n = 90
    path = _write(tmp_path / "jobs.jsonl", jobs(n))
    report = tmp_path / "report.jsonl"
    ledger = tmp_path / "jobs.jsonl.ledger.sqlite"
    with Sandbox(KEY, retry_after=0, latency_ms=20) as sb:
        args = ["submit", str(path), "--project-id", "p", "--base-url", sb.url,
                "--rate", "30", "--report", str(report)]  # fmt: skip
        env = {**os.environ, "PLAYMENT_API_KEY": KEY}
        proc = subprocess.Popen([*CLI, *args], env=env, stderr=subprocess.PIPE, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while sb.job_count() < 10 and time.monotonic() < deadline:  # wait for the run to start
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        stopped_at = sb.job_count()
        assert proc.returncode == 1, err
        assert f"interrupted by {signal.Signals(sig).name}".encode() in err
        assert b"resume with the same command" in err
        lines = [orjson.loads(x) for x in report.read_bytes().splitlines()]
        assert len(lines) == n  # every job has its line: created or not_sent
        assert [x["index"] for x in lines] == list(range(n))
        created = {x["reference_id"] for x in lines if x["status"] == "created"}
        assert len(created) == stopped_at < n  # in-flight answers were settled, no more sent
        with Ledger(ledger, readonly=True) as led:
            assert led.counts()["created"] == stopped_at
            assert led.counts()["sending"] == 0
            assert led.runs()[-1]["finished_at"] is not None
        again = subprocess.run([*CLI, *args], env=env, capture_output=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert sb.job_count() == n
        assert set(sb.reference_counts().values()) == {1}


def test_debug_tracebacks_are_scrubbed() -> None:
    """Whatever an exception says, its --debug traceback (and a bug's traceback) passes
    through the registry of secrets: the key becomes ***."""
    import click

    from prelabel.cli import PrelabelGroup
    from prelabel.errors import SubmitError
    from prelabel.submit.secrets import register

    register(KEY)

    @click.group(cls=PrelabelGroup)
    @click.option("--debug", is_flag=True)
    def group(debug: bool) -> None:
        pass

    @group.command()
    def known() -> None:
        raise SubmitError(f"the server said {KEY}")

    @group.command()
    def bug() -> None:
        raise RuntimeError(f"unexpected {KEY}")

    for args, code in ((["--debug", "known"], 1), (["known"], 1), (["bug"], 1)):
        r = CliRunner().invoke(group, args)
        assert r.exit_code == code, r.output
        assert KEY not in r.output
        assert "***" in r.output
        assert ("Traceback" in r.output) == (args != ["known"])

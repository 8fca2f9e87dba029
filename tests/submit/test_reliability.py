"""The reliability suite: chaos against the sandbox, SIGKILL and resume, permanent errors,
and the API key never leaving the header.

Each test prints one figure line (run pytest with -s to see them).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from prelabel.submit.client import Submitter
from prelabel.submit.config import Limits, Retries
from prelabel.submit.ledger import Ledger
from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, jobs, ledger_bytes, small_job

CLI = [sys.executable, "-c", "from prelabel.cli import main; main()"]


def _write_jobs(path: Path, payloads: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))


def _assert_ledger_matches(ledger: Path, sb: Sandbox, expected: int) -> dict[str, int]:
    server = {j["reference_id"]: j["job_id"] for j in sb.jobs()}
    assert len(server) == expected == sb.job_count()
    assert set(sb.reference_counts().values()) == {1}  # each reference_id once
    with Ledger(ledger, readonly=True) as led:
        rows = list(led.rows())
        counts = led.counts()
    assert {r.reference_id for r in rows} == set(server)
    assert all(r.state in ("created", "exists") for r in rows)
    for r in rows:
        assert r.job_id is None or r.job_id == server[r.reference_id]
    return counts


def test_chaos_2000_jobs(tmp_path: Path) -> None:
    """2,000 jobs, 20 % 503/429 and 5 % resets after the job is created."""
    ledger = tmp_path / "chaos.sqlite"
    with Sandbox(KEY, fail_rate=0.2, reset_rate=0.05, retry_after=0, seed=11) as sb:
        with Submitter(
            "p",
            KEY,
            base_url=sb.url,
            ledger=ledger,
            limits=Limits(concurrency=8, rate=0),
            retries=Retries(backoff=0.001, seed=1, max_attempts=12),
        ) as s:
            batch = s.create_batch("chaos", reuse=True)
            s.batch_id = batch.batch_id
            t0 = time.monotonic()
            result = s.submit(jobs(2000))
            elapsed = time.monotonic() - t0
        assert result.ok, result.problems[:5]
        counts = _assert_ledger_matches(ledger, sb, 2000)
        with Ledger(ledger, readonly=True) as led:
            assert all(r.job_id for r in led.rows())  # exists rows found in the listing
        assert sb.stats["created"] == 2000
        assert 0 < counts["exists"] <= sb.stats["resets"]
        print(
            f"\nR5 chaos: 2000 jobs in {elapsed:.1f} s: 0 lost, 0 duplicated, ledger == server; "
            f"{result.retries} retries {dict(result.retries_by_cause)}, "
            f"{sb.stats['resets']} resets, {counts['exists']} resolved by FS_0001"
        )


def test_sigkill_and_resume(tmp_path: Path) -> None:
    """The CLI is killed twice right after the server created a job (its answer lost), with
    faults on; the third run completes: every job once, the ledger agrees."""
    n = 600
    path = tmp_path / "jobs.jsonl"
    _write_jobs(path, jobs(n))
    ledger = tmp_path / "jobs.jsonl.ledger.sqlite"
    kill_at = {150: True, 400: True}
    proc: list[subprocess.Popen[bytes]] = []

    def after_create(seq: int) -> None:
        if kill_at.pop(seq, False):
            os.kill(proc[-1].pid, signal.SIGKILL)

    env = {**os.environ, "PLAYMENT_API_KEY": KEY}
    with Sandbox(
        KEY, fail_rate=0.1, reset_rate=0.05, retry_after=0, seed=5, after_create=after_create
    ) as sb:
        args = [
            "submit", str(path), "--project-id", "p", "--base-url", sb.url, "--rate", "0",
            "--backoff-base", "0.001", "--concurrency", "4", "--max-attempts", "12", "-q",
        ]  # fmt: skip
        codes = []
        for _ in range(3):
            proc.append(subprocess.Popen(CLI + args, env=env, stderr=subprocess.PIPE))
            _, err = proc[-1].communicate(timeout=120)
            codes.append(proc[-1].returncode)
        assert codes == [-signal.SIGKILL, -signal.SIGKILL, 0], err.decode()
        counts = _assert_ledger_matches(ledger, sb, n)
        with Ledger(ledger, readonly=True) as led:
            runs = led.runs()
        assert [r["finished_at"] is not None for r in runs] == [False, False, True]
        in_doubt = [r["recovered"] for r in runs]
        # the job created at each kill was never acknowledged: resolved as exists
        assert counts["exists"] >= 2
        assert all(x <= 4 for x in in_doubt)  # at most one in-doubt row per worker
        print(
            f"\nR6 SIGKILL: {n} jobs, 2 kills, rows in doubt at each resume {in_doubt[1:]}: "
            f"0 lost, 0 duplicated; {counts['exists']} resolved by FS_0001"
        )


def test_permanent_errors_reported(tmp_path: Path) -> None:
    """FS_0007 (unreachable attachment) and FS_0003 (invalid, sent with --no-validate):
    reported with code and message, each tried once, exit 1, everything else created."""
    payloads = jobs(200)
    unreachable = {f"job-{i:05d}" for i in range(0, 200, 20)}  # 10 jobs
    invalid = {f"job-{i:05d}" for i in range(7, 200, 40)}  # 5 jobs
    for p in payloads:
        frame = p["data"]["video_data"]["frames"][0]
        if p["reference_id"] in unreachable:
            frame["src"] = "https://bucket.cdn.invalid/1.jpg"
        if p["reference_id"] in invalid:
            frame["frame_id"] = ""
    path = tmp_path / "jobs.jsonl"
    report = tmp_path / "report.jsonl"
    _write_jobs(path, payloads)
    with Sandbox(KEY) as sb:
        run = subprocess.run(
            CLI + ["submit", str(path), "--project-id", "p", "--base-url", sb.url,
                   "--rate", "0", "--backoff-base", "0.001", "--no-validate", "-q",
                   "--report", str(report)],
            env={**os.environ, "PLAYMENT_API_KEY": KEY}, capture_output=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 1, run.stderr.decode()
        assert sb.job_count() == 185
    lines = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    assert len(lines) == 200
    failed = {x["reference_id"]: x for x in lines if x["status"] == "failed"}
    assert set(failed) == unreachable | invalid
    for ref, x in failed.items():
        want = "FS_0007" if ref in unreachable else "FS_0003"
        assert x["error_code"] == want
        assert x["error_message"]
        assert x["attempts"] == 1  # a permanent error is never retried
    assert {x["status"] for x in lines} - {"failed"} == {"created"}
    assert "FS_0007" in run.stderr.decode()  # the failures are listed on stderr too


def test_key_never_leaves_the_header(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A run with every fault, a batch, a 401, a dry run and status: the key appears in no
    output, log line, ledger, report or any file written."""
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "jobs.jsonl"
    _write_jobs(path, jobs(150) + [small_job("bad", work_flow_id="")])
    report = tmp_path / "report.jsonl"
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    outputs: list[bytes] = []
    with Sandbox(KEY, fail_rate=0.2, reset_rate=0.1, retry_after=0, seed=9) as sb:
        common = ["--project-id", "p", "--base-url", sb.url, "--rate", "0", "--backoff-base",
                  "0.001"]  # fmt: skip
        runs = [
            ["submit", str(path), *common, "--api-key-file", str(key_file), "--report",
             str(report), "--batch-name", "b"],
            ["submit", str(path), *common, "--api-key-file", str(key_file), "--dry-run"],
            ["batch", "create", "other", "--project-id", "p", "--base-url", sb.url,
             "--api-key-file", str(key_file)],
            ["status", str(tmp_path / "jobs.jsonl.ledger.sqlite")],
        ]  # fmt: skip
        for args in runs:
            r = subprocess.run(CLI + args, capture_output=True, timeout=120, env=os.environ)
            outputs += [r.stdout, r.stderr]
        # a wrong key in the environment: 401, the run stops
        r = subprocess.run(
            CLI + ["submit", str(path), *common, "--ledger", str(tmp_path / "other.sqlite")],
            capture_output=True, timeout=60,
            env={**os.environ, "PLAYMENT_API_KEY": KEY[::-1]},
        )  # fmt: skip
        assert r.returncode == 1
        outputs += [r.stdout, r.stderr]
        # and the library, with every logger at DEBUG
        with Submitter(
            "p",
            KEY,
            base_url=sb.url,
            ledger=tmp_path / "lib.sqlite",
            limits=Limits(rate=0),
            retries=Retries(backoff=0.001),
        ) as s:
            outputs.append(repr(s).encode())
            outputs.append(repr(s.submit(jobs(50, "lib"))).encode())
    outputs.append("\n".join(r.getMessage() for r in caplog.records).encode())
    assert any(b"created" in o for o in outputs)  # the runs did their work
    for o in outputs:
        assert KEY.encode() not in o
    for f in tmp_path.rglob("*"):
        if f.is_file() and f != key_file:
            assert KEY.encode() not in f.read_bytes(), f
    assert KEY.encode() not in ledger_bytes(tmp_path / "jobs.jsonl.ledger.sqlite")

"""The submit, batch, status and sandbox commands through click."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from prelabel.cli import main
from prelabel.commands.submit import sandbox_command
from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, jobs, small_job


def _write(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))
    return path


def _submit(args: list[str], key: str | None = KEY) -> Any:
    env = {"PLAYMENT_API_KEY": key} if key else {"PLAYMENT_API_KEY": ""}
    return CliRunner().invoke(main, ["submit", *args], env=env)


def test_submit_report_rerun_and_status(tmp_path: Path, sandbox: Sandbox) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(30))
    report = tmp_path / "r.jsonl"
    args = [str(path), "--project-id", "p", "--base-url", sandbox.url, "--rate", "0"]
    r = _submit([*args, "--report", str(report), "--batch-name", "b1"])
    assert r.exit_code == 0, r.output
    assert "30 jobs: 30 created" in r.output
    # stderr is not a terminal here: the progress display is its final plain line
    assert "submit: 100% 30/30 [" in r.output
    assert "created 30]" in r.output
    lines = [orjson.loads(x) for x in report.read_bytes().splitlines()]
    assert len(lines) == 30
    assert {x["status"] for x in lines} == {"created"}
    assert all(x["job_id"] for x in lines)
    r2 = _submit([*args, "--batch-name", "b1"])
    assert r2.exit_code == 0
    assert "30 jobs: 30 done" in r2.output
    assert [b["name"] for b in sandbox.batches("p")] == ["b1"]  # reused, not created twice
    st = CliRunner().invoke(main, ["status", str(tmp_path / "jobs.jsonl.ledger.sqlite")])
    assert st.exit_code == 0
    assert "created  30" in st.output
    assert "runs: 2" in st.output


@pytest.mark.parametrize("target", ["ledger", "jobs"])
def test_a_report_naming_the_ledger_or_the_jobs_is_refused_before_sending(
    tmp_path: Path, sandbox: Sandbox, target: str
) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(2))
    ledger = tmp_path / "l.sqlite"
    report = ledger if target == "ledger" else path
    before = path.read_bytes()
    r = _submit(
        [str(path), "--project-id", "p", "--base-url", sandbox.url, "--ledger", str(ledger),
         "--report", str(report)]
    )  # fmt: skip
    assert r.exit_code == 2
    assert f"--report names the {'ledger' if target == 'ledger' else 'jobs file'}" in r.output
    assert sandbox.job_count() == 0
    assert path.read_bytes() == before


def test_bad_json_line_is_exit_2_and_nothing_sent(tmp_path: Path, sandbox: Sandbox) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(orjson.dumps(small_job("a")) + b"\n\n" + b'{"reference_id": \n')
    r = _submit([str(path), "--project-id", "p", "--base-url", sandbox.url])
    assert r.exit_code == 2
    assert f"{path}:line 3: invalid JSON" in r.output
    assert sandbox.stats["requests"] == 0


def test_missing_reference_id_is_exit_2(tmp_path: Path, sandbox: Sandbox) -> None:
    path = _write(tmp_path / "jobs.jsonl", [small_job("a"), {"data": {}}])
    r = _submit([str(path), "--project-id", "p", "--base-url", sandbox.url])
    assert r.exit_code == 2
    assert "line 2: $.reference_id" in r.output


def test_no_key_is_exit_2(tmp_path: Path, sandbox: Sandbox) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(2))
    r = _submit([str(path), "--project-id", "p", "--base-url", sandbox.url], key=None)
    assert r.exit_code == 2
    assert "PLAYMENT_API_KEY" in r.output
    assert "--api-key-file FILE" in r.output  # the flag here; the library says api_key_file=
    empty = tmp_path / "key"
    empty.write_text("\n")
    r = _submit(
        [str(path), "--project-id", "p", "--base-url", sandbox.url, "--api-key-file", str(empty)]
    )
    assert r.exit_code == 2
    assert "empty" in r.output


def test_no_key_names_the_library_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    from prelabel.errors import InputError
    from prelabel.submit import load_api_key

    monkeypatch.delenv("PLAYMENT_API_KEY", raising=False)
    with pytest.raises(InputError) as caught:
        load_api_key()
    assert "pass api_key_file=FILE" in str(caught.value)
    assert "--" not in str(caught.value)


def test_plain_http_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(1))
    r = _submit([str(path), "--project-id", "p", "--base-url", "http://api.example.com"])
    assert r.exit_code == 2
    assert "plain http" in r.output


def test_dry_run_sends_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    bad = small_job("bad")
    bad["data"]["video_data"]["frames"][0]["src"] = "nope"
    path = _write(tmp_path / "jobs.jsonl", [small_job("a"), bad])
    r = _submit([str(path), "--project-id", "p", "--base-url", sandbox.url, "--dry-run"], key=None)
    assert r.exit_code == 1
    assert "send a (" in r.output
    assert "invalid bad: $.data.video_data.frames[0].src" in r.output
    assert sandbox.stats["requests"] == 0
    assert not (tmp_path / "jobs.jsonl.ledger.sqlite").exists()
    ok = _write(tmp_path / "ok.jsonl", [small_job("a")])
    r = _submit([str(ok), "--project-id", "p", "--base-url", sandbox.url, "--dry-run"], key=None)
    assert r.exit_code == 0


def test_failures_listed_and_exit_1(tmp_path: Path, sandbox: Sandbox) -> None:
    unreachable = small_job("u")
    unreachable["data"]["video_data"]["frames"][0]["src"] = "https://x.invalid/1.jpg"
    path = _write(tmp_path / "jobs.jsonl", [small_job("a"), unreachable])
    r = _submit([str(path), "--project-id", "p", "--base-url", sandbox.url, "--rate", "0"])
    assert r.exit_code == 1
    assert "u: failed: FS_0007: Attachment could not be accessed" in r.output
    st = CliRunner().invoke(main, ["status", str(tmp_path / "jobs.jsonl.ledger.sqlite")])
    assert "failed u: FS_0007" in st.output


def test_batch_create(sandbox: Sandbox) -> None:
    args = ["create", "nightly", "--project-id", "p", "--base-url", sandbox.url]
    env = {"PLAYMENT_API_KEY": KEY}
    r = CliRunner().invoke(main, ["batch", *args], env=env)
    assert r.exit_code == 0
    batch_id = r.output.strip()
    assert sandbox.batches("p")[0]["id"] == batch_id
    again = CliRunner().invoke(main, ["batch", *args], env=env)
    assert again.exit_code == 1
    assert "exists already" in again.output
    reuse = CliRunner().invoke(main, ["batch", *args, "--reuse"], env=env)
    assert reuse.exit_code == 0
    assert reuse.output.strip() == batch_id


def test_sandbox_command_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from prelabel.cli import main; main()", "sandbox", "--port", "0",
         "--api-key", KEY, "--db", str(tmp_path / "sb.sqlite"), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        import httpx

        r = httpx.post(f"{url}/v1/projects/p/jobs", json=small_job("a"), headers={"x-api-key": KEY})
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
    assert (tmp_path / "sb.sqlite").exists()


def test_sandbox_command_needs_a_key() -> None:
    r = CliRunner().invoke(sandbox_command, ["--port", "0"])
    assert r.exit_code == 2


def test_batch_options_exclusive(tmp_path: Path) -> None:
    path = _write(tmp_path / "jobs.jsonl", jobs(1))
    r = _submit(
        [str(path), "--project-id", "p", "--base-url", "http://127.0.0.1:9", "--batch-id", "x",
         "--batch-name", "y"]
    )  # fmt: skip
    assert r.exit_code == 2

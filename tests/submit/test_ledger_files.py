"""Ledger files: one lock whatever path names the file; a file that exists but is not a sound
ledger (empty, not SQLite, truncated, corrupt, another database) is one clear error."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from prelabel.cli import main
from prelabel.errors import InputError, SubmitError
from prelabel.submit.ledger import JobState, Ledger
from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, jobs


def _filled(path: Path, n: int = 400) -> None:
    with Ledger(path) as led:
        run, _ = led.begin_run()
        for i in range(n):
            ref = f"job-{i:05d}-" + "x" * 60
            led.mark_sending(ref, "0" * 64, None, run)
            led.record(ref, JobState.CREATED, job_id=f"J{i}")
    con = sqlite3.connect(path)  # fold the WAL into the file so the file is the whole ledger
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def test_symlink_and_relative_path_share_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "d" / "l.sqlite"
    real.parent.mkdir()
    link = tmp_path / "link.sqlite"
    link.symlink_to(real)
    with Ledger(real, lock=True):
        with pytest.raises(SubmitError, match="in use"):
            Ledger(link, lock=True)
        monkeypatch.chdir(tmp_path / "d")
        with pytest.raises(SubmitError, match="in use"):
            Ledger("../d/./l.sqlite", lock=True)
    with Ledger(link, lock=True) as again:  # released with the first
        assert again.real_path == os.path.realpath(real)
    assert not link.with_name("link.sqlite.lock").exists()  # one lock file, beside the real one


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the ledger is empty"),
        (b"hello, not a database\n" * 20, "not a SQLite database"),
    ],
)
def test_empty_or_foreign_file_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "l.sqlite"
    path.write_bytes(content)
    for kw in ({}, {"readonly": True}, {"lock": True}):
        with pytest.raises(InputError, match=message):
            Ledger(path, **kw)  # type: ignore[arg-type]
    assert path.read_bytes() == content  # untouched


def test_truncated_ledger_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    _filled(path)
    data = path.read_bytes()
    assert len(data) > 8192
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        Ledger(path)


def test_corrupt_pages_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    _filled(path)
    data = bytearray(path.read_bytes())
    page = 4096
    for p in range(1, len(data) // page):  # scribble over every page but the first
        data[p * page : p * page + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt|not a readable ledger"):
        Ledger(path)


def test_another_sqlite_database_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="not a prelabel ledger"):
        Ledger(path)
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
    con.close()
    assert tables == ["t"]  # no ledger tables were added to someone else's database


def test_cli_empty_ledger_is_exit_2_and_nothing_sent(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b"".join(orjson.dumps(j) + b"\n" for j in jobs(3)))
    ledger = tmp_path / "jobs.jsonl.ledger.sqlite"
    ledger.write_bytes(b"")
    with Sandbox(KEY, retry_after=0) as sb:
        args = ["submit", str(path), "--project-id", "p", "--base-url", sb.url]
        r = CliRunner().invoke(main, args, env={"PLAYMENT_API_KEY": KEY})
        assert r.exit_code == 2, r.output
        assert "the ledger is empty" in r.output
        assert "Traceback" not in r.output
        assert sb.stats["requests"] == 0
        st = CliRunner().invoke(main, ["status", str(ledger)])
        assert st.exit_code == 2
        assert "the ledger is empty" in st.output
        debug = CliRunner().invoke(main, ["--debug", *args], env={"PLAYMENT_API_KEY": KEY})
        assert debug.exit_code == 2
        assert "Traceback" in debug.output
        assert "InputError" in debug.output
        assert sb.stats["requests"] == 0

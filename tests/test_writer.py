"""Atomic output: a failure leaves the old file (or none), never half a new one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prelabel.writer import write_json, write_jsonl


def test_lines_and_pieces(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "jobs.jsonl"  # the folder is created
    n = write_jsonl(out, [b'{"a":1}', iter([b'{"b":', b"2}"])])
    assert n == 2 and out.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    out.write_bytes(b"old\n")

    def lines() -> Iterator[bytes]:
        yield b"new"
        raise RuntimeError("reader failed half way")

    with pytest.raises(RuntimeError):
        write_jsonl(out, lines())
    assert out.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.jsonl"]


def test_stdout(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_jsonl("-", [b"{}"])
    assert capfdbinary.readouterr().out == b"{}\n"


def test_json_document(tmp_path: Path) -> None:
    write_json(tmp_path / "r.json", {"counts": []})
    assert (tmp_path / "r.json").read_text() == '{\n  "counts": []\n}\n'

"""``validate`` and the payload fixtures: the golden valid payload, and one invalid file per
way of being wrong, each reported at its JSON path."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from prelabel.cli import main
from prelabel.validate import file_problems, job_problems
from tests.payload_fixture import FIXTURES, invalid_variants, valid_line

VALID = FIXTURES / "valid.jsonl"


def test_golden_valid_payload_is_what_the_builder_writes() -> None:
    """fixtures/payloads/valid.jsonl was checked by eye against the spec once:
    - rectangle ``coordinates`` TL, TR, BR, BL: box (192,108)-(576,432) on 1920x1080 gives
      x 192/1920 = 0.1, 576/1920 = 0.3 and y 108/1080 = 0.1, 432/1080 = 0.4;
    - the polygon's edges run e1 [p1,p2] .. e5 [p5,p1], closing the ring;
    - the cuboid has p1..p8 with front [p1..p4], side [p2,p3,p5,p6], back [p7,p8,p5,p6];
    - landmark points carry integer labels 1..3; attributes are {name: {"value": v}};
    - the trackers sit under data.maker_response.video2d.data.annotations, keyed by frame_id.
    Any change to the builder's bytes must be deliberate: regenerate with
    ``python -m tests.payload_fixture`` and check again."""
    assert VALID.read_bytes() == valid_line() + b"\n"


def test_valid_fixtures_pass(tmp_path: Path) -> None:
    assert list(file_problems(VALID)) == []
    assert list(file_problems(FIXTURES / "valid.pretty.json")) == []


@pytest.mark.parametrize("name", sorted(invalid_variants()))
def test_each_invalid_fixture_fails_at_its_path(name: str) -> None:
    job, path = invalid_variants()[name]
    stored = FIXTURES / f"invalid_{name}.jsonl"
    assert orjson.loads(stored.read_bytes()) == job
    problems = list(file_problems(stored))
    assert problems, name
    assert path in [p.path for p in problems]


def test_video_2d_spelling_is_accepted_but_not_both() -> None:
    job = orjson.loads(valid_line())
    mr = job["data"]["maker_response"]
    mr["video_2d"] = mr.pop("video2d")
    assert job_problems(job) == []
    mr["video2d"] = mr["video_2d"]
    assert [p for p, _ in job_problems(job)] == ["$.data.maker_response"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(VALID)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["validate", str(FIXTURES / "invalid_coordinate_above_one.jsonl")])
    assert bad.exit_code == 1
    assert (
        "invalid_coordinate_above_one.jsonl:1: $.data.maker_response.video2d.data.annotations[0].frames.frame001.coordinates[1].x:"
        in bad.stdout
    )
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(valid_line() + b"\n" + b'{"reference_id": \n')
    res = runner.invoke(main, ["validate", str(broken)])
    assert res.exit_code == 2
    # line 1 is a valid job: the only output is the one error line for line 2
    assert res.stderr.strip().splitlines() == [
        f"error: {broken}:2: invalid JSON at column 18: unexpected end of data"
    ]
    assert "Traceback" not in res.output
    missing = runner.invoke(main, ["validate", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_duplicate_reference_ids_across_lines(tmp_path: Path) -> None:
    two = tmp_path / "two.jsonl"
    two.write_bytes(valid_line() + b"\n" + valid_line() + b"\n")
    problems = list(file_problems(two))
    assert [(p.line, p.path) for p in problems] == [(2, "$.reference_id")]


def test_version() -> None:
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0 and "prelabel, version" in res.output

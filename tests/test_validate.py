"""``validate`` and the payload fixtures: the golden valid payload, and one invalid file per
way of being wrong, each reported at its JSON path.

Most invalid fixtures are made by ``tests.payload_fixture``; the ones here are wrong in the
JSON text itself (a repeated key cannot be written from a dict) or test messages, and are
rewritten with ``python -m tests.test_validate``."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from prelabel.cli import main
from prelabel.validate import _key_count, file_problems, job_problems, repeated_keys
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


def test_valid_fixtures_pass() -> None:
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
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr


def test_duplicate_reference_ids_across_lines(tmp_path: Path) -> None:
    two = tmp_path / "two.jsonl"
    two.write_bytes(valid_line() + b"\n" + valid_line() + b"\n")
    problems = list(file_problems(two))
    assert [(p.line, p.path) for p in problems] == [(2, "$.reference_id")]


def test_version() -> None:
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0
    assert "prelabel, version" in res.output


# --- fixtures wrong in the text, or about messages --------------------------------------------
TR = "$.data.maker_response.video2d.data.annotations"


def _edit(change: Callable[[dict[str, Any]], object]) -> bytes:
    job = orjson.loads(valid_line())
    change(job)
    return orjson.dumps(job)


def _trackers(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["data"]["maker_response"]["video2d"]["data"]["annotations"]


def _rect(job: dict[str, Any]) -> dict[str, Any]:
    return _trackers(job)[0]["frames"]["frame001"]


def _swap_corners(job: dict[str, Any]) -> None:
    c = _rect(job)["coordinates"]  # TL, TR, BR, BL -> TR, TL, BL, BR: mirrored left-right
    _rect(job)["coordinates"] = [c[1], c[0], c[3], c[2]]


def _rename_frame_key(job: dict[str, Any]) -> None:
    frames = _trackers(job)[2]["frames"]
    frames["frame\n002"] = frames.pop("frame002")


def _label_and_frame(job: dict[str, Any]) -> None:
    _trackers(job)[0]["label"] = ""  # a schema error ...
    _trackers(job)[2]["frames"]["frame999"] = _trackers(job)[2]["frames"]["frame002"]  # ... and


def raw_variants() -> dict[str, tuple[bytes, list[tuple[str, str]]]]:
    """name -> (the file's bytes, the (JSON path, words of the message) it must report)."""
    line = valid_line()
    first_src = b'{"frame_id":"frame001","src":'
    assert line.count(first_src) == 1
    frames = "$.data.video_data.frames"
    return {
        # a second "src" in frame 0: orjson (and the API) would keep the last one only
        "duplicate_key": (
            line.replace(first_src, first_src + b'"https://images.example.com/other.jpg","src":'),
            [(f"{frames}[0].src", "key repeated (2 times in one object)")],
        ),
        "reference_id_nul": (
            _edit(lambda j: j.update(reference_id="drive-07\x00")),
            [("$.reference_id", "control character (U+0000 at 8)")],
        ),
        "object_id_escape": (
            _edit(lambda j: _rect(j).update(_id="\x1b[31m")),
            [(f"{TR}[0].frames.frame001._id", "control character (U+001B at 0)")],
        ),
        "frame_key_newline": (
            _edit(_rename_frame_key),
            [(f'{TR}[2].frames["frame\\n002"]', "control character (U+000A at 5)")],
        ),
        "coordinate_a_string": (
            _edit(lambda j: _rect(j)["coordinates"][1].update(x="0.3")),
            [
                (
                    f"{TR}[0].frames.frame001.coordinates[1].x",
                    "must be a number in [0, 1], not a string",
                )
            ],
        ),
        "tracker_type_bbox": (
            _edit(lambda j: _trackers(j)[0].update(type="bbox")),
            [(f"{TR}[0].type", "unknown tracker type 'bbox' (the types are rectangle, polygon")],
        ),
        "rectangle_corners_out_of_order": (
            _edit(_swap_corners),
            [
                (
                    f"{TR}[0].frames.frame001",
                    "the order is top-left, top-right, bottom-right, bottom-left",
                )
            ],
        ),
        "schema_error_and_missing_frame": (
            _edit(_label_and_frame),
            [
                (f"{TR}[0].label", "must not be empty"),
                (f"{TR}[2].frames.frame999", "is not in data.video_data.frames"),
            ],
        ),
    }


def write_raw() -> None:
    for name, (text, _) in raw_variants().items():
        (FIXTURES / f"invalid_{name}.jsonl").write_bytes(text + b"\n")


@pytest.mark.parametrize("name", sorted(raw_variants()))
def test_each_raw_invalid_fixture_fails_at_its_paths_in_our_words(name: str) -> None:
    text, expected = raw_variants()[name]
    stored = FIXTURES / f"invalid_{name}.jsonl"
    assert stored.read_bytes() == text + b"\n"
    problems = [(p.path, p.message) for p in file_problems(stored)]
    for path, words in expected:
        assert [m for p, m in problems if p == path and words in m], (path, problems)


def test_every_invalid_fixture_is_checked() -> None:
    on_disk = {p.name for p in FIXTURES.glob("invalid_*.jsonl")}
    checked = {f"invalid_{n}.jsonl" for n in [*invalid_variants(), *raw_variants()]}
    assert on_disk == checked


def test_messages_are_prelabels_not_pydantics() -> None:
    every = [p for f in sorted(FIXTURES.glob("invalid_*.jsonl")) for p in file_problems(f)]
    assert len(every) > len(invalid_variants())
    for p in every:
        assert "Input should" not in p.message, p
        assert "Input tag" not in p.message, p
        # union members (x.float, value.list[str]) and dict-key markers are not in the data
        assert not any(p.path.endswith(s) for s in (".float", ".int", ".str", "[key]")), p


def test_repeated_keys_in_a_list_document_are_reported_per_job(tmp_path: Path) -> None:
    job = orjson.loads(valid_line())
    other = copy.deepcopy(job)
    other["reference_id"] = "drive-08"
    text = b"[" + orjson.dumps(job) + b",\n" + orjson.dumps(other) + b"]"
    # the second job's batch_id twice: "$[1].batch_id" is job 1's "$.batch_id"
    text = text.replace(
        b'"reference_id":"drive-08"', b'"reference_id":"drive-08","batch_id":"a","batch_id":"b"'
    )
    doc = tmp_path / "jobs.json"
    doc.write_bytes(text)
    assert [(p.path, p.message[:12]) for p in file_problems(doc)] == [
        ("$.batch_id", "key repeated")
    ]


def test_duplicate_key_is_exit_1_with_its_line() -> None:
    res = CliRunner().invoke(main, ["validate", str(FIXTURES / "invalid_duplicate_key.jsonl")])
    assert res.exit_code == 1
    assert res.stdout.splitlines()[0].endswith(
        ":1: $.data.video_data.frames[0].src: key repeated (2 times in one object): a JSON"
        " reader keeps only the last value"
    )


def test_an_edge_naming_a_missing_point_is_reported_at_the_edge() -> None:
    job = orjson.loads(valid_line())
    _trackers(job)[1]["frames"]["frame001"]["edges"]["e3"] = ["p3", "p7"]
    assert job_problems(job) == [
        (f"{TR}[1].frames.frame001.edges.e3", "edge e3 names p7, not a point of this polygon")
    ]


@pytest.mark.parametrize(
    ("corners", "words"),
    [
        # TL, TR, BR, BL of x 0.1..0.3, y 0.1..0.4, in the wrong order (counter-clockwise)
        ([(0.1, 0.1), (0.1, 0.4), (0.3, 0.4), (0.3, 0.1)], "out of order: the order is top-left"),
        # upside down: the "top" corners have the larger y
        ([(0.1, 0.4), (0.3, 0.4), (0.3, 0.1), (0.1, 0.1)], "out of order: the order is top-left"),
        ([(0.1, 0.1), (0.3, 0.1), (0.35, 0.4), (0.1, 0.4)], "not axis-aligned"),
        ([(0.1, 0.1), (0.1, 0.1), (0.1, 0.4), (0.1, 0.4)], "zero width or height"),
    ],
)
def test_rectangle_corner_messages(corners: list[tuple[float, float]], words: str) -> None:
    job = orjson.loads(valid_line())
    _rect(job)["coordinates"] = [{"x": x, "y": y} for x, y in corners]
    problems = job_problems(job)
    assert [p for p, _ in problems] == [f"{TR}[0].frames.frame001"]
    assert words in problems[0][1]


def test_attribute_value_of_the_wrong_type_is_one_problem() -> None:
    job = orjson.loads(valid_line())
    _rect(job)["attributes"]["occluded"]["value"] = {"nested": 1}
    assert job_problems(job) == [
        (
            f"{TR}[0].frames.frame001.attributes.occluded.value",
            "an attribute value must be a string, number, boolean, null, or a list of strings"
            " or of integers, not an object",
        )
    ]


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(alphabet='ab":\\\n{}[],'),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet='ab":\\{}', max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def _keys(v: Any) -> int:
    if isinstance(v, dict):
        return len(v) + sum(_keys(x) for x in v.values())
    if isinstance(v, list):
        return sum(_keys(x) for x in v)
    return 0


@given(_json_values, st.booleans())
def test_key_count_is_the_number_of_keys(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=1 if ascii_only else None)
    assert _key_count(text.encode()) == _keys(value)
    assert repeated_keys(text.encode(), value) == []


if __name__ == "__main__":
    write_raw()

"""CVAT for video export: tracks, keyframes and outside, and convert -> export -> convert."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from hypothesis import given, settings

from prelabel import FrameOptions, convert, read_cvat
from prelabel.annotations import Annotations, Kind
from prelabel.errors import InputError
from prelabel.export.cvat import export_cvat
from prelabel.report import Reason
from tests.export.roundtrip import assert_same_jobs, framed, load_jobs, sources

VIDEO = FrameOptions(
    frame_id="frame_{index:06d}", src_template="https://images.example.com/{sequence}/{index}.jpg"
)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _round_trip(ann: Annotations, tmp: Path) -> None:
    p0, p1 = tmp / "p0.jsonl", tmp / "p1.jsonl"
    convert(ann, p0, frames=VIDEO)
    result = export_cvat(p0, tmp / "xml")
    # one task per file: read each, in the jobs' order
    parts = [read_cvat(f) for f in result.files]
    convert(Annotations.concat(parts), p1, frames=VIDEO)
    assert_same_jobs(load_jobs(p0), load_jobs(p1))


@settings(max_examples=30)
@given(sources(tuple(Kind), name="", label_by_track=True))
def test_convert_export_convert_is_the_same_payload(ann: Annotations) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _round_trip(ann, Path(tmp))


def test_the_bundled_video_round_trips(tmp_path: Path) -> None:
    """fixtures/cvat/video.xml (a track that leaves at frame 4 and is back at 6)."""
    _round_trip(read_cvat(FIXTURES / "cvat" / "video.xml"), tmp_path)


def test_outside_where_a_tracker_leaves(tmp_path: Path) -> None:
    frames = framed([("street", 6, 100, 50)], "")
    boxes = [[10, 10, 20, 20]] * 4
    ann = Annotations.from_boxes(
        frames, boxes, ["car", "car", "car", "truck"], [0, 1, 3, 5], track=[1, 1, 1, 1]
    )
    jobs = tmp_path / "jobs.jsonl"
    convert(ann, jobs, frames=VIDEO)
    result = export_cvat(jobs, tmp_path / "xml")
    root = ElementTree.parse(result.files[0]).getroot()
    assert root.findtext("meta/task/size") == "6"
    assert root.findtext("meta/task/original_size/width") == "100"
    tracks = root.findall("track")
    # the label changes on frame 5: a second track from there
    assert [t.get("label") for t in tracks] == ["car", "truck"]
    assert result.report.counts[("split", Reason.TRACK_LABEL_CHANGES.value)] == 1
    car = [(b.get("frame"), b.get("outside"), b.get("keyframe")) for b in tracks[0]]
    # frames 0, 1, then out at 2, back at 3, out at 4; every element a keyframe
    assert car == [
        ("0", "0", "1"),
        ("1", "0", "1"),
        ("2", "1", "1"),
        ("3", "0", "1"),
        ("4", "1", "1"),
    ]
    # the truck is on the last frame: nothing after it to mark
    assert [(b.get("frame"), b.get("outside")) for b in tracks[1]] == [("5", "0")]
    box = tracks[0][0]
    assert (box.get("xtl"), box.get("ytl"), box.get("xbr"), box.get("ybr")) == (
        "10.0",
        "10.0",
        "20.0",
        "20.0",
    )


def test_frames_of_different_sizes_are_refused(tmp_path: Path) -> None:
    frames = framed([("a", 1, 100, 50), ("a", 1, 200, 50)], "")
    frames.index[1] = 1
    ann = Annotations.from_boxes(frames, [[1, 1, 5, 5]], ["car"], [0])
    jobs = tmp_path / "jobs.jsonl"
    convert(ann, jobs, frames=VIDEO)
    with pytest.raises(InputError, match="frames of different sizes"):
        export_cvat(jobs, tmp_path / "xml")


def test_landmark_numbers_are_renumbered_and_noted(tmp_path: Path) -> None:
    frames = framed([("face", 1, 100, 50)], "")
    # points numbered 3 and 1, in that order: CVAT numbers points by their place
    ann = Annotations.from_runs(
        frames, Kind.LANDMARK, [[30, 30], [10, 10]], [0, 2], ["eye"], [0], point_label=[3, 1]
    )
    jobs = tmp_path / "jobs.jsonl"
    convert(ann, jobs, frames=VIDEO)
    result = export_cvat(jobs, tmp_path / "xml")
    points = ElementTree.parse(result.files[0]).getroot().find("track/points")
    assert points is not None
    # written in number order: point 1 (10, 10) first
    assert points.get("points") == "10.0,10.0;30.0,30.0"
    (row,) = result.report.rows
    assert (row["action"], row["reason"]) == ("noted", Reason.LANDMARK_NOT_IN_FORMAT.value)
    assert row["source"].startswith(f"{jobs}:1 $.data.maker_response")

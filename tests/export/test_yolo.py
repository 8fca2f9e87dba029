"""YOLO export: the rows, files and data.yaml, and convert -> export -> convert."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from prelabel import FrameOptions, convert, read_yolo
from prelabel.annotations import Annotations, Kind
from prelabel.export.yolo import export_yolo, label_path
from prelabel.report import Reason
from tests.export.roundtrip import (
    PREFIX,
    assert_same_jobs,
    framed,
    load_jobs,
    png_header,
    sources,
)

YOLO_NAMES = "images/{seq}/f{i:03d}.png"


def _round_trip(ann: Annotations, tmp: Path, *, track_ids: bool) -> None:
    p0, p1, out = tmp / "p0.jsonl", tmp / "p1.jsonl", tmp / "ds"
    convert(ann, p0, frames=FrameOptions(src_prefix=PREFIX))
    export_yolo(p0, out, track_ids=track_ids)
    # the images, as a data set has them (the export writes labels only)
    for name, w, h in zip(
        ann.frames.name.tolist(), ann.frames.width.tolist(), ann.frames.height.tolist(), strict=True
    ):
        png_header(out / name, int(w), int(h))
    columns = "cls,box,track" if track_ids else None
    convert(read_yolo(out, columns=columns), p1, frames=FrameOptions(src_prefix=PREFIX))
    assert_same_jobs(load_jobs(p0), load_jobs(p1))


@settings(max_examples=30)
@given(
    sources(
        (Kind.RECTANGLE, Kind.POLYGON),
        name=YOLO_NAMES,
        sequence="images/{seq}",
        tracks=False,
        attributes=False,
    )
)
def test_convert_export_convert_is_the_same_payload(ann: Annotations) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _round_trip(ann, Path(tmp), track_ids=False)


@settings(max_examples=20)
@given(sources((Kind.RECTANGLE,), name=YOLO_NAMES, sequence="images/{seq}", attributes=False))
def test_tracks_survive_in_the_track_column(ann: Annotations) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _round_trip(ann, Path(tmp), track_ids=True)


def test_label_path_follows_ultralytics() -> None:
    assert label_path("images/train/a.jpg") == "labels/train/a.txt"
    assert label_path("data/images/x/images/b.png") == "data/images/x/labels/b.txt"
    assert label_path("cam1/000001.jpg") == "labels/cam1/000001.txt"
    assert label_path("ref/frame_000003") == "labels/ref/frame_000003.txt"


def test_rows_files_and_skipped_shapes(tmp_path: Path) -> None:
    frames = framed([("clip", 2, 200, 100)], YOLO_NAMES)
    ann = Annotations.concat(
        [
            Annotations.from_boxes(frames, [[10, 20, 110, 70]], ["car"], [0]),
            Annotations.from_polygons(frames, [[[0, 0], [40, 0], [40, 40]]], ["road"], [0]),
            Annotations.from_lines(frames, [[[0, 50], [200, 50]]], ["lane"], [0]),
            Annotations.from_landmarks(frames, [[[20, 20], [30, 30]]], ["face"], [0]),
        ]
    )
    jobs = tmp_path / "jobs.jsonl"
    convert(ann, jobs, frames=FrameOptions(src_prefix=PREFIX))
    result = export_yolo(jobs, tmp_path / "ds")
    rows = (tmp_path / "ds" / "labels" / "clip" / "f000.txt").read_text().splitlines()
    # box [10, 20, 110, 70] on 200 x 100: xc = 60 / 200, yc = 45 / 100, w = 100 / 200, h = 50 / 100
    assert rows[0].split()[0] == "0"
    assert [float(v) for v in rows[0].split()[1:]] == pytest.approx([0.3, 0.45, 0.5, 0.5])
    # triangle (0,0) (40,0) (40,40): x / 200, y / 100
    assert rows[1].split()[0] == "1"
    assert [float(v) for v in rows[1].split()[1:]] == pytest.approx([0, 0, 0.2, 0, 0.2, 0.4])
    # frame 2 has no shapes: an empty label file keeps it a frame
    assert (tmp_path / "ds" / "labels" / "clip" / "f001.txt").read_text() == ""
    yaml = (tmp_path / "ds" / "data.yaml").read_text()
    assert '0: "car"' in yaml
    assert '1: "road"' in yaml
    # the line and the landmark are not YOLO detect/segment rows
    assert result.report.counts == {("skipped", Reason.KIND_NOT_IN_FORMAT.value): 2}
    assert result.shapes == 2

"""CVAT for images / CVAT for video 1.1 reader: fixtures checked by hand, errors, properties."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Kind
from prelabel.errors import InputError
from prelabel.formats.cvat import (
    CUBOID_CVAT_TO_P,
    box_corners,
    cvat_export_kind,
    cvat_rle_to_mask,
    ellipse_polygon,
    read_cvat,
)
from prelabel.report import Report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cvat"


def pts(ann: Annotations, i: int) -> list[list[float]]:
    return ann.points[ann.offsets[i] : ann.offsets[i + 1]].tolist()


def labels_of(ann: Annotations, i: int) -> list[int]:
    return ann.point_label[ann.offsets[i] : ann.offsets[i + 1]].tolist()


def by_source(ann: Annotations, source: str) -> list[int]:
    return [i for i, s in enumerate(ann.source.tolist()) if s == source]


def validate_file(path: Path) -> int:
    """``prelabel validate PATH``'s exit code (0: every payload valid)."""
    from click.testing import CliRunner

    from prelabel.cli import main

    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code


def write(tmp_path: Path, text: str, name: str = "a.xml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


META_LABELS = """<meta><task><labels>
  <label><name>car</name></label><label><name>person</name></label>
</labels></task></meta>"""


# --- CVAT for images ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images() -> tuple[Annotations, Report]:
    report = Report()
    return read_cvat(FIXTURES / "images.xml", ellipse_vertices=4, report=report), report


def test_images_frames_table(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    f = ann.frames
    assert f.name.tolist() == ["cam1/000001.jpg", "cam1/000002.jpg", "cam2/000001.jpg"]
    # sequence = the image's folder, index = its position in that folder
    assert f.sequence.tolist() == ["cam1", "cam1", "cam2"]
    assert f.index.tolist() == [0, 1, 0]
    assert f.width.tolist() == [1600, 1600, 640]
    assert f.height.tolist() == [1200, 1200, 480]
    assert f.frame_id.tolist() == ["", "", ""]  # filled later by --frame-id
    # labels in meta order; skeleton point labels 1, 2, 3 are not object labels
    assert ann.labels == ("car", "person", "lane", "wheel", "good_frame", "s1")


def test_images_box_and_attributes(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    (i,) = by_source(ann, "<box> line 126")
    assert ann.kind[i] == Kind.RECTANGLE
    assert ann.labels[ann.label[i]] == "car"
    # xtl=10 ytl=20 xbr=110 ybr=70 -> TL, TR, BR, BL
    assert pts(ann, i) == [[10, 20], [110, 20], [110, 70], [10, 70]]
    assert ann.attributes[i] == {"color": "red", "parked": "true"}
    assert ann.track[i] == -1
    assert math.isnan(ann.score[i])


def test_rotated_box_becomes_polygon(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    (i,) = by_source(ann, "<box> line 130")
    assert ann.kind[i] == Kind.POLYGON
    # box 100,100 .. 200,140, centre (150, 120), rotation 90 deg clockwise on screen:
    # (x, y) -> (cx - (y - cy), cy + (x - cx)); TL (100,100): dx=-50 dy=-20 -> (170, 70)
    # TR (200,100): dx=50 dy=-20 -> (170,170); BR (200,140) -> (130,170); BL (100,140) -> (130,70)
    np.testing.assert_allclose(pts(ann, i), [[170, 70], [170, 170], [130, 170], [130, 70]])


def test_polygon_polyline_points(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    (poly,) = by_source(ann, "<polygon> line 134")
    assert ann.kind[poly] == Kind.POLYGON
    assert pts(ann, poly) == [[0, 0], [100, 0], [50, 80]]
    assert ann.attributes[poly] == {"pose": "standing"}
    (line,) = by_source(ann, "<polyline> line 137")
    assert ann.kind[line] == Kind.LINE
    assert pts(ann, line) == [[0, 600], [800, 600], [1600, 550]]
    (lm,) = by_source(ann, "<points> line 139")
    assert ann.kind[lm] == Kind.LANDMARK
    assert pts(ann, lm) == [[10, 10], [20, 20], [30, 30], [40, 40]]
    assert labels_of(ann, lm) == [1, 2, 3, 4]  # points numbered 1..n in file order


def test_skeleton_points_in_label_spec_order(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    (i,) = by_source(ann, "<skeleton> line 143")
    assert ann.kind[i] == Kind.LANDMARK
    # the file lists point "2" before "1"; the spec orders 1, 2, 3; "3" is outside -> left out
    assert pts(ann, i) == [[54.47, 94.81], [68.02, 162.34]]
    assert labels_of(ann, i) == [1, 2]


def test_cuboid_corner_mapping(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    (i,) = by_source(ann, "<cuboid> line 151")
    assert ann.kind[i] == Kind.CUBOID
    # front face (face 1) is the square 100..200; the back face is it moved by (+50, -20).
    # The spec's cuboid example puts p1, p2 at the bottom (y 0.58) and p3, p4 at the top
    # (y 0.49), so each face runs BL, BR, TR, TL:
    # p1..p4 = front BL, BR, TR, TL = bl1, br1, tr1, tl1
    # p5..p8 = back BL, BR, TR, TL = br2 (150,180), bl2 (250,180), tl2 (250,80), tr2 (150,80):
    # CVAT's (tl2, bl2) edge is the one joined to the front's right edge.
    assert pts(ann, i) == [
        [100, 200], [200, 200], [200, 100], [100, 100],
        [150, 180], [250, 180], [250, 80], [150, 80],
    ]  # fmt: skip
    assert CUBOID_CVAT_TO_P.tolist() == [1, 3, 2, 0, 7, 5, 4, 6]


def test_ellipses(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    (plain,) = by_source(ann, "<ellipse> line 155")
    assert ann.kind[plain] == Kind.POLYGON
    # cx=300 cy=300 rx=40 ry=20, 4 vertices at t = 0, 90, 180, 270 degrees:
    # (cx + rx, cy), (cx, cy + ry), (cx - rx, cy), (cx, cy - ry)
    np.testing.assert_allclose(
        pts(ann, plain), [[340, 300], [300, 320], [260, 300], [300, 280]], atol=1e-9
    )
    (rot,) = by_source(ann, "<ellipse> line 157")
    # centre (500, 500), rotated 90 deg clockwise: (dx, dy) -> (-dy, dx)
    # (40, 0) -> (0, 40): (500, 540); (0, 20) -> (-20, 0): (480, 500)
    np.testing.assert_allclose(
        pts(ann, rot), [[500, 540], [480, 500], [500, 460], [520, 500]], atol=1e-9
    )


def test_masks_become_polygons(images: tuple[Annotations, Report]) -> None:
    ann, report = images
    (i,) = by_source(ann, "<mask> line 159")
    # rle 5,2,2,2,1 over a 4x3 box at (10, 20), row-major:
    # row 0: 0 0 0 0 | row 1: 0 1 1 0 | row 2: 0 1 1 0 -> pixels x 1..2, y 1..2 of the box,
    # outlined on pixel corners: x 11..13, y 21..23
    assert ann.kind[i] == Kind.POLYGON
    assert sorted(map(tuple, pts(ann, i))) == [(11, 21), (11, 23), (13, 21), (13, 23)]
    assert ann.attributes[i] == {"pose": "sitting"}
    # rle 0,2,1,2 over 5x1 at (0, 0): 1 1 0 1 1 -> two 2-pixel parts, two polygons
    two = by_source(ann, "<mask> line 162")
    assert len(two) == 2
    xs = sorted(min(p[0] for p in pts(ann, j)) for j in two)
    assert xs == [0, 3]
    rows = [r for r in report.rows if r["reason"] == "split_into_polygons"]
    assert [r["source"] for r in rows] == ["<mask> line 162"]


def test_tags_are_reported_not_shapes(images: tuple[Annotations, Report]) -> None:
    ann, report = images
    assert "good_frame" not in {ann.labels[k] for k in ann.label.tolist()}
    rows = [r for r in report.rows if r["reason"] == "tag"]
    assert len(rows) == 1
    assert rows[0]["action"] == "skipped"
    assert rows[0]["label"] == "good_frame"
    assert rows[0]["frame"] == "cam1/000001.jpg"
    assert rows[0]["source"] == "<tag> line 141"


def test_images_other_frames_and_order(images: tuple[Annotations, Report]) -> None:
    ann, _ = images
    # 12 shapes on image 0 (2 boxes, polygon, polyline, points, skeleton, cuboid, 2 ellipses,
    # 3 mask polygons), then one on each of the other images, in file order
    assert ann.frame.tolist() == [0] * 12 + [1, 2]
    (box,) = by_source(ann, "<box> line 167")
    assert ann.frame[box] == 1
    assert pts(ann, box) == [[1, 2], [3, 2], [3, 4], [1, 4]]
    (poly,) = by_source(ann, "<polygon> line 172")
    assert ann.frame[poly] == 2
    assert pts(ann, poly) == [[1.5, 2.5], [3.5, 2.5], [3.5, 4.5]]


def test_occluded_attribute() -> None:
    ann = read_cvat(FIXTURES / "images.xml", occluded_attribute="occluded")
    (box,) = by_source(ann, "<box> line 167")
    assert ann.attributes[box] == {"pose": "crouching", "occluded": "true"}
    (first,) = by_source(ann, "<box> line 126")
    assert ann.attributes[first] == {"color": "red", "parked": "true", "occluded": "false"}
    (skel,) = by_source(ann, "<skeleton> line 143")  # point "1" is occluded
    assert ann.attributes[skel] == {"occluded": "true"}


# --- CVAT for video ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video() -> tuple[Annotations, Report]:
    report = Report()
    return read_cvat(FIXTURES / "video.xml", report=report), report


def track_frames(ann: Annotations, track_id: int) -> dict[int, list[list[float]]]:
    return {int(ann.frame[i]): pts(ann, i) for i in np.flatnonzero(ann.track == track_id)}


def test_video_frames_from_start_stop_and_step(video: tuple[Annotations, Report]) -> None:
    ann, _ = video
    f = ann.frames
    # start_frame 10, stop_frame 28, step=3: frames 10 13 16 19 22 25 28 -> task frames 0..6
    assert len(f) == 7
    assert f.index.tolist() == list(range(7))
    assert f.name.tolist() == [""] * 7
    assert f.sequence.tolist() == ["street"] * 7
    assert f.width.tolist() == [640] * 7
    assert f.height.tolist() == [480] * 7


def test_box_track_interpolation_outside_and_gap(video: tuple[Annotations, Report]) -> None:
    ann, _ = video
    got = track_frames(ann, 0)
    # keyframes at 10 (task 0) and 19 (task 3): task 1 is t = 1/3, task 2 t = 2/3 of the way
    # from (0,0,10,10) to (30,30,40,40): (10,10,20,20) and (20,20,30,30).
    # Frame 22 (task 4) is outside: nothing there, nothing at 25 (task 5) either;
    # the track reappears at 28 (task 6).
    assert sorted(got) == [0, 1, 2, 3, 6]
    assert got[1] == [[10, 10], [20, 10], [20, 20], [10, 20]]
    assert got[2] == [[20, 20], [30, 20], [30, 30], [20, 30]]
    assert got[3] == [[30, 30], [40, 30], [40, 40], [30, 40]]
    assert got[6] == [[100, 100], [110, 100], [110, 110], [100, 110]]
    rows = np.flatnonzero(ann.track == 0)
    attrs = {int(ann.frame[i]): ann.attributes[i] for i in rows}
    # the immutable colour is written on the first keyframe only and carried on
    assert attrs[0] == attrs[1] == attrs[2] == {"color": "red", "parked": "false"}
    assert attrs[3] == {"color": "red", "parked": "true"}
    assert [ann.source[i] for i in rows if ann.frame[i] == 1] == ["<box> line 116 (interpolated)"]


def test_polygon_track_interpolated_then_held_to_the_end(video: tuple[Annotations, Report]) -> None:
    ann, _ = video
    got = track_frames(ann, 1)
    # 13 (task 1) -> 19 (task 3): task 2 is halfway, x + 3
    assert got[2] == [[3, 0], [13, 0], [13, 10]]
    # the last keyframe is not outside: CVAT keeps it to the end of the task (tasks 4..6)
    assert sorted(got) == [1, 2, 3, 4, 5, 6]
    assert got[4] == got[5] == got[6] == [[6, 0], [16, 0], [16, 10]]


def test_skeleton_track(video: tuple[Annotations, Report]) -> None:
    ann, _ = video
    rows = {int(ann.frame[i]): i for i in np.flatnonzero(ann.track == 2)}
    # frames 10 (task 0) and 16 (task 2); 19 (task 3) has every point outside: the skeleton
    # is outside there, and nothing follows
    assert sorted(rows) == [0, 1, 2]
    assert pts(ann, rows[0]) == [[0, 0], [10, 10]]
    assert labels_of(ann, rows[0]) == [1, 2]
    # task 1 halfway; point 3 was outside at the earlier keyframe, so it stays hidden
    assert pts(ann, rows[1]) == [[3, 3], [13, 13]]
    assert labels_of(ann, rows[1]) == [1, 2]
    assert labels_of(ann, rows[2]) == [1, 2, 3]


def test_points_and_polyline_tracks_and_report(video: tuple[Annotations, Report]) -> None:
    ann, report = video
    assert track_frames(ann, 3) == {0: [[1, 1], [2, 2]]}  # frame 11 off-step, 13 outside
    lane = track_frames(ann, 4)
    # 2 points at 10, 3 points at 16: not interpolated, the earlier shape is held at 13
    assert lane == {0: [[0, 0], [10, 0]], 1: [[0, 0], [10, 0]], 2: [[0, 5], [5, 5], [10, 5]]}
    assert 5 not in set(ann.track.tolist())  # its only frame (31) is past stop_frame
    reasons = {(r["reason"], r["source"]) for r in report.rows}
    assert ("frame_not_in_task", "<points> line 166") in reasons  # frame 11
    assert ("frame_not_in_task", "<box> line 180") in reasons  # frame 31
    assert ("held_not_interpolated", "<polyline> line 172") in reasons


def test_no_interpolate_keeps_listed_frames_only() -> None:
    ann = read_cvat(FIXTURES / "video.xml", interpolate=False)
    assert sorted(track_frames(ann, 0)) == [0, 3, 6]  # 22 is outside
    assert sorted(track_frames(ann, 1)) == [1, 3]
    assert not any(s.endswith("(interpolated)") for s in ann.source.tolist())


def test_export_kind() -> None:
    assert cvat_export_kind(FIXTURES / "video.xml") == "video"
    assert cvat_export_kind(FIXTURES / "images.xml") == "images"
    assert cvat_export_kind(FIXTURES / "xxe.xml") == "images"  # unreadable: read_cvat says why


def test_project_export_without_task_offsets(tmp_path: Path) -> None:
    """A hand-written project file whose track frames are task frames (not shifted by the
    task offset CVAT writes) is read as it is, with a note."""
    task = """<task><id>{id}</id><name>{name}</name><size>{size}</size><mode>interpolation</mode>
      <start_frame>{start}</start_frame><stop_frame>{stop}</stop_frame><frame_filter></frame_filter>
      <original_size><width>{w}</width><height>100</height></original_size></task>"""
    xml = f"""<annotations><version>1.1</version><meta><project><name>p</name><labels>
      <label><name>car</name></label></labels><tasks>
      {task.format(id=1, name="a", size=3, start=0, stop=2, w=200)}
      {task.format(id=2, name="b", size=2, start=5, stop=6, w=300)}
      </tasks></project></meta>
      <track id="0" label="car" task_id="2" subset="default">
        <box frame="6" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1" xbr="2" ybr="2"/>
      </track>
      <track id="1" label="car" task_id="1" subset="default">
        <box frame="1" keyframe="1" outside="0" occluded="0" xtl="1" ytl="1" xbr="2" ybr="2"/>
        <box frame="2" keyframe="1" outside="1" occluded="0" xtl="1" ytl="1" xbr="2" ybr="2"/>
      </track></annotations>"""
    report = Report()
    ann = read_cvat(write(tmp_path, xml), report=report)
    # task 1 (frames 0..2) comes first in the meta, task 2 (frames 5..6) next
    assert ann.frames.sequence.tolist() == ["a", "a", "a", "b", "b"]
    assert ann.frames.width.tolist() == [200] * 3 + [300] * 2
    by_track = {int(t): int(f) for t, f in zip(ann.track, ann.frame, strict=True)}
    # CVAT would write task 2's frame 6 as 6 + offset 3 (0 + 1 * 3 frames of task 1) = 9;
    # 9 is not in the file, 6 fits without the offset: task 2's index 1 -> row 3 + 1
    assert by_track == {1: 1, 0: 4}
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"]) == (
        "noted", "track_frames_not_offset", "<meta> task 'b'",
    )  # fmt: skip


# --- project exports (CVAT) and datumaro's files -----------------------------------------------


def test_cvat_project_images_export() -> None:
    """CVAT's project export: tasks by subset then id, image names repeated across subsets
    (and mangled inside one: 0001_1.jpg), ids restarting per subset."""
    report = Report()
    ann = read_cvat(FIXTURES / "project_images.xml", report=report)
    f = ann.frames
    # CVAT saves a project's images as images/<subset>/<name>: names stay apart
    assert f.name.tolist() == [
        "Train/0001.jpg", "Train/0002.jpg", "Train/0001_1.jpg", "Train/0003.jpg",
        "Validation/0001.jpg", "Validation/0002.jpg",
    ]  # fmt: skip
    # one sequence per task; the second task named "day" gets its id
    assert f.sequence.tolist() == ["day", "day", "night", "night", "day (13)", "day (13)"]
    assert f.index.tolist() == [0, 1, 0, 1, 0, 1]
    assert f.width.tolist() == [640, 640, 800, 800, 320, 320]
    assert ann.labels == ("car", "person")
    assert ann.frame.tolist() == [0, 2, 3, 4, 5]
    assert ann.attributes.tolist() == [
        {"parked": "false"}, None, {"parked": "true"}, {"parked": "false"}, None,
    ]  # fmt: skip
    assert pts(ann, 4) == [[0, 0], [10, 0], [10, 10], [0, 10]]  # Validation/0002.jpg's person
    assert report.rows == []


def test_cvat_project_video_export() -> None:
    """CVAT for video, project: a track's frames are shifted by its task's offset."""
    report = Report()
    ann = read_cvat(FIXTURES / "project_video.xml", report=report)
    f = ann.frames
    assert f.sequence.tolist() == ["morning"] * 5 + ["evening"] * 3
    assert f.index.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert f.width.tolist() == [640] * 5 + [1280] * 3
    got = {
        (int(t), int(r)): pts(ann, i)[0]
        for i, (t, r) in enumerate(zip(ann.track, ann.frame, strict=True))
    }
    # track 0 (task 21, offset 0): frames 0, 1, 2, outside at 3
    # track 1 (task 22, start 10, step 3, offset 0 + 1 * 5 = 5): frames 15, 18, 21 are task
    # frames (15 - 15) / 3 = 0, 1, 2 -> rows 5, 6, 7
    assert got == {
        (0, 0): [0, 10], (0, 1): [10, 10], (0, 2): [20, 10],
        (1, 5): [100, 10], (1, 6): [130, 10], (1, 7): [160, 10],
    }  # fmt: skip
    assert report.rows == []
    assert cvat_export_kind(FIXTURES / "project_video.xml") == "video"


def test_cli_project_images_one_job_per_task(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    out = tmp_path / "jobs.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "convert", "cvat", str(FIXTURES / "project_images.xml"), "-o", str(out),
            "--src-prefix", "https://cdn.example.com/images/", "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    jobs = {j["reference_id"]: j for j in map(json.loads, out.read_text().splitlines())}
    assert sorted(jobs) == ["day", "day (13)", "night"]
    frames = jobs["day (13)"]["data"]["video_data"]["frames"]
    assert [(fr["frame_id"], fr["src"]) for fr in frames] == [
        ("0001", "https://cdn.example.com/images/Validation/0001.jpg"),
        ("0002", "https://cdn.example.com/images/Validation/0002.jpg"),
    ]
    assert validate_file(out) == 0


def test_project_images_without_task_id_or_in_folders(tmp_path: Path) -> None:
    # an older project export names only the subset; a task's images may sit in folders
    xml = """<annotations><meta><project><tasks><task><id>5</id><name>day</name></task>
      </tasks></project></meta>
      <image id="0" name="cam1/a.jpg" subset="Train" task_id="5" width="9" height="9"/>
      <image id="1" name="cam2/a.jpg" subset="Train" task_id="5" width="9" height="9"/>
      <image id="0" name="a.jpg" subset="Test" width="9" height="9"/>
      <image id="0" name="b.jpg" subset="Test" task_id="77" width="9" height="9"/>
      </annotations>"""
    f = read_cvat(write(tmp_path, xml)).frames
    assert f.name.tolist() == ["Train/cam1/a.jpg", "Train/cam2/a.jpg", "Test/a.jpg", "Test/b.jpg"]
    # task 77 is not in the meta: its subset names the sequence
    assert f.sequence.tolist() == ["day/cam1", "day/cam2", "Test", "Test"]
    assert f.index.tolist() == [0, 0, 0, 1]  # Test: ids 0 and 0, file order


def test_project_subset_leaving_the_root_refused(tmp_path: Path) -> None:
    xml = '<annotations><image id="0" name="a.jpg" subset=".." width="9" height="9"/></annotations>'
    with pytest.raises(InputError) as err:
        read_cvat(write(tmp_path, xml))
    assert err.value.location == "<image> line 1"
    assert "image path '../a.jpg' leaves the dataset root" in err.value.message


def test_datumaro_images_file_notes_its_meta() -> None:
    """datumaro writes one file per subset, an empty <id>, and stop_frame = size."""
    report = Report()
    ann = read_cvat(FIXTURES / "datumaro_train.xml", report=report)
    f = ann.frames
    # the file lists 1.jpg (id 0), 10.jpg (id 9), 2.jpg (id 1): ordered by CVAT's frame id
    assert f.name.tolist() == ["1.jpg", "10.jpg", "2.jpg"]
    assert f.index.tolist() == [0, 2, 1]
    assert f.sequence.tolist() == [""] * 3
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.POLYGON]
    assert ann.attributes.tolist() == [{"make": "vw"}, None]
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"]) == (
        "noted", "task_meta_disagrees", "<meta> task 'train'",
    )  # fmt: skip
    assert "size 3, but start_frame 0 .. stop_frame 3 (step 1) is 4 frames" in row["detail"]
    assert "the frames are the file's <image> elements" in row["detail"]


def test_datumaro_tracks_use_the_frames_the_tracks_fit_in() -> None:
    report = Report()
    ann = read_cvat(FIXTURES / "datumaro_tracks.xml", report=report)
    # size 4 and stop_frame 4 (5 frames as CVAT reads it): the tracks use frames 0..2, so the
    # task has 4 frames, not 5 (no empty frame at the end, no shape held onto it)
    assert len(ann.frames) == 4
    assert ann.frames.sequence.tolist() == ["default"] * 4
    by_track: dict[int, list[int]] = {}
    for t, fr in zip(ann.track.tolist(), ann.frame.tolist(), strict=True):
        by_track.setdefault(t, []).append(fr)
    assert by_track == {0: [0, 1, 2, 3], 1: [1, 2, 3]}  # filled and held to the end
    i = ann.frame.tolist().index(1)
    assert pts(ann, i)[0] == [10, 0]  # car at frame 1: halfway between x 0 and x 20
    (row,) = report.rows
    assert row["reason"] == "task_meta_disagrees"
    assert "the task has the 4 frames its tracks fit in" in row["detail"]


def test_meta_disagreement_keeps_the_frames_a_track_uses(tmp_path: Path) -> None:
    # size says 2 frames, start_frame..stop_frame 5; a track uses frame 4: 5 frames
    xml = """<annotations><meta><task><name>v</name><size>2</size><start_frame>0</start_frame>
      <stop_frame>4</stop_frame><original_size><width>10</width><height>10</height>
      </original_size></task></meta>
      <track id="0" label="a"><box frame="4" outside="0" xtl="1" ytl="1" xbr="2" ybr="2"/></track>
      </annotations>"""
    report = Report()
    ann = read_cvat(write(tmp_path, xml), report=report)
    assert len(ann.frames) == 5
    assert ann.frame.tolist() == [4]
    assert [r["reason"] for r in report.rows] == ["task_meta_disagrees"]
    assert "the task has the 5 frames" in report.rows[0]["detail"]


@pytest.mark.parametrize(
    ("ids", "order"),
    [
        (["3", "1", "2"], [2, 0, 1]),  # by id
        (["3", "", "2"], [0, 1, 2]),  # one image without an id: file order
        (["3", "99999999999999999999", "2"], [0, 1, 2]),  # an id beyond range: file order
        (["1", "1", "0"], [1, 2, 0]),  # a repeated id keeps file order among its images
    ],
)
def test_images_ordered_by_id_within_a_sequence(
    tmp_path: Path, ids: list[str], order: list[int]
) -> None:
    images = "".join(
        f'<image id="{i}" name="f/{k}.jpg" width="9" height="9"/>' for k, i in enumerate(ids)
    )
    ann = read_cvat(write(tmp_path, f"<annotations>{images}</annotations>"))
    assert ann.frames.index.tolist() == order


def test_shape_outside_image_or_track_is_reported(tmp_path: Path) -> None:
    xml = """<annotations>
<box label="a" xtl="1" ytl="1" xbr="2" ybr="2"/>
<image id="0" name="a.jpg" width="9" height="9"/></annotations>"""
    report = Report()
    ann = read_cvat(write(tmp_path, xml), report=report)
    assert len(ann) == 0
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"]) == (
        "skipped", "shape_outside_image_or_track", "<box> line 2",
    )  # fmt: skip


def test_labels_without_meta_in_order_of_appearance(tmp_path: Path) -> None:
    xml = """<annotations><image id="0" name="x.png" width="10" height="10">
      <box label="zebra" xtl="1" ytl="1" xbr="2" ybr="2"/>
      <box label="ant" xtl="1" ytl="1" xbr="2" ybr="2"/></image></annotations>"""
    ann = read_cvat(write(tmp_path, xml))
    assert ann.labels == ("zebra", "ant")
    assert ann.frames.sequence.tolist() == [""]


def test_track_level_attributes_apply_to_every_frame(tmp_path: Path) -> None:
    xml = """<annotations><meta><task><size>2</size><mode>interpolation</mode>
      <original_size><width>10</width><height>10</height></original_size></task></meta>
      <track id="3" label="car"><attribute name="make">vw</attribute>
        <box frame="0" keyframe="1" outside="0" xtl="1" ytl="1" xbr="2" ybr="2"/>
      </track></annotations>"""
    ann = read_cvat(write(tmp_path, xml))
    assert ann.attributes.tolist() == [{"make": "vw"}, {"make": "vw"}]
    assert ann.frames.sequence.tolist() == ["video", "video"]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
def test_dtd_attacks_refused(name: str) -> None:
    with pytest.raises(InputError) as err:
        read_cvat(FIXTURES / name)
    e = err.value
    assert e.path == str(FIXTURES / name)
    assert e.location is not None
    assert e.location.startswith("2:")
    assert "refused" in e.message
    assert "DTD" in e.message


def test_malformed_xml_line_and_column(tmp_path: Path) -> None:
    p = write(
        tmp_path, "<annotations>\n  <image id='0' name='a' width='1' height='1'>\n</annotations>"
    )
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert err.value.location == "3:3"  # </annotations> closes <image>: line 3, column 3
    assert "malformed XML: mismatched tag" in str(err.value)


def test_unknown_label_names_element_and_line(tmp_path: Path) -> None:
    xml = f"""<annotations>{META_LABELS}
<image id="0" name="a.jpg" width="10" height="10">
  <box label="truck" xtl="1" ytl="1" xbr="2" ybr="2"/>
</image></annotations>"""
    with pytest.raises(InputError) as err:
        read_cvat(write(tmp_path, xml))
    assert err.value.location == "<box> line 5"
    assert "unknown label 'truck'" in err.value.message


@pytest.mark.parametrize(
    "points",
    ["1,2;3", "1,2,3;4,5", "1,2;;3,4", "a,b;1,2", "", "1,2;3,4,", "1.2.3,4"],
)
def test_bad_points_string(tmp_path: Path, points: str) -> None:
    xml = f"""<annotations>
<image id="0" name="a.jpg" width="10" height="10">
  <polygon label="car" points="0,0;1,1;2,0"/>
  <polygon label="car" points="{points}"/>
  <polygon label="car" points="0,0;1,1;2,0"/>
</image></annotations>"""
    with pytest.raises(InputError) as err:
        read_cvat(write(tmp_path, xml))
    assert err.value.location == "<polygon> line 4"
    assert "bad points string" in err.value.message


def test_missing_attribute(tmp_path: Path) -> None:
    xml = """<annotations>
<image id="0" name="a.jpg" width="10" height="10">
  <box label="car" xtl="1" ytl="1" xbr="2"/>
</image></annotations>"""
    with pytest.raises(InputError) as err:
        read_cvat(write(tmp_path, xml))
    assert (err.value.location, err.value.message) == ("<box> line 3", "missing attribute 'ybr'")


def test_image_path_outside_the_root_refused(tmp_path: Path) -> None:
    xml = '<annotations><image id="0" name="../../etc/x.jpg" width="1" height="1"/></annotations>'
    with pytest.raises(InputError, match="leaves the dataset root"):
        read_cvat(write(tmp_path, xml))


def test_video_without_original_size(tmp_path: Path) -> None:
    xml = """<annotations><meta><task><name>v</name><size>2</size></task></meta>
      <track id="0" label="car"><box frame="0" outside="0" xtl="1" ytl="1" xbr="2" ybr="2"/></track>
      </annotations>"""
    with pytest.raises(InputError, match="original_size"):
        read_cvat(write(tmp_path, xml))


@pytest.mark.parametrize(
    ("encoding", "why"),
    [
        ("x-unknown-9", "unknown encoding: x-unknown-9"),  # LookupError once
        ("Shift_JIS", "multi-byte encodings are not supported"),  # ValueError once
        ("UTF-7", "multi-byte encodings are not supported"),
        ("EUC-JP", "multi-byte encodings are not supported"),
    ],
)
def test_undecodable_encoding_is_one_input_error(tmp_path: Path, encoding: str, why: str) -> None:
    p = tmp_path / "a.xml"
    p.write_bytes(
        f'<?xml version="1.0" encoding="{encoding}"?>\n'.encode()
        + b'<annotations><image id="0" name="a.jpg" width="1" height="1"/></annotations>'
    )
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert err.value.path == str(p)
    assert err.value.location is not None
    assert err.value.location.startswith("1:")
    assert f"encoding {encoding!r}" in err.value.message
    assert why in err.value.message
    assert cvat_export_kind(p) == "images"  # unreadable: read_cvat says why


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("<stop_frame>9223372036854775808</stop_frame>", "<stop_frame> 9223372036854775808 is out"),
        ("<start_frame>-3</start_frame>", "<start_frame> must be >= 0, not -3"),
        ("<frame_filter>step=99999999999999999999</frame_filter>", "unsupported frame_filter"),
        # within int64, but a frames table of 2**62 rows cannot be built
        ("<stop_frame>4611686018427387903</stop_frame>", "would have 4,611,686,018,427,387,904"),
        ("<size>1000001</size>", "would have 1,000,001 frames, more than the 1,000,000"),
    ],
)
def test_meta_numbers_out_of_range(tmp_path: Path, meta: str, message: str) -> None:
    xml = f"""<annotations><meta><task><name>v</name>{meta}<mode>interpolation</mode>
      <original_size><width>10</width><height>10</height></original_size></task></meta>
      <track id="0" label="a"><box frame="0" outside="0" xtl="1" ytl="1" xbr="2" ybr="2"/></track>
      </annotations>"""
    with pytest.raises(InputError) as err:
        read_cvat(write(tmp_path, xml))
    assert err.value.location is not None
    assert err.value.location.startswith("<meta>")
    assert message in err.value.message


def test_track_frame_beyond_the_task_limit_without_a_range(tmp_path: Path) -> None:
    # no stop_frame or size: the task runs to the largest frame, which is refused, not built
    xml = """<annotations><meta><task><name>v</name><original_size><width>10</width>
      <height>10</height></original_size></task></meta>
      <track id="0" label="a"><box frame="4611686018427387904" outside="0" xtl="1" ytl="1"
      xbr="2" ybr="2"/></track></annotations>"""
    with pytest.raises(InputError, match="more than the 1,000,000 one sequence may have"):
        read_cvat(write(tmp_path, xml))


def test_interpolation_is_bounded_before_allocating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prelabel.formats.cvat._tracks as cvat

    xml = """<annotations><meta><task><name>v</name><size>100</size><original_size>
      <width>10</width><height>10</height></original_size></task></meta>
      <track id="0" label="a">
      <polygon frame="0" outside="0" points="0,0;1,0;1,1;0,1"/>
      <polygon frame="99" outside="0" points="0,0;2,0;2,2;0,2"/></track></annotations>"""
    p = write(tmp_path, xml)
    # 98 frames between the keyframes x 4 points = 392 points to fill
    monkeypatch.setattr(cvat, "MAX_FILLED_POINTS", 391)
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert err.value.location == "<polygon> line 4"
    assert "would make 392 points, more than 391" in err.value.message
    assert "give interpolate=False to keep only" in err.value.message
    assert len(read_cvat(p, interpolate=False)) == 2
    monkeypatch.setattr(cvat, "MAX_FILLED_POINTS", 392)
    assert len(read_cvat(p)) == 100


def test_mask_offset_beyond_range_is_a_bad_mask(tmp_path: Path) -> None:
    xml = (
        """<annotations><image id="0" name="a.jpg" width="9" height="9">
      <mask label="a" rle="0, 4" left="1"""
        + "0" * 400
        + """" top="0" width="2" height="2"/>
      </image></annotations>"""
    )
    with pytest.raises(InputError) as err:
        read_cvat(write(tmp_path, xml))
    assert err.value.location == "<mask> line 2"
    assert "bad mask: left 1000" in err.value.message
    assert "out of range" in err.value.message


def test_100k_point_polygon_parsed_in_bulk(tmp_path: Path) -> None:
    """A 100,000-point polygon is one vectorised parse: exact values, bounded memory."""
    import tracemalloc

    n = 100_000
    k = np.arange(n)
    x, y = (k % 640) + 0.25, (k * 7 % 480) + 0.5
    run = ";".join(f"{a},{b}" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    p = write(
        tmp_path,
        '<annotations><image id="0" name="a.jpg" width="640" height="480">'
        f'<polygon label="p" points="{run}"/></image></annotations>',
    )
    tracemalloc.start()
    try:
        ann = read_cvat(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ann.points.tolist() == np.stack([x, y], axis=1).tolist()
    # the file is 1.5 MB; the parse holds a few arrays of 100k values (measured: ~20 MB)
    assert peak < 64e6


# --- bad elements: error or drop ---------------------------------------------------------------

# one line each, so every element below sits on line 5 of IMAGE_XML / TRACK_XML
ONE_LINE_META = (
    "<meta><task><name>t</name><labels><label><name>car</name></label>"
    "<label><name>body</name></label>"
    "<label><name>head</name><parent>body</parent></label>"
    "<label><name>tail</name><parent>body</parent></label>"
    "</labels></task></meta>"
)
IMAGE_XML = """<annotations>
{meta}
<image id="0" name="a.jpg" width="100" height="100">
  <box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/>
  {bad}
  <box label="car" xtl="3" ytl="3" xbr="4" ybr="4"/>
</image>
</annotations>"""
BODY = '<skeleton label="body">{}</skeleton>'

# (element on line 5, location named, reason, text of the message, label in the report row)
BAD_IMAGE_ELEMENTS = [
    ('<box label="truck" xtl="1" ytl="1" xbr="2" ybr="2"/>',
     "<box> line 5", "unknown_label", "unknown label 'truck'", "truck"),
    ('<polygon label="car" points="1,2;3"/>',
     "<polygon> line 5", "bad_points", "bad points string '1,2;3'", "car"),
    ('<polyline label="car" points="1,2;;3,4"/>',
     "<polyline> line 5", "bad_points", "bad points string", "car"),
    ('<points label="car" points="a,b"/>',
     "<points> line 5", "bad_points", "bad points string 'a,b'", "car"),
    ('<box label="car" xtl="1" ytl="1" xbr="2"/>',
     "<box> line 5", "missing_attribute", "missing attribute 'ybr'", "car"),
    ("<box xtl='1' ytl='1' xbr='2' ybr='2'/>",
     "<box> line 5", "missing_attribute", "missing attribute 'label'", None),
    ('<ellipse label="car" cx="5" cy="5" rx="2"/>',
     "<ellipse> line 5", "missing_attribute", "missing attribute 'ry'", "car"),
    ('<box label="car" xtl="1" ytl="one" xbr="2" ybr="2"/>',
     "<box> line 5", "bad_coordinate", "bad coordinate '1,one;2,2'", "car"),
    ('<box label="car" xtl="1" ytl="1" xbr="2" ybr="2" rotation="north"/>',
     "<box> line 5", "bad_rotation", "rotation is not a number: 'north'", "car"),
    # 3 + 10 = 13 pixels of runs in a 2 x 2 box
    ('<mask label="car" rle="3, 10" left="0" top="0" width="2" height="2"/>',
     "<mask> line 5", "bad_mask", "bad mask: the runs cover 13 pixels, the box has 4", "car"),
    ('<mask label="car" left="0" top="0" width="2" height="2"/>',
     "<mask> line 5", "missing_attribute", "missing attribute 'rle'", "car"),
    # runs whose int64 sum wraps around to 1 (4 * 2**62 + 1): a crash in numpy once
    ('<mask label="car" rle="4611686018427387904, 4611686018427387904, 4611686018427387904, '
     '4611686018427387904, 1" left="0" top="0" width="2" height="2"/>',
     "<mask> line 5", "bad_mask", "bad mask: the runs cover 18446744073709551617 pixels", "car"),
    ('<mask label="car" rle="9223372036854775808" left="0" top="0" width="2" height="2"/>',
     "<mask> line 5", "bad_mask", "bad mask: a run length is beyond 2**63", "car"),
    ('<mask label="car" rle="1, -1" left="0" top="0" width="2" height="2"/>',
     "<mask> line 5", "bad_mask", "bad mask: rle is not a list of run lengths", "car"),
    # a bad point takes its skeleton with it
    (BODY.format('<points label="head" points="1,2;3,4"/><points label="tail" points="5,6"/>'),
     "<points> line 5", "bad_points", "one x,y expected", "body"),
    (BODY.format('<points label="fin" points="1,2"/>'),
     "<points> line 5", "unknown_label", "label 'fin' is not a point of skeleton 'body'", "body"),
    (BODY.format('<points points="1,2"/>'),
     "<points> line 5", "missing_attribute", "missing attribute 'label'", "body"),
    (BODY.format('<box label="head" xtl="1" ytl="1" xbr="2" ybr="2"/>'),
     "<box> line 5", "bad_skeleton", "a skeleton holds <points>, not <box>", "body"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "where", "reason", "message", "label"), BAD_IMAGE_ELEMENTS)
def test_bad_image_element_error_or_drop(
    tmp_path: Path, bad: str, where: str, reason: str, message: str, label: str | None
) -> None:
    p = write(tmp_path, IMAGE_XML.format(meta=ONE_LINE_META, bad=bad))
    with pytest.raises(InputError) as err:
        read_cvat(p)  # on_invalid="error" is the default
    assert err.value.location == where
    assert message in err.value.message
    assert f"{p}:{where}: " in str(err.value)

    report = Report()
    ann = read_cvat(p, on_invalid="drop", report=report)
    # the boxes on lines 4 and 6 are read, the bad element is not
    assert ann.source.tolist() == ["<box> line 4", "<box> line 6"]
    assert pts(ann, 1) == [[3, 3], [4, 3], [4, 4], [3, 4]]
    drops = [r for r in report.rows if r["action"] == "dropped"]
    assert len(drops) == 1
    row = drops[0]
    assert (row["reason"], row["source"], row["frame"], row["label"]) == (
        reason, where, "a.jpg", label,
    )  # fmt: skip
    assert message in row["detail"]


def test_drop_attribute_without_name_keeps_its_shape(tmp_path: Path) -> None:
    bad = '<box label="car" xtl="5" ytl="5" xbr="6" ybr="6"><attribute>x</attribute></box>'
    p = write(tmp_path, IMAGE_XML.format(meta=ONE_LINE_META, bad=bad))
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert (err.value.location, err.value.message) == (
        "<attribute> line 5", "missing attribute 'name'",
    )  # fmt: skip
    report = Report()
    ann = read_cvat(p, on_invalid="drop", report=report)
    # only the attribute is left out: the box on line 5 stays, without attributes
    assert ann.source.tolist() == ["<box> line 4", "<box> line 5", "<box> line 6"]
    assert ann.attributes[1] is None or ann.attributes[1] == {}
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"]) == (
        "dropped", "missing_attribute", "<attribute> line 5",
    )  # fmt: skip


def test_drop_bad_image_with_its_shapes(tmp_path: Path) -> None:
    xml = """<annotations>
<image id="0" name="a.jpg" width="100" height="100">
  <box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/>
</image>
<image id="1" name="b.jpg" width="wide" height="100">
  <box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/>
  <polygon label="car" points="0,0;1,0;1,1"><attribute name="a">1</attribute></polygon>
</image>
<image id="2" name="c.jpg" height="100">
  <box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/>
</image>
<image id="3" name="d.jpg" width="100" height="100">
  <box label="car" xtl="5" ytl="5" xbr="6" ybr="6"/>
</image>
</annotations>"""
    p = write(tmp_path, xml)
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert (err.value.location, err.value.message) == (
        "<image> line 5", "width/height is not a number",
    )  # fmt: skip
    report = Report()
    ann = read_cvat(p, on_invalid="drop", report=report)
    assert ann.frames.name.tolist() == ["a.jpg", "d.jpg"]
    assert ann.source.tolist() == ["<box> line 3", "<box> line 13"]
    assert ann.frames.name[ann.frame].tolist() == ["a.jpg", "d.jpg"]
    rows = [(r["reason"], r["source"], r["frame"]) for r in report.rows]
    assert rows == [
        ("bad_size", "<image> line 5", "b.jpg"),
        ("missing_attribute", "<image> line 9", "c.jpg"),
    ]
    assert report.rows[0]["detail"].endswith("(2 shape element(s))")
    assert report.rows[1]["detail"].endswith("(1 shape element(s))")


def test_image_path_outside_the_root_stays_fatal_under_drop(tmp_path: Path) -> None:
    xml = '<annotations><image id="0" name="../../etc/x.jpg" width="1" height="1"/></annotations>'
    with pytest.raises(InputError, match="leaves the dataset root"):
        read_cvat(write(tmp_path, xml), on_invalid="drop")


TRACK_XML = """<annotations>
<meta><task><name>v</name><start_frame>0</start_frame><stop_frame>3</stop_frame><original_size><width>100</width><height>100</height></original_size><labels><label><name>car</name></label></labels></task></meta>
<track id="7" label="car">
  <box frame="0" outside="0" keyframe="1" xtl="0" ytl="0" xbr="10" ybr="10"/>
  {bad}
  <box frame="3" outside="0" keyframe="1" xtl="30" ytl="30" xbr="40" ybr="40"/>
</track>
</annotations>"""

BAD_TRACK_ELEMENTS = [
    ('<box frame="x" outside="0" keyframe="1" xtl="5" ytl="5" xbr="15" ybr="15"/>',
     "bad_frame", "frame is not an integer", "x"),
    ('<box outside="0" keyframe="1" xtl="5" ytl="5" xbr="15" ybr="15"/>',
     "missing_attribute", "missing attribute 'frame'", None),
    ('<box frame="1" outside="0" keyframe="1" xtl="5" ytl="5" xbr="15"/>',
     "missing_attribute", "missing attribute 'ybr'", "1"),
    ('<box frame="1" outside="0" keyframe="1" xtl="5" ytl="5" xbr="15" ybr="1e"/>',
     "bad_coordinate", "bad coordinate '5,5;15,1e'", "1"),
    # beyond int64 (an OverflowError once); 2**62 is the reader's bound
    ('<box frame="9223372036854775808" outside="0" keyframe="1" xtl="5" ytl="5" xbr="15" ybr="15"/>',
     "bad_frame", "frame 9223372036854775808 is out of range (beyond 2**62)",
     "9223372036854775808"),
    # str.isdigit() is true for a superscript two, int() refuses it
    ('<box frame="²" outside="0" keyframe="1" xtl="5" ytl="5" xbr="15" ybr="15"/>',
     "bad_frame", "frame is not an integer", "²"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "reason", "message", "frame"), BAD_TRACK_ELEMENTS)
def test_bad_track_frame_error_or_drop(
    tmp_path: Path, bad: str, reason: str, message: str, frame: str | None
) -> None:
    p = write(tmp_path, TRACK_XML.format(bad=bad))
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert (err.value.location, err.value.message) == ("<box> line 5", message)

    report = Report()
    ann = read_cvat(p, on_invalid="drop", report=report)
    # only that frame of the track is left out: frames 1 and 2 are interpolated between the
    # keyframes 0 and 3, the box at t = 1/3 is (0 + 30/3, ...) = (10, 10, 20, 20)
    assert ann.frame.tolist() == [0, 1, 2, 3]
    assert ann.track.tolist() == [7, 7, 7, 7]
    assert pts(ann, 1) == [[10, 10], [20, 10], [20, 20], [10, 20]]
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"], row["frame"], row["label"]) == (
        "dropped", reason, "<box> line 5", frame, "car",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("track", "reason", "message"),
    [
        ('<track id="8" label="truck">', "unknown_label", "unknown label 'truck'"),
        ('<track id="eight" label="car">', "bad_track_id", "track id is not an integer"),
        ('<track id="-99999999999999999999" label="car">', "bad_track_id", "track id -9999"),
        ('<track label="car">', "missing_attribute", "missing attribute 'id'"),
    ],
)
def test_bad_track_dropped_with_its_frames(
    tmp_path: Path, track: str, reason: str, message: str
) -> None:
    xml = TRACK_XML.format(bad="").replace(
        "</track>",
        f"""</track>
{track}
  <box frame="0" outside="0" keyframe="1" xtl="0" ytl="0" xbr="1" ybr="1"/>
  <box frame="1" outside="1" keyframe="1" xtl="0" ytl="0" xbr="1" ybr="1"/>
</track>""",
        1,
    )
    p = write(tmp_path, xml)
    with pytest.raises(InputError) as err:
        read_cvat(p)
    assert err.value.location == "<track> line 8"
    assert err.value.message.startswith(message)
    report = Report()
    ann = read_cvat(p, on_invalid="drop", report=report)
    assert ann.track.tolist() == [7, 7, 7, 7]  # the first track, frames 0..3
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"]) == ("dropped", reason, "<track> line 8")
    assert row["detail"].endswith("(2 shape element(s))")


def test_fixture_with_bad_elements() -> None:
    path = FIXTURES / "bad_elements.xml"
    with pytest.raises(InputError) as err:
        read_cvat(path)
    # elements are checked as they are read, coordinates after the parse: line 16 comes first
    assert (
        str(err.value) == f"{path}:<box> line 16: unknown label 'truck' (not in the meta's labels)"
    )
    report = Report()
    ann = read_cvat(path, on_invalid="drop", report=report)
    assert ann.source.tolist() == ["<box> line 15", "<polygon> line 21"]
    assert pts(ann, 1) == [[1, 1], [9, 1], [9, 9]]
    rows = sorted((r["source"], r["reason"], r["frame"], r["label"]) for r in report.rows)
    assert rows == [
        ("<box> line 16", "unknown_label", "000001.jpg", "truck"),
        ("<box> line 20", "missing_attribute", "000002.jpg", "person"),
        ("<box> line 22", "bad_coordinate", "000002.jpg", "car"),
        ("<polygon> line 17", "bad_points", "000001.jpg", "person"),
    ]


def test_whole_file_errors_stay_fatal_under_drop(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="refused"):
        read_cvat(FIXTURES / "xxe.xml", on_invalid="drop")
    bad_xml = write(tmp_path, "<annotations>\n<image id='0' name='a' width='1' height='1'>\n")
    with pytest.raises(InputError, match="malformed XML"):
        read_cvat(bad_xml, on_invalid="drop")
    meta = "<meta><task><frame_filter>every=2</frame_filter></task></meta>"
    bad_meta = write(tmp_path, f"<annotations>{meta}</annotations>", "m.xml")
    with pytest.raises(InputError, match="unsupported frame_filter"):
        read_cvat(bad_meta, on_invalid="drop")
    with pytest.raises(ValueError, match="on_invalid"):
        read_cvat(bad_meta, on_invalid="skip")  # type: ignore[arg-type]


# --- helpers -------------------------------------------------------------------------------------


def test_cvat_rle_matches_cvat_rle2mask() -> None:
    # CVAT: the runs alternate 0, 1, 0 ... starting with 0, row-major over width x height;
    # [3, 1] -> 0 0 0 1 and [0, 2, 2] -> 1 1 0 0
    assert cvat_rle_to_mask("3, 1", 4, 1).tolist() == [[0, 0, 0, 1]]
    assert cvat_rle_to_mask("0, 2, 2", 2, 2).tolist() == [[1, 1], [0, 0]]
    with pytest.raises(ValueError, match="the runs cover 5 pixels, the box has 4"):
        cvat_rle_to_mask("5", 2, 2)


def test_box_corners_and_ellipse_helpers() -> None:
    assert box_corners([[0, 0, 2, 1]]).tolist() == [[[0, 0], [2, 0], [2, 1], [0, 1]]]
    # a 180 degree turn swaps opposite corners
    np.testing.assert_allclose(
        box_corners([[0, 0, 2, 1]], [180]), [[[2, 1], [0, 1], [0, 0], [2, 0]]], atol=1e-12
    )
    e = ellipse_polygon([[0, 0, 3, 1]], [0], 8)[0]
    np.testing.assert_allclose((e[:, 0] / 3) ** 2 + e[:, 1] ** 2, 1.0)  # on the ellipse


# --- property: random tracks -> XML -> read ------------------------------------------------------


@st.composite
def video_tracks(draw: Any) -> dict[str, Any]:
    start = draw(st.integers(0, 20))
    step = draw(st.integers(1, 4))
    n = draw(st.integers(2, 12))
    tracks = []
    for tid in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["box", "polygon", "points"]))
        k = draw(st.integers(1, 4)) if kind != "box" else 2
        frames = []
        for f in range(n):
            state = draw(st.sampled_from(["shown", "shown", "outside", "absent"]))
            if state == "absent":
                continue
            xy = draw(
                st.lists(
                    st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False),
                    min_size=2 * k,
                    max_size=2 * k,
                )
            )
            if kind == "box":
                xy = [min(xy[0], xy[2]), min(xy[1], xy[3]), max(xy[0], xy[2]), max(xy[1], xy[3])]
            frames.append((f, state == "outside", xy))
        tracks.append((tid, kind, frames))
    return {"start": start, "step": step, "n": n, "tracks": tracks}


def _track_xml(spec: dict[str, Any]) -> str:
    start, step, n = spec["start"], spec["step"], spec["n"]
    out = [
        "<annotations><version>1.1</version><meta><task><name>v</name>",
        f"<start_frame>{start}</start_frame><stop_frame>{start + (n - 1) * step}</stop_frame>",
        f"<frame_filter>{'step=' + str(step) if step > 1 else ''}</frame_filter>",
        "<original_size><width>640</width><height>480</height></original_size>",
        "<labels><label><name>obj</name></label></labels></task></meta>",
    ]
    for tid, kind, frames in spec["tracks"]:
        out.append(f'<track id="{tid}" label="obj">')
        for f, outside, xy in frames:
            common = f'frame="{start + f * step}" outside="{int(outside)}" keyframe="1"'
            if kind == "box":
                x0, y0, x1, y1 = (repr(v) for v in xy)
                out.append(f'<box {common} xtl="{x0}" ytl="{y0}" xbr="{x1}" ybr="{y1}"/>')
            else:
                run = ";".join(f"{xy[i]!r},{xy[i + 1]!r}" for i in range(0, len(xy), 2))
                out.append(f'<{kind} {common} points="{run}"/>')
        out.append("</track>")
    out.append("</annotations>")
    return "".join(out)


@given(video_tracks())
def test_random_tracks_come_back(tmp_path_factory: pytest.TempPathFactory, spec: Any) -> None:
    path = tmp_path_factory.mktemp("cvat") / "v.xml"
    path.write_text(_track_xml(spec), encoding="utf-8")
    for interpolate in (False, True):
        ann = read_cvat(path, interpolate=interpolate)
        assert len(ann.frames) == spec["n"]
        got = {
            (int(t), int(f)): i for i, (t, f) in enumerate(zip(ann.track, ann.frame, strict=True))
        }
        assert len(got) == len(ann)  # one shape per track and frame
        for tid, kind, frames in spec["tracks"]:
            for f, outside, xy in frames:
                if outside:
                    assert (tid, f) not in got  # an outside frame never appears
                    continue
                i = got[(tid, f)]
                expect = box_corners([xy])[0] if kind == "box" else np.asarray(xy).reshape(-1, 2)
                np.testing.assert_allclose(pts(ann, i), expect, rtol=1e-6, atol=1e-9)
            if not interpolate:
                listed = {f for f, outside, _ in frames if not outside}
                assert {f for t, f in got if t == tid} == listed
            else:
                # a filled frame lies after a shown frame of its track, with no outside between
                last_state: dict[int, bool] = {}
                for f, outside, _ in frames:
                    last_state[f] = outside
                for t, f in got:
                    if t != tid:
                        continue
                    before = [g for g in last_state if g <= f]
                    assert before
                    assert not last_state[max(before)]


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_video_default_frame_ids(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main
    from prelabel.validate import job_problems

    out = tmp_path / "jobs.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "convert", "cvat", str(FIXTURES / "video.xml"), "-o", str(out),
            "--src-template", "https://cdn.example.com/{sequence}/{index}.jpg", "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    jobs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(jobs) == 1
    job = jobs[0]
    assert job_problems(job) == []
    frames = job["data"]["video_data"]["frames"]
    assert [f["frame_id"] for f in frames] == [f"frame_{i:06d}" for i in range(7)]
    trackers = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
    car = [t for t in trackers if t["label"] == "car" and t["type"] == "rectangle"]
    assert len(car) == 1
    assert sorted(car[0]["frames"]) == [f"frame_{i:06d}" for i in (0, 1, 2, 3, 6)]
    tl = car[0]["frames"]["frame_000001"]["coordinates"][0]
    assert tl == {"x": 10 / 640, "y": 10 / 480}  # interpolated (10, 10) over 640 x 480


def test_cli_images_and_options(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    out = tmp_path / "jobs.jsonl"
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "convert", "cvat", str(FIXTURES / "images.xml"), "-o", str(out),
            "--src-prefix", "https://cdn.example.com/", "--report", str(report),
            "--occluded-attribute", "occluded", "--ellipse-vertices", "6", "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    jobs = {j["reference_id"]: j for j in map(json.loads, out.read_text().splitlines())}
    assert sorted(jobs) == ["cam1", "cam2"]  # one job per folder
    ids = [f["frame_id"] for f in jobs["cam1"]["data"]["video_data"]["frames"]]
    assert ids == ["000001", "000002"]  # {stem} for images
    rows = json.loads(report.read_text())["rows"]
    assert any(r["reason"] == "tag" for r in rows)


def test_cli_bad_file_is_one_line_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    result = CliRunner().invoke(
        main, ["convert", "cvat", str(FIXTURES / "billion_laughs.xml"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "billion_laughs.xml:2:" in result.output
    assert "refused" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_on_invalid_drop_reports_bad_elements(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    src = FIXTURES / "bad_elements.xml"
    out, report = tmp_path / "jobs.jsonl", tmp_path / "report.json"
    args = ["convert", "cvat", str(src), "--src-template", "https://x.test/{index}.jpg"]
    result = CliRunner().invoke(
        main, [*args, "-o", str(out), "--on-invalid", "drop", "--report", str(report), "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(report.read_text())["rows"]
    dropped = sorted((r["reason"], r["source"]) for r in rows if r["action"] == "dropped")
    assert dropped == [
        ("bad_coordinate", "<box> line 22"),
        ("bad_points", "<polygon> line 17"),
        ("missing_attribute", "<box> line 20"),
        ("unknown_label", "<box> line 16"),
    ]
    (job,) = map(json.loads, out.read_text().splitlines())
    trackers = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
    assert sorted(t["type"] for t in trackers) == ["polygon", "rectangle"]

    # without --on-invalid drop: one line naming the file and the element, exit 2
    out2 = tmp_path / "jobs2.jsonl"
    result = CliRunner().invoke(main, [*args, "-o", str(out2)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        f"{src}:<box> line 16: unknown label 'truck' (not in the meta's labels)"
    )
    assert "Traceback" not in result.output
    assert not out2.exists()


# --- fuzz: mutated real files convert to valid jobs or give one InputError ---------------------

# the DTD attacks are refused whatever else they hold (test_dtd_attacks_refused)
FUZZ_SOURCES = {
    p.name: p.read_text(encoding="utf-8")
    for p in sorted(FIXTURES.glob("*.xml"))
    if p.name not in ("xxe.xml", "billion_laughs.xml")
}
_ATTR_VALUE = re.compile(r'="([^"]*)"')
_ELEMENT_TEXT = re.compile(r">([^<]+)<")
# values that went wrong before (or that a reader could get wrong), for any attribute or text
_EDGES = [
    "", "0", "1", "-1", "2", "1.5", "-0", "1e400", "-1e400", "nan", "inf", "1e308",
    "9223372036854775808", "-9223372036854775809", "4611686018427387904", "18446744073709551616",
    "1000001", "99999", "\u00b2", "\u0663", "1_0", " 3 ", "+4", "0x1f", "1,2", "1,2;3,4",
    "1,2;3", ";", ",", "0,0;0,0;0,0", "1,1;1,1;1,1;1,1", "car", "person", "s1", "3", "",
    "../x.jpg", "/abs.jpg", "C:\\x.jpg", "a/b.jpg", "x.jpg", "step=2", "step=0", "step=x",
    "interpolation", "annotation", "Train", "Shift_JIS", "UTF-7", "utf-16", "latin-1",
    "x-bogus", "ascii", "&amp;", "&#10;", "a\u00e9b", "x" * 300,
    # mask runs: beyond int64, and an int64 sum that wraps around
    "4611686018427387904, 4611686018427387904, 4611686018427387904, 4611686018427387904, 3",
    "2, 9223372036854775807", "0, 99999999999",
]  # fmt: skip
_ENCODINGS = ["utf-8", "UTF-8", "utf-16", "latin-1", "ascii", "Shift_JIS", "EUC-JP", "UTF-7",
              "x-bogus", ""]  # fmt: skip
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@st.composite
def _mutated_cvat(draw: Any) -> tuple[str, str]:
    """A fixture's text with one to four mutations: an attribute value or an element's text
    set to an edge value (integers beyond int64, unicode digits, undecodable encodings, paths
    leaving the root, broken point strings ...) or to random text, a line deleted or copied
    (a copied <image> repeats its name, a copied keyframe its frame), or the file cut short."""
    name = draw(st.sampled_from(sorted(FUZZ_SOURCES)))
    text = FUZZ_SOURCES[name]
    for _ in range(draw(st.integers(1, 4))):
        how = draw(
            st.sampled_from(["value"] * 6 + ["text"] * 2 + ["drop", "copy", "cut", "encoding"])
        )
        if how == "encoding":
            new = draw(st.sampled_from(_ENCODINGS))
            text = text.replace('encoding="utf-8"', f'encoding="{new}"', 1)
        elif how in ("value", "text"):
            pattern = _ATTR_VALUE if how == "value" else _ELEMENT_TEXT
            body = text.find("?>") + 2 if text.startswith("<?xml") else 0  # not the declaration
            spans = [m.span(1) for m in pattern.finditer(text, body)]
            if not spans:
                continue
            a, b = draw(st.sampled_from(spans))
            # escaped, so that most mutations stay well-formed and reach the reader's checks
            value = escape(draw(st.sampled_from(_EDGES) | _TEXT), {'"': "&quot;"})
            text = text[:a] + value + text[b:]
        elif how in ("drop", "copy"):
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if how == "drop" else [lines[i], lines[i]]
            text = "\n".join(lines)
        else:
            text = text[: draw(st.integers(0, len(text)))]
    return name, text


@given(case=_mutated_cvat(), drop=st.booleans(), interpolate=st.booleans())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzz_mutated_fixtures_convert_to_valid_jobs_or_one_input_error(
    tmp_path: Path, case: tuple[str, str], drop: bool, interpolate: bool
) -> None:
    from prelabel.convert import FrameOptions, convert
    from prelabel.errors import PayloadError
    from prelabel.validate import file_problems

    name, text = case
    src = tmp_path / name
    src.write_bytes(text.encode("utf-8"))
    out = tmp_path / "jobs.jsonl"
    out.unlink(missing_ok=True)
    video = cvat_export_kind(src) == "video"
    frames = FrameOptions(
        "frame_{index:06d}" if video else "{stem}",
        src_template="https://e.test/{sequence}/{index}.jpg",
    )
    mode = "drop" if drop else "error"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a numpy warning would be a second stderr line
            ann = read_cvat(src, interpolate=interpolate, on_invalid=mode, report=Report())
    except InputError as exc:
        assert exc.path == str(src)
        assert "\n" not in str(exc)
        return
    try:
        convert(ann, out, frames=frames, on_invalid="drop" if drop else "repair", source=src)
    except (InputError, PayloadError) as exc:
        # PayloadError: a copied <image> line makes two frames with one frame_id
        assert "\n" not in str(exc)
        return
    assert list(file_problems(out)) == []


def test_cli_summary_notes_datumaro_meta(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    out = tmp_path / "jobs.jsonl"
    args = ["convert", "cvat", str(FIXTURES / "datumaro_tracks.xml"), "-o", str(out)]
    result = CliRunner().invoke(main, [*args, "--src-template", "https://x.test/{index}.jpg"])
    assert result.exit_code == 0, result.output
    assert "1 noted (task_meta_disagrees)" in result.output
    (job,) = map(json.loads, out.read_text().splitlines())
    assert len(job["data"]["video_data"]["frames"]) == 4  # size 4, not stop_frame 4 + 1
    assert validate_file(out) == 0


@pytest.mark.parametrize(
    ("head", "element", "message"),
    [
        ('<?xml version="1.0" encoding="Shift_JIS"?>', "", ":1:31: the XML declaration names"),
        ("", '<box frame="9223372036854775808" outside="0" xtl="1" ytl="1" xbr="2" ybr="2"/>',
         ":<box> line 2: frame 9223372036854775808 is out of range (beyond 2**62)"),
    ],
)  # fmt: skip
def test_cli_encoding_and_overflow_are_one_line_exit_2(
    tmp_path: Path, head: str, element: str, message: str
) -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    src = write(
        tmp_path,
        f"""{head}<annotations><meta><task><size>2</size><original_size><width>9</width>
<height>9</height></original_size></task></meta><track id="0" label="a">{element}</track>
</annotations>""",
    )
    out = tmp_path / "jobs.jsonl"
    result = CliRunner().invoke(main, ["convert", "cvat", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {src}{message}")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not out.exists()

"""YOLO reader: fixtures for each layout and row schema (hand-checked), bad input, properties."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Kind
from prelabel.cli import main
from prelabel.errors import InputError
from prelabel.formats.yolo import Schema, parse_columns, read_yolo, schema_for_task
from prelabel.formats.yolo._lines import decimal_values
from prelabel.report import Report
from tests.strategies import byte_mutations, mutate_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "yolo"


def shape_points(ann: Annotations, i: int) -> list[list[float]]:
    return ann.points[ann.offsets[i] : ann.offsets[i + 1]].tolist()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def png(path: Path, w: int, h: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((h, w, 3), np.uint8))
    return path


def not_noted(report: Report) -> list[dict]:
    """The report's rows but the notes (the row schema used and the like)."""
    return [r for r in report.rows if r["action"] != "noted"]


def to_yolo_lines(ann: Annotations) -> list[str]:
    """Rectangles back to ``cls xc yc w h`` rows (normalised), in shape order."""
    w = ann.frames.width[ann.frame]
    h = ann.frames.height[ann.frame]
    p = ann.points.reshape(-1, 4, 2)
    x1, y1, x2, y2 = p[:, 0, 0], p[:, 0, 1], p[:, 2, 0], p[:, 2, 1]
    rows = zip(ann.label.tolist(), ((x1 + x2) / 2 / w).tolist(), ((y1 + y2) / 2 / h).tolist(),
               ((x2 - x1) / w).tolist(), ((y2 - y1) / h).tolist(), strict=True)  # fmt: skip
    return [f"{c} {xc!r} {yc!r} {bw!r} {bh!r}" for c, xc, yc, bw, bh in rows]


# --- layouts and schemas ---------------------------------------------------------------------
def test_ultralytics_detect() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_detect" / "data.yaml")
    assert not ann.normalised
    assert ann.labels == ("person", "car")
    # frames: every image, labelled or not, in (folder, name) order
    assert ann.frames.name.tolist() == [
        "images/train/a.png",
        "images/train/b.jpg",
        "images/val/c.png",
    ]
    assert ann.frames.sequence.tolist() == ["images/train", "images/train", "images/val"]
    assert ann.frames.index.tolist() == [0, 1, 0]
    assert ann.frames.width.tolist() == [100, 200, 64]  # from the PNG and JPEG headers
    assert ann.frames.height.tolist() == [50, 100, 32]
    assert ann.kind.tolist() == [Kind.RECTANGLE] * 2
    assert ann.frame.tolist() == [0, 0]
    # a.png is 100x50. Row "0 0.5 0.5 0.2 0.4": xc 50, yc 25, w 20, h 20 -> x 40..60, y 15..35
    assert shape_points(ann, 0) == [[40, 15], [60, 15], [60, 35], [40, 35]]
    # "1 0.25 0.75 0.1 0.1": xc 25, yc 37.5, w 10, h 5 -> x 20..30, y 35..40
    assert shape_points(ann, 1) == [[20, 35], [30, 35], [30, 40], [20, 40]]
    assert ann.label.tolist() == [0, 1]
    assert ann.source.tolist() == ["labels/train/a.txt:1", "labels/train/a.txt:2"]
    assert np.isnan(ann.score).all()
    assert (ann.track == -1).all()


def test_folder_argument_finds_data_yaml() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_detect")
    assert len(ann) == 2
    assert len(ann.frames) == 3


def test_segment_polygons() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_segment", task="segment")
    assert ann.kind.tolist() == [Kind.POLYGON, Kind.POLYGON]
    # image 100x50: (0.1, 0.2) -> (10, 10); (0.5, 0.2) -> (50, 10); (0.3, 0.8) -> (30, 40)
    assert np.allclose(shape_points(ann, 0), [[10, 10], [50, 10], [30, 40]])
    assert np.allclose(shape_points(ann, 1), [[0, 0], [100, 0], [100, 50], [0, 50]])
    assert ann.labels[ann.label[1]] == "sign"


def test_segment_rows_declared_as_detect_are_refused_with_a_hint() -> None:
    with pytest.raises(InputError) as err:
        read_yolo(FIXTURES / "ultralytics_segment", task="detect")
    message = str(err.value)
    assert "labels/a.txt:1: expected 5 values (cls xc yc w h), got 7 (" in message
    assert "task='segment'" in message
    err2 = pytest.raises(InputError, read_yolo, FIXTURES / "ultralytics_segment", columns="cls,box")
    assert "got 7" in str(err2.value)


def test_pose_three_values_per_point() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_pose3", keypoints_with_box=True)
    # one row -> its box, then its landmark
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.LANDMARK]
    # image 200x100, box 0.5 0.5 0.5 0.5: xc 100, yc 50, w 100, h 50 -> x 50..150, y 25..75
    assert shape_points(ann, 0) == [[50, 25], [150, 25], [150, 75], [50, 75]]
    # keypoints (0.25, 0.25, v2) -> (50, 25) #1; (0.5, 0.5, v0) left out; (0.75, 0.75, v1) -> #3
    assert shape_points(ann, 1) == [[50, 25], [150, 75]]
    assert ann.point_label[ann.offsets[1] : ann.offsets[2]].tolist() == [1, 3]
    assert ann.source.tolist() == ["labels/a.txt:1"] * 2


def test_pose_without_box_flag_gives_landmarks_only() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_pose3")
    assert ann.kind.tolist() == [Kind.LANDMARK]


def test_pose_two_values_per_point_without_images_is_normalised() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_pose2")
    assert ann.normalised
    assert ann.frames.width.tolist() == [1.0]
    assert ann.frames.height.tolist() == [1.0]
    # no images: the frame is named after its label file, without the .txt
    assert ann.frames.name.tolist() == ["labels/train/a"]
    assert ann.kind.tolist() == [Kind.LANDMARK]
    assert shape_points(ann, 0) == [[0.4, 0.45], [0.6, 0.55]]  # normalised, as written
    assert ann.point_label.tolist() == [1, 2]


def test_pose_needs_a_keypoint_shape(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.1 0.1 0.5 0.5\n")
    with pytest.raises(InputError, match="kpt_shape"):
        read_yolo(tmp_path, task="pose", names=["x"])
    ann = read_yolo(tmp_path, columns="cls,box,kpts:1x2", names=["x"])
    assert ann.kind.tolist() == [Kind.LANDMARK]


def test_obb_axis_aligned_becomes_rectangle_else_polygon() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_obb")  # data.yaml says task: obb
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.RECTANGLE, Kind.POLYGON]
    # 100x100. Row 1 lists TL TR BR BL already: x 10..30, y 10..20
    assert np.allclose(shape_points(ann, 0), [[10, 10], [30, 10], [30, 20], [10, 20]])
    # row 2 starts at the bottom-right (0.3, 0.6) and turns the other way: reordered
    # to top-left first -> x 10..30, y 40..60
    assert np.allclose(shape_points(ann, 1), [[10, 40], [30, 40], [30, 60], [10, 60]])
    # row 3 is a diamond: kept as the 4 corners given
    assert np.allclose(shape_points(ann, 2), [[50, 30], [70, 50], [50, 70], [30, 50]])


def test_conf_column() -> None:
    ann = read_yolo(FIXTURES / "predict_conf", columns="cls,box,conf")
    assert ann.normalised  # labels only (an Ultralytics predict folder), names from classes.txt
    assert ann.labels == ("person", "car")
    assert ann.score.tolist() == [0.91, 0.35]
    # 0.5 -+ 0.1 and 0.1 -+ 0.05
    assert np.allclose(shape_points(ann, 0), [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]])
    assert np.allclose(
        shape_points(ann, 1), [[0.05, 0.05], [0.15, 0.05], [0.15, 0.15], [0.05, 0.15]]
    )


def test_conf_and_track_columns_and_sequences() -> None:
    ann = read_yolo(FIXTURES / "track", columns="cls,box,conf,track")
    # two folders of frames = two sequences; frame_10 after frame_2 (numbers by value)
    assert ann.frames.name.tolist() == [
        "images/clip1/frame_1.png",
        "images/clip1/frame_2.png",
        "images/clip1/frame_10.png",
        "images/clip2/frame_1.png",
    ]
    assert ann.frames.sequence.tolist() == ["images/clip1"] * 3 + ["images/clip2"]
    assert ann.frames.index.tolist() == [0, 1, 2, 0]
    assert ann.track.tolist() == [7, 3, 7, 7, 7]
    assert ann.frame.tolist() == [0, 0, 1, 2, 3]
    assert ann.score.tolist() == [0.9, 0.8, 0.88, 0.7, 0.95]
    # frame_2 (100x100): xc 0.52 -> 52, w 20 -> x 42..62
    assert np.allclose(shape_points(ann, 2), [[42, 40], [62, 40], [62, 60], [42, 60]])


def test_darknet_layout() -> None:
    ann = read_yolo(FIXTURES / "darknet" / "obj.data")
    assert ann.labels == ("cat", "dog")
    # train.txt names data/obj_train_data/p.jpg: 'data/' is darknet's folder, i.e. this one
    assert ann.frames.name.tolist() == ["obj_train_data/p.jpg", "obj_train_data/q.jpg"]
    assert ann.frames.width.tolist() == [64, 32]
    assert ann.frames.height.tolist() == [48, 32]
    # p.jpg 64x48, "1 0.5 0.5 0.5 0.5": xc 32, yc 24, w 32, h 24 -> x 16..48, y 12..36
    assert shape_points(ann, 0) == [[16, 12], [48, 12], [48, 36], [16, 36]]
    assert ann.labels[ann.label[0]] == "dog"
    assert read_yolo(FIXTURES / "darknet").frames.name.tolist() == ann.frames.name.tolist()


def test_darknet_lists_under_any_key_are_read(tmp_path: Path) -> None:
    # datumaro writes `val = data/val.txt` (darknet itself says valid); a missing list is noted
    write(tmp_path / "obj.data", "classes = 1\ntrain = data/train.txt\nval = data/val.txt\n"
          "test = data/gone.txt\nnames = data/obj.names\nbackup = backup/\n")  # fmt: skip
    write(tmp_path / "obj.names", "x\n")
    write(tmp_path / "train.txt", "data/t/a.png\n")
    write(tmp_path / "val.txt", "data/v/b.png\n")
    for name in ("t/a", "v/b"):
        png(tmp_path / f"{name}.png", 10, 10)
        write(tmp_path / f"{name}.txt", "0 0.5 0.5 1 1\n")
    report = Report()
    ann = read_yolo(tmp_path, report=report)
    assert ann.frames.name.tolist() == ["t/a.png", "v/b.png"]
    assert len(ann) == 2
    assert [(r["reason"], r["source"]) for r in report.rows if r["action"] == "noted"][0] == (
        "list_not_found",
        f"{tmp_path / 'obj.data'}:4",
    )


def test_bare_folder_with_names_file() -> None:
    ann = read_yolo(FIXTURES / "bare")
    assert ann.normalised
    assert ann.labels == ("x", "y")
    assert ann.frames.name.tolist() == ["a", "b"]  # classes.txt is the names, not a frame
    assert ann.frames.sequence.tolist() == ["", ""]
    # b.txt ends its line with \r\n: "1 0.1 0.2 0.3 0.4" -> x 0.1 -+ 0.15, y 0.2 -+ 0.2
    assert np.allclose(shape_points(ann, 1), [[-0.05, 0], [0.25, 0], [0.25, 0.4], [-0.05, 0.4]])


def test_names_option_overrides(tmp_path: Path) -> None:
    names = write(tmp_path / "n.txt", "alpha\nbeta\n\n")
    ann = read_yolo(FIXTURES / "bare", names=names)
    assert ann.labels == ("alpha", "beta")
    assert read_yolo(FIXTURES / "bare", names=["p", "q"]).labels == ("p", "q")


def test_pixel_yolo() -> None:
    ann = read_yolo(FIXTURES / "pixels", pixels=True)
    assert not ann.normalised
    assert ann.frames.width.tolist() == [100]
    # pixel xywh 50 25 20 10 -> x 40..60, y 20..30
    assert shape_points(ann, 0) == [[40, 20], [60, 20], [60, 30], [40, 30]]


def test_pixels_need_images() -> None:
    with pytest.raises(InputError, match="pixels=True needs the images"):
        read_yolo(FIXTURES / "bare", pixels=True)


def test_image_dir_supplies_sizes_and_names(tmp_path: Path) -> None:
    png(tmp_path / "imgs" / "a.png", 10, 20)
    png(tmp_path / "imgs" / "b.png", 40, 80)
    png(tmp_path / "imgs" / "c.png", 5, 5)
    ann = read_yolo(FIXTURES / "bare", image_dir=tmp_path / "imgs")
    assert not ann.normalised
    assert ann.frames.name.tolist() == ["a.png", "b.png", "c.png"]
    # a: 0.5 -+ 0.1 of 10 -> 4..6; 0.5 -+ 0.2 of 20 -> 6..14
    assert np.allclose(shape_points(ann, 0), [[4, 6], [6, 6], [6, 14], [4, 14]])
    assert ann.frame.tolist() == [0, 1]


def test_image_dir_matches_by_stem_when_folders_differ(tmp_path: Path) -> None:
    png(tmp_path / "p.png", 64, 48)
    png(tmp_path / "q.png", 32, 32)
    ann = read_yolo(FIXTURES / "darknet", image_dir=tmp_path)
    assert ann.frames.name.tolist() == ["p.png", "q.png"]
    assert shape_points(ann, 0) == [[16, 12], [48, 12], [48, 36], [16, 36]]


def test_empty_label_files_are_frames_without_objects(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "")
    write(tmp_path / "b.txt", "\n  \n")
    ann = read_yolo(tmp_path, names=["x"])
    assert len(ann) == 0
    assert len(ann.frames) == 2
    assert ann.normalised


def test_whitespace_bom_tabs_and_blank_lines(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\ufeff0\t0.5 0.5  0.2 0.2\r\n\r\n  1 0.5 0.5 0.2 0.2")
    ann = read_yolo(tmp_path, names=["x", "y"])
    assert ann.label.tolist() == [0, 1]
    assert ann.source.tolist() == ["a.txt:1", "a.txt:3"]


def test_without_names_classes_are_numbered(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "2 0.5 0.5 0.2 0.2\n")
    assert read_yolo(tmp_path).labels == ("0", "1", "2")


def test_huge_class_id_without_names_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "1000000000 0.5 0.5 0.2 0.2\n")
    with pytest.raises(InputError, match="too large without names"):
        read_yolo(tmp_path)


def test_image_folder_without_images_reads_the_labels_alone(tmp_path: Path) -> None:
    write(tmp_path / "data.yaml", "train: images\nnames: [a]\n")
    (tmp_path / "images").mkdir()
    write(tmp_path / "labels" / "x.txt", "0 0.5 0.5 1 1\n")
    ann = read_yolo(tmp_path)
    assert ann.normalised
    assert ann.frames.name.tolist() == ["labels/x"]
    assert len(ann) == 1


def test_data_yaml_without_splits_reads_the_images_folder(tmp_path: Path) -> None:
    # supervision's data.yaml holds only nc and names
    write(tmp_path / "data.yaml", "nc: 1\nnames: [a]\n")
    png(tmp_path / "images" / "x.png", 20, 10)
    png(tmp_path / "images" / "y.png", 20, 10)
    write(tmp_path / "labels" / "x.txt", "0 0.5 0.5 0.5 0.5\n")
    ann = read_yolo(tmp_path)
    assert ann.frames.name.tolist() == ["images/x.png", "images/y.png"]
    # 20x10: x 10 -+ 5, y 5 -+ 2.5
    assert shape_points(ann, 0) == [[5, 2.5], [15, 2.5], [15, 7.5], [5, 7.5]]


def test_roboflow_relative_split_paths(tmp_path: Path) -> None:
    write(tmp_path / "data.yaml", "train: ../train/images\nnames: [a]\n")
    png(tmp_path / "train" / "images" / "x.jpg", 10, 10)
    write(tmp_path / "train" / "labels" / "x.txt", "0 0.5 0.5 1 1\n")
    ann = read_yolo(tmp_path / "data.yaml")
    assert ann.frames.name.tolist() == ["train/images/x.jpg"]
    assert shape_points(ann, 0) == [[0, 0], [10, 0], [10, 10], [0, 10]]


def test_image_list_split(tmp_path: Path) -> None:
    write(tmp_path / "data.yaml", "train: train.txt\nnames: [a]\n")
    write(tmp_path / "train.txt", "./images/x.png\nimages/y.png\n")
    png(tmp_path / "images" / "x.png", 10, 10)
    png(tmp_path / "images" / "y.png", 20, 20)
    write(tmp_path / "labels" / "y.txt", "0 0.5 0.5 0.5 0.5\n")
    write(tmp_path / "labels" / "z.txt", "0 0.5 0.5 0.5 0.5\n")  # not in the list: not read
    ann = read_yolo(tmp_path / "data.yaml")
    assert ann.frames.name.tolist() == ["images/x.png", "images/y.png"]
    assert ann.frame.tolist() == [1]
    assert shape_points(ann, 0) == [[5, 5], [15, 5], [15, 15], [5, 15]]


# --- schema grammar ----------------------------------------------------------------------------
def test_columns_grammar() -> None:
    assert parse_columns("cls,box,conf,track") == Schema(("cls", "box", "conf", "track"))
    assert parse_columns("class xywh score id").items == ("cls", "box", "conf", "track")
    s = parse_columns("cls,box,kpts:17x3,conf")
    assert s.kpts == (17, 3)
    assert s.fixed == 1 + 4 + 51 + 1
    assert s.expectation() == "expected 57 values (cls xc yc w h + 17 keypoints x y v conf)"
    assert parse_columns("cls,box,kpts", kpt_shape=(4, 2)).kpts == (4, 2)
    poly = parse_columns("cls,poly,conf")
    assert poly.expectation() == (
        "expected an even number of values, at least 8 (cls x1 y1 ... xn yn conf)"
    )
    assert str(schema_for_task("obb")) == "cls,obb"
    for bad in (
        "cls",
        "box",
        "cls,box,box",
        "cls,box,poly",
        "cls,wat",
        "cls,kpts",
        "cls,box,kpts:3x4",
    ):
        with pytest.raises(InputError):
            parse_columns(bad)


def test_track_before_conf_order_is_honoured(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 4 0.75\n")
    ann = read_yolo(tmp_path, columns="cls,box,track,conf", names=["x"])
    assert ann.track.tolist() == [4]
    assert ann.score.tolist() == [0.75]


def test_polygon_with_trailing_conf_and_track(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.1 0.1 0.9 0.1 0.5 0.9 0.8 12\n")
    ann = read_yolo(tmp_path, columns="cls,poly,conf,track", names=["x"])
    assert shape_points(ann, 0) == [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]
    assert ann.score.tolist() == [0.8]
    assert ann.track.tolist() == [12]


# --- bad input ---------------------------------------------------------------------------------
BAD_LINES = [
    (
        "0 0.5 0.5 0.2",
        "expected 5 values (cls xc yc w h) or an odd number of values, at least 7 "
        "(cls x1 y1 ... xn yn), got 4",
        "wrong_column_count",
    ),
    ("0 0.5 0.5 0.2 0.2 0.9", "got 6 (a confidence or track column?", "wrong_column_count"),
    ("0 0.5 abc 0.2 0.2", "not a number: 'abc'", "not_a_number"),
    ("0 0.5 nan 0.2 0.2", "not a finite number: 'nan'", "not_a_number"),
    ("0 0.5 1e999 0.2 0.2", "not a finite number: '1e999'", "not_a_number"),
    ("7 0.5 0.5 0.2 0.2", "class 7 is beyond the 2 names (0..1)", "class_beyond_names"),
    ("1.5 0.5 0.5 0.2 0.2", "class id '1.5' is not a whole number >= 0", "bad_class"),
    ("-1 0.5 0.5 0.2 0.2", "class id '-1' is not a whole number >= 0", "bad_class"),
]


@pytest.mark.parametrize(("line", "message", "reason"), BAD_LINES)
def test_bad_line_is_refused_with_file_and_line(
    tmp_path: Path, line: str, message: str, reason: str
) -> None:
    write(tmp_path / "labels" / "a.txt", f"0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.1 0.1\n{line}\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path, names=["x", "y"])
    assert err.value.path == str(tmp_path / "labels" / "a.txt")
    assert err.value.location == "3"
    assert message in err.value.message
    assert str(err.value).startswith(f"{tmp_path / 'labels' / 'a.txt'}:3: ")
    # under drop the same line is left out and reported with its reason
    report = Report()
    read_yolo(tmp_path, names=["x", "y"], on_invalid="drop", report=report)
    assert [r["reason"] for r in report.rows if r["action"] == "dropped"] == [reason]


@pytest.mark.parametrize(("line", "message", "reason"), BAD_LINES)
def test_bad_line_is_dropped_and_reported(
    tmp_path: Path, line: str, message: str, reason: str
) -> None:
    write(tmp_path / "labels" / "a.txt", f"0 0.5 0.5 0.2 0.2\n{line}\n1 0.1 0.1 0.1 0.1\n")
    report = Report()
    ann = read_yolo(tmp_path, names=["x", "y"], on_invalid="drop", report=report)
    assert ann.source.tolist() == ["labels/a.txt:1", "labels/a.txt:3"]
    rows = not_noted(report)
    assert len(rows) == 1
    row = rows[0]
    assert row["action"] == "dropped"
    assert row["reason"] == reason
    assert row["source"] == "labels/a.txt:2"
    assert message in row["detail"]


def test_bad_track_id(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 0.9 -3\n")
    with pytest.raises(InputError, match="track id '-3' is not a whole number >= 0"):
        read_yolo(tmp_path, columns="cls,box,conf,track", names=["x"])


def test_first_bad_line_in_file_order_is_named(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "b.txt", "0 0.5 0.5 0.2 0.2\n0 x 0.5 0.2 0.2\n")
    write(tmp_path / "c.txt", "0 0.5\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path, names=["x"])
    assert str(err.value).endswith("b.txt:2: not a number: 'x'")


def test_label_file_without_image(tmp_path: Path) -> None:
    png(tmp_path / "images" / "a.png", 10, 10)
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "labels" / "ghost.txt", "0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(InputError, match="label_file_without_image") as err:
        read_yolo(tmp_path, names=["x"])
    assert err.value.path is not None
    assert err.value.path.endswith("ghost.txt")
    report = Report()
    ann = read_yolo(tmp_path, names=["x"], on_invalid="drop", report=report)
    assert len(ann) == 1
    assert report.rows[0]["reason"] == "label_file_without_image"
    assert report.rows[0]["source"] == "labels/ghost.txt"


def test_listed_image_missing(tmp_path: Path) -> None:
    write(tmp_path / "obj.data", "train = train.txt\nnames = obj.names\n")
    write(tmp_path / "obj.names", "x\n")
    write(tmp_path / "train.txt", "d/a.png\nd/gone.png\n")
    png(tmp_path / "d" / "a.png", 10, 10)
    write(tmp_path / "d" / "gone.txt", "0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path)
    assert str(err.value).endswith("train.txt:2: image 'd/gone.png' not found")
    report = Report()
    ann = read_yolo(tmp_path, on_invalid="drop", report=report)
    assert ann.frames.name.tolist() == ["d/a.png"]
    assert len(ann) == 0
    assert report.rows[0]["source"] == "train.txt:2"


def test_list_without_any_image_keeps_listed_names(tmp_path: Path) -> None:
    write(tmp_path / "obj.data", "train = train.txt\nnames = obj.names\n")
    write(tmp_path / "obj.names", "x\n")
    write(tmp_path / "train.txt", "d/a.jpg\n")
    write(tmp_path / "d" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    ann = read_yolo(tmp_path)
    assert ann.normalised
    assert ann.frames.name.tolist() == ["d/a.jpg"]
    assert len(ann) == 1


@pytest.mark.parametrize("entry", ["../outside.jpg", "/etc/passwd", "a/../../x.jpg"])
def test_list_paths_stay_inside_the_root(tmp_path: Path, entry: str) -> None:
    write(tmp_path / "obj.data", "train = train.txt\n")
    write(tmp_path / "train.txt", f"{entry}\n")
    with pytest.raises(InputError, match=r"train\.txt:1"):
        read_yolo(tmp_path)


def test_list_entries_through_links_out_of_the_root_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    png(outside / "x.png", 4, 4)
    root = tmp_path / "root"
    write(root / "obj.data", "train = train.txt\n")
    write(root / "train.txt", "d/x.png\nl/x.png\n")
    (root / "d").mkdir()
    (root / "d" / "x.png").symlink_to(outside / "x.png")
    with pytest.raises(InputError, match=r"train\.txt:1: image path 'd/x.png' resolves outside"):
        read_yolo(root)
    write(root / "train.txt", "l/x.png\n")
    (root / "l").symlink_to(outside)
    with pytest.raises(InputError, match=r"train\.txt:1: image path 'l' resolves outside"):
        read_yolo(root)


def test_yaml_problems(tmp_path: Path) -> None:
    write(tmp_path / "data.yaml", "names: [a\n")
    with pytest.raises(InputError, match="invalid YAML"):
        read_yolo(tmp_path / "data.yaml")
    write(tmp_path / "data.yaml", "names: {0: a, 2: b}\n")
    with pytest.raises(InputError, match="0..N-1"):
        read_yolo(tmp_path / "data.yaml")
    write(tmp_path / "data.yaml", "names: [a]\nnc: 3\n")
    with pytest.raises(InputError, match="nc is 3"):
        read_yolo(tmp_path / "data.yaml")
    write(tmp_path / "data.yaml", "train: ../../etc\nnames: [a]\n")
    with pytest.raises(InputError, match="leaves the dataset root"):
        read_yolo(tmp_path / "data.yaml")


def test_no_visible_keypoint_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 0.1 0.1 0 0.2 0.2 0\n")
    report = Report()
    ann = read_yolo(tmp_path, columns="cls,box,kpts:2x3", names=["x"], report=report)
    assert len(ann) == 0
    assert [r["reason"] for r in not_noted(report)] == ["no_visible_keypoints"]


def test_two_images_for_one_label_file(tmp_path: Path) -> None:
    png(tmp_path / "images" / "a.png", 10, 10)
    png(tmp_path / "images" / "a.jpg", 10, 10)
    write(tmp_path / "labels" / "a.txt", "")
    with pytest.raises(InputError, match="two images share one label file"):
        read_yolo(tmp_path, names=["x"])


# --- image sizes -------------------------------------------------------------------------------
def test_other_image_formats_fall_back_to_the_header_reader(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.bmp"), np.zeros((7, 9, 3), np.uint8))
    write(tmp_path / "a.txt", "0 0.5 0.5 1 1\n")
    ann = read_yolo(tmp_path, names=["x"])
    assert ann.frames.width.tolist() == [9]
    assert ann.frames.height.tolist() == [7]


def test_a_gif_is_not_a_frame_and_its_label_has_no_image(tmp_path: Path) -> None:
    """One set of image suffixes (prelabel.imagesize): .gif is a video to Ultralytics, so a
    GIF beside the images is no frame and its label file is one without an image."""
    png(tmp_path / "images" / "a.png", 10, 10)
    ok, gif = cv2.imencode(".gif", np.zeros((10, 10, 3), np.uint8))
    assert ok
    (tmp_path / "images" / "b.gif").write_bytes(gif.tobytes())
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "labels" / "b.txt", "0 0.5 0.5 0.2 0.2\n")
    report = Report()
    ann = read_yolo(tmp_path, names=["x"], on_invalid="drop", report=report)
    assert ann.frames.name.tolist() == ["images/a.png"]
    assert [(r["reason"], r["source"]) for r in report.rows if r["action"] == "skipped"] == [
        ("label_file_without_image", "labels/b.txt")
    ]


def test_jpeg2000_and_pfm_as_ultralytics_reads_them(tmp_path: Path) -> None:
    """.jp2 is an image (Ultralytics' IMG_FORMATS; its header gives the size); .pfm is not
    (Ultralytics dropped it and no header reader knows it)."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ihdr = box(b"ihdr", struct.pack(">IIHBBBB", 20, 40, 3, 7, 7, 0, 0))  # height 20, width 40
    jp2 = b"\0\0\0\x0cjP  \r\n\x87\n" + box(b"ftyp", b"jp2 \0\0\0\0jp2 ") + box(b"jp2h", ihdr)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jp2").write_bytes(jp2)
    (tmp_path / "images" / "b.pfm").write_bytes(b"PF\n40 20\n-1.0\n" + b"\0" * 9600)
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.5 0.5\n")
    write(tmp_path / "labels" / "b.txt", "0 0.5 0.5 0.5 0.5\n")
    report = Report()
    ann = read_yolo(tmp_path, names=["x"], on_invalid="drop", report=report)
    assert ann.frames.name.tolist() == ["images/a.jp2"]
    assert (ann.frames.width.tolist(), ann.frames.height.tolist()) == ([40], [20])
    # xc 0.5 w 0.5 of 40 px -> x 10..30; yc 0.5 h 0.5 of 20 px -> y 5..15
    assert shape_points(ann, 0) == [[10, 5], [30, 5], [30, 15], [10, 15]]
    assert [r["source"] for r in report.rows if r["action"] == "skipped"] == ["labels/b.txt"]


def test_text_inputs_that_are_not_utf8_name_the_byte(tmp_path: Path) -> None:
    """Names files, image lists and obj.data go through the one text reader (jsonio): a BOM
    is dropped, and a byte that is not UTF-8 is named, counting the BOM."""
    write(tmp_path / "obj.data", "train = train.txt\nnames = obj.names\n")
    (tmp_path / "obj.names").write_bytes(b"\xef\xbb\xbfcar\r\ntruck\r\n")
    (tmp_path / "train.txt").write_bytes(b"\xef\xbb\xbfa.png\n")
    png(tmp_path / "a.png", 10, 10)
    write(tmp_path / "a.txt", "1 0.5 0.5 0.2 0.2\n")
    ann = read_yolo(tmp_path / "obj.data")
    assert ann.labels == ("car", "truck")
    assert ann.label.tolist() == [1]
    (tmp_path / "train.txt").write_bytes(b"\xef\xbb\xbfa.png\n\xff.png\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path / "obj.data")
    # BOM (3 bytes) + "a.png\n" (6 bytes): the 0xff is byte 9
    assert str(err.value).endswith("train.txt:byte 9: not utf-8 text")


# --- properties --------------------------------------------------------------------------------
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)
rows = st.lists(st.tuples(st.integers(0, 2), unit, unit, unit, unit), min_size=0, max_size=6)


@given(files=st.lists(rows, min_size=1, max_size=4), fmt=st.sampled_from(["%.6f", "%r", "%.3g"]))
def test_rectangles_are_centre_minus_plus_half_size(
    tmp_path_factory: pytest.TempPathFactory, files: list, fmt: str
) -> None:
    d = tmp_path_factory.mktemp("labels")
    expected = []
    for i, rows_ in enumerate(files):
        text = "".join(
            f"{c} " + " ".join(fmt % v if fmt != "%r" else repr(v) for v in vals) + "\n"
            for c, *vals in rows_
        )
        write(d / f"f{i}.txt", text)
        for _c, *vals in rows_:
            xc, yc, w, h = (float(fmt % v) if fmt != "%r" else v for v in vals)
            expected.append([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2])
    ann = read_yolo(d, names=["a", "b", "c"])
    assert len(ann) == len(expected)
    if expected:
        p = ann.points.reshape(-1, 4, 2)
        got = np.stack([p[:, 0, 0], p[:, 0, 1], p[:, 2, 0], p[:, 2, 1]], axis=1)
        assert np.allclose(got, expected, rtol=0, atol=1e-9)
        # corners in payload order TL, TR, BR, BL
        assert np.array_equal(p[:, 1], np.stack([p[:, 2, 0], p[:, 0, 1]], axis=1))
        assert np.array_equal(p[:, 3], np.stack([p[:, 0, 0], p[:, 2, 1]], axis=1))


@given(files=st.lists(rows, min_size=1, max_size=3))
def test_round_trip_through_yolo_text_is_stable(
    tmp_path_factory: pytest.TempPathFactory, files: list
) -> None:
    d1 = tmp_path_factory.mktemp("a")
    for i, rows_ in enumerate(files):
        write(
            d1 / f"f{i}.txt", "".join(f"{c} {a!r} {b!r} {w!r} {h!r}\n" for c, a, b, w, h in rows_)
        )
    first = read_yolo(d1, names=["a", "b", "c"])
    d2 = tmp_path_factory.mktemp("b")
    lines = to_yolo_lines(first)
    for f in range(len(first.frames)):
        sel = np.flatnonzero(first.frame == f).tolist()
        write(d2 / f"f{f}.txt", "".join(lines[i] + "\n" for i in sel))
    second = read_yolo(d2, names=["a", "b", "c"])
    assert np.array_equal(first.label, second.label)
    assert np.array_equal(first.frame, second.frame)
    assert np.allclose(first.points, second.points, rtol=0, atol=1e-12)
    # and once more: text -> read -> text is a fixed point
    assert np.allclose(second.points, read_yolo(d2, names=["a", "b", "c"]).points, rtol=0, atol=0)


@given(
    line=st.text(alphabet="0123456789 .-+eE\tnaif,x\r", max_size=40),
    mode=st.sampled_from(["error", "drop"]),
)
def test_mutated_lines_give_a_clear_error_or_a_reported_drop(
    tmp_path_factory: pytest.TempPathFactory, line: str, mode: str
) -> None:
    d = tmp_path_factory.mktemp("m")
    write(d / "a.txt", f"0 0.5 0.5 0.2 0.2\n{line}\n")
    report = Report()
    try:
        ann = read_yolo(d, names=["x", "y"], on_invalid=mode, report=report)
    except InputError as exc:
        assert mode == "error"
        assert exc.location == "2"
        assert str(exc).startswith(str(d / "a.txt") + ":2: ")
        return
    tokens = line.split()
    rows = not_noted(report)
    if mode == "drop" and rows:
        assert rows[0]["source"] == "a.txt:2"
        assert rows[0]["detail"]
        assert len(ann) == 1
    else:
        # kept: a box (5 values), a box and its conf or track id (6), a polygon (odd >= 7)
        n = len(tokens)
        assert n in (0, 5, 6) or (n >= 7 and n % 2 == 1)
        assert len(ann) == 1 + (n > 0)


def test_column_parser_takes_the_usual_yolo_numbers() -> None:
    tokens = ["0", "0.123456", "-0.5", "+2", "5.", ".25", "1280", "0.000001"]
    blob = (" ".join(tokens) + "\n").encode()
    arr = np.frombuffer(blob, dtype=np.uint8)
    space = (arr == 32) | (arr == 10)
    change = np.r_[0, np.flatnonzero(space[1:] != space[:-1]) + 1]
    got = decimal_values(arr, change[0::2], change[1::2])
    assert got is not None
    assert got.tolist() == [float(t) for t in tokens]


@given(
    st.lists(
        st.one_of(
            st.integers(-(10**12), 10**12).map(str),
            st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.6f}"),
            st.floats(-1e6, 1e6, allow_nan=False).map(repr),
            st.floats(0, 1).map(lambda v: f"{v:.4f}".lstrip("0")),
            st.sampled_from(["+1", "-0", "5.", "+.5", "1e3", "0x1", "1.2.3", "-", ".", "1_0"]),
        ),
        max_size=30,
    )
)
def test_column_parser_matches_strtod_or_declines(tokens: list[str]) -> None:
    blob = (" ".join(tokens) + "\n").encode()
    arr = np.frombuffer(blob, dtype=np.uint8)
    space = (arr == 32) | (arr == 10)
    change = np.flatnonzero(space[1:] != space[:-1]) + 1
    if not space[0]:
        change = np.r_[0, change]
    got = decimal_values(arr, change[0::2], change[1::2])
    if got is None:
        return
    assert got.tolist() == [float(t) for t in tokens]
    assert np.signbit(got).tolist() == [t.startswith("-") for t in tokens]


# --- CLI ---------------------------------------------------------------------------------------
def _jobs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_cli_tracks_become_trackers_per_sequence(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    result = CliRunner().invoke(
        main,
        ["convert", "yolo", str(FIXTURES / "track"), "--columns", "cls,box,conf,track",
         "--src-prefix", "https://example.com/", "-o", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    jobs = _jobs(out)
    assert [j["reference_id"] for j in jobs] == ["images/clip1", "images/clip2"]
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [f["frame_id"] for f in frames] == ["frame_1", "frame_2", "frame_10"]
    assert frames[2]["src"] == "https://example.com/images/clip1/frame_10.png"
    trackers = jobs[0]["data"]["maker_response"]["video2d"]["data"]["annotations"]
    person = [t for t in trackers if t["label"] == "person"]
    assert len(person) == 1
    assert list(person[0]["frames"]) == ["frame_1", "frame_2", "frame_10"]
    # frame_2: xc 0.52, w 0.2 -> x 0.42..0.62, y 0.4..0.6 (normalised again)
    coords = person[0]["frames"]["frame_2"]["coordinates"]
    assert np.allclose([[c["x"], c["y"]] for c in coords], [[0.42, 0.4], [0.62, 0.4], [0.62, 0.6], [0.42, 0.6]], atol=1e-9)  # fmt: skip
    other = jobs[1]["data"]["maker_response"]["video2d"]["data"]["annotations"]
    assert len(other) == 1  # id 7 in clip2 is another object


@pytest.mark.parametrize(
    "fixture",
    ["ultralytics_detect", "ultralytics_pose3", "ultralytics_obb", "darknet", "bare", "pixels"],
)
def test_cli_converts_each_layout(tmp_path: Path, fixture: str) -> None:
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "yolo", str(FIXTURES / fixture), "--src-prefix", "https://example.com/"]
    args += ["-o", str(out), "-q"]
    if fixture == "pixels":
        args.append("--pixels")
    if fixture == "ultralytics_pose3":
        args.append("--keypoints-with-box")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert _jobs(out)


def test_cli_bad_line_exit_2_and_drop(tmp_path: Path) -> None:
    src = tmp_path / "ds"
    shutil.copytree(FIXTURES / "bare", src)
    write(src / "c.txt", "0 0.5 0.5 0.2\n")
    out = tmp_path / "jobs.jsonl"
    base = ["convert", "yolo", str(src), "--src-prefix", "https://example.com/", "-o", str(out)]
    result = CliRunner().invoke(main, [*base, "-q"])
    assert result.exit_code == 2
    assert f"{src / 'c.txt'}:1: expected 5 values (cls xc yc w h) or an odd" in result.output
    assert "Traceback" not in result.output
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, [*base, "--on-invalid", "drop", "--report", str(report)])
    assert result.exit_code == 0, result.output
    rows = json.loads(report.read_text())["rows"]
    assert any(r["source"] == "c.txt:1" and r["action"] == "dropped" for r in rows)
    # repair cannot mend a line that does not parse: refused as under error
    result = CliRunner().invoke(main, [*base, "-q", "--on-invalid", "repair"])
    assert result.exit_code == 2


def test_cli_bad_columns_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        main, ["convert", "yolo", str(FIXTURES / "bare"), "--columns", "cls,wat", "-o", "-"]
    )
    assert result.exit_code == 2
    assert "unknown column 'wat'" in result.output


# --- issue 9: the row schema read from the rows --------------------------------------------------
def noted(report: Report) -> list[str]:
    """The notes as the summary names them: reason and the detail up to a "; "."""
    return [
        f"{r['reason']}: {r.get('detail', '').split('; ')[0]}"
        for r in report.rows
        if r["action"] == "noted"
    ]


def test_segment_rows_are_read_as_polygons_without_a_task() -> None:
    report = Report()
    ann = read_yolo(FIXTURES / "ultralytics_segment", report=report)  # data.yaml has no task
    assert ann.kind.tolist() == [Kind.POLYGON, Kind.POLYGON]
    # image 100x50: (0.1, 0.2) -> (10, 10); (0.5, 0.2) -> (50, 10); (0.3, 0.8) -> (30, 40)
    assert np.allclose(shape_points(ann, 0), [[10, 10], [50, 10], [30, 40]])
    assert noted(report) == ["row_schema_inferred: cls,poly"]
    # the same result as declaring it
    declared = read_yolo(FIXTURES / "ultralytics_segment", task="segment")
    assert np.array_equal(declared.points, ann.points)


def test_label_studio_export_mixes_boxes_and_polygons_row_by_row() -> None:
    report = Report()
    ann = read_yolo(FIXTURES / "labelstudio_mixed", report=report)
    assert ann.labels == ("car", "sign")
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.POLYGON, Kind.RECTANGLE]
    assert ann.source.tolist() == ["labels/a.txt:1", "labels/a.txt:2", "labels/a.txt:3"]
    # a.png is 100x50. "0 0.5 0.5 0.2 0.4": x 50 -+ 10, y 25 -+ 10
    assert shape_points(ann, 0) == [[40, 15], [60, 15], [60, 35], [40, 35]]
    # "1 0.1 0.2 0.5 0.2 0.3 0.8": (10, 10), (50, 10), (30, 40)
    assert np.allclose(shape_points(ann, 1), [[10, 10], [50, 10], [30, 40]])
    # "0 0.2 0.2 0.1 0.1": x 20 -+ 5, y 10 -+ 2.5
    assert np.allclose(shape_points(ann, 2), [[15, 7.5], [25, 7.5], [25, 12.5], [15, 12.5]])
    assert noted(report) == ["row_schema_inferred: cls,box + cls,poly"]
    assert [r["detail"] for r in report.rows] == [
        "cls,box + cls,poly; 2 row(s) cls,box, 1 row(s) cls,poly"
    ]


def test_obb_rows_without_a_task_are_four_point_polygons(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.3 0.7 0.5 0.5 0.7 0.3 0.5\n")
    ann = read_yolo(tmp_path, names=["x"])
    assert ann.kind.tolist() == [Kind.POLYGON]
    assert shape_points(ann, 0) == [[0.5, 0.3], [0.7, 0.5], [0.5, 0.7], [0.3, 0.5]]


def test_seven_values_in_every_row_are_refused_listing_the_candidates(tmp_path: Path) -> None:
    # a triangle, or a box with a confidence and track id 1: both readings fit every row
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 0.9 1\n0 0.4 0.4 0.2 0.2 0.8 1\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path, names=["x"])
    assert err.value.path == str(tmp_path / "a.txt")
    assert err.value.location == "1"
    message = err.value.message
    assert message.startswith("rows of 7 values read more than one way: ")
    assert "(columns='cls,poly')" in message
    assert "(columns='cls,box,conf,track')" in message
    assert message.endswith("give columns= (or task=) to say which")
    # not a bad line to drop: the whole file reads two ways
    with pytest.raises(InputError, match="read more than one way"):
        read_yolo(tmp_path, names=["x"], on_invalid="drop")
    # declaring it settles it
    ann = read_yolo(tmp_path, names=["x"], columns="cls,box,conf,track")
    assert ann.track.tolist() == [1, 1]
    assert ann.kind.tolist() == [Kind.RECTANGLE] * 2


def test_seven_values_ending_in_ids_beyond_the_image_are_tracked_boxes(tmp_path: Path) -> None:
    # read as triangles, (0.9, 12) would be a corner 12 image widths away: Ultralytics' loader
    # refuses that, so the only reading left is box, conf, track
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 0.9 12\n0 0.4 0.4 0.2 0.2 0.8 1\n")
    report = Report()
    ann = read_yolo(tmp_path, names=["x"], report=report)
    assert ann.track.tolist() == [12, 1]
    assert ann.score.tolist() == [0.9, 0.8]
    assert noted(report) == ["row_schema_inferred: cls,box,conf,track"]


def test_seven_values_with_triangles_beside_boxes_are_triangles(tmp_path: Path) -> None:
    # the 5-value row can only be a box, and boxes with conf and track would need 6 or 7
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.9 0.1 0.5 1\n")
    ann = read_yolo(tmp_path, names=["x"])
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.POLYGON]


def test_pose_predictions_are_refused_rather_than_read_as_polygons(tmp_path: Path) -> None:
    # yolo predict with a pose model, save_conf: cls, box, 17 x (x y conf), conf = 57 values,
    # which is also a 28-point polygon
    kpts = " ".join(f"{0.4 + i / 100:.2f} 0.5 0.8" for i in range(17))
    write(tmp_path / "a.txt", f"0 0.5 0.5 0.4 0.4 {kpts} 0.9\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path, names=["person"])
    assert "rows of 57 values read more than one way" in err.value.message
    assert "(columns='cls,poly')" in err.value.message
    assert "(columns='cls,box,kpts:17x3,conf')" in err.value.message
    ann = read_yolo(tmp_path, names=["person"], columns="cls,box,kpts:17x3,conf")
    assert ann.kind.tolist() == [Kind.LANDMARK]
    assert ann.score.tolist() == [0.9]


@pytest.mark.parametrize(
    ("sixth", "score", "track"),
    [("0.91", [0.91, 0.5], [-1, -1]), ("12", [np.nan, np.nan], [12, 3])],
)
def test_six_values_are_a_confidence_or_a_track_id_by_their_value(
    tmp_path: Path, sixth: str, score: list[float], track: list[int]
) -> None:
    other = "0.5" if sixth == "0.91" else "3"
    write(tmp_path / "a.txt", f"0 0.5 0.5 0.2 0.2 {sixth}\n0 0.5 0.5 0.2 0.2 {other}\n")
    ann = read_yolo(tmp_path, names=["x"])
    assert np.array_equal(ann.score, score, equal_nan=True)
    assert ann.track.tolist() == track


def test_six_values_of_zero_and_one_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 1\n0 0.5 0.5 0.2 0.2 0\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path, names=["x"])
    assert "(columns='cls,box,conf')" in err.value.message
    assert "(columns='cls,box,track')" in err.value.message


def test_confidence_out_of_range_in_a_read_schema_is_a_bad_line(tmp_path: Path) -> None:
    write(
        tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 0.9\n0 0.5 0.5 0.2 0.2 0.8\n0 0.5 0.5 0.2 0.2 1.5\n"
    )
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path, names=["x"])
    assert err.value.location == "3"
    assert err.value.message == (
        "confidence '1.5' is not between 0 and 1 (rows read as cls,box,conf; "
        "give columns= if that is wrong)"
    )


def test_the_report_names_the_schema_and_where_it_came_from() -> None:
    def reasons(**kw: object) -> list[str]:
        report = Report()
        read_yolo(report=report, **kw)  # type: ignore[arg-type]
        return noted(report)

    assert reasons(path=FIXTURES / "predict_conf", columns="cls,box,conf") == [
        "row_schema_declared: cls,box,conf by columns"
    ]
    assert reasons(path=FIXTURES / "ultralytics_segment", task="segment") == [
        "row_schema_declared: cls,poly by task"
    ]
    assert reasons(path=FIXTURES / "ultralytics_obb") == [
        "row_schema_declared: cls,obb by data.yaml task"
    ]
    assert reasons(path=FIXTURES / "ultralytics_pose3") == [
        "row_schema_declared: cls,box,kpts:3x3 by data.yaml kpt_shape"
    ]
    assert reasons(path=FIXTURES / "bare") == ["row_schema_inferred: cls,box"]


def test_cli_summary_names_the_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["convert", "yolo", str(FIXTURES / "labelstudio_mixed"), "--src-prefix",
         "https://example.com/", "-o", str(tmp_path / "jobs.jsonl")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 noted (row_schema_inferred: cls,box + cls,poly)" in result.output


# --- issue 9: yolo track outputs -------------------------------------------------------------------
def test_rows_without_a_track_id_in_a_track_file_are_untracked(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2 0.9 4\n1 0.2 0.2 0.1 0.1 0.4\n")
    ann = read_yolo(tmp_path, columns="cls,box,conf,track", names=["x", "y"])
    assert ann.track.tolist() == [4, -1]
    assert ann.score.tolist() == [0.9, 0.4]
    # a row that is neither is still refused, naming both lengths
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(InputError, match=r"expected 7 values \(cls xc yc w h conf track\) or 6"):
        read_yolo(tmp_path, columns="cls,box,conf,track", names=["x", "y"])


def test_ultralytics_video_labels_are_one_sequence_numbered_by_frame() -> None:
    # yolo track source=clip.mp4 save_txt=True save_conf=True: labels/clip_<N>.txt, N from 1,
    # no file for frames 3..9 (nothing detected)
    report = Report()
    ann = read_yolo(FIXTURES / "ultralytics_track_video", report=report)
    assert ann.frames.name.tolist() == ["labels/clip_1", "labels/clip_2", "labels/clip_10"]
    assert ann.frames.sequence.tolist() == ["clip"] * 3
    assert ann.frames.index.tolist() == [0, 1, 9]  # N - 1: the gap stays a gap
    # clip_1's second row has no id (6 values): an untracked box with its confidence
    assert ann.track.tolist() == [1, -1, 1, 1, 2]
    assert ann.score.tolist() == [0.91, 0.4, 0.9, 0.88, 0.75]
    assert ann.frame.tolist() == [0, 0, 1, 2, 2]
    assert noted(report) == ["row_schema_inferred: cls,box,conf,track + cls,box,conf"]


def test_video_labels_match_frames_named_by_number_with_image_dir() -> None:
    ann = read_yolo(FIXTURES / "ultralytics_track_video", image_dir=FIXTURES / "video_frames")
    assert ann.frames.name.tolist() == [f"{n:06d}.png" for n in range(1, 11)]
    assert ann.frames.index.tolist() == list(range(10))
    # clip_1 -> 000001.png, clip_2 -> 000002.png, clip_10 -> 000010.png
    assert ann.frame.tolist() == [0, 0, 1, 9, 9]
    # 64x32 frames: "0 0.5 0.5 0.2 0.2" -> x 32 -+ 6.4, y 16 -+ 3.2
    assert np.allclose(shape_points(ann, 0), [[25.6, 12.8], [38.4, 12.8], [38.4, 19.2], [25.6, 19.2]])  # fmt: skip


def test_two_videos_in_one_run_are_two_sequences(tmp_path: Path) -> None:
    for name in ("cam1_1", "cam1_3", "cam2_2"):
        write(tmp_path / "labels" / f"{name}.txt", "0 0.5 0.5 0.2 0.2\n")
    ann = read_yolo(tmp_path, names=["x"])
    assert ann.frames.sequence.tolist() == ["cam1", "cam1", "cam2"]
    assert ann.frames.index.tolist() == [0, 2, 1]
    # frames extracted per video: frames/cam1/000001.png ...
    for video, n in (("cam1", 1), ("cam1", 2), ("cam1", 3), ("cam2", 1), ("cam2", 2)):
        png(tmp_path / "frames" / video / f"{n:06d}.png", 8, 8)
    ann = read_yolo(tmp_path, names=["x"], image_dir=tmp_path / "frames")
    names = ann.frames.name.tolist()
    assert [names[f] for f in ann.frame.tolist()] == [
        "cam1/000001.png",
        "cam1/000003.png",
        "cam2/000002.png",
    ]


def test_label_files_not_all_named_like_video_frames_keep_the_folder_order(
    tmp_path: Path,
) -> None:
    # one file that is not '<video>_<N>' (and N with a leading zero is not Ultralytics')
    for name in ("a_1", "a_5", "b"):
        write(tmp_path / "x" / f"{name}.txt", "0 0.5 0.5 0.2 0.2\n")
    for name in ("img_001", "img_002"):
        write(tmp_path / "y" / f"{name}.txt", "0 0.5 0.5 0.2 0.2\n")
    ann = read_yolo(tmp_path, names=["x"])
    assert ann.frames.sequence.tolist() == ["x", "x", "x", "y", "y"]
    assert ann.frames.index.tolist() == [0, 1, 2, 0, 1]


def test_cli_video_frames_point_at_numbered_frames(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    result = CliRunner().invoke(
        main,
        ["convert", "yolo", str(FIXTURES / "ultralytics_track_video"), "--src-template",
         "s3://b/{sequence}/{number:06d}.jpg", "-o", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (job,) = _jobs(out)
    assert job["reference_id"] == "clip"
    frames = job["data"]["video_data"]["frames"]
    assert [f["src"] for f in frames] == [
        "s3://b/clip/000001.jpg",
        "s3://b/clip/000002.jpg",
        "s3://b/clip/000010.jpg",
    ]
    trackers = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
    person = [t for t in trackers if t["label"] == "person"]
    assert len(person) == 1
    assert list(person[0]["frames"]) == ["clip_1", "clip_2", "clip_10"]


# --- issue 9: nothing dropped silently -------------------------------------------------------------
def test_bare_folder_with_labels_subfolder_keeps_its_top_level_label_files(tmp_path: Path) -> None:
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "top.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "classes.txt", "x\n")
    ann = read_yolo(tmp_path)
    assert ann.frames.name.tolist() == ["top", "labels/a"]
    assert ann.frames.sequence.tolist() == ["", "labels"]
    assert ann.frame.tolist() == [0, 1]
    assert ann.labels == ("x",)


def test_hidden_label_files_and_folders_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / ".b.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / ".notes", "not a label file\n")
    report = Report()
    ann = read_yolo(tmp_path, names=["x"], report=report)
    assert ann.frames.name.tolist() == ["a"]
    skipped = sorted((r["source"], r["reason"]) for r in report.rows if r["action"] == "skipped")
    assert skipped == [(".b.txt", "hidden_label_file"), (".ipynb_checkpoints/", "hidden_folder")]


def test_label_files_outside_labels_beside_an_images_folder_are_reported(tmp_path: Path) -> None:
    png(tmp_path / "images" / "a.png", 10, 10)
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "stray.txt", "0 0.5 0.5 0.2 0.2\n")
    write(tmp_path / "images" / "a.txt", "0 0.1 0.1 0.1 0.1\n")  # labels/ is the one read
    write(tmp_path / "classes.txt", "x\n")
    report = Report()
    ann = read_yolo(tmp_path, report=report)
    assert len(ann) == 1
    assert ann.source.tolist() == ["labels/a.txt:1"]
    skipped = sorted(
        (r["source"], r["reason"], r.get("detail")) for r in report.rows if r["action"] == "skipped"
    )
    assert skipped == [
        ("images/a.txt", "label_file_beside_image", "labels/ is read"),
        ("stray.txt", "label_file_outside_labels", "images/ has the frames"),
    ]


def test_cli_summary_counts_skipped_files(tmp_path: Path) -> None:
    src = tmp_path / "ds"
    shutil.copytree(FIXTURES / "bare", src)
    write(src / ".hidden.txt", "0 0.5 0.5 0.2 0.2\n")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        ["convert", "yolo", str(src), "--src-prefix", "https://example.com/", "-o",
         str(tmp_path / "jobs.jsonl"), "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 skipped (hidden_label_file)" in result.output
    rows = json.loads(report.read_text())["rows"]
    assert {"source": ".hidden.txt", "reason": "hidden_label_file"}.items() <= next(
        r for r in rows if r["action"] == "skipped"
    ).items()


# --- issue 9: bad input, bounded work --------------------------------------------------------------
def test_data_yaml_nested_5000_deep_is_one_input_error(tmp_path: Path) -> None:
    write(tmp_path / "data.yaml", "names: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path)
    assert err.value.path == str(tmp_path / "data.yaml")
    assert "nested deeper than 100 levels" in err.value.message


@pytest.mark.parametrize("mode", ["error", "drop"])
def test_a_billion_keypoints_are_refused_before_anything_is_sized(
    tmp_path: Path, mode: str
) -> None:
    import tracemalloc

    write(tmp_path / "data.yaml", "kpt_shape: [1000000000, 3]\nnames: [a]\n")
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.1 0.1 0.5 0.5 2\n")
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as err:
            read_yolo(tmp_path, on_invalid=mode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(err.value) == (
        f"{tmp_path / 'data.yaml'}:kpt_shape: 1,000,000,000 keypoints of 3 values make rows of "
        "3,000,000,005 values, but the longest row in the label files has 8"
    )
    assert peak < 50 * 2**20  # 3e9 int64 indices would be 22 GiB


def test_declared_sizes_beyond_int64_are_refused_too(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "0 0.5 0.5 0.1 0.1 0.5 0.5\n")
    with pytest.raises(InputError, match=r"^columns=: .* the longest row in the label files has 7"):
        read_yolo(tmp_path, columns=f"cls,box,kpts:{10**30}x2", names=["x"])


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("nc: 1000000000\n", "nc is 1,000,000,000 without names: at most 100,000"),
        ("names: {0: a, b: c}\n", "class ids of names must be whole numbers 0..N-1"),
        ("names: [a, '']\n", "class name '' is not a non-empty name"),
        ("names: [a, [b]]\n", "class name ['b'] is not a non-empty name"),
        ("names: [a]\nnc: yes\n", "nc must be a whole number >= 0, got True"),
        ("kpt_shape: [true, 2]\n", "expected [K, 2] or [K, 3], got [True, 2]"),
        ('names: [a, "b\\0"]\n', "class name 'b\\x00' has a control character (U+0000)"),
    ],
)
def test_data_yaml_values_of_the_wrong_kind_are_one_error(
    tmp_path: Path, yaml_text: str, message: str
) -> None:
    write(tmp_path / "data.yaml", yaml_text)
    write(tmp_path / "labels" / "a.txt", "0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path)
    assert err.value.path == str(tmp_path / "data.yaml")
    assert message in err.value.message


# --- fuzz: mutated real files ----------------------------------------------------------------------
FUZZ_FIXTURES = sorted(
    p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "video_frames"
)
# bytes that mean something to a YOLO line, a YAML file or a names list
FUZZ_TOKENS = [
    b" ", b"\n", b"\t", b"\r\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b"-", b".", b"e", b"0", b"1",
    b"7", b"nan", b"inf", b"-1", b"1e308", b"9" * 25, b"0.5 0.5", b" 0.5 0.5 0.2 0.2", b"[", b"]",
    b"{", b"}", b":", b",", b"&a", b"*a", b"names:", b"kpt_shape: [2, 3]", b"task: segment",
    b"nc: 3", b"../", b"/", b"images/", b"labels/", b"#", b"'", b'"', "é".encode(),
]  # fmt: skip
mutation = byte_mutations(FUZZ_TOKENS)


@given(
    fixture=st.sampled_from(FUZZ_FIXTURES),
    pick=st.lists(st.floats(0, 1), min_size=1, max_size=3),
    mutations=st.lists(mutation, min_size=1, max_size=4),
    policy=st.sampled_from(["repair", "drop"]),
    flags=st.sampled_from([{}, {"columns": "cls,box,conf,track"}, {"task": "segment"}]),
)
def test_fuzz_mutated_real_files_give_valid_output_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory,
    fixture: str,
    pick: list[float],
    mutations: list[tuple[str, float, bytes, int]],
    policy: str,
    flags: dict[str, str],
) -> None:
    from prelabel.convert import FrameOptions, convert
    from prelabel.validate import file_problems

    root = tmp_path_factory.mktemp("fuzz") / fixture
    shutil.copytree(FIXTURES / fixture, root)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for at in pick:  # mutate one to three of the fixture's files, each by every mutation
        target = files[min(int(at * len(files)), len(files) - 1)]
        data = target.read_bytes()
        for m in mutations:
            data = mutate_bytes(data, *m)
        target.write_bytes(data)
    out = root.parent / "jobs.jsonl"
    report = Report()
    try:
        ann = read_yolo(
            root, on_invalid="drop" if policy == "drop" else "error", report=report, **flags
        )  # type: ignore[arg-type]
        convert(
            ann, out, frames=FrameOptions(src_prefix="https://example.com/"), on_invalid=policy,
            report=report, default_sequence=fixture,
        )  # fmt: skip
    except InputError as exc:
        assert str(exc)
        assert "\n" not in exc.message
        return
    assert list(file_problems(out)) == []


def test_class_names_with_control_characters_are_refused(tmp_path: Path) -> None:
    # a NUL in classes.txt came out as an empty label that validate refuses (found by the fuzz)
    write(tmp_path / "classes.txt", "car\n\x00\n")
    write(tmp_path / "a.txt", "0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(InputError) as err:
        read_yolo(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'classes.txt'}:2: class name '\\x00' has a control character (U+0000)"
    )
    with pytest.raises(InputError, match=r"^names\[1\]: class name 'b\\x7f'"):
        read_yolo(tmp_path, names=["a", "b\x7f"])

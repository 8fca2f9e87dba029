"""Label files written by Ultralytics itself (fixtures/realtools/make_ultralytics.py): each converts
with no flag beyond what the user's run implies, with the geometry, frame order and tracks that
the values given to Ultralytics mean.

The fixtures come from ``BasePredictor.write_results`` / ``Results.save_txt`` (predict and track
runs) and ``convert_coco(use_segments=True)`` (a data set); ``save_txt`` writes every value with
``%g`` (6 significant digits), so the values below were chosen to survive it exactly, except the
45-degree OBB and the traced triangle, whose expected values go through the same ``%g``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from prelabel.annotations import Annotations, Kind
from prelabel.formats.yolo import read_yolo

from .realtools import convert_ok, frame_ids, frame_srcs, payload_points, rect, trackers

U = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "ultralytics"
IMAGES = U / "images"
SIZES = {"a.png": (64, 32), "b.png": (80, 40), "c.png": (100, 50)}  # (W, H), as the script wrote


def points(ann: Annotations, i: int) -> np.ndarray:
    return ann.points[ann.offsets[i] : ann.offsets[i + 1]]


def g(v: float) -> float:
    """A value as ``save_txt`` writes it: ``%g``."""
    return float(f"{v:g}")


def by_frame_name(ann: Annotations) -> dict[str, list[int]]:
    """Shape rows per frame name, in shape order."""
    out: dict[str, list[int]] = {}
    for i, f in enumerate(ann.frame.tolist()):
        out.setdefault(str(ann.frames.name[f]), []).append(i)
    return out


# --- predict: detect ---------------------------------------------------------------------------
@pytest.mark.parametrize("columns", ["cls,box,conf", None])
def test_detect_save_conf_with_the_source_images(columns: str | None) -> None:
    # yolo predict save_txt save_conf: cls xc yc w h conf, declared or read from the rows
    ann = read_yolo(U / "detect", columns=columns, image_dir=IMAGES)
    # every source image is a frame, c.png (no detections, so no label file) too
    assert sorted(ann.frames.name.tolist()) == ["a.png", "b.png", "c.png"]
    assert [SIZES[n] for n in ann.frames.name.tolist()] == list(
        zip(ann.frames.width.tolist(), ann.frames.height.tolist(), strict=True)
    )
    rows = by_frame_name(ann)
    assert "c.png" not in rows
    assert len(ann) == 3
    a0, a1 = rows["a.png"]
    (b0,) = rows["b.png"]
    # a.png 64x32, xyxy (16, 8, 48, 24) -> "0 0.5 0.5 0.5 0.5 0.9" -> back to x 16..48, y 8..24
    assert np.allclose(points(ann, a0), rect(16, 8, 48, 24), atol=1e-9)
    # (0, 0, 8, 4): xc 4/64 = 0.0625, w 8/64 = 0.125 -> x 0..8; yc 2/32, h 4/32 -> y 0..4
    assert np.allclose(points(ann, a1), rect(0, 0, 8, 4), atol=1e-9)
    # b.png 80x40, (20, 10, 60, 30): xc 40/80, w 40/80, yc 20/40, h 20/40
    assert np.allclose(points(ann, b0), rect(20, 10, 60, 30), atol=1e-9)
    assert ann.kind.tolist() == [Kind.RECTANGLE] * 3
    # save_txt writes class ids, no names: classes are named by their ids
    assert [ann.labels[c] for c in ann.label[[a0, a1, b0]]] == ["0", "1", "1"]
    assert ann.score[[a0, a1, b0]].tolist() == [0.9, 0.5, 0.75]
    assert (ann.track == -1).all()


def test_detect_without_conf_needs_no_flag_and_stays_normalised() -> None:
    ann = read_yolo(U / "detect_noconf")  # 5 values a row: boxes
    assert ann.normalised  # no images: sizes unknown, coordinates as written
    rows = by_frame_name(ann)
    assert sorted(rows) == ["labels/a", "labels/b"]
    a0, a1 = rows["labels/a"]
    # "0 0.5 0.5 0.5 0.5": x 0.25..0.75, y 0.25..0.75
    assert np.allclose(points(ann, a0), rect(0.25, 0.25, 0.75, 0.75), atol=1e-12)
    # "1 0.0625 0.0625 0.125 0.125": x 0..0.125, y 0..0.125
    assert np.allclose(points(ann, a1), rect(0, 0, 0.125, 0.125), atol=1e-12)
    assert np.isnan(ann.score).all()


def test_detect_cli_urls_from_the_source_images(tmp_path: Path) -> None:
    jobs = convert_ok("yolo", U / "detect", tmp_path, "--columns", "cls,box,conf",
                      "--image-dir", str(IMAGES), "--src-prefix", "https://cdn.example.com/src/",
                      quiet=True).jobs  # fmt: skip
    assert len(jobs) == 1
    assert frame_srcs(jobs[0]) == [
        f"https://cdn.example.com/src/{n}" for n in ("a.png", "b.png", "c.png")
    ]
    assert frame_ids(jobs[0]) == ["a", "b", "c"]
    assert {t["type"] for t in trackers(jobs[0])} == {"rectangle"}
    got = sorted(payload_points(t["frames"][fid]) for t in trackers(jobs[0]) for fid in t["frames"])
    # normalised again: a.png (16, 8, 48, 24)/(64, 32); (0, 0, 8, 4)/(64, 32); b (20, 10, 60, 30)/(80, 40)
    want = sorted(
        [rect(0.25, 0.25, 0.75, 0.75), rect(0, 0, 0.125, 0.125), rect(0.25, 0.25, 0.75, 0.75)]
    )
    assert np.allclose(got, want, atol=1e-9)


def test_min_score_filters_on_the_saved_confidence(tmp_path: Path) -> None:
    jobs = convert_ok("yolo", U / "detect", tmp_path, "--columns", "cls,box,conf",
                      "--min-score", "0.7", "--image-dir", str(IMAGES),
                      "--src-prefix", "https://cdn.example.com/", quiet=True).jobs  # fmt: skip
    # conf 0.9 and 0.75 stay, 0.5 goes
    assert sum(len(t["frames"]) for t in trackers(jobs[0])) == 2


# --- predict: segment --------------------------------------------------------------------------
def traced(mask_polygon: list[tuple[int, int]], size: tuple[int, int]) -> np.ndarray:
    """The contour Ultralytics' ``masks2segments`` traces for a filled polygon mask, as saved."""
    w, h = size
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.array(mask_polygon, np.int32)], 1)
    c = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0][0].reshape(-1, 2)
    return np.array([[g(x / w) * w, g(y / h) * h] for x, y in c.tolist()])


@pytest.mark.parametrize(
    ("folder", "columns"), [("segment", None), ("segment_conf", "cls,poly,conf")]
)
def test_segment_masks_saved_as_polygons(folder: str, columns: str | None) -> None:
    # without save_conf no flag: every row has an odd count >= 7, polygons is the only reading
    ann = read_yolo(U / folder, columns=columns, image_dir=IMAGES)
    rows = by_frame_name(ann)
    assert sorted(rows) == ["a.png", "b.png"]
    assert ann.kind.tolist() == [Kind.POLYGON] * 4
    # a.png: mask pixels x 8..24, y 4..20 (inclusive) -> the contour through the corner pixels,
    # as findContours walks it: down the left side first
    (a0,) = rows["a.png"]
    assert np.allclose(points(ann, a0), [[8, 4], [8, 20], [24, 20], [24, 4]], atol=1e-9)
    b0, b1, b2 = rows["b.png"]
    # b.png 80x40: pixels x 40..79, y 0..20; and x 0..20, y 20..39
    assert np.allclose(points(ann, b0), [[40, 0], [40, 20], [79, 20], [79, 0]], atol=1e-9)
    assert np.allclose(points(ann, b1), [[0, 20], [0, 39], [20, 39], [20, 20]], atol=1e-9)
    # the filled triangle (10, 2), (30, 2), (10, 12) is traced as a staircase of 22 points
    want = traced([(10, 2), (30, 2), (10, 12)], (80, 40))
    assert len(want) == 22
    assert np.allclose(points(ann, b2), want, atol=1e-9)
    assert [ann.labels[c] for c in ann.label[[a0, b0, b1, b2]]] == ["0", "1", "0", "1"]
    if columns:
        assert ann.score[[a0, b0, b1, b2]].tolist() == [0.8, 0.6, 0.7, 0.55]
    else:
        assert np.isnan(ann.score).all()


def test_segment_cli_without_flags(tmp_path: Path) -> None:
    jobs = convert_ok("yolo", U / "segment", tmp_path, "--image-dir", str(IMAGES),
                      "--src-prefix", "https://cdn.example.com/", quiet=True).jobs  # fmt: skip
    shapes = [o for t in trackers(jobs[0]) for o in t["frames"].values()]
    assert [t["type"] for t in trackers(jobs[0])] == ["polygon"] * 4
    # a.png's square: pixels (8, 4), (8, 20), (24, 20), (24, 4) / (64, 32)
    square = payload_points(shapes[0])
    assert np.allclose(square, [[0.125, 0.125], [0.125, 0.625], [0.375, 0.625], [0.375, 0.125]])


# --- predict: pose -----------------------------------------------------------------------------
def test_pose_17_keypoints_with_confidence() -> None:
    # yolo pose predict save_txt save_conf: cls box 17 x (x y conf) conf = 57 values
    ann = read_yolo(U / "pose", columns="cls,box,kpts:17x3,conf", image_dir=IMAGES,
                    keypoints_with_box=True)  # fmt: skip
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.LANDMARK]
    assert ann.frames.name[ann.frame[0]] == "b.png"
    # b.png 80x40, box (20, 5, 60, 35): "0.5 0.5 0.5 0.75" -> x 20..60, y 5..35
    assert np.allclose(points(ann, 0), rect(20, 5, 60, 35), atol=1e-9)
    # keypoint k = 0..16 at (24 + 2k, 8 + k) px, confidence 0.5 + 0.025k (never 0: all kept)
    want = [[24 + 2 * k, 8 + k] for k in range(17)]
    assert np.allclose(points(ann, 1), want, atol=1e-9)
    assert ann.point_label[ann.offsets[1] : ann.offsets[2]].tolist() == list(range(1, 18))
    assert ann.score.tolist() == [0.95, 0.95]


def test_pose_cli(tmp_path: Path) -> None:
    jobs = convert_ok("yolo", U / "pose", tmp_path, "--columns", "cls,box,kpts:17x3,conf",
                      "--image-dir", str(IMAGES), "--src-prefix", "https://cdn.example.com/",
                      quiet=True).jobs  # fmt: skip
    (lm,) = [t for t in trackers(jobs[0]) if t["type"] == "landmark"]
    (obj,) = lm["frames"].values()
    pts = obj["points"]
    assert list(pts) == [f"p{k}" for k in range(1, 18)]
    # p1 = keypoint 0 at (24, 8) / (80, 40); p17 = keypoint 16 at (56, 24) / (80, 40)
    assert (pts["p1"]["x"], pts["p1"]["y"], pts["p1"]["label"]) == (0.3, 0.2, 1)
    assert (pts["p17"]["x"], pts["p17"]["y"], pts["p17"]["label"]) == (0.7, 0.6, 17)


# --- predict: OBB ------------------------------------------------------------------------------
# b.png 80x40; (cx, cy, w, h, angle) given to Ultralytics, corners as save_txt wrote them (xyxyxyxyn)
OBB_UPRIGHT = [[50, 25], [50, 15], [30, 15], [30, 25]]  # (40, 20, 20, 10, 0): x 30..50, y 15..25
OBB_QUARTER = [[16, 28], [24, 28], [24, 12], [16, 12]]  # (20, 20, 16, 8, pi/2): w and h swap
# (60, 20, 10, 10, pi/4): a diamond, half-diagonal 5 * sqrt(2) around (60, 20)
R = 5 * math.sqrt(2)
OBB_DIAMOND = [[60, 20 + R], [60 + R, 20], [60, 20 - R], [60 - R, 20]]


def obb_as_saved(corners: list[list[float]]) -> np.ndarray:
    return np.array([[g(x / 80) * 80, g(y / 40) * 40] for x, y in corners])


def same_ring(got: np.ndarray, want: np.ndarray) -> bool:
    """The same corners, whichever corner the ring starts at and whichever way it turns."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        return False
    for ring in (want, want[::-1]):
        for k in range(len(ring)):
            if np.allclose(got, np.roll(ring, k, axis=0), atol=1e-9):
                return True
    return False


def test_obb_rows_without_flag_are_four_point_shapes() -> None:
    # 9 values a row (no save_conf): read as 4-point polygons, the OBB geometry
    ann = read_yolo(U / "obb", image_dir=IMAGES)
    assert len(ann) == 3
    assert set(ann.frames.name[ann.frame].tolist()) == {"b.png"}
    for i, want in enumerate([OBB_UPRIGHT, OBB_QUARTER, OBB_DIAMOND]):
        assert ann.kind[i] in (Kind.POLYGON, Kind.RECTANGLE)
        assert same_ring(points(ann, i), obb_as_saved(want)), i
    assert ann.kind[2] == Kind.POLYGON  # rotated: only a polygon holds it


def test_obb_with_conf_declared() -> None:
    ann = read_yolo(U / "obb_conf", columns="cls,obb,conf", image_dir=IMAGES)
    # axis-aligned OBBs become rectangles (TL, TR, BR, BL); the diamond stays a polygon
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.RECTANGLE, Kind.POLYGON]
    assert np.allclose(points(ann, 0), rect(30, 15, 50, 25), atol=1e-9)
    assert np.allclose(points(ann, 1), rect(16, 12, 24, 28), atol=1e-9)
    assert np.allclose(points(ann, 2), obb_as_saved(OBB_DIAMOND), atol=1e-9)
    assert ann.score.tolist() == [0.9, 0.8, 0.7]


# --- track -------------------------------------------------------------------------------------
# (video, frame number N) -> rows (x1, y1, x2, y2, track id or None, conf) given to the tracker
# run; the frames are 64x32. walk has 5 frames (3: no detections, no file; 4: no ids), cam_2 3.
TRACK = {
    ("walk", 1): [(0, 0, 16, 16, 1, 0.9), (32, 8, 48, 24, 2, 0.8)],
    ("walk", 2): [(4, 0, 20, 16, 1, 0.9), (34, 8, 50, 24, 2, 0.8)],
    ("walk", 4): [(12, 0, 28, 16, None, 0.6)],
    ("walk", 5): [(16, 0, 32, 16, 1, 0.9)],
    ("cam_2", 1): [(8, 8, 24, 24, 1, 0.7)],
    ("cam_2", 3): [(10, 8, 26, 24, 1, 0.7)],
}
LABEL_FILE = re.compile(r"(?:^|/)(walk|cam_2)_(\d+)$")


@pytest.mark.parametrize("columns", ["cls,box,conf,track", None])
def test_track_files_are_one_sequence_per_video_with_gaps(columns: str | None) -> None:
    # declared as `yolo track save_conf` writes it, or read from the rows: conf is a fraction,
    # the id a whole number, and the 6-value rows of frame 4 are boxes with conf alone
    ann = read_yolo(U / "track" / "labels", columns=columns)
    f = ann.frames
    seen = {}
    for k in range(len(f)):
        m = LABEL_FILE.search(str(f.name[k]))
        assert m, f.name[k]
        seen[(m[1], int(m[2]))] = k
    assert sorted(seen) == sorted(TRACK)  # a frame per label file, none for frames without one
    # N counts from 1: index N - 1, so frame 3 of walk stays a gap (indices 0, 1, 3, 4)
    for (video, n), k in seen.items():
        assert f.index[k] == n - 1, (video, n)
    walk = {f.sequence[k] for (v, _), k in seen.items() if v == "walk"}
    cam = {f.sequence[k] for (v, _), k in seen.items() if v == "cam_2"}
    assert len(walk) == 1
    assert len(cam) == 1
    assert walk != cam
    assert ann.normalised
    for (video, n), rows in TRACK.items():
        shapes = [i for i in range(len(ann)) if ann.frame[i] == seen[(video, n)]]
        assert len(shapes) == len(rows)
        for i, (x1, y1, x2, y2, tid, conf) in zip(shapes, rows, strict=True):
            # normalised: x / 64, y / 32 (no images)
            assert np.allclose(points(ann, i), rect(x1 / 64, y1 / 32, x2 / 64, y2 / 32), atol=1e-12)
            assert ann.track[i] == (-1 if tid is None else tid)  # 6 values: an untracked shape
            assert ann.score[i] == conf


def test_track_cli_trackers_and_numbered_frame_urls(tmp_path: Path) -> None:
    template = "https://cdn.example.com/frames/{sequence}/{number:06d}.jpg"
    jobs = convert_ok("yolo", U / "track" / "labels", tmp_path, "--columns", "cls,box,conf,track",
                      "--src-template", template, quiet=True).jobs  # fmt: skip
    assert len(jobs) == 2  # one job per video
    by_video = {}
    for job in jobs:
        srcs = frame_srcs(job)
        m = re.fullmatch(
            r"https://cdn\.example\.com/frames/(?:.*/)?(walk|cam_2)/\d{6}\.jpg", srcs[0]
        )
        assert m, srcs[0]
        by_video[m[1]] = (job, srcs)
    walk, walk_srcs = by_video["walk"]
    cam, cam_srcs = by_video["cam_2"]
    # {number} is N of <video>_<N>.txt: the ffmpeg-extracted frame of that label file
    assert [s[-10:] for s in walk_srcs] == ["000001.jpg", "000002.jpg", "000004.jpg", "000005.jpg"]
    assert [s[-10:] for s in cam_srcs] == ["000001.jpg", "000003.jpg"]
    ids = {fr["src"][-10:]: fr["frame_id"] for fr in walk["data"]["video_data"]["frames"]}
    walk_tr = trackers(walk)
    by_frames = sorted(sorted(fid for fid in t["frames"]) for t in walk_tr)
    # id 1 in frames 1, 2, 5; id 2 in frames 1, 2; the id-less box of frame 4 alone
    assert by_frames == sorted([
        sorted([ids["000001.jpg"], ids["000002.jpg"], ids["000005.jpg"]]),
        sorted([ids["000001.jpg"], ids["000002.jpg"]]),
        [ids["000004.jpg"]],
    ])  # fmt: skip
    (one,) = [t for t in walk_tr if len(t["frames"]) == 3]
    # walk frame 2, id 1: (4, 0, 20, 16) / (64, 32)
    assert one["type"] == "rectangle"
    assert np.allclose(
        payload_points(one["frames"][ids["000002.jpg"]]), rect(0.0625, 0, 0.3125, 0.5)
    )
    (cam_t,) = trackers(cam)
    assert len(cam_t["frames"]) == 2  # id 1 of cam_2 is its own object, not walk's id 1


def test_track_with_ffmpeg_frames_as_image_dir() -> None:
    # frames/walk/000001.jpg ... as `ffmpeg -i walk.avi frames/walk/%06d.jpg` writes them
    ann = read_yolo(U / "track" / "labels", columns="cls,box,conf,track",
                    image_dir=U / "track" / "frames")  # fmt: skip
    f = ann.frames
    assert not ann.normalised
    names = sorted(f.name.tolist())
    assert names == [f"cam_2/{n:06d}.jpg" for n in (1, 2, 3)] + [
        f"walk/{n:06d}.jpg" for n in (1, 2, 3, 4, 5)
    ]
    assert set(f.width.tolist()) == {64}
    assert set(f.height.tolist()) == {32}
    for (video, n), rows in TRACK.items():
        (k,) = [k for k in range(len(f)) if f.name[k] == f"{video}/{n:06d}.jpg"]
        assert f.index[k] == n - 1
        shapes = [i for i in range(len(ann)) if ann.frame[i] == k]
        assert len(shapes) == len(rows), (video, n)
        for i, (x1, y1, x2, y2, tid, _) in zip(shapes, rows, strict=True):
            assert np.allclose(points(ann, i), rect(x1, y1, x2, y2), atol=1e-9)  # pixels
            assert ann.track[i] == (-1 if tid is None else tid)
    (k3,) = [k for k in range(len(f)) if f.name[k] == "walk/000003.jpg"]
    assert k3 not in ann.frame.tolist()  # the frame without detections, in its place


# --- a data set from convert_coco, data.yaml without task --------------------------------------
def test_segment_dataset_without_task_reads_polygons_in_natural_order() -> None:
    ann = read_yolo(U / "seg_dataset")  # data.yaml: path, train, val, names; no task
    assert ann.labels == ("square", "triangle")
    f = ann.frames
    order = [str(f.name[k]) for k in np.argsort(f.index, kind="stable")]
    # 1, 2, 3, 10 by value (3.png has no annotations, so no label file, and is still a frame)
    assert order == [f"images/train/{n}.png" for n in (1, 2, 3, 10)]
    assert ann.kind.tolist() == [Kind.POLYGON] * 4
    rows = by_frame_name(ann)
    s, t = rows["images/train/1.png"]
    # COCO polygons in pixels, / (W, H) by convert_coco, * (W, H) back: the COCO points
    assert np.allclose(points(ann, s), [[8, 4], [24, 4], [24, 20], [8, 20]], atol=1e-9)
    assert np.allclose(points(ann, t), [[32, 0], [48, 16], [32, 16]], atol=1e-9)
    (p,) = rows["images/train/2.png"]
    assert np.allclose(points(ann, p), [[0, 0], [40, 0], [40, 20], [20, 30], [0, 20]], atol=1e-9)
    (q,) = rows["images/train/10.png"]
    assert np.allclose(points(ann, q), [[10, 10], [30, 10], [20, 30]], atol=1e-9)
    # category_id - 1 (cls91to80=False): square 0, triangle 1
    assert [ann.labels[c] for c in ann.label[[s, t, p, q]]] == [
        "square",
        "triangle",
        "triangle",
        "square",
    ]


def test_segment_dataset_cli(tmp_path: Path) -> None:
    run = convert_ok(
        "yolo", U / "seg_dataset", tmp_path, "--src-prefix", "https://cdn.example.com/ds/"
    )
    jobs = run.jobs
    # the summary names the schema and that it was read from the rows, not declared
    (line,) = [ln for ln in run.stderr.splitlines() if "row_schema" in ln]
    assert "cls,poly" in line
    assert "row_schema_inferred" in line
    assert "cls,box" not in line
    assert len(jobs) == 1
    assert frame_srcs(jobs[0]) == [
        f"https://cdn.example.com/ds/images/train/{n}.png" for n in (1, 2, 3, 10)
    ]
    assert {t["label"] for t in trackers(jobs[0])} == {"square", "triangle"}


# --- a pose data set from convert_coco(use_keypoints=True), data.yaml with kpt_shape -----------
def coco_keypoints(shift: int) -> list[tuple[int, float, float]]:
    """(number, x, y) of the labelled keypoints given to convert_coco: k at (2 + 3k + shift, 1 + k),
    k = 3 not labelled (v = 0: written as 0 0 0, left out), k = 5 occluded (v = 1: kept)."""
    return [(k + 1, 2 + 3 * k + shift, 1 + k) for k in range(17) if k != 3]


def test_pose_dataset_reads_kpt_shape_and_leaves_out_unlabelled_points() -> None:
    ann = read_yolo(U / "pose_dataset", keypoints_with_box=True)  # no flag: data.yaml kpt_shape
    assert ann.labels == ("person",)
    rows = by_frame_name(ann)
    assert sorted(rows) == [f"images/person_keypoints_train/p{n}.png" for n in (1, 2)]
    for n, shift in ((1, 0), (2, 4)):
        box, lm = rows[f"images/person_keypoints_train/p{n}.png"]
        assert ann.kind[box] == Kind.RECTANGLE
        assert ann.kind[lm] == Kind.LANDMARK
        # COCO bbox [2 + shift, 1, 48, 16] on 64x32 -> x 2..50 (+ shift), y 1..17
        assert np.allclose(points(ann, box), rect(2 + shift, 1, 50 + shift, 17), atol=1e-9)
        want = coco_keypoints(shift)
        assert np.allclose(points(ann, lm), [[x, y] for _, x, y in want], atol=1e-9)
        labels = ann.point_label[ann.offsets[lm] : ann.offsets[lm + 1]].tolist()
        assert labels == [k for k, _, _ in want]  # 1, 2, 3, 5, ...: number 4 left out


# --- a real ByteTrack run ----------------------------------------------------------------------
# detections (x1, y1, x2, y2, conf) given per frame number of video "run" (64x32); ByteTrack
# (Ultralytics' default bytetrack.yaml) assigned the ids and wrote its Kalman-filtered boxes
RUN = {
    1: [(0, 0, 16, 16, 0.9)],
    2: [(2, 0, 18, 16, 0.9)],
    3: [(4, 0, 20, 16, 0.9), (40, 8, 56, 24, 0.9)],
    4: [(6, 0, 22, 16, 0.9), (41, 8, 57, 24, 0.9)],
    5: [],
    6: [(8, 0, 24, 16, 0.9), (0, 20, 8, 28, 0.15)],
}


@pytest.mark.parametrize("columns", ["cls,box,conf,track", None])
def test_bytetrack_run_ids_gaps_and_unconfirmed_tracks(columns: str | None) -> None:
    # every row has 7 values; read from the rows, id 2 rules out triangles (a corner at y = 2)
    ann = read_yolo(U / "track_bytetrack" / "labels", columns=columns,
                    image_dir=U / "track_bytetrack" / "frames")  # fmt: skip
    f = ann.frames
    assert sorted(f.name.tolist()) == [f"run/{n:06d}.jpg" for n in range(1, 7)]
    assert len(set(f.sequence.tolist())) == 1  # one video, one sequence
    got: dict[int, list[tuple[int, np.ndarray]]] = {n: [] for n in RUN}
    for i in range(len(ann)):
        k = ann.frame[i]
        n = int(Path(str(f.name[k])).stem)
        assert f.index[k] == n - 1
        got[n].append((int(ann.track[i]), points(ann, i)))
    # id 1 from frame 1 (the first frame starts its tracks at once); the second object's track
    # is new on frame 3, hidden until confirmed, written with id 2 from frame 4; frame 5 had no
    # detection (no file: a gap); the 0.15 detection of frame 6 starts no track and is not written
    assert {n: [t for t, _ in v] for n, v in got.items()} == {
        1: [1],
        2: [1],
        3: [1],
        4: [1, 2],
        5: [],
        6: [1],
    }
    for n, shapes in got.items():
        for tid, pts in shapes:
            x1, y1, _, _, _ = RUN[n][tid - 1]  # id 1: the first detection, id 2: the second
            # the filtered box keeps the 16x16 size and lies within 2 px of the detection
            (bx1, by1), (bx2, by2) = pts.min(axis=0), pts.max(axis=0)
            assert np.isclose(bx2 - bx1, 16, atol=1e-3)
            assert np.isclose(by2 - by1, 16, atol=1e-3)
            assert abs(bx1 - x1) < 2, (n, tid, pts)
            assert abs(by1 - y1) < 2, (n, tid, pts)
    assert (ann.score == 0.9).all()

"""Files written by FiftyOne's own exporters (fixtures/realtools/make_fiftyone.py) convert with
no flag beyond the source, and two images with the same stem (x.jpg, x.png) are one clear
error that names both and the template that makes them unique.

The data set (see the script's docstring): five 100 x 50 images 1.jpg, 2.jpg, 10.jpg, x.jpg,
x.png, frame numbers n = 1, 2, 10, 20, 30 and positions i = 0..4. Detections: car (2n, 5) ..
(2n + 10, 25), person (60, 30) .. (90, 45). Polylines: lane, open, (0, 0) (50, 25) (99, 49);
zone, closed and filled, (10 + 2i, 30) (30 + 2i, 30) (30 + 2i, 40) (10 + 2i, 40).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .realtools import (
    JOBS,
    Point,
    approx_points,
    convert_ok,
    frame_ids,
    frame_srcs,
    pixel_points,
    rect,
    run_convert,
    shapes_by_frame,
    trackers,
)

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "fiftyone"
W, H = 100, 50
PREFIX = "https://cdn.test/fo/"
NAMES = ["1.jpg", "2.jpg", "10.jpg", "x.jpg", "x.png"]
NUMBER = dict(zip(NAMES, (1, 2, 10, 20, 30), strict=True))
BY_NAME = ("--src-prefix", PREFIX, "--frame-id", "{name}")  # frame ids that tell x.jpg, x.png apart


def _by_frame(job: dict) -> dict[str, dict[str, tuple[str, list]]]:
    """frame_id -> label -> (type, points in pixels); one shape per label and frame here."""
    out: dict[str, dict[str, tuple[str, list]]] = {}
    for fid, shapes in shapes_by_frame(job, W, H).items():
        for kind, label, pts in shapes:
            # pixels, rounded off the float noise of / W * W
            px = [(round(x, 6), round(y, 6)) for x, y in pts]
            assert label not in out.setdefault(fid, {})
            out[fid][label] = (kind, px)
    return out


def _car(name: str) -> list[Point]:
    n = NUMBER[name]
    return rect(2 * n, 5, 2 * n + 10, 25)


PERSON = rect(60, 30, 90, 45)
LANE = [(0, 0), (50, 25), (99, 49)]


def _zone(i: int) -> list[Point]:
    return rect(10 + 2 * i, 30, 30 + 2 * i, 40)


@pytest.mark.parametrize(
    ("fmt", "source"),
    [("coco", ROOT / "coco" / "labels.json"), ("cvat", ROOT / "cvat_image" / "labels.xml")],
)
def test_same_stem_is_one_clear_error(fmt: str, source: Path, tmp_path: Path) -> None:
    result = run_convert(fmt, source, tmp_path, "--src-prefix", PREFIX)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output  # one line, no traceback
    assert "'x.jpg'" in lines[0]
    assert "'x.png'" in lines[0]
    assert "--frame-id '{name}'" in lines[0]  # the template that makes them unique
    assert not (tmp_path / JOBS).exists()


def test_coco_detections(tmp_path: Path) -> None:
    done = convert_ok("coco", ROOT / "coco" / "labels.json", tmp_path, *BY_NAME)
    jobs = done.jobs
    # FiftyOne writes the custom attribute "color" (set on the 5 cars, not on the 5 persons)
    # at the top level of the annotation, not under "attributes": not read, and said so
    # (one row for the key, with the count)
    unread = [r for r in done.report["rows"] if r["reason"] == "unread_annotation_key"]
    assert [(r["source"], r["detail"].split(" is ")[0]) for r in unread] == [
        ("$.annotations[*].color", "'color' on 5 annotation(s)")
    ]
    assert len(jobs) == 1
    assert frame_ids(jobs[0]) == NAMES  # 1, 2, 10 by value, then x.jpg, x.png
    assert frame_srcs(jobs[0]) == [PREFIX + n for n in NAMES]
    shapes = _by_frame(jobs[0])
    for name in NAMES:
        # FiftyOne's relative [x, y, w, h] times (100, 50) is COCO's pixel bbox
        assert shapes[name] == {"car": ("rectangle", _car(name)), "person": ("rectangle", PERSON)}


def test_coco_polylines_as_polygons(tmp_path: Path) -> None:
    jobs = convert_ok("coco", ROOT / "coco_lines" / "labels.json", tmp_path, *BY_NAME).jobs
    assert frame_ids(jobs[0]) == NAMES
    shapes = _by_frame(jobs[0])
    for i, name in enumerate(NAMES):
        # FiftyOne writes every polyline as a COCO polygon, the open lane too (a thin
        # triangle: shoelace |50 * 49 - 99 * 25| / 2 = 12.5 px^2, not degenerate)
        assert shapes[name] == {"lane": ("polygon", LANE), "zone": ("polygon", _zone(i))}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools' decode on numpy 2
def test_coco_instance_masks_polygons_and_crowd_rle(tmp_path: Path) -> None:
    from pycocotools import mask as mask_utils

    source = ROOT / "coco_masks" / "labels.json"
    run = convert_ok("coco", source, tmp_path, *BY_NAME)
    jobs = run.jobs
    assert frame_ids(jobs[0]) == NAMES
    shapes = _by_frame(jobs[0])
    doc = json.loads(source.read_text())
    image_of = {img["id"]: img["file_name"] for img in doc["images"]}
    for ann in doc["annotations"]:
        kind, got = shapes[image_of[ann["image_id"]]][["car", "person"][ann["category_id"] - 1]]
        assert kind == "polygon"
        seg = ann["segmentation"]
        if ann["iscrowd"] == 0:
            # the car: FiftyOne's contour polygon of the box's mask, written closed (the first
            # point again at the end); the closing point goes, the rest is as written
            ring = list(zip(seg[0][::2], seg[0][1::2], strict=True))
            assert ring[0] == ring[-1]
            assert got == ring[:-1]
            continue
        # the person (iscrowd=1): FiftyOne's RLE of the box (60, 30) .. (90, 45) rendered
        # as columns 60..88, rows 30..43 (29 x 14 px) with a 9 x 4 hole; traced on pixel
        # corners with the hole filled: x 60..89, y 30..44
        mask = mask_utils.decode(mask_utils.frPyObjects(seg, H, W))
        rows, cols = mask.nonzero()
        assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (60, 30, 89, 44)
        assert int(mask.sum()) == 29 * 14 - 9 * 4
        assert sorted(got) == [(60, 30), (60, 44), (89, 30), (89, 44)]
    counts = {(c["action"], c["reason"]): c["count"] for c in run.report["counts"]}
    assert counts[("repaired", "mask_holes_filled")] == 5  # one per frame


def test_cvat_image_boxes_polygons_and_polylines(tmp_path: Path) -> None:
    jobs = convert_ok("cvat", ROOT / "cvat_image" / "labels.xml", tmp_path, *BY_NAME).jobs
    assert len(jobs) == 1
    assert frame_ids(jobs[0]) == NAMES
    assert frame_srcs(jobs[0]) == [PREFIX + n for n in NAMES]
    shapes = _by_frame(jobs[0])
    for i, name in enumerate(NAMES):
        assert shapes[name] == {
            "car": ("rectangle", _car(name)),
            "person": ("rectangle", PERSON),
            "zone": ("polygon", _zone(i)),
            "lane": ("line", LANE),
        }
    cars = [
        obj["attributes"]
        for t in trackers(jobs[0])
        if t["label"] == "car"
        for obj in t["frames"].values()
    ]
    assert cars == [{"color": {"value": "red"}}] * 5  # the car's custom attribute


def test_yolov5_renamed_duplicate_stem_and_absolute_path(tmp_path: Path) -> None:
    # FiftyOne's YOLOv5 exporter renames x.png to x-2.png (labels x.txt and x-2.txt), and its
    # dataset.yaml has `path:` the absolute export folder of the machine that wrote it (a
    # folder that does not exist here): the YAML's own folder is used instead, with a note
    run = convert_ok("yolo", ROOT / "yolov5", tmp_path, "--src-prefix", PREFIX)
    jobs = run.jobs
    assert [j["reference_id"] for j in jobs] == ["images/val"]
    frames = jobs[0]["data"]["video_data"]["frames"]
    ids = frame_ids(jobs[0])
    assert ids[:3] == ["1", "2", "10"]
    assert sorted(ids[3:]) == ["x", "x-2"]
    src = {f["frame_id"]: f["src"] for f in frames}
    assert src["x"] == f"{PREFIX}images/val/x.jpg"
    assert src["x-2"] == f"{PREFIX}images/val/x-2.png"
    shapes = _by_frame(jobs[0])
    renamed = {"1": "1.jpg", "2": "2.jpg", "10": "10.jpg", "x": "x.jpg", "x-2": "x.png"}
    for fid, name in renamed.items():
        # rows "cls xc yc w h" with 6 decimals: x.jpg's car "0 0.45 0.3 0.1 0.4" is
        # x 45 +- 5, y 15 +- 10 px, i.e. (40, 5) .. (50, 25)
        assert shapes[fid] == {"car": ("rectangle", _car(name)), "person": ("rectangle", PERSON)}
    assert any(r["action"] == "noted" and "path" in r["reason"] for r in run.report["rows"])
    assert "noted" in run.stderr


def test_cvat_video_track(tmp_path: Path) -> None:
    # FiftyOne numbers frames from 1 and writes CVAT frames from 0: its frames 1, 2, 3 (car
    # at x = 10f .. 10f + 10) are CVAT frames 0, 1, 2; after the last one it writes an
    # `outside="1"` box on frame 3, past the task's <size>3</size>
    template = "https://cdn.test/fo/{sequence}/{index:06d}.jpg"
    run = convert_ok(
        "cvat", ROOT / "cvat_video" / "labels" / "clip.xml", tmp_path, "--src-template", template
    )
    jobs = run.jobs
    assert [j["reference_id"] for j in jobs] == ["clip.mp4"]  # the task's <name>
    ids = [f"frame_{i:06d}" for i in range(3)]
    assert frame_ids(jobs[0]) == ids
    assert frame_srcs(jobs[0]) == [f"https://cdn.test/fo/clip.mp4/{i:06d}.jpg" for i in range(3)]
    (track,) = trackers(jobs[0])
    assert (track["type"], track["label"], list(track["frames"])) == ("rectangle", "car", ids)
    for i, fid in enumerate(ids):
        x = 10 * (i + 1)
        assert "coordinates" in track["frames"][fid]
        got = approx_points(pixel_points(track["frames"][fid], W, H))
        assert got == rect(x, 5, x + 10, 25)
    # whatever is reported concerns only the outside marker on frame 3, nothing drawn
    assert all(
        r["action"] in ("skipped", "noted") and "frame 3" in (r.get("detail") or "")
        for r in run.report["rows"]
    )

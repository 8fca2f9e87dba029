"""Files written by supervision's own writers (fixtures/realtools/make_supervision.py) convert
with no flag beyond the source: geometry, natural frame order 1..12, URLs, and output that
`prelabel validate` accepts.

The data set (see the script's docstring): twelve 100 x 50 frames 1.jpg..12.jpg; car box
xyxy (5k, 5, 5k + 10, 25) on frame k = 1..6 and person (60, 30, 90, 45); on frames 7..12
every detection has a mask, which supervision writes as OpenCV contours through pixel centres
(a block of columns a..b, rows c..d gives the ring (a, c) (a, d) (b, d) (b, c)), or as RLE
(iscrowd=1) when the mask has a hole or several parts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .realtools import (
    Converted,
    approx_points,
    bounds,
    convert_ok,
    frame_ids,
    frame_srcs,
    shapes_by_frame,
    shoelace_area,
)

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "supervision"
W, H = 100, 50
PREFIX = "https://cdn.test/sv/"


def _convert(fmt: str, source: Path, tmp_path: Path, *extra: str) -> Converted:
    return convert_ok(fmt, source, tmp_path, "--src-prefix", PREFIX, *extra)


def _ring(a: int, b: int, c: int, d: int) -> list[tuple[float, float]]:
    """The OpenCV contour supervision writes for a block of columns a..b, rows c..d."""
    return [(a, c), (a, d), (b, d), (b, c)]


def _only(shapes: list, kind: str, label: str) -> list[tuple[float, float]]:
    found = [pts for k, lab, pts in shapes if (k, lab) == (kind, label)]
    assert len(found) == 1, shapes
    return found[0]


def _check_boxes_and_block_masks(shapes: dict) -> None:
    for k in range(1, 7):
        car = _only(shapes[str(k)], "rectangle", "car")
        # bbox [5k, 5, 10, 20]: TL (5k, 5), TR (5k + 10, 5), BR (5k + 10, 25), BL (5k, 25)
        assert car == approx_points([(5 * k, 5), (5 * k + 10, 5), (5 * k + 10, 25), (5 * k, 25)])
        person = _only(shapes[str(k)], "rectangle", "person")
        assert person == approx_points([(60, 30), (90, 30), (90, 45), (60, 45)])
    for k in range(7, 13):
        # the car mask covers columns 5k..5k+9, rows 5..24
        car = _only(shapes[str(k)], "polygon", "car")
        assert car == approx_points(_ring(5 * k, 5 * k + 9, 5, 24))
    for k in (7, 8, 9):
        person = _only(shapes[str(k)], "polygon", "person")
        assert person == approx_points(_ring(10, 29, 30, 39))  # columns 10..29, rows 30..39


def test_coco_without_approximation(tmp_path: Path) -> None:
    run = _convert("coco", ROOT / "coco" / "annotations.json", tmp_path)
    jobs = run.jobs
    assert len(jobs) == 1  # a flat image list is one sequence
    # natural order: 1, 2, ..., 12 (as strings the file would give 1, 10, 11, 12, 2, ...)
    assert frame_ids(jobs[0]) == [str(k) for k in range(1, 13)]
    assert frame_srcs(jobs[0]) == [f"{PREFIX}{k}.jpg" for k in range(1, 13)]
    shapes = shapes_by_frame(jobs[0], W, H)
    _check_boxes_and_block_masks(shapes)

    # frame 10: the disk of radius 12 about (50, 25), its full OpenCV contour
    disk = _only(shapes["10"], "polygon", "person")
    doc = json.loads((ROOT / "coco" / "annotations.json").read_text())
    written = next(a for a in doc["annotations"] if a["image_id"] == 10 and a["category_id"] == 2)
    flat = written["segmentation"][0]
    assert disk == approx_points(list(zip(flat[::2], flat[1::2], strict=True)))
    assert all((x - 50) ** 2 + (y - 25) ** 2 <= 12**2 for x, y in disk)

    # frame 11: RLE (iscrowd=1) of the 20 x 40 block columns 75..94, rows 5..44 with a hole;
    # traced on pixel corners the outline is 75..95 x 5..45, area 20 * 40 = 800 px^2 once the
    # hole (6 x 10 = 60 px^2) is filled
    holed = _only(shapes["11"], "polygon", "person")
    assert bounds(holed) == pytest.approx((75, 5, 95, 45))
    assert shoelace_area(holed) == pytest.approx(800)
    # frame 12: RLE of two 10 x 10 blocks -> two polygons of 100 px^2 each
    parts = sorted(
        (bounds(pts), shoelace_area(pts)) for k, lab, pts in shapes["12"] if lab == "person"
    )
    assert parts == [
        (pytest.approx((75, 5, 85, 15)), pytest.approx(100)),
        (pytest.approx((85, 30, 95, 40)), pytest.approx(100)),
    ]
    counts = {(c["action"], c["reason"]): c["count"] for c in run.report["counts"]}
    assert counts == {("repaired", "mask_holes_filled"): 1, ("split", "split_into_polygons"): 1}


def test_coco_with_polygon_approximation(tmp_path: Path) -> None:
    plain = _convert("coco", ROOT / "coco" / "annotations.json", tmp_path / "a").jobs
    approx = _convert("coco", ROOT / "coco_approx" / "annotations.json", tmp_path / "b").jobs
    assert frame_ids(approx[0]) == [str(k) for k in range(1, 13)]
    full, simplified = shapes_by_frame(plain[0], W, H), shapes_by_frame(approx[0], W, H)
    _check_boxes_and_block_masks(simplified)
    # Ramer-Douglas-Peucker keeps a subset of the contour's vertices: 75 % fewer, at least 3
    disk_full = _only(full["10"], "polygon", "person")
    disk = _only(simplified["10"], "polygon", "person")
    assert 3 <= len(disk) <= len(disk_full) // 4
    assert set(disk) <= set(disk_full)
    assert {k: v for k, v in simplified.items() if k != "10"} == {
        k: v for k, v in full.items() if k != "10"
    }


def _check_yolo(jobs: list[dict]) -> None:
    assert len(jobs) == 1
    assert frame_ids(jobs[0]) == [str(k) for k in range(1, 13)]
    shapes = shapes_by_frame(jobs[0], W, H)
    # the rows are written with 5 decimals; every value here is a multiple of 1 / 100 of
    # the width or 1 / 50 of the height, so the pixels come back exactly (to float noise)
    _check_boxes_and_block_masks(shapes)
    disk = _only(shapes["10"], "polygon", "person")
    assert all((x - 50) ** 2 + (y - 25) ** 2 <= 12**2 + 1e-6 for x, y in disk)
    # frame 11: supervision writes the holed mask as one ring through the hole (14 vertices
    # after the repeated one); whatever the repair keeps lies inside the block 75..94 x 5..44
    holed = [pts for k, lab, pts in shapes["11"] if lab == "person"]
    assert holed
    assert all(
        75 - 1e-6 <= x <= 94 + 1e-6 and 5 - 1e-6 <= y <= 44 + 1e-6 for p in holed for x, y in p
    )
    # frame 12: the two segments are two rows, two polygons
    parts = sorted(bounds(pts) for k, lab, pts in shapes["12"] if lab == "person")
    assert parts == [pytest.approx((75, 5, 84, 14)), pytest.approx((85, 30, 94, 39))]


def test_yolo_boxes_and_polygons_mixed_without_a_task(tmp_path: Path) -> None:
    # supervision's data.yaml holds only nc and names: no task, and label files with boxes
    # (frames 1..6, 5 values a row) and polygons (frames 7..12, 9 or more values a row);
    # the rows' lengths say which is which
    run = _convert("yolo", ROOT / "yolo", tmp_path, "--image-dir", str(ROOT / "yolo" / "images"))
    _check_yolo(run.jobs)
    assert frame_srcs(run.jobs[0]) == [f"{PREFIX}{k}.jpg" for k in range(1, 13)]
    assert "1 noted (row_schema_inferred: cls,box + cls,poly)" in run.stderr


def test_yolo_images_beside_labels_without_splits(tmp_path: Path) -> None:
    # the data.yaml names no train / val: the frames are still the images of images/, the
    # folder that labels/ mirrors (Ultralytics' img2label_paths), with their sizes, as for a
    # bare folder with labels/ and images/
    jobs = _convert("yolo", ROOT / "yolo", tmp_path).jobs
    _check_yolo(jobs)
    assert frame_srcs(jobs[0]) == [f"{PREFIX}images/{k}.jpg" for k in range(1, 13)]

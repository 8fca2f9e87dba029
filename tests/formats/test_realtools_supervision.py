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
from typing import Any

import pytest
from click.testing import CliRunner

from prelabel.cli import main

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "supervision"
W, H = 100, 50
PREFIX = "https://cdn.test/sv/"


def _convert(fmt: str, source: Path, tmp_path: Path, *extra: str) -> tuple[Any, list[dict], str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out, report = tmp_path / "jobs.jsonl", tmp_path / "report.json"
    args = ["convert", fmt, str(source), "-o", str(out), "--report", str(report)]
    result = CliRunner().invoke(main, [*args, "--src-prefix", PREFIX, *extra])
    assert result.exit_code == 0, result.output
    checked = CliRunner().invoke(main, ["validate", str(out)])
    assert checked.exit_code == 0, checked.output
    jobs = [json.loads(line) for line in out.read_text().splitlines()]
    return json.loads(report.read_text()), jobs, result.output


def _shapes(job: dict) -> dict[str, list[tuple[str, str, list[tuple[float, float]]]]]:
    """frame_id -> [(type, label, points in pixels)] in the tracker order of the payload."""
    out: dict[str, list[tuple[str, str, list[tuple[float, float]]]]] = {}
    for t in job["data"]["maker_response"]["video2d"]["data"]["annotations"]:
        for fid, obj in t["frames"].items():
            pts = obj.get("coordinates") or list(obj["points"].values())
            px = [(p["x"] * W, p["y"] * H) for p in pts]
            out.setdefault(fid, []).append((t["type"], t["label"], px))
    return out


def _area(points: list[tuple[float, float]]) -> float:
    """Shoelace area, in square pixels."""
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def _bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _approx(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(pytest.approx(x, abs=1e-9), pytest.approx(y, abs=1e-9)) for x, y in points]


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
        assert car == _approx([(5 * k, 5), (5 * k + 10, 5), (5 * k + 10, 25), (5 * k, 25)])
        person = _only(shapes[str(k)], "rectangle", "person")
        assert person == _approx([(60, 30), (90, 30), (90, 45), (60, 45)])
    for k in range(7, 13):
        # the car mask covers columns 5k..5k+9, rows 5..24
        car = _only(shapes[str(k)], "polygon", "car")
        assert car == _approx(_ring(5 * k, 5 * k + 9, 5, 24))
    for k in (7, 8, 9):
        person = _only(shapes[str(k)], "polygon", "person")
        assert person == _approx(_ring(10, 29, 30, 39))  # columns 10..29, rows 30..39


def test_coco_without_approximation(tmp_path: Path) -> None:
    report, jobs, _ = _convert("coco", ROOT / "coco" / "annotations.json", tmp_path)
    assert len(jobs) == 1  # a flat image list is one sequence
    frames = jobs[0]["data"]["video_data"]["frames"]
    # natural order: 1, 2, ..., 12 (as strings the file would give 1, 10, 11, 12, 2, ...)
    assert [f["frame_id"] for f in frames] == [str(k) for k in range(1, 13)]
    assert [f["src"] for f in frames] == [f"{PREFIX}{k}.jpg" for k in range(1, 13)]
    shapes = _shapes(jobs[0])
    _check_boxes_and_block_masks(shapes)

    # frame 10: the disk of radius 12 about (50, 25), its full OpenCV contour
    disk = _only(shapes["10"], "polygon", "person")
    doc = json.loads((ROOT / "coco" / "annotations.json").read_text())
    written = next(a for a in doc["annotations"] if a["image_id"] == 10 and a["category_id"] == 2)
    flat = written["segmentation"][0]
    assert disk == _approx(list(zip(flat[::2], flat[1::2], strict=True)))
    assert all((x - 50) ** 2 + (y - 25) ** 2 <= 12**2 for x, y in disk)

    # frame 11: RLE (iscrowd=1) of the 20 x 40 block columns 75..94, rows 5..44 with a hole;
    # traced on pixel corners the outline is 75..95 x 5..45, area 20 * 40 = 800 px^2 once the
    # hole (6 x 10 = 60 px^2) is filled
    holed = _only(shapes["11"], "polygon", "person")
    assert _bounds(holed) == pytest.approx((75, 5, 95, 45))
    assert _area(holed) == pytest.approx(800)
    # frame 12: RLE of two 10 x 10 blocks -> two polygons of 100 px^2 each
    parts = sorted((_bounds(pts), _area(pts)) for k, lab, pts in shapes["12"] if lab == "person")
    assert parts == [
        (pytest.approx((75, 5, 85, 15)), pytest.approx(100)),
        (pytest.approx((85, 30, 95, 40)), pytest.approx(100)),
    ]
    counts = {(c["action"], c["reason"]): c["count"] for c in report["counts"]}
    assert counts == {("repaired", "mask_holes_filled"): 1, ("split", "multipart_segmentation"): 1}


def test_coco_with_polygon_approximation(tmp_path: Path) -> None:
    _, plain, _ = _convert("coco", ROOT / "coco" / "annotations.json", tmp_path / "a")
    _, approx, _ = _convert("coco", ROOT / "coco_approx" / "annotations.json", tmp_path / "b")
    frames = approx[0]["data"]["video_data"]["frames"]
    assert [f["frame_id"] for f in frames] == [str(k) for k in range(1, 13)]
    full, simplified = _shapes(plain[0]), _shapes(approx[0])
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
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [f["frame_id"] for f in frames] == [str(k) for k in range(1, 13)]
    shapes = _shapes(jobs[0])
    # the rows are written with 5 decimals; every value here is a multiple of 1 / 100 of
    # the width or 1 / 50 of the height, so the pixels come back exactly (to float noise)
    _check_boxes_and_block_masks(shapes)
    disk = _only(shapes["10"], "polygon", "person")
    assert all((x - 50) ** 2 + (y - 25) ** 2 <= 12**2 + 1e-6 for x, y in disk)
    # frame 11: supervision writes the holed mask as one ring through the hole (14 vertices
    # after the repeated one); whatever the repair keeps lies inside the block 75..94 x 5..44
    holed = [pts for k, lab, pts in shapes["11"] if lab == "person"]
    assert holed and all(
        75 - 1e-6 <= x <= 94 + 1e-6 and 5 - 1e-6 <= y <= 44 + 1e-6 for p in holed for x, y in p
    )
    # frame 12: the two segments are two rows, two polygons
    parts = sorted(_bounds(pts) for k, lab, pts in shapes["12"] if lab == "person")
    assert parts == [pytest.approx((75, 5, 84, 14)), pytest.approx((85, 30, 94, 39))]


def test_yolo_boxes_and_polygons_mixed_without_a_task(tmp_path: Path) -> None:
    # supervision's data.yaml holds only nc and names: no task, and label files with boxes
    # (frames 1..6, 5 values a row) and polygons (frames 7..12, 9 or more values a row);
    # the rows' lengths say which is which
    _, jobs, output = _convert(
        "yolo", ROOT / "yolo", tmp_path, "--image-dir", str(ROOT / "yolo" / "images")
    )
    _check_yolo(jobs)
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [f["src"] for f in frames] == [f"{PREFIX}{k}.jpg" for k in range(1, 13)]
    assert "read from the rows" in output


def test_yolo_images_beside_labels_without_splits(tmp_path: Path) -> None:
    # the data.yaml names no train / val: the frames are still the images of images/, the
    # folder that labels/ mirrors (Ultralytics' img2label_paths), with their sizes, as for a
    # bare folder with labels/ and images/
    _, jobs, _ = _convert("yolo", ROOT / "yolo", tmp_path)
    _check_yolo(jobs)
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [f["src"] for f in frames] == [f"{PREFIX}images/{k}.jpg" for k in range(1, 13)]

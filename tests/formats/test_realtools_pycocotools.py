"""COCO masks encoded by pycocotools itself (fixtures/realtools/make_pycocotools.py): crowd and
non-crowd, compressed (counts a string) and uncompressed (counts a list) RLE, and a detector
results list, converted with no flag beyond the source.

Frames are 40 x 30. A mask is traced on pixel corners, so the block of rows r0..r1, columns
c0..c1 becomes the rectangle x c0..c1 + 1, y r0..r1 + 1, its area the pixel count.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from prelabel.cli import main

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "pycocotools"
W, H = 40, 30
PREFIX = "https://cdn.test/coco/"


def _convert(source: Path, tmp_path: Path, *extra: str) -> tuple[Any, list[dict]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out, report = tmp_path / "jobs.jsonl", tmp_path / "report.json"
    args = ["convert", "coco", str(source), "-o", str(out), "--report", str(report), "-q"]
    result = CliRunner().invoke(main, [*args, "--src-prefix", PREFIX, *extra])
    assert result.exit_code == 0, result.output
    checked = CliRunner().invoke(main, ["validate", str(out)])
    assert checked.exit_code == 0, checked.output
    return json.loads(report.read_text()), [json.loads(x) for x in out.read_text().splitlines()]


def _shapes(job: dict) -> dict[str, list[tuple[str, str, list[tuple[float, float]]]]]:
    out: dict[str, list[tuple[str, str, list[tuple[float, float]]]]] = {}
    for t in job["data"]["maker_response"]["video2d"]["data"]["annotations"]:
        for fid, obj in t["frames"].items():
            pts = obj.get("coordinates") or list(obj["points"].values())
            out.setdefault(fid, []).append(
                (t["type"], t["label"], [(p["x"] * W, p["y"] * H) for p in pts])
            )
    return out


def _area(points: list[tuple[float, float]]) -> float:
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def _bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _summary(shapes: list) -> list[tuple[str, str, tuple[float, ...], float]]:
    """(type, label, bounds, area) of each shape, rounded to float noise, sorted."""
    return sorted(
        (k, lab, tuple(round(v, 6) for v in _bounds(p)), round(_area(p), 6)) for k, lab, p in shapes
    )


def test_crowd_and_non_crowd_rle_compressed_and_uncompressed(tmp_path: Path) -> None:
    report, jobs = _convert(ROOT / "instances.json", tmp_path)
    assert len(jobs) == 1
    frames = jobs[0]["data"]["video_data"]["frames"]
    # listed 10, 1, 2 in the file; natural order by name
    assert [f["frame_id"] for f in frames] == ["1", "2", "10"]
    assert [f["src"] for f in frames] == [f"{PREFIX}1.jpg", f"{PREFIX}2.jpg", f"{PREFIX}10.jpg"]
    shapes = _shapes(jobs[0])
    # frame 1, crowd, compressed: rows 5..14, columns 10..19 -> x 10..20, y 5..15, 100 px^2
    assert _summary(shapes["1"]) == [("polygon", "person", (10, 5, 20, 15), 100)]
    # frame 2, crowd, uncompressed [0, 120, 1080]: columns 0..3 whole (4 x 30 = 120 px);
    # the outline runs along the left, top and bottom edges of the frame
    assert _summary(shapes["2"]) == [("polygon", "person", (0, 0, 4, 30), 120)]
    # frame 10: the non-crowd mask in two blocks (4 x 4 = 16 and 8 x 8 = 64 px^2) becomes two
    # polygons; its one-pixel speck (1 < 4 px^2) is dropped; the car polygon is as written
    assert _summary(shapes["10"]) == [
        ("polygon", "car", (5, 20, 15, 28), 80),  # 10 x 8
        ("polygon", "person", (2, 2, 6, 6), 16),
        ("polygon", "person", (30, 20, 38, 28), 64),
    ]
    counts = {(c["action"], c["reason"]): c["count"] for c in report["counts"]}
    assert counts == {("dropped", "mask_specks"): 1, ("split", "multipart_segmentation"): 1}
    speck = next(r for r in report["rows"] if r["reason"] == "mask_specks")
    assert (speck["frame"], speck["source"]) == ("10.jpg", "$.annotations[2]")


def test_results_list_with_rle_and_scores(tmp_path: Path) -> None:
    images = str(ROOT / "instances.json")
    _, jobs = _convert(ROOT / "results.json", tmp_path / "all", "--images", images)
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [f["frame_id"] for f in frames] == ["1", "2", "10"]  # every image of --images
    shapes = _shapes(jobs[0])
    # person rows 10..19 x columns 20..29 (score 0.9); car rows 0..3 x columns 0..7 (0.3)
    assert _summary(shapes["1"]) == [
        ("polygon", "car", (0, 0, 8, 4), 32),
        ("polygon", "person", (20, 10, 30, 20), 100),
    ]
    assert set(shapes) == {"1"}
    _, kept = _convert(
        ROOT / "results.json", tmp_path / "min", "--images", images, "--min-score", "0.5"
    )
    assert [lab for _, lab, _ in _shapes(kept[0])["1"]] == ["person"]


def test_the_fixture_is_what_pycocotools_decodes() -> None:
    """The traced areas above equal pycocotools' own pixel counts of the same RLE."""
    from pycocotools import mask as mask_utils  # a test dependency (pyproject's test extra)

    doc = json.loads((ROOT / "instances.json").read_text())
    areas = []
    for ann in doc["annotations"][:3]:
        seg = ann["segmentation"]
        rle = mask_utils.frPyObjects(seg, H, W) if isinstance(seg["counts"], list) else seg
        areas.append(int(mask_utils.area(rle)))
    assert areas == [100, 120, 16 + 64 + 1]  # the speck is one pixel

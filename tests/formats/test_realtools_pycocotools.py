"""COCO masks encoded by pycocotools itself (fixtures/realtools/make_pycocotools.py): crowd and
non-crowd, compressed (counts a string) and uncompressed (counts a list) RLE, and a detector
results list, converted with no flag beyond the source.

Frames are 40 x 30. A mask is traced on pixel corners, so the block of rows r0..r1, columns
c0..c1 becomes the rectangle x c0..c1 + 1, y r0..r1 + 1, its area the pixel count.
"""

from __future__ import annotations

import json
from pathlib import Path

from .realtools import (
    Converted,
    bounds,
    convert_ok,
    frame_ids,
    frame_srcs,
    shapes_by_frame,
    shoelace_area,
)

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "pycocotools"
W, H = 40, 30
PREFIX = "https://cdn.test/coco/"


def _convert(source: Path, tmp_path: Path, *extra: str) -> Converted:
    return convert_ok("coco", source, tmp_path, "--src-prefix", PREFIX, *extra, quiet=True)


def _summary(shapes: list) -> list[tuple[str, str, tuple[float, ...], float]]:
    """(type, label, bounds, area) of each shape, rounded to float noise, sorted."""
    return sorted(
        (k, lab, tuple(round(v, 6) for v in bounds(p)), round(shoelace_area(p), 6))
        for k, lab, p in shapes
    )


def test_crowd_and_non_crowd_rle_compressed_and_uncompressed(tmp_path: Path) -> None:
    run = _convert(ROOT / "instances.json", tmp_path)
    jobs = run.jobs
    assert len(jobs) == 1
    # listed 10, 1, 2 in the file; natural order by name
    assert frame_ids(jobs[0]) == ["1", "2", "10"]
    assert frame_srcs(jobs[0]) == [f"{PREFIX}1.jpg", f"{PREFIX}2.jpg", f"{PREFIX}10.jpg"]
    shapes = shapes_by_frame(jobs[0], W, H)
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
    counts = {(c["action"], c["reason"]): c["count"] for c in run.report["counts"]}
    assert counts == {("dropped", "mask_specks"): 1, ("split", "split_into_polygons"): 1}
    speck = next(r for r in run.report["rows"] if r["reason"] == "mask_specks")
    assert (speck["frame"], speck["source"]) == ("10.jpg", "$.annotations[2]")


def test_results_list_with_rle_and_scores(tmp_path: Path) -> None:
    images = str(ROOT / "instances.json")
    jobs = _convert(ROOT / "results.json", tmp_path / "all", "--images", images).jobs
    assert frame_ids(jobs[0]) == ["1", "2", "10"]  # every image of --images
    shapes = shapes_by_frame(jobs[0], W, H)
    # person rows 10..19 x columns 20..29 (score 0.9); car rows 0..3 x columns 0..7 (0.3)
    assert _summary(shapes["1"]) == [
        ("polygon", "car", (0, 0, 8, 4), 32),
        ("polygon", "person", (20, 10, 30, 20), 100),
    ]
    assert set(shapes) == {"1"}
    kept = _convert(
        ROOT / "results.json", tmp_path / "min", "--images", images, "--min-score", "0.5"
    )
    assert [lab for _, lab, _ in shapes_by_frame(kept.jobs[0], W, H)["1"]] == ["person"]


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

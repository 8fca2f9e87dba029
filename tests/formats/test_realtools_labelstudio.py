"""Exports written by Label Studio's own converter (fixtures/realtools/make_labelstudio.py): its
YOLO export (boxes and polygons mixed row by row), YOLO OBB export and COCO export of the same
project convert with no format flag, frames in their natural order, with the geometry the
annotations given to Label Studio mean.

The project: twelve 80x40 frames ``clip/1.png`` .. ``clip/12.png``, imported in listing order
(1, 10, 11, 12, 2, ..., 9, so task and COCO image ids follow that order). Label Studio stores
shapes in percent of the image: frame k has the rectangle x = 5k %, y = 10 %, width 20 %,
height 50 % (pixels: x 4k .. 4k + 16, y 4 .. 24), labelled car (person on frame 7); frames
divisible by 4 a road quad, the other even frames a road triangle; frame 5 has no annotation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from prelabel.annotations import Annotations, Kind
from prelabel.cli import main
from prelabel.formats.coco import read_coco
from prelabel.formats.yolo import read_yolo
from prelabel.report import Report

LS = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "labelstudio"
W, H = 80, 40
FRAMES = list(range(1, 13))
QUAD_PCT = [(10, 60), (50, 60), (50, 90), (10, 90)]
TRIANGLE_PCT = [(60, 10), (90, 10), (75, 40)]


def px(pct: list[tuple[float, float]]) -> list[list[float]]:
    """Label Studio percent -> pixels: x * W / 100, y * H / 100."""
    return [[x * W / 100, y * H / 100] for x, y in pct]


def rect(x1: float, y1: float, x2: float, y2: float) -> list[list[float]]:
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]


def expected(k: int) -> list[tuple[str, Kind, list[list[float]]]]:
    """Frame k's shapes in pixels, in the order Label Studio lists them (rectangle first)."""
    if k == 5:
        return []
    # x = 5k % of 80 = 4k px, width 20 % = 16 px; y = 10 % of 40 = 4 px, height 50 % = 20 px
    shapes = [("person" if k == 7 else "car", Kind.RECTANGLE, rect(4 * k, 4, 4 * k + 16, 24))]
    if k % 4 == 0:  # quad: (8, 24), (40, 24), (40, 36), (8, 36)
        shapes.append(("road", Kind.POLYGON, px(QUAD_PCT)))
    elif k % 2 == 0:  # triangle: (48, 4), (72, 4), (60, 16)
        shapes.append(("road", Kind.POLYGON, px(TRIANGLE_PCT)))
    return shapes


def shapes_by_frame(ann: Annotations, frame_of) -> dict[int, list[tuple[str, Kind, np.ndarray]]]:
    out: dict[int, list] = {k: [] for k in FRAMES}
    for i in range(len(ann)):
        k = frame_of(str(ann.frames.name[ann.frame[i]]))
        pts = ann.points[ann.offsets[i] : ann.offsets[i + 1]]
        out[k].append((ann.labels[ann.label[i]], Kind(ann.kind[i]), pts))
    return out


def assert_project(ann: Annotations, frame_of, scale: tuple[float, float] = (1, 1)) -> None:
    got = shapes_by_frame(ann, frame_of)
    for k in FRAMES:
        want = expected(k)
        assert [(lab, kind) for lab, kind, _ in got[k]] == [(lab, kind) for lab, kind, _ in want], k
        for (_, _, g), (_, _, w) in zip(got[k], want, strict=True):
            assert np.allclose(g, np.array(w) / scale, atol=1e-9), k


def natural_order(ann: Annotations) -> list[str]:
    f = ann.frames
    return [str(f.name[k]) for k in np.lexsort((f.index, f.sequence))]


def convert(tmp_path: Path, fmt: str, *args: str, summary: list[str] | None = None) -> list[dict]:
    """``prelabel convert FMT ARGS``; the output must pass ``prelabel validate``.

    ``summary`` collects the summary lines convert prints (``-q`` otherwise).
    """
    out = tmp_path / "jobs.jsonl"
    quiet = [] if summary is not None else ["-q"]
    res = CliRunner().invoke(main, ["convert", fmt, *args, "-o", str(out), *quiet])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    if summary is not None:
        summary.extend(res.output.splitlines())
    val = CliRunner().invoke(main, ["validate", str(out)])
    assert val.exit_code == 0, val.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def payload_shapes(job: dict) -> dict[str, list[tuple[str, str, list[list[float]]]]]:
    """frame_id -> (label, type, normalised points) of every object, sorted."""
    out: dict[str, list] = {fr["frame_id"]: [] for fr in job["data"]["video_data"]["frames"]}
    for t in job["data"]["maker_response"]["video2d"]["data"]["annotations"]:
        for fid, obj in t["frames"].items():
            if "coordinates" in obj:
                pts = [[c["x"], c["y"]] for c in obj["coordinates"]]
            else:
                pts = [[p["x"], p["y"]] for p in obj["points"].values()]
            out[fid].append((t["label"], t["type"], pts))
    return {fid: sorted(v) for fid, v in out.items()}


# --- YOLO export -------------------------------------------------------------------------------
def test_yolo_export_mixed_rows_without_flags() -> None:
    # labels/N.txt + classes.txt as the converter writes them; images from the document root
    ann = read_yolo(LS / "yolo", image_dir=LS / "dataset" / "clip")
    assert ann.labels == ("car", "person", "road")  # classes.txt
    assert natural_order(ann) == [f"{k}.png" for k in FRAMES]  # 1, 2, ..., 12, not 1, 10, ...
    assert set(ann.frames.width.tolist()) == {W}
    assert set(ann.frames.height.tolist()) == {H}
    # a row of 5 values is a box, 7 or 9 a polygon, in the same file
    assert_project(ann, lambda name: int(Path(name).stem))


def test_yolo_export_labels_alone_are_normalised() -> None:
    ann = read_yolo(LS / "yolo")  # no images: the converter's images/ folder stays empty
    assert ann.normalised
    assert natural_order(ann) == [f"labels/{k}" for k in FRAMES]
    # 5.txt is empty (the task has no annotation): a frame without shapes
    assert_project(ann, lambda name: int(Path(name).name), scale=(W, H))


def test_yolo_export_cli(tmp_path: Path) -> None:
    summary: list[str] = []
    jobs = convert(tmp_path, "yolo", str(LS / "yolo"), "--image-dir", str(LS / "dataset" / "clip"),
                   "--src-prefix", "https://cdn.example.com/clip/", summary=summary)  # fmt: skip
    # the summary says both row schemas were read from the rows
    (line,) = [ln for ln in summary if "row_schema" in ln]
    assert "cls,box" in line
    assert "cls,poly" in line
    assert "row_schema_inferred" in line
    assert len(jobs) == 1
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [fr["frame_id"] for fr in frames] == [str(k) for k in FRAMES]
    assert [fr["src"] for fr in frames] == [f"https://cdn.example.com/clip/{k}.png" for k in FRAMES]
    shapes = payload_shapes(jobs[0])
    # frame 8: car at x 32..48 px, y 4..24 -> / (80, 40); road quad (8, 24) ... / (80, 40)
    # (yc - h/2 = 0.35 - 0.25 is 0.09999999999999998 in floats: compared with a tolerance)
    assert [(lab, t) for lab, t, _ in shapes["8"]] == [("car", "rectangle"), ("road", "polygon")]
    car, road = (np.array(p) for _, _, p in shapes["8"])
    assert np.allclose(car, rect(0.4, 0.1, 0.6, 0.6), atol=1e-12)
    assert np.allclose(road, [[0.1, 0.6], [0.5, 0.6], [0.5, 0.9], [0.1, 0.9]], atol=1e-12)
    assert shapes["5"] == []


# --- YOLO OBB export ---------------------------------------------------------------------------
def obb_corners() -> tuple[list[list[float]], list[list[float]]]:
    """The two rectangles of the OBB task in pixels (frame 1.png, 80x40).

    Label Studio keeps the top-left corner (x, y) and rotates the rectangle about it, clockwise
    on screen, in pixels: x 50 % = 40, y 20 % = 8, width 25 % = 20, height 50 % = 20, 30 degrees.
    """
    a = math.radians(30)
    tl = (40.0, 8.0)
    tr = (tl[0] + 20 * math.cos(a), tl[1] + 20 * math.sin(a))
    bl = (tl[0] - 20 * math.sin(a), tl[1] + 20 * math.cos(a))
    br = (tr[0] + bl[0] - tl[0], tr[1] + bl[1] - tl[1])
    rotated = [list(tl), list(tr), list(br), list(bl)]
    # unrotated: x 10 % = 8, y 20 % = 8, 20 x 20 px
    return rotated, rect(8, 8, 28, 28)


def test_yolo_obb_export_without_flags_is_four_point_polygons() -> None:
    ann = read_yolo(LS / "yolo_obb", image_dir=LS / "dataset" / "clip")
    rotated, upright = obb_corners()
    assert [ann.labels[c] for c in ann.label] == ["car", "person"]
    assert ann.kind[0] == Kind.POLYGON
    assert np.allclose(ann.points[ann.offsets[0] : ann.offsets[1]], rotated, atol=1e-6)
    # the upright one: the same four corners, as a polygon or a rectangle
    assert ann.kind[1] in (Kind.POLYGON, Kind.RECTANGLE)
    assert np.allclose(ann.points[ann.offsets[1] : ann.offsets[2]], upright, atol=1e-6)


def test_yolo_obb_export_with_task_obb() -> None:
    ann = read_yolo(LS / "yolo_obb", task="obb", image_dir=LS / "dataset" / "clip")
    rotated, upright = obb_corners()
    assert ann.kind.tolist() == [Kind.POLYGON, Kind.RECTANGLE]
    assert np.allclose(ann.points[:4], rotated, atol=1e-6)
    assert np.allclose(ann.points[4:], upright, atol=1e-6)


# --- COCO export -------------------------------------------------------------------------------
def test_coco_export_natural_order_and_geometry() -> None:
    ann = read_coco(LS / "dataset" / "result.json")
    # images listed 1, 10, 11, 12, 2, ... (task order); frames ordered by number
    assert natural_order(ann) == [f"clip/{k}.png" for k in FRAMES]
    assert set(ann.frames.sequence.tolist()) == {"clip"}
    assert ann.labels == ("car", "person", "road")  # category ids 0, 1, 2
    # rectangles come with "segmentation": [] and stay boxes; polygons in pixels
    assert_project(ann, lambda name: int(Path(name).stem))


def test_coco_export_cli_matches_the_yolo_export(tmp_path: Path) -> None:
    coco = convert(tmp_path, "coco", str(LS / "dataset" / "result.json"),
                   "--src-prefix", "https://cdn.example.com/")  # fmt: skip
    assert len(coco) == 1
    frames = coco[0]["data"]["video_data"]["frames"]
    assert [fr["src"] for fr in frames] == [f"https://cdn.example.com/clip/{k}.png" for k in FRAMES]
    yolo = convert(tmp_path, "yolo", str(LS / "yolo"), "--image-dir", str(LS / "dataset" / "clip"),
                   "--src-prefix", "https://cdn.example.com/clip/")  # fmt: skip
    # the same project through both exporters: the same shapes on the same frames
    a, b = payload_shapes(coco[0]), payload_shapes(yolo[0])
    assert list(a) == list(b) == [str(k) for k in FRAMES]
    for fid in a:
        assert [(lab, t) for lab, t, _ in a[fid]] == [(lab, t) for lab, t, _ in b[fid]], fid
        for (_, _, p), (_, _, q) in zip(a[fid], b[fid], strict=True):
            assert np.allclose(p, q, atol=1e-9), fid


def test_coco_export_with_local_files_urls_names_the_frames_by_d() -> None:
    # Without local files access the converter leaves file_name as the task's URL,
    # "/data/local-files/?d=clip/1.png": the frame is the d= path, relative to the document root
    report = Report()
    src = LS / "local_files_coco" / "result.json"
    # the task without annotations has "width": null (the converter had no image to read):
    # its size comes from the image under the document root
    ann = read_coco(src, image_dir=LS / "dataset", report=report)
    assert natural_order(ann) == [f"clip/{k}.png" for k in FRAMES]
    assert set(ann.frames.sequence.tolist()) == {"clip"}
    assert ann.frames.width.tolist() == [W] * 12
    assert ann.frames.height.tolist() == [H] * 12
    assert_project(ann, lambda name: int(Path(name).stem))
    (row,) = report.rows
    assert (row["action"], row["reason"], row["source"]) == (
        "noted",
        "label_studio_local_files",
        "$.images[0].file_name",
    )
    assert row["detail"].startswith("12 file_name(s)")


def test_coco_export_with_local_files_urls_cli_matches_the_root_export(tmp_path: Path) -> None:
    src = LS / "local_files_coco" / "result.json"
    summary: list[str] = []
    jobs = convert(tmp_path, "coco", str(src), "--image-dir", str(LS / "dataset"),
                   "--src-prefix", "https://cdn.example.com/", summary=summary)  # fmt: skip
    assert any("noted (label_studio_local_files)" in ln for ln in summary), summary
    assert len(jobs) == 1
    frames = jobs[0]["data"]["video_data"]["frames"]
    assert [fr["src"] for fr in frames] == [f"https://cdn.example.com/clip/{k}.png" for k in FRAMES]
    root = convert(tmp_path, "coco", str(LS / "dataset" / "result.json"),
                   "--src-prefix", "https://cdn.example.com/")  # fmt: skip
    assert payload_shapes(jobs[0]) == payload_shapes(root[0])


def test_coco_export_with_local_files_urls_without_sizes_is_one_error(tmp_path: Path) -> None:
    src = LS / "local_files_coco" / "result.json"
    out = tmp_path / "jobs.jsonl"
    res = CliRunner().invoke(
        main, ["convert", "coco", str(src), "--src-prefix", "https://x/", "-o", str(out), "-q"]
    )
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        f"error: {src}:$.images[7].width: missing (or give --image-dir to read it)"
    ]
    assert not out.exists()

"""COCO export: the mapping, pycocotools opening the file, and convert -> export -> convert."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings

from prelabel import FrameOptions, convert, read_coco
from prelabel.annotations import Annotations, Kind
from prelabel.export.coco import export_coco
from prelabel.export.sizes import sidecar_path
from prelabel.report import Reason
from tests.export.roundtrip import PREFIX, assert_same_jobs, framed, load_jobs, sources

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _round_trip(ann: Annotations, tmp: Path) -> None:
    p0, p1 = tmp / "p0.jsonl", tmp / "p1.jsonl"
    convert(ann, p0, frames=FrameOptions(src_prefix=PREFIX))
    export_coco(p0, tmp / "x.json")
    convert(read_coco(tmp / "x.json"), p1, frames=FrameOptions(src_prefix=PREFIX))
    assert_same_jobs(load_jobs(p0), load_jobs(p1))


@settings(max_examples=30)
@given(sources((Kind.RECTANGLE, Kind.POLYGON, Kind.LANDMARK)))
def test_convert_export_convert_is_the_same_payload(ann: Annotations) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _round_trip(ann, Path(tmp))


def _one_of_each(tmp: Path) -> Path:
    """Payload of one 200 x 100 frame: a box, a tracked polygon over two frames, a line,
    a landmark with points 1 and 3."""
    frames = framed([("clip", 2, 200, 100)])
    ann = Annotations.concat(
        [
            Annotations.from_boxes(
                frames, [[10, 20, 110, 70]], ["car"], [0], attributes=[{"colour": "red"}]
            ),
            Annotations.from_polygons(
                frames,
                [[[0, 0], [40, 0], [40, 40]], [[10, 0], [50, 0], [50, 40]]],
                ["road", "road"],
                [0, 1],
                track=[5, 5],
            ),
            Annotations.from_lines(frames, [[[0, 50], [200, 50]]], ["lane"], [0]),
            Annotations.from_runs(
                frames,
                Kind.LANDMARK,
                [[20, 20], [30, 30]],
                [0, 2],
                ["face"],
                [1],
                point_label=[1, 3],
            ),
        ]
    )
    out = tmp / "jobs.jsonl"
    convert(ann, out, frames=FrameOptions(src_prefix=PREFIX))
    return out


def test_mapping_and_pycocotools(tmp_path: Path) -> None:
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO

    jobs = _one_of_each(tmp_path)
    assert sidecar_path(jobs).is_file()
    result = export_coco(jobs, tmp_path / "x.json")
    doc = orjson.loads((tmp_path / "x.json").read_bytes())
    # the line is the only shape COCO cannot hold: 5 shapes, 4 written, 1 reported
    assert result.shapes == 4
    assert result.report.counts == {("skipped", Reason.KIND_NOT_IN_FORMAT.value): 1}
    box = next(a for a in doc["annotations"] if a.get("attributes", {}).get("colour"))
    # [10, 20, 110, 70] -> x, y, w, h = 10, 20, 100, 50; area 100 x 50
    assert box["bbox"] == pytest.approx([10, 20, 100, 50])
    assert box["area"] == pytest.approx(5000)
    assert "track_id" not in box  # a tracker of one frame is a detection
    polys = [a for a in doc["annotations"] if a["segmentation"]]
    assert {a["track_id"] for a in polys} == {polys[0]["track_id"]}
    assert polys[0]["attributes"]["track_id"] == polys[0]["track_id"]
    # the triangle (0,0) (40,0) (40,40): area 40 * 40 / 2
    assert polys[0]["area"] == pytest.approx(800)
    face = next(a for a in doc["annotations"] if "keypoints" in a)
    # points 1 and 3 of K = 3: point 2 absent (v = 0)
    assert face["keypoints"] == pytest.approx([20, 20, 2, 0, 0, 0, 30, 30, 2])
    assert face["num_keypoints"] == 2
    cats = {c["name"]: c for c in doc["categories"]}
    assert cats["face"]["keypoints"] == ["1", "2", "3"]
    assert doc["images"][0]["file_name"] == "clip/f000.jpg"
    assert doc["images"][0]["coco_url"] == PREFIX + "clip/f000.jpg"
    assert (doc["images"][0]["width"], doc["images"][0]["height"]) == (200, 100)

    coco = COCO(str(tmp_path / "x.json"))
    assert len(coco.getImgIds()) == 2
    assert len(coco.getAnnIds()) == 4
    # pycocotools rasterises the polygon: about the triangle's 800 px^2
    ann = coco.loadAnns([polys[0]["id"]])[0]
    assert abs(int(coco.annToMask(ann).sum()) - 800) < 60


def test_results_need_sizes_and_take_the_sidecar(tmp_path: Path) -> None:
    from prelabel.errors import InputError

    results = FIXTURES / "results"
    with pytest.raises(InputError, match="frame sizes of job"):
        export_coco(results, tmp_path / "x.json")
    result = export_coco(
        results / "prelabels.jsonl", tmp_path / "x.json", sizes=_sizes_for(results, tmp_path)
    )
    assert result.jobs == 2


def _sizes_for(results: Path, tmp: Path) -> Path:
    """A sidecar for the example results: every frame 640 x 480."""
    jobs = {}
    for line in (results / "prelabels.jsonl").read_bytes().splitlines():
        job = orjson.loads(line)
        ids = [f["frame_id"] for f in job["data"]["video_data"]["frames"]]
        jobs[job["reference_id"]] = {
            "frame_id": ids,
            "width": [640] * len(ids),
            "height": [480] * len(ids),
        }
    path = tmp / "jobs.sizes.json"
    path.write_bytes(orjson.dumps({"format": "prelabel-frames", "version": 1, "jobs": jobs}))
    return path


def test_exported_fixture_round_trips(tmp_path: Path) -> None:
    """The bundled video COCO through convert -> export -> convert."""
    p0, p1 = tmp_path / "p0.jsonl", tmp_path / "p1.jsonl"
    convert(read_coco(FIXTURES / "coco" / "video.json"), p0, frames=FrameOptions(src_prefix=PREFIX))
    export_coco(p0, tmp_path / "x.json")
    convert(read_coco(tmp_path / "x.json"), p1, frames=FrameOptions(src_prefix=PREFIX))
    a, b = load_jobs(p0), load_jobs(p1)
    assert_same_jobs(a, b)
    assert np.isfinite(len(a))


def test_a_landmark_point_number_beyond_the_limit_is_skipped_not_padded(tmp_path: Path) -> None:
    """COCO pads every keypoints list of a label to its largest point number: a number of
    2**31 - 1 would make each of them 6 billion values (and the category as many names)."""
    from prelabel.export.coco import MAX_KEYPOINT

    jobs = _one_of_each(tmp_path)
    lines = jobs.read_bytes().splitlines()
    job = orjson.loads(lines[0])
    for tracker in job["data"]["maker_response"]["video2d"]["data"]["annotations"]:
        if tracker["type"] == "landmark":
            for obj in tracker["frames"].values():
                obj["points"]["p2"]["label"] = 2**31 - 1
    jobs.write_bytes(orjson.dumps(job) + b"\n")
    result = export_coco(jobs, tmp_path / "x.json")
    doc = orjson.loads((tmp_path / "x.json").read_bytes())
    assert not [a for a in doc["annotations"] if "keypoints" in a]
    assert result.report.counts[("skipped", Reason.LANDMARK_NOT_IN_FORMAT.value)] == 1
    assert any(f"{MAX_KEYPOINT:,}" in (r.get("detail") or "") for r in result.report.rows)
    assert len((tmp_path / "x.json").read_bytes()) < 10_000

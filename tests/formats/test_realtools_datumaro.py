"""Files written by datumaro's own exporters (fixtures/realtools/make_datumaro.py) convert with
no flag beyond the source: geometry, frame order, tracks, URLs, and output that
`prelabel validate` accepts.

The data set (see the script's docstring): subsets train and val, each with the 100 x 50
items 1, 2, 10 (frames i = 0, 1, 2), the same names in both subsets. On item k: car box
(5k, 5) .. (5k + 10, 25) in train, (60, 2k) .. (80, 2k + 10) in val, track 1, colour red /
blue; person polygon (10, 30) (30, 30) (30, 40) (10, 40) moved right by 2i, track 2; lane
polyline (0, 0) (50, 25) (99, 49), track 3; face points (20, 20) (25, 22), track 4.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .realtools import (
    Point,
    approx_points,
    convert_ok,
    frame_ids,
    frame_srcs,
    pixel_points,
    rect,
    trackers,
)

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realtools" / "datumaro"
W, H = 100, 50
PREFIX = "https://cdn.test/dm/"
ITEMS = (1, 2, 10)


def _pixels(obj: dict) -> list[Any]:
    return approx_points(pixel_points(obj, W, H))


def _car(subset: str, k: int) -> list[Point]:
    """TL, TR, BR, BL of the car on item k."""
    if subset == "train":
        return rect(5 * k, 5, 5 * k + 10, 25)
    return rect(60, 2 * k, 80, 2 * k + 10)


def _person(i: int) -> list[Point]:
    return rect(10 + 2 * i, 30, 30 + 2 * i, 40)


LANE = [(0, 0), (50, 25), (99, 49)]
FACE = [(20, 20), (25, 22)]


def _meta_note(report: dict) -> list[dict]:
    """The report rows that say the task's meta disagrees with itself (stop_frame = size)."""
    return [
        r for r in report["rows"] if r["action"] == "noted" and "stop_frame" in (r["detail"] or "")
    ]


@pytest.mark.parametrize("subset", ["train", "val"])
def test_cvat_images_one_file_per_subset(subset: str, tmp_path: Path) -> None:
    # datumaro writes one XML per subset, each a task with <size>3</size> and
    # <stop_frame>3</stop_frame> (CVAT reads that as 4 frames, 0..3)
    run = convert_ok(
        "cvat", ROOT / "cvat_images" / f"{subset}.xml", tmp_path, "--src-prefix", PREFIX
    )
    jobs = run.jobs
    assert [j["reference_id"] for j in jobs] == [subset]  # images at the top: named after the file
    assert frame_ids(jobs[0]) == ["1", "2", "10"]
    assert frame_srcs(jobs[0]) == [f"{PREFIX}{k}.jpg" for k in ITEMS]
    by_frame: dict[str, dict[str, Any]] = {}
    for t in trackers(jobs[0]):
        ((fid, obj),) = t["frames"].items()  # image export: every shape on its own
        by_frame.setdefault(fid, {})[t["type"]] = (t["label"], obj)
    colour = "red" if subset == "train" else "blue"
    for i, k in enumerate(ITEMS):
        shapes = by_frame[str(k)]
        assert sorted(shapes) == ["landmark", "line", "polygon", "rectangle"]
        label, car = shapes["rectangle"]
        assert (label, _pixels(car)) == ("car", _car(subset, k))
        assert car["attributes"] == {"color": {"value": colour}}
        assert _pixels(shapes["polygon"][1]) == _person(i)
        assert _pixels(shapes["line"][1]) == LANE
        face = shapes["landmark"][1]
        assert _pixels(face) == FACE
        assert [p["label"] for p in face["points"].values()] == [1, 2]  # file order
    assert len(_meta_note(run.report)) == 1
    assert "noted" in run.stderr  # said in the summary too (the detail is in the report)


@pytest.mark.parametrize("subset", ["train", "val"])
def test_cvat_video_tracks_use_the_frames_the_file_has(subset: str, tmp_path: Path) -> None:
    template = "https://cdn.test/dm/{sequence}/{index:06d}.jpg"
    run = convert_ok(
        "cvat", ROOT / "cvat_video" / f"{subset}.xml", tmp_path, "--src-template", template
    )
    jobs = run.jobs
    assert [j["reference_id"] for j in jobs] == [subset]  # the task's <name>
    # size 3: frames 0, 1, 2, not the 4 that start_frame 0 .. stop_frame 3 would give
    assert frame_ids(jobs[0]) == ["frame_000000", "frame_000001", "frame_000002"]
    assert frame_srcs(jobs[0]) == [f"https://cdn.test/dm/{subset}/{i:06d}.jpg" for i in range(3)]
    by_label = {t["label"]: t for t in trackers(jobs[0])}
    assert sorted(by_label) == ["car", "face", "lane", "person"]  # one tracker per track
    expected_type = {"car": "rectangle", "person": "polygon", "lane": "line", "face": "landmark"}
    assert {lab: t["type"] for lab, t in by_label.items()} == expected_type
    ids = [f"frame_{i:06d}" for i in range(3)]
    for lab, t in by_label.items():
        assert list(t["frames"]) == ids, lab  # every frame of the task, none held past it
    for i, k in enumerate(ITEMS):
        fid = ids[i]
        assert _pixels(by_label["car"]["frames"][fid]) == _car(subset, k)
        assert _pixels(by_label["person"]["frames"][fid]) == _person(i)
        assert _pixels(by_label["lane"]["frames"][fid]) == LANE
        assert _pixels(by_label["face"]["frames"][fid]) == FACE
    assert len(_meta_note(run.report)) == 1
    assert "noted" in run.stderr


@pytest.mark.parametrize("subset", ["train", "val"])
def test_coco_instances_tracks_from_attributes(subset: str, tmp_path: Path) -> None:
    source = ROOT / "coco" / "annotations" / f"instances_{subset}.json"
    run = convert_ok("coco", source, tmp_path, "--src-prefix", PREFIX)
    jobs = run.jobs
    assert [j["reference_id"] for j in jobs] == [f"instances_{subset}"]
    assert frame_ids(jobs[0]) == ["1", "2", "10"]
    assert frame_srcs(jobs[0]) == [f"{PREFIX}{k}.jpg" for k in ITEMS]
    # coco_instances keeps boxes and polygons (not polylines or points); attributes.track_id
    # is the track, so the car and the person are one tracker each over the three frames
    by_label = {t["label"]: t for t in trackers(jobs[0])}
    assert sorted(by_label) == ["car", "person"]
    assert by_label["car"]["type"] == "rectangle"
    assert by_label["person"]["type"] == "polygon"
    colour = "red" if subset == "train" else "blue"
    for i, k in enumerate(ITEMS):
        car = by_label["car"]["frames"][str(k)]
        assert _pixels(car) == _car(subset, k)
        assert car["attributes"] == {"color": {"value": colour}}  # track_id is not an attribute
        assert _pixels(by_label["person"]["frames"][str(k)]) == _person(i)
    assert run.report["rows"] == []


@pytest.mark.parametrize("subset", ["train", "val"])
def test_coco_person_keypoints_without_keypoint_names(subset: str, tmp_path: Path) -> None:
    # coco_person_keypoints writes the face points as [20, 20, 2, 25, 22, 2] while the
    # category's `keypoints` list is empty (no PointsCategories declared): the points are
    # numbered 1, 2 in their order, and attributes.track_id = 4 makes them one tracker
    source = ROOT / "coco_keypoints" / "annotations" / f"person_keypoints_{subset}.json"
    jobs = convert_ok("coco", source, tmp_path, "--src-prefix", PREFIX).jobs
    assert frame_ids(jobs[0]) == ["1", "2", "10"]
    (face,) = trackers(jobs[0])
    assert (face["type"], face["label"], list(face["frames"])) == (
        "landmark",
        "face",
        ["1", "2", "10"],
    )
    for obj in face["frames"].values():
        assert _pixels(obj) == FACE
        assert [p["label"] for p in obj["points"].values()] == [1, 2]


def _boxes_by_job(jobs: list[dict]) -> dict[str, tuple[list[str], list[str], dict]]:
    out = {}
    for job in jobs:
        cars = {fid: _pixels(obj) for t in trackers(job) for fid, obj in t["frames"].items()}
        out[job["reference_id"]] = (frame_ids(job), frame_srcs(job), cars)
    return out


def test_yolo_darknet_both_subsets(tmp_path: Path) -> None:
    # datumaro's obj.data names its lists `train = data/train.txt` and `val = data/val.txt`
    # (datumaro reads every key but classes, names and backup as a subset); each list names
    # data/obj_<subset>_data/<k>.jpg. Rows "0 xc yc w h" with 6 decimals: the train car on 10
    # is "0 0.550000 0.300000 0.100000 0.400000" -> x 55 +- 5, y 15 +- 10 px
    got = _boxes_by_job(convert_ok("yolo", ROOT / "yolo", tmp_path, "--src-prefix", PREFIX).jobs)
    assert sorted(got) == ["obj_train_data", "obj_val_data"]
    for subset in ("train", "val"):
        ids, srcs, cars = got[f"obj_{subset}_data"]
        assert ids == ["1", "2", "10"]
        assert srcs == [f"{PREFIX}obj_{subset}_data/{k}.jpg" for k in ITEMS]
        assert cars == {str(k): _car(subset, k) for k in ITEMS}


def test_yolo_ultralytics_both_subsets(tmp_path: Path) -> None:
    # data.yaml: train: train.txt, val: val.txt (lists of ./images/<subset>/<k>.jpg), names a
    # mapping, no task: the rows' length (5) says boxes
    run = convert_ok("yolo", ROOT / "yolo_ultralytics", tmp_path, "--src-prefix", PREFIX)
    got = _boxes_by_job(run.jobs)
    assert sorted(got) == ["images/train", "images/val"]  # one sequence per image folder
    for subset in ("train", "val"):
        ids, srcs, cars = got[f"images/{subset}"]
        assert ids == ["1", "2", "10"]
        assert srcs == [f"{PREFIX}images/{subset}/{k}.jpg" for k in ITEMS]
        assert cars == {str(k): _car(subset, k) for k in ITEMS}
    assert "1 noted (row_schema_inferred: cls,box)" in run.stderr

"""Trackers and jobs: the payload is exactly the spec's shapes, deterministic, and valid."""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import orjson
import pytest
from hypothesis import given

import prelabel.jobs as jobs_module
from prelabel.annotations import Annotations, Frames
from prelabel.errors import InputError, PayloadError
from prelabel.geometry import prepare
from prelabel.jobs import ID_NAMESPACE, JobOptions, build_jobs, job_lines
from prelabel.report import Report
from prelabel.validate import job_problems
from tests.strategies import annotations


def _frames(n: int = 3, sequence: str = "cam") -> Frames:
    return Frames.build(
        100,
        50,
        frame_id=[f"f{i}" for i in range(n)],
        src=[f"https://x.test/{i}.jpg" for i in range(n)],
        sequence=sequence,
    )


def _trackers(job: dict) -> list[dict]:
    return job["data"]["maker_response"]["video2d"]["data"]["annotations"]


def test_rectangle_object_as_in_the_spec() -> None:
    ann, _ = prepare(Annotations.from_boxes(_frames(), [[10, 5, 30, 25]], ["Cat"], [1]))
    (job,) = build_jobs(ann, JobOptions(workflow_id="wf-1", batch_id="b-1"))
    assert job["reference_id"] == "cam"
    assert job["work_flow_id"] == "wf-1"
    assert job["batch_id"] == "b-1"
    assert [f["frame_id"] for f in job["data"]["video_data"]["frames"]] == ["f0", "f1", "f2"]
    (tracker,) = _trackers(job)
    assert tracker["type"] == "rectangle"
    assert tracker["label"] == "Cat"
    obj = tracker["frames"]["f1"]
    # 10/100 = 0.1, 30/100 = 0.3; 5/50 = 0.1, 25/50 = 0.5: TL, TR, BR, BL
    assert obj["coordinates"] == [
        {"x": 0.1, "y": 0.1},
        {"x": 0.3, "y": 0.1},
        {"x": 0.3, "y": 0.5},
        {"x": 0.1, "y": 0.5},
    ]
    assert obj["_id"] == str(uuid.uuid5(ID_NAMESPACE, "cam/s0/f1"))
    assert tracker["_id"] == str(uuid.uuid5(ID_NAMESPACE, "cam/s0"))


def test_polygon_edges_close_the_ring() -> None:
    poly = [[0, 0], [50, 0], [50, 25], [0, 25], [10, 10]]
    ann, _ = prepare(Annotations.from_polygons(_frames(), [poly], ["face"], [0]))
    obj = _trackers(build_jobs(ann)[0])[0]["frames"]["f0"]
    assert list(obj["points"]) == ["p1", "p2", "p3", "p4", "p5"]
    assert obj["edges"] == {
        "e1": ["p1", "p2"],
        "e2": ["p2", "p3"],
        "e3": ["p3", "p4"],
        "e4": ["p4", "p5"],
        "e5": ["p5", "p1"],
    }


def test_cuboid_faces_landmark_labels_line_points_attributes() -> None:
    f = _frames()
    ann = (
        Annotations.from_cuboids(
            f,
            np.arange(1, 17).reshape(1, 8, 2),
            ["Car"],
            [0],
            attributes=[{"faces_visible": ["right", "back"]}],
        )
        + Annotations.from_landmarks(
            f, [[[10, 10], [20, 20]]], ["nose"], [0], point_labels=[[4, 7]]
        )
        + Annotations.from_lines(
            f, [[[0, 0], [100, 50]]], ["lane"], [0], attributes=[{"raised": "Yes"}]
        )
    )
    ann, _ = prepare(ann)
    cub, land, line = _trackers(build_jobs(ann)[0])
    c = cub["frames"]["f0"]
    assert c["front"] == {"coordinates": ["p1", "p2", "p3", "p4"]}
    assert c["side"] == {"coordinates": ["p2", "p3", "p5", "p6"]}
    assert c["back"] == {"coordinates": ["p7", "p8", "p5", "p6"]}
    assert c["attributes"] == {"faces_visible": {"value": ["right", "back"]}}
    assert c["points"]["p8"] == {"x": 0.15, "y": 16 / 50}
    assert land["frames"]["f0"]["points"] == {
        "p1": {"x": 0.1, "y": 0.2, "label": 4},
        "p2": {"x": 0.2, "y": 0.4, "label": 7},
    }
    assert line["frames"]["f0"]["points"] == {
        "p1": {"x": 0.0, "y": 0.0},
        "p2": {"x": 1.0, "y": 1.0},
    }
    assert line["frames"]["f0"]["attributes"] == {"raised": {"value": "Yes"}}


def test_a_track_is_one_tracker_across_frames() -> None:
    f = _frames()
    ann, _ = prepare(
        Annotations.from_boxes(
            f,
            [[0, 0, 10, 10], [5, 5, 15, 15], [1, 1, 2, 2]],
            ["c", "c", "c"],
            [2, 0, 1],
            track=[9, 9, -1],
        )
    )
    trackers = _trackers(build_jobs(ann)[0])
    assert [list(t["frames"]) for t in trackers] == [["f0", "f2"], ["f1"]]


def test_frames_per_job_splits_frames_and_trackers() -> None:
    f = _frames(5)
    ann, _ = prepare(
        Annotations.from_boxes(
            f, np.tile([0, 0, 10, 10], (5, 1)), ["c"] * 5, np.arange(5), track=[1] * 5
        )
    )
    jobs = build_jobs(ann, JobOptions(frames_per_job=2))
    assert [j["reference_id"] for j in jobs] == ["cam-001", "cam-002", "cam-003"]
    assert [[list(t["frames"]) for t in _trackers(j)] for j in jobs] == [
        [["f0", "f1"]],
        [["f2", "f3"]],
        [["f4"]],
    ]


def test_reference_ids_must_be_unique_and_frames_complete() -> None:
    f = Frames.concat([_frames(1, "a"), _frames(1, "b")])
    ann, _ = prepare(Annotations.empty(f))
    with pytest.raises(PayloadError, match="would name 2 jobs"):
        build_jobs(ann, JobOptions(reference_id="same"))
    no_src = Frames.build(10, 10, frame_id=["x"], src=[""])
    with pytest.raises(PayloadError, match="has no src"):
        build_jobs(prepare(Annotations.empty(no_src))[0])


def test_output_is_canonical_json() -> None:
    """The byte templates write what orjson would write for the same dicts."""
    f = _frames()
    ann, _ = prepare(
        Annotations.from_polygons(
            f, [[[0, 0], [33, 0], [33, 17]]], ['lab"el\\'], [0], attributes=[{"k": 1.5}]
        )
        + Annotations.from_landmarks(f, [[[1e-3, 7]]], ["ü"], [2], track=[3])
    )
    for line in job_lines(ann):
        assert orjson.dumps(orjson.loads(line)) == line


def _shape_count(job: dict) -> int:
    return sum(len(t["frames"]) for t in _trackers(job))


@given(annotations())
def test_every_shape_once_in_trackers_or_report(ann: Annotations) -> None:
    # tag each input shape with its row, then find every tag in the payload or the report
    tagged = replace(ann, attributes=np.array([{"row": i} for i in range(len(ann))] + [None])[:-1])
    out, report = prepare(tagged, "repair")
    seen = [
        obj["attributes"]["row"]["value"]
        for job in build_jobs(out)
        for tracker in _trackers(job)
        for obj in tracker["frames"].values()
    ]
    dropped = [r["shape"] for r in report.rows if r["action"] == "dropped"]
    assert sorted(seen + dropped) == list(range(len(ann)))


@given(annotations())
def test_every_built_payload_validates(ann: Annotations) -> None:
    out, _ = prepare(ann, "repair")
    for job in build_jobs(out):
        assert job_problems(job) == []


@given(annotations())
def test_same_input_same_bytes(ann: Annotations) -> None:
    first = list(job_lines(prepare(ann, "repair", Report())[0]))
    second = list(job_lines(prepare(ann, "repair", Report())[0]))
    assert first == second


def test_block_edges_do_not_change_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs are formatted in blocks of shapes; trackers that span blocks get their header in
    the block of their first shape and their closing in the block of their last."""
    n = 300
    f = _frames(40)
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 40, (n, 2))
    ann, _ = prepare(
        Annotations.from_boxes(
            f, np.hstack([xy, xy + 5]), ["c"] * n, rng.integers(0, 40, n),
            track=np.where(rng.uniform(size=n) < 0.5, rng.integers(0, 5, n), -1),
        )
    )  # fmt: skip
    whole = list(job_lines(ann, JobOptions(frames_per_job=25)))
    monkeypatch.setattr(jobs_module, "_BLOCK", 7)
    assert list(job_lines(ann, JobOptions(frames_per_job=25))) == whole
    assert any(len(t["frames"]) > 7 for t in _trackers(orjson.loads(whole[0])))


def test_attribute_values_from_numpy_and_unserialisable_ones() -> None:
    f = _frames()
    ok = Annotations.from_boxes(
        f, [[0, 0, 10, 10]], ["c"], [0], attributes=[{"conf": np.float32(0.5), "n": np.int64(3)}]
    )
    obj = _trackers(build_jobs(prepare(ok)[0])[0])[0]["frames"]["f0"]
    assert obj["attributes"] == {"conf": {"value": 0.5}, "n": {"value": 3}}
    bad = Annotations.from_boxes(f, [[0, 0, 10, 10]], ["c"], [0], attributes=[{"when": object()}])
    with pytest.raises(PayloadError, match=r"attributes \['when'\]"):
        build_jobs(prepare(bad)[0])


# --- frame ids: one per frame of a job ------------------------------------------------------
def _named(names: list[str], ids: list[str], sequence: list[str] | str = "cam") -> Annotations:
    f = Frames.build(
        10, 10, frame_id=ids, src=["s3://b/x"] * len(ids), name=names, sequence=sequence
    )
    return prepare(Annotations.empty(f))[0]


def test_same_stem_twice_in_a_job_names_both_images_and_a_template() -> None:
    # FiftyOne exports x.jpg and x.png side by side; {stem} gives both "x"
    ann = _named(["a.jpg", "x.jpg", "x.png"], ["a", "x", "x"])
    with pytest.raises(InputError) as err:
        build_jobs(ann)
    msg = str(err.value)
    assert "'x.jpg' and 'x.png'" in msg
    assert "frame_id 'x'" in msg
    assert "job 'cam'" in msg
    assert "frame_id='{name}'" in msg


def test_the_same_frame_id_in_different_jobs_is_fine() -> None:
    # job 1 with frame "0x" and job 10 with frame "x": joined without a separator both
    # read "10x", the false duplicate of a COCO with folders a01/0x.jpg and a10/x.jpg
    seqs = [f"a{k:02d}" for k in range(11)]
    ids = ["0x" if k == 1 else "x" for k in range(11)]
    jobs = build_jobs(_named([f"{s}/{i}.jpg" for s, i in zip(seqs, ids, strict=True)], ids, seqs))
    assert [j["reference_id"] for j in jobs] == seqs
    assert [j["data"]["video_data"]["frames"][0]["frame_id"] for j in jobs] == ids


def test_frame_ids_are_compared_whole() -> None:
    # numpy's fixed-width text drops trailing NULs: "x" and "x\0" must still be two codes
    codes = jobs_module._frame_id_codes(np.array(["x", "x\x00", "x"], dtype=object))
    assert codes[0] == codes[2] != codes[1]


def test_frame_ids_with_control_characters_are_refused() -> None:
    # a file name with a newline gives, by {stem}, a frame_id the schema refuses
    ann = _named(["a.jpg", "b\nc.jpg"], ["a", "b\nc"])
    with pytest.raises(InputError) as err:
        build_jobs(ann)
    msg = str(err.value)
    assert "'b\\nc.jpg'" in msg
    assert "U+000A at 1" in msg
    assert "frame_{index:06d}" in msg


def test_reference_and_batch_ids_with_control_characters_are_refused() -> None:
    ann = _named(["a.jpg"], ["a"], sequence="cam\x1b")
    with pytest.raises(
        InputError, match=r"reference_id 'cam\\x1b' contains a control character \(U\+001B at 3\)"
    ):
        build_jobs(ann)
    ok = _named(["a.jpg"], ["a"])
    with pytest.raises(InputError, match=r"^batch_id='b\\x00' contains"):
        build_jobs(ok, JobOptions(batch_id="b\x00"))


def test_collision_of_unnamed_frames_suggests_the_index() -> None:
    ann = _named(["", ""], ["f", "f"])
    with pytest.raises(InputError, match=r"#0 of 'cam' and #1 of 'cam'.*frame_\{index:06d\}"):
        build_jobs(ann)


def test_collision_without_a_fitting_template_says_so() -> None:
    f = Frames.build(10, 10, frame_id=["f", "f"], src=["s3://b/x"] * 2, name=["", ""], index=[3, 3])
    with pytest.raises(
        InputError, match="make them unique with a frame_id= template or a frames_file= file"
    ):
        build_jobs(prepare(Annotations.empty(f))[0])


def test_a_collision_is_only_within_a_chunk() -> None:
    # frames_per_job=1: the two "x" frames are in jobs cam-001 and cam-002
    jobs = build_jobs(_named(["x.jpg", "x.png"], ["x", "x"]), JobOptions(frames_per_job=1))
    assert [j["reference_id"] for j in jobs] == ["cam-001", "cam-002"]

"""compare: hand-made jobs whose every number is worked out in a comment."""

from __future__ import annotations

import importlib
import json
import math
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import prelabel
from prelabel.annotations import Annotations, Frames, Kind
from prelabel.cli import main
from prelabel.compare import (
    FIELDS,
    CompareOptions,
    box_iou,
    compare_annotations,
    compare_jobs,
    format_table,
    object_keys,
    shape_keys,
)


@st.composite
def _jobs(draw: Any, max_shapes: int = 10) -> Annotations:
    """Normalised shapes of every kind on up to 3 frames, degenerate ones included (a
    polygon of 1 or 2 points, a line of 1); labels and tracks from small pools so that
    shapes meet."""
    frames = _frames(draw(st.integers(1, 3)))
    n = draw(st.integers(0, max_shapes))
    coord = st.floats(0, 1, allow_nan=False, allow_subnormal=False)
    parts = []
    for _ in range(n):
        kind = draw(st.sampled_from(list(Kind)))
        count = {Kind.RECTANGLE: 2, Kind.CUBOID: 8}.get(kind) or draw(st.integers(1, 6))
        pts = np.array(draw(st.lists(st.tuples(coord, coord), min_size=count, max_size=count)))
        f = draw(st.integers(0, len(frames) - 1))
        kw: dict[str, Any] = {
            "track": [draw(st.sampled_from([-1, 0, 1]))],
            "attributes": [draw(st.sampled_from([None, {"a": 1}, {"a": 2}]))],
            "normalized": True,
        }
        label = [draw(st.sampled_from(["car", "dog"]))]
        if kind == Kind.RECTANGLE:
            box = [*pts.min(axis=0), *pts.max(axis=0)]
            parts.append(Annotations.from_boxes(frames, [box], label, [f], **kw))
        else:
            parts.append(Annotations.from_point_lists(frames, kind, [pts], label, [f], **kw))
    if not parts:
        return Annotations.empty(frames).with_points(np.zeros((0, 2)), normalised=True)
    return Annotations.concat(parts)


def _frames(n: int = 2) -> Frames:
    ids = [f"f{i + 1}" for i in range(n)]
    return Frames.build(1, 1, frame_id=ids, src=[f"s3://b/{i}.jpg" for i in ids])


def _boxes(
    frames: Frames, xyxy: list[list[float]], labels: list[str], frame: list[int], **kw: Any
) -> Annotations:
    return Annotations.from_boxes(frames, xyxy, labels, frame, normalized=True, **kw)


def _total(job: Any) -> dict[str, Any]:
    total: dict[str, Any] = job.table.total()
    return total


# --- the lifecycle of each pre-label ----------------------------------------------------
def test_kept_moved_relabelled_deleted_added_without_ids() -> None:
    fr = _frames()
    pre = _boxes(
        fr,
        [
            [0.0, 0.0, 0.2, 0.2],  # car: kept exactly
            [0.5, 0.5, 0.7, 0.7],  # car: nudged 0.02 right
            [0.1, 0.6, 0.3, 0.8],  # person: same box, relabelled car
            [0.0, 0.0, 0.1, 0.1],  # dog on f2: deleted
            [0.4, 0.0, 0.6, 0.2],  # car on f2: moved 0.05 right
        ],
        ["car", "car", "person", "dog", "car"],
        [0, 0, 0, 1, 1],
    )
    fin = _boxes(
        fr,
        [
            [0.0, 0.0, 0.2, 0.2],
            [0.52, 0.5, 0.72, 0.7],
            [0.1, 0.6, 0.3, 0.8],
            [0.8, 0.8, 0.9, 0.9],  # dog on f2: added where the model had nothing
            [0.45, 0.0, 0.65, 0.2],
        ],
        ["car", "car", "car", "dog", "car"],
        [0, 0, 0, 1, 1],
    )
    job = compare_annotations(pre, fin)
    t = _total(job)
    assert (t["prelabelled"], t["final"]) == (5, 5)
    assert t["unchanged"] == 1
    # nudged 0.02: intersection 0.18 x 0.2 = 0.036, union 0.04 + 0.04 - 0.036 = 0.044
    # -> 0.8182; moved 0.05: 0.15 x 0.2 = 0.03 / (0.08 - 0.03) = 0.6
    assert t["moved"] == 2
    assert t["moved_similarity"]["mean"] == pytest.approx((0.036 / 0.044 + 0.6) / 2)
    assert t["moved_similarity"]["min"] == pytest.approx(0.6)
    assert (t["relabelled"], t["deleted"], t["added"]) == (1, 1, 1)
    # from pre-labels: 4 of the 5 final shapes (all but the added dog)
    assert t["from_prelabels"] == 4
    assert t["from_prelabels_share"] == pytest.approx(4 / 5)
    # at 0.5 (same label): kept car, 0.818 car, 0.6 car = 3 true positives of 5 / 5
    # at 0.75: the 0.6 one drops out -> 2 of 5
    assert t["precision"] == {"0.5": pytest.approx(3 / 5), "0.75": pytest.approx(2 / 5)}
    assert t["recall"] == {"0.5": pytest.approx(3 / 5), "0.75": pytest.approx(2 / 5)}
    assert (t["matched_by_id"], t["matched_by_geometry"]) == (0, 4)
    labels = job.table.to_dict()
    # car: 3 pre-labels (kept, moved, moved), 4 final (+ the relabelled person)
    assert (labels["car"]["prelabelled"], labels["car"]["final"]) == (3, 4)
    assert labels["car"]["precision"]["0.5"] == pytest.approx(3 / 3)
    assert labels["car"]["recall"]["0.5"] == pytest.approx(3 / 4)
    # person: its one pre-label was relabelled; no final person: recall undefined
    assert labels["person"]["relabelled"] == 1
    assert labels["person"]["recall"]["0.5"] is None
    assert labels["dog"]["deleted"] == 1
    assert labels["dog"]["added"] == 1
    assert job.relabels == {("person", "car"): 1}


def test_counts_add_up_per_label() -> None:
    fr = _frames()
    pre = _boxes(fr, [[0, 0, 0.2, 0.2], [0.5, 0.5, 0.6, 0.6]], ["a", "b"], [0, 1])
    fin = _boxes(fr, [[0, 0, 0.2, 0.2]], ["b"], [0])
    d = compare_annotations(pre, fin).table.to_dict()
    # a: relabelled to b; b's pre-label on f2 deleted
    assert d["a"]["relabelled"] == 1
    assert d["b"]["deleted"] == 1
    assert d["b"]["from_prelabels"] == 1


def test_attributes_changed_is_not_unchanged() -> None:
    fr = _frames(1)
    pre = _boxes(
        fr, [[0, 0, 0.2, 0.2]] * 2, ["car", "car"], [0, 0], attributes=[{"occluded": "no"}, None]
    )
    pre = pre.with_points(pre.points + np.repeat([[0, 0], [0.5, 0]], 4, axis=0))
    fin = replace(pre, attributes=np.array([{"occluded": "yes"}, {}], dtype=object))
    t = _total(compare_annotations(pre, fin))
    # first: same box, other attribute value; second: None and {} are the same (no attributes)
    assert (t["attributes_changed"], t["unchanged"], t["moved"]) == (1, 1, 0)


def test_unchanged_within_the_tolerance() -> None:
    fr = _frames(1)
    pre = _boxes(fr, [[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.7, 0.7]], ["car"] * 2, [0, 0])
    # 5e-5 is within the default 1e-4; 2e-4 is not
    fin = _boxes(
        fr, [[0.10005, 0.1, 0.30005, 0.3], [0.5002, 0.5, 0.7002, 0.7]], ["car"] * 2, [0, 0]
    )
    t = _total(compare_annotations(pre, fin))
    assert (t["unchanged"], t["moved"]) == (1, 1)
    t = _total(compare_annotations(pre, fin, options=CompareOptions(tolerance=1e-3)))
    assert (t["unchanged"], t["moved"]) == (2, 0)


# --- matching by _id, and by IoU when the _ids are gone ---------------------------------
def test_matching_by_id_then_by_iou_when_ids_are_gone() -> None:
    fr = _frames(1)
    pre = _boxes(
        fr, [[0.0, 0.0, 0.2, 0.2], [0.5, 0.5, 0.7, 0.7]], ["car", "car"], [0, 0], track=[0, 1]
    )
    # the first box dragged 0.15 right (IoU 0.05 x 0.2 = 0.01 / (0.08 - 0.01) = 1/7) and
    # relabelled truck; the second nudged 0.02
    fin = _boxes(
        fr, [[0.15, 0.0, 0.35, 0.2], [0.52, 0.5, 0.72, 0.7]], ["truck", "car"], [0, 0], track=[0, 1]
    )
    keys = shape_keys(pre, ["t-a", "t-b"])
    assert keys.tolist() == ["t-a/f1", "t-b/f1"]

    kept = compare_annotations(
        pre, fin, prelabel_keys=keys, final_keys=shape_keys(fin, ["t-a", "t-b"])
    )
    t = _total(kept)
    # both matched by their _id: one relabelled (whatever its IoU), one moved
    assert (t["matched_by_id"], t["matched_by_geometry"]) == (2, 0)
    assert (t["relabelled"], t["moved"], t["deleted"], t["added"]) == (1, 1, 0, 0)
    assert kept.relabels == {("car", "truck"): 1}

    # the platform gave new _ids: the nudged box matches by IoU (0.818 >= 0.5); the dragged
    # one is 1/7 from anything: a car deleted and a truck added
    gone = compare_annotations(
        pre, fin, prelabel_keys=keys, final_keys=shape_keys(fin, ["n-1", "n-2"])
    )
    t = _total(gone)
    assert (t["matched_by_id"], t["matched_by_geometry"]) == (0, 1)
    assert (t["relabelled"], t["moved"], t["deleted"], t["added"]) == (0, 1, 1, 1)


def test_relabel_found_by_iou_without_ids() -> None:
    fr = _frames(1)
    pre = _boxes(fr, [[0.0, 0.0, 0.2, 0.2]], ["car"], [0])
    fin = _boxes(fr, [[0.02, 0.0, 0.22, 0.2]], ["truck"], [0])
    t = _total(compare_annotations(pre, fin))
    # pass 2 (same label) has no candidate; pass 3 (any label) matches at 0.818
    assert (t["relabelled"], t["deleted"], t["added"]) == (1, 0, 0)
    # precision is by label: the model's car is no truck
    assert t["precision"]["0.5"] == 0.0


def test_hungarian_finds_the_assignment_a_greedy_match_misses() -> None:
    fr = _frames(1)
    # along x, same y: p1 [0, 10] / 10 and p2 [-2, 7] against f1 [0, 9] and f2 [2, 10]
    # p1-f1 9/10 = 0.9, p1-f2 8/10 = 0.8, p2-f1 7/11 = 0.636, p2-f2 5/12 = 0.417 (< 0.5)
    # greedy takes p1-f1 (0.9) and leaves p2 alone; the best sum is p1-f2 + p2-f1 = 1.436
    s = 0.05
    pre = _boxes(
        fr, [[0.3, 0, 0.3 + 10 * s, 0.1], [0.3 - 2 * s, 0, 0.3 + 7 * s, 0.1]], ["car"] * 2, [0, 0]
    )
    fin = _boxes(
        fr, [[0.3, 0, 0.3 + 9 * s, 0.1], [0.3 + 2 * s, 0, 0.3 + 10 * s, 0.1]], ["car"] * 2, [0, 0]
    )
    t = _total(compare_annotations(pre, fin))
    assert t["precision"]["0.5"] == 1.0
    assert t["moved"] == 2
    assert t["moved_similarity"]["mean"] == pytest.approx((0.8 + 7 / 11) / 2)


def test_shapes_on_other_frames_never_match() -> None:
    fr = _frames(2)
    pre = _boxes(fr, [[0, 0, 0.2, 0.2]], ["car"], [0])
    fin = _boxes(fr, [[0, 0, 0.2, 0.2]], ["car"], [1])
    t = _total(compare_annotations(pre, fin))
    assert (t["deleted"], t["added"], t["unchanged"]) == (1, 1, 0)


def test_frames_matched_by_frame_id_not_row() -> None:
    pre_frames = Frames.build(1, 1, frame_id=["a", "b"], src=["s3://x/a", "s3://x/b"])
    fin_frames = Frames.build(1, 1, frame_id=["b", "a"], src=["s3://x/b", "s3://x/a"])
    pre = _boxes(pre_frames, [[0, 0, 0.2, 0.2]], ["car"], [1])  # on frame "b"
    fin = _boxes(fin_frames, [[0, 0, 0.2, 0.2]], ["car"], [0])  # on frame "b" too
    assert _total(compare_annotations(pre, fin))["unchanged"] == 1


# --- similarity per shape type ----------------------------------------------------------
def test_polygon_iou_with_shapely() -> None:
    fr = _frames(1)
    square = np.array([[0, 0], [0.2, 0], [0.2, 0.2], [0, 0.2]])
    pre = Annotations.from_polygons(fr, [square], ["lake"], [0], normalized=True)
    fin = Annotations.from_polygons(fr, [square + [0.05, 0]], ["lake"], [0], normalized=True)
    t = _total(compare_annotations(pre, fin))
    # 0.15 x 0.2 = 0.03 shared, 0.08 - 0.03 = 0.05 together -> 0.6: moved, P@0.5 but not 0.75
    assert t["moved_similarity"]["mean"] == pytest.approx(0.6)
    assert t["precision"] == {"0.5": 1.0, "0.75": 0.0}


def test_self_intersecting_final_polygon_is_compared_made_valid() -> None:
    fr = _frames(1)
    square = np.array([[0, 0], [0.2, 0], [0.2, 0.2], [0, 0.2]])
    bowtie = np.array([[0, 0], [0.2, 0.2], [0.2, 0], [0, 0.2]])
    pre = Annotations.from_polygons(fr, [square], ["lake"], [0], normalized=True)
    fin = Annotations.from_polygons(fr, [bowtie], ["lake"], [0], normalized=True)
    job = compare_annotations(pre, fin)
    # the bow tie made valid is two triangles of 0.01 each, inside the square: 0.02 / 0.04
    assert job.polygons_made_valid == 1
    assert _total(job)["moved_similarity"]["mean"] == pytest.approx(0.5)


def test_line_similarity_is_buffered_iou_with_flat_ends() -> None:
    fr = _frames(1)
    line = np.array([[0.1, 0.5], [0.5, 0.5]])
    pre = Annotations.from_lines(fr, [line, line + [0, 0.2]], ["lane"] * 2, [0, 0], normalized=True)
    fin = Annotations.from_lines(
        fr, [line + [0, 0.004], line + [0, 0.21]], ["lane"] * 2, [0, 0], normalized=True
    )
    t = _total(compare_annotations(pre, fin))
    # buffered by r = 0.01 each side: bands 0.02 high, shifted d: IoU (2r - d) / (2r + d)
    # d = 0.004: 0.016 / 0.024 = 2/3; d = 0.01: 0.01 / 0.03 = 1/3 (< 0.5: deleted + added)
    assert t["moved"] == 1
    assert t["moved_similarity"]["mean"] == pytest.approx(2 / 3)
    assert (t["deleted"], t["added"]) == (1, 1)


def test_landmark_similarity_is_oks_like() -> None:
    fr = _frames(1)
    pre = Annotations.from_landmarks(
        fr, [np.array([[0.1, 0.1], [0.3, 0.3]])], ["face"], [0], normalized=True
    )
    fin = Annotations.from_landmarks(
        fr, [np.array([[0.1, 0.1], [0.3, 0.32]])], ["face"], [0], normalized=True
    )
    t = _total(compare_annotations(pre, fin))
    # box around both sets 0.2 x 0.22 = 0.044 = s²; point 2 moved d² = 0.02² = 0.0004;
    # exp(-0.0004 / (2 * 0.044 * 0.1²)) = exp(-0.4545); point 1 scores 1; mean of the two
    expected = (1 + math.exp(-0.0004 / (2 * 0.044 * 0.01))) / 2
    assert t["moved_similarity"]["mean"] == pytest.approx(expected)


def test_landmark_point_missing_on_one_side_scores_zero() -> None:
    fr = _frames(1)
    pre = Annotations.from_landmarks(
        fr, [np.array([[0.1, 0.1], [0.3, 0.3]])], ["face"], [0], normalized=True
    )
    fin = Annotations.from_landmarks(fr, [np.array([[0.1, 0.1]])], ["face"], [0], normalized=True)
    t = _total(compare_annotations(pre, fin))
    # point 1 exact (1), point 2 gone (0): 2 distinct point labels -> 0.5
    assert t["moved_similarity"]["mean"] == pytest.approx(0.5)


def test_cuboid_similarity_is_its_front_face_box() -> None:
    fr = _frames(1)
    front = np.array([[0.1, 0.3], [0.3, 0.3], [0.3, 0.1], [0.1, 0.1]])
    back = front + [0.05, -0.05]
    pre = Annotations.from_cuboids(fr, [np.vstack([front, back])], ["box"], [0], normalized=True)
    # back face moved 0.1, front face 0.02 right: front boxes 0.18 x 0.2 / (0.08 - 0.036)
    fin = Annotations.from_cuboids(
        fr, [np.vstack([front + [0.02, 0], back + [0.1, 0]])], ["box"], [0], normalized=True
    )
    t = _total(compare_annotations(pre, fin))
    assert t["moved_similarity"]["mean"] == pytest.approx(0.036 / 0.044)


def test_box_iou_rows() -> None:
    a = np.array([[0, 0, 2, 2], [0, 0, 1, 1], [0, 0, 0, 0]], float)
    b = np.array([[1, 1, 3, 3], [2, 2, 3, 3], [0, 0, 0, 0]], float)
    # 1 / (4 + 4 - 1); disjoint; two empty boxes share nothing
    assert box_iou(a, b).tolist() == pytest.approx([1 / 7, 0, 0])


# --- tracks -----------------------------------------------------------------------------
def test_split_merge_and_id_switch() -> None:
    fr = _frames(4)
    box = [0.1, 0.1, 0.3, 0.3]
    other = [0.6, 0.6, 0.8, 0.8]
    # pre: tracker 0 = the left box on f1..f4, tracker 1 = the right box on f1..f4
    pre = _boxes(
        fr, [box] * 4 + [other] * 4, ["car"] * 8, [0, 1, 2, 3] * 2, track=[0] * 4 + [1] * 4
    )
    # final: the annotator cut tracker 0 after f2 (f3, f4 became tracker 7) and put the
    # right box of f3, f4 into tracker 5, which holds the left box of f1, f2
    fin = _boxes(
        fr,
        [box] * 4 + [other] * 4,
        ["car"] * 8,
        [0, 1, 2, 3] * 2,
        track=[5, 5, 7, 7, 6, 6, 5, 5],
    )
    tr = compare_annotations(pre, fin).tracks
    # pre 0 -> final 5 and 7: split; pre 1 -> final 6 and 5: split as well
    assert tr.split == 2
    # final 5 holds pre 0 (f1, f2) and pre 1 (f3, f4): merged
    assert tr.merged == 1
    # along final 5: pre 0, pre 0, pre 1, pre 1 -> one switch; 6 and 7 hold one pre each
    assert tr.id_switches == 1
    assert (tr.prelabel_trackers, tr.final_trackers) == (2, 3)


def test_untracked_shapes_count_for_no_tracker() -> None:
    fr = _frames(1)
    pre = _boxes(fr, [[0, 0, 0.2, 0.2]], ["car"], [0])
    tr = compare_annotations(pre, pre).tracks
    assert tr.as_tuple() == (0, 0, 0, 0, 0)


# --- many jobs, the table, invariants ---------------------------------------------------
def test_report_totals_over_jobs() -> None:
    fr = _frames(1)
    a = _boxes(fr, [[0, 0, 0.2, 0.2]], ["car"], [0])
    b = _boxes(fr, [[0.5, 0.5, 0.7, 0.7]], ["dog"], [0])
    report = compare_jobs(
        [("j1", a, None, a, None), ("j2", b, None, a, None)], missing_results=["j3"]
    )
    d = report.to_dict()
    # j1: 1 unchanged car; j2: dog deleted, car added
    assert d["total"]["unchanged"] == 1
    assert (d["total"]["deleted"], d["total"]["added"]) == (1, 1)
    assert d["labels"]["car"]["final"] == 2
    assert [j["reference_id"] for j in d["jobs"]] == ["j1", "j2"]
    assert d["missing_results"] == ["j3"]
    text = format_table(report)
    assert "j2" in text
    assert "1 job(s) without a result" in text
    assert "j2" not in format_table(report, per_job=False)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="match_iou"):
        CompareOptions(match_iou=0)
    with pytest.raises(ValueError, match="thresholds"):
        CompareOptions(thresholds=(0.5, 1.5))


@given(st.data())
def test_every_shape_is_accounted_for(data: st.DataObject) -> None:
    # the two sides may have different frame tables: frames are matched by frame_id
    pre = data.draw(_jobs())
    fin = data.draw(_jobs())
    job = compare_annotations(pre, fin)
    c = job.table.counts
    f = {name: c[:, i] for i, name in enumerate(FIELDS)}
    # every pre-label is unchanged, moved, attributes-changed, relabelled or deleted
    parts = f["unchanged"] + f["moved"] + f["attributes_changed"] + f["relabelled"] + f["deleted"]
    assert (parts == f["prelabelled"]).all()
    # every final shape came from a pre-label or was added
    assert (f["from_prelabels"] + f["added"] == f["final"]).all()
    assert int(f["prelabelled"].sum()) == len(pre)
    assert int(f["final"].sum()) == len(fin)


@given(st.data())
def test_a_job_compared_with_itself_is_unchanged(data: st.DataObject) -> None:
    ann = data.draw(_jobs())
    keys = np.array([f"s{i}" for i in range(len(ann))], dtype=object)
    t = compare_annotations(ann, ann, prelabel_keys=keys, final_keys=keys).table.total()
    assert t["unchanged"] == len(ann)
    assert t["matched_by_id"] == len(ann)


def test_kinds_never_match_each_other() -> None:
    fr = _frames(1)
    box = _boxes(fr, [[0, 0, 0.2, 0.2]], ["x"], [0])
    poly = Annotations.from_polygons(
        fr, [np.array([[0, 0], [0.2, 0], [0.2, 0.2], [0, 0.2]])], ["x"], [0], normalized=True
    )
    t = _total(compare_annotations(box, poly))
    assert (t["deleted"], t["added"]) == (1, 1)
    assert Kind.RECTANGLE != Kind.POLYGON


# --- files and the command line ---------------------------------------------------------
FIXTURES = Path(__file__).parent.parent / "fixtures" / "results"


def _object_ids(trackers: list[dict[str, Any]]) -> set[str]:
    return {obj["_id"] for t in trackers for obj in t["frames"].values()}


def _count_shapes(trackers: list[dict[str, Any]]) -> int:
    return sum(len(t["frames"]) for t in trackers)


def _sent_and_finished() -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    sent = {}
    for line in (FIXTURES / "prelabels.jsonl").read_text().splitlines():
        job = json.loads(line)
        sent[job["reference_id"]] = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
    finished = {
        ref: json.loads((FIXTURES / f"{ref}.json").read_text())["data"]["annotation_data"][
            "annotations"
        ]
        for ref in sent
    }
    return sent, finished


def test_sandbox_results_match_by_the_ids_the_annotator_kept() -> None:
    sent, finished = _sent_and_finished()
    report = prelabel.compare(FIXTURES / "prelabels.jsonl", FIXTURES)
    assert [j.reference_id for j in report.jobs] == sorted(sent, key=str)
    for job in report.jobs:
        t = job.table.total()
        ref = job.reference_id
        # the counts of the files themselves, walked here with json
        assert t["prelabelled"] == _count_shapes(sent[ref])
        assert t["final"] == _count_shapes(finished[ref])
        # the annotator keeps the _id of every shape it keeps: one match per common _id
        assert t["matched_by_id"] == len(_object_ids(sent[ref]) & _object_ids(finished[ref]))
        assert t["matched_by_geometry"] == 0


def test_ids_gone_falls_back_to_geometry(tmp_path: Path) -> None:
    _, finished = _sent_and_finished()
    doc = json.loads((FIXTURES / "street.json").read_text())
    for i, tracker in enumerate(doc["data"]["annotation_data"]["annotations"]):
        tracker["_id"] = f"new-{i}"
        for j, obj in enumerate(tracker["frames"].values()):
            obj["_id"] = f"new-{i}-{j}"
    (tmp_path / "street.json").write_text(json.dumps(doc))
    with_ids = prelabel.compare(FIXTURES / "prelabels.jsonl", FIXTURES / "street.json")
    without = prelabel.compare(FIXTURES / "prelabels.jsonl", tmp_path / "street.json")
    a, b = with_ids.table.total(), without.table.total()
    assert b["matched_by_id"] == 0
    # the annotator nudges by at most 3 px and relabels whole trackers: every shape it kept
    # is found again by geometry (the nudges keep IoU well above 0.5 on these boxes)
    assert b["matched_by_geometry"] == a["matched_by_id"]
    assert (b["deleted"], b["added"]) == (a["deleted"], a["added"])
    assert without.missing_results == ["drive-07"]


def test_tracker_ids_match_when_object_ids_are_gone(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "street.json").read_text())
    for tracker in doc["data"]["annotation_data"]["annotations"]:
        for obj in tracker["frames"].values():
            del obj["_id"]  # the platform kept the trackers' _ids only
    (tmp_path / "street.json").write_text(json.dumps(doc))
    with_ids = prelabel.compare(FIXTURES / "prelabels.jsonl", FIXTURES / "street.json")
    trackers_only = prelabel.compare(FIXTURES / "prelabels.jsonl", tmp_path / "street.json")
    # every shape matched by its object _id is matched again by (tracker _id, frame_id)
    a, b = with_ids.table.total(), trackers_only.table.total()
    assert b["matched_by_id"] == a["matched_by_id"] > 0
    # the same matches: the same counts (the similarities summed in another order)
    sa, sb = a.pop("moved_similarity"), b.pop("moved_similarity")
    assert b == a
    assert sb["mean"] == pytest.approx(sa["mean"])


def test_key_tiers_object_id_first_then_tracker_and_frame() -> None:
    fr = _frames(1)
    pre = _boxes(fr, [[0, 0, 0.2, 0.2], [0.5, 0.5, 0.7, 0.7]], ["car"] * 2, [0, 0], track=[0, 1])
    # both dragged far (IoU 0): only keys can match them
    fin = _boxes(
        fr, [[0.3, 0, 0.45, 0.2], [0.8, 0.5, 0.95, 0.7]], ["car"] * 2, [0, 0], track=[0, 1]
    )
    # the first keeps its object _id ("o1"); the second lost it but kept its tracker ("t2")
    pre_keys = (object_keys(["o1", "o2"]), shape_keys(pre, ["t1", "t2"]))
    fin_keys = (object_keys(["o1", ""]), shape_keys(fin, ["x", "t2"]))
    t = _total(compare_annotations(pre, fin, prelabel_keys=pre_keys, final_keys=fin_keys))
    assert (t["matched_by_id"], t["moved"], t["deleted"], t["added"]) == (2, 2, 0, 0)
    # with the object tier alone, the second is a deletion and an addition
    t = _total(compare_annotations(pre, fin, prelabel_keys=pre_keys[0], final_keys=fin_keys[0]))
    assert (t["matched_by_id"], t["deleted"], t["added"]) == (1, 1, 1)


def test_percent_encoded_result_name_and_unknown_results(tmp_path: Path) -> None:
    line = (FIXTURES / "prelabels.jsonl").read_text().splitlines()[0]
    job = json.loads(line)
    job["reference_id"] = "drive 07/a"
    (tmp_path / "pre.jsonl").write_text(json.dumps(job) + "\n")
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(FIXTURES / "drive-07.json", results / "drive%2007%2Fa.json")
    shutil.copy(FIXTURES / "street.json", results / "street.json")
    report = prelabel.compare(tmp_path / "pre.jsonl", results)
    assert [j.reference_id for j in report.jobs] == ["drive 07/a"]
    assert report.unknown_results == ["street"]
    assert report.missing_results == []


def test_cli_table_report_and_plot(tmp_path: Path) -> None:
    out, png = tmp_path / "report.json", tmp_path / "plot.png"
    r = CliRunner().invoke(
        main,
        [
            "compare",
            str(FIXTURES / "prelabels.jsonl"),
            str(FIXTURES),
            "-o",
            str(out),
            "--plot",
            str(png),
        ],
    )
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    library = prelabel.compare(FIXTURES / "prelabels.jsonl", FIXTURES).to_dict()
    assert report == json.loads(json.dumps(library))
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["job", "label", "pre", "final"]
    total = next(line for line in lines if line.startswith("(all jobs)  (all)"))
    assert total.split()[3:5] == [
        str(report["total"]["prelabelled"]),
        str(report["total"]["final"]),
    ]
    assert any(line.startswith("street") for line in lines)
    # the plot is a PNG with something drawn on it
    from PIL import Image

    with Image.open(png) as im:
        assert im.format == "PNG"
        colours = im.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is not None
        assert len(colours) > 5


def test_cli_summary_and_thresholds(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = CliRunner().invoke(
        main,
        ["compare", str(FIXTURES / "prelabels.jsonl"), str(FIXTURES / "street.json"), "--summary"]
        + ["--threshold", "0.9", "--threshold", "0.3", "-o", str(out)],
    )
    assert r.exit_code == 0, r.output
    assert not any(line.startswith("street") for line in r.stdout.splitlines())
    report = json.loads(out.read_text())
    assert list(report["total"]["precision"]) == ["0.3", "0.9"]
    assert report["missing_results"] == ["drive-07"]
    assert "no result for 'drive-07'" in r.stderr


def test_cli_bad_result_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "drive-07.json"
    bad.write_text('{"data": ')
    r = CliRunner().invoke(main, ["compare", str(FIXTURES / "prelabels.jsonl"), str(bad)])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1
    assert str(bad) in r.stderr


def test_cli_plot_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    png = tmp_path / "p.png"
    r = CliRunner().invoke(
        main, ["compare", str(FIXTURES / "prelabels.jsonl"), str(FIXTURES), "--plot", str(png)]
    )
    assert r.exit_code == 2
    assert "pip install 'prelabel[plot]'" in r.stderr
    assert not png.exists()


@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.lists(st.floats(0.5, 1.0), min_size=25, max_size=25),
    st.lists(st.booleans(), min_size=25, max_size=25),
)
def test_assignment_is_as_good_as_the_solver_on_the_whole_matrix(
    n_a: int, n_b: int, values: list[float], allowed: list[bool]
) -> None:
    from scipy.optimize import linear_sum_assignment

    from prelabel.compare import _assign

    # candidate pairs of one frame: the allowed cells of an n_a x n_b similarity matrix
    m = np.where(np.array(allowed).reshape(5, 5), np.array(values).reshape(5, 5), 0.0)[:n_a, :n_b]
    a, b = np.nonzero(m)
    chosen = _assign(a.astype(np.int64), b.astype(np.int64), m[a, b])
    # one to one, and the same total as the solver over the whole matrix (the lone-pair
    # shortcut never loses anything)
    assert len(set(a[chosen].tolist())) == len(chosen)
    assert len(set(b[chosen].tolist())) == len(chosen)
    r, c = linear_sum_assignment(m, maximize=True)
    assert m[a[chosen], b[chosen]].sum() == pytest.approx(m[r, c].sum())


def test_table_escapes_control_characters_in_names() -> None:
    fr = _frames(1)
    ann = _boxes(fr, [[0, 0, 0.2, 0.2]], ["car\nfake row"], [0])
    text = format_table(compare_jobs([("job\x1b[2J", ann, None, ann, None)]))
    assert "car\\nfake row" in text
    assert "\x1b" not in text
    assert not any(line.startswith("fake row") for line in text.splitlines())


def test_cli_report_to_stdout_puts_the_table_on_stderr() -> None:
    r = CliRunner().invoke(
        main, ["compare", str(FIXTURES / "prelabels.jsonl"), str(FIXTURES), "-o", "-"]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)  # stdout is the JSON alone
    assert report["jobs_compared"] == 2
    assert r.stderr.startswith("job ")
    both = CliRunner().invoke(
        main,
        ["compare", str(FIXTURES / "prelabels.jsonl"), str(FIXTURES), "-o", "-", "--plot", "-"],
    )
    assert both.exit_code == 2


def test_entries_of_the_results_folder_that_are_not_results_are_listed(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(FIXTURES / "street.json", results / "street.json")
    (results / "street.json.part").write_text("{")
    (results / "older").mkdir()
    shutil.copy(FIXTURES / "drive-07.json", results / "older" / "drive-07.json")
    report = prelabel.compare(FIXTURES / "prelabels.jsonl", results)
    assert [j.reference_id for j in report.jobs] == ["street"]
    assert report.ignored_files == ["older/", "street.json.part"]
    assert report.to_dict()["ignored_files"] == ["older/", "street.json.part"]
    assert "2 entry(ies) of the results folder not read" in format_table(report)
    r = CliRunner().invoke(
        main, ["compare", str(FIXTURES / "prelabels.jsonl"), str(results), "--summary"]
    )
    assert r.exit_code == 0, r.output
    assert "not a result file, not read: 'older/'" in r.output


def test_two_result_files_of_one_reference_id_are_one_error(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    doc = json.loads((FIXTURES / "street.json").read_text())
    doc["reference_id"] = "street"
    (results / "street.json").write_text(json.dumps(doc))
    (results / "street-again.json").write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["compare", str(FIXTURES / "prelabels.jsonl"), str(results)])
    assert r.exit_code == 2, r.output
    assert "street.json: a second result for reference_id 'street'" in r.output
    assert "(the first is street-again.json)" in r.output
    assert "Traceback" not in r.output


@given(
    st.data(),
    st.sampled_from([CompareOptions(), CompareOptions(match_iou=0.05, thresholds=(0.05, 0.9))]),
    st.floats(0, 0.2),
)
def test_crowded_groups_pair_only_what_can_match_and_lose_nothing(
    data: st.DataObject, options: CompareOptions, nudge: float
) -> None:
    """With every group taken as crowded (the STRtree prefilter, per-kind reach, landmarks'
    bound included) the report is the one the full cartesian product gives."""
    compare_module = importlib.import_module("prelabel.compare")

    pre = data.draw(_jobs(max_shapes=14))
    moved = np.clip(pre.points + nudge * np.sin(np.arange(pre.points.size)).reshape(-1, 2), 0, 1)
    for fin in (data.draw(_jobs(max_shapes=14)), pre.with_points(moved, normalised=True)):
        full = compare_annotations(pre, fin, options=options).to_dict()
        saved = compare_module.CROWD_PAIRS
        compare_module.CROWD_PAIRS = 0
        try:
            crowded = compare_annotations(pre, fin, options=options).to_dict()
        finally:
            compare_module.CROWD_PAIRS = saved
        assert crowded == full


def test_a_crowded_frame_makes_candidate_pairs_for_neighbours_only() -> None:
    """5,000 boxes of one label in one frame: 25M pairs as a product, a few per box here."""
    from prelabel.compare import _pairs, _Reach, _side

    n = 5000
    rng = np.random.default_rng(3)
    side = 0.6 / np.sqrt(n)
    lo = rng.uniform(0, 1 - side, (n, 2))
    ann = _boxes(_frames(1), np.column_stack([lo, lo + side]).tolist(), ["person"] * n, [0] * n)
    s = _side(ann, np.zeros(1, np.int64), ("person",), None)
    rows = np.arange(n)
    a, b = _pairs(s, s, rows, rows, by_label=True, reach=_Reach(CompareOptions(), 0.5))
    assert n <= len(a) < 10 * n
    # every pair whose boxes overlap is there
    iou = box_iou(ann.xyxy[a], ann.xyxy[b])
    assert (a == b).sum() == n
    assert iou[a == b].min() == 1
    job = compare_annotations(ann, ann)
    assert job.table.total()["unchanged"] == n


def test_prelabels_repeating_a_reference_id_are_one_error_naming_the_line(tmp_path: Path) -> None:
    line = (FIXTURES / "prelabels.jsonl").read_bytes().splitlines()[0]
    jobs = tmp_path / "pre.jsonl"
    jobs.write_bytes(line + b"\n\n" + line + b"\n")
    r = CliRunner().invoke(main, ["compare", str(jobs), str(FIXTURES / "street.json")])
    assert r.exit_code == 2, r.output
    assert "pre.jsonl:3: $.reference_id: reference_id 'drive-07' repeated (first on line 1)" in (
        r.output
    )
    assert "Traceback" not in r.output


def test_negative_landmark_point_numbers_pair_within_their_own_shape() -> None:
    """Point numbers are any integers in a payload: a -1 must not be taken for the largest
    number of the pair before it (it was: a landmark set compared with itself scored 0)."""
    fr = _frames(1)
    ann = Annotations.from_runs(
        fr,
        Kind.LANDMARK,
        [[0.1, 0.1], [0.15, 0.12], [0.9, 0.9]],
        [0, 2, 3],
        ["face", "face"],
        [0, 0],
        point_label=[0, 2, -1],
        normalized=True,
    )
    total = compare_annotations(ann, ann).table.total()
    assert (total["unchanged"], total["deleted"], total["added"]) == (2, 0, 0)
    assert total["precision"]["0.75"] == 1

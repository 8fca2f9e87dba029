"""Frames -> jobs and shapes -> trackers, as integer columns."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.trackers import build_trackers, first_duplicate, layout_jobs


def _frames() -> Frames:
    # two sequences, listed out of order: b before a, indices shuffled
    return Frames.build(
        10, 10, frame_id=[f"f{i}" for i in range(6)], src=["s3://b/x"] * 6,
        sequence=["b", "a", "b", "a", "b", "a"], index=[2, 1, 0, 0, 1, 2],
    )  # fmt: skip


def test_jobs_per_sequence_in_first_seen_order_frames_by_index() -> None:
    layout = layout_jobs(_frames())
    assert layout.job_sequence == ["b", "a"]
    # job b: frames with index 0, 1, 2 are rows 2, 4, 0; job a: rows 3, 1, 5
    assert layout.frame_order.tolist() == [2, 4, 0, 3, 1, 5]
    assert layout.job_frame_offsets.tolist() == [0, 3, 6]
    assert layout.position[[2, 4, 0]].tolist() == [0, 1, 2]


def test_chunks_split_each_sequence() -> None:
    layout = layout_jobs(_frames(), frames_per_job=2)
    assert layout.job_sequence == ["b", "b", "a", "a"]
    assert layout.job_chunk == [1, 2, 1, 2]
    assert layout.job_frame_offsets.tolist() == [0, 2, 3, 5, 6]


def test_trackers_group_by_job_track_and_kind() -> None:
    f = _frames()
    ann = Annotations.concat(
        [
            # track 7 in sequence b (rows 0, 2) and in sequence a (row 1): two trackers
            Annotations.from_boxes(f, np.tile([0, 0, 1, 1], (3, 1)), ["c"] * 3, [0, 1, 2], track=[7, 7, 7]),
            # the same track id as a polygon: a tracker of its own kind
            Annotations.from_polygons(f, [[[0, 0], [1, 0], [0, 1]]], ["c"], [4], track=[7]),
            # no track: one tracker each
            Annotations.from_boxes(f, np.tile([0, 0, 1, 1], (2, 1)), ["c"] * 2, [4, 4]),
        ]
    )  # fmt: skip
    layout = layout_jobs(f)
    t = build_trackers(ann, layout)
    groups = [
        t.shape_order[a:b].tolist()
        for a, b in zip(t.tracker_offsets[:-1], t.tracker_offsets[1:], strict=True)
    ]
    # job b first: the boxes of track 7 on frame index 0 (shape 2) then index 2 (shape 0),
    # then the polygon and the untracked boxes (all on index 1), in input order; job a: shape 1
    assert groups == [[2, 0], [3], [4], [5], [1]]
    assert t.tracker_job.tolist() == [0, 0, 0, 0, 1]
    assert t.tracker_key.tolist() == [
        f"t7-{int(Kind.RECTANGLE)}",
        f"t7-{int(Kind.POLYGON)}",
        "s2",
        "s3",
        f"t7-{int(Kind.RECTANGLE)}",
    ]


def test_first_duplicate_is_the_pair_whose_second_row_comes_first() -> None:
    job = np.array([0, 1, 0, 1, 0, 1])
    code = np.array([5, 7, 6, 7, 5, 5])
    # (job, code): rows 1 and 3 are (1, 7), rows 0 and 4 are (0, 5); row 3 comes before row 4
    assert first_duplicate(job, code) == (1, 3)
    assert first_duplicate(job, np.arange(6)) is None
    assert first_duplicate(np.zeros(1, np.int64), np.zeros(1, np.int64)) is None
    # three equal rows: the pair is the first two
    assert first_duplicate(np.zeros(3, np.int64), np.array([2, 2, 2])) == (0, 1)


def test_first_duplicate_compares_every_key() -> None:
    # equal in each key alone, never in both
    assert first_duplicate(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) is None


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-2, 2)), max_size=30))
def test_first_duplicate_matches_a_scan_of_the_rows(rows: list[tuple[int, int]]) -> None:
    seen: dict[tuple[int, int], int] = {}
    expected = None
    for i, key in enumerate(rows):
        if key in seen:
            expected = (seen[key], i)
            break
        seen[key] = i
    a = np.array([r[0] for r in rows], dtype=np.int64)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    assert first_duplicate(a, b) == expected

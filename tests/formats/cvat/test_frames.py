"""The pure frame steps of the CVAT reader (prelabel/formats/cvat/_frames.py), on hand-checked values."""

from __future__ import annotations

import numpy as np

from prelabel.formats.cvat._elements import skeleton_geometry
from prelabel.formats.cvat._frames import (
    image_index,
    task_frame_count,
    task_length,
    track_frame_rows,
)


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def test_task_frame_count_with_the_project_offset() -> None:
    # offset 10, step 2: frames 10, 12, 18 are task frames 0, 1, 4, so 5 are needed
    assert task_frame_count(0, 2, 10, [5], i64(10, 12, 18)) == (10, 5)


def test_task_frame_count_without_the_offset_when_only_that_fits() -> None:
    # frames 0, 2, 4 lie before start + offset = 10; read as they are: task frames 0..2
    assert task_frame_count(0, 2, 10, [5], i64(0, 2, 4)) == (0, 3)
    # with the offset they need (28 - 10) // 2 + 1 = 10 frames, more than the declared 5;
    # without it 28 // 2 + 1 = 15, no better: the offset stays
    assert task_frame_count(0, 2, 10, [5], i64(28)) == (10, 10)


def test_task_frame_count_off_the_grid() -> None:
    # frame 3 is not start 1 + k * 2 for any k
    assert task_frame_count(1, 2, 0, [], i64(1, 3, 4)) == (0, None)


def test_task_length() -> None:
    # size 11 and start..stop 10 disagree: the smaller one that holds the needed frames
    assert task_length(10, 11, 10, 0, 1, i64()) == 10
    assert task_length(10, 11, 11, 0, 1, i64()) == 11
    assert task_length(10, 11, 12, 0, 1, i64()) == 11  # none holds them: the larger
    assert task_length(None, 7, 9, 0, 1, i64()) == 7  # one count: the meta's
    # no count: up to the last used frame 7, from frame 1 by 2: (7 - 1) // 2 + 1 = 4
    assert task_length(None, None, None, 1, 2, i64(3, 7)) == 4


def test_track_frame_rows() -> None:
    # first frame 5, step 2, 4 frames from row 100: 5 -> 100, 7 -> 101; 6 is off the step,
    # 13 is task frame 4, past the last (3)
    rows, off_grid, out = track_frame_rows(i64(5, 6, 7, 13), i64(5), i64(2), i64(4), i64(100))
    assert rows.tolist() == [100, 100, 101, 104]
    assert off_grid.tolist() == [False, True, False, False]
    assert out.tolist() == [False, False, False, True]


def test_image_index_by_frame_number_else_file_order() -> None:
    # sequence a: numbers 7, 3, 5 -> positions 2, 0, 1; sequence b alone -> 0
    assert image_index(["a", "a", "b", "a"], [7, 3, -1, 5]).tolist() == [2, 0, 0, 1]
    # one image of the sequence has no number: file order
    assert image_index(["a", "a"], [5, -1]).tolist() == [0, 1]


def test_skeleton_geometry_in_spec_order() -> None:
    points = [("r", "1,2", False, True, 3), ("head", "3,4", True, False, 4)]
    run, vis, occluded = skeleton_geometry(points, ["head", "l", "r"], "body", "f.xml")
    assert run == "3,4;nan,nan;1,2"  # l is not listed
    assert vis == [False, False, True]  # head is outside
    assert occluded  # r is shown and occluded

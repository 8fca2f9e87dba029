"""The pure track steps of the CVAT reader (prelabel/formats/cvat/_tracks.py), on hand-checked columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from prelabel.formats.cvat import read_cvat
from prelabel.formats.cvat._tracks import (
    fill_steps,
    inherited_attributes,
    keyframe_gaps,
    lerp_rotation,
    repeated_frames,
    track_order,
)
from prelabel.report import Report


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def test_track_order_puts_image_shapes_first_then_track_and_frame() -> None:
    track = i64(-1, 1, 0, -1, 0)
    frame = i64(5, 0, 3, 1, 1)
    # image rows 3 (frame 1), 0 (frame 5); track 0: rows 4 (frame 1), 2 (frame 3); track 1: row 1
    assert track_order(track, frame).tolist() == [3, 0, 4, 2, 1]


def test_repeated_frames_marks_the_second_of_a_track_and_frame() -> None:
    # rows 1 (track 0, frame 1 again) and 4 (track 1, frame 2 again); row 3 is another track
    got = repeated_frames(i64(0, 0, 0, 1, 1), i64(1, 1, 2, 2, 2))
    assert got.tolist() == [False, True, False, False, True]


def test_inherited_attributes_carry_forward_and_start_from_the_track() -> None:
    attrs: list[dict[str, str] | None] = [{"a": "1", "b": "x"}, {"a": "2"}, None, {"c": "z"}]
    got = inherited_attributes(attrs, [0, 0, 0, 1], {1: {"t": "k"}})
    assert got == [
        {"a": "1", "b": "x"},
        {"a": "2", "b": "x"},  # restates a, keeps b from the keyframe before
        {"a": "2", "b": "x"},  # states nothing: all of the shape before
        {"t": "k", "c": "z"},  # a new track: its <track> attributes, then its own
    ]
    assert attrs[1] == {"a": "2"}  # the input is not changed


def test_keyframe_gaps() -> None:
    # track 0 at frames 0, 4, 6 (6 is outside), task end row 10; track 1 at 10, end row 20
    last, nxt, span, gap = keyframe_gaps(
        i64(0, 0, 0, 1),
        i64(0, 4, 6, 10),
        np.array([False, False, True, False]),
        i64(10, 10, 10, 20),
    )
    assert last.tolist() == [False, False, True, True]
    assert nxt.tolist() == [1, 2, 2, 3]
    assert span.tolist() == [4, 2, 4, 10]  # 4-0, 6-4, 10-6 (to the end), 20-10
    assert gap.tolist() == [3, 1, 0, 9]  # span - 1; nothing after the outside shape


def test_fill_steps() -> None:
    # shape 0 fills 2 frames of a 3-frame span, interpolated; shape 2 is held for 1 frame
    shape, step, t = fill_steps(i64(2, 0, 1), i64(3, 5, 4), np.array([True, False, False]))
    assert shape.tolist() == [0, 0, 2]
    assert step.tolist() == [1, 2, 1]
    np.testing.assert_allclose(t, [1 / 3, 2 / 3, 0.0])


def test_lerp_rotation_takes_the_shorter_arc() -> None:
    r0 = np.array([350.0, 10.0, 350.0, 90.0])
    r1 = np.array([10.0, 350.0, 10.0, 90.0])
    t = np.array([0.5, 0.5, 0.25, 0.7])
    # 350 -> 10 is +20 degrees: half way 360 = 0, a quarter 355; 10 -> 350 is -20: 0
    np.testing.assert_allclose(lerp_rotation(r0, r1, t), [0.0, 0.0, 355.0, 90.0])


def test_a_held_shape_before_a_shape_with_fewer_points(tmp_path: Path) -> None:
    # the next keyframe has 4 points, not 5, and is the last row: frames 1 and 2 hold the
    # 5-point polygon, frame 4 holds the 4-point one to the end of the task (size 5)
    p = tmp_path / "v.xml"
    p.write_text(
        """<annotations><meta><task><name>v</name><size>5</size><original_size>
        <width>10</width><height>10</height></original_size></task></meta>
        <track id="0" label="a">
        <polygon frame="0" outside="0" points="0,0;4,0;4,4;2,5;0,4"/>
        <polygon frame="3" outside="0" points="0,0;2,0;2,2;0,2"/></track></annotations>""",
        encoding="utf-8",
    )
    rep = Report()
    ann = read_cvat(p, report=rep)
    assert ann.frame.tolist() == [0, 1, 2, 3, 4]
    assert ann.counts.tolist() == [5, 5, 5, 4, 4]
    first = [[0, 0], [4, 0], [4, 4], [2, 5], [0, 4]]
    assert ann.points[5:10].tolist() == first
    assert ann.points[10:15].tolist() == first
    assert [r["reason"] for r in rep.rows] == ["held_not_interpolated"]

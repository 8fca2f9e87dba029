"""The intermediate representation: constructors, selection and concatenation keep columns in step."""

from __future__ import annotations

import numpy as np
import pytest

from prelabel.annotations import Annotations, Frames, Kind


@pytest.fixture
def frames() -> Frames:
    return Frames.build([640, 1280], [480, 720], frame_id=["a", "b"], src=["s3://b/a", "s3://b/b"])


def test_from_boxes_stores_corners_tl_tr_br_bl(frames: Frames) -> None:
    ann = Annotations.from_boxes(frames, [[10, 20, 30, 40]], ["car"], [0])
    assert ann.points.tolist() == [[10, 20], [30, 20], [30, 40], [10, 40]]
    assert ann.kind.tolist() == [Kind.RECTANGLE]
    assert ann.track.tolist() == [-1] and np.isnan(ann.score).all()


def test_class_ids_with_names(frames: Frames) -> None:
    ann = Annotations.from_boxes(
        frames, np.zeros((3, 4)), np.array([2, 0, 2]), [0, 1, 1], names=["a", "b", "c"]
    )
    assert ann.labels == ("a", "b", "c")
    assert ann.label.tolist() == [2, 0, 2]
    with pytest.raises(ValueError, match="class id"):
        Annotations.from_boxes(frames, np.zeros((1, 4)), [3], [0], names=["a", "b", "c"])


def test_landmarks_numbered_from_one(frames: Frames) -> None:
    ann = Annotations.from_landmarks(
        frames, [np.zeros((3, 2)), np.ones((2, 2))], ["f", "g"], [0, 1]
    )
    assert ann.point_label.tolist() == [1, 2, 3, 1, 2]


def test_boolean_selection_keeps_points_with_their_shapes(frames: Frames) -> None:
    polys = [np.full((k, 2), k, dtype=float) for k in (3, 5, 4)]
    ann = Annotations.from_polygons(
        frames, polys, ["a", "b", "c"], [0, 1, 0], score=[0.1, 0.2, 0.3]
    )
    sub = ann[np.array([True, False, True])]
    assert len(sub) == 2
    assert sub.offsets.tolist() == [0, 3, 7]
    assert sub.points[:, 0].tolist() == [3, 3, 3, 4, 4, 4, 4]
    assert sub.score.tolist() == [0.1, 0.3]
    assert [sub.labels[i] for i in sub.label] == ["a", "c"]
    with pytest.raises(IndexError):
        ann[np.array([True])]


def test_concat_merges_labels_by_name_and_shares_frames(frames: Frames) -> None:
    a = Annotations.from_boxes(frames, [[0, 0, 1, 1]], ["dog"], [0])
    b = Annotations.from_lines(frames, [np.zeros((2, 2))], ["cat"], [1])
    c = Annotations.from_boxes(frames, [[0, 0, 2, 2]], ["cat"], [1])
    out = a + b + c
    assert len(out.frames) == 2  # the same frames, kept once
    assert [out.labels[i] for i in out.label] == ["dog", "cat", "cat"]
    assert out.counts.tolist() == [4, 2, 4]


def test_concat_of_different_frames_offsets_frame_rows(frames: Frames) -> None:
    other = Frames.build([10], [10], frame_id=["z"], src=["s3://b/z"])
    a = Annotations.from_boxes(frames, [[0, 0, 1, 1]], ["x"], [1])
    b = Annotations.from_boxes(other, [[0, 0, 1, 1]], ["x"], [0])
    out = Annotations.concat([a, b])
    assert len(out.frames) == 3
    assert out.frames.frame_id[out.frame].tolist() == ["b", "z"]


def test_columns_must_agree(frames: Frames) -> None:
    with pytest.raises(ValueError, match="frame that does not exist"):
        Annotations.from_boxes(frames, [[0, 0, 1, 1]], ["x"], [5])

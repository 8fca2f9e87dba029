"""The intermediate representation: constructors, selection and concatenation keep columns in step."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.errors import InputError
from tests.strategies import annotations


@pytest.fixture
def frames() -> Frames:
    return Frames.build([640, 1280], [480, 720], frame_id=["a", "b"], src=["s3://b/a", "s3://b/b"])


def test_from_boxes_stores_corners_tl_tr_br_bl(frames: Frames) -> None:
    ann = Annotations.from_boxes(frames, [[10, 20, 30, 40]], ["car"], [0])
    assert ann.points.tolist() == [[10, 20], [30, 20], [30, 40], [10, 40]]
    assert ann.kind.tolist() == [Kind.RECTANGLE]
    assert ann.track.tolist() == [-1]
    assert np.isnan(ann.score).all()


def test_class_ids_with_names(frames: Frames) -> None:
    ann = Annotations.from_boxes(
        frames, np.zeros((3, 4)), np.array([2, 0, 2]), [0, 1, 1], names=["a", "b", "c"]
    )
    assert ann.labels == ("a", "b", "c")
    assert ann.label.tolist() == [2, 0, 2]
    with pytest.raises(InputError, match=r"labels\[0\]: is 3, outside the 3 class ids"):
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
    with pytest.raises(InputError, match=r"frame\[0\]: is 5, outside the rows of frames"):
        Annotations.from_boxes(frames, [[0, 0, 1, 1]], ["x"], [5])


@pytest.fixture
def mixed(frames: Frames) -> Annotations:
    """A box, a polygon, a line, a landmark set, a cuboid, in that order."""
    box = Annotations.from_boxes(frames, [[10, 20, 30, 60]], ["car"], [0], track=[4])
    # a right triangle with legs 4 and 3; an L-shaped hexagon (a 2x2 square less a corner)
    poly = Annotations.from_polygons(
        frames,
        [[[0, 0], [4, 0], [4, 3]], [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]],
        ["roof", "roof"],
        [1, 1],
        track=[4, 9],
    )
    line = Annotations.from_lines(frames, [[[0, 0], [5, 5]]], ["lane"], [0])
    marks = Annotations.from_landmarks(frames, [[[1, 2], [3, 1]]], ["face"], [1])
    cube = np.array([[[0, 10], [6, 10], [6, 4], [0, 4], [2, 8], [8, 8], [8, 2], [2, 2]]])
    cuboid = Annotations.from_cuboids(frames, cube, ["box"], [0])
    return Annotations.concat([box, poly, line, marks, cuboid])


def test_slices_and_negative_indices_select_shapes(mixed: Annotations) -> None:
    part = mixed[2:5]
    assert part.kind.tolist() == [Kind.POLYGON, Kind.LINE, Kind.LANDMARK]
    # the hexagon's 6 points, the line's 2, the landmarks' 2
    assert part.counts.tolist() == [6, 2, 2]
    assert len(part.points) == 10
    assert part.points[6:].tolist() == [[0, 0], [5, 5], [1, 2], [3, 1]]
    assert mixed[-1].kind.tolist() == [Kind.CUBOID]
    assert mixed[-1].counts.tolist() == [8]
    assert mixed[::2].kind.tolist() == [Kind.RECTANGLE, Kind.POLYGON, Kind.LANDMARK]
    assert len(mixed[10:]) == 0
    assert mixed[10:].is_empty()
    with pytest.raises(IndexError):
        mixed[[6]]
    with pytest.raises(IndexError):
        mixed[[-7]]


def test_is_empty(frames: Frames, mixed: Annotations) -> None:
    assert not mixed.is_empty()
    assert Annotations.empty(frames, ["car"]).is_empty()
    assert mixed[mixed.score > 0].is_empty()  # no scores given: all NaN


def test_xyxy_is_the_bounds_of_each_shape(mixed: Annotations) -> None:
    assert mixed.xyxy.tolist() == [
        [10, 20, 30, 60],  # the box as given
        [0, 0, 4, 3],  # triangle
        [0, 0, 2, 2],  # hexagon
        [0, 0, 5, 5],  # line
        [1, 1, 3, 2],  # landmarks (1, 2), (3, 1)
        [0, 2, 8, 10],  # cuboid: x 0..8 over both faces, y 2..10
    ]
    assert mixed.xyxy.dtype == np.float64
    assert mixed.xyxy.shape == (6, 4)


def test_xyxy_of_a_shape_without_points_is_nan(frames: Frames) -> None:
    ann = Annotations.from_polygons(
        frames,
        [[[0, 0], [1, 0], [0, 1]], np.zeros((0, 2)), [[5, 5], [6, 5], [5, 7]]],
        ["p"] * 3,
        [0, 0, 0],
    )
    b = ann.xyxy
    assert np.isnan(b[1]).all()
    assert b[0].tolist() == [0, 0, 1, 1]
    assert b[2].tolist() == [5, 5, 6, 7]
    assert ann.area.tolist() == [0.5, 0.0, 1.0]  # 1*1/2; no ring; 1*2/2


def test_area_per_kind(mixed: Annotations) -> None:
    assert mixed.area.tolist() == [
        20 * 40,  # box 10..30 x 20..60
        4 * 3 / 2,  # right triangle
        3.0,  # hexagon: the 2x2 square less its 1x1 top-right corner
        0.0,  # line
        0.0,  # landmarks
        8 * 8,  # cuboid: its bounding box, x 0..8, y 2..10
    ]


def test_area_does_not_depend_on_orientation_and_scales_when_normalised(frames: Frames) -> None:
    ring = [[0, 0], [4, 0], [4, 3]]
    ann = Annotations.from_polygons(frames, [ring, ring[::-1]], ["p", "p"], [0, 1])
    assert ann.area.tolist() == [6.0, 6.0]
    from prelabel.geometry import normalise

    # frame a is 640 x 480, frame b 1280 x 720: 6 / (640 * 480) and 6 / (1280 * 720)
    np.testing.assert_allclose(normalise(ann).area, [6 / 307_200, 6 / 921_600], rtol=1e-12)


def test_repr_summarises(frames: Frames, mixed: Annotations) -> None:
    assert repr(mixed) == (
        "Annotations(6 shapes: 1 rectangle, 2 polygons, 1 line, 1 cuboid, 1 landmark; "
        "2 frames in 1 sequence, sizes vary; "
        "5 labels ('car', 'roof', 'lane', 'face', 'box'); 2 tracks; pixels)"
    )
    many = Annotations.from_boxes(frames, np.zeros((7, 4)), list("abcdefg"), [0] * 7)
    assert "7 labels ('a', 'b', 'c', 'd', 'e', ... 2 more)" in repr(many)
    fixed = Frames.build(1920, 1080, frame_id=["x", "y", "z"], sequence=["s1", "s2", "s1"])
    assert repr(fixed) == "Frames(3 frames in 2 sequences, 1920x1080)"
    empty = Annotations.empty(fixed)
    assert repr(empty) == (
        "Annotations(0 shapes; 3 frames in 2 sequences, 1920x1080; 0 labels; 0 tracks; pixels)"
    )


def test_repr_of_a_large_table_stays_short(frames: Frames) -> None:
    n = 100_000
    ann = Annotations.from_boxes(frames, np.tile([0, 0, 5, 5], (n, 1)), ["car"] * n, [0] * n)
    assert len(repr(ann)) < 200


@given(annotations())
def test_xyxy_and_area_agree_with_shapely(ann: Annotations) -> None:
    """Bounds of every shape and the area of every polygon, against shapely's own (GEOS
    computes a ring's area by the shoelace too, the lobes of a bow-tie cancelling alike)."""
    has = ann.counts > 0
    xyxy = ann.xyxy
    assert np.isnan(xyxy[~has]).all()
    for i in np.flatnonzero(has):
        pts = ann.points[ann.offsets[i] : ann.offsets[i + 1]]
        assert xyxy[i].tolist() == [*pts.min(axis=0), *pts.max(axis=0)]
    polygon = np.flatnonzero((ann.kind == Kind.POLYGON) & (ann.counts >= 3))
    if len(polygon):
        part = ann[polygon]
        rings = shapely.polygons(shapely.linearrings(part.points, indices=part.point_shape))
        np.testing.assert_allclose(part.area, shapely.area(rings), rtol=1e-9, atol=1e-6)
    flat = (ann.kind == Kind.LINE) | (ann.kind == Kind.LANDMARK)
    assert (ann.area[flat] == 0).all()
    assert (ann.area[has] >= 0).all()

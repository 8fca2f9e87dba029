"""The intermediate representation: constructors, selection and concatenation keep columns in step."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

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


# --- strict constructors: every wrong input is one InputError naming the parameter ----------
@pytest.fixture
def hd() -> Frames:
    return Frames.build(1920, 1080, frame_id=["f0", "f1", "f2"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # (N, 5) boxes: x1 y1 x2 y2 conf passed as boxes
        (lambda f: Annotations.from_boxes(f, np.zeros((3, 5)), "car", 0),
         r"^xyxy: expected shape \(N, 4\) x1, y1, x2, y2, got shape \(3, 5\) and dtype float64$"),
        # a length-1 labels or score is not broadcast to 2 boxes; a true scalar is
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9], [1, 1, 8, 8]], ["car"], 0),
         r"^labels: expected 2 label names .*got a list of 1: pass a str for one label for all$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9], [1, 1, 8, 8]], "car", 0, score=[0.5]),
         r"^score: expected 2 numbers .*got a list of 1: pass a scalar for one value for all$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], "car", [0, 1]),
         r"^frame: expected 1 integers \(one per shape\) or one integer, got a list of 2$"),
        # non-integral frame / class / track values
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9], [1, 1, 8, 8]], "car", [0, 1.5]),
         r"^frame\[1\]: is 1.5, not a whole number$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], [0.5], 0, names=["a", "b"]),
         r"^labels\[0\]: is 0.5, not a whole number$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], "car", 0, track=[2.25]),
         r"^track\[0\]: is 2.25, not a whole number$"),
        # NaN / inf in integer columns (numpy's "cannot convert float NaN to integer" before)
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9], [1, 1, 8, 8]], "car", 0,
                                          track=[1, np.nan]),
         r"^track\[1\]: is nan, not a whole number; -1 for a shape without a track$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], "car", [np.inf]),
         r"^frame\[0\]: is inf, not a whole number$"),
        # rows out of range, named
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9], [1, 1, 8, 8]], "car", [0, 3]),
         r"^frame\[1\]: is 3, outside the rows of frames \(3 frames: 0..2\)$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], [2], 0, names=["a", "b"]),
         r"^labels\[0\]: is 2, outside the 2 class ids of names= \(0..1\)$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], "car", 0, track=[-2]),
         r"^track\[0\]: is -2, outside >= -1 \(-1 for a shape without a track\)$"),
        # class ids without names
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], np.array([1]), 0),
         r"^labels: are class ids .* but names= is not given"),
        # 0..1 coordinates on a 1920 x 1080 frame, given as pixels
        (lambda f: Annotations.from_boxes(f, [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.9, 0.9]], "car", 0),
         r"^xyxy: every coordinate lies in 0..1 on frames of 1920 x 1080 .*normalized=True"),
        (lambda f: Annotations.from_polygons(f, [[[0.1, 0.1], [0.2, 0.1], [0.2, 0.3]]] * 2, "a", 0),
         r"^polygons: every coordinate lies in 0..1"),
        # ragged and misshapen point lists
        (lambda f: Annotations.from_polygons(f, [[[0, 0], [5, 0], [5, 5]], [0, 1, 2, 3]], "a", 0),
         r"^polygons\[1\]: expected shape \(K, 2\) x, y, got a list of 4$"),
        (lambda f: Annotations.from_runs(f, Kind.LINE, np.zeros((4, 2)), [0, 3, 2, 4], "a", 0),
         r"^offsets\[2\]: is 2, below offsets\[1\]"),
        (lambda f: Annotations.from_runs(f, Kind.LINE, np.zeros((4, 2)), [0, 2, 3], "a", 0),
         r"^offsets: expected n \+ 1 non-decreasing integers from 0 to the number of points \(4\)"),
        (lambda f: Annotations.from_runs(f, 9, np.zeros((2, 2)), [0, 2], "a", 0),
         r"^kind\[0\]: is 9, outside 0..4 \(a prelabel.Kind\)$"),
        (lambda f: Annotations.from_cuboids(f, np.zeros((2, 4, 2)), "a", 0),
         r"^cuboids: expected shape \(N, 8, 2\) corners, got shape \(2, 4, 2\)"),
        (lambda f: Annotations.from_landmarks(f, [np.ones((3, 2))], "a", 0, point_labels=[[1, 2]]),
         r"^point_labels\[0\]: expected 3 integers \(one per point\)"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], "a", 0, score=[np.inf]),
         r"^score\[0\]: is inf; NaN means none$"),
        (lambda f: Annotations.from_boxes(f, [["a", "b", "c", "d"]], "a", 0),
         r"^xyxy: expected .* \(numbers\), got shape \(1, 4\) and dtype <U1$"),
        (lambda f: Annotations.from_boxes(f, [[0, 0, 9, 9]], "a", 0, attributes=["x"]),
         r"^attributes\[0\]: expected a mapping or None"),
        (lambda f: Annotations.from_boxes([f], [[0, 0, 9, 9]], "a", 0),
         r"^frames: expected a Frames table"),
    ],
)  # fmt: skip
def test_wrong_input_is_one_input_error_naming_the_parameter(
    hd: Frames, call: object, message: str
) -> None:
    with pytest.raises(InputError, match=message) as exc:
        call(hd)  # type: ignore[operator]
    assert exc.value.path is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"src": ["frames/0.jpg", "s3://b/1.jpg"]},
         r"^src\[0\]: 'frames/0.jpg' is not an http\(s\)://, s3:// or gs:// URL \(1 of 2"),
        ({"frame_id": ["a", "b", "c"]},
         r"^width: expected 3 values \(one per frame, as frame_id\) or one number, got 2$"),
        ({"frame_id": ["a", 2]}, r"^frame_id\[1\]: expected a str, got int 2$"),
        ({"index": [0, 1.5]}, r"^index\[1\]: is 1.5, not a whole number$"),
        ({"index": [0, -1]}, r"^index\[1\]: is -1, outside >= 0$"),
    ],
)  # fmt: skip
def test_frames_build_checks_its_columns(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Frames.build([640, 640], 480, **kwargs)  # type: ignore[arg-type]


def test_numpy_strings_are_strings_in_every_text_check(hd: Frames) -> None:
    # numpy's str_ is a str: taken as one (it ended in a bare StopIteration), and a value
    # that is not a str beside it is still the error naming its place
    frames = Frames.build([640, 640], 480, frame_id=[np.str_("a"), np.str_("b")])
    assert frames.frame_id.tolist() == ["a", "b"]
    ann = Annotations.from_boxes(hd, [[0, 0, 9, 9]], np.array([np.str_("car")], dtype=object), 0)
    assert ann.labels == ("car",)
    with pytest.raises(InputError, match=r"^frame_id\[1\]: expected a str, got int 2$"):
        Frames.build([640, 640], 480, frame_id=[np.str_("a"), 2])  # type: ignore[list-item]
    with pytest.raises(
        InputError, match=r"^labels\[1\]: expected a label name \(str\), got int 2$"
    ):
        Annotations.from_boxes(
            hd, [[0, 0, 9, 9]] * 2, np.array([np.str_("car"), 2], dtype=object), 0
        )


def test_scalars_are_broadcast_and_empty_src_waits_for_the_templates(hd: Frames) -> None:
    ann = Annotations.from_boxes(hd, [[0, 0, 9, 9], [1, 1, 8, 8]], "car", 2, score=0.5, track=3)
    assert ann.frame.tolist() == [2, 2]
    assert ann.score.tolist() == [0.5, 0.5]
    assert ann.track.tolist() == [3, 3]
    assert Frames.build(10, 10, src=[""]).src.tolist() == [""]
    # float frame / class / track values that are whole numbers are accepted (torch gives them)
    ok = Annotations.from_boxes(hd, [[0, 0, 9, 9]], np.array([1.0]), np.array([2.0]),
                                names=["a", "b"], track=np.array([7.0], np.float32))  # fmt: skip
    assert (ok.label.tolist(), ok.frame.tolist(), ok.track.tolist()) == ([1], [2], [7])


def test_one_box_in_0_1_on_a_real_frame_is_taken_for_fractions(hd: Frames) -> None:
    # a one-box frame, as a JobSink append or an inference loop gives: a box within the first
    # pixel of a 1920 x 1080 frame is a model's xyxyn passed as pixels, not a detection
    with pytest.raises(InputError, match=r"normalized=True"):
        Annotations.from_boxes(hd, [[0.1, 0.2, 0.3, 0.4]], "car", 0)
    assert Annotations.from_boxes(hd, [[0.1, 0.2, 0.3, 0.4]], "car", 0, normalized=True).normalised
    # whole pixels 0 and 1 are no evidence of fractions, nor are frames of a few pixels
    Annotations.from_boxes(hd, [[0, 0, 1, 1], [0, 1, 1, 1]], "car", 0)
    tiny = Frames.build(1, 1)
    Annotations.from_boxes(tiny, [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.9, 0.9]], "car", 0)


# a cuboid in 0..1: the front face BL, BR, TR, TL, then the back face 0.05 up and right
_FRONT = np.array([[0.1, 0.5], [0.4, 0.5], [0.4, 0.2], [0.1, 0.2]])
_CUBOID = np.concatenate([_FRONT, _FRONT + [0.05, -0.05]])


@pytest.mark.parametrize(
    "build",
    [
        lambda f, n: Annotations.from_boxes(f, [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.9, 0.9]], "c", 0,
                                            normalized=n),
        lambda f, n: Annotations.from_polygons(f, [[[0.1, 0.1], [0.2, 0.1], [0.2, 0.3]]] * 2, "c", 0,
                                               normalized=n),
        lambda f, n: Annotations.from_lines(f, [[[0.1, 0.1], [0.2, 0.1]]] * 2, "c", 0,
                                            normalized=n),
        lambda f, n: Annotations.from_landmarks(f, [[[0.1, 0.1], [0.2, 0.1]]] * 2, "c", 0,
                                                normalized=n),
        lambda f, n: Annotations.from_cuboids(f, [_CUBOID, _CUBOID + 0.05], "c", 0, normalized=n),
        lambda f, n: Annotations.from_point_lists(f, Kind.LINE, [[[0.1, 0.1], [0.2, 0.1]]] * 2,
                                                  "c", 0, normalized=n),
        lambda f, n: Annotations.from_runs(f, Kind.LINE, _CUBOID[:4], [0, 2, 4], "c", 0,
                                           normalized=n),
    ],
)  # fmt: skip
def test_normalized_is_carried_and_not_divided_again(hd: Frames, build: object) -> None:
    from prelabel.geometry import normalise, prepare

    with pytest.raises(InputError, match="normalized=True"):
        build(hd, False)  # type: ignore[operator]
    ann = build(hd, True)  # type: ignore[operator]
    assert ann.normalised
    assert normalise(ann).points.tolist() == ann.points.tolist()
    ready, _ = prepare(ann, "repair")
    # still fractions of 1920 x 1080 after prepare, not divided a second time
    assert len(ready) == 2
    assert ready.points.max() > 0.05


def test_normalized_is_the_one_spelling(hd: Frames) -> None:
    ann = Annotations.from_boxes(hd, [[0.1, 0.2, 0.3, 0.4]], "car", 0, normalized=True)
    assert ann.normalised  # the table's attribute; the keyword has one spelling
    with pytest.raises(TypeError, match="normalised"):
        Annotations.from_boxes(hd, [[0.1, 0.2, 0.3, 0.4]], "car", 0, normalised=True)  # type: ignore[call-arg]


# any value in any column: a table or one InputError, never numpy's or Python's own message
_ANY = st.one_of(
    st.none(),
    st.sampled_from(["car", "", "s3://b/x.jpg", b"x"]),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.one_of(st.integers(-2, 3), st.floats(-1, 3), st.text(max_size=2)), max_size=4),
    st.lists(st.lists(st.floats(-1, 5), min_size=0, max_size=5), max_size=3),
    st.sampled_from([np.zeros((2, 4)), np.zeros((2, 5)), np.ones((2, 2, 2)), np.array([np.nan, 1]),
                     np.array(["a", "b"]), np.zeros(0), np.array([[0, 0, 4, 4], [1, 1, 3, 3]])]),
)  # fmt: skip


@given(
    geometry=_ANY, labels=_ANY, frame=_ANY, track=_ANY, score=_ANY, names=_ANY,
    normalized=st.one_of(st.booleans(), _ANY),
)  # fmt: skip
def test_constructors_give_a_table_or_one_input_error(
    geometry: object, labels: object, frame: object, track: object, score: object,
    names: object, normalized: object,
) -> None:  # fmt: skip
    frames = Frames.build(1920, 1080, frame_id=["f0", "f1"])
    for build in (Annotations.from_boxes, Annotations.from_polygons, Annotations.from_cuboids):
        try:
            ann = build(
                frames, geometry, labels, frame, track=track, score=score, names=names,
                normalized=normalized,
            )  # type: ignore[arg-type]  # fmt: skip
        except InputError as exc:
            assert exc.location  # names the parameter
        else:
            assert len(ann.frame) == len(ann.label) == len(ann.track) == len(ann)


# --- what a new user passes: a model's names dict, tensors, the wrong type -----------------


def test_names_may_be_a_models_id_to_name_dict(frames: Frames) -> None:
    # the labels error says names=model.names, and Ultralytics' model.names is a dict
    ann = Annotations.from_boxes(frames, [[1, 2, 30, 40]], [1], 0, names={1: "car", 0: "person"})
    assert ann.labels == ("person", "car")
    assert ann.label.tolist() == [1]
    with pytest.raises(
        InputError, match=r"names: expected a \{class id: name\} dict with the ids 0\.\.1"
    ):
        Annotations.from_boxes(frames, [[1, 2, 30, 40]], [1], 0, names={1: "car", 2: "dog"})


def test_frames_that_are_no_frames_table_are_named() -> None:
    # frames=None was an AssertionError
    with pytest.raises(InputError, match="frames: expected a Frames table"):
        Annotations.from_boxes(None, [[1, 2, 30, 40]], "car", 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("keyword", ["source", "attributes"])
def test_a_string_is_not_a_column_of_one_per_shape(frames: Frames, keyword: str) -> None:
    with pytest.raises(
        InputError, match=rf"{keyword}: expected 1 values \(one per shape\), got str"
    ):
        Annotations.from_boxes(frames, [[1, 2, 30, 40]], "car", 0, **{keyword: "x"})


class _GpuTensor:
    """A torch tensor on a GPU, as prelabel sees one: numpy() refuses until cpu()."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def numpy(self) -> np.ndarray:
        raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu()")

    def cpu(self) -> _CpuTensor:
        return _CpuTensor(self.data)


class _CpuTensor(_GpuTensor):
    def numpy(self) -> np.ndarray:
        return self.data

    def cpu(self) -> _CpuTensor:
        return self


def test_tensors_on_a_gpu_are_read_by_the_constructors(frames: Frames) -> None:
    ann = Annotations.from_boxes(
        frames,
        _GpuTensor(np.array([[1.0, 2, 30, 40]], np.float32)),
        _GpuTensor(np.array([1])),
        0,
        names=["person", "car"],
        track=_GpuTensor(np.array([5.0], np.float16)),
    )
    assert ann.xyxy.tolist() == [[1, 2, 30, 40]]
    assert ann.track.tolist() == [5]


@pytest.mark.filterwarnings("error")
def test_float16_integers_give_no_numpy_warning(frames: Frames) -> None:
    ann = Annotations.from_boxes(
        frames, [[1, 2, 30, 40]], "car", np.float16(1), track=np.array([3], np.float16)
    )
    assert ann.track.tolist() == [3]
    assert ann.frame.tolist() == [1]
    with pytest.raises(InputError, match=r"track\[0\]: is 3.5, not a whole number"):
        Annotations.from_boxes(
            frames, [[1, 2, 30, 40]], "car", 0, track=np.array([3.5], np.float16)
        )


@pytest.mark.parametrize("width", [None, [640, None]])
def test_a_frame_size_of_none_is_refused(width: object) -> None:
    # None became a NaN size silently (NaN itself stays: readers mark an unknown size so)
    with pytest.raises(InputError, match=r"width(\[1\])?: is None, not a number of pixels"):
        Frames.build(width, 480, frame_id=["a", "b"])  # type: ignore[arg-type]


class _Boxes:
    """Ultralytics' Boxes as prelabel sees it: cpu() and numpy() give Boxes again, no array."""

    xyxy = np.array([[1.0, 2, 30, 40]])

    def cpu(self) -> _Boxes:
        return self

    def numpy(self) -> _Boxes:
        return self


def test_a_boxes_object_for_an_array_gets_the_attribute_to_pass(frames: Frames) -> None:
    with pytest.raises(
        InputError, match=r"^xyxy: expected .* cannot be copied .*; pass its \.xyxy$"
    ):
        Annotations.from_boxes(frames, _Boxes(), "car", 0)

"""The numpy / shapely core: normalisation, checks and the three policies."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import example, given
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.errors import GeometryError
from prelabel.geometry import (
    LINEWORK_MAX_CROSSINGS,
    LINEWORK_MAX_POINTS,
    MAX_CROSSING_PAIRS,
    MAX_CROSSINGS,
    denormalise,
    normalise,
    polygon_validity,
    prepare,
    self_crossings,
    wrong_point_count,
)
from tests.strategies import annotations


@pytest.fixture
def frames() -> Frames:
    return Frames.build([200, 400], [100, 300], frame_id=["a", "b"], src=["s3://x/a", "s3://x/b"])


def test_normalise_divides_by_each_points_frame(frames: Frames) -> None:
    ann = Annotations.from_boxes(frames, [[20, 10, 100, 50], [20, 10, 100, 50]], ["c", "c"], [0, 1])
    out = normalise(ann)
    # frame a is 200 x 100: x 20/200 = 0.1, y 10/100 = 0.1; frame b is 400 x 300: 20/400 = 0.05
    assert out.points[0].tolist() == [0.1, 0.1]
    assert out.points[4].tolist() == [0.05, 10 / 300]
    assert out.normalised
    assert not ann.normalised


@given(annotations())
def test_normalise_round_trip(ann: Annotations) -> None:
    back = denormalise(normalise(ann))
    np.testing.assert_allclose(back.points, ann.points, rtol=1e-9, atol=1e-9)


@given(annotations())
def test_point_in_unit_square_iff_inside_its_frame(ann: Annotations) -> None:
    norm = normalise(ann).points
    size = np.repeat(np.stack([ann.frames.width, ann.frames.height], 1)[ann.frame], ann.counts, 0)
    inside = ((ann.points >= 0) & (ann.points <= size)).all(axis=1)
    in_unit = ((norm >= 0) & (norm <= 1)).all(axis=1)
    assert (inside == in_unit).all()


def test_point_count_rules(frames: Frames) -> None:
    ann = Annotations.concat(
        [
            Annotations.from_polygons(
                frames, [np.zeros((2, 2)), np.zeros((3, 2))], ["p", "p"], [0, 0]
            ),
            Annotations.from_lines(
                frames, [np.zeros((1, 2)), np.zeros((2, 2))], ["l", "l"], [0, 0]
            ),
            Annotations.from_point_lists(frames, Kind.CUBOID, [np.zeros((7, 2))], ["c"], [0]),
            Annotations.from_landmarks(frames, [np.zeros((0, 2))], ["k"], [0]),
        ]
    )
    assert wrong_point_count(ann).tolist() == [True, False, True, False, True, True]


def _mixed(frames: Frames) -> Annotations:
    return Annotations.concat(
        [
            Annotations.from_boxes(
                frames, [[20, 10, 100, 50], [-20, 10, 100, 50]], ["ok", "out"], [0, 0]
            ),
            Annotations.from_boxes(frames, [[50, 10, 50, 50]], ["flat"], [0]),
            Annotations.from_polygons(
                frames,
                [[[0, 0], [100, 100], [100, 0], [0, 100]], [[np.nan, 0], [1, 1], [2, 0]]],
                ["bowtie", "nan"],
                [0, 0],
            ),
        ]
    )


def test_error_policy_lists_every_problem_and_changes_nothing(frames: Frames) -> None:
    with pytest.raises(GeometryError) as info:
        prepare(_mixed(frames), "error")
    reasons = sorted((p["label"], p["reason"]) for p in info.value.problems)
    assert reasons == [
        ("bowtie", "self_intersection"),
        ("flat", "zero_extent"),
        ("nan", "non_finite"),
        ("out", "out_of_frame"),
    ]


def test_drop_policy_removes_each_failing_shape(frames: Frames) -> None:
    out, report = prepare(_mixed(frames), "drop")
    assert [out.labels[i] for i in out.label] == ["ok"]
    assert report.counts[("dropped", "out_of_frame")] == 1
    assert len(report) == 4


def test_repair_policy_clips_and_makes_valid(frames: Frames) -> None:
    out, report = prepare(_mixed(frames), "repair")
    names = [out.labels[i] for i in out.label]
    assert names == ["ok", "out", "bowtie"]
    # the box from x=-20 is clipped at the left edge: x 0 .. 100/200 = 0.5
    out_box = out.points[out.offsets[1] : out.offsets[2]]
    assert out_box[:, 0].tolist() == [0.0, 0.5, 0.5, 0.0]
    assert report.counts == {
        ("repaired", "out_of_frame"): 1,
        ("repaired", "self_intersection"): 1,
        ("dropped", "zero_extent"): 1,
        ("dropped", "non_finite"): 1,
    }
    invalid, zero = polygon_validity(out)
    assert not invalid.any()
    assert not zero.any()


def test_reversed_box_is_reordered_and_reported(frames: Frames) -> None:
    ann = Annotations.from_boxes(frames, [[100, 50, 20, 10]], ["r"], [0])
    out, report = prepare(ann)
    assert out.points.tolist() == [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]
    assert report.counts[("repaired", "negative_extent")] == 1


def test_repeated_points_removed_from_polygons_not_landmarks(frames: Frames) -> None:
    poly = [[0, 0], [0, 0], [100, 0], [100, 50], [0, 0]]  # a repeat and an explicit closing point
    ann = Annotations.from_polygons(frames, [poly], ["p"], [0]) + Annotations.from_landmarks(
        frames, [[[1, 1], [1, 1]]], ["k"], [0]
    )
    out, report = prepare(ann)
    assert out.counts.tolist() == [3, 2]
    assert report.counts == {("repaired", "repeated_points"): 1}


def test_out_of_frame_landmark_points_left_out(frames: Frames) -> None:
    ann = Annotations.from_landmarks(frames, [[[10, 10], [300, 10], [20, 20]]], ["k"], [0])
    out, _ = prepare(ann)
    assert out.point_label.tolist() == [1, 3]  # point 2 (x 300 > 200) is gone, numbers kept


def test_track_repeated_frame_keeps_best_score(frames: Frames) -> None:
    ann = Annotations.from_boxes(
        frames, [[0, 0, 10, 10], [0, 0, 20, 20]], ["c", "c"], [0, 0], track=[4, 4], score=[0.2, 0.9]
    )
    out, report = prepare(ann)
    assert out.score.tolist() == [0.9]
    assert report.counts == {("dropped", "track_repeated_frame"): 1}


def test_track_mixing_kinds_split_under_repair_dropped_under_drop(frames: Frames) -> None:
    ann = Annotations.from_boxes(
        frames, [[0, 0, 10, 10]], ["c"], [0], track=[1]
    ) + Annotations.from_polygons(frames, [[[0, 0], [10, 0], [0, 10]]], ["c"], [1], track=[1])
    out, report = prepare(ann, "repair")
    assert len(out) == 2
    assert report.counts == {("split", "track_mixed_kinds"): 2}
    out, report = prepare(ann, "drop")
    assert len(out) == 0
    assert report.counts == {("dropped", "track_mixed_kinds"): 2}


def _geometry_is_valid(out: Annotations) -> bool:
    for i in range(len(out)):  # a test may loop: it checks the vectorised code's result
        pts = out.points[out.offsets[i] : out.offsets[i + 1]]
        kind = Kind(int(out.kind[i]))
        if not np.isfinite(pts).all() or (pts < 0).any() or (pts > 1).any():
            return False
        if kind == Kind.POLYGON:
            poly = shapely.Polygon(pts)
            if len(pts) < 3 or not poly.is_valid or poly.area <= 0:
                return False
        if kind == Kind.RECTANGLE:
            (x0, y0), (x1, y1) = pts[0], pts[2]
            if len(pts) != 4 or x1 <= x0 or y1 <= y0:
                return False
        if kind == Kind.LINE and (len(pts) < 2 or shapely.LineString(pts).length <= 0):
            return False
        if kind == Kind.CUBOID and len(pts) != 8:
            return False
        if kind == Kind.LANDMARK and len(pts) < 1:
            return False
    return True


@given(annotations())
def test_repair_never_emits_invalid_geometry(ann: Annotations) -> None:
    out, _ = prepare(ann, "repair")
    assert _geometry_is_valid(out)


@given(annotations())
def test_drop_keeps_only_shapes_that_pass_every_check(ann: Annotations) -> None:
    out, report = prepare(ann, "drop")
    assert _geometry_is_valid(out)
    assert len(out) + len(report) == len(ann)


# --- self-intersections: the repair budget -------------------------------------------------
def _ring(n: int, seed: int = 0, scale: float = 1000.0) -> np.ndarray:
    """``n`` vertices of a 1000 x 1000 frame in random order: a ring that crosses itself
    about n * n / 10 times (4,549 crossings at 200 vertices)."""
    return np.random.default_rng(seed).uniform(0, scale, (n, 2))


def _circle(n: int, twists: int = 0) -> np.ndarray:
    """A circle of ``n`` vertices; each twist swaps two neighbours: one crossing (a bow-tie)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([500 + 400 * np.cos(t), 500 + 400 * np.sin(t)], axis=1)
    for i in range(twists):
        j = 2 * i * (n // (2 * twists))
        pts[[j, j + 1]] = pts[[j + 1, j]]
    return pts


@pytest.fixture
def square_frame() -> Frames:
    return Frames.build([1000], [1000], frame_id=["a"], src=["s3://x/a"])


def test_self_crossings_counts_each_ring_on_its_own(square_frame: Frames) -> None:
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    bowtie = [[0, 0], [10, 10], [10, 0], [0, 10]]
    # a pentagram: each of its 5 edges crosses the 2 edges it does not touch: 5 * 2 / 2 = 5
    star = [[500 + 400 * np.sin(a), 500 - 400 * np.cos(a)] for a in np.arange(5) * 4 * np.pi / 5]
    ann = Annotations.from_polygons(
        square_frame, [square, bowtie, star, bowtie], ["p"] * 4, [0] * 4
    )
    crossings, pairs = self_crossings(ann, np.arange(4))
    # the two bow-ties lie on top of each other: neither counts the other's edges
    assert crossings.tolist() == [0, 1, 5, 1]
    assert (pairs >= crossings).all()


def test_self_crossings_stops_at_the_cap(square_frame: Frames) -> None:
    ann = Annotations.from_polygons(square_frame, [_ring(2000)], ["p"], [0])
    full, full_pairs = self_crossings(ann, np.array([0]), cap=10**9)
    capped, capped_pairs = self_crossings(ann, np.array([0]), cap=100)
    assert full[0] > 100_000  # about 2000 * 2000 / 10
    assert 100 < capped[0] < full[0]
    assert capped_pairs[0] < full_pairs[0]


def test_bowtie_keeps_the_linework_repair(frames: Frames) -> None:
    ann = Annotations.from_polygons(frames, [[[0, 0], [100, 100], [100, 0], [0, 100]]], ["b"], [0])
    out, report = prepare(ann)
    # two triangles of equal area meet at (50, 50); linework's first one is the left lobe,
    # in frame a (200 x 100): (0, 100) -> (0, 1), (50, 50) -> (0.25, 0.5), (0, 0)
    assert out.points.tolist() == [[0.0, 1.0], [0.25, 0.5], [0.0, 0.0]]
    assert [(r["reason"], r.get("detail")) for r in report.rows] == [("self_intersection", None)]


@pytest.mark.parametrize(
    ("points", "why"),
    [
        (_ring(200), "4,549 crossings > 500"),
        (_circle(100_000, twists=1), "100,000 points > 5,000"),
        (_circle(100_000, twists=1000), "1,000 crossings, 100,000 points"),
    ],
)
def test_rings_over_the_linework_budget_are_repaired_by_structure(
    square_frame: Frames, points: np.ndarray, why: str
) -> None:
    ann = Annotations.from_polygons(square_frame, [points], ["p"], [0])
    crossings = self_crossings(normalise(ann), np.array([0]))[0][0]
    assert 0 < crossings <= MAX_CROSSINGS
    assert crossings > LINEWORK_MAX_CROSSINGS or len(points) > LINEWORK_MAX_POINTS, why
    out, report = prepare(ann)
    assert len(out) == 1, why
    assert _geometry_is_valid(out), why
    assert report.counts == {("repaired", "self_intersection"): 1}
    assert "method=structure" in report.rows[0]["detail"]


@pytest.mark.parametrize("n", [1000, 10_000, 100_000])
def test_rings_over_the_crossing_budget_are_dropped_and_reported(
    square_frame: Frames, n: int
) -> None:
    ann = Annotations.from_polygons(square_frame, [_ring(n)], ["p"], [0])
    box = Annotations.from_boxes(square_frame, [[0, 0, 10, 10]], ["b"], [0])
    out, report = prepare(ann + box)
    assert [out.labels[i] for i in out.label] == ["b"]
    assert report.counts == {("dropped", "self_intersection_too_complex"): 1}
    assert f"more than {MAX_CROSSINGS:,} crossings" in report.rows[0]["detail"]
    assert report.rows[0]["shape"] == 0


def test_error_policy_names_an_overly_complex_ring_a_self_intersection(
    square_frame: Frames,
) -> None:
    ann = Annotations.from_polygons(square_frame, [_ring(100_000)], ["p"], [0])
    with pytest.raises(GeometryError) as info:
        prepare(ann, "error")
    assert [p["reason"] for p in info.value.problems] == ["self_intersection"]
    out, report = prepare(ann, "drop")
    assert len(out) == 0
    assert report.counts == {("dropped", "self_intersection"): 1}


def test_one_call_mixes_linework_structure_and_drops_row_by_row(square_frame: Frames) -> None:
    rings = [
        [[0, 0], [100, 100], [100, 0], [0, 100]],  # a bow-tie: linework
        _ring(200),  # 4,549 crossings: structure
        _ring(1000, seed=1),  # ~100k crossings: dropped
        _circle(10_000, twists=1),  # 10,000 points: structure
    ]
    names = ["bowtie", "random200", "random1000", "circle"]
    ann = Annotations.from_polygons(square_frame, rings, names, [0] * 4)
    ann = ann + Annotations.from_boxes(square_frame, [[0, 0, 10, 10]], ["box"], [0])
    out, report = prepare(ann)
    assert [out.labels[i] for i in out.label] == ["bowtie", "random200", "circle", "box"]
    assert _geometry_is_valid(out)
    rows = sorted(
        (r["shape"], r["action"], r["reason"], bool(r.get("detail"))) for r in report.rows
    )
    assert rows == [
        (0, "repaired", "self_intersection", False),
        (1, "repaired", "self_intersection", True),
        (2, "dropped", "self_intersection_too_complex", True),
        (3, "repaired", "self_intersection", True),
    ]
    # the bow-tie's left lobe: (0, 100), (50, 50), (0, 0) of the 1000 x 1000 frame
    assert out.points[: out.offsets[1]].tolist() == [[0.0, 0.1], [0.05, 0.05], [0.0, 0.0]]


def _zigzag(n: int) -> np.ndarray:
    """A valid ring of ``n`` points: parallel diagonals up and down across the frame, closed
    underneath. Its edges never cross, but every edge's box overlaps nearly every other's:
    about n * n / 2 pairs to test (GEOS's own validity check takes minutes at 100k points)."""
    m = (n - 2) // 2
    x = np.arange(m) * (0.5 / m)
    pts = np.empty((2 * m, 2))
    pts[0::2] = np.stack([x, np.zeros(m)], axis=1)
    pts[1::2] = np.stack([x + 0.5, np.ones(m)], axis=1)
    pts = np.vstack([pts, [[1.0, 1.2], [0.0, 1.2]]])
    return pts * 700 + 100  # inside the 1000 x 1000 frame


@pytest.mark.parametrize("policy", ["repair", "drop"])
def test_a_ring_with_too_many_edge_pairs_to_check_is_dropped_and_reported(
    square_frame: Frames, policy: str
) -> None:
    ring = _zigzag(10_000)
    assert shapely.Polygon(_zigzag(1_000)).is_valid  # the same shape, small enough to check
    ann = Annotations.from_polygons(square_frame, [ring, _zigzag(1_000)], ["big", "small"], [0, 0])
    out, report = prepare(ann, policy)
    assert [out.labels[i] for i in out.label] == ["small"]
    assert [(r["shape"], r["reason"]) for r in report.rows] == [
        (0, "self_intersection_too_complex")
    ]
    assert f"more than {MAX_CROSSING_PAIRS:,} pairs" in report.rows[0]["detail"]


def test_coordinates_near_the_float_limit_give_no_warning(frames: Frames) -> None:
    # a CVAT ellipse with rx=1e308 becomes a polygon whose area and clip overflow in GEOS;
    # the shape is handled by the checks (clipped or dropped and reported), and no
    # RuntimeWarning line reaches stderr
    huge = [[10.0, 10.0], [1e308, 10.0], [1e308, 1e308], [10.0, 1e308]]
    ann = Annotations.from_polygons(frames, [huge], ["p"], [0])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, report = prepare(ann, "repair")
    assert len(out) + sum(r["action"] == "dropped" for r in report.rows) == 1
    assert report.rows


# --- prepare is idempotent ------------------------------------------------------------------
def _ring_with_repeated_closing_point() -> Annotations:
    # the closing point (1.5, 1.5) given twice: removing the repeat must not leave the other
    frames = Frames.build([4], [4])
    ring = [[1.5, 1.5], [1.5, 2.0], [2.0, 2.0], [1.5, 1.5], [1.5, 1.5]]
    return Annotations.from_polygons(frames, [ring], ["p"], [0])


@st.composite
def _shapes_with_repeats(draw: st.DrawFn) -> Annotations:
    """Polygons, lines and boxes whose points come from a few values per axis (so equal
    points, collinear runs and zero extents are common), each point given 1-3 times, rings
    closed explicitly 0-3 times; some points outside the frame, some tracks repeated.
    Pixel coordinates are never subnormal (GEOS clips a ring with a 5e-324 coordinate to one
    that leaves the frame)."""
    sizes = st.integers(1, 2000)
    frames = Frames.build(
        [draw(sizes), draw(sizes)], [draw(sizes), draw(sizes)], sequence=["v", "v"], index=[0, 1]
    )
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        f = draw(st.integers(0, 1))
        w, h = float(frames.width[f]), float(frames.height[f])
        fractions = st.sampled_from([-0.25, 0.0, 0.25, 0.5, 1.0, 1.25]) | st.floats(
            -0.5, 1.5, allow_subnormal=False
        )
        pool = [[draw(fractions) * w, draw(fractions) * h] for _ in range(draw(st.integers(1, 4)))]
        kind = draw(st.sampled_from([Kind.POLYGON, Kind.LINE, Kind.RECTANGLE]))
        if kind == Kind.RECTANGLE:  # any 4 corners: reversed, skewed or repeated
            pts = [draw(st.sampled_from(pool)) for _ in range(4)]
        else:
            base = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(1, 6)))]
            pts = [p for p in base for _ in range(draw(st.integers(1, 3)))]
            if kind == Kind.POLYGON:
                pts += [base[0]] * draw(st.integers(0, 3))
        parts.append(
            Annotations._point_lists(  # unchecked, as readers build: any pixel geometry
                frames,
                kind,
                [np.asarray(pts, dtype=np.float64)],
                ["s"],
                [f],
                track=[draw(st.sampled_from([-1, 0, 1]))],
                score=[draw(st.sampled_from([0.5, 0.9]))],
            )
        )
    return Annotations.concat(parts)


def _assert_same_shapes(a: Annotations, b: Annotations) -> None:
    assert a.normalised == b.normalised
    assert a.labels == b.labels
    for name in ("kind", "frame", "label", "track", "offsets", "points", "point_label"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.score, b.score, equal_nan=True)
    assert a.attributes.tolist() == b.attributes.tolist()
    assert a.source.tolist() == b.source.tolist()


@example(ann=_ring_with_repeated_closing_point())
@given(ann=_shapes_with_repeats())
def test_prepare_is_idempotent(ann: Annotations) -> None:
    for policy in ("repair", "drop"):
        once, _ = prepare(ann, policy)
        twice, report = prepare(once, policy)
        _assert_same_shapes(twice, once)
        # the second pass finds nothing to repair or drop (a track that mixes kinds is kept
        # as it is, split into trackers per kind later, so it is reported as split again)
        assert [r for r in report.rows if r["action"] != "split"] == []


def test_a_repeated_closing_point_goes_with_the_repeat_in_one_pass() -> None:
    once, report = prepare(_ring_with_repeated_closing_point())
    # (1.5, 1.5), (1.5, 2), (2, 2) of the 4 x 4 frame, divided by 4; the two closing points gone
    assert once.points.tolist() == [[0.375, 0.375], [0.375, 0.5], [0.5, 0.5]]
    assert report.counts == {("repaired", "repeated_points"): 1}


def test_drop_removes_a_skewed_box_and_a_reversed_box_after_it(frames: Frames) -> None:
    skewed = [[10, 10], [50, 20], [50, 50], [10, 50]]  # TL -> TR not horizontal
    reversed_box = [[50, 10], [10, 10], [10, 50], [50, 50]]  # x runs right to left
    ann = Annotations.from_point_lists(
        frames, Kind.RECTANGLE, [skewed, reversed_box], ["s", "r"], [0, 0]
    ) + Annotations.from_boxes(frames, [[10, 10, 50, 50]], ["ok"], [0])
    out, report = prepare(ann, "drop")
    assert [out.labels[i] for i in out.label] == ["ok"]
    assert [(r["shape"], r["reason"]) for r in report.rows] == [
        (0, "rectangle_not_axis_aligned"),
        (1, "negative_extent"),
    ]

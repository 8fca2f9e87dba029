"""The numpy / shapely core: normalise pixel coordinates, check every shape, repair under a policy.

Everything here is column operations over all points of all shapes at once: per-point work is
numpy, per-shape reductions are ``bincount`` / ``reduceat``, polygon validity and clipping are
shapely 2 array functions. Nothing loops over shapes in Python.

Convention: pixel coordinates are continuous, with the origin at the top-left corner of the
image; a point at x = width lies on the right edge. Normalised x = x / width, y = y / height,
no half-pixel shift.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from prelabel._ragged import offsets_from_counts, rows_at, run_owner
from prelabel.annotations import Annotations, FloatArray, IntArray, Kind
from prelabel.errors import GeometryError, param
from prelabel.report import Action, Reason, Report

# A point this far outside [0, 1] (in normalised units) is float noise, not a shape leaving
# the frame: it is clamped without a report row. 1e-9 of a 100k-pixel image is 1e-4 pixel.
EDGE_TOLERANCE = 1e-9
MIN_EXTENT = 1e-12

BoolArray = npt.NDArray[np.bool_]


class Policy(str, Enum):
    """What to do with a shape that fails a check."""

    ERROR = "error"
    DROP = "drop"
    REPAIR = "repair"


def as_policy(value: Policy | str) -> Policy:
    """``on_invalid`` as a :class:`Policy`; anything else is a ``ValueError`` naming it."""
    try:
        return Policy(value)
    except ValueError:
        raise ValueError(f"on_invalid must be 'error', 'drop' or 'repair', not {value!r}") from None


# The repair budget for self-intersecting polygons (docs/benchmarks.md has the figures).
# ``make_valid``'s default "linework" method is superlinear in the crossings and in the
# ring's length (a random 200-vertex ring, ~4,500 crossings: 7 s; a 100k-vertex ring with one
# crossing: 0.75 s); "structure" does the same rings in 0.06 s and 0.02 s but builds a
# different polygon where the ring overlaps itself. So: linework (the repair prelabel has
# always made) for ordinary rings, structure above these sizes, and a reported drop above
# MAX_CROSSINGS (structure: ~0.3 s at 10k crossings, 1 s at 18k, 4 s at 110k) or when
# counting them would test more than MAX_CROSSING_PAIRS pairs of edges.
LINEWORK_MAX_CROSSINGS = 500
LINEWORK_MAX_POINTS = 5_000
MAX_CROSSINGS = 10_000
MAX_CROSSING_PAIRS = 2_000_000
# rings this long are counted before GEOS's validity check (see prepare, step 5)
PRECHECK_POINTS = 5_000
# edge pairs tested per chunk while counting crossings (bounds the memory of a count)
_PAIRS_PER_CHUNK = 250_000

# minimum points per kind; rectangles and cuboids need exactly this many
MIN_POINTS = {Kind.RECTANGLE: 4, Kind.POLYGON: 3, Kind.LINE: 2, Kind.CUBOID: 8, Kind.LANDMARK: 1}
EXACT_POINTS = {Kind.RECTANGLE, Kind.CUBOID}


# --- normalisation ------------------------------------------------------------------------
def frame_size_per_point(ann: Annotations) -> FloatArray:
    """(P, 2) array of the width and height of each point's frame."""
    frame_of_point = np.repeat(ann.frame, ann.counts)
    return np.stack([ann.frames.width[frame_of_point], ann.frames.height[frame_of_point]], axis=1)


def normalise_points(points: FloatArray, sizes: FloatArray) -> FloatArray:
    """Pixel -> 0..1: each point divided by its frame's (width, height)."""
    return points / sizes


def normalise(ann: Annotations) -> Annotations:
    """The same shapes with every coordinate divided by its frame's width and height."""
    if ann.normalised:
        return ann
    return ann.with_points(normalise_points(ann.points, frame_size_per_point(ann)), normalised=True)


def denormalise(ann: Annotations) -> Annotations:
    """Back to pixels (x * width, y * height)."""
    if not ann.normalised:
        return ann
    return ann.with_points(ann.points * frame_size_per_point(ann), normalised=False)


# --- per-shape reductions -----------------------------------------------------------------
def _any_per_shape(ann: Annotations, point_mask: BoolArray) -> BoolArray:
    return np.bincount(ann.point_shape[point_mask], minlength=len(ann)) > 0


def _reduce_per_shape(
    ann: Annotations, values: FloatArray, ufunc: np.ufunc, empty: float
) -> FloatArray:
    """``ufunc.reduceat`` per shape, with ``empty`` for shapes without points."""
    out = np.full(len(ann), empty, dtype=np.float64)
    counts = ann.counts
    has = counts > 0
    if has.any() and len(values):
        out[has] = ufunc.reduceat(values, ann.offsets[:-1][has])
    return out


def _bounds(ann: Annotations) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-shape min x, min y, max x, max y (NaN for shapes without points)."""
    x, y = ann.points[:, 0], ann.points[:, 1]
    return (
        _reduce_per_shape(ann, x, np.minimum, np.nan),
        _reduce_per_shape(ann, y, np.minimum, np.nan),
        _reduce_per_shape(ann, x, np.maximum, np.nan),
        _reduce_per_shape(ann, y, np.maximum, np.nan),
    )


# --- checks (each returns a boolean per shape: True = has the problem) --------------------
def bad_frame_size(ann: Annotations) -> BoolArray:
    w, h = ann.frames.width[ann.frame], ann.frames.height[ann.frame]
    return ~(np.isfinite(w) & np.isfinite(h) & (w > 0) & (h > 0))


def non_finite(ann: Annotations) -> BoolArray:
    finite: BoolArray = np.all(np.isfinite(ann.points), axis=1)
    return _any_per_shape(ann, ~finite)


def wrong_point_count(ann: Annotations) -> BoolArray:
    need = np.array([MIN_POINTS[k] for k in Kind], dtype=np.int64)[ann.kind]
    exact = np.isin(ann.kind, [int(k) for k in EXACT_POINTS])
    counts = ann.counts
    return np.where(exact, counts != need, counts < need)


def repeated_point_mask(ann: Annotations) -> BoolArray:
    """Per point: equal to the previous point of the same polygon or line, or, for a
    polygon, part of the run of points at its end equal to its first (an explicitly closed
    ring, its closing point given once or more).

    Removing the marked points leaves no point equal to its predecessor and no ring ending
    on its first point, so a second pass marks nothing."""
    pts, shape = ann.points, ann.point_shape
    dup = np.zeros(len(pts), dtype=bool)
    if len(pts) > 1:
        dup[1:] = (pts[1:] == pts[:-1]).all(axis=1) & (shape[1:] == shape[:-1])
    kinds = ann.kind
    closing = (kinds == Kind.POLYGON) & (ann.counts > 1)
    last = ann.offsets[1:][closing] - 1
    first = ann.offsets[:-1][closing]
    closed = (pts[last] == pts[first]).all(axis=1)
    last, first = last[closed], first[closed]
    # the whole last run of equal points goes, not only the last point: its points after
    # the first are already marked as repeats, so mark where it starts (unless that is the
    # ring's first point, whose run is the whole ring)
    repeats = dup[last]
    if repeats.any():
        run_starts = np.flatnonzero(~dup)  # every shape's first point is one
        start = run_starts[np.searchsorted(run_starts, last[repeats], side="right") - 1]
        dup[start[start > first[repeats]]] = True
    dup[last] = True
    return dup & np.isin(kinds[shape], [Kind.POLYGON, Kind.LINE])


def out_of_frame_point_mask(ann: Annotations, tolerance: float = EDGE_TOLERANCE) -> BoolArray:
    """Per point of normalised shapes: outside [0, 1] by more than ``tolerance``."""
    p = ann.points
    outside: BoolArray = np.any((p < -tolerance) | (p > 1 + tolerance), axis=1)
    return outside


def rectangle_extent(ann: Annotations) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per shape (NaN for non-rectangles): width and height from the TL->TR and TR->BR edges,
    and whether the four corners are axis-aligned in TL, TR, BR, BL order."""
    n = len(ann)
    w = np.full(n, np.nan)
    h = np.full(n, np.nan)
    aligned = np.ones(n, dtype=bool)
    rect = np.flatnonzero((ann.kind == Kind.RECTANGLE) & (ann.counts == 4))
    if rect.size:
        c = ann.points[ann.offsets[rect][:, None] + np.arange(4)]  # (R, 4, 2)
        w[rect] = c[:, 1, 0] - c[:, 0, 0]
        h[rect] = c[:, 2, 1] - c[:, 1, 1]
        aligned[rect] = (
            (c[:, 0, 1] == c[:, 1, 1])
            & (c[:, 2, 1] == c[:, 3, 1])
            & (c[:, 0, 0] == c[:, 3, 0])
            & (c[:, 1, 0] == c[:, 2, 0])
        )
    return w, h, aligned


def _ring_geometries(ann: Annotations, rows: IntArray, kind: Kind) -> npt.NDArray[np.object_]:
    """shapely polygons (or linestrings) of the selected shapes, built in one call.

    ``from_ragged_array`` builds them straight from the coordinate runs, a third of the time
    of ``linearrings`` + ``polygons`` (which make every ring an object first); it closes each
    ring itself, padding a degenerate one to the 4 coordinates GEOS needs."""
    sub = ann[rows]
    points = np.ascontiguousarray(sub.points)
    if kind != Kind.POLYGON:
        return np.asarray(
            shapely.from_ragged_array(shapely.GeometryType.LINESTRING, points, (sub.offsets,))
        )
    geom_offsets = np.arange(len(sub) + 1, dtype=np.int64)
    return np.asarray(
        shapely.from_ragged_array(shapely.GeometryType.POLYGON, points, (sub.offsets, geom_offsets))
    )


def polygon_validity(
    ann: Annotations, only: BoolArray | None = None
) -> tuple[BoolArray, BoolArray]:
    """Per shape: (self-intersecting, zero area) for polygons with >= 3 finite points.

    ``only`` restricts the check to some shapes (validity is the costly check); the caller
    then guarantees those shapes' points are finite."""
    n = len(ann)
    invalid = np.zeros(n, dtype=bool)
    zero = np.zeros(n, dtype=bool)
    rows = np.flatnonzero((ann.kind == Kind.POLYGON) & (ann.counts >= 3))
    rows = rows[~non_finite(ann)[rows]] if only is None else rows[only[rows]]
    if rows.size:
        geoms = _ring_geometries(ann, rows, Kind.POLYGON)
        valid = shapely.is_valid(geoms)
        # a bow-tie's lobes cancel to zero area, so validity comes first: zero area is
        # only reported for otherwise valid rings
        invalid[rows] = ~valid
        zero[rows] = valid & (shapely.area(geoms) <= 0)
    return invalid, zero


def _orientation(u: FloatArray, v: FloatArray, w: FloatArray) -> FloatArray:
    """Twice the signed area of triangles (u, v, w), row by row."""
    out: FloatArray = (v[:, 0] - u[:, 0]) * (w[:, 1] - u[:, 1]) - (v[:, 1] - u[:, 1]) * (
        w[:, 0] - u[:, 0]
    )
    return out


def self_crossings(
    ann: Annotations,
    rows: IntArray,
    cap: int = MAX_CROSSINGS,
    max_pairs: int = MAX_CROSSING_PAIRS,
) -> tuple[IntArray, IntArray]:
    """Per selected polygon: (crossings, edge pairs tested) among its non-adjacent edges.

    The cost of repairing a ring grows with its crossings, so this is the repair's budget: one
    STRtree over the edges of all the selected rings, queried a chunk of edges at a time
    (bounding boxes that overlap), then a numpy orientation test on the candidate pairs. A
    ring's count stops once it exceeds ``cap`` or ``max_pairs`` pairs were tested (its numbers
    are then lower bounds), so a ring with a billion crossings costs a few chunks, not a
    billion tests. Edges that touch or overlap count as crossing.
    """
    n = len(rows)
    crossings = np.zeros(n, dtype=np.int64)
    pairs = np.zeros(n, dtype=np.int64)
    if n == 0:
        return crossings, pairs
    sub = ann[rows]
    offsets, counts = sub.offsets, sub.counts
    a = sub.points
    owner = run_owner(counts)
    nxt = np.arange(1, len(a) + 1, dtype=np.int64)  # each edge runs a -> a[nxt]
    nxt[offsets[1:][counts > 0] - 1] = offsets[:-1][counts > 0]
    b = a[nxt]
    # the boxes of each ring scaled into its own unit square, the squares side by side: one
    # tree, but no candidate pairs between rings (scaling keeps which boxes overlap)
    x0, y0, x1, y1 = (v[rows] for v in _bounds(ann))
    origin = np.stack([x0, y0], axis=1)
    extent = np.stack([x1 - x0, y1 - y0], axis=1)
    extent[extent <= 0] = 1.0
    shift = np.stack([3.0 * np.arange(n), np.zeros(n)], axis=1)
    lo = (np.minimum(a, b) - origin[owner]) / extent[owner] + shift[owner]
    hi = (np.maximum(a, b) - origin[owner]) / extent[owner] + shift[owner]
    boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
    tree = shapely.STRtree(boxes)
    total, start = len(a), 0
    # the first chunk can meet every edge of the longest ring: size it for that
    chunk = max(1, _PAIRS_PER_CHUNK // max(int(counts.max()), 1))
    while start < total:
        end = min(total, start + chunk)
        q, t = tree.query(boxes[start:end])
        per_edge = max(len(q) / (end - start), 1.0)
        q = q + start
        # each unordered pair once, within one ring, and not two edges sharing a vertex
        keep = (t > q) & (owner[t] == owner[q]) & (t != nxt[q]) & (q != nxt[t])
        q, t = q[keep], t[keep]
        d1 = _orientation(a[q], b[q], a[t])
        d2 = _orientation(a[q], b[q], b[t])
        d3 = _orientation(a[t], b[t], a[q])
        d4 = _orientation(a[t], b[t], b[q])
        hit = (d1 * d2 <= 0) & (d3 * d4 <= 0)
        pairs += np.bincount(owner[q], minlength=n)
        crossings += np.bincount(owner[q[hit]], minlength=n)
        start = end
        done = (crossings > cap) | (pairs > max_pairs)
        while start < total and done[owner[start]]:  # skip the rest of a finished ring
            start = int(offsets[owner[start] + 1])
        # next chunk: about _PAIRS_PER_CHUNK candidates at the rate this one found
        chunk = int(min(_PAIRS_PER_CHUNK / per_edge, 2 * chunk)) or 1
    return crossings, pairs


def zero_extent(ann: Annotations) -> BoolArray:
    """Rectangles without width or height, lines of zero length, cuboids collapsed to a point."""
    w, h, _ = rectangle_extent(ann)
    x0, y0, x1, y1 = _bounds(ann)
    # a line 1e-255 long has length 0 for GEOS (dy*dy underflows): below 1e-12 of the frame
    # (a nano-pixel) an extent counts as none
    flat = (x1 - x0 <= MIN_EXTENT) & (y1 - y0 <= MIN_EXTENT)
    rect = ann.kind == Kind.RECTANGLE
    out = np.where(rect, (w == 0) | (h == 0), False)
    out |= np.isin(ann.kind, [Kind.LINE, Kind.CUBOID]) & flat
    return out


def track_problems(ann: Annotations) -> tuple[BoolArray, BoolArray]:
    """Per shape: (its track mixes kinds, its track already has a shape in this frame).

    Tracks are per sequence. For a repeated frame the first shape (highest score, then
    input order) is the keeper and the others are flagged.
    """
    n = len(ann)
    mixed = np.zeros(n, dtype=bool)
    repeated = np.zeros(n, dtype=bool)
    tracked = np.flatnonzero(ann.track >= 0)
    if tracked.size == 0:
        return mixed, repeated
    _, seq = np.unique(ann.frames.sequence[ann.frame[tracked]].astype(str), return_inverse=True)
    key = np.stack([seq.ravel(), ann.track[tracked]], axis=1)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.ravel()
    kinds = ann.kind[tracked].astype(np.int64)
    n_groups = int(group.max()) + 1
    kmin = np.full(n_groups, 99, dtype=np.int64)
    kmax = np.full(n_groups, -1, dtype=np.int64)
    np.minimum.at(kmin, group, kinds)
    np.maximum.at(kmax, group, kinds)
    mixed[tracked] = (kmin != kmax)[group]
    # repeated frames: sort by (group, frame, -score, row) and flag all but the first
    score = np.nan_to_num(ann.score[tracked], nan=-np.inf)
    order = np.lexsort((tracked, -score, ann.frame[tracked], kinds, group))
    g, f, k = group[order], ann.frame[tracked][order], kinds[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (g[1:] == g[:-1]) & (f[1:] == f[:-1]) & (k[1:] == k[:-1])
    repeated[tracked[order[same]]] = True
    return mixed, repeated


# --- rebuilding ragged points -------------------------------------------------------------
def keep_points(ann: Annotations, keep: BoolArray) -> Annotations:
    """The same shapes with only the points where ``keep`` is True."""
    counts = np.bincount(ann.point_shape[keep], minlength=len(ann))
    offsets = offsets_from_counts(counts)
    return replace(ann, offsets=offsets, points=ann.points[keep], point_label=ann.point_label[keep])


def replace_runs(
    ann: Annotations, rows: IntArray, counts: IntArray, points: FloatArray
) -> Annotations:
    """Replace the points of shapes ``rows`` by new runs (``counts`` points each, in order)."""
    if rows.size == 0:
        return ann
    new_counts = ann.counts.copy()
    new_counts[rows] = counts
    # where each shape's run starts in the pool [old points; new points]
    pool = np.concatenate([ann.points, points.reshape(-1, 2)])
    pool_labels = np.concatenate([ann.point_label, np.zeros(len(points), np.int32)])
    starts = ann.offsets[:-1].copy()
    starts[rows] = len(ann.points) + offsets_from_counts(counts)[:-1]
    offsets = offsets_from_counts(new_counts)
    idx = rows_at(starts, new_counts)
    return replace(ann, offsets=offsets, points=pool[idx], point_label=pool_labels[idx])


def _largest_parts(
    geoms: npt.NDArray[np.object_], kind: Kind
) -> tuple[BoolArray, IntArray, FloatArray]:
    """For each geometry (possibly multi-part or a collection), the largest polygon (by area) or
    the longest line, as point runs without the closing point. Returns (has a part, counts,
    points)."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    # collections may nest one more level (GeometryCollection of MultiPolygons)
    parts2, owner2 = shapely.get_parts(parts, return_index=True)
    owner = owner[owner2]
    parts = parts2
    want = shapely.GeometryType.POLYGON if kind == Kind.POLYGON else shapely.GeometryType.LINESTRING
    typ = shapely.get_type_id(parts)
    ok = (typ == want) & ~shapely.is_empty(parts)
    parts, owner = parts[ok], owner[ok]
    size = shapely.area(parts) if kind == Kind.POLYGON else shapely.length(parts)
    keep_part = size > 0
    parts, owner, size = parts[keep_part], owner[keep_part], size[keep_part]
    has = np.zeros(len(geoms), dtype=bool)
    if parts.size == 0:
        return has, np.zeros(0, np.int64), np.zeros((0, 2))
    order = np.lexsort((-size, owner))
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    best = order[first]
    has[owner[best]] = True
    chosen = parts[best]
    if kind == Kind.POLYGON:
        chosen = shapely.get_exterior_ring(chosen)
    coords, idx = shapely.get_coordinates(chosen, return_index=True)
    counts = np.bincount(idx, minlength=len(chosen))
    if kind == Kind.POLYGON:  # drop the closing point the ring repeats
        keep = np.ones(len(coords), dtype=bool)
        keep[offsets_from_counts(counts)[1:] - 1] = False
        coords, counts = coords[keep], counts - 1
    return has, counts.astype(np.int64), coords


# --- the policy -----------------------------------------------------------------------------
class _Run:
    """State of one ``prepare`` call: the shapes, their original rows, the report."""

    def __init__(self, ann: Annotations, policy: Policy, report: Report) -> None:
        self.ann = ann
        self.policy = policy
        self.report = report
        self.original = np.arange(len(ann), dtype=np.int64)
        self.problems: list[dict[str, object]] = []
        self.pixels = ann  # for report rows: frames/labels/source of the input
        self.tracked: dict[str, npt.NDArray[Any]] = {}

    def track(self, name: str, column: npt.NDArray[Any]) -> None:
        """Keep a per-shape column in step with the shapes through later drops."""
        self.tracked[name] = column

    def _log(
        self, action: Action, reason: Reason, rows: IntArray, detail: str | None = None
    ) -> None:
        if rows.size == 0:
            return
        if self.policy == Policy.ERROR:
            # the rows the report would get, as problems of the error instead
            found = Report()
            found.add_shapes(Action.DROPPED, reason, self.pixels, self.original[rows], detail)
            self.problems.extend({**r, "action": "error"} for r in found.rows)
        else:
            self.report.add_shapes(action, reason, self.pixels, self.original[rows], detail)

    def drop(self, mask: BoolArray, reason: Reason, detail: str | None = None) -> None:
        rows = np.flatnonzero(mask)
        self._log(Action.DROPPED, reason, rows, detail)
        if rows.size and self.policy != Policy.ERROR:
            keep = ~mask
            self.ann = self.ann[keep]
            self.original = self.original[keep]
            self.tracked = {k: v[keep] for k, v in self.tracked.items()}

    def repaired(
        self, mask_or_rows: npt.ArrayLike, reason: Reason, detail: str | None = None
    ) -> None:
        rows = np.asarray(mask_or_rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        self._log(Action.REPAIRED, reason, rows, detail)

    def handle(self, mask: BoolArray, reason: Reason) -> BoolArray:
        """Under error/drop: record (and drop). Under repair: return the rows to repair."""
        if self.policy == Policy.REPAIR:
            return mask
        self.drop(mask, reason)
        return np.zeros(len(self.ann), dtype=bool)


def prepare(
    ann: Annotations, on_invalid: Policy | str = Policy.REPAIR, report: Report | None = None
) -> tuple[Annotations, Report]:
    """Normalise every shape and enforce the checks under ``on_invalid``.

    - ``error``: raise :class:`GeometryError` listing every problem (nothing is changed);
    - ``drop``: remove each shape that fails any check;
    - ``repair``: clip to the frame, remove repeated points, ``make_valid`` self-intersecting
      polygons, fix reversed rectangles, split tracks that mix kinds, keep the best shape of a
      track's repeated frame, and drop what is still degenerate.

    Every drop and repair becomes a report row. The result is normalised, finite and inside
    [0, 1], with valid geometry for its kind.
    """
    # coordinates near the float limit (an ellipse with rx=1e308) overflow inside numpy and
    # GEOS: the checks see the inf/NaN they give and drop or clip those shapes, so the
    # floating-point warnings would only be stray lines on stderr
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _prepare(ann, on_invalid, report)


def _prepare(
    ann: Annotations, on_invalid: Policy | str, report: Report | None
) -> tuple[Annotations, Report]:
    policy = as_policy(on_invalid)
    report = report if report is not None else Report()
    run = _Run(ann, policy, report)

    # 1. shapes that cannot be normalised or repaired
    run.drop(bad_frame_size(run.ann), Reason.BAD_FRAME_SIZE)
    bad_points = non_finite(run.ann)
    run.track("finite", ~bad_points)  # under ``error`` they stay: shapely must not see them
    run.drop(bad_points, Reason.NON_FINITE)
    run.ann = normalise(run.ann)
    # float noise at the edges (within EDGE_TOLERANCE) is clamped before any check, unreported
    # (normalise made a new array, unless the input came normalised: never touch the caller's)
    pts = run.ann.points.copy() if ann.normalised else run.ann.points
    run.ann = run.ann.with_points(_clamp_noise(pts))

    # 2. repeated consecutive points (polygons, lines)
    dup = repeated_point_mask(run.ann)
    fix = run.handle(_any_per_shape(run.ann, dup), Reason.REPEATED_POINTS)
    if fix.any():
        run.repaired(fix, Reason.REPEATED_POINTS)
        run.ann = keep_points(run.ann, ~repeated_point_mask(run.ann))

    # 3. point counts (not repairable)
    run.drop(wrong_point_count(run.ann), Reason.POINT_COUNT)

    # 4. rectangles: reversed or skewed corners
    w, h, aligned = rectangle_extent(run.ann)
    before = len(run.ann)
    fix = run.handle(~aligned, Reason.NOT_AXIS_ALIGNED)
    if len(run.ann) != before:  # ``drop`` removed the skewed ones: measure what is left
        w, h, aligned = rectangle_extent(run.ann)
    if fix.any():
        run.repaired(fix, Reason.NOT_AXIS_ALIGNED)
    fix2 = run.handle(aligned & ((w < 0) | (h < 0)), Reason.NEGATIVE_EXTENT)
    if fix2.any():
        run.repaired(fix2, Reason.NEGATIVE_EXTENT)
    if fix.any() or fix2.any():
        run.ann = _rectangles_from_bounds(run.ann, np.flatnonzero(fix | fix2))

    # 5. self-intersecting polygons. GEOS's validity check is itself superlinear on long rings
    # with many crossings or many overlapping edges (1-2 s for 100k random vertices, minutes
    # for a valid 100k-vertex zigzag of parallel edges), so long rings are counted first: one
    # over the crossing budget is known invalid, one with too many edge pairs to test is
    # dropped as too complex to check
    finite = run.tracked["finite"]
    crossings = np.full(len(run.ann), -1, dtype=np.int64)
    pairs = np.zeros(len(run.ann), dtype=np.int64)
    long = np.flatnonzero(
        finite & (run.ann.kind == Kind.POLYGON) & (run.ann.counts >= PRECHECK_POINTS)
    )
    crossings[long], pairs[long] = self_crossings(run.ann, long)
    many = crossings > MAX_CROSSINGS
    dense = ~many & (pairs > MAX_CROSSING_PAIRS)
    run.track("crossings", crossings)
    run.track("crossing_pairs", pairs)
    invalid, zero_area = polygon_validity(run.ann, only=finite & ~many & ~dense)
    run.track("invalid", invalid | many)
    run.track("zero_area", zero_area)
    run.track("changed", np.zeros(len(run.ann), dtype=bool))
    run.drop(dense, Reason.SELF_INTERSECTION_TOO_COMPLEX, _DENSE)
    fix = run.handle(run.tracked.pop("invalid"), Reason.SELF_INTERSECTION)
    if fix.any():
        _make_valid(run, np.flatnonzero(fix), report=True)

    # 6. out of frame: clip
    outside = _any_per_shape(run.ann, out_of_frame_point_mask(run.ann))
    fix = run.handle(outside, Reason.OUT_OF_FRAME)
    if fix.any():
        run.repaired(fix, Reason.OUT_OF_FRAME)
        run.tracked["changed"] |= fix
        run.ann = _clip(run.ann, fix)
        # a clipped ring is valid for a valid input; mend any that is not, as part of the clip
        invalid, _ = polygon_validity(run.ann, only=fix)
        _make_valid(run, np.flatnonzero(invalid & fix))
        run.drop(wrong_point_count(run.ann) | _empty(run.ann), Reason.OUT_OF_FRAME)

    # 7. what is left degenerate
    run.drop(zero_extent(run.ann), Reason.ZERO_EXTENT)
    changed = run.tracked["changed"]
    _, zero_changed = polygon_validity(run.ann, only=changed)
    run.drop(np.where(changed, zero_changed, run.tracked["zero_area"]), Reason.ZERO_AREA)

    # 8. tracks
    mixed, repeated = track_problems(run.ann)
    if policy == Policy.REPAIR:
        # trackers are keyed by (sequence, track, kind), so a mixed track splits by itself
        run.report.add_shapes(
            Action.SPLIT, Reason.TRACK_MIXED_KINDS, run.pixels, run.original[mixed]
        )
    else:
        run.drop(mixed, Reason.TRACK_MIXED_KINDS)
        _, repeated = track_problems(run.ann)
    run.drop(repeated, Reason.TRACK_REPEATED_FRAME)

    if run.problems:
        raise GeometryError(
            f"{len(run.problems)} shape problem(s) under {param('on_invalid', 'error', cli='error')}",
            run.problems,
        )
    return run.ann, report


def _clamp_noise(points: FloatArray) -> FloatArray:
    """Snap values within EDGE_TOLERANCE outside [0, 1] onto the edge (in place)."""
    low = points < 0
    if low.any():
        points[low & (points >= -EDGE_TOLERANCE)] = 0.0
    high = points > 1
    if high.any():
        points[high & (points <= 1 + EDGE_TOLERANCE)] = 1.0
    return points


def _make_valid(run: _Run, rows: IntArray, report: bool = False) -> None:
    """Replace polygons ``rows`` by the largest polygon of their ``make_valid``, within the
    repair budget (see LINEWORK_MAX_CROSSINGS): a ring above it is dropped as too complex, a
    polygon with no area left as zero area. ``report``: a row per repaired polygon (the
    linework ones plain, the structure ones with a detail saying so)."""
    if rows.size == 0:
        return
    crossings = np.full(len(rows), -1, dtype=np.int64)
    pairs = np.zeros(len(rows), dtype=np.int64)
    if "crossings" in run.tracked:  # long rings counted before the validity check (step 5)
        crossings = run.tracked["crossings"][rows]
        pairs = run.tracked["crossing_pairs"][rows]
    todo = crossings < 0
    crossings[todo], pairs[todo] = self_crossings(run.ann, rows[todo])
    many = crossings > MAX_CROSSINGS
    dense = ~many & (pairs > MAX_CROSSING_PAIRS)
    too_complex = many | dense
    linework = (
        ~too_complex
        & (crossings <= LINEWORK_MAX_CROSSINGS)
        & (run.ann.counts[rows] <= LINEWORK_MAX_POINTS)
    )
    structure = ~too_complex & ~linework
    if report:
        run.repaired(rows[linework], Reason.SELF_INTERSECTION)
        run.repaired(
            rows[structure],
            Reason.SELF_INTERSECTION,
            f"make_valid method=structure (over {LINEWORK_MAX_CROSSINGS:,} crossings"
            f" or {LINEWORK_MAX_POINTS:,} points)",
        )
        run.tracked["changed"][rows[~too_complex]] = True
    geoms = _ring_geometries(run.ann, rows, Kind.POLYGON)
    geoms[linework] = shapely.make_valid(geoms[linework], method="linework")
    geoms[structure] = shapely.make_valid(
        geoms[structure], method="structure", keep_collapsed=False
    )
    repairable = rows[~too_complex]
    has, counts, pts = _largest_parts(geoms[~too_complex], Kind.POLYGON)
    run.ann = replace_runs(run.ann, repairable[has], counts, pts)
    n = len(run.ann)
    run.track("_no_area", np.isin(np.arange(n), repairable[~has]))
    run.track("_dense", np.isin(np.arange(n), rows[dense]))
    run.drop(np.isin(np.arange(n), rows[many]), Reason.SELF_INTERSECTION_TOO_COMPLEX, _MANY)
    run.drop(run.tracked.pop("_dense"), Reason.SELF_INTERSECTION_TOO_COMPLEX, _DENSE)
    run.drop(run.tracked.pop("_no_area"), Reason.ZERO_AREA)


_MANY = f"more than {MAX_CROSSINGS:,} crossings"
_DENSE = f"more than {MAX_CROSSING_PAIRS:,} pairs of overlapping edges to test"


def _empty(ann: Annotations) -> BoolArray:
    return ann.counts <= 0  # counts are never negative: the same as == 0, typed as a bool array


def _rectangles_from_bounds(ann: Annotations, rows: IntArray) -> Annotations:
    """Rebuild rectangles ``rows`` as TL, TR, BR, BL corners of their bounding box."""
    if rows.size == 0:
        return ann
    x0, y0, x1, y1 = (b[rows] for b in _bounds(ann))
    corners = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 2)
    return replace_runs(ann, rows, np.full(len(rows), 4, np.int64), corners)


_FRAME_BOX = shapely.box(0.0, 0.0, 1.0, 1.0)


def _clip(ann: Annotations, fix: BoolArray) -> Annotations:
    """Clip the shapes in ``fix`` to the frame [0, 1] x [0, 1], each kind its own way."""
    kind = ann.kind
    # rectangles and cuboids: clamp each coordinate (a clamped box stays a box)
    clamp = fix & np.isin(kind, [Kind.RECTANGLE, Kind.CUBOID])
    if clamp.any():
        pmask = np.repeat(clamp, ann.counts)
        pts = ann.points.copy()
        pts[pmask] = np.clip(pts[pmask], 0.0, 1.0)
        ann = ann.with_points(pts)
    # polygons and lines: shapely clip, keeping the largest remaining part
    for k in (Kind.POLYGON, Kind.LINE):
        rows = np.flatnonzero(fix & (kind == k))
        if rows.size:
            # intersection, not clip_by_rect: the latter throws on slivers it cannot close
            geoms = shapely.intersection(_ring_geometries(ann, rows, k), _FRAME_BOX)
            has, counts, pts = _largest_parts(geoms, k)
            full_counts = np.zeros(len(rows), np.int64)
            full_counts[has] = counts
            ann = replace_runs(ann, rows, full_counts, pts)
    # landmarks: points outside the frame are left out
    land = fix & (kind == Kind.LANDMARK)
    if land.any():
        pmask = np.repeat(land, ann.counts) & out_of_frame_point_mask(ann)
        ann = keep_points(ann, ~pmask)
    return ann

"""How good were the pre-labels: what annotators made of each pre-labelled shape.

The pre-labels (what was sent) and the results (what annotators finished) of one job are two
:class:`~prelabel.annotations.Annotations` tables in normalised coordinates. Each final shape
is matched to at most one pre-label, per frame, in three passes (the rule in full is in
docs/results.md, "How good were the pre-labels"):

1. by key, where the platform kept it (the object ``_id``, then the tracker ``_id`` and the
   frame for what is left): same frame, same kind, any label;
2. by geometry, same label: similarity >= ``match_iou``, one Hungarian assignment per frame
   (``scipy.optimize.linear_sum_assignment``, maximising the summed similarity);
3. by geometry, any label (a relabelled shape whose ``_id`` was lost), the same way.

A matched pair is relabelled (labels differ), unchanged (same label, every point within
``tolerance``, same point labels, same attributes), attributes-changed (same geometry, other
attributes) or moved (the rest, with its similarity); a pre-label left over was deleted, a
final shape left over was added. Precision and recall are computed apart from that, by
geometry alone, same label, at each threshold. Tracks: the matched pairs tell which
pre-label tracker became which final tracker (splits, merges, ID switches).

Pure functions over columns: the only Python loops are one per job, one STRtree query per
crowded group (a frame, kind and label with more than CROWD_PAIRS candidate pairs: only
shapes whose boxes can overlap are paired) and one Hungarian call per connected component of
conflicting candidate pairs (a pre-label that could match two shapes or the like).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, astuple, dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt
import shapely

from prelabel._ragged import position_in_run, run_owner, run_rows
from prelabel.annotations import Annotations, Kind
from prelabel.errors import InputError, MissingExtraError, printable

if TYPE_CHECKING:
    from prelabel.formats.payload import JobContent

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]
# per-shape keys matched first: one array, or a tuple of arrays tried in turn (None: none)
Keys = npt.ArrayLike | tuple[npt.ArrayLike, ...] | None

# the per-label counts, in the order of LabelTable.counts' columns
FIELDS = (
    "prelabelled",  # pre-labelled shapes (by the pre-label's label)
    "final",  # shapes in the result (by the final label)
    "unchanged",
    "moved",
    "attributes_changed",
    "relabelled",  # counted under the pre-label's label
    "deleted",
    "added",  # counted under the final label
    "from_prelabels",  # final shapes matched to a pre-label (by the final label)
    "matched_by_id",
    "matched_by_geometry",
)
_F = {name: i for i, name in enumerate(FIELDS)}

# A landmark set's OKS scale is the side of the box around both point sets, at least this
# (normalised): a one-point landmark has no extent of its own.
LANDMARK_MIN_SCALE = 0.05


@dataclass(frozen=True)
class CompareOptions:
    """What counts as a match, and as unchanged.

    - ``match_iou``: the least similarity for a match by geometry (passes 2 and 3);
    - ``thresholds``: the similarities at which precision and recall are given;
    - ``tolerance``: a shape is unchanged when every coordinate moved by at most this
      (normalised; 1e-4 is a fifth of a pixel on a 1920-pixel-wide frame);
    - ``line_width``: lines are compared as the IoU of their outlines buffered by this on
      each side, flat at the ends (normalised);
    - ``landmark_kappa``: the per-point constant of the OKS-like landmark similarity.
    """

    match_iou: float = 0.5
    thresholds: tuple[float, ...] = (0.5, 0.75)
    tolerance: float = 1e-4
    line_width: float = 0.01
    landmark_kappa: float = 0.1

    def __post_init__(self) -> None:
        for name, value in (
            ("match_iou", self.match_iou),
            *(("thresholds", t) for t in self.thresholds),
        ):
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if not self.thresholds:
            raise ValueError("thresholds: give at least one")
        if self.tolerance < 0 or self.line_width <= 0 or self.landmark_kappa <= 0:
            raise ValueError("tolerance must be >= 0, line_width and landmark_kappa > 0")


# --- result tables ------------------------------------------------------------------------
@dataclass
class LabelTable:
    """Per label: the counts of :data:`FIELDS`, the similarity of moved shapes (sum and
    minimum) and the true positives at each threshold."""

    labels: tuple[str, ...]
    thresholds: tuple[float, ...]
    counts: IntArray  # (L, len(FIELDS))
    moved_sum: FloatArray  # (L,)
    moved_min: FloatArray  # (L,), inf where nothing moved
    true_positives: IntArray  # (L, len(thresholds))

    @classmethod
    def empty(cls, labels: Sequence[str], thresholds: tuple[float, ...]) -> LabelTable:
        n = len(labels)
        return cls(
            tuple(labels),
            thresholds,
            np.zeros((n, len(FIELDS)), np.int64),
            np.zeros(n),
            np.full(n, np.inf),
            np.zeros((n, len(thresholds)), np.int64),
        )

    @classmethod
    def merge(cls, tables: Sequence[LabelTable], thresholds: tuple[float, ...]) -> LabelTable:
        """One table over the union of the labels (sums; the minimum of the minima)."""
        labels = sorted({name for t in tables for name in t.labels})
        out = cls.empty(labels, thresholds)
        index = np.asarray(labels, dtype=object)
        for t in tables:
            if not t.labels:
                continue
            rows = np.searchsorted(index, np.asarray(t.labels, dtype=object))
            out.counts[rows] += t.counts
            out.moved_sum[rows] += t.moved_sum
            out.moved_min[rows] = np.minimum(out.moved_min[rows], t.moved_min)
            out.true_positives[rows] += t.true_positives
        return out

    def total(self) -> dict[str, Any]:
        """The counts over every label, as :meth:`row` gives them for one."""
        return _row_dict(
            self.counts.sum(axis=0),
            float(self.moved_sum.sum()),
            float(self.moved_min.min(initial=np.inf)),
            self.true_positives.sum(axis=0),
            self.thresholds,
        )

    def row(self, i: int) -> dict[str, Any]:
        return _row_dict(
            self.counts[i],
            float(self.moved_sum[i]),
            float(self.moved_min[i]),
            self.true_positives[i],
            self.thresholds,
        )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: self.row(i) for i, name in enumerate(self.labels)}


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _row_dict(
    counts: IntArray,
    moved_sum: float,
    moved_min: float,
    tp: IntArray,
    thresholds: tuple[float, ...],
) -> dict[str, Any]:
    c = {name: int(counts[i]) for i, name in enumerate(FIELDS)}
    moved = c["moved"]
    out: dict[str, Any] = dict(c)
    out["moved_similarity"] = (
        {"mean": moved_sum / moved, "min": moved_min} if moved else {"mean": None, "min": None}
    )
    out["from_prelabels_share"] = _ratio(c["from_prelabels"], c["final"])
    out["precision"] = {
        _key(t): _ratio(int(n), c["prelabelled"]) for t, n in zip(thresholds, tp, strict=True)
    }
    out["recall"] = {
        _key(t): _ratio(int(n), c["final"]) for t, n in zip(thresholds, tp, strict=True)
    }
    return out


def _key(threshold: float) -> str:
    return f"{threshold:g}"


@dataclass
class TrackCounts:
    """What became of the pre-label trackers, from the matched shapes of a job.

    ``split``: pre-label trackers whose matched shapes lie in two or more final trackers;
    ``merged``: final trackers holding matched shapes of two or more pre-label trackers;
    ``id_switches``: along each final tracker, frame by frame over its matched shapes, each
    time the pre-label tracker differs from the one of its previous matched shape (CLEAR-MOT's
    IDSW with the final trackers as ground truth)."""

    prelabel_trackers: int = 0
    final_trackers: int = 0
    split: int = 0
    merged: int = 0
    id_switches: int = 0

    def __add__(self, other: TrackCounts) -> TrackCounts:
        return TrackCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return astuple(self)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class JobComparison:
    """One job: the per-label table, the tracks, which label became which, and the notes
    (shapes whose geometry needed repair to be compared)."""

    reference_id: str
    table: LabelTable
    tracks: TrackCounts
    relabels: dict[tuple[str, str], int] = field(default_factory=dict)
    polygons_made_valid: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_id": self.reference_id,
            "total": self.table.total(),
            "labels": self.table.to_dict(),
            "tracks": self.tracks.to_dict(),
            "relabels": _relabels_list(self.relabels),
            "polygons_made_valid": self.polygons_made_valid,
        }


def _relabels_list(relabels: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [{"from": a, "to": b, "count": n} for (a, b), n in sorted(relabels.items())]


@dataclass
class CompareReport:
    """Every job's comparison and their totals; ``to_dict()`` is the JSON report.

    ``missing_results`` are jobs of the pre-labels without a result, ``unknown_results``
    results without a pre-labelled job: both are listed, neither is compared.
    ``ignored_files`` are the entries of a results folder that are not results (a subfolder,
    a file not named ``*.json``): listed, not read."""

    options: CompareOptions
    jobs: list[JobComparison]
    missing_results: list[str] = field(default_factory=list)
    unknown_results: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def table(self) -> LabelTable:
        return LabelTable.merge([j.table for j in self.jobs], self.options.thresholds)

    @property
    def tracks(self) -> TrackCounts:
        total = TrackCounts()
        for j in self.jobs:
            total = total + j.tracks
        return total

    @property
    def relabels(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for j in self.jobs:
            for k, n in j.relabels.items():
                out[k] = out.get(k, 0) + n
        return out

    def to_dict(self) -> dict[str, Any]:
        table = self.table
        o = self.options
        return {
            "options": {
                "match_iou": o.match_iou,
                "thresholds": list(o.thresholds),
                "tolerance": o.tolerance,
                "line_width": o.line_width,
                "landmark_kappa": o.landmark_kappa,
                "landmark_min_scale": LANDMARK_MIN_SCALE,
            },
            "jobs_compared": len(self.jobs),
            "total": table.total(),
            "labels": table.to_dict(),
            "tracks": self.tracks.to_dict(),
            "relabels": _relabels_list(self.relabels),
            "polygons_made_valid": sum(j.polygons_made_valid for j in self.jobs),
            "missing_results": list(self.missing_results),
            "unknown_results": list(self.unknown_results),
            "ignored_files": list(self.ignored_files),
            "jobs": [j.to_dict() for j in self.jobs],
        }


# --- one job ------------------------------------------------------------------------------
@dataclass
class _Side:
    """One side of a comparison with the columns the passes need, in shared codes."""

    ann: Annotations
    frame: IntArray  # code of the shape's frame_id, shared by both sides
    label: IntArray  # code of the label name, shared by both sides
    kind: IntArray
    boxes: FloatArray  # (N, 4) bounds
    keys: list[ObjArray]  # tiers of keys, matched one after the other


def compare_annotations(
    prelabels: Annotations,
    final: Annotations,
    *,
    prelabel_keys: Keys = None,
    final_keys: Keys = None,
    reference_id: str = "",
    options: CompareOptions | None = None,
) -> JobComparison:
    """Compare one job's pre-labels with its final shapes (both normalised, or both pixels).

    Frames are identified by ``frame_id`` (the two tables may have their own frame rows),
    labels by name. ``prelabel_keys`` / ``final_keys`` are per-shape identities matched
    first (None: no key): one array, or a tuple of arrays tried in turn on what the earlier
    ones left (:func:`object_keys`, then :func:`shape_keys`); a key that is not unique on its
    side is not used."""
    opt = options or CompareOptions()
    if prelabels.normalised != final.normalised:
        raise ValueError("compare normalised shapes with normalised shapes")
    labels = tuple(sorted(set(prelabels.labels) | set(final.labels)))
    frame_ids = np.concatenate([prelabels.frames.frame_id, final.frames.frame_id])
    codes, first, inverse = np.unique(frame_ids.astype(str), return_index=True, return_inverse=True)
    rank = np.empty(len(codes), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(codes))  # first-seen frame order
    frame_code = rank[inverse.ravel()]
    n_pre_frames = len(prelabels.frames)
    pre = _side(prelabels, frame_code[:n_pre_frames], labels, prelabel_keys)
    fin = _side(final, frame_code[n_pre_frames:], labels, final_keys)
    geoms = _Geometries(pre, fin, opt)

    # precision / recall: geometry only, same frame, kind and label, at every threshold
    # (a similarity below `floor` matters to no threshold: it may be given as 0 unworked)
    floor = min(*opt.thresholds, opt.match_iou)
    reach = _Reach(opt, floor)
    pa, pb = _pairs(
        pre, fin, np.arange(len(pre.ann)), np.arange(len(fin.ann)), by_label=True, reach=reach
    )
    sim = geoms.similarity(pa, pb, floor=floor)
    table = LabelTable.empty(labels, opt.thresholds)
    for t_i, t in enumerate(opt.thresholds):
        ok = np.flatnonzero(sim >= t)
        a = pa[ok[_assign(pa[ok], pb[ok], sim[ok])]]
        table.true_positives[:, t_i] = np.bincount(pre.label[a], minlength=len(labels))

    # the lifecycle: by key, then by geometry with the same label, then with any label
    free_a = np.ones(len(pre.ann), bool)
    free_b = np.ones(len(fin.ann), bool)
    ka, kb = _key_matches(pre, fin)
    ksim = _known_or_computed(geoms, ka, kb, pa, pb, sim, floor, len(fin.ann))
    free_a[ka] = False
    free_b[kb] = False
    ok = np.flatnonzero(free_a[pa] & free_b[pb] & (sim >= opt.match_iou))
    g = ok[_assign(pa[ok], pb[ok], sim[ok])]
    free_a[pa[g]] = False
    free_b[pb[g]] = False
    reach = _Reach(opt, opt.match_iou)
    ra, rb = _pairs(
        pre, fin, np.flatnonzero(free_a), np.flatnonzero(free_b), by_label=False, reach=reach
    )
    cross = pre.label[ra] != fin.label[rb]  # same-label pairs already failed pass 2
    ra, rb = ra[cross], rb[cross]
    rsim = geoms.similarity(ra, rb, floor=opt.match_iou)
    ok = np.flatnonzero(rsim >= opt.match_iou)
    x = ok[_assign(ra[ok], rb[ok], rsim[ok])]

    a = np.concatenate([ka, pa[g], ra[x]])
    b = np.concatenate([kb, pb[g], rb[x]])
    by_id = np.arange(len(a)) < len(ka)
    pair_sim = np.concatenate([ksim, sim[g], rsim[x]])
    _classify(table, pre, fin, a, b, pair_sim, by_id, opt)
    relabelled = pre.label[a] != fin.label[b]
    pairs, counts = np.unique(
        np.stack([pre.label[a][relabelled], fin.label[b][relabelled]], axis=1).reshape(-1, 2),
        axis=0,
        return_counts=True,
    )
    relabels = {
        (labels[int(i)], labels[int(j)]): int(n)
        for (i, j), n in zip(pairs.tolist(), counts.tolist(), strict=True)
    }
    return JobComparison(
        reference_id,
        table,
        _track_counts(pre, fin, a, b),
        relabels,
        polygons_made_valid=geoms.made_valid,
    )


def _side(ann: Annotations, frame_code: IntArray, labels: tuple[str, ...], keys: Keys) -> _Side:
    lut = np.searchsorted(np.asarray(labels, dtype=object), np.asarray(ann.labels, dtype=object))
    tiers = [] if keys is None else list(keys) if isinstance(keys, tuple) else [keys]
    key_arr = []
    for tier in tiers:
        arr = np.asarray(tier, dtype=object).ravel()
        if arr.shape != (len(ann),):
            raise ValueError(f"{arr.size} keys for {len(ann)} shapes")
        key_arr.append(arr)
    return _Side(
        ann=ann,
        frame=frame_code[ann.frame].astype(np.int64),
        label=lut[ann.label].astype(np.int64) if len(ann) else np.zeros(0, np.int64),
        kind=ann.kind.astype(np.int64),
        boxes=ann.xyxy,
        keys=key_arr,
    )


def shape_keys(ann: Annotations, tracker_ids: Sequence[str]) -> ObjArray:
    """Per shape, ``<tracker _id>/<frame_id>``: a tracker holds one object per frame, so a
    shape the platform did not recreate keeps both. A shape without a tracker (``track``
    -1, or an empty ``_id``) gets None."""
    out = np.empty(len(ann), dtype=object)
    ids = np.asarray([*tracker_ids, ""], dtype=object)
    tracker = ids[np.where(ann.track >= 0, ann.track, len(ids) - 1)]
    has = tracker != ""
    out[has] = tracker[has] + "/" + ann.frames.frame_id[ann.frame[has]].astype(object)
    return out


def object_keys(object_ids: npt.ArrayLike) -> ObjArray:
    """The objects' ``_id``s as keys: an empty one (or None) is no key."""
    obj = np.asarray(object_ids, dtype=object).ravel()
    out = np.empty(len(obj), dtype=object)
    named = (obj != None) & (obj != "")  # noqa: E711 (elementwise on an object column)
    out[named] = obj[named]
    return out


def _key_matches(pre: _Side, fin: _Side) -> tuple[IntArray, IntArray]:
    """Pairs whose keys are equal (unique on each side), in the same frame, of the same kind:
    tier by tier, each on the shapes the earlier tiers left unmatched."""
    free_a = np.ones(len(pre.ann), bool)
    free_b = np.ones(len(fin.ann), bool)
    out_a, out_b = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for keys_a, keys_b in zip(pre.keys, fin.keys, strict=False):
        ia = _unique_key_rows(keys_a)
        ib = _unique_key_rows(keys_b)
        ia, ib = ia[free_a[ia]], ib[free_b[ib]]
        _, xa, xb = np.intersect1d(
            keys_a[ia].astype(str), keys_b[ib].astype(str), assume_unique=True, return_indices=True
        )
        a, b = ia[xa], ib[xb]
        same = (pre.frame[a] == fin.frame[b]) & (pre.kind[a] == fin.kind[b])
        a, b = a[same].astype(np.int64), b[same].astype(np.int64)
        free_a[a] = False
        free_b[b] = False
        out_a.append(a)
        out_b.append(b)
    return np.concatenate(out_a), np.concatenate(out_b)


def _unique_key_rows(keys: ObjArray) -> IntArray:
    rows = np.flatnonzero(keys != None)  # noqa: E711
    if not len(rows):
        return rows.astype(np.int64)
    _, inverse, counts = np.unique(keys[rows].astype(str), return_inverse=True, return_counts=True)
    unique: IntArray = rows[counts[inverse.ravel()] == 1].astype(np.int64)
    return unique


# a group of one frame, kind (and label) with more candidate pairs than this has its pairs
# found by an STRtree query of boxes that can overlap, not by the cartesian product
CROWD_PAIRS = 1 << 14


class _Reach:
    """How far apart (in each axis) two shapes' boxes can be and their similarity still reach
    ``floor``: 0 for rectangles, cuboids and polygons (no overlap, no IoU), twice the line
    width for lines (their outlines are buffered by it); for landmarks a radius per
    pre-label from the OKS-like score (see :meth:`landmark`)."""

    def __init__(self, opt: CompareOptions, floor: float) -> None:
        self.opt, self.floor = opt, floor

    def radius(self, kind: Kind, boxes_a: FloatArray, boxes_b: FloatArray) -> FloatArray:
        n = len(boxes_a)
        if kind == Kind.LINE:
            return np.full(n, 2 * self.opt.line_width)
        if kind == Kind.LANDMARK:
            return self.landmark(boxes_a, boxes_b)
        return np.zeros(n)

    def landmark(self, boxes_a: FloatArray, boxes_b: FloatArray) -> FloatArray:
        """A bound on the gap g (Chebyshev, between the boxes) of a landmark pair scoring at
        least ``floor``: some found point pair must score it, exp(-d^2 / (2 s^2 k^2)) >=
        floor, so d^2 <= c s^2 with c = 2 k^2 ln(1/floor); every d is at least g, and s^2 is
        at most max((W + g)(H + g), m^2) with W, H the two widths and heights summed (the
        final side's largest) and m LANDMARK_MIN_SCALE. So g <= sqrt(c) m, or g is at most
        the positive root of (1 - c) g^2 - c (W + H) g - c W H. Infinite when c >= 1."""
        n = len(boxes_a)
        if not 0 < self.floor < 1:
            return np.full(n, np.inf)
        c = 2 * self.opt.landmark_kappa**2 * np.log(1 / self.floor)
        if c >= 1:
            return np.full(n, np.inf)
        w = boxes_a[:, 2] - boxes_a[:, 0] + (boxes_b[:, 2] - boxes_b[:, 0]).max(initial=0)
        h = boxes_a[:, 3] - boxes_a[:, 1] + (boxes_b[:, 3] - boxes_b[:, 1]).max(initial=0)
        root = (c * (w + h) + np.sqrt((c * (w + h)) ** 2 + 4 * (1 - c) * c * w * h)) / (2 * (1 - c))
        r: FloatArray = np.maximum(root, np.sqrt(c) * LANDMARK_MIN_SCALE) * (1 + 1e-9) + 1e-12
        return r


def _pairs(
    pre: _Side,
    fin: _Side,
    rows_a: IntArray,
    rows_b: IntArray,
    *,
    by_label: bool,
    reach: _Reach | None = None,
) -> tuple[IntArray, IntArray]:
    """The (pre, final) pairs among the given rows in the same frame, of the same kind (and
    label) that could be matched: the cartesian product per group, built without a loop; a
    group of more than CROWD_PAIRS pairs (5,000 shapes of one label in a frame: 25M) takes
    only the pairs whose boxes are within ``reach`` of each other, from an STRtree."""

    n_labels = len(pre.ann.labels) + len(fin.ann.labels) + 1  # more than the shared codes

    def group(side: _Side, rows: IntArray) -> IntArray:
        g = side.frame[rows] * len(Kind) + side.kind[rows]
        return g * n_labels + side.label[rows] if by_label else g

    if not len(rows_a) or not len(rows_b):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ga, gb = group(pre, rows_a), group(fin, rows_b)
    oa, ob = np.argsort(ga, kind="stable"), np.argsort(gb, kind="stable")
    rows_a, ga, rows_b, gb = rows_a[oa], ga[oa], rows_b[ob], gb[ob]
    ua, sa, ca = np.unique(ga, return_index=True, return_counts=True)
    ub, sb, cb = np.unique(gb, return_index=True, return_counts=True)
    _, ia, ib = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    sa, ca, sb, cb = sa[ia], ca[ia], sb[ib], cb[ib]
    n = ca * cb
    crowd = n > CROWD_PAIRS if reach is not None else np.zeros(len(n), bool)
    n = np.where(crowd, 0, n)
    g = run_owner(n)
    k = position_in_run(n)
    out_a = [rows_a[sa[g] + k // cb[g]]]
    out_b = [rows_b[sb[g] + k % cb[g]]]
    for i in np.flatnonzero(crowd).tolist():  # one STRtree per crowded group
        assert reach is not None
        a = rows_a[sa[i] : sa[i] + ca[i]]
        b = rows_b[sb[i] : sb[i] + cb[i]]
        qa, qb = _near(
            pre.boxes[a],
            fin.boxes[b],
            reach.radius(Kind(pre.kind[a[0]]), pre.boxes[a], fin.boxes[b]),
        )
        out_a.append(a[qa])
        out_b.append(b[qb])
    return np.concatenate(out_a).astype(np.int64), np.concatenate(out_b).astype(np.int64)


def _near(
    boxes_a: FloatArray, boxes_b: FloatArray, radius: FloatArray
) -> tuple[IntArray, IntArray]:
    """The (i, j) of boxes ``a[i]``, grown by ``radius[i]`` on each side, that meet ``b[j]``
    (touching included), sorted; every pair when a radius is infinite."""
    if not np.isfinite(radius).all():
        i, j = np.divmod(np.arange(len(boxes_a) * len(boxes_b)), len(boxes_b))
        return i.astype(np.int64), j.astype(np.int64)
    tree = shapely.STRtree(shapely.box(*boxes_b.T))
    grown = boxes_a + radius[:, None] * np.array([-1.0, -1.0, 1.0, 1.0])
    i, j = tree.query(shapely.box(*grown.T), predicate="intersects")
    order = np.lexsort((j, i))
    return i[order].astype(np.int64), j[order].astype(np.int64)


def _assign(a: IntArray, b: IntArray, sim: FloatArray) -> IntArray:
    """The candidates (positions in ``a``, ``b``) of a maximum-similarity one-to-one
    assignment, per frame (the candidates never join two frames, so the connected
    components below never span two).

    A pair whose two shapes have no other candidate is its own component and matched as it
    is; each connected component of conflicting candidates goes to
    ``linear_sum_assignment`` (the best assignment of a graph is the best of each of its
    components)."""
    from scipy.optimize import linear_sum_assignment

    if not len(a):
        return np.zeros(0, np.int64)
    _, inv_a, cnt_a = np.unique(a, return_inverse=True, return_counts=True)
    _, inv_b, cnt_b = np.unique(b, return_inverse=True, return_counts=True)
    lone = (cnt_a[inv_a.ravel()] == 1) & (cnt_b[inv_b.ravel()] == 1)
    out = [np.flatnonzero(lone)]
    rest = np.flatnonzero(~lone)
    if len(rest):
        # one solver call per connected component of the conflicting candidates (a shape's
        # candidates are all of its frame, so a component never spans two frames): a dense
        # matrix per component, not per frame, which a crowded frame would make n x n
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        ua, ia = np.unique(a[rest], return_inverse=True)
        ub, ib = np.unique(b[rest], return_inverse=True)
        ia, ib = ia.ravel(), ib.ravel() + len(ua)
        size = len(ua) + len(ub)
        graph = coo_matrix((np.ones(len(rest)), (ia, ib)), shape=(size, size))
        _, component = connected_components(graph, directed=False)
        key = component[ia]
        sorter = np.argsort(key, kind="stable")
        order = rest[sorter]
        _, starts = np.unique(key[sorter], return_index=True)
        for chunk in np.split(order, starts[1:]):
            ua, ia = np.unique(a[chunk], return_inverse=True)
            ub, ib = np.unique(b[chunk], return_inverse=True)
            m = np.zeros((len(ua), len(ub)))
            m[ia.ravel(), ib.ravel()] = sim[chunk]
            where = np.full((len(ua), len(ub)), -1, np.int64)
            where[ia.ravel(), ib.ravel()] = chunk
            r, c = linear_sum_assignment(m, maximize=True)
            keep = m[r, c] > 0  # an assignment to a forbidden (0) cell is no match
            out.append(where[r[keep], c[keep]])
    return np.sort(np.concatenate(out)).astype(np.int64)


def _known_or_computed(
    geoms: _Geometries,
    a: IntArray,
    b: IntArray,
    pa: IntArray,
    pb: IntArray,
    sim: FloatArray,
    floor: float,
    n_final: int,
) -> FloatArray:
    """The exact similarity of the pairs ``a``, ``b``: taken from the candidates ``pa``,
    ``pb`` where it was worked out there (at or above ``floor``), computed for the rest."""
    out = np.zeros(len(a))
    code = pa * n_final + pb
    order = np.argsort(code)
    want = a * n_final + b
    pos = np.clip(np.searchsorted(code[order], want), 0, max(len(code) - 1, 0))
    known = np.zeros(len(a), bool)
    if len(code):
        hit = order[pos]
        known = (code[hit] == want) & (sim[hit] >= floor)
        out[known] = sim[hit[known]]
    out[~known] = geoms.similarity(a[~known], b[~known])
    return out


# --- similarity ---------------------------------------------------------------------------
def box_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row by row, the IoU of two (N, 4) ``x1, y1, x2, y2`` arrays (0 where both are empty)."""
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = union - inter
    iou: FloatArray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


class _Geometries:
    """The similarity of pairs, by kind; shapely geometries built once per shape on use."""

    def __init__(self, pre: _Side, fin: _Side, opt: CompareOptions) -> None:
        self.pre, self.fin, self.opt = pre, fin, opt
        self.made_valid = 0  # self-intersecting rings compared as made valid
        self.cache: dict[tuple[int, int], tuple[IntArray, ObjArray]] = {}
        self.front = (_front_boxes(pre.ann), _front_boxes(fin.ann))

    def similarity(self, a: IntArray, b: IntArray, floor: float = 0.0) -> FloatArray:
        """Per pair, the similarity of its two shapes (of one kind). A polygon or line pair
        whose upper bound (the overlap of their boxes, or the smaller area, over the larger
        area) is below ``floor`` is not intersected and given as 0."""
        out = np.zeros(len(a))
        kind = self.pre.kind[a]
        for k in np.unique(kind).tolist():
            sel = np.flatnonzero(kind == k)
            out[sel] = self._of_kind(Kind(k), a[sel], b[sel], floor)
        return out

    def _of_kind(self, kind: Kind, a: IntArray, b: IntArray, floor: float) -> FloatArray:
        if kind == Kind.RECTANGLE:
            return box_iou(self.pre.boxes[a], self.fin.boxes[b])
        if kind == Kind.CUBOID:
            return box_iou(self.front[0][a], self.front[1][b])
        if kind == Kind.LANDMARK:
            return _oks(self.pre.ann, self.fin.ann, a, b, self.pre.boxes, self.fin.boxes, self.opt)
        pad = self.opt.line_width if kind == Kind.LINE else 0.0
        out = np.zeros(len(a))
        least = 2 if kind == Kind.LINE else 3  # fewer points: no outline, no area
        near = _boxes_overlap(self.pre.boxes[a], self.fin.boxes[b], 2 * pad)
        near &= (self.pre.ann.counts[a] >= least) & (self.fin.ann.counts[b] >= least)
        rows = np.flatnonzero(near)
        if not len(rows):
            return out
        ga = self._geometries(0, kind, a[rows])
        gb = self._geometries(1, kind, b[rows])
        area_a, area_b = shapely.area(ga), shapely.area(gb)
        if floor > 0:  # IoU <= min(box overlap, smaller area) / larger area
            ba, bb = self.pre.boxes[a[rows]], self.fin.boxes[b[rows]]
            iw = np.minimum(ba[:, 2], bb[:, 2]) - np.maximum(ba[:, 0], bb[:, 0]) + 2 * pad
            ih = np.minimum(ba[:, 3], bb[:, 3]) - np.maximum(ba[:, 1], bb[:, 1]) + 2 * pad
            big = np.maximum(area_a, area_b)
            bound = np.minimum(
                np.clip(iw, 0, None) * np.clip(ih, 0, None), np.minimum(area_a, area_b)
            )
            worth = bound >= floor * big
            rows, ga, gb, area_a, area_b = (
                rows[worth],
                ga[worth],
                gb[worth],
                area_a[worth],
                area_b[worth],
            )
        inter = shapely.area(shapely.intersection(ga, gb))
        union = area_a + area_b - inter
        out[rows] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        return out

    def _geometries(self, side: int, kind: Kind, rows: IntArray) -> ObjArray:
        """Polygons (or buffered lines) of ``rows``, built once per shape and kept."""
        from prelabel.geometry import _ring_geometries

        s = self.pre if side == 0 else self.fin
        have, geoms = self.cache.get(
            (side, int(kind)), (np.zeros(0, np.int64), np.zeros(0, object))
        )
        new = np.setdiff1d(rows, have)
        if len(new):
            g = _ring_geometries(s.ann, new, kind)
            if kind == Kind.LINE:
                g = shapely.buffer(g, self.opt.line_width, cap_style="flat")
            bad = ~shapely.is_valid(g)
            if bad.any():  # an annotator's self-intersecting ring: compared as made valid
                g[bad] = shapely.make_valid(g[bad])
                self.made_valid += int(bad.sum())
            have = np.concatenate([have, new])
            geoms = np.concatenate([geoms, g])
            order = np.argsort(have)
            have, geoms = have[order], geoms[order]
            self.cache[(side, int(kind))] = (have, geoms)
        return geoms[np.searchsorted(have, rows)]


def _boxes_overlap(a: FloatArray, b: FloatArray, pad: float) -> BoolArray:
    return (np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]) >= -pad) & (
        np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]) >= -pad
    )


def _front_boxes(ann: Annotations) -> FloatArray:
    """Per shape, the bounds of its first four points (a cuboid's front face; any shape
    with fewer points gets the bounds of what it has)."""
    out: FloatArray = ann.xyxy.copy()
    cub = np.flatnonzero((ann.kind == Kind.CUBOID) & (ann.counts >= 4))
    if len(cub):
        pts = ann.points[ann.offsets[:-1][cub, None] + np.arange(4)]  # (n, 4, 2)
        out[cub, :2] = pts.min(axis=1)
        out[cub, 2:] = pts.max(axis=1)
    return out


def _oks(
    pre: Annotations,
    fin: Annotations,
    a: IntArray,
    b: IntArray,
    boxes_a: FloatArray,
    boxes_b: FloatArray,
    opt: CompareOptions,
) -> FloatArray:
    """OKS-like similarity of landmark sets: points are paired by their point label; each
    pair scores exp(-d² / (2 s² k²)) with s² the area of the box around both sets (at least
    LANDMARK_MIN_SCALE²) and k ``landmark_kappa``; the sum is divided by the number of
    distinct point labels of the two sets (a point on one side only scores 0)."""
    rows_a, off_a = run_rows(pre.offsets, a)
    rows_b, off_b = run_rows(fin.offsets, b)
    owner_a, owner_b = run_owner(np.diff(off_a)), run_owner(np.diff(off_b))
    # one key per (pair, point label): labels shifted to start at 0, as a payload's may be
    # negative (a label of -1 would otherwise be the previous pair's largest one)
    lab_a = pre.point_label[rows_a].astype(np.int64)
    lab_b = fin.point_label[rows_b].astype(np.int64)
    low = min(lab_a.min(initial=0), lab_b.min(initial=0))
    span = max(lab_a.max(initial=0), lab_b.max(initial=0)) - low + 1
    key_a = owner_a * span + (lab_a - low)
    key_b = owner_b * span + (lab_b - low)
    order = np.argsort(key_b, kind="stable")
    pos = np.clip(np.searchsorted(key_b[order], key_a), 0, max(len(key_b) - 1, 0))
    found = np.zeros(len(key_a), bool) if not len(key_b) else key_b[order][pos] == key_a
    d2 = np.zeros(len(key_a))
    if found.any():
        pb = fin.points[rows_b[order][pos[found]]]
        d2[found] = ((pre.points[rows_a[found]] - pb) ** 2).sum(axis=1)
    lo = np.minimum(boxes_a[a, :2], boxes_b[b, :2])
    hi = np.maximum(boxes_a[a, 2:], boxes_b[b, 2:])
    s2 = np.maximum(np.prod(hi - lo, axis=1), LANDMARK_MIN_SCALE**2)
    score = np.where(found, np.exp(-d2 / (2 * s2[owner_a] * opt.landmark_kappa**2)), 0.0)
    total = np.bincount(owner_a, weights=score, minlength=len(a))
    n_found = np.bincount(owner_a, weights=found, minlength=len(a))
    distinct = np.diff(off_a) + np.diff(off_b) - n_found
    return np.divide(total, distinct, out=np.zeros(len(a)), where=distinct > 0)


# --- what became of each pair -------------------------------------------------------------
def _classify(
    table: LabelTable,
    pre: _Side,
    fin: _Side,
    a: IntArray,
    b: IntArray,
    sim: FloatArray,
    by_id: BoolArray,
    opt: CompareOptions,
) -> None:
    n_labels = len(table.labels)

    def count(labels: IntArray, mask: BoolArray | None = None) -> IntArray:
        sel = labels if mask is None else labels[mask]
        return np.bincount(sel, minlength=n_labels).astype(np.int64)

    la, lb = pre.label[a], fin.label[b]
    relabelled = la != lb
    same_geometry = _same_points(pre.ann, fin.ann, a, b, opt.tolerance)
    same_attrs = _same_attributes(pre.ann.attributes[a], fin.ann.attributes[b])
    kept = ~relabelled
    unchanged = kept & same_geometry & same_attrs
    attributes_changed = kept & same_geometry & ~same_attrs
    moved = kept & ~same_geometry
    matched_a = np.zeros(len(pre.ann), bool)
    matched_a[a] = True
    matched_b = np.zeros(len(fin.ann), bool)
    matched_b[b] = True
    c = table.counts
    c[:, _F["prelabelled"]] = count(pre.label)
    c[:, _F["final"]] = count(fin.label)
    c[:, _F["unchanged"]] = count(la, unchanged)
    c[:, _F["moved"]] = count(la, moved)
    c[:, _F["attributes_changed"]] = count(la, attributes_changed)
    c[:, _F["relabelled"]] = count(la, relabelled)
    c[:, _F["deleted"]] = count(pre.label, ~matched_a)
    c[:, _F["added"]] = count(fin.label, ~matched_b)
    c[:, _F["from_prelabels"]] = count(lb)
    c[:, _F["matched_by_id"]] = count(la, by_id)
    c[:, _F["matched_by_geometry"]] = count(la, ~by_id)
    table.moved_sum[:] = np.bincount(la[moved], weights=sim[moved], minlength=n_labels)
    if moved.any():
        np.minimum.at(table.moved_min, la[moved], sim[moved])


def _same_points(
    pre: Annotations, fin: Annotations, a: IntArray, b: IntArray, tol: float
) -> BoolArray:
    """Per pair: the same number of points, each within ``tol`` in x and y, in order, with
    the same point labels."""
    same: BoolArray = pre.counts[a] == fin.counts[b]
    rows = np.flatnonzero(same)
    if len(rows):
        ra, off = run_rows(pre.offsets, a[rows])
        rb, _ = run_rows(fin.offsets, b[rows])
        far = (np.abs(pre.points[ra] - fin.points[rb]) > tol).any(axis=1)
        far |= pre.point_label[ra] != fin.point_label[rb]
        bad = np.bincount(run_owner(np.diff(off)), weights=far, minlength=len(rows)) > 0
        same[rows[bad]] = False
    return same


def _same_attributes(a: ObjArray, b: ObjArray) -> BoolArray:
    """Per pair, equal attributes (None and an empty mapping are the same)."""
    if not len(a):
        return np.zeros(0, bool)
    empty = np.frompyfunc(lambda v: v or None, 1, 1)
    return np.asarray(empty(a) == empty(b), dtype=bool)


def _track_counts(pre: _Side, fin: _Side, a: IntArray, b: IntArray) -> TrackCounts:
    pt = pre.ann.track
    ft = fin.ann.track
    out = TrackCounts(
        prelabel_trackers=len(np.unique(pt[pt >= 0])), final_trackers=len(np.unique(ft[ft >= 0]))
    )
    tracked = (pt[a] >= 0) & (ft[b] >= 0)
    ta, tb, frame = pt[a][tracked], ft[b][tracked], pre.frame[a][tracked]
    if not len(ta):
        return out
    links = np.unique(np.stack([ta, tb], axis=1), axis=0)
    _, per_pre = np.unique(links[:, 0], return_counts=True)
    _, per_final = np.unique(links[:, 1], return_counts=True)
    out.split = int((per_pre > 1).sum())
    out.merged = int((per_final > 1).sum())
    order = np.lexsort((frame, tb))
    ta, tb = ta[order], tb[order]
    out.id_switches = int(((tb[1:] == tb[:-1]) & (ta[1:] != ta[:-1])).sum())
    return out


# --- many jobs ----------------------------------------------------------------------------
def compare_jobs(
    pairs: Iterable[tuple[str, Annotations, Keys, Annotations, Keys]],
    options: CompareOptions | None = None,
    *,
    missing_results: Sequence[str] = (),
    unknown_results: Sequence[str] = (),
) -> CompareReport:
    """A report over jobs given as ``(reference_id, prelabels, prelabel_keys, final,
    final_keys)``."""
    opt = options or CompareOptions()
    jobs = [
        compare_annotations(p, f, prelabel_keys=pk, final_keys=fk, reference_id=ref, options=opt)
        for ref, p, pk, f, fk in pairs
    ]
    return CompareReport(opt, jobs, list(missing_results), list(unknown_results))


def _fmt_share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(report: CompareReport, *, per_job: bool = True) -> str:
    """The report as a text table: per job and label (unless ``per_job`` is False), then
    every job together."""
    thresholds = report.options.thresholds
    head = ["job", "label", "pre", "final", "same", "moved", "iou", "attr", "relab", "del", "add"]
    head += (
        [f"P@{_key(t)}" for t in thresholds] + [f"R@{_key(t)}" for t in thresholds] + ["from pre"]
    )
    rows: list[list[str]] = []

    def add(job: str, label: str, r: dict[str, Any]) -> None:
        ms = r["moved_similarity"]
        iou = "-" if ms["mean"] is None else f"{ms['mean']:.2f}/{ms['min']:.2f}"
        rows.append(
            [printable(job), printable(label)]  # a name cannot split the table's lines
            + [str(r[k]) for k in ("prelabelled", "final", "unchanged", "moved")]
            + [iou]
            + [str(r[k]) for k in ("attributes_changed", "relabelled", "deleted", "added")]
            + [_fmt_ratio(r["precision"][_key(t)]) for t in thresholds]
            + [_fmt_ratio(r["recall"][_key(t)]) for t in thresholds]
            + [_fmt_share(r["from_prelabels_share"])]
        )

    if per_job:
        for j in report.jobs:
            for i, name in enumerate(j.table.labels):
                add(j.reference_id, name, j.table.row(i))
            add(j.reference_id, "(all)", j.table.total())
    table = report.table
    for i, name in enumerate(table.labels):
        add("(all jobs)", name, table.row(i))
    add("(all jobs)", "(all)", table.total())
    widths = [
        max(len(h), *(len(r[c]) for r in rows)) if rows else len(h) for c, h in enumerate(head)
    ]
    lines = [
        "  ".join(
            h.ljust(w) if c < 2 else h.rjust(w)
            for c, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    ]
    lines += [
        "  ".join(
            v.ljust(w) if c < 2 else v.rjust(w)
            for c, (v, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    tr = report.tracks
    lines.append(
        f"tracks: {tr.prelabel_trackers} pre-labelled, {tr.final_trackers} final; "
        f"{tr.split} split, {tr.merged} merged, {tr.id_switches} ID switches"
    )
    if report.missing_results:
        lines.append(f"{len(report.missing_results)} job(s) without a result, not compared")
    if report.unknown_results:
        lines.append(
            f"{len(report.unknown_results)} result(s) without a pre-labelled job, not compared"
        )
    if report.ignored_files:
        lines.append(
            f"{len(report.ignored_files)} entry(ies) of the results folder not read "
            "(subfolders, files not named *.json)"
        )
    return "\n".join(lines)


# --- files --------------------------------------------------------------------------------
def compare(
    prelabels: str | PathLike[str] | Iterable[JobContent],
    results: str | PathLike[str] | Iterable[JobContent],
    options: CompareOptions | None = None,
) -> CompareReport:
    """How good were the pre-labels: ``prelabels`` (a payload JSON Lines file, or jobs read
    with :mod:`prelabel.formats.payload`) against ``results`` (a folder of
    ``<reference_id>.json``, one result file, or jobs), paired by ``reference_id``.

    Jobs without a result and results without a job are listed in the report, not compared.
    """
    from prelabel.formats.payload import ignored_entries, read_jobs, read_payload

    pre_jobs = read_payload(prelabels) if isinstance(prelabels, (str, PathLike)) else prelabels
    by_id: dict[str, JobContent] = {}
    for job in pre_jobs:
        if job.reference_id in by_id:  # the payload reader's words (read_jobs)
            first = by_id[job.reference_id].line
            where = f"{job.line}: $.reference_id" if job.line is not None else None
            raise InputError(
                job.path,
                where,
                f"reference_id {job.reference_id!r} repeated"
                + (f" (first on line {first})" if first is not None else ""),
            )
        by_id[job.reference_id] = job
    res_jobs = read_jobs(results) if isinstance(results, (str, PathLike)) else results
    pairs: list[tuple[str, Annotations, Keys, Annotations, Keys]] = []
    seen: set[str] = set()
    unknown: list[str] = []
    for res in res_jobs:
        ref = res.reference_id  # without one in the file: its name, percent-decoded by the reader
        if ref in seen:
            raise InputError(res.path, None, f"a second result for reference_id {ref!r}")
        if ref not in by_id:
            unknown.append(ref)
            continue
        seen.add(ref)
        pre = by_id[ref]
        pairs.append(
            (
                ref,
                pre.annotations,
                (object_keys(pre.object_ids), shape_keys(pre.annotations, pre.tracker_ids)),
                res.annotations,
                (object_keys(res.object_ids), shape_keys(res.annotations, res.tracker_ids)),
            )
        )
    missing = [ref for ref in by_id if ref not in seen]
    report = compare_jobs(pairs, options, missing_results=missing, unknown_results=unknown)
    if isinstance(results, (str, PathLike)) and Path(results).is_dir():
        report.ignored_files = ignored_entries(results)
    return report


# bar colours of the plot, one per outcome (matplotlib's tab10 order)
_PLOT_PARTS = (
    ("unchanged", "unchanged", "#2ca02c"),
    ("attributes_changed", "attributes changed", "#98df8a"),
    ("moved", "moved", "#1f77b4"),
    ("relabelled", "relabelled", "#ff7f0e"),
    ("deleted", "deleted", "#d62728"),
    ("added", "added", "#7f7f7f"),
)


def plot_report(report: CompareReport, path: str | PathLike[str]) -> None:
    """A PNG of what became of the pre-labels, one horizontal bar per label: unchanged,
    attributes changed, moved, relabelled and deleted (the pre-labels), then added (final
    shapes no pre-label became). Needs the ``plot`` extra (matplotlib)."""
    try:  # a Figure, not pyplot: no backend switch, no global state
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("plot", "the plot of a comparison") from None
    from prelabel.writer import write_atomic

    table = report.table
    labels = list(table.labels)
    fig = Figure(figsize=(8, 1.2 + 0.4 * max(len(labels), 1)), layout="constrained")
    ax = fig.add_subplot()
    left = np.zeros(len(labels))
    for name, title, colour in _PLOT_PARTS:
        values = table.counts[:, _F[name]].astype(float)
        ax.barh(labels, values, left=left, label=title, color=colour)
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("shapes")
    ax.set_title("What annotators made of the pre-labels")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncols=3, fontsize="small")

    def write(f: BinaryIO) -> None:
        fig.savefig(f, format="png", dpi=100)

    write_atomic(path, write)

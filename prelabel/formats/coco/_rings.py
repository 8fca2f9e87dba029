"""Polygon segmentations and traced RLE masks -> polygons, with the multipart policy."""

from __future__ import annotations

from dataclasses import replace
from itertools import chain
from operator import itemgetter

import numpy as np

from prelabel._ragged import offsets_from_counts, position_in_run, run_owner
from prelabel.annotations import FloatArray, Frames, IntArray, Kind
from prelabel.errors import InputError
from prelabel.formats.coco._columns import number_lists, pick
from prelabel.formats.coco._options import Options
from prelabel.formats.coco._pieces import Piece
from prelabel.formats.coco._records import Records
from prelabel.report import Action, Reason, Report


def ring_pieces(
    recs: Records,
    poly_rows: IntArray,
    rle_rows: IntArray,
    frames: Frames,
    opts: Options,
    report: Report,
    *,
    split: bool,
) -> list[Piece]:
    """Polygons from polygon segmentations and traced RLE masks, with the multipart policy."""
    owners: list[IntArray] = []
    counts: list[IntArray] = []
    points: list[FloatArray] = []
    if poly_rows.size:
        o, c, p = _polygon_rings(recs, poly_rows)
        owners.append(o)
        counts.append(c)
        points.append(p)
    if rle_rows.size:
        o, c, p = _mask_rings(recs, rle_rows, frames, opts, report)
        owners.append(o)
        counts.append(c)
        points.append(p)
    if not owners:
        return []
    owner = np.concatenate(owners)
    count = np.concatenate(counts)
    pts = np.concatenate(points).reshape(-1, 2)
    if len(owners) > 1:  # rings of one record are contiguous; order them by record
        order = np.argsort(owner, kind="stable")
        piece = Piece(offsets_from_counts(count), Kind.POLYGON, owner, np.zeros_like(owner), pts)
        piece = piece.take(order)
        owner, count, pts = piece.rec, piece.counts, piece.points
    n_rings = len(owner)
    starts = (
        np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if n_rings else np.zeros(0, np.int64)
    )
    per_rec = np.diff(np.r_[starts, n_rings])
    sub = position_in_run(per_rec)
    piece = Piece(offsets_from_counts(count), Kind.POLYGON, owner, sub, pts)
    multi = per_rec > 1
    if not multi.any() or not split:
        return [piece]
    # several parts: the largest carries the track; the others stand alone or are dropped
    area = _ring_areas(count, pts)
    ring_rec_pos = run_owner(per_rec)
    order = np.lexsort((-area, ring_rec_pos))
    largest = np.zeros(n_rings, bool)
    largest[order[starts]] = True
    multi_recs = owner[starts[multi]]
    parts = per_rec[multi]
    if opts.multipart == "largest":
        for r, k in zip(multi_recs.tolist(), parts.tolist(), strict=True):
            recs.note(
                report,
                Action.DROPPED,
                Reason.MULTIPART_SMALLER_PARTS,
                r,
                f"kept the largest of {k} parts",
            )
        return [piece.take(largest)]
    for r, k in zip(multi_recs.tolist(), parts.tolist(), strict=True):
        recs.note(
            report, Action.SPLIT, Reason.SPLIT_INTO_POLYGONS, r, f"{k} parts, each its own shape"
        )
    return [replace(piece, keep_track=largest)]


def _ring_areas(counts: IntArray, pts: FloatArray) -> FloatArray:
    """Shoelace area of each ring (absolute), zero for rings of fewer than three points."""
    n = len(counts)
    if not len(pts):
        return np.zeros(n)
    ring = run_owner(counts)
    starts = offsets_from_counts(counts)
    nxt = np.arange(len(pts)) + 1
    last = starts[1:][counts > 0] - 1
    nxt[last] = starts[:-1][counts > 0]
    with np.errstate(over="ignore", invalid="ignore"):  # absurd coordinates: inf / nan area
        cross = pts[:, 0] * pts[nxt, 1] - pts[nxt, 0] * pts[:, 1]
        return np.abs(np.bincount(ring, weights=cross, minlength=n)) / 2.0


def _polygon_rings(recs: Records, rows: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Rings of polygon segmentations ``[[x1, y1, x2, y2, ...], ...]`` (a flat list is one ring)."""
    path = recs.path
    segs = pick(recs.seg, rows)
    first_t = set(map(type, map(itemgetter(0), segs)))
    # a flat list of numbers is one ring (some exporters write it so)
    rings_per = segs if first_t == {list} else [s if type(s[0]) is list else [s] for s in segs]
    n_per = np.fromiter(map(len, rings_per), np.int64, len(rings_per))
    rings = list(chain.from_iterable(rings_per))
    ring_starts = offsets_from_counts(n_per)

    def loc(j: int) -> str:
        k = int(np.searchsorted(ring_starts, j, side="right")) - 1
        return recs.loc(int(rows[k]), "segmentation") + f"[{j - ring_starts[k]}]"

    flat, lengths = number_lists(rings, path, loc, "a list of x, y coordinates")
    odd = np.flatnonzero(lengths % 2)
    if odd.size:
        j = int(odd[0])
        raise InputError(path, loc(j), f"has an odd number of coordinates ({lengths[j]})")
    return np.repeat(rows, n_per), lengths // 2, flat.reshape(-1, 2)


def _mask_rings(
    recs: Records, rows: IntArray, frames: Frames, opts: Options, report: Report
) -> tuple[IntArray, IntArray, FloatArray]:
    """Rings traced from RLE masks (pixel corners; holes filled, specks dropped, both reported)."""
    from prelabel.formats.masks import RLEError, decode_rle, trace_mask

    what = "COCO RLE segmentation"
    owners: list[int] = []
    counts: list[int] = []
    pts: list[FloatArray] = []
    for r, seg in zip(rows.tolist(), pick(recs.seg, rows), strict=True):
        f = int(recs.frame[r])
        h, w = float(frames.height[f]), float(frames.width[f])
        loc = recs.loc(r, "segmentation")
        if h != int(h) or w != int(w):
            raise InputError(
                recs.path, loc, f"an RLE mask needs a whole-pixel image size, not {w} x {h}"
            )
        try:
            mask = decode_rle(seg, int(h), int(w), what=what)
        except RLEError as exc:
            raise InputError(recs.path, loc + exc.where, str(exc)) from None
        out = trace_mask(mask, min_area=opts.min_mask_area, what=what)
        for action, reason, detail in out.findings(opts.min_mask_area):
            recs.note(report, action, reason, r, detail)
        if not out.polygons:
            continue
        for p in out.polygons:
            owners.append(r)
            counts.append(len(p))
            pts.append(p)
    return (
        np.asarray(owners, dtype=np.int64),
        np.asarray(counts, dtype=np.int64),
        np.concatenate(pts) if pts else np.zeros((0, 2)),
    )

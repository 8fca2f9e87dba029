"""Keypoints -> landmarks."""

from __future__ import annotations

from functools import partial

import numpy as np

from prelabel._ragged import offsets_from_counts, position_in_run, run_owner
from prelabel.annotations import IntArray, Kind
from prelabel.errors import InputError
from prelabel.formats.coco._columns import number_lists, pick
from prelabel.formats.coco._options import Options
from prelabel.formats.coco._pieces import Piece, row_loc
from prelabel.formats.coco._records import Records
from prelabel.report import Action, Reason, Report


def keypoint_piece(recs: Records, rows: IntArray, opts: Options, report: Report) -> Piece:
    """Landmarks: points numbered 1..K in the category's order; v = 0 left out (instances).

    In results lists the third value is the detector's confidence, so every point is kept.
    """
    path = recs.path
    loc = partial(row_loc, recs, rows, "keypoints")
    flat, lengths = number_lists(pick(recs.kps, rows), path, loc, "a list of x, y, v values")
    declared = recs.kp_count[rows]
    bad = np.flatnonzero((lengths % 3 != 0) | ((declared > 0) & (lengths != 3 * declared)))
    if bad.size:
        k = int(bad[0])
        want = f"3 x {declared[k]} values" if declared[k] else "a multiple of 3 values"
        raise InputError(
            path, loc(k), f"has {lengths[k]} values, expected {want} (x, y, v per point)"
        )
    per = lengths // 3
    xyv = flat.reshape(-1, 3)
    owner = run_owner(per)
    number = (position_in_run(per) + 1).astype(np.int32)
    v = xyv[:, 2]
    keep = np.ones(len(xyv), bool) if recs.confidence_v else v > 0
    counts = np.bincount(owner[keep], minlength=len(rows)).astype(np.int64)
    empty = counts == 0
    if empty.any():
        for k in np.flatnonzero(empty).tolist():
            r = int(rows[k])
            recs.note(
                report, Action.SKIPPED, Reason.NO_VISIBLE_KEYPOINTS, r, "every keypoint has v = 0"
            )
    attributes = None
    if opts.occluded_attribute:
        occluded = keep & (v == 1) & (not recs.confidence_v)
        occ_owner = owner[occluded]
        occ_number = number[occluded]
        groups = np.split(occ_number, np.searchsorted(occ_owner, np.arange(1, len(rows))))
        attributes = np.empty(len(rows), dtype=object)
        attributes[:] = [{opts.occluded_attribute: [str(x) for x in g.tolist()]} for g in groups]
        attributes = attributes[~empty]
    full = ~empty
    return Piece(
        offsets_from_counts(counts[full]),
        Kind.LANDMARK,
        rows[full],
        np.zeros(int(full.sum()), np.int64),
        xyv[keep, :2].copy(),
        number[keep],
        attributes=attributes,
    )

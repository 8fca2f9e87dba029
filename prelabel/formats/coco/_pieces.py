"""Pieces: the shapes of one kind cut from records (owner record, order inside it, points)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt

from prelabel.annotations import FloatArray, IntArray, Kind, ObjArray
from prelabel.formats._rawshapes import RawTable
from prelabel.formats.coco._columns import box_column, pick
from prelabel.formats.coco._records import Records


@dataclass
class Piece(RawTable):
    """Shapes of one kind cut from records: ``rec`` (owner), ``sub`` (order inside the owner);
    ``offsets`` cuts ``points`` and ``point_label``. What COCO reports is about a record
    (:meth:`Records.note`, ``$.annotations[i]``), so a piece has no source hook of its own."""

    POINT_COLUMNS = frozenset({"points", "point_label"})
    TABLE_VALUES = frozenset({"kind"})
    kind: Kind
    rec: IntArray
    sub: IntArray
    points: FloatArray
    point_label: npt.NDArray[np.int32] | None = None
    keep_track: npt.NDArray[np.bool_] | None = None  # False: the part does not carry the track
    attributes: ObjArray | None = None  # per-shape override of the record's attributes


def row_loc(recs: Records, rows: IntArray, key: str, k: int) -> str:
    return recs.loc(int(rows[k]), key)


def bbox_piece(recs: Records, rows: IntArray, sub: int = 0) -> Piece:
    """Rectangles from ``bbox`` [x, y, w, h]: corners (x, y) (x + w, y) (x + w, y + h) (x, y + h)."""
    b = box_column(pick(recs.bbox, rows), recs.path, partial(row_loc, recs, rows, "bbox"))
    x0, y0 = b[:, 0], b[:, 1]
    x1, y1 = x0 + b[:, 2], y0 + b[:, 3]
    pts = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 2)
    m = len(rows)
    return Piece(
        np.arange(0, 4 * m + 1, 4, dtype=np.int64),
        Kind.RECTANGLE,
        rows,
        np.full(m, sub, np.int64),
        pts,
    )


def bounds_piece(p: Piece) -> Piece:
    """One rectangle per record: the bounds of all its shapes' points in ``p``."""
    owner = np.repeat(p.rec, p.counts)
    recs, inverse = np.unique(owner, return_inverse=True)
    inverse = inverse.ravel()
    lo = np.full((len(recs), 2), np.inf)
    hi = np.full((len(recs), 2), -np.inf)
    np.minimum.at(lo, inverse, p.points)
    np.maximum.at(hi, inverse, p.points)
    pts = np.stack(
        [lo[:, 0], lo[:, 1], hi[:, 0], lo[:, 1], hi[:, 0], hi[:, 1], lo[:, 0], hi[:, 1]], 1
    )
    m = len(recs)
    return Piece(
        np.arange(0, 4 * m + 1, 4, dtype=np.int64),
        Kind.RECTANGLE,
        recs,
        np.zeros(m, np.int64),
        pts.reshape(-1, 2),
    )

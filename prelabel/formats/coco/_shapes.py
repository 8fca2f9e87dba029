"""Records -> shapes: which geometry each annotation gives, then one table in record order."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts, rows_at
from prelabel.annotations import Annotations, IntArray
from prelabel.errors import InputError
from prelabel.formats.coco._attributes import attribute_column
from prelabel.formats.coco._columns import LIST, OBJECT, NoneType, pick, value_kinds
from prelabel.formats.coco._keypoints import keypoint_piece
from prelabel.formats.coco._options import Options
from prelabel.formats.coco._pieces import Piece, bbox_piece, bounds_piece, row_loc
from prelabel.formats.coco._records import Records
from prelabel.formats.coco._rings import ring_pieces
from prelabel.report import Action, Reason, Report


def record_shapes(recs: Records, opts: Options, report: Report) -> Annotations:
    """Every record's shapes, in record order (see the module doc and docs/formats/coco.md)."""
    frames = recs.frames
    n = len(recs)
    path = recs.path
    seg = (
        np.zeros(n, np.int8)
        if recs.seg is None
        else value_kinds(
            recs.seg,
            frozenset({NoneType, list, dict}),
            path,
            recs.at("segmentation"),
            "a list of polygons or an RLE object",
        )
    )
    poly = seg == LIST
    rle = seg == OBJECT

    def bbox_present(rows: IntArray) -> npt.NDArray[np.bool_]:
        """Which of ``rows`` have a bbox (checked only where a box is wanted)."""
        if recs.bbox is None:
            return np.zeros(len(rows), bool)
        where = partial(row_loc, recs, rows, "bbox")
        values = pick(recs.bbox, rows)
        kinds = value_kinds(
            values, frozenset({NoneType, list}), path, where, "[x, y, width, height]"
        )
        present: npt.NDArray[np.bool_] = kinds == LIST
        return present

    if recs.kps is None:
        has_kp = np.zeros(n, bool)
    else:
        has_kp = (
            value_kinds(
                recs.kps,
                frozenset({NoneType, list}),
                path,
                recs.at("keypoints"),
                "a list of x, y, v values",
            )
            == LIST
        )

    def no_geometry(rows: IntArray) -> InputError:
        return InputError(
            path, recs.loc(int(rows[0]), None), "has no bbox, segmentation or keypoints"
        )

    def rings(rows: npt.NDArray[np.bool_], *, split: bool) -> list[Piece]:
        """Polygons of the selected records with polygon or RLE segmentations."""
        poly_rows, rle_rows = np.flatnonzero(rows & poly), np.flatnonzero(rows & rle)
        return ring_pieces(recs, poly_rows, rle_rows, frames, opts, report, split=split)

    pieces: list[Piece] = []
    if opts.as_boxes:
        has_bb = bbox_present(np.arange(n))
        nothing = ~(has_bb | poly | rle | has_kp)
        if nothing.any():
            raise no_geometry(np.flatnonzero(nothing))
        pieces.append(bbox_piece(recs, np.flatnonzero(has_bb)))
        rest = ~has_bb
        derived = []
        kp_rows = np.flatnonzero(rest & has_kp)
        if kp_rows.size:
            derived.append(keypoint_piece(recs, kp_rows, opts, report))
        geo = rest & ~has_kp
        derived += rings(geo, split=False)
        pieces += [bounds_piece(p) for p in derived if len(p.rec)]
    else:
        kp_rows = np.flatnonzero(has_kp)
        if kp_rows.size:
            landmarks = keypoint_piece(recs, kp_rows, opts, report)
            pieces.append(landmarks)
            ignored = int((has_kp & (poly | rle)).sum())
            if ignored:
                report.add(
                    Action.NOTED,
                    Reason.KEYPOINT_SEGMENTATION_IGNORED,
                    detail=f"{ignored} annotation(s) with keypoints: their segmentation is not used",
                )
            if opts.keypoints_with_box:
                with_bb = kp_rows[bbox_present(kp_rows)]
                pieces.append(bbox_piece(recs, with_bb, sub=1))
                no_bb = np.setdiff1d(kp_rows, with_bb)
                if no_bb.size:
                    # the box of the visible keypoints where the annotation has no bbox
                    lm = landmarks
                    take = np.isin(lm.rec, no_bb)
                    if take.any():
                        box = bounds_piece(lm.take(take))
                        pieces.append(replace(box, sub=np.ones_like(box.sub)))
        geo = ~has_kp
        pieces += rings(geo, split=True)
        box_rows = np.flatnonzero(geo & ~poly & ~rle)
        has_bb = bbox_present(box_rows)
        if not has_bb.all():
            raise no_geometry(box_rows[~has_bb])
        pieces.append(bbox_piece(recs, box_rows))
    return assemble(recs, [p for p in pieces if len(p.rec)], opts, report)


def assemble(recs: Records, pieces: list[Piece], opts: Options, report: Report) -> Annotations:
    """One table from the pieces, shapes in record order; each piece's points are copied once,
    straight to their final rows."""
    if not pieces:
        return Annotations.empty(recs.frames, recs.labels)
    rec = np.concatenate([p.rec for p in pieces])
    sub = np.concatenate([p.sub for p in pieces])
    counts = np.concatenate([p.counts for p in pieces])
    keep_track = np.concatenate(
        [p.keep_track if p.keep_track is not None else np.ones(len(p.rec), bool) for p in pieces]
    )
    kind = np.concatenate([np.full(len(p.rec), int(p.kind), np.int8) for p in pieces])
    attrs = attribute_column(recs, rec, pieces, opts, report)
    m = len(rec)
    order = np.lexsort((sub, rec))
    in_order = bool(np.all(order == np.arange(m)))
    if in_order and len(pieces) == 1:
        points = pieces[0].points
        pl = pieces[0].point_label
        point_label = pl if pl is not None else np.zeros(len(points), np.int32)
    else:
        position = np.empty(m, np.int64)
        position[order] = np.arange(m)
        out_starts = offsets_from_counts(counts[order])
        total = int(out_starts[-1])
        points = np.empty((total, 2), np.float64)
        point_label = np.zeros(total, np.int32)
        first = 0
        for p in pieces:
            k = len(p.rec)
            dest = rows_at(out_starts[position[first : first + k]], p.counts)
            points[dest] = p.points
            if p.point_label is not None:
                point_label[dest] = p.point_label
            first += k
        rec, counts, kind, keep_track, attrs = (
            rec[order],
            counts[order],
            kind[order],
            keep_track[order],
            attrs[order],
        )
    offsets = offsets_from_counts(counts)
    source = np.empty(m, dtype=object)
    source[:] = recs.sources(rec)
    return Annotations(
        frames=recs.frames,
        labels=recs.labels,
        kind=kind,
        frame=recs.frame[rec],
        label=recs.label[rec],
        track=np.where(keep_track, recs.track[rec], -1),
        score=recs.score[rec],
        offsets=offsets,
        points=points,
        point_label=point_label,
        attributes=attrs,
        source=source,
    )

"""Rows -> shapes: boxes as rectangles, oriented boxes as rectangles or polygons, polygons,
keypoints as landmarks, in pixels when the image sizes are known."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts, rows_at
from prelabel.annotations import Annotations, FloatArray, Frames, IntArray, Kind
from prelabel.formats.yolo._layout import LabelFiles
from prelabel.formats.yolo._lines import Lines
from prelabel.formats.yolo._schema import Reading, Schema, positions_per_line
from prelabel.report import Action, Reason, Report

# A corner this close (in source units) to the box's min/max counts as on it (OBB -> rectangle).
_AXIS_TOL_NORMALISED = 1e-9
_AXIS_TOL_PIXELS = 1e-6


def _gather(values: FloatArray, first: IntArray, size: int) -> FloatArray:
    """(n, size) block of values starting at ``first`` of each row."""
    block: FloatArray = values[first[:, None] + np.arange(size)]
    return block


def _rect_corners(x1: FloatArray, y1: FloatArray, x2: FloatArray, y2: FloatArray) -> FloatArray:
    """(n*4, 2) corners top-left, top-right, bottom-right, bottom-left."""
    return np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=1).reshape(-1, 2)


def axis_aligned(c: FloatArray, tol: float) -> npt.NDArray[np.bool_]:
    """Per (4, 2) corner set of ``c`` (n, 4, 2), whether it is an axis-aligned rectangle:
    every corner within ``tol`` of exactly one of the min/max x and one of the min/max y, the
    four corners on four different (x, y) extremes. Also the Ultralytics adapter's rule."""
    xmin, xmax = c[:, :, 0].min(axis=1), c[:, :, 0].max(axis=1)
    ymin, ymax = c[:, :, 1].min(axis=1), c[:, :, 1].max(axis=1)
    on_x_max = np.abs(c[:, :, 0] - xmax[:, None]) <= tol
    on_x_min = np.abs(c[:, :, 0] - xmin[:, None]) <= tol
    on_y_max = np.abs(c[:, :, 1] - ymax[:, None]) <= tol
    on_y_min = np.abs(c[:, :, 1] - ymin[:, None]) <= tol
    code = on_x_max * 2 + on_y_max
    axis: npt.NDArray[np.bool_] = (
        (on_x_max ^ on_x_min).all(axis=1)
        & (on_y_max ^ on_y_min).all(axis=1)
        & (np.sort(code, axis=1) == np.arange(4)).all(axis=1)
    )
    return axis


def empty_annotations(
    frames: Frames, labels: tuple[str, ...] | None, *, normalised: bool
) -> Annotations:
    ann = Annotations.empty(frames, labels or ())
    return ann.with_points(ann.points, normalised=normalised)


def _group_parts(
    schema: Schema, vals: FloatArray, first: IntArray, ncol: IntArray, pos: dict[str, Any],
    scale_x: FloatArray, scale_y: FloatArray, tol: float, keypoints_with_box: bool,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """The shapes of the rows of one schema: (kind per shape, point counts, points,
    point labels, the row of each shape)."""
    n = len(first)
    parts: list[tuple[Any, ...]] = []
    if "box" in pos:
        b = _gather(vals, first + pos["box"], 4)
        x1 = (b[:, 0] - b[:, 2] / 2) * scale_x
        y1 = (b[:, 1] - b[:, 3] / 2) * scale_y
        x2 = (b[:, 0] + b[:, 2] / 2) * scale_x
        y2 = (b[:, 1] + b[:, 3] / 2) * scale_y
        if "kpts" not in pos or keypoints_with_box:
            parts.append(
                (np.full(n, Kind.RECTANGLE, np.int8), np.full(n, 4), _rect_corners(x1, y1, x2, y2),
                 np.zeros(4 * n, np.int32), np.arange(n))
            )  # fmt: skip
    if "obb" in pos:
        c = _gather(vals, first + pos["obb"], 8).reshape(n, 4, 2)
        xmin, xmax = c[:, :, 0].min(axis=1), c[:, :, 0].max(axis=1)
        ymin, ymax = c[:, :, 1].min(axis=1), c[:, :, 1].max(axis=1)
        axis = axis_aligned(c, tol)
        pts = c * np.stack([scale_x, scale_y], axis=1)[:, None, :]
        rect = _rect_corners(xmin * scale_x, ymin * scale_y, xmax * scale_x, ymax * scale_y)
        pts = np.where(np.repeat(axis, 4)[:, None], rect, pts.reshape(-1, 2))
        kind = np.where(axis, Kind.RECTANGLE, Kind.POLYGON).astype(np.int8)
        parts.append((kind, np.full(n, 4), pts, np.zeros(4 * n, np.int32), np.arange(n)))
    if "poly" in pos:
        counts = ncol - schema.fixed
        pts = vals[rows_at(first + pos["poly"], counts)].reshape(-1, 2)
        npts = counts // 2
        pts = pts * np.stack([np.repeat(scale_x, npts), np.repeat(scale_y, npts)], axis=1)
        parts.append(
            (np.full(n, Kind.POLYGON, np.int8), npts, pts, np.zeros(len(pts), np.int32),
             np.arange(n))
        )  # fmt: skip
    if "kpts" in pos:
        assert schema.kpts is not None
        k, d = schema.kpts
        kp = _gather(vals, first + pos["kpts"], k * d).reshape(n, k, d)
        visible = kp[:, :, 2] != 0 if d == 3 else np.ones((n, k), dtype=bool)
        counts = visible.sum(axis=1)
        pts = np.stack([kp[:, :, 0] * scale_x[:, None], kp[:, :, 1] * scale_y[:, None]], axis=2)
        pts = pts[visible]
        plabel = np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), (n, k))[visible]
        has = counts > 0  # a row without a visible point gives nothing (the caller reports it)
        parts.append(
            (np.full(int(has.sum()), Kind.LANDMARK, np.int8), counts[has], pts, plabel,
             np.flatnonzero(has))
        )  # fmt: skip

    return parts


def build_shapes(
    lines: Lines, keep: npt.NDArray[np.bool_], reading: Reading, sid: IntArray,
    frames: Frames, labels: tuple[str, ...], files: LabelFiles,
    have_images: bool, pixels: bool, keypoints_with_box: bool, rep: Report,
) -> Annotations:  # fmt: skip
    rows = np.flatnonzero(keep)
    n = len(rows)
    if n == 0:
        return empty_annotations(frames, labels, normalised=not have_images)
    vals = lines.values
    frame = files.frame[lines.file[rows]]
    # pixels per unit of the source: the frame size for normalised rows with images, else 1
    scale_x = frames.width[frame] if have_images and not pixels else np.ones(n)
    scale_y = frames.height[frame] if have_images and not pixels else np.ones(n)
    tol = _AXIS_TOL_PIXELS if pixels else _AXIS_TOL_NORMALISED
    # "labels/a.txt:3" per shape, as object-array sums (no Python loop per shape)
    prefix = np.array([f"{r}:" for r in files.rel] or [""], dtype=object)
    line_text = np.array([str(i) for i in range(int(lines.lineno.max()) + 1)], dtype=object)
    source = prefix[lines.file[rows]] + line_text[lines.lineno[rows]]
    cls = np.zeros(n, dtype=np.int32)
    score = np.full(n, np.nan)
    track = np.full(n, -1, dtype=np.int64)

    # each schema's rows (one schema unless boxes and polygons mix, or rows lack a track id)
    parts: list[tuple[Any, ...]] = []  # (kind per shape, counts, points, point_label, row index)
    row_sid = sid[rows]
    for k, schema in enumerate(reading.schemas):
        g = np.flatnonzero(row_sid == k)
        if not len(g):
            continue
        first = lines.tok_first[rows[g]]
        ncol = lines.ncol[rows[g]]
        pos = positions_per_line(schema, ncol)
        cls[g] = vals[first + pos["cls"]].astype(np.int32)
        if "conf" in pos:
            score[g] = vals[first + pos["conf"]]
        if "track" in pos:
            track[g] = vals[first + pos["track"]].astype(np.int64)
        group = _group_parts(
            schema, vals, first, ncol, pos, scale_x[g], scale_y[g], tol, keypoints_with_box
        )
        parts.extend((kind, cnt, pts, plab, g[local]) for kind, cnt, pts, plab, local in group)
        if "kpts" in pos:  # keypoint rows without a visible point give no landmark: reported
            for i in g[np.setdiff1d(np.arange(len(g)), group[-1][4])].tolist():
                rep.add(
                    Action.SKIPPED,
                    Reason.NO_VISIBLE_KEYPOINTS,
                    source=source[i],
                    frame=str(frames.name[frame[i]]),
                    label=labels[cls[i]],
                )

    kinds = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts]).astype(np.int64)
    points = np.concatenate([p[2] for p in parts]).reshape(-1, 2)
    plabels = np.concatenate([p[3] for p in parts])
    row = np.concatenate([p[4] for p in parts]).astype(np.int64)
    offsets = offsets_from_counts(counts)
    ann = Annotations._runs(
        frames, kinds, points, offsets, cls[row], frame[row], names=labels, track=track[row],
        score=score[row], point_label=plabels, source=source[row],
        normalised=not have_images,
    )  # fmt: skip
    if len(parts) > 1:
        # keep file order: the shapes of one line together (box, then its keypoints)
        ann = ann[np.lexsort((kinds, row))]
    return ann

"""CVAT geometry -> the platform's geometry: boxes to corners, ellipses to polygons, cuboid
corner order, skeletons to landmarks (see docs/formats/cvat.md for the table)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts, position_in_run, run_owner, run_rows
from prelabel.annotations import Annotations, Frames, Kind
from prelabel.formats.cvat._masks import with_masks
from prelabel.formats.cvat._raw import RawShapes
from prelabel.formats.cvat._tables import (
    BOX,
    CUBOID,
    ELLIPSE,
    MASK,
    POINTS,
    POLYGON,
    POLYLINE,
    SKELETON,
    ParsedFile,
)
from prelabel.report import Action, Reason, Report

# CVAT writes a cuboid as xtl1 ytl1 xbl1 ybl1 xtr1 ytr1 xbr1 ybr1 (face 1, the front) and the
# same for face 2 (the back). Its canvas names the back edges from the other side: edge
# (tl2, bl2) is "dorsal right" and joins the front's right edge (tr1-tl2, br1-bl2), edge
# (tr2, br2) is "dorsal left" and joins the front's left edge (tl1-tr2, bl1-br2).
# CVAT corner index (that order) of p1..p8 = front BL, BR, TR, TL, back BL, BR, TR, TL
# (the API example's order: p1, p2 at the bottom), where "back BL" is the back corner
# behind the front's bottom-left one (bl1-br2 joins them: p5 = br2).
CUBOID_CVAT_TO_P = np.array([1, 3, 2, 0, 7, 5, 4, 6])


def _rotate(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    cx: npt.NDArray[np.float64],
    cy: npt.NDArray[np.float64],
    deg: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rotate (x, y) about (cx, cy) by ``deg`` degrees, clockwise on screen (y points down)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    dx, dy = x - cx, y - cy
    return cx + c * dx - s * dy, cy + s * dx + c * dy


def box_corners(
    values: npt.ArrayLike, rotation: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """(N, 4, 2) corners TL, TR, BR, BL of ``xtl, ytl, xbr, ybr`` boxes, rotated about their centre."""
    v = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    x0, y0, x1, y1 = v[:, 0:1], v[:, 1:2], v[:, 2:3], v[:, 3:4]
    xs = np.concatenate([x0, x1, x1, x0], axis=1)
    ys = np.concatenate([y0, y0, y1, y1], axis=1)
    if rotation is not None:
        rot = np.asarray(rotation, dtype=np.float64).reshape(-1, 1)
        xs, ys = _rotate(xs, ys, (x0 + x1) / 2, (y0 + y1) / 2, rot)
    return np.stack([xs, ys], axis=2)


def ellipse_polygon(
    values: npt.ArrayLike, rotation: npt.ArrayLike, vertices: int
) -> npt.NDArray[np.float64]:
    """(N, vertices, 2) polygons approximating ``cx, cy, rx, ry`` ellipses (rotation in degrees).

    Vertex k is at parameter angle 2*pi*k/vertices, starting at (cx + rx, cy) before rotation.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    t = 2.0 * np.pi * np.arange(vertices) / vertices
    cx, cy, rx, ry = v[:, 0:1], v[:, 1:2], v[:, 2:3], v[:, 3:4]
    xs = cx + rx * np.cos(t)
    ys = cy + ry * np.sin(t)
    rot = np.asarray(rotation, dtype=np.float64).reshape(-1, 1)
    xs, ys = _rotate(xs, ys, cx, cy, rot)
    return np.stack([xs, ys], axis=2)


def to_annotations(
    raw: RawShapes,
    frames: Frames,
    parsed: ParsedFile,
    *,
    ellipse_vertices: int,
    occluded_attribute: str | None,
    drop: bool,
    frame_text: Callable[[int, int], str],
    report: Report,
) -> Annotations:
    """The platform's shapes of the raw table, in its row order (``<mask>`` traced into
    polygons); ``frame_text(track row, frame row)`` names a frame in the report."""
    kind = raw.kind
    n = len(raw)
    counts = raw.counts
    out_kind = np.full(n, int(Kind.POLYGON), dtype=np.int8)
    out_count = counts.copy()
    out_kind[kind == POLYLINE] = Kind.LINE
    out_kind[kind == POINTS] = Kind.LANDMARK
    out_kind[kind == SKELETON] = Kind.LANDMARK
    out_kind[kind == CUBOID] = Kind.CUBOID
    is_box = kind == BOX
    rotated = is_box & (raw.rotation % 360.0 != 0.0)
    out_kind[is_box & ~rotated] = Kind.RECTANGLE
    out_count[is_box] = 4
    is_ell = kind == ELLIPSE
    out_count[is_ell] = ellipse_vertices
    is_skel = kind == SKELETON
    if is_skel.any():
        # only the visible points of a skeleton
        c = counts[is_skel]
        owner = run_owner(c)
        visible = raw.vis[run_rows(raw.offsets, np.flatnonzero(is_skel))[0]]
        out_count[is_skel] = np.bincount(owner, weights=visible, minlength=len(c)).astype(np.int64)
    is_mask = kind == MASK
    keep = ~is_mask & ~(is_skel & (out_count == 0))
    empty = np.flatnonzero(is_skel & (out_count == 0))
    raw.report(
        report,
        Action.DROPPED,
        Reason.EMPTY_SKELETON,
        empty,
        labels=[parsed.label_names[i] for i in raw.label[empty].tolist()],
        detail="every point of the skeleton is outside",
    )

    rows = np.flatnonzero(keep)
    oc = out_count[rows]
    offsets = offsets_from_counts(oc)
    points = np.empty((int(offsets[-1]), 2), dtype=np.float64)
    point_label = np.zeros(len(points), dtype=np.int32)
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))

    def dest(sel: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        o = pos[sel]
        return run_rows(offsets, o)[0]

    plain = np.isin(kind, (POLYGON, POLYLINE, POINTS, CUBOID)) & keep
    if plain.any():
        src_idx = run_rows(raw.offsets, np.flatnonzero(plain))[0]
        pts = raw.pairs[src_idx]
        cub = kind[plain] == CUBOID
        if cub.any():
            # reorder each cuboid's 8 corners from CVAT's order to p1..p8
            within = position_in_run(counts[plain])
            run_start = np.arange(len(src_idx)) - within
            is_cub_pt = np.repeat(cub, counts[plain])
            within_c = within[is_cub_pt]
            reorder = np.arange(len(src_idx))
            reorder[is_cub_pt] = run_start[is_cub_pt] + CUBOID_CVAT_TO_P[within_c]
            pts = pts[reorder]
        d = dest(plain)
        points[d] = pts
        pts_lm = np.repeat((kind[plain] == POINTS), counts[plain])
        if pts_lm.any():
            point_label[d[pts_lm]] = position_in_run(counts[plain])[pts_lm] + 1
    if is_box.any():
        v = raw.pairs[run_rows(raw.offsets, np.flatnonzero(is_box))[0]].reshape(-1, 4)
        corners = box_corners(v, np.where(rotated[is_box], raw.rotation[is_box], 0.0))
        points[dest(is_box)] = corners.reshape(-1, 2)
    if is_ell.any():
        v = raw.pairs[run_rows(raw.offsets, np.flatnonzero(is_ell))[0]].reshape(-1, 4)
        points[dest(is_ell)] = ellipse_polygon(v, raw.rotation[is_ell], ellipse_vertices).reshape(
            -1, 2
        )
    sk = is_skel & keep
    if sk.any():
        src_idx = run_rows(raw.offsets, np.flatnonzero(sk))[0]
        number = position_in_run(counts[sk]) + 1  # position in the label spec
        visible = raw.vis[src_idx]
        d = dest(sk)
        points[d] = raw.pairs[src_idx][visible]
        point_label[d] = number[visible]

    attrs = [raw.attrs[i] for i in rows.tolist()]
    if occluded_attribute is not None:
        occ = raw.occluded[rows].tolist()
        attrs = [
            {**(a or {}), occluded_attribute: "true" if o else "false"}
            for a, o in zip(attrs, occ, strict=True)
        ]
    track_ids = np.asarray(parsed.tracks.id + [-1], dtype=np.int64)[raw.track[rows]]
    ann = Annotations._runs(
        frames,
        out_kind[rows],
        points,
        offsets,
        raw.label[rows],
        raw.frame[rows],
        names=parsed.label_names,
        track=track_ids,
        point_label=point_label,
        attributes=attrs,
        source=raw.sources(rows),
    )
    if is_mask.any():
        ann = with_masks(
            ann,
            raw,
            parsed,
            np.flatnonzero(is_mask),
            rows,
            occluded_attribute=occluded_attribute,
            drop=drop,
            frame_text=frame_text,
            report=report,
        )
    return ann

"""Tracks: keyframe order, inherited attributes, interpolation between keyframes, ``outside``.

The numeric steps are pure functions of columns (:func:`keyframe_gaps`, :func:`fill_steps`,
:func:`lerp_rotation`), so each can be checked alone; :func:`track_pass` puts them together
on the raw shape table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prelabel._ragged import position_in_run, run_owner, run_rows
from prelabel.errors import InputError, param
from prelabel.formats.cvat._raw import RawShapes
from prelabel.formats.cvat._tables import element_source
from prelabel.report import Action, Reason, Report

# The points interpolation between keyframes (and holding after the last one) may add in one
# file, counted before anything is allocated.
MAX_FILLED_POINTS = 2_000_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def track_order(track: IntArray, frame: IntArray) -> IntArray:
    """Rows in the order image shapes (track -1) first, then by track, then by frame."""
    return np.lexsort((frame, track, track >= 0))


def repeated_frames(track: IntArray, frame: IntArray) -> BoolArray:
    """Of rows sorted by (track, frame): those whose frame the row before already has."""
    dup = np.zeros(len(track), dtype=bool)
    dup[1:] = (track[1:] == track[:-1]) & (frame[1:] == frame[:-1])
    return dup


def inherited_attributes(
    attrs: list[dict[str, str] | None],
    track: list[int],
    track_attrs: dict[int, dict[str, str]],
) -> list[dict[str, str] | None]:
    """The attributes of track shapes (sorted by track, then frame) after inheritance.

    A track shape keeps the attributes of the shape before it that it does not restate, as
    CVAT does when it loads a track (immutable attributes are often written only on the
    first keyframe); attributes written on the ``<track>`` itself apply to every shape.
    """
    out: list[dict[str, str] | None] = []
    prev_track = -1
    prev: dict[str, str] | None = None
    for cur, t in zip(attrs, track, strict=True):
        if t != prev_track:
            prev_track = t
            base = track_attrs.get(t)
            if base:
                cur = {**base, **cur} if cur else dict(base)
        elif prev and (cur is None or not prev.keys() <= cur.keys()):
            cur = {**prev, **cur} if cur else prev
        out.append(cur)
        prev = cur
    return out


def keyframe_gaps(
    track: IntArray, frame: IntArray, outside: BoolArray, end: IntArray
) -> tuple[BoolArray, IntArray, IntArray, IntArray]:
    """For track shapes sorted by (track, frame): ``(last, next, span, gap)``.

    ``last`` marks a track's last shape; ``next`` is the position of the next shape of the
    track (itself for the last); ``span`` the frames from this shape to the next one, or to
    ``end`` (the frame row just past the task) for the last; ``gap`` the frames to fill in
    between (``span - 1``, none after an ``outside`` shape).
    """
    n = len(track)
    last = np.ones(n, dtype=bool)
    last[:-1] = track[1:] != track[:-1]
    pos = np.arange(n, dtype=np.int64)
    nxt = np.where(last, pos, np.roll(pos, -1))
    span = np.where(last, end, np.roll(frame, -1)) - frame
    gap = span - 1
    gap[outside] = 0
    return last, nxt, span, np.maximum(gap, 0)


def fill_steps(
    gap: IntArray, span: IntArray, lerp: BoolArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """For every frame to fill: ``(shape, step, t)``, the shape it is filled from, its
    distance in frames from that shape (1 .. gap) and the mix ``t = step / span`` towards
    the next shape (0 where the shape is held, not interpolated)."""
    shape = run_owner(gap)
    step = position_in_run(gap) + 1
    t = np.where(lerp[shape], step / np.maximum(span[shape], 1), 0.0)
    return shape, step, t


def lerp_rotation(r0: FloatArray, r1: FloatArray, t: FloatArray) -> FloatArray:
    """Rotations (degrees) mixed ``t`` of the way from ``r0`` to ``r1`` along the shorter
    arc, in [0, 360)."""
    diff = (r1 - r0 + 180.0) % 360.0 - 180.0
    return (r0 + diff * t + 360.0) % 360.0


def track_pass(
    raw: RawShapes,
    *,
    end_of_track: IntArray,
    track_ids: list[int],
    track_attrs: dict[int, dict[str, str]],
    label_names: list[str],
    interpolate: bool,
    path: str,
    report: Report,
) -> RawShapes:
    """Sort track shapes, inherit attributes, fill keyframe gaps, drop ``outside`` frames.

    ``end_of_track`` is, per track, the frame row just past the end of its task.
    """
    raw = raw.take(track_order(raw.track, raw.frame))
    t_rows = np.flatnonzero(raw.track >= 0)
    dup = repeated_frames(raw.track[t_rows], raw.frame[t_rows])
    if dup.any():
        rows = t_rows[dup]
        raw.report(
            report,
            Action.DROPPED,
            Reason.TRACK_REPEATED_FRAME,
            rows,
            labels=[label_names[i] for i in raw.label[rows].tolist()],
            detail=[
                f"track {track_ids[t]} already has this frame" for t in raw.track[rows].tolist()
            ],
        )
        keep = np.ones(len(raw), dtype=bool)
        keep[t_rows[dup]] = False
        raw = raw.take(keep)
        t_rows = np.flatnonzero(raw.track >= 0)
    t_list = t_rows.tolist()
    inherited = inherited_attributes(
        [raw.attrs[i] for i in t_list], raw.track[t_rows].tolist(), track_attrs
    )
    for row, a in zip(t_list, inherited, strict=True):
        raw.attrs[row] = a

    if interpolate and len(t_rows):
        raw = _fill_gaps(raw, t_rows, end_of_track, label_names, path, report)
        order = track_order(raw.track, raw.frame)
        return raw.take(order[~raw.outside[order]])
    return raw.take(~raw.outside)


def _fill_gaps(
    raw: RawShapes,
    t_rows: IntArray,
    end_of_track: IntArray,
    label_names: list[str],
    path: str,
    report: Report,
) -> RawShapes:
    """Shapes for the task frames between keyframes (and after the last one), as CVAT does.

    Between a visible keyframe and the next shape of its track every frame gets the linear
    mix ``v0 + (v1 - v0) * t`` of CVAT's parameters (box corners, cuboid corners, ellipse
    centre and radii, polygon/polyline/points vertices, skeleton points; the rotation along
    the shorter arc); shapes of different type or point count are held (copied) instead. After
    a track's last shape, if it is not ``outside``, it is held to the end of the task. An
    ``outside`` shape starts a gap: nothing is made until the track reappears.
    """
    # frame rows are task-consecutive, so the end of the task is base + n_frames
    last, nxt, span, gap = keyframe_gaps(
        raw.track[t_rows], raw.frame[t_rows], raw.outside[t_rows], end_of_track[raw.track[t_rows]]
    )
    src, dst = t_rows, t_rows[nxt]
    if not gap.any():
        return raw
    counts = raw.counts
    # the work is known before anything is allocated: one copy of each shape per filled frame
    filled_points = float(np.dot(gap.astype(np.float64), counts[src]))
    if filled_points > MAX_FILLED_POINTS:
        worst = int(np.argmax(gap * counts[src]))
        raise InputError(
            path,
            element_source(raw.kind[src[worst]], raw.line[src[worst]]),
            f"filling the frames between keyframes would make {filled_points:,.0f} points, "
            f"more than {MAX_FILLED_POINTS:,} (this shape alone is held for {gap[worst]:,} "
            f"frames); give {param('interpolate', False)} to keep only the frames the tracks list",
        )
    kinds_match = (raw.kind[src] == raw.kind[dst]) & (counts[src] == counts[dst])
    lerp = kinds_match & ~last
    held = ~kinds_match & ~last & (gap > 0)
    raw.report(
        report,
        Action.NOTED,
        Reason.HELD_NOT_INTERPOLATED,
        src[held],
        labels=[label_names[i] for i in raw.label[src[held]].tolist()],
        detail="the next keyframe has another type or point count",
    )
    pair, step_in, t = fill_steps(gap, span, lerp)
    s0 = src[pair]
    # a held shape mixes with itself: the next one may have fewer points (or be the last row)
    s1 = np.where(lerp[pair], dst[pair], s0)
    n_counts = counts[s0]
    i0, offsets = run_rows(raw.offsets, s0)
    i1 = run_rows(raw.offsets, s1)[0]
    tp = np.repeat(t, n_counts)[:, None]
    p0, p1 = raw.pairs[i0], raw.pairs[i1]
    p1 = np.where(np.isnan(p1), p0, p1)  # a skeleton point missing later: hold it
    n_new = len(pair)
    new = RawShapes(
        kind=raw.kind[s0],
        frame=raw.frame[s0] + step_in,
        label=raw.label[s0],
        track=raw.track[s0],
        line=raw.line[s0],
        outside=np.zeros(n_new, dtype=bool),
        occluded=raw.occluded[s0],
        rotation=lerp_rotation(raw.rotation[s0], raw.rotation[s1], t),
        offsets=offsets,
        pairs=p0 + (p1 - p0) * tp,
        vis=raw.vis[i0],
        attrs=[raw.attrs[i] for i in s0.tolist()],
        origin=raw.origin[s0],
        filled=np.ones(n_new, dtype=bool),
    )
    return RawShapes.concat([raw, new])

"""The intermediate representation: a table of frames and a table of shapes, as numpy columns.

Every reader produces an :class:`Annotations`; everything after it (normalisation, checks,
trackers, jobs) consumes one. Shapes are never Python objects: their points live in one
``(P, 2)`` float array, cut into shapes by ``offsets`` (the layout of Arrow and of
``shapely.from_ragged_array``). Coordinates are pixels until :func:`prelabel.geometry.normalise`
divides them by each point's frame size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import (
    concat_offsets,
    offsets_from_counts,
    position_in_run,
    run_owner,
    run_rows,
)
from prelabel.errors import InputError
from prelabel.errors import param as keyword
from prelabel.urls import is_url

if TYPE_CHECKING:
    from prelabel.report import Report

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


class Kind(IntEnum):
    """Annotation object types of the platform, in the order the spec lists them."""

    RECTANGLE = 0
    POLYGON = 1
    LINE = 2
    CUBOID = 3
    LANDMARK = 4

    @property
    def type_name(self) -> str:
        """The payload's ``type`` string."""
        return self.name.lower()


def _obj(values: Iterable[Any], n: int | None = None) -> ObjArray:
    values = list(values)
    arr = np.empty(len(values) if n is None else n, dtype=object)
    arr[: len(values)] = values
    return arr


def _str_column(values: Sequence[str] | str | None, n: int, default: str = "") -> ObjArray:
    if values is None:
        return _obj([default] * n)
    if isinstance(values, str):
        return _obj([values] * n)
    if len(values) != n:
        raise ValueError(f"expected {n} values, got {len(values)}")
    return _obj([str(v) for v in values])


@dataclass(eq=False)
class Frames:
    """One row per image / video frame.

    ``name`` is the image's path relative to the dataset root ("" when the source has none,
    as in video exports); ``sequence`` names the video (one job per sequence); ``index`` is
    the frame's position in its sequence. ``frame_id`` and ``src`` may be empty until the
    convert options fill them from templates.
    """

    name: ObjArray
    sequence: ObjArray
    index: IntArray
    width: FloatArray
    height: FloatArray
    frame_id: ObjArray
    src: ObjArray
    reference: ObjArray = field(default_factory=lambda: _obj([]))

    def __post_init__(self) -> None:
        n = len(self.name)
        if len(self.reference) != n:
            self.reference = _obj([None] * n)
        for col in ("sequence", "index", "width", "height", "frame_id", "src"):
            if len(getattr(self, col)) != n:
                raise ValueError(
                    f"frames column {col!r} has {len(getattr(self, col))} rows, not {n}"
                )

    def __len__(self) -> int:
        return len(self.name)

    def __repr__(self) -> str:
        """A summary (counts and sizes), not the columns: a million frames print as one line."""
        sequences = len(set(self.sequence.tolist()))
        size = ""
        if len(self):
            w, h = self.width, self.height
            one = bool((w == w[0]).all() and (h == h[0]).all())
            size = f", {float(w[0]):g}x{float(h[0]):g}" if one else ", sizes vary"
        return f"Frames({_plural(len(self), 'frame')} in {_plural(sequences, 'sequence')}{size})"

    @classmethod
    def build(
        cls,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        *,
        frame_id: Sequence[str] | None = None,
        src: Sequence[str] | None = None,
        name: Sequence[str] | None = None,
        sequence: Sequence[str] | str = "sequence",
        index: npt.ArrayLike | None = None,
    ) -> Frames:
        """Frames from per-frame columns; width/height may be scalars for a fixed camera.

        Checked (an :class:`~prelabel.errors.InputError` naming the parameter and row): the
        per-frame columns have one length, sizes and ``index`` are numbers (``index`` whole
        and not negative), ``frame_id``/``src``/``name``/``sequence`` are strings, and every
        ``src`` is an ``http(s)://``, ``s3://`` or ``gs://`` URL ("" for one that the convert
        options fill in later). A ``frame_id`` may repeat here: it must be unique per job,
        and which frames share a job is decided later (``frames_per_job``), so the job
        builder refuses a repeat within one job, naming both frames.
        """
        ids = _texts(frame_id, "frame_id")
        srcs = _texts(src, "src")
        names = _texts(name, "name")
        seqs: list[str] | str = (
            sequence if isinstance(sequence, str) else _texts(sequence, "sequence") or []
        )
        given = [(p, c) for p, c in (("frame_id", ids), ("src", srcs), ("name", names),
                 ("sequence", None if isinstance(seqs, str) else seqs)) if c is not None]  # fmt: skip
        chk = _Inputs(None, needs_frames=False)
        w = _sizes(width, "width")
        h = _sizes(height, "height")
        sized = [a.size for a in (w, h) if a.ndim == 1]
        n = len(given[0][1]) if given else (sized[0] if sized else 1)
        first = given[0][0] if given else "width"
        for p, c in given:
            if len(c) != n:
                raise _bad(p, f"expected {n} values (one per frame, as {first}), got {len(c)}")
        for p, a in (("width", w), ("height", h)):
            if a.ndim == 1 and a.size != n:
                raise _bad(p, f"expected {n} values (one per frame, as {first}) or one number, "
                           f"got {a.size}")  # fmt: skip
        idx = chk.ints(index, n, "index", per="frame", lo=0)
        if index is None:
            idx = np.arange(n, dtype=np.int64)
        if srcs is not None:
            bad = [i for i, u in enumerate(srcs) if u and not is_url(u)]
            if bad:
                raise _bad(
                    f"src[{bad[0]}]",
                    f"{srcs[bad[0]]!r} is not an http(s)://, s3:// or gs:// URL "
                    f"({len(bad)} of {n} are not)",
                )
        return cls._build(w, h, frame_id=ids, src=srcs, name=names, sequence=seqs, index=idx)

    @classmethod
    def _build(
        cls,
        width: npt.ArrayLike,
        height: npt.ArrayLike,
        *,
        frame_id: Sequence[str] | None = None,
        src: Sequence[str] | None = None,
        name: Sequence[str] | None = None,
        sequence: Sequence[str] | str = "sequence",
        index: npt.ArrayLike | None = None,
    ) -> Frames:
        """:meth:`build` without the input checks."""
        ids = None if frame_id is None else list(frame_id)
        n_hint = [len(c) for c in (ids, src, name) if c is not None]
        w = np.asarray(width, dtype=np.float64)
        n = n_hint[0] if n_hint else int(w.size)
        w = np.broadcast_to(w, (n,)).copy()
        h = np.broadcast_to(np.asarray(height, dtype=np.float64), (n,)).copy()
        idx = np.arange(n, dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)
        return cls(
            name=_str_column(name, n),
            sequence=_str_column(sequence, n),
            index=idx,
            width=w,
            height=h,
            frame_id=_str_column(ids, n),
            src=_str_column(src, n),
        )

    def take(self, rows: npt.ArrayLike) -> Frames:
        """The frames at ``rows`` (an index or boolean array)."""
        return Frames(**{k: getattr(self, k)[rows] for k in _FRAME_COLUMNS})

    @staticmethod
    def concat(parts: Sequence[Frames]) -> Frames:
        return Frames(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in _FRAME_COLUMNS})

    def same_as(self, other: Frames) -> bool:
        return self is other or (
            len(self) == len(other)
            and all(np.array_equal(getattr(self, k), getattr(other, k)) for k in _FRAME_KEY)
        )


_FRAME_COLUMNS = ("name", "sequence", "index", "width", "height", "frame_id", "src", "reference")
_FRAME_KEY = ("name", "sequence", "index", "width", "height", "frame_id", "src")


@dataclass(eq=False)
class Annotations:
    """Frames and shapes as columns of equal length, supervision ``Detections``-style.

    Shape columns: ``kind`` (:class:`Kind` as int8), ``frame`` (row in ``frames``), ``label``
    (index into ``labels``), ``track`` (-1: no identity across frames), ``score`` (NaN: none),
    ``offsets`` (n+1) and ``points`` (P x 2): shape i owns ``points[offsets[i]:offsets[i+1]]``;
    ``point_label`` (P, landmark point numbers, 0 elsewhere); ``attributes`` (a dict or None
    per shape, the only Python objects); ``source`` (where the reader found the shape, e.g.
    ``"$.annotations[3]"`` or ``"line 7"``, for the report).
    """

    frames: Frames
    labels: tuple[str, ...]
    kind: npt.NDArray[np.int8]
    frame: IntArray
    label: npt.NDArray[np.int32]
    track: IntArray
    score: FloatArray
    offsets: IntArray
    points: FloatArray
    point_label: npt.NDArray[np.int32]
    attributes: ObjArray
    source: ObjArray
    normalised: bool = False

    def __post_init__(self) -> None:
        n = len(self.kind)
        for col in ("frame", "label", "track", "score", "attributes", "source"):
            if len(getattr(self, col)) != n:
                raise ValueError(
                    f"shapes column {col!r} has {len(getattr(self, col))} rows, not {n}"
                )
        if len(self.offsets) != n + 1 or int(self.offsets[-1]) != len(self.points):
            raise ValueError("offsets do not match points")
        if self.points.shape[1:] != (2,) or len(self.point_label) != len(self.points):
            raise ValueError("points must be (P, 2) with one point_label per point")
        if n and (self.frame.min() < 0 or self.frame.max() >= len(self.frames)):
            raise ValueError("a shape refers to a frame that does not exist")
        if n and (self.label.min() < 0 or self.label.max() >= len(self.labels)):
            raise ValueError("a shape refers to a label that does not exist")

    # --- size and selection -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.kind)

    def is_empty(self) -> bool:
        """True when there are no shapes (the frames may still be many)."""
        return len(self.kind) == 0

    def __repr__(self) -> str:
        """A summary, not the columns: shapes per kind, frames, labels, tracks, units.

        ``Annotations(3 shapes: 2 rectangles, 1 polygon; 2 frames in 1 sequence, 1920x1080;
        2 labels ('car', 'person'); 1 track; pixels)``"""
        per_kind = np.bincount(self.kind.astype(np.int64), minlength=len(Kind))
        kinds = ", ".join(
            _plural(int(n), Kind(k).type_name) for k, n in enumerate(per_kind.tolist()) if n
        )
        shapes = _plural(len(self), "shape") + (f": {kinds}" if kinds else "")
        frames = repr(self.frames)[len("Frames(") : -1]
        shown = ", ".join(repr(name) for name in self.labels[:_REPR_LABELS])
        if len(self.labels) > _REPR_LABELS:
            shown += f", ... {len(self.labels) - _REPR_LABELS} more"
        labels = _plural(len(self.labels), "label") + (f" ({shown})" if shown else "")
        tracks = _plural(len(np.unique(self.track[self.track >= 0])), "track")
        units = "normalised" if self.normalised else "pixels"
        return f"Annotations({shapes}; {frames}; {labels}; {tracks}; {units})"

    @property
    def xyxy(self) -> FloatArray:
        """Per shape, its bounding box as an (N, 4) float array ``x1, y1, x2, y2`` (min x, min
        y, max x, max y of its points, in the table's units); NaN for a shape without points.
        """
        out = np.full((len(self), 4), np.nan)
        has = self.counts > 0
        if has.any():
            # the runs of empty shapes are empty, so each reduction spans one shape's points
            starts = self.offsets[:-1][has]
            out[has, :2] = np.minimum.reduceat(self.points, starts, axis=0)
            out[has, 2:] = np.maximum.reduceat(self.points, starts, axis=0)
        return out

    @property
    def area(self) -> FloatArray:
        """Per shape, its area in the table's units (pixels², or a fraction of the frame once
        normalised): polygons by the shoelace formula over the implicitly closed ring (the
        lobes of a self-intersecting ring count with their signs; :func:`prelabel.prepare`
        repairs such rings), rectangles and cuboids their bounding box's width x height,
        lines and landmarks 0. NaN for a rectangle or cuboid without points."""
        out = np.zeros(len(self))
        boxed = (self.kind == Kind.RECTANGLE) | (self.kind == Kind.CUBOID)
        if boxed.any():
            b = self.xyxy[boxed]
            out[boxed] = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        polygon = self.kind == Kind.POLYGON
        if polygon.any():
            rows, offsets = run_rows(self.offsets, np.flatnonzero(polygon))
            pts = self.points[rows]
            counts = np.diff(offsets)
            following = np.arange(1, len(pts) + 1, dtype=np.int64)
            ends = offsets[1:][counts > 0] - 1
            following[ends] = offsets[:-1][counts > 0]  # each ring's last point closes it
            x, y = pts[:, 0], pts[:, 1]
            cross = x * y[following] - x[following] * y
            twice = np.bincount(run_owner(counts), weights=cross, minlength=len(counts))
            out[polygon] = np.abs(twice) / 2
        return out

    @property
    def counts(self) -> IntArray:
        """Number of points of each shape."""
        return np.diff(self.offsets)

    @property
    def point_shape(self) -> IntArray:
        """For every point, the row of the shape it belongs to."""
        return run_owner(self.counts)

    def __getitem__(self, rows: int | slice | npt.ArrayLike) -> Annotations:
        """The shapes selected by a boolean mask, an index array, a slice (``ann[2:5]``) or
        one index (``ann[-1]``, still a table of one shape); frames are kept whole."""
        n = len(self)
        if isinstance(rows, slice):
            sel = np.arange(*rows.indices(n), dtype=np.int64)
        else:
            sel = np.asarray(rows)
            if sel.dtype == bool:
                if sel.shape != (n,):
                    raise IndexError(f"mask of {len(sel)} for {n} shapes")
                sel = np.flatnonzero(sel)
            sel = sel.astype(np.int64).ravel()
            if sel.size and (sel.min() < -n or sel.max() >= n):
                raise IndexError(f"shape index out of range for {n} shapes")
            if sel.size and sel.min() < 0:
                sel = np.where(sel < 0, sel + n, sel)
        pidx, offsets = run_rows(self.offsets, sel)
        return replace(
            self,
            kind=self.kind[sel],
            frame=self.frame[sel],
            label=self.label[sel],
            track=self.track[sel],
            score=self.score[sel],
            attributes=self.attributes[sel],
            source=self.source[sel],
            offsets=offsets,
            points=self.points[pidx],
            point_label=self.point_label[pidx],
        )

    def with_points(self, points: FloatArray, *, normalised: bool | None = None) -> Annotations:
        """The same shapes with new point coordinates (same layout)."""
        return replace(
            self, points=points, normalised=self.normalised if normalised is None else normalised
        )

    # --- combining ------------------------------------------------------------------------
    @staticmethod
    def concat(parts: Sequence[Annotations]) -> Annotations:
        """One table from several; frames shared by all parts are kept once, labels merged by name."""
        if not parts:
            raise ValueError("nothing to concatenate")
        if len({p.normalised for p in parts}) > 1:
            raise ValueError("cannot mix normalised and pixel annotations")
        first = parts[0].frames
        shared = all(p.frames.same_as(first) for p in parts)
        frames = first if shared else Frames.concat([p.frames for p in parts])
        frame_base = np.zeros(len(parts), dtype=np.int64)
        if not shared:
            frame_base[1:] = np.cumsum([len(p.frames) for p in parts])[:-1]
        frame = np.concatenate([p.frame + b for p, b in zip(parts, frame_base, strict=True)])
        return Annotations._stacked(parts, frames, frame)

    @staticmethod
    def _stacked(parts: Sequence[Annotations], frames: Frames, frame: IntArray) -> Annotations:
        """The parts' shapes one after the other on ``frames`` (``frame``: their rows there),
        labels merged by name in first-seen order; the parts share one unit."""
        labels: list[str] = []
        position: dict[str, int] = {}
        remaps = []
        for p in parts:
            remap = np.empty(len(p.labels), dtype=np.int32)
            for i, name in enumerate(p.labels):
                if name not in position:
                    position[name] = len(labels)
                    labels.append(name)
                remap[i] = position[name]
            remaps.append(remap)
        return Annotations(
            frames=frames,
            labels=tuple(labels),
            kind=np.concatenate([p.kind for p in parts]),
            frame=frame,
            label=np.concatenate([r[p.label] for p, r in zip(parts, remaps, strict=True)]).astype(
                np.int32
            ),
            track=np.concatenate([p.track for p in parts]),
            score=np.concatenate([p.score for p in parts]),
            offsets=concat_offsets([p.offsets for p in parts]),
            points=np.concatenate([p.points for p in parts]).reshape(-1, 2),
            point_label=np.concatenate([p.point_label for p in parts]),
            attributes=np.concatenate([p.attributes for p in parts]),
            source=np.concatenate([p.source for p in parts]),
            normalised=parts[0].normalised,
        )

    def __add__(self, other: Annotations) -> Annotations:
        return Annotations.concat([self, other])

    # --- constructors ---------------------------------------------------------------------
    # The public ``from_*`` constructors check their input (see ``_Inputs``) and then build
    # through the private unchecked ``_runs`` / ``_boxes`` / ``_point_lists``, which readers
    # call directly: a reader has already refused what is malformed, with the file and line,
    # and may legitimately build what the checks refuse from inference code (a pixel file
    # whose coordinates all lie in 0..1).
    @classmethod
    def empty(cls, frames: Frames, labels: Sequence[str] = ()) -> Annotations:
        """No shapes over ``frames`` (a frame without objects is still a frame of the job)."""
        ann = cls._runs(frames, Kind.RECTANGLE, np.zeros((0, 2)), np.zeros(1, np.int64), [], [])
        return replace(ann, labels=tuple(labels))

    @classmethod
    def from_runs(
        cls,
        frames: Frames,
        kind: Kind | npt.ArrayLike,
        points: npt.ArrayLike,
        offsets: npt.ArrayLike,
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_label: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
    ) -> Annotations:
        """The general constructor: shapes as runs of points (``offsets``, ``points``).

        Every other ``from_*`` constructor ends here; their keywords mean the same:

        - ``labels``: one per shape, names (strings, or one string for all), or class ids
          into ``names``;
        - ``frame``: per shape, its row in ``frames`` (or one row for all);
        - ``names``: the class names that integer ``labels`` index (a model's class list, or
          its ``{class id: name}`` dict such as Ultralytics' ``model.names``);
        - ``track``: per shape, an identity across frames (same track, same object);
          -1 or omitted: none;
        - ``score``: per shape, the model's confidence; NaN or omitted: none;
        - ``point_label``: per point, a landmark's point number (0 elsewhere);
        - ``attributes``: per shape, a mapping of attribute name to value, or None;
        - ``source``: per shape, where it came from (a JSON path, ``file:line``), shown in
          the report;
        - ``normalized``: the coordinates are already fractions of the frame size (0..1, as
          Ultralytics' ``xyxyn``), not pixels; :func:`prelabel.prepare` does not divide them
          again (the table's own attribute is ``normalised``).

        Every input is checked: a column of the wrong length (one value per shape, or a true
        scalar for all; a length-1 list is not broadcast), a frame row or class id out of
        range, a frame/class/track value that is not a whole number or is NaN, and pixel
        coordinates that all lie in 0..1 on frames of more than a few
        pixels (the hint: ``normalized=True``) are an :class:`~prelabel.errors.InputError` naming the parameter
        and, where one value is wrong, its row (``track[3]``).
        """
        chk = _Inputs(frames)
        pts = chk.points(points, "points")
        off = chk.offsets(offsets, len(pts))
        n = len(off) - 1
        kinds = chk.kinds(kind, n)
        cols = chk.shape_columns(
            n, labels, frame, names, track, score, attributes, source, pts, off,
            normalized, "points",
        )  # fmt: skip
        plabel = chk.ints(point_label, len(pts), "point_label", fill=0, per="point")
        return cls._runs(frames, kinds, pts, off, point_label=plabel, **cols)

    @classmethod
    def _runs(
        cls,
        frames: Frames,
        kind: Kind | npt.ArrayLike,
        points: npt.ArrayLike,
        offsets: npt.ArrayLike,
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_label: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
    ) -> Annotations:
        """:meth:`from_runs` without the input checks, for readers (see the note above)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        off = np.asarray(offsets, dtype=np.int64)
        n = len(off) - 1
        kinds = np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy()
        label_names, label_idx = _encode_labels(labels, names, n)
        frame_arr = np.broadcast_to(np.asarray(frame, dtype=np.int64), (n,)).copy()
        return cls(
            frames=frames,
            labels=label_names,
            kind=kinds,
            frame=frame_arr,
            label=label_idx,
            track=_column(track, n, -1, np.int64),
            score=_column(score, n, np.nan, np.float64),
            offsets=off,
            points=pts,
            point_label=_column(point_label, len(pts), 0, np.int32),
            attributes=_obj([None] * n) if attributes is None else _obj(attributes, n),
            source=_obj([None] * n) if source is None else _obj(source, n),
            normalised=normalised,
        )

    @classmethod
    def from_boxes(
        cls,
        frames: Frames,
        xyxy: npt.ArrayLike,
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
    ) -> Annotations:
        """Rectangles from an (N, 4) array of ``x1, y1, x2, y2`` (pixels unless ``normalized``).

        The corners are stored top-left, top-right, bottom-right, bottom-left, as the
        payload wants them; a box given with x2 < x1 keeps its order and is caught by the
        checks as a negative extent. The keywords (and the input checks) are those of
        :meth:`from_runs`.
        """
        chk = _Inputs(frames)
        b = chk.coordinates(xyxy, "xyxy", 4, "(N, 4) x1, y1, x2, y2")
        n = len(b)
        off = np.arange(n + 1, dtype=np.int64) * 4
        cols = chk.shape_columns(
            n, labels, frame, names, track, score, attributes, source, b.reshape(-1, 2), off,
            normalized, "xyxy", point_frame=np.repeat(np.arange(n), 2),
        )  # fmt: skip
        return cls._boxes(frames, b, **cols)

    @classmethod
    def _boxes(
        cls,
        frames: Frames,
        xyxy: npt.ArrayLike,
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
    ) -> Annotations:
        """:meth:`from_boxes` without the input checks, for readers."""
        b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        offsets = np.arange(len(b) + 1, dtype=np.int64) * 4
        return cls._runs(
            frames,
            Kind.RECTANGLE,
            rect_corners(b),
            offsets,
            labels,
            frame,
            names=names,
            track=track,
            score=score,
            attributes=attributes,
            source=source,
            normalised=normalised,
        )

    @classmethod
    def from_point_lists(
        cls,
        frames: Frames,
        kind: Kind,
        shapes: Sequence[npt.ArrayLike],
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_labels: Sequence[npt.ArrayLike] | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
        param: str = "shapes",
    ) -> Annotations:
        """Polygons, lines, cuboids or landmarks from a list of (K, 2) arrays, one per shape.

        Landmark points are numbered 1..K in the given order unless ``point_labels`` says
        otherwise (one integer array per shape, K numbers each). The keywords (and the input
        checks) are those of :meth:`from_runs`; ``param`` is the name the messages give
        ``shapes`` (``polygons`` when :meth:`from_polygons` calls this).
        """
        chk = _Inputs(frames)
        kinds = chk.kinds(kind, 1)
        arrays = chk.point_lists(shapes, param)
        counts = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        off = offsets_from_counts(counts)
        pts = np.concatenate(arrays) if arrays else np.zeros((0, 2))
        n = len(arrays)
        cols = chk.shape_columns(
            n, labels, frame, names, track, score, attributes, source, pts, off,
            normalized, param,
        )  # fmt: skip
        pl = None
        if point_labels is not None:
            pl = chk.point_labels(point_labels, counts)
        return cls._point_lists(frames, Kind(int(kinds[0])), arrays, point_labels=pl, **cols)

    @classmethod
    def _point_lists(
        cls,
        frames: Frames,
        kind: Kind,
        shapes: Sequence[npt.ArrayLike],
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_labels: Sequence[npt.ArrayLike] | npt.NDArray[np.int32] | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
    ) -> Annotations:
        """:meth:`from_point_lists` without the input checks, for readers; ``point_labels``
        may also be one array of every point's number."""
        arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in shapes]
        counts = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        offsets = offsets_from_counts(counts)
        pts = np.concatenate(arrays) if arrays else np.zeros((0, 2))
        if isinstance(point_labels, np.ndarray):
            pl: npt.NDArray[np.int32] | None = point_labels.astype(np.int32)
        elif point_labels is not None:
            pl = np.concatenate(
                [np.asarray(p, dtype=np.int32).ravel() for p in point_labels]
                or [np.zeros(0, np.int32)]
            )
        elif kind == Kind.LANDMARK:
            pl = (position_in_run(counts) + 1).astype(np.int32)
        else:
            pl = None
        return cls._runs(
            frames,
            kind,
            pts,
            offsets,
            labels,
            frame,
            names=names,
            track=track,
            score=score,
            point_label=pl,
            attributes=attributes,
            source=source,
            normalised=normalised,
        )

    @classmethod
    def from_polygons(
        cls,
        frames: Frames,
        polygons: Sequence[npt.ArrayLike],
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
    ) -> Annotations:
        """Polygons from (K, 2) vertex arrays, one per shape (the ring is closed implicitly:
        do not repeat the first vertex). The keywords are those of :meth:`from_runs`."""
        return cls.from_point_lists(
            frames,
            Kind.POLYGON,
            polygons,
            labels,
            frame,
            names=names,
            track=track,
            score=score,
            attributes=attributes,
            source=source,
            normalized=normalized,
            param="polygons",
        )

    @classmethod
    def from_lines(
        cls,
        frames: Frames,
        lines: Sequence[npt.ArrayLike],
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
    ) -> Annotations:
        """Polylines from (K, 2) vertex arrays, one per shape, in drawing order. The keywords
        are those of :meth:`from_runs`."""
        return cls.from_point_lists(
            frames,
            Kind.LINE,
            lines,
            labels,
            frame,
            names=names,
            track=track,
            score=score,
            attributes=attributes,
            source=source,
            normalized=normalized,
            param="lines",
        )

    @classmethod
    def from_landmarks(
        cls,
        frames: Frames,
        landmarks: Sequence[npt.ArrayLike],
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_labels: Sequence[npt.ArrayLike] | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
    ) -> Annotations:
        """Landmarks (keypoint sets) from (K, 2) arrays, one per shape.

        ``point_labels``: per shape, an integer array of K point numbers (a skeleton's
        keypoint numbers, e.g. COCO's 1..17 with the invisible ones left out); by default the
        points are numbered 1..K in the given order. The other keywords are those of
        :meth:`from_runs`."""
        return cls.from_point_lists(
            frames,
            Kind.LANDMARK,
            landmarks,
            labels,
            frame,
            names=names,
            track=track,
            score=score,
            point_labels=point_labels,
            attributes=attributes,
            source=source,
            normalized=normalized,
            param="landmarks",
        )

    @classmethod
    def from_cuboids(
        cls,
        frames: Frames,
        cuboids: npt.ArrayLike,
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalized: bool = False,
    ) -> Annotations:
        """Cuboids from an (N, 8, 2) array: the front face bottom-left, bottom-right, top-right,
        top-left, then the back face likewise (the corner order of the API page's example).
        The keywords are those of :meth:`from_runs`."""
        c = _Inputs(frames).coordinates(cuboids, "cuboids", (8, 2), "(N, 8, 2) corners")
        return cls.from_point_lists(
            frames,
            Kind.CUBOID,
            list(c),
            labels,
            frame,
            names=names,
            track=track,
            score=score,
            attributes=attributes,
            source=source,
            normalized=normalized,
            param="cuboids",
        )

    # --- adapters (prelabel.adapters: duck-typed, neither package is imported) -------------
    @classmethod
    def from_masks(
        cls,
        frames: Frames,
        masks: npt.ArrayLike,
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | Mapping[int, str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        min_area: float | None = None,
        multipart: str = "split",
        report: Report | None = None,
    ) -> Annotations:
        """Polygons traced from binary masks, an (N, H, W) array (non-zero = inside), each
        mask the size of its frame (H = height, W = width).

        The outline runs along pixel corners, with the policy of COCO RLE masks
        (:mod:`prelabel.formats.masks`): holes are filled, pieces under ``min_area`` square
        pixels (default the COCO reader's, 4) are dropped, a mask without pixels gives no
        shape; a mask in several pieces gives one polygon per piece (``multipart="split"``,
        the largest keeps the track id) or only the largest (``"largest"``). The other
        keywords are those of :meth:`from_runs`.

        What was repaired, dropped or split is added to ``report`` (a
        :class:`~prelabel.report.Report`), as the readers' ``report=`` does: pass the same
        report to :func:`prelabel.prepare` and one report holds both. The rows go to the
        caller rather than onto the table because a table is cut, selected and concatenated
        (``ann[mask]``, ``a + b``) and rows riding on it would be copied or lost with it.
        Without ``report`` a :class:`UserWarning` counts what happened, so nothing is lost
        unseen. Needs the ``masks`` extra (OpenCV).
        """
        from prelabel.adapters.masks import annotations_from_masks

        return annotations_from_masks(
            frames, masks, labels, frame, names=names, track=track, score=score,
            attributes=attributes, source=source, min_area=min_area, multipart=multipart,
            report=report,
        )  # fmt: skip

    @classmethod
    def from_ultralytics(
        cls,
        results: Any,
        *,
        sequence: str | None = None,
        frame_id: Sequence[str] | None = None,
        src: Sequence[str] | None = None,
        keypoint_threshold: float = 0.25,
        with_boxes: bool = False,
        multipart: str = "split",
        report: Report | None = None,
    ) -> Annotations:
        """Pixel annotations from one Ultralytics ``Results`` or an iterable of them (one per
        frame, in order), one frame per result; tensors on the CPU or numpy arrays alike
        (ultralytics itself is not imported). A generator (``model.track(video,
        stream=True)``) is read one result at a time: only the shapes are kept, never the
        images.

        Per result: ``orig_shape`` (height, width) is the frame size, ``path`` its name,
        ``names`` the class names; ``boxes`` become rectangles with ``conf`` as the score
        and ``id`` as the track (None when not tracking: no track); ``obb`` oriented boxes
        become polygons, or rectangles when axis-aligned (the YOLO reader's rule);
        ``masks.xy`` become polygons and ``keypoints`` landmarks (points whose confidence is
        below ``keypoint_threshold`` are left out, Ultralytics' plotting default 0.25; a
        detection with none left gives no landmark), each instead of its box unless
        ``with_boxes``. A mask outline that Ultralytics merged from several pieces (joined by
        zero-width bridges) is cut back into its pieces (``multipart`` as in
        :meth:`from_masks`); what is left out or split is added to ``report`` (see
        :meth:`from_masks`). ``sequence`` names the video (default ``"sequence"``);
        ``frame_id`` and ``src``, one per result, are as in :meth:`Frames.build`.
        """
        from prelabel.adapters.ultralytics import annotations_from_ultralytics

        return annotations_from_ultralytics(
            results, sequence=sequence, frame_id=frame_id, src=src,
            keypoint_threshold=keypoint_threshold, with_boxes=with_boxes, multipart=multipart,
            report=report,
        )  # fmt: skip

    @classmethod
    def from_supervision(
        cls,
        detections: Any,
        *,
        width: float | Sequence[float],
        height: float | Sequence[float],
        names: Sequence[str] | Mapping[int, str] | None = None,
        sequence: str | None = None,
        frame_id: Sequence[str] | None = None,
        src: Sequence[str] | None = None,
        with_boxes: bool = False,
        min_area: float | None = None,
        multipart: str = "split",
        report: Report | None = None,
    ) -> Annotations:
        """Pixel annotations from one ``supervision.Detections`` or a list of them (one per
        frame, in order), one frame per item (supervision itself is not imported).

        ``xyxy`` become rectangles, ``confidence`` the score, ``tracker_id`` the track (None:
        no track); labels are ``data["class_name"]`` where present, else ``class_id`` into
        ``names`` (a list, or a model's ``{id: name}`` dict). ``mask`` (a dense (N, H, W)
        array or a ``CompactMask``) becomes polygons traced as :meth:`from_masks` does,
        instead of the boxes unless ``with_boxes``. ``width`` and ``height``: the frame size
        (one for all, or one per item). What is repaired, dropped or split is added to
        ``report`` (see :meth:`from_masks`).
        """
        from prelabel.adapters.supervision import annotations_from_supervision

        return annotations_from_supervision(
            detections, width=width, height=height, names=names, sequence=sequence,
            frame_id=frame_id, src=src, with_boxes=with_boxes, min_area=min_area,
            multipart=multipart, report=report,
        )  # fmt: skip


_REPR_LABELS = 5  # label names a repr shows


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def rect_corners(xyxy: npt.ArrayLike) -> FloatArray:
    """(n*4, 2) corners of (n, 4) boxes ``x1, y1, x2, y2``: top-left, top-right,
    bottom-right, bottom-left (the payload's order)."""
    b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    corners: FloatArray = np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=1).reshape(-1, 2)
    return corners


def _column(values: npt.ArrayLike | None, n: int, fill: Any, dtype: Any) -> Any:
    if values is None:
        return np.full(n, fill, dtype=dtype)
    arr = np.asarray(values, dtype=dtype)
    return np.broadcast_to(arr, (n,)).copy()


def _encode_labels(
    labels: Sequence[str] | npt.ArrayLike, names: Sequence[str] | None, n: int
) -> tuple[tuple[str, ...], npt.NDArray[np.int32]]:
    if isinstance(labels, str):
        labels = [labels] * n
    arr = np.asarray(labels)
    if names is not None:
        idx = np.broadcast_to(arr.astype(np.int64), (n,))
        if n and (idx.min() < 0 or idx.max() >= len(names)):
            raise ValueError(f"class id outside 0..{len(names) - 1}")
        return tuple(str(x) for x in names), idx.astype(np.int32)
    if n == 0:
        return (), np.zeros(0, dtype=np.int32)
    uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
    return tuple(str(x) for x in uniq), inverse.astype(np.int32).ravel()


# --- input checks of the public constructors ------------------------------------------------
# The check that pixel coordinates do not all lie in 0..1 needs frames larger than this (the
# YOLO reader's width = height = 1 stand-in for unknown sizes is exempt). One shape is enough
# evidence: a frame of one detection is what an inference loop appends, and a model's box
# within the first pixel of a real frame is its xyxyn passed as pixels, never a detection.
# (Readers and test strategies that make any pixel geometry build through the unchecked path.)
_FEW_PIXELS = 4.0


def _bad(param: str, message: str) -> InputError:
    """An input error naming the parameter (and row) as its location: ``track[3]: is NaN``."""
    return InputError(None, param, message)


def _described(values: Any) -> str:
    """What was passed, for a message: an array's shape and dtype, a list's length, a type."""
    if hasattr(values, "shape") and hasattr(values, "dtype"):
        return f"shape {tuple(values.shape)} and dtype {values.dtype}"
    if isinstance(values, list | tuple):
        return f"a {type(values).__name__} of {len(values)}"
    text = repr(values)
    return f"{type(values).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _array(values: Any, param: str, expected: str) -> npt.NDArray[Any]:
    """``values`` as a numpy array, the one conversion of every constructor and adapter: a
    torch tensor (on a GPU, needing grad, in bfloat16, which numpy has not) through
    ``.detach().cpu().numpy()`` (``.float()`` first where numpy lacks its dtype), anything
    else through ``np.asarray``. What cannot be converted is an :class:`InputError` naming
    ``param``: numpy's and torch's own words name no parameter."""
    if isinstance(values, np.ndarray):
        return values
    if _tensor_like(values):
        try:
            t = values.detach() if hasattr(values, "detach") else values
            t = t.cpu() if hasattr(t, "cpu") else t
            try:
                out = t.numpy()
            except TypeError:  # a dtype numpy has not (bfloat16): as float32
                if not hasattr(t, "float"):
                    raise
                out = t.float().numpy()
            if not isinstance(out, np.ndarray):  # Ultralytics' Boxes: numpy() is Boxes again
                raise TypeError(f"numpy() gave {type(out).__name__}")
            return out
        except (TypeError, ValueError, RuntimeError) as exc:
            tip = "; pass its .xyxy" if hasattr(values, "xyxy") else ""  # Ultralytics' Boxes
            raise _bad(
                param,
                f"expected {expected}, got {_described(values)} that cannot be copied to a "
                f"numpy array ({type(exc).__name__}){tip}",
            ) from None
    try:
        return np.asarray(values)
    except (ValueError, TypeError):
        if isinstance(values, list | tuple):  # a ragged list
            why = "whose items differ in shape"
        else:
            why = "that cannot be read as an array"
        raise _bad(param, f"expected {expected}, got {_described(values)} {why}") from None


def _tensor_like(values: Any) -> bool:
    """A torch tensor (or any array object that converts with ``.numpy()`` after ``.cpu()``),
    told without importing torch."""
    return callable(getattr(values, "numpy", None)) and (
        hasattr(values, "cpu") or hasattr(values, "detach")
    )


def _numeric(arr: npt.NDArray[Any], param: str, expected: str) -> npt.NDArray[Any]:
    """``arr`` if it holds numbers (not booleans, text or None)."""
    kind = arr.dtype.kind
    if kind in "iuf":
        return arr
    if kind == "O" and arr.size:
        try:
            return arr.astype(np.float64)
        except (ValueError, TypeError):
            pass
    if kind == "O" and not arr.size:
        return arr.astype(np.float64)
    raise _bad(param, f"expected {expected} (numbers), got {_described(arr)}")


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _at(param: str, rows: npt.NDArray[np.bool_], arr: npt.NDArray[Any]) -> str:
    """``param[i]`` of the first selected row, with ``[i, j]`` for a 2-D array."""
    i = _first(rows.ravel())
    if arr.ndim > 1:
        where = ", ".join(str(int(k)) for k in np.unravel_index(i, arr.shape))
        return f"{param}[{where}]"
    return f"{param}[{i}]"


class _Inputs:
    """The checks of the public constructors, vectorised: each is a few numpy reductions
    over a column, and only a failing check looks for the row to name."""

    def __init__(self, frames: Frames | None, *, needs_frames: bool = True) -> None:
        if (needs_frames or frames is not None) and not isinstance(frames, Frames):
            raise _bad(
                "frames", f"expected a Frames table (Frames.build), got {_described(frames)}"
            )
        self._frames = frames

    @property
    def frames(self) -> Frames:
        assert self._frames is not None
        return self._frames

    def coordinates(
        self, values: Any, param: str, tail: int | tuple[int, ...], expected: str
    ) -> FloatArray:
        """An (N, *tail) float array of coordinates (NaN allowed: prepare reports it)."""
        tail = (tail,) if isinstance(tail, int) else tail
        arr = _array(values, param, expected)
        if arr.size == 0 and arr.ndim <= 1 + len(tail):
            return np.zeros((0, *tail))
        if arr.ndim != 1 + len(tail) or arr.shape[1:] != tail:
            raise _bad(param, f"expected shape {expected}, got {_described(values)}")
        out: FloatArray = _numeric(arr, param, expected).astype(np.float64)
        return out

    def points(self, values: Any, param: str) -> FloatArray:
        return self.coordinates(values, param, 2, "(P, 2) x, y")

    def point_lists(self, shapes: Any, param: str) -> list[FloatArray]:
        if isinstance(shapes, str | bytes) or not hasattr(shapes, "__len__"):
            raise _bad(param, f"expected a list of (K, 2) arrays, got {_described(shapes)}")
        out = []
        for i, s in enumerate(shapes):  # one array per shape is the input's own layout
            arr = _array(s, f"{param}[{i}]", "(K, 2) x, y")
            if arr.size == 0 and arr.ndim <= 2:
                out.append(np.zeros((0, 2)))
                continue
            if arr.ndim != 2 or arr.shape[1] != 2:
                raise _bad(f"{param}[{i}]", f"expected shape (K, 2) x, y, got {_described(s)}")
            out.append(_numeric(arr, f"{param}[{i}]", "(K, 2) x, y").astype(np.float64))
        return out

    def offsets(self, values: Any, n_points: int) -> IntArray:
        off = self.ints(values, None, "offsets", per="shape")
        expected = f"n + 1 non-decreasing integers from 0 to the number of points ({n_points})"
        if off.ndim != 1 or len(off) == 0:
            raise _bad("offsets", f"expected {expected}, got {_described(values)}")
        if off[0] != 0 or off[-1] != n_points:
            raise _bad("offsets", f"expected {expected}, got {int(off[0])} .. {int(off[-1])}")
        down = np.diff(off) < 0
        if down.any():
            i = _first(down) + 1
            raise _bad(f"offsets[{i}]", f"is {int(off[i])}, below offsets[{i - 1}]: {expected}")
        return off

    def kinds(self, kind: Any, n: int) -> npt.NDArray[np.int8]:
        k = self.ints(kind, n, "kind", lo=0, hi=len(Kind) - 1, hint="a prelabel.Kind")
        return k.astype(np.int8)

    def ints(
        self,
        values: Any,
        n: int | None,
        param: str,
        *,
        fill: int = 0,
        lo: int | None = None,
        hi: int | None = None,
        per: str = "shape",
        hint: str | None = None,
        range_text: str | None = None,
    ) -> IntArray:
        """An int64 column of n values (one per ``per``, or one true scalar for all; n=None:
        any length), whole numbers, finite, within lo..hi."""
        if values is None:
            return np.full(0 if n is None else n, fill, dtype=np.int64)
        expected = "integers" if n is None else f"{n} integers (one per {per}) or one integer"
        arr = _array(values, param, expected)
        if n is not None:
            if arr.ndim == 0:
                arr = np.broadcast_to(arr, (n,))
            elif arr.shape != (n,):
                tip = ": pass a scalar for one value for all" if arr.shape == (1,) else ""
                raise _bad(param, f"expected {expected}, got {_described(values)}{tip}")
        if arr.dtype.kind == "b":
            raise _bad(param, f"expected {expected}, got {_described(values)}")
        arr = _numeric(arr, param, expected)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float64, copy=False)  # float16 cannot hold the range checked
            bad = ~np.isfinite(arr)
            if bad.any():
                i = _first(bad)
                why = f"; {hint}" if hint else ""
                raise _bad(
                    _at(param, bad, arr), f"is {arr.ravel()[i].item()}, not a whole number{why}"
                )
            frac = (arr != np.round(arr)) | (np.abs(arr) >= 2.0**62)
            if frac.any():
                i = _first(frac)
                raise _bad(
                    _at(param, frac, arr), f"is {arr.ravel()[i].item()!r}, not a whole number"
                )
        elif arr.dtype.kind == "u" and arr.size and int(arr.max()) >= 2**62:
            i = int(np.argmax(arr))
            raise _bad(f"{param}[{i}]", f"is {int(arr[i])}, out of range")
        out = arr.astype(np.int64)
        if out.size and (lo is not None or hi is not None):
            wrong = np.zeros(out.shape, dtype=bool)
            if lo is not None:
                wrong |= out < lo
            if hi is not None:
                wrong |= out > hi
            if wrong.any():
                i = _first(wrong)
                allowed = range_text or (f"{lo}..{hi}" if hi is not None else f">= {lo}")
                why = f" ({hint})" if hint else ""
                raise _bad(
                    _at(param, wrong, out), f"is {int(out.ravel()[i])}, outside {allowed}{why}"
                )
        return out

    def floats(self, values: Any, n: int, param: str) -> FloatArray | None:
        """A float column of n values (NaN: none), or one scalar for all; inf is refused."""
        if values is None:
            return None
        expected = f"{n} numbers (one per shape) or one number"
        arr = _array(values, param, expected)
        if arr.ndim == 0:
            arr = np.broadcast_to(arr, (n,))
        elif arr.shape != (n,):
            tip = ": pass a scalar for one value for all" if arr.shape == (1,) else ""
            raise _bad(param, f"expected {expected}, got {_described(values)}{tip}")
        if arr.dtype.kind == "b":
            raise _bad(param, f"expected {expected}, got {_described(values)}")
        out = _numeric(arr, param, expected).astype(np.float64)
        inf = np.isinf(out)
        if inf.any():
            raise _bad(_at(param, inf, out), f"is {out[_first(inf)]}; NaN means none")
        return out

    def labels(self, labels: Any, names: Any, n: int) -> tuple[Any, tuple[str, ...] | None]:
        """(labels as strings or class ids, names) checked: ids need ``names`` and must index it."""
        if names is not None:
            names_t = class_names(names, "names")
            ids = self.ints(
                labels, n, "labels", lo=0, hi=len(names_t) - 1,
                range_text=f"the {len(names_t)} class ids of {keyword('names')} (0..{len(names_t) - 1})",
            )  # fmt: skip
            return ids, names_t
        if isinstance(labels, str):
            return labels, None
        if n == 0 and hasattr(labels, "__len__") and len(labels) == 0:
            return [], None
        expected = (
            f"{n} label names (one per shape), one name, or class ids with {keyword('names')}"
        )
        arr = _array(labels, "labels", expected)
        if arr.ndim == 0 and isinstance(arr.item(), str):
            return str(arr.item()), None
        if arr.shape != (n,):
            tip = ": pass a str for one label for all" if arr.shape == (1,) else ""
            raise _bad("labels", f"expected {expected}, got {_described(labels)}{tip}")
        if arr.dtype.kind in "iufb":
            raise _bad(
                "labels",
                f"are class ids ({_described(labels)}) but {keyword('names')} is not given: pass "
                "the model's class names (names=model.names) or the labels as strings",
            )
        if arr.dtype.kind == "O" and n:
            _check_str(arr.tolist(), "labels", "a label name (str)")
        if arr.dtype.kind not in "UO":
            raise _bad("labels", f"expected {expected}, got {_described(labels)}")
        return arr, None

    def shape_columns(
        self,
        n: int,
        labels: Any,
        frame: Any,
        names: Any,
        track: Any,
        score: Any,
        attributes: Any,
        source: Any,
        pts: FloatArray,
        offsets: IntArray,
        normalized: Any,
        param: str,
        point_frame: IntArray | None = None,
    ) -> dict[str, Any]:
        """The per-shape keywords of ``_runs``, checked (see :meth:`Annotations.from_runs`)."""
        nf = len(self.frames)
        frame_arr = self.ints(
            frame, n, "frame", lo=0, hi=nf - 1,
            range_text=f"the rows of frames ({nf} frame{'' if nf == 1 else 's'}: 0..{nf - 1})",
        )  # fmt: skip
        label_value, names_t = self.labels(labels, names, n)
        track_arr = self.ints(
            track, n, "track", fill=-1, lo=-1, hint="-1 for a shape without a track"
        )
        score_arr = self.floats(score, n, "score")
        for col, value in (("attributes", attributes), ("source", source)):
            if value is not None and (
                isinstance(value, str | bytes | Mapping)
                or not hasattr(value, "__len__")
                or len(value) != n
            ):
                raise _bad(col, f"expected {n} values (one per shape), got {_described(value)}")
        if attributes is not None:
            wrong = [
                i for i, a in enumerate(attributes) if a is not None and not isinstance(a, Mapping)
            ]
            if wrong:
                i = wrong[0]
                raise _bad(
                    f"attributes[{i}]",
                    f"expected a mapping or None, got {_described(attributes[i])}",
                )
        if not isinstance(normalized, bool | np.bool_):
            raise _bad("normalized", f"expected True or False, got {_described(normalized)}")
        if not normalized and n:
            self.units(pts, frame_arr, offsets, point_frame, param)
        return {
            "labels": label_value,
            "frame": frame_arr,
            "names": names_t,
            "track": track_arr,
            "score": score_arr,
            "attributes": attributes,
            "source": source,
            "normalised": bool(normalized),
        }

    def units(
        self,
        pts: FloatArray,
        frame: IntArray,
        offsets: IntArray,
        point_frame: IntArray | None,
        param: str,
        hint: str | None = None,
    ) -> None:
        """Refuse pixel coordinates that all lie in 0..1 (some strictly
        between) on frames of more than a few pixels: fractions passed without normalized=True
        (``hint``: the fix to say where there is no such keyword)."""
        if not len(pts):
            return
        with np.errstate(invalid="ignore"):
            if pts.max() > 1 or pts.min() < 0:  # pixels: two reductions, nothing copied
                return
            if point_frame is None:
                point_frame = frame[run_owner(np.diff(offsets))]
            else:
                point_frame = frame[point_frame]
            finite = np.isfinite(pts).all(axis=1)
            p = pts[finite]
            if not p.size or p.min() < 0 or p.max() > 1 or not ((p > 0) & (p < 1)).any():
                return
        w = self.frames.width[point_frame[finite]]
        h = self.frames.height[point_frame[finite]]
        if not (np.minimum(w, h) > _FEW_PIXELS).all():
            return
        size = f"{float(w[0]):g} x {float(h[0]):g}"
        fix = hint or f"pass {keyword('normalized', True)} (or pixel coordinates)"
        raise _bad(
            param,
            f"every coordinate lies in 0..1 on frames of {size} pixels: these look "
            f"like fractions of the frame size; {fix}",
        )

    def point_labels(self, point_labels: Any, counts: IntArray) -> npt.NDArray[np.int32]:
        n = len(counts)
        if isinstance(point_labels, str) or not hasattr(point_labels, "__len__"):
            raise _bad(
                "point_labels", f"expected {n} integer arrays, got {_described(point_labels)}"
            )
        if len(point_labels) != n:
            raise _bad(
                "point_labels",
                f"expected {n} integer arrays (one per shape), got {len(point_labels)}",
            )
        parts = [
            self.ints(np.asarray(p).ravel(), int(k), f"point_labels[{i}]", per="point")
            for i, (p, k) in enumerate(zip(point_labels, counts.tolist(), strict=True))
        ]
        return np.concatenate(parts or [np.zeros(0, np.int64)]).astype(np.int32)


def class_names(names: Any, param: str) -> tuple[str, ...]:
    """A model's class names by class id: a list of str, or a ``{class id: name}`` dict with
    the ids 0..K-1 (Ultralytics' ``model.names``), checked."""
    if isinstance(names, Mapping):
        keys = list(names)
        if not all(isinstance(k, int | np.integer) and not isinstance(k, bool) for k in keys) or (
            sorted(int(k) for k in keys) != list(range(len(keys)))
        ):
            shown = sorted(keys, key=repr)[:8]
            raise _bad(param, f"expected a {{class id: name}} dict with the ids 0..{len(keys) - 1}, "
                       f"got the keys {shown}")  # fmt: skip
        values = [names[k] for k in sorted(keys)]
    elif isinstance(names, str | bytes) or not hasattr(names, "__len__"):
        raise _bad(
            param, f"expected a list of class names or a {{class id: name}} dict, got "
            f"{_described(names)}",
        )  # fmt: skip
    else:
        values = names.tolist() if isinstance(names, np.ndarray) else list(names)
    _check_str(values, param, "a class name (str)")
    return tuple(values)


def _texts(values: Any, param: str) -> list[str] | None:
    """A per-frame text column as a list of str (None stays None)."""
    if values is None:
        return None
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise _bad(param, f"expected a list of strings (one per frame), got {_described(values)}")
    out = values.tolist() if isinstance(values, np.ndarray) else list(values)
    _check_str(out, param, "a str")
    return out


def _check_str(values: list[Any], param: str, expected: str) -> None:
    """Every value a str (numpy's ``str_`` is one too), else an error naming the first other."""
    if set(map(type, values)) <= {str}:  # the usual case, without a Python test per value
        return
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise _bad(f"{param}[{i}]", f"expected {expected}, got {_described(v)}")


def _sizes(values: Any, param: str) -> npt.NDArray[Any]:
    arr = _array(values, param, "a number or one number per frame")
    if arr.ndim > 1 or arr.dtype.kind == "b":
        raise _bad(param, f"expected a number or one number per frame, got {_described(values)}")
    if arr.dtype.kind == "O":
        missing = [i for i, v in enumerate(arr.ravel().tolist()) if v is None]
        if missing:
            where = f"{param}[{missing[0]}]" if arr.ndim else param
            raise _bad(where, "is None, not a number of pixels (NaN where a size is unknown)")
    return _numeric(arr, param, "a number or one number per frame")

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
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import (
    concat_offsets,
    offsets_from_counts,
    position_in_run,
    run_owner,
    run_rows,
)

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
        """Frames from per-frame columns; width/height may be scalars for a fixed camera."""
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
        offsets = concat_offsets([p.offsets for p in parts])
        return Annotations(
            frames=frames,
            labels=tuple(labels),
            kind=np.concatenate([p.kind for p in parts]),
            frame=np.concatenate([p.frame + b for p, b in zip(parts, frame_base, strict=True)]),
            label=np.concatenate([r[p.label] for p, r in zip(parts, remaps, strict=True)]).astype(
                np.int32
            ),
            track=np.concatenate([p.track for p in parts]),
            score=np.concatenate([p.score for p in parts]),
            offsets=offsets,
            points=np.concatenate([p.points for p in parts]).reshape(-1, 2),
            point_label=np.concatenate([p.point_label for p in parts]),
            attributes=np.concatenate([p.attributes for p in parts]),
            source=np.concatenate([p.source for p in parts]),
            normalised=parts[0].normalised,
        )

    def __add__(self, other: Annotations) -> Annotations:
        return Annotations.concat([self, other])

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def empty(cls, frames: Frames, labels: Sequence[str] = ()) -> Annotations:
        """No shapes over ``frames`` (a frame without objects is still a frame of the job)."""
        ann = cls.from_runs(frames, Kind.RECTANGLE, np.zeros((0, 2)), np.zeros(1, np.int64), [], [])
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
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_label: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
    ) -> Annotations:
        """The general constructor: shapes as runs of points (``offsets``, ``points``).

        Every other ``from_*`` constructor and every reader ends here; their keywords mean
        the same:

        - ``labels``: one per shape, names (strings, or one string for all), or class ids
          into ``names``;
        - ``frame``: per shape, its row in ``frames`` (or one row for all);
        - ``names``: the class names that integer ``labels`` index (a model's class list);
        - ``track``: per shape, an identity across frames (same track, same object);
          -1 or omitted: none;
        - ``score``: per shape, the model's confidence; NaN or omitted: none;
        - ``point_label``: per point, a landmark's point number (0 elsewhere);
        - ``attributes``: per shape, a mapping of attribute name to value, or None;
        - ``source``: per shape, where it came from (a JSON path, ``file:line``), shown in
          the report;
        - ``normalised``: the coordinates are already fractions of the frame size, not pixels.
        """
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
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
    ) -> Annotations:
        """Rectangles from an (N, 4) array of ``x1, y1, x2, y2`` (pixels unless ``normalised``).

        The corners are stored top-left, top-right, bottom-right, bottom-left, as the
        payload wants them; a box given with x2 < x1 keeps its order and is caught by the
        checks as a negative extent.
        """
        b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        corners = np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=1).reshape(-1, 2)
        offsets = np.arange(len(b) + 1, dtype=np.int64) * 4
        return cls.from_runs(
            frames,
            Kind.RECTANGLE,
            corners,
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
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_labels: Sequence[npt.ArrayLike] | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
    ) -> Annotations:
        """Polygons, lines, cuboids or landmarks from a list of (K, 2) arrays, one per shape.

        Landmark points are numbered 1..K in the given order unless ``point_labels`` says
        otherwise (one integer array per shape).
        """
        arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in shapes]
        counts = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        offsets = offsets_from_counts(counts)
        pts = np.concatenate(arrays) if arrays else np.zeros((0, 2))
        if point_labels is not None:
            pl = np.concatenate(
                [np.asarray(p, dtype=np.int32).ravel() for p in point_labels]
                or [np.zeros(0, np.int32)]
            )
        elif kind == Kind.LANDMARK:
            pl = (position_in_run(counts) + 1).astype(np.int32)
        else:
            pl = None
        return cls.from_runs(
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
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
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
            normalised=normalised,
        )

    @classmethod
    def from_lines(
        cls,
        frames: Frames,
        lines: Sequence[npt.ArrayLike],
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
            normalised=normalised,
        )

    @classmethod
    def from_landmarks(
        cls,
        frames: Frames,
        landmarks: Sequence[npt.ArrayLike],
        labels: Sequence[str] | npt.ArrayLike,
        frame: npt.ArrayLike,
        *,
        names: Sequence[str] | None = None,
        track: npt.ArrayLike | None = None,
        score: npt.ArrayLike | None = None,
        point_labels: Sequence[npt.ArrayLike] | None = None,
        attributes: Sequence[Mapping[str, Any] | None] | None = None,
        source: Sequence[str | None] | None = None,
        normalised: bool = False,
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
            normalised=normalised,
        )

    @classmethod
    def from_cuboids(
        cls,
        frames: Frames,
        cuboids: npt.ArrayLike,
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
        """Cuboids from an (N, 8, 2) array: the front face bottom-left, bottom-right, top-right,
        top-left, then the back face likewise (the corner order of the API page's example).
        The keywords are those of :meth:`from_runs`."""
        c = np.asarray(cuboids, dtype=np.float64).reshape(-1, 8, 2)
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
            normalised=normalised,
        )


_REPR_LABELS = 5  # label names a repr shows


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


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

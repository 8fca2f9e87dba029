"""Shapes collected detection by detection over many frames, built into one table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts
from prelabel.annotations import (
    Annotations,
    FloatArray,
    Frames,
    IntArray,
    Kind,
    _Inputs,
    rect_corners,
)


class Shapes:
    """Shapes collected over all results: kind, points and their owner detection, and
    each detection's columns (frame, class, confidence, track) in detection order."""

    def __init__(self) -> None:
        self.det_frame: list[IntArray] = []
        self.det_cls: list[IntArray] = []
        self.det_conf: list[FloatArray] = []
        self.det_track: list[IntArray] = []
        self.kind: list[IntArray] = []
        self.counts: list[IntArray] = []
        self.points: list[FloatArray] = []
        self.point_label: list[IntArray] = []
        self.det: list[IntArray] = []
        self.rank: list[IntArray] = []
        self.tracked: list[npt.NDArray[np.bool_]] = []
        self.source: list[npt.NDArray[np.object_]] = []

    def detections(
        self, frame: int, cls: IntArray, conf: FloatArray | None, track: IntArray
    ) -> None:
        """The next ``len(cls)`` detections, all on row ``frame`` (``conf`` None: no scores)."""
        n = len(cls)
        self.det_frame.append(np.full(n, frame, np.int64))
        self.det_cls.append(np.asarray(cls, np.int64))
        self.det_conf.append(np.full(n, np.nan) if conf is None else np.asarray(conf, np.float64))
        self.det_track.append(np.asarray(track, np.int64))

    def add_boxes(self, xyxy: FloatArray, det: IntArray, source: Sequence[str]) -> None:
        """Rectangles from (n, 4) ``x1, y1, x2, y2``, one per detection of ``det``."""
        self.add(Kind.RECTANGLE, np.full(len(det), 4), rect_corners(xyxy), None, det, 0, source)

    def add(
        self, kind: Any, counts: IntArray, points: FloatArray, point_label: IntArray | None,
        det: IntArray, rank: int, source: Sequence[str], tracked: Any = True,
    ) -> None:  # fmt: skip
        n = len(counts)
        self.kind.append(np.broadcast_to(np.asarray(kind, np.int8), (n,)))
        self.counts.append(counts.astype(np.int64))
        self.points.append(np.asarray(points, np.float64).reshape(-1, 2))
        pl = np.zeros(len(self.points[-1]), np.int32) if point_label is None else point_label
        self.point_label.append(pl.astype(np.int32))
        self.det.append(det.astype(np.int64))
        self.rank.append(np.full(n, rank, np.int64))
        self.tracked.append(np.broadcast_to(np.asarray(tracked, bool), (n,)))
        self.source.append(np.asarray(list(source), dtype=object).reshape(n))

    def build(self, frames: Frames, names: tuple[str, ...], param: str) -> Annotations:
        """One table; per detection (its columns given to :meth:`detections`), its shapes
        together in detection order (box, outline pieces, landmark); a shape added with
        ``tracked=False`` (a smaller piece of a split mask) has no track.

        The constructors' units check runs here: pixel coordinates that all lie in 0..1 on
        a real frame are fractions (``xyxyn``) passed as pixels, refused naming ``param``."""
        if not self.kind:
            return Annotations.empty(frames, names)
        cls, frame = np.concatenate(self.det_cls), np.concatenate(self.det_frame)
        conf, track = np.concatenate(self.det_conf), np.concatenate(self.det_track)
        counts = np.concatenate(self.counts)
        det = np.concatenate(self.det)
        points = np.concatenate(self.points)
        _Inputs(frames).units(
            points, frame[det], offsets_from_counts(counts), None, param,
            hint="the coordinates must be pixels: scale fractions by the frame size",
        )  # fmt: skip
        order = np.lexsort((np.arange(len(det)), np.concatenate(self.rank), det))
        shape_track = track[det]
        shape_track[~np.concatenate(self.tracked)] = -1
        ann = Annotations._runs(
            frames, np.concatenate(self.kind), points,
            offsets_from_counts(counts), cls[det], frame[det], names=names, track=shape_track,
            score=conf[det], point_label=np.concatenate(self.point_label),
            source=np.concatenate(self.source).tolist(),
        )  # fmt: skip
        if (np.diff(order) == 1).all():  # one kind of shape (the usual case): in order
            return ann
        return ann[order]

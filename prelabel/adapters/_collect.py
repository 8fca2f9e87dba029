"""Shapes collected detection by detection over many frames, built into one table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts
from prelabel.annotations import Annotations, FloatArray, Frames, IntArray, _Inputs


class Shapes:
    """Shapes collected over all results: kind, points and their owner detection."""

    def __init__(self) -> None:
        self.kind: list[IntArray] = []
        self.counts: list[IntArray] = []
        self.points: list[FloatArray] = []
        self.point_label: list[IntArray] = []
        self.det: list[IntArray] = []
        self.rank: list[IntArray] = []
        self.tracked: list[npt.NDArray[np.bool_]] = []
        self.source: list[npt.NDArray[np.object_]] = []

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

    def build(
        self, frames: Frames, names: tuple[str, ...], cls: IntArray, frame: IntArray,
        conf: FloatArray, track: IntArray, param: str,
    ) -> Annotations:  # fmt: skip
        """One table; per detection (``cls``, ``frame``, ``conf``, ``track`` by detection),
        its shapes together in detection order (box, outline pieces, landmark); a shape
        added with ``tracked=False`` (a smaller piece of a split mask) has no track.

        The constructors' units check runs here: pixel coordinates that all lie in 0..1 on
        a real frame are fractions (``xyxyn``) passed as pixels, refused naming ``param``."""
        if not self.kind:
            return Annotations.empty(frames, names)
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

"""The raw shape table: CVAT shapes as numpy columns, before geometry conversion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts
from prelabel.formats._rawshapes import RawTable
from prelabel.formats.cvat._numbers import parse_rotations, parse_runs
from prelabel.formats.cvat._tables import SHAPE_TAGS, ParsedFile, element_source
from prelabel.report import Report


@dataclass
class RawShapes(RawTable):
    """CVAT shapes as parsed, before geometry conversion: values are CVAT's own parameters;
    ``offsets`` cuts ``pairs`` and ``vis``."""

    POINT_COLUMNS = frozenset({"pairs", "vis"})
    kind: npt.NDArray[np.int64]
    frame: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    track: npt.NDArray[np.int64]
    line: npt.NDArray[np.int64]
    outside: npt.NDArray[np.bool_]
    occluded: npt.NDArray[np.bool_]
    rotation: npt.NDArray[np.float64]  # degrees, clockwise on screen
    pairs: npt.NDArray[np.float64]  # (P, 2)
    vis: npt.NDArray[np.bool_]  # (P,) skeleton point visibility (True elsewhere)
    attrs: list[dict[str, str] | None]
    origin: npt.NDArray[np.int64]  # the parsed shape a row comes from (itself unless filled)
    filled: npt.NDArray[np.bool_]  # made by interpolation

    def source(self, row: int) -> str:
        """``"<box> line 40"`` (``" (interpolated)"`` for a filled frame)."""
        s = element_source(self.kind[row], self.line[row])
        return s + " (interpolated)" if self.filled[row] else s

    def sources(self, rows: npt.NDArray[np.int64]) -> list[str]:
        """:meth:`source` of every row of ``rows``."""
        tags = [f"<{t}> line " for t in SHAPE_TAGS]
        kinds, lines = self.kind[rows].tolist(), self.line[rows].tolist()
        out = [tags[k] + str(line) for k, line in zip(kinds, lines, strict=True)]
        if self.filled.any():
            for i in np.flatnonzero(self.filled[rows]).tolist():
                out[i] += " (interpolated)"
        return out


def raw_shapes(parsed: ParsedFile, drop: bool, report: Report) -> RawShapes:
    """The parsed elements with their coordinates and rotations as numbers.

    A bad coordinate or rotation raises; under ``drop`` it is reported and its shape left out.
    """
    s = parsed.shapes
    n = len(s.kind)
    offsets = offsets_from_counts(s.npairs)
    dropped: list[int] = []
    pairs = parse_runs(parsed, offsets, drop, report, dropped)
    vis = np.ones(len(pairs), dtype=bool)
    for row, v in s.skel_vis.items():
        vis[offsets[row] : offsets[row + 1]] = v
    rotation = parse_rotations(parsed, drop, report, dropped)
    outside = np.zeros(n, dtype=bool)
    outside[s.outside] = True
    occluded = np.zeros(n, dtype=bool)
    occluded[s.occluded] = True
    raw = RawShapes(
        kind=np.asarray(s.kind, dtype=np.int64),
        frame=np.asarray(s.frame, dtype=np.int64),
        label=np.asarray(s.label, dtype=np.int64),
        track=np.asarray(s.track, dtype=np.int64),
        line=np.asarray(s.line, dtype=np.int64),
        outside=outside,
        occluded=occluded,
        rotation=rotation,
        offsets=offsets,
        pairs=pairs,
        vis=vis,
        attrs=s.attrs,
        origin=np.arange(n, dtype=np.int64),
        filled=np.zeros(n, dtype=bool),
    )
    if dropped:
        keep = np.ones(n, dtype=bool)
        keep[dropped] = False
        raw = raw.take(keep)
    return raw

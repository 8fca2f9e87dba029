"""The raw shape table: CVAT shapes as numpy columns, before geometry conversion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import concat_offsets, offsets_from_counts, run_rows
from prelabel.formats.cvat._numbers import parse_rotations, parse_runs
from prelabel.formats.cvat._tables import SHAPE_TAGS, ParsedFile, element_source
from prelabel.report import Report


@dataclass
class RawShapes:
    """CVAT shapes as parsed, before geometry conversion: values are CVAT's own parameters."""

    kind: npt.NDArray[np.int64]
    frame: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    track: npt.NDArray[np.int64]
    line: npt.NDArray[np.int64]
    outside: npt.NDArray[np.bool_]
    occluded: npt.NDArray[np.bool_]
    rotation: npt.NDArray[np.float64]  # degrees, clockwise on screen
    offsets: npt.NDArray[np.int64]  # into pairs, per shape
    pairs: npt.NDArray[np.float64]  # (P, 2)
    vis: npt.NDArray[np.bool_]  # (P,) skeleton point visibility (True elsewhere)
    attrs: list[dict[str, str] | None]
    origin: npt.NDArray[np.int64]  # the parsed shape a row comes from (itself unless filled)
    filled: npt.NDArray[np.bool_]  # made by interpolation

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)

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

    def take(self, rows: npt.ArrayLike) -> RawShapes:
        sel = np.asarray(rows)
        if sel.dtype == bool:
            sel = np.flatnonzero(sel)
        pidx, offsets = run_rows(self.offsets, sel)
        return RawShapes(
            kind=self.kind[sel],
            frame=self.frame[sel],
            label=self.label[sel],
            track=self.track[sel],
            line=self.line[sel],
            outside=self.outside[sel],
            occluded=self.occluded[sel],
            rotation=self.rotation[sel],
            offsets=offsets,
            pairs=self.pairs[pidx],
            vis=self.vis[pidx],
            attrs=[self.attrs[i] for i in sel.tolist()],
            origin=self.origin[sel],
            filled=self.filled[sel],
        )

    @staticmethod
    def concat(parts: list[RawShapes]) -> RawShapes:
        attrs: list[dict[str, str] | None] = []
        for p in parts:
            attrs.extend(p.attrs)

        def cat(name: str) -> Any:
            return np.concatenate([getattr(p, name) for p in parts])

        return RawShapes(
            kind=cat("kind"),
            frame=cat("frame"),
            label=cat("label"),
            track=cat("track"),
            line=cat("line"),
            outside=cat("outside"),
            occluded=cat("occluded"),
            rotation=cat("rotation"),
            offsets=concat_offsets([p.offsets for p in parts]),
            pairs=np.concatenate([p.pairs for p in parts]).reshape(-1, 2),
            vis=cat("vis"),
            attrs=attrs,
            origin=cat("origin"),
            filled=cat("filled"),
        )


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

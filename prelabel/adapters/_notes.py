"""Report rows of the adapters, and the multipart policy they share with the readers."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from prelabel.annotations import FloatArray
from prelabel.errors import InputError
from prelabel.report import Action, Reason, Report

MULTIPART = ("split", "largest")


def check_multipart(multipart: str) -> None:
    if multipart not in MULTIPART:
        raise InputError(None, "multipart", f"expected 'split' or 'largest', got {multipart!r}")


class Notes:
    """Rows for the caller's ``report``; without one, a warning counts them at the end, so
    nothing an adapter leaves out goes unseen."""

    def __init__(self, report: Report | None, what: str) -> None:
        self.report = report if report is not None else Report()
        self.own = report is None
        self.what = what

    def add(
        self,
        action: Action,
        reason: Reason,
        *,
        source: str | None,
        frame: str | None,
        label: str | None,
        detail: str | None = None,
    ) -> None:
        self.report.add(action, reason, source=source, frame=frame, label=label, detail=detail)

    def finish(self) -> None:
        if self.own and len(self.report):
            counts = "; ".join(line.strip() for line in self.report.summary_lines())
            warnings.warn(
                f"{self.what}: {counts}; pass report=prelabel.Report() to keep the rows",
                UserWarning,
                stacklevel=4,
            )


def pieces_kept(
    pieces: Sequence[FloatArray], multipart: str
) -> tuple[list[FloatArray], tuple[Action, Reason, str] | None]:
    """The pieces (largest first) a shape keeps under the multipart policy, and the row
    that says so: each its own polygon (``split``; the caller gives the track to the first)
    or the largest only (``largest``), as the COCO and CVAT readers do."""
    if len(pieces) <= 1:
        return list(pieces), None
    if multipart == "largest":
        why = (
            Action.DROPPED,
            Reason.MULTIPART_SMALLER_PARTS,
            f"kept the largest of {len(pieces)} parts",
        )
        return [pieces[0]], why
    detail = f"{len(pieces)} polygons; in a track the largest keeps the track id"
    return list(pieces), (Action.SPLIT, Reason.SPLIT_INTO_POLYGONS, detail)


def ring_area(points: FloatArray) -> float:
    """Shoelace area of one ring (absolute)."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2.0)

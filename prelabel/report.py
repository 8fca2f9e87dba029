"""The report of everything skipped, dropped, clipped, split or repaired.

Nothing disappears silently: each stage that changes or removes a shape adds a row here with
its reason, and the CLI prints the counts at the end and writes the rows with ``--report``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from prelabel.annotations import Annotations


class Action(str, Enum):
    """What happened to a shape (or to a piece of input that never became one)."""

    DROPPED = "dropped"
    REPAIRED = "repaired"
    SKIPPED = "skipped"
    SPLIT = "split"
    NOTED = "noted"


_REPR_COUNTS = 6  # (action, reason) counts a repr shows


@dataclass
class Report:
    """Rows of ``{action, reason, frame, label, shape, source}`` and their counts."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add_shapes(
        self,
        action: Action,
        reason: str,
        ann: Annotations,
        rows: npt.ArrayLike,
        detail: str | None = None,
    ) -> None:
        """One row per selected shape of ``ann`` (an index or boolean array)."""
        sel = np.asarray(rows)
        if sel.dtype == bool:
            sel = np.flatnonzero(sel)
        if sel.size == 0:
            return
        frames = ann.frames
        frame_rows = ann.frame[sel]
        names = frames.name[frame_rows]
        ids = frames.frame_id[frame_rows]
        frame_desc = [i or n for i, n in zip(ids.tolist(), names.tolist())]
        labels = (
            np.asarray(ann.labels, dtype=object)[ann.label[sel]] if ann.labels else [""] * len(sel)
        )
        for shape, frame, label, source in zip(
            sel.tolist(), frame_desc, list(labels), ann.source[sel].tolist()
        ):
            row = {
                "action": action.value,
                "reason": reason,
                "frame": frame,
                "label": label,
                "shape": shape,
                "source": source,
            }
            if detail:
                row["detail"] = detail
            self.rows.append(row)

    def add(
        self,
        action: Action,
        reason: str,
        *,
        source: str | None = None,
        frame: str | None = None,
        label: str | None = None,
        detail: str | None = None,
    ) -> None:
        """One row for input that is not (or not yet) a shape: a CVAT tag, a skipped line."""
        self.rows.append(
            {
                "action": action.value,
                "reason": reason,
                "frame": frame,
                "label": label,
                "shape": None,
                "source": source,
                **({"detail": detail} if detail else {}),
            }
        )

    def extend(self, other: Report) -> None:
        self.rows.extend(other.rows)

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        """How many rows per (action, reason)."""
        return Counter((r["action"], r["reason"]) for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        """A summary, not the rows: the count per action and reason, most frequent first.

        ``Report(5 rows: 3 dropped (zero_area), 2 repaired (clipped))``"""
        counts = self.counts.most_common()
        parts = [f"{n:,} {action} ({reason})" for (action, reason), n in counts[:_REPR_COUNTS]]
        if len(counts) > _REPR_COUNTS:
            rest = sum(n for _, n in counts[_REPR_COUNTS:])
            parts.append(f"{rest:,} more ({len(counts) - _REPR_COUNTS} other reasons)")
        rows = f"{len(self.rows):,} row" + ("" if len(self.rows) == 1 else "s")
        return f"Report({rows}: {', '.join(parts)})" if parts else f"Report({rows})"

    def summary_lines(self) -> list[str]:
        """One line per (action, reason), most frequent first."""
        return [f"{n:>9,} {action} ({reason})" for (action, reason), n in self.counts.most_common()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": [
                {"action": a, "reason": r, "count": n} for (a, r), n in sorted(self.counts.items())
            ],
            "rows": self.rows,
        }

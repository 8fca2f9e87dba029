"""The readers' raw-shape tables: shapes as a reader found them, before the IR.

A reader's raw table is a dataclass on :class:`RawTable`: per-shape columns (numpy arrays or
lists, one item per shape), per-point columns (named in ``POINT_COLUMNS``, cut by
``offsets`` into runs, one run per shape) and values of the whole table (named in
``TABLE_VALUES``, e.g. the kind all its shapes share). Selecting, reordering and concatenating shapes is written here once,
on :mod:`prelabel._ragged`, for every column a reader declares; each reader keeps only the
columns its format has (CVAT's interpolation state, COCO's owner record) and says where a
shape came from (:meth:`RawTable.source`), which the report rows it adds name
(:meth:`RawTable.report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from prelabel._ragged import concat_offsets, run_rows
from prelabel.report import Action, Reason, Report

IntArray = npt.NDArray[np.int64]
T = TypeVar("T", bound="RawTable")


@dataclass
class RawTable:
    """Shapes as numpy columns with their points as ragged runs (see the module doc).

    ``offsets`` (n + 1) cuts the per-point columns: shape i owns rows
    ``offsets[i]:offsets[i + 1]``. Every other field is per shape unless named in
    ``POINT_COLUMNS`` or ``TABLE_VALUES`` (kept as they are by :meth:`take` and
    :meth:`concat`); a per-shape or per-point column may be ``None`` (the reader has none)."""

    POINT_COLUMNS: ClassVar[frozenset[str]] = frozenset()
    TABLE_VALUES: ClassVar[frozenset[str]] = frozenset()
    offsets: IntArray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def counts(self) -> IntArray:
        """The number of points of each shape."""
        return np.diff(self.offsets)

    def take(self: T, rows: npt.ArrayLike) -> T:
        """The shapes ``rows`` (indices in the order wanted, or a mask), with their points."""
        sel = np.asarray(rows)
        if sel.dtype == bool:
            sel = np.flatnonzero(sel)
        point_rows, offsets = run_rows(self.offsets, sel)
        values: dict[str, Any] = {"offsets": offsets}
        listed: list[int] | None = None
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "offsets" or v is None or f.name in self.TABLE_VALUES:
                continue
            if f.name in self.POINT_COLUMNS:
                values[f.name] = v[point_rows]
            elif isinstance(v, list):
                listed = sel.tolist() if listed is None else listed
                values[f.name] = [v[i] for i in listed]
            else:
                values[f.name] = v[sel]
        return replace(self, **values)

    @classmethod
    def concat(cls: type[T], parts: Sequence[T]) -> T:
        """The shapes of ``parts`` end to end (the first part's table values)."""
        values: dict[str, Any] = {"offsets": concat_offsets([p.offsets for p in parts])}
        for f in fields(cls):
            if f.name == "offsets" or f.name in cls.TABLE_VALUES:
                continue
            columns = [getattr(p, f.name) for p in parts]
            if any(c is None for c in columns):
                if not all(c is None for c in columns):
                    raise ValueError(f"{f.name}: some parts have the column, some do not")
                values[f.name] = None
            elif isinstance(columns[0], list):
                values[f.name] = [x for c in columns for x in c]
            else:
                values[f.name] = np.concatenate(columns)
        return replace(parts[0], **values)

    def source(self, row: int) -> str:
        """Where shape ``row`` is in the input (``<box> line 40``, ``$.annotations[3]``)."""
        raise NotImplementedError

    def sources(self, rows: IntArray) -> list[str]:
        """:meth:`source` of every row of ``rows`` (a reader may do it over whole columns)."""
        return [self.source(r) for r in rows.tolist()]

    def report(
        self,
        report: Report,
        action: Action,
        reason: Reason,
        rows: IntArray,
        *,
        labels: Sequence[str] | None = None,
        detail: str | Sequence[str] | None = None,
    ) -> None:
        """One report row per shape of ``rows``, naming where it came from (:meth:`source`);
        ``labels`` are the label names of ``rows``, ``detail`` one text for all or one each."""
        n = len(rows)
        names: Sequence[str | None] = [None] * n if labels is None else labels
        details = [detail] * n if detail is None or isinstance(detail, str) else detail
        for row, name, text in zip(rows.tolist(), names, details, strict=True):
            report.add(action, reason, source=self.source(row), label=name, detail=text)

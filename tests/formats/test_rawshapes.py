"""The readers' shared raw-shape table: take, concat and the report hook, on every column kind."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from prelabel._ragged import offsets_from_counts
from prelabel.formats._rawshapes import RawTable
from prelabel.report import Action, Reason, Report


@dataclass
class Table(RawTable):
    POINT_COLUMNS = frozenset({"points", "number"})
    TABLE_VALUES = frozenset({"tag"})
    line: npt.NDArray[np.int64]
    points: npt.NDArray[np.float64]
    number: npt.NDArray[np.int32] | None
    attrs: list[str]
    score: npt.NDArray[np.float64] | None = None
    tag: str = "t"

    def source(self, row: int) -> str:
        return f"line {self.line[row]}"


def _table(counts: list[int], first_line: int = 1, tag: str = "t") -> Table:
    n, p = len(counts), sum(counts)
    return Table(
        offsets_from_counts(counts),
        line=np.arange(first_line, first_line + n),
        points=np.arange(2 * p, dtype=np.float64).reshape(-1, 2) + 100 * first_line,
        number=np.arange(p, dtype=np.int32),
        attrs=[f"a{first_line + i}" for i in range(n)],
        tag=tag,
    )


def test_take_selects_shapes_with_their_points_in_the_order_given() -> None:
    t = _table([2, 1, 3])
    out = t.take(np.array([2, 0]))
    assert out.counts.tolist() == [3, 2]
    assert out.line.tolist() == [3, 1]
    assert out.attrs == ["a3", "a1"]
    assert out.points.tolist() == t.points[[3, 4, 5, 0, 1]].tolist()
    assert out.number is not None
    assert out.number.tolist() == [3, 4, 5, 0, 1]
    assert out.score is None
    assert out.tag == "t"
    masked = t.take(np.array([False, True, True]))
    assert masked.line.tolist() == [2, 3]
    assert len(t.take(np.zeros(0, np.int64))) == 0


def test_concat_lays_parts_end_to_end() -> None:
    a, b = _table([1, 2]), _table([2], first_line=10, tag="other")
    out = Table.concat([a, b])
    assert out.offsets.tolist() == [0, 1, 3, 5]
    assert out.line.tolist() == [1, 2, 10]
    assert out.attrs == ["a1", "a2", "a10"]
    assert out.points.tolist() == [*a.points.tolist(), *b.points.tolist()]
    assert out.tag == "t"  # the first part's table values
    with_score = _table([1])
    with_score.score = np.array([0.5])
    with pytest.raises(ValueError, match="score: some parts have the column"):
        Table.concat([a, with_score])


def test_the_report_hook_names_each_shape_where_it_came_from() -> None:
    report = Report()
    t = _table([1, 1, 1])
    t.report(report, Action.DROPPED, Reason.EMPTY_SKELETON, np.array([2, 0]), labels=["x", "y"])
    t.report(report, Action.NOTED, Reason.HELD_NOT_INTERPOLATED, np.array([1]), detail=["only one"])
    assert [(r["source"], r["label"], r.get("detail")) for r in report.rows] == [
        ("line 3", "x", None),
        ("line 1", "y", None),
        ("line 2", None, "only one"),
    ]
    assert t.sources(np.array([1, 2])) == ["line 2", "line 3"]

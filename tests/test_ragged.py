"""The ragged-run kit against plain Python slicing."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from prelabel._ragged import (
    concat_offsets,
    offsets_from_counts,
    position_in_run,
    rows_at,
    run_owner,
    run_rows,
)

counts_st = st.lists(st.integers(0, 6), max_size=12)


def test_offsets_from_counts() -> None:
    # runs of 2, 0, 3 rows: they start at 0, 2, 2 and end at 5
    assert offsets_from_counts([2, 0, 3]).tolist() == [0, 2, 2, 5]
    assert offsets_from_counts([]).tolist() == [0]


@given(counts_st)
def test_owner_and_position_match_slicing(counts: list[int]) -> None:
    offsets = offsets_from_counts(counts)
    owner = [i for i, c in enumerate(counts) for _ in range(c)]
    pos = [k for c in counts for k in range(c)]
    assert run_owner(counts).tolist() == owner
    assert position_in_run(counts).tolist() == pos
    assert offsets[-1] == sum(counts)


@given(counts_st, st.data())
def test_run_rows_is_the_slices_of_the_selected_runs(
    counts: list[int], data: st.DataObject
) -> None:
    offsets = offsets_from_counts(counts)
    values = np.arange(offsets[-1]) * 10
    runs = (
        data.draw(st.lists(st.integers(0, max(len(counts) - 1, 0)), max_size=8)) if counts else []
    )
    rows, new = run_rows(offsets, np.asarray(runs, dtype=np.int64))
    expected = [values[offsets[r] : offsets[r + 1]].tolist() for r in runs]
    got = [values[rows][new[i] : new[i + 1]].tolist() for i in range(len(runs))]
    assert got == expected


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 6)), max_size=12))
def test_rows_at_is_the_runs_laid_end_to_end(runs: list[tuple[int, int]]) -> None:
    # runs anywhere (out of order, overlapping): their rows one after another
    starts = [s for s, _ in runs]
    counts = [c for _, c in runs]
    expected = [s + k for s, c in runs for k in range(c)]
    assert rows_at(starts, counts).tolist() == expected
    assert rows_at([5, 1], [2, 3]).tolist() == [5, 6, 1, 2, 3]


def test_concat_offsets() -> None:
    # [2, 1] then [3]: runs of 2, 1, 3
    a = offsets_from_counts([2, 1])
    b = offsets_from_counts([3])
    assert concat_offsets([a, b]).tolist() == [0, 2, 3, 6]
    assert concat_offsets([]).tolist() == [0]

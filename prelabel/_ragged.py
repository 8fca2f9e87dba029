"""Ragged runs: many variable-length runs of rows stored as one array cut by ``offsets``.

The layout of Arrow and of ``shapely.from_ragged_array``: run *i* owns
``values[offsets[i]:offsets[i + 1]]``. Every table in prelabel with points per shape (the
IR, the readers' raw tables, the geometry checks) uses these few functions instead of writing
``offsets = zeros(n + 1); cumsum(...)`` and the gather of selected runs again.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def offsets_from_counts(counts: npt.ArrayLike) -> IntArray:
    """``offsets`` (n + 1, starting at 0) of runs with these lengths."""
    c = np.asarray(counts, dtype=np.int64).ravel()
    offsets = np.zeros(len(c) + 1, dtype=np.int64)
    np.cumsum(c, out=offsets[1:])
    return offsets


def run_owner(counts: npt.ArrayLike) -> IntArray:
    """For every row of the runs, the number of the run it belongs to."""
    c = np.asarray(counts, dtype=np.int64).ravel()
    return np.repeat(np.arange(len(c), dtype=np.int64), c)


def position_in_run(counts: npt.ArrayLike) -> IntArray:
    """For every row of the runs, its position inside its run (0, 1, ... per run)."""
    c = np.asarray(counts, dtype=np.int64).ravel()
    offsets = offsets_from_counts(c)
    return np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], c)


def rows_at(starts: npt.ArrayLike, counts: npt.ArrayLike) -> IntArray:
    """The rows of runs of ``counts`` rows beginning at ``starts``, laid one after another.

    ``values[rows_at(starts, counts)]`` gathers runs found anywhere in ``values`` (in any
    order, overlapping or not) into one ragged array cut by ``offsets_from_counts(counts)``.
    """
    s = np.asarray(starts, dtype=np.int64).ravel()
    c = np.asarray(counts, dtype=np.int64).ravel()
    offsets = offsets_from_counts(c)
    return np.repeat(s - offsets[:-1], c) + np.arange(offsets[-1], dtype=np.int64)


def run_rows(offsets: IntArray, runs: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """The rows of the selected ``runs`` in order, and the new offsets that cut them.

    ``values[rows]`` is the ragged array of just those runs; no Python loop.
    """
    sel = np.asarray(runs, dtype=np.int64).ravel()
    counts = offsets[1:][sel] - offsets[:-1][sel]
    return rows_at(offsets[:-1][sel], counts), offsets_from_counts(counts)


def concat_offsets(parts: list[IntArray]) -> IntArray:
    """Offsets of the runs of several ragged arrays laid end to end."""
    if not parts:
        return np.zeros(1, dtype=np.int64)
    return offsets_from_counts(np.concatenate([np.diff(p) for p in parts]))

"""Natural frame order, one rule for every reader.

Frames named ``1.jpg`` .. ``12.jpg`` (what supervision, Label Studio, datumaro and FiftyOne
write when the source has no frame index) belong in the order 1, 2, ..., 12, not the string
order 1, 10, 11, 12, 2. Names are compared with every run of digits by value (``img2`` before
``img10``), the rest as text; ties keep their input order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_DIGITS = re.compile(r"\d+")


def natural_keys(names: Sequence[str]) -> list[str]:
    """Keys that order ``names`` naturally: every run of digits zero-padded to a common width.

    When all runs of digits have one length already, the names themselves order the same way
    (no character sorts between '0' and '9'), so they are used as they are.
    """
    names = list(names)
    widths = set(map(len, _DIGITS.findall("\n".join(names))))
    if len(widths) <= 1:
        return names
    width = max(widths)
    return [_DIGITS.sub(lambda m: m.group().zfill(width), n) for n in names]


def natural_order(
    names: Sequence[str], sequences: Sequence[str] | None = None
) -> npt.NDArray[np.int64]:
    """Row order by sequence (natural order), then by name (natural order) inside it; stable."""
    n = len(names)
    if not n:
        return np.zeros(0, np.int64)
    name_key = np.asarray(natural_keys(names), dtype=object)
    if sequences is None:
        return np.asarray(sorted(range(n), key=name_key.__getitem__), dtype=np.int64)
    seq_key = natural_keys(sequences)
    return np.asarray(sorted(range(n), key=lambda i: (seq_key[i], name_key[i])), dtype=np.int64)


def natural_rank(names: Sequence[str], sequences: Sequence[str]) -> npt.NDArray[np.int64]:
    """Each row's position inside its sequence when frames are in :func:`natural_order`."""
    n = len(names)
    order = natural_order(names, sequences)
    if not n:
        return order
    seq_sorted = np.asarray(sequences, dtype=object)[order]
    new = np.r_[True, seq_sorted[1:] != seq_sorted[:-1]]
    starts = np.flatnonzero(new)
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = pos
    return rank

"""Typed JSON columns: a COCO list of objects read key by key into numpy columns.

Types are checked per column (the set of Python types seen, ``sum()`` over the numbers); only
when a check fails is the offending item looked for, so that the error names its JSON path
(``$.annotations[17].bbox``) and valid files pay no per-item checking cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter
from os import PathLike
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts
from prelabel.annotations import FloatArray, IntArray
from prelabel.errors import InputError

Loc = Callable[[int], str]


PathLikeStr = str | PathLike[str]


NUMBER = frozenset({int, float})


_INT64_MAX = np.iinfo(np.int64).max


_INT64_MIN = np.iinfo(np.int64).min


NoneType = type(None)


def item_loc(base: str, key: str | None = None) -> Loc:
    return (lambda i: f"{base}[{i}]") if key is None else (lambda i: f"{base}[{i}].{key}")


def object_list(items: Any, path: PathLikeStr, where: str) -> list[dict[str, Any]]:
    """``items`` as a list of JSON objects, or the error naming the first that is not one."""
    if not isinstance(items, list):
        raise InputError(path, where, "must be a list")
    if items and set(map(type, items)) != {dict}:
        i = next(k for k, x in enumerate(items) if type(x) is not dict)
        raise InputError(path, f"{where}[{i}]", "must be an object")
    return items


def required_values(
    items: list[dict[str, Any]], key: str, path: PathLikeStr, where: str
) -> list[Any]:
    try:
        return [x[key] for x in items]
    except KeyError:
        i = next(k for k, x in enumerate(items) if key not in x)
        raise InputError(path, f"{where}[{i}].{key}", "missing") from None


def values_of(items: list[dict[str, Any]], key: str) -> list[Any]:
    return [x.get(key) for x in items]


def first_bad(values: Sequence[Any], ok: Callable[[Any], bool]) -> int:
    return next(i for i, v in enumerate(values) if not ok(v))


def ints(values: Sequence[Any], path: PathLikeStr, loc: Loc, what: str = "an integer") -> IntArray:
    """int64 column; booleans, floats, strings and ids beyond 64 bits are refused."""
    if values and set(map(type, values)) != {int}:
        i = first_bad(values, lambda v: type(v) is int)
        raise InputError(path, loc(i), f"must be {what}, not {values[i]!r}")
    try:
        return np.fromiter(values, np.int64, len(values))
    except OverflowError:
        i = first_bad(values, lambda v: _INT64_MIN <= v <= _INT64_MAX)
        raise InputError(path, loc(i), f"{values[i]} is out of range") from None


def floats(
    values: Sequence[Any], path: PathLikeStr, loc: Loc, *, optional: bool = False
) -> FloatArray:
    """float64 column of JSON numbers; ``None`` becomes NaN when ``optional``."""
    allowed = NUMBER | {NoneType} if optional else NUMBER
    if values and not set(map(type, values)) <= allowed:
        i = first_bad(values, lambda v: type(v) in allowed)
        raise InputError(path, loc(i), f"must be a number, not {values[i]!r}")
    if not values:
        return np.zeros(0, np.float64)
    return np.array(values, dtype=np.float64)


def strings(values: Sequence[Any], path: PathLikeStr, loc: Loc) -> list[str]:
    if values and set(map(type, values)) != {str}:
        i = first_bad(values, lambda v: type(v) is str)
        raise InputError(path, loc(i), f"must be a string, not {values[i]!r}")
    return list(values)


def number_lists(
    lists: Sequence[Any], path: PathLikeStr, loc: Loc, what: str
) -> tuple[FloatArray, IntArray]:
    """Flat float64 values and per-list lengths of a column of lists of numbers."""
    if lists and set(map(type, lists)) != {list}:
        i = first_bad(lists, lambda v: type(v) is list)
        raise InputError(path, loc(i), f"must be {what}, not {lists[i]!r}")
    lengths = np.fromiter(map(len, lists), np.int64, len(lists))
    total = int(lengths.sum())
    try:
        # sum() refuses strings, null, lists and objects at C speed ...
        sum(chain.from_iterable(lists))
        flat = np.fromiter(chain.from_iterable(lists), np.float64, total)
    except (TypeError, ValueError):
        i = first_bad(lists, lambda v: all(type(x) in NUMBER for x in v))
        raise InputError(path, loc(i), f"must be {what} (numbers only)") from None
    # ... but not booleans, which become 0.0 / 1.0: look at the objects behind those values only
    maybe = np.flatnonzero((flat == 0.0) | (flat == 1.0))
    if maybe.size:
        starts = offsets_from_counts(lengths)
        owner = np.searchsorted(starts, maybe, side="right") - 1
        for j, p in zip(owner.tolist(), (maybe - starts[owner]).tolist(), strict=True):
            if type(lists[j][p]) is bool:
                raise InputError(path, loc(j), f"must be {what} (numbers only)")
    return flat, lengths


def box_column(values: Sequence[Any], path: PathLikeStr, loc: Loc) -> FloatArray:
    """(N, 4) ``x, y, width, height`` from a column of COCO ``bbox`` lists."""
    flat, lengths = number_lists(values, path, loc, "[x, y, width, height]")
    bad = np.flatnonzero(lengths != 4)
    if bad.size:
        i = int(bad[0])
        raise InputError(
            path, loc(i), f"must be [x, y, width, height], not {len(values[i])} values"
        )
    return flat.reshape(-1, 4)


class IdIndex:
    """Sorted lookup of the ``id`` column of a table (images, categories, videos)."""

    def __init__(self, ids: IntArray, path: PathLikeStr, where: str, what: str) -> None:
        self.ids = ids
        self.sorter = np.argsort(ids, kind="stable")
        self.what = what
        s = ids[self.sorter]
        dup = np.flatnonzero(s[1:] == s[:-1])
        if dup.size:
            first, second = sorted(self.sorter[dup[0] : dup[0] + 2].tolist())
            raise InputError(
                path,
                f"{where}[{second}].id",
                f"duplicate {what} id {ids[second]} (also {where}[{first}])",
            )

    def rows(self, ids: IntArray, path: PathLikeStr, loc: Loc) -> IntArray:
        """Row of each id; the first unknown id is an error at its place."""
        if not len(self.ids):
            if len(ids):
                raise InputError(path, loc(0), f"no {self.what} with id {ids[0]}")
            return np.zeros(0, np.int64)
        pos = np.searchsorted(self.ids, ids, sorter=self.sorter)
        rows = self.sorter[np.minimum(pos, len(self.ids) - 1)]
        bad = np.flatnonzero(self.ids[rows] != ids)
        if bad.size:
            i = int(bad[0])
            raise InputError(path, loc(i), f"no {self.what} with id {ids[i]}")
        return rows


ABSENT, LIST, OBJECT = 0, 1, 2


_TYPE_CODE = {NoneType: ABSENT, list: LIST, dict: OBJECT}


def value_kinds(
    values: list[Any], allowed: frozenset[type], path: PathLikeStr, loc: Loc, what: str
) -> npt.NDArray[np.int8]:
    """Per value: 0 absent (null or an empty list), 1 a non-empty list, 2 an object."""
    n = len(values)
    try:
        codes = np.fromiter(map(_TYPE_CODE.__getitem__, map(type, values)), np.int8, n)
    except KeyError:
        codes = np.full(n, -1, np.int8)
    bad = codes < 0
    for t in set(_TYPE_CODE) - allowed:
        bad |= codes == _TYPE_CODE[t]
    if bad.any():
        i = first_bad(values, lambda v: type(v) in allowed)
        raise InputError(path, loc(i), f"must be {what}, not {values[i]!r}")
    empty = (codes == LIST) & ~np.fromiter(map(bool, values), bool, n)
    codes[empty] = ABSENT
    return codes


def pick(values: list[Any] | None, rows: IntArray) -> list[Any]:
    if values is None:
        return [None] * len(rows)
    if len(rows) < 2:
        return [values[i] for i in rows.tolist()]
    return list(itemgetter(*rows.tolist())(values))

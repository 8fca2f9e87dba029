"""Categories: ``category_id`` -> label index, names deduplicated; keypoint counts per category."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.annotations import IntArray
from prelabel.errors import InputError
from prelabel.formats.coco._columns import (
    IdIndex,
    Loc,
    PathLikeStr,
    ints,
    item_loc,
    object_list,
    required_values,
    strings,
)


@dataclass(frozen=True)
class Categories:
    ids: IdIndex | None  # None: no categories section, labels are the ids as text
    names: tuple[str, ...]
    label_of_row: IntArray  # category row -> label index (names deduplicated)
    keypoints: IntArray  # category row -> number of keypoints it declares (0: none)

    def labels(
        self, cat_ids: list[Any], path: PathLikeStr, loc: Loc
    ) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
        ids = ints(cat_ids, path, loc)
        if self.ids is not None:
            return self.label_of_row[self.ids.rows(ids, path, loc)].astype(np.int32), self.names
        uniq, inverse = np.unique(ids, return_inverse=True)
        return inverse.astype(np.int32).ravel(), tuple(str(x) for x in uniq.tolist())

    def keypoint_count(self, cat_ids: IntArray) -> IntArray:
        return self.keypoints[cat_ids]


def read_categories(data: dict[str, Any] | None, path: PathLikeStr) -> Categories:
    if data is None or "categories" not in data:
        return Categories(None, (), np.zeros(0, np.int64), np.zeros(0, np.int64))
    cats = object_list(data["categories"], path, "$.categories")
    ids = IdIndex(
        ints(
            required_values(cats, "id", path, "$.categories"), path, item_loc("$.categories", "id")
        ),
        path,
        "$.categories",
        "category",
    )
    names = strings(
        required_values(cats, "name", path, "$.categories"), path, item_loc("$.categories", "name")
    )
    position: dict[str, int] = {}
    label_of_row = np.array([position.setdefault(nm, len(position)) for nm in names], np.int64)
    kps = np.zeros(len(cats), dtype=np.int64)
    for i, c in enumerate(cats):
        k = c.get("keypoints")
        if k is None:
            continue
        if not isinstance(k, list):
            raise InputError(path, f"$.categories[{i}].keypoints", "must be a list of names")
        kps[i] = len(k)
    return Categories(ids, tuple(position), label_of_row.reshape(-1), kps)

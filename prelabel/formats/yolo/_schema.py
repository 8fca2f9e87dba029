"""Row schemas: which columns a label row holds (``cls``, a geometry, ``conf``, ``track``).

A :class:`Schema` is one row layout; a :class:`Reading` is the set of layouts a data set's
rows are read with (one per row length), declared by ``--task`` / ``--columns`` / data.yaml
or read from the rows themselves (:mod:`prelabel.formats.yolo._rows`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.annotations import IntArray
from prelabel.errors import InputError, param

TASKS = ("detect", "segment", "pose", "obb")


# Values a row could hold at most: a longer declared row (kpt_shape [1e9, 3]) fits no file.
_MAX_ROW = 2**40


_ALIASES = {
    "cls": "cls", "class": "cls", "class_id": "cls",
    "box": "box", "xywh": "box", "bbox": "box",
    "poly": "poly", "polygon": "poly", "seg": "poly", "segment": "poly",
    "obb": "obb", "xyxyxyxy": "obb",
    "kpts": "kpts", "kpt": "kpts", "keypoints": "kpts",
    "conf": "conf", "score": "conf", "confidence": "conf",
    "track": "track", "id": "track", "track_id": "track",
}  # fmt: skip
_GEOMETRY = ("box", "poly", "obb", "kpts")


@dataclass(frozen=True)
class Schema:
    """The columns of one label row, in order; ``kpts`` is (K points, 2 or 3 values each)."""

    items: tuple[str, ...]
    kpts: tuple[int, int] | None = None

    def size(self, item: str) -> int:
        """Values of a fixed-size item (``poly`` is variable and has none)."""
        if item == "kpts":
            assert self.kpts is not None
            return self.kpts[0] * self.kpts[1]
        return {"cls": 1, "box": 4, "obb": 8, "conf": 1, "track": 1}[item]

    @property
    def variable(self) -> bool:
        return "poly" in self.items

    @property
    def fixed(self) -> int:
        """Values of every fixed-size item together."""
        return sum(self.size(i) for i in self.items if i != "poly")

    def describe(self) -> str:
        """The row as a reader would write it: ``cls xc yc w h conf``."""
        words = {
            "cls": "cls",
            "box": "xc yc w h",
            "obb": "x1 y1 x2 y2 x3 y3 x4 y4",
            "poly": "x1 y1 ... xn yn",
            "conf": "conf",
            "track": "track",
        }
        out = []
        for item in self.items:
            if item == "kpts":
                assert self.kpts is not None
                k, d = self.kpts
                out.append(f"+ {k} keypoints x y{' v' if d == 3 else ''}")
            else:
                out.append(words[item])
        return " ".join(out)

    def wants(self) -> str:
        """``5 values (cls xc yc w h)`` and the like, for error messages."""
        if not self.variable:
            return f"{self.fixed} values ({self.describe()})"
        parity = "an odd" if self.fixed % 2 else "an even"
        return f"{parity} number of values, at least {self.fixed + 6} ({self.describe()})"

    def expectation(self) -> str:
        """``expected 5 values (cls xc yc w h)`` and the like, for error messages."""
        return f"expected {self.wants()}"

    def fits(self, ncol: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Per line: does a row of ``ncol`` values fit this schema?"""
        if self.fixed > _MAX_ROW:  # no file holds such a row (and numpy's int64 could not say so)
            return np.zeros(len(ncol), dtype=bool)
        if not self.variable:
            fixed: npt.NDArray[np.bool_] = ncol == self.fixed
            return fixed
        rest = ncol - self.fixed
        variable: npt.NDArray[np.bool_] = (rest >= 6) & (rest % 2 == 0)
        return variable

    @property
    def untracked(self) -> Schema | None:
        """The same row without its trailing ``track`` (what a tracker writes for a shape it
        gave no id), or None when ``track`` is not the last column."""
        if len(self.items) > 2 and self.items[-1] == "track":
            return Schema(self.items[:-1], self.kpts)
        return None

    def __str__(self) -> str:
        return ",".join(
            f"kpts:{self.kpts[0]}x{self.kpts[1]}" if i == "kpts" and self.kpts else i
            for i in self.items
        )


@dataclass(frozen=True)
class Reading:
    """How the rows of a data set are read: one schema per row length (the schemas' lengths
    never overlap, so each row has at most one), and where that came from.

    ``declared`` names the option or data.yaml key that declared it; None when it was read
    from the rows themselves (:func:`~prelabel.formats.yolo._rows.infer_reading`).
    """

    schemas: tuple[Schema, ...]
    declared: str | None = None

    @classmethod
    def of(cls, schema: Schema, declared: str) -> Reading:
        """A declared schema; one ending in ``track`` also takes rows without it (untracked)."""
        untracked = schema.untracked
        return cls((schema,) if untracked is None else (schema, untracked), declared)

    def expectation(self) -> str:
        return "expected " + " or ".join(s.wants() for s in self.schemas)

    def schema_ids(self, ncol: IntArray) -> IntArray:
        """Per line: the index of the schema its length fits, -1 for none."""
        sid = np.full(len(ncol), -1, dtype=np.int64)
        for k, s in enumerate(self.schemas):
            sid[(sid < 0) & s.fits(ncol)] = k
        return sid

    def full_columns(self, schema: Schema) -> str:
        """The ``--columns`` that reads rows like ``schema`` (with its track column, if any)."""
        for s in self.schemas:
            if s == schema or s.untracked == schema:
                return str(s)
        return str(schema)


# Ultralytics' pose models predict COCO's 17 keypoints, each x y and a confidence
_POSE_PREDICTION = (17, 3)


def shape_readings() -> tuple[Reading, ...]:
    """What Ultralytics' ``save_txt`` writes: ``cls``, a box or a polygon (an oriented box is a
    4-point polygon), then ``conf`` with ``save_conf``, then the track id when the tracker gave
    one. Boxes and polygons may mix row by row (Label Studio's YOLO export). Last, a pose
    model's box and 17 keypoints: rarely the only fit, but a 57-value row is then refused as
    "polygon or pose" instead of read as a 28-point polygon."""
    out = []
    for geometries in ((("box", None), ("poly", None)), (("box+kpts", _POSE_PREDICTION),)):
        for trailing in ((), ("conf",), ("track",), ("conf", "track")):
            schemas: list[Schema] = []
            for geometry, kpts in geometries:
                s = Schema(("cls", *geometry.split("+"), *trailing), kpts)
                schemas.append(s)
                if s.untracked is not None:
                    schemas.append(s.untracked)
            out.append(Reading(tuple(schemas)))
    return tuple(out)


def schema_for_task(task: str, kpt_shape: tuple[int, int] | None = None) -> Schema:
    """The annotation rows of an Ultralytics task (no conf or track column)."""
    items = {
        "detect": "cls,box",
        "segment": "cls,poly",
        "pose": "cls,box,kpts",
        "obb": "cls,obb",
    }.get(task)
    if items is None:
        raise InputError(None, param("task"), f"unknown task {task!r}; one of {', '.join(TASKS)}")
    return parse_columns(items, kpt_shape=kpt_shape)


_KPTS_RE = re.compile(r"^(\w+?)(?::?(\d+)x(\d+))?$")


def parse_columns(spec: str, *, kpt_shape: tuple[int, int] | None = None) -> Schema:
    """A :class:`Schema` from ``"cls,box,conf,track"``-style text.

    Items (comma or space separated, case-insensitive): ``cls``; one geometry, ``box``
    (xc yc w h), ``poly`` (x1 y1 ... xn yn, variable), ``obb`` (4 corners) or ``kpts[:KxD]``
    (K keypoints of D = 2 or 3 values, usually after ``box``); then ``conf`` and ``track`` in
    the order the file has them. ``kpts`` without a shape takes ``kpt_shape`` (data.yaml).
    """
    items: list[str] = []
    kpts: tuple[int, int] | None = None
    for raw in re.split(r"[,\s]+", spec.strip()):
        if not raw:
            continue
        m = _KPTS_RE.match(raw.lower())
        item = _ALIASES.get(m.group(1)) if m else None
        if m is None or item is None or (m.group(2) and item != "kpts"):
            raise InputError(
                None,
                param("columns"),
                f"unknown column {raw!r}; use cls, box, poly, obb, kpts[:KxD], conf, track",
            )
        if item in items:
            raise InputError(None, param("columns"), f"column {item!r} given twice")
        if item == "kpts":
            if m.group(2):
                kpts = (int(m.group(2)), int(m.group(3)))
            elif kpt_shape is not None:
                kpts = kpt_shape
            else:
                raise InputError(
                    None,
                    param("columns"),
                    "kpts needs a shape: kpts:17x3 (or kpt_shape in data.yaml)",
                )
            if kpts[0] < 1 or kpts[1] not in (2, 3):
                raise InputError(
                    None,
                    param("columns"),
                    f"keypoint shape {kpts[0]}x{kpts[1]}: K >= 1 and D 2 or 3",
                )
        items.append(item)
    geometry = [i for i in items if i in _GEOMETRY]
    if items.count("cls") != 1:
        raise InputError(None, param("columns"), "the columns need exactly one cls")
    if not geometry:
        raise InputError(
            None, param("columns"), "the columns need a geometry: box, poly, obb or kpts"
        )
    if len(geometry) > 1 and sorted(geometry) != ["box", "kpts"]:
        raise InputError(
            None, param("columns"), f"one geometry per row (box with kpts for pose), got {geometry}"
        )
    return Schema(tuple(items), kpts)


def positions(schema: Schema, n: int) -> dict[str, int]:
    """Start column of each fixed item in a row of ``n`` values (items after ``poly`` count
    from the end)."""
    pos: dict[str, int] = {}
    at = 0
    for i, item in enumerate(schema.items):
        if item == "poly":
            pos["poly"] = at
            tail = sum(schema.size(x) for x in schema.items[i + 1 :])
            at = n - tail
            continue
        pos[item] = at
        at += schema.size(item)
    return pos


def positions_per_line(schema: Schema, ncol: IntArray) -> dict[str, Any]:
    """Start column of each item per line: scalars before ``poly``, arrays after it."""
    pos: dict[str, Any] = {}
    at: Any = 0
    for i, item in enumerate(schema.items):
        if item == "poly":
            pos["poly"] = at
            at = ncol - sum(schema.size(x) for x in schema.items[i + 1 :])
            continue
        pos[item] = at
        at = at + schema.size(item)
    return pos

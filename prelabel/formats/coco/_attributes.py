"""Attributes: CVAT / datumaro ``attributes`` objects -> the platform's string values."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from prelabel.annotations import IntArray, ObjArray
from prelabel.errors import InputError
from prelabel.formats.coco._columns import NUMBER, PathLikeStr
from prelabel.formats.coco._options import Options
from prelabel.formats.coco._pieces import Piece
from prelabel.formats.coco._records import Records
from prelabel.report import Action, Reason, Report

#: CVAT / datumaro keep tracking state in ``attributes``; these keys are read, never passed on.
TRACK_ATTRIBUTES = ("track_id", "keyframe", "rotation")


def _suffix(loc: Callable[[], str], suffix: str) -> Callable[[], str]:
    return lambda: loc() + suffix


def _attribute_value(v: Any, path: PathLikeStr, loc: Callable[[], str]) -> str | list[str] | None:
    """A JSON value as the platform wants it: a string, or a list of strings (multi-select).

    Booleans become "true" / "false", whole numbers "3" (also 3.0), other numbers their
    shortest repr ("0.5"); null leaves the attribute out.
    """
    t = type(v)
    if t is str:
        return str(v)
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return str(int(v)) if v.is_integer() else repr(v)
    if v is None:
        return None
    if t is list:
        out = []
        for k, x in enumerate(v):
            item = _attribute_value(x, path, _suffix(loc, f"[{k}]"))
            if not isinstance(item, str):
                raise InputError(
                    path, f"{loc()}[{k}]", "a list attribute holds strings, numbers or booleans"
                )
            out.append(item)
        return out
    raise InputError(path, loc(), "an attribute value must be a string, number, boolean or list")


def _convert_attributes(recs: Records, r: int, report: Report) -> dict[str, Any] | None:
    """Record ``r``'s ``attributes`` object with platform values; tracking keys left out."""
    raw = recs.attrs[r] if recs.attrs is not None else None
    if raw is None:
        return None
    if type(raw) is not dict:
        raise InputError(recs.path, recs.loc(r, "attributes"), "must be an object of name -> value")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if type(value) is str and name not in TRACK_ATTRIBUTES:
            out[name] = value
            continue
        if name in TRACK_ATTRIBUTES:
            if name == "rotation" and type(value) in NUMBER and value % 360:
                recs.note(
                    report,
                    Action.NOTED,
                    Reason.ROTATION_IGNORED,
                    r,
                    f"rotation {value} (the box is kept axis-aligned)",
                )
            continue
        where = _suffix(partial(recs.loc, r, "attributes"), f".{name}")
        converted = _attribute_value(value, recs.path, where)
        if converted is not None:
            out[name] = converted
    return out or None


def attribute_column(
    recs: Records, rec: IntArray, pieces: list[Piece], opts: Options, report: Report
) -> ObjArray:
    n = len(rec)
    col = np.empty(n, dtype=object)
    if opts.attributes and recs.attrs is not None:
        per_rec = np.empty(len(recs), dtype=object)
        used = np.unique(rec)
        for r in used.tolist():
            per_rec[r] = _convert_attributes(recs, r, report)
        col[:] = per_rec[rec]
    start = 0
    for p in pieces:  # per-shape extras (the occluded keypoints) on top of the record's
        if p.attributes is not None:
            for k, extra in enumerate(p.attributes.tolist()):
                base = col[start + k]
                col[start + k] = {**base, **extra} if base else extra
        start += len(p.rec)
    return col

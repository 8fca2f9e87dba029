"""Binary masks -> polygons with prelabel's tracer (``Annotations.from_masks``), shared by the
supervision adapter: pixel-corner outlines, holes filled, specks dropped, pieces split, all
reported (the policy of :mod:`prelabel.formats.masks`, as for COCO RLE)."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.adapters._arrays import to_numpy
from prelabel.adapters._notes import Notes, check_multipart, pieces_kept
from prelabel.annotations import Annotations, FloatArray, Frames, IntArray, Kind, _bad, _Inputs
from prelabel.report import Report


def mask_source(masks: Any, param: str) -> tuple[int, int, int, Callable[[int], Any]]:
    """(N, H, W) of a mask stack and a function giving mask i as a 2-D array: a dense array
    (numpy, a CPU tensor) or anything with ``shape`` and ``[i]`` giving one dense mask, like
    supervision's ``CompactMask`` (decoded one mask at a time, never the whole stack)."""
    if hasattr(masks, "to_dense") and hasattr(masks, "shape"):
        shape = tuple(int(v) for v in masks.shape)
        if len(shape) != 3:
            raise _bad(param, f"expected an (N, H, W) mask stack, got shape {shape}")
        return shape[0], shape[1], shape[2], lambda i: np.asarray(masks[i])
    arr = to_numpy(masks, param)
    if arr.ndim == 3 and arr.shape[0] == 0:
        return 0, int(arr.shape[1]), int(arr.shape[2]), lambda i: arr[i]
    if arr.ndim != 3:
        tip = f" (one mask: {param}[None] is its stack of one)" if arr.ndim == 2 else ""
        raise _bad(
            param, f"expected an (N, H, W) array of binary masks, got shape {arr.shape}{tip}"
        )
    if arr.dtype.kind not in "biuf":
        raise _bad(param, f"expected binary masks (bool or numbers), got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        _check_binary(arr, param)
    return int(arr.shape[0]), int(arr.shape[1]), int(arr.shape[2]), lambda i: arr[i]


def _check_binary(arr: npt.NDArray[Any], param: str) -> None:
    """Float masks hold 0 and 1 only: a soft mask (probabilities, logits) or NaN would be
    "non-zero = inside" everywhere it is not exactly 0, so it is refused with the fix."""
    for i in range(len(arr)):  # one mask at a time: the memory of one mask, not the stack's
        with np.errstate(invalid="ignore"):
            soft = (arr[i] != 0) & (arr[i] != 1)
        if soft.any():
            r, c = np.unravel_index(int(np.argmax(soft)), soft.shape)
            raise _bad(
                f"{param}[{i}, {int(r)}, {int(c)}]",
                f"is {arr[i, r, c].item()!r}: float masks must be 0 or 1 (binary); threshold "
                f"a soft mask first ({param} > 0.5)",
            )


def frame_text(frames: Frames, row: int) -> str:
    """A frame as the report names it: its frame id, else its name, else its row."""
    return str(frames.frame_id[row] or frames.name[row] or f"frame {row}")


def trace_rows(
    n: int,
    mask: Callable[[int], Any],
    *,
    min_area: float,
    multipart: str,
    notes: Notes,
    where: Callable[[int], tuple[str, str, str]],
) -> tuple[IntArray, list[FloatArray], npt.NDArray[np.bool_]]:
    """Trace masks 0..n-1: (owner row of each polygon, the polygons, which keep the track).

    ``where(i)`` gives mask i's (source, frame, label) for its report rows."""
    from prelabel.formats.masks import trace_mask

    owner: list[int] = []
    polys: list[FloatArray] = []
    tracked: list[bool] = []
    for i in range(n):  # OpenCV traces one mask per call
        out = trace_mask(mask(i), min_area=min_area, what="Annotations.from_masks")
        findings = out.findings(min_area)
        kept, why = pieces_kept(out.polygons, multipart)
        if why is not None:
            findings.append(why)
        if findings:
            source, frame, label = where(i)
            for action, reason, detail in findings:
                notes.add(action, reason, source=source, frame=frame, label=label, detail=detail)
        for k, p in enumerate(kept):
            owner.append(i)
            polys.append(p)
            tracked.append(k == 0)
    return np.asarray(owner, dtype=np.int64), polys, np.asarray(tracked, dtype=bool)


def default_min_area(min_area: float | None) -> float:
    if min_area is None:
        from prelabel.formats.coco._options import MIN_MASK_AREA

        return MIN_MASK_AREA
    if (
        isinstance(min_area, bool | np.bool_)
        or not isinstance(min_area, numbers.Real)
        or not np.isfinite(min_area)
        or min_area < 0
    ):
        raise _bad("min_area", f"expected a number of square pixels >= 0, got {min_area!r}")
    return float(min_area)


def pick(values: Any, rows: IntArray) -> Any:
    """Per-shape keyword values at ``rows`` (a scalar or None stays as it is)."""
    if values is None or isinstance(values, str) or np.ndim(values) == 0:
        return values
    if isinstance(values, np.ndarray):
        return values[rows]
    return [values[i] for i in rows.tolist()]


def annotations_from_masks(
    frames: Frames,
    masks: Any,
    labels: Any,
    frame: Any,
    *,
    names: Sequence[str] | Mapping[int, str] | None,
    track: Any,
    score: Any,
    attributes: Sequence[Mapping[str, Any] | None] | None,
    source: Sequence[str | None] | None,
    min_area: float | None,
    multipart: str,
    report: Report | None,
) -> Annotations:
    chk = _Inputs(frames)
    check_multipart(multipart)
    area = default_min_area(min_area)
    n, h, w, mask = mask_source(masks, "masks")
    empty = np.zeros((0, 2))
    cols = chk.shape_columns(
        n, labels, frame, names, track, score, attributes, source, empty,
        np.zeros(n + 1, np.int64), False, "masks",
    )  # fmt: skip
    rows = cols["frame"]
    if n:
        fw, fh = frames.width[rows], frames.height[rows]
        wrong = (fw != w) | (fh != h)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise _bad(
                f"masks[{i}]",
                f"is {w} x {h} pixels but its frame (row {int(rows[i])}) is "
                f"{float(fw[i]):g} x {float(fh[i]):g}: a mask must be the size of its frame",
            )
    src = [f"masks[{i}]" for i in range(n)] if source is None else list(source)
    names_t = cols["names"]
    label_value = cols["labels"]

    def label_of(i: int) -> str:
        if isinstance(label_value, str):
            return label_value
        v = label_value[i]
        return str(names_t[int(v)]) if names_t is not None else str(v)

    notes = Notes(report, "Annotations.from_masks")
    owner, polys, tracked = trace_rows(
        n, mask, min_area=area, multipart=multipart, notes=notes,
        where=lambda i: (str(src[i]), frame_text(frames, int(rows[i])), label_of(i)),
    )  # fmt: skip
    notes.finish()
    track_arr = cols["track"][owner]
    track_arr[~tracked] = -1
    return Annotations._point_lists(
        frames,
        Kind.POLYGON,
        polys,
        pick(label_value, owner),
        rows[owner],
        names=names_t,
        track=track_arr,
        score=pick(cols["score"], owner),
        attributes=pick(attributes, owner),
        source=pick(src, owner),
    )

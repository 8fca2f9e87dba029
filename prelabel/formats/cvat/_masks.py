"""CVAT ``<mask>``: the RLE decoded and the mask traced into polygons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.annotations import Annotations, Kind
from prelabel.errors import InputError, MissingExtraError
from prelabel.formats.cvat._raw import RawShapes
from prelabel.formats.cvat._tables import ParsedFile, bounded_int
from prelabel.report import Action, Reason, Report

_MASK_MIN_AREA = 1.0  # px^2; smaller mask parts are noise, not objects


def cvat_rle_to_mask(rle: str, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Decode CVAT's mask RLE: run lengths alternating background/foreground, starting with
    background, over the ``height x width`` box in row-major order (CVAT's ``rle2Mask``)."""
    tokens = [c for c in rle.replace(" ", "").split(",") if c]
    digits = "".join(tokens)
    if not (digits.isascii() and digits.isdigit()) and tokens:  # no sign, no superscripts
        raise ValueError("rle is not a list of run lengths (non-negative integers)")
    try:
        counts = np.array(tokens, dtype=np.int64)
    except OverflowError:
        raise ValueError("a run length is beyond 2**63") from None
    area = width * height
    # with no run longer than the box the int64 sum cannot wrap around; else Python's sum
    long_run = bool((counts > area).any())
    total = sum(map(int, tokens)) if long_run else int(counts.sum())
    if total > area:
        raise ValueError(f"the runs cover {total} pixels, the box has {area}")
    flat = np.zeros(width * height, dtype=np.uint8)
    flat[:total] = np.repeat((np.arange(len(counts)) % 2).astype(np.uint8), counts)
    return flat.reshape(height, width)


def _masks_module() -> Any:
    """prelabel.formats.masks, imported on the first mask (it needs the ``masks`` extra)."""
    try:
        from prelabel.formats import masks
    except ImportError:  # pragma: no cover - the module ships with the package
        raise MissingExtraError("masks", "a CVAT <mask>") from None
    return masks


def with_masks(
    ann: Annotations,
    raw: RawShapes,
    parsed: ParsedFile,
    mask_rows: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    *,
    occluded_attribute: str | None,
    drop: bool,
    frame_text: Callable[[int, int], str],
    report: Report,
) -> Annotations:
    """Add the polygons traced from each ``<mask>``, in file order with the other shapes.

    A mask of several parts becomes several polygons (a report row says so); in a track only
    the largest part keeps the track id, so one tracker never holds two shapes on one frame.
    """
    masks = _masks_module()
    polys: list[npt.NDArray[np.float64]] = []
    owner: list[int] = []
    tracked: list[bool] = []
    for row in mask_rows.tolist():
        rle, left, top, width, height = parsed.shapes.masks[int(raw.origin[row])]
        where = raw.source(row)
        label = parsed.label_names[raw.label[row]]
        try:
            x0, y0 = bounded_int(left, "left"), bounded_int(top, "top")
            w, h = bounded_int(width, "width"), bounded_int(height, "height")
            if w < 1 or h < 1 or w * h > masks.MAX_MASK_PIXELS:
                raise ValueError(f"a {w} x {h} box is not a mask size")
            mask = cvat_rle_to_mask(rle, w, h)
        except ValueError as e:
            err = InputError(parsed.path, where, f"bad mask: {e}")
            if not drop:
                raise err from None
            report.add(
                Action.DROPPED,
                Reason.BAD_MASK,
                source=where,
                frame=frame_text(int(raw.track[row]), int(raw.frame[row])),
                label=label,
                detail=f"{err.message}: the shape is left out",
            )
            continue
        traced = masks.trace_mask(
            mask, min_area=_MASK_MIN_AREA, offset=(float(x0), float(y0)), what="a CVAT <mask>"
        )
        parts = traced.polygons  # largest first
        for action, reason, detail in traced.findings(_MASK_MIN_AREA):
            report.add(action, reason, source=where, label=label, detail=detail)
        if not parts:
            continue
        if len(parts) > 1:
            report.add(
                Action.SPLIT,
                Reason.SPLIT_INTO_POLYGONS,
                source=where,
                label=label,
                detail=f"{len(parts)} polygons; in a track the largest keeps the track id",
            )
        for i, p in enumerate(parts):
            polys.append(p)
            owner.append(row)
            tracked.append(i == 0)
    if not polys:
        return ann
    own = np.asarray(owner, dtype=np.int64)
    track_ids = np.asarray(parsed.tracks.id + [-1], dtype=np.int64)[raw.track[own]]
    track_ids[~np.asarray(tracked)] = -1
    attrs = [raw.attrs[i] for i in owner]
    if occluded_attribute is not None:
        attrs = [
            {**(a or {}), occluded_attribute: "true" if raw.occluded[i] else "false"}
            for a, i in zip(attrs, owner, strict=True)
        ]
    part = Annotations._point_lists(
        ann.frames,
        Kind.POLYGON,
        polys,
        raw.label[own],
        raw.frame[own],
        names=parsed.label_names,
        track=track_ids,
        attributes=attrs,
        source=raw.sources(own),
    )
    both = Annotations.concat([ann, part])
    order = np.argsort(np.concatenate([rows, own]), kind="stable")
    return both[order]

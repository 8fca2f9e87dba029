"""Ultralytics ``Results`` -> pixel :class:`~prelabel.annotations.Annotations`
(``Annotations.from_ultralytics``), duck-typed: neither ultralytics nor torch is imported.

What is read, per result (the attributes of ``ultralytics.engine.results.Results``, 8.x):

- ``orig_shape`` (height, width): the frame size; ``path``: the frame's name; ``names``
  ({class id: name}): the labels, the same for every result;
- ``boxes`` (``xyxy``, ``conf``, ``cls``, ``id``; ``id`` is None unless tracking) or ``obb``
  (``xyxyxyxy`` corners, and the same ``conf``, ``cls``, ``id``): rectangles, or polygons
  for oriented boxes that are not axis-aligned (the YOLO reader's rule and tolerance);
- ``masks.xy``: one outline per detection, in pixels of the original image; Ultralytics
  merges a mask of several pieces into one outline joined by zero-width bridges
  (``merge_multi_segment``), which is cut back into its pieces here;
- ``keypoints.xy`` and ``keypoints.conf`` (None without a confidence channel, when a point
  at (0, 0) is missing, as Ultralytics' plotting reads it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.adapters._arrays import check_flag, optional_numpy, to_numpy
from prelabel.adapters._collect import Shapes
from prelabel.adapters._notes import Notes, check_multipart, pieces_kept, ring_area
from prelabel.annotations import (
    Annotations,
    FloatArray,
    Frames,
    IntArray,
    Kind,
    _bad,
    _described,
    _Inputs,
    _texts,
    class_names,
)
from prelabel.report import Action, Reason, Report


def _results(results: Any) -> Iterator[tuple[int, Any]]:
    """(position, result) of one Results or an iterable of them, taken one at a time: a
    generator (``model.track(..., stream=True)``) is read as it goes, never held whole."""
    if hasattr(results, "orig_shape"):
        yield 0, results
        return
    if hasattr(results, "xyxy") and hasattr(results, "class_id"):  # iterable, but no list
        raise _bad(
            "results",
            f"expected a Results or a list of them, got {_described(results)}: a supervision "
            "Detections goes to Annotations.from_supervision",
        )
    if isinstance(results, str | bytes) or not hasattr(results, "__iter__"):
        raise _bad("results", f"expected a Results or a list of them, got {_described(results)}")
    for i, r in enumerate(results):
        if not hasattr(r, "orig_shape") or not hasattr(r, "names"):
            raise _bad(f"results[{i}]", f"expected an ultralytics Results, got {_described(r)}")
        yield i, r


def _class_names(names: Any, where: str) -> tuple[str, ...]:
    """``{0: 'person', 1: 'car'}`` (or a list) as the tuple of names by class id."""
    return class_names(names, where)


def axis_aligned(corners: FloatArray, tol: float) -> npt.NDArray[np.bool_]:
    """Per (4, 2) corner set, whether it is an axis-aligned rectangle: the YOLO reader's rule
    (:func:`prelabel.formats.yolo._shapes.axis_aligned`)."""
    from prelabel.formats.yolo._shapes import axis_aligned as rule

    return rule(corners, tol)


def split_merged(xy: FloatArray) -> list[FloatArray]:
    """The pieces of an outline Ultralytics merged (largest first); one piece unchanged.

    ``merge_multi_segment`` walks each piece from its joining point around and back to it
    (the point repeated), then crosses a bridge to the next piece. Where a point comes back,
    the points since its first visit are one ring; what is left between rings (the bridges,
    two points) is no piece."""
    if len(xy) == 0:
        return []
    _, counts = np.unique(xy, axis=0, return_counts=True)
    if (counts == 1).all():
        return [xy]
    stack: list[int] = []
    at: dict[tuple[float, float], int] = {}
    rings: list[FloatArray] = []
    for i, p in enumerate(map(tuple, xy.tolist())):  # only merged outlines come here
        k = at.get(p)
        if k is None:
            at[p] = len(stack)
            stack.append(i)
            continue
        ring = stack[k:]
        for j in stack[k + 1 :]:
            del at[tuple(xy[j].tolist())]
        del stack[k + 1 :]
        if len(ring) >= 3:
            rings.append(xy[ring])
    if len(stack) >= 3:
        rings.append(xy[stack])
    rings.sort(key=ring_area, reverse=True)
    return rings


def annotations_from_ultralytics(
    results: Any,
    *,
    sequence: str | None,
    frame_id: Sequence[str] | None,
    src: Sequence[str] | None,
    keypoint_threshold: float,
    with_boxes: bool,
    multipart: str,
    report: Report | None,
) -> Annotations:
    check_multipart(multipart)
    if (
        isinstance(keypoint_threshold, bool)
        or not isinstance(keypoint_threshold, int | float)
        or not np.isfinite(keypoint_threshold)
    ):
        raise _bad("keypoint_threshold", f"expected a number, got {keypoint_threshold!r}")
    with_boxes = check_flag(with_boxes, "with_boxes")
    ids_given = _texts(frame_id, "frame_id")
    src = _texts(src, "src")
    chk = _Inputs(None, needs_frames=False)
    _check_counts(results, ids_given, src)
    names: tuple[str, ...] = ()
    first_names: Any = None
    sizes: list[tuple[float, float]] = []
    paths: list[str] = []
    shapes = Shapes()
    notes = Notes(report, "Annotations.from_ultralytics")
    base = 0
    for f, r in _results(results):
        if f == 0:
            first_names = r.names
            names = _class_names(r.names, "results[0].names")
        elif r.names != first_names and _class_names(r.names, f"results[{f}].names") != names:
            raise _bad(f"results[{f}].names", "differ from results[0].names: one model's classes")
        shape = tuple(r.orig_shape)
        if len(shape) < 2:
            raise _bad(f"results[{f}].orig_shape", f"expected (height, width), got {shape}")
        sizes.append((float(shape[1]), float(shape[0])))
        paths.append("" if r.path is None else str(r.path))
        for name, given in (("frame_id", ids_given), ("src", src)):
            if given is not None and f >= len(given):  # said now, not after a long video
                raise _bad(
                    name, f"expected one value per result, got {len(given)} for more results"
                )
        frame = (ids_given[f] if ids_given is not None else "") or paths[f]
        where = f"results[{f}]"
        obb = getattr(r, "obb", None)
        boxes = obb if obb is not None else r.boxes
        part = "obb" if obb is not None else "boxes"
        masks = getattr(r, "masks", None)
        kpts = getattr(r, "keypoints", None)
        if boxes is None:
            _no_boxes(r, where, masks, kpts)
            continue
        cls = to_numpy(boxes.cls, f"{where}.{part}.cls").reshape(-1)
        n = len(cls)
        ids = chk.ints(
            cls, n, f"{where}.{part}.cls", lo=0, hi=len(names) - 1,
            range_text=f"the class ids of names (0..{len(names) - 1})",
        )  # fmt: skip
        conf = optional_numpy(boxes.conf, f"{where}.{part}.conf")
        track_raw = optional_numpy(boxes.id, f"{where}.{part}.id")
        track = chk.ints(
            None if track_raw is None else track_raw.reshape(-1), n, f"{where}.{part}.id",
            fill=-1, lo=0,
        )  # fmt: skip
        det = base + np.arange(n, dtype=np.int64)
        scores = None if conf is None else chk.floats(conf.reshape(-1), n, f"{where}.{part}.conf")
        shapes.detections(f, ids, scores, track)
        box_src = [f"{where}.{part}[{i}]" for i in range(n)]
        if n and (with_boxes or (masks is None and kpts is None)):
            if obb is not None:
                corners = to_numpy(obb.xyxyxyxy, f"{where}.obb.xyxyxyxy")
                obb_shapes(shapes, corners, det, box_src, f"{where}.obb.xyxyxyxy")
            else:
                xyxy = chk_boxes(to_numpy(boxes.xyxy, f"{where}.boxes.xyxy"), n, where)
                shapes.add_boxes(xyxy, det, box_src)
        if masks is not None and n:
            _mask_shapes(shapes, masks, det, frame, names, ids, multipart, notes, where)
        if kpts is not None and n:
            _keypoint_shapes(shapes, kpts, det, frame, names, ids, keypoint_threshold, notes, where)
        base += n
    if not sizes:
        raise _bad("results", "is empty: one Results per frame is needed")
    _check_counts(sizes, ids_given, src)
    notes.finish()
    size = np.asarray(sizes)
    frames = Frames.build(
        size[:, 0], size[:, 1], name=paths, sequence=sequence or "sequence",
        frame_id=ids_given, src=src,
    )  # fmt: skip
    return shapes.build(frames, names, "results")


def _check_counts(results: Any, frame_id: list[str] | None, src: list[str] | None) -> None:
    """One ``frame_id`` and ``src`` per result, where the number of results is known (a list
    at the start, a stream at its end)."""
    if hasattr(results, "orig_shape") or not hasattr(results, "__len__"):
        return
    for name, given in (("frame_id", frame_id), ("src", src)):
        if given is not None and len(given) != len(results):
            raise _bad(name, f"expected {len(results)} values (one per result), got {len(given)}")


def _no_boxes(r: Any, where: str, masks: Any, kpts: Any) -> None:
    """A result without ``boxes`` (nor ``obb``) is a frame without detections, unless it
    holds what cannot be converted: a classification (``probs``), or masks or keypoints
    whose class ids (in ``boxes``) are missing."""
    if getattr(r, "probs", None) is not None:
        raise _bad(
            f"{where}.probs",
            "is a classification result (probs, no boxes): classes of the whole image are "
            "no shapes; use a detection, segmentation, pose or OBB model",
        )
    for part, value in (("masks", masks), ("keypoints", kpts)):
        if value is not None:
            raise _bad(
                f"{where}.boxes", f"is None but {part} are given: their class ids are in boxes"
            )


def chk_boxes(xyxy: npt.NDArray[Any], n: int, where: str) -> FloatArray:
    if xyxy.shape != (n, 4):
        raise _bad(f"{where}.boxes.xyxy", f"expected shape ({n}, 4), got {xyxy.shape}")
    return xyxy.astype(np.float64)


def obb_shapes(
    shapes: Shapes, corners: npt.NDArray[Any], det: IntArray, source: list[str], what: str
) -> None:
    from prelabel.formats.yolo._shapes import _AXIS_TOL_PIXELS

    n = len(det)
    if corners.shape != (n, 4, 2):
        raise _bad(what, f"expected shape ({n}, 4, 2), got {corners.shape}")
    c = corners.astype(np.float64)
    axis = axis_aligned(c, _AXIS_TOL_PIXELS)
    lo, hi = c.min(axis=1), c.max(axis=1)
    rect = np.stack(
        [lo[:, 0], lo[:, 1], hi[:, 0], lo[:, 1], hi[:, 0], hi[:, 1], lo[:, 0], hi[:, 1]], 1
    )
    pts = np.where(axis[:, None], rect, c.reshape(n, 8))
    kind = np.where(axis, Kind.RECTANGLE, Kind.POLYGON)
    shapes.add(kind, np.full(n, 4), pts, None, det, 0, source)


def _mask_shapes(
    shapes: Shapes, masks: Any, det: IntArray, frame: str, names: tuple[str, ...],
    cls: IntArray, multipart: str, notes: Notes, where: str,
) -> None:  # fmt: skip
    outlines = masks.xy
    n = len(det)
    if len(outlines) != n:
        raise _bad(f"{where}.masks.xy", f"expected {n} outlines (one per box), got {len(outlines)}")
    for i, xy in enumerate(outlines):  # Ultralytics gives one array per mask
        src = f"{where}.masks[{i}]"
        outline = to_numpy(xy, f"{src}.xy")
        if outline.size and (outline.ndim != 2 or outline.shape[1] != 2):
            raise _bad(f"{src}.xy", f"expected shape (K, 2) x, y, got {_described(outline)}")
        pieces = split_merged(outline.astype(np.float64).reshape(-1, 2))
        label = names[int(cls[i])]
        if not pieces:
            notes.add(Action.DROPPED, Reason.MASK_EMPTY, source=src, frame=frame, label=label,
                      detail="no outline")  # fmt: skip
            continue
        kept, why = pieces_kept(pieces, multipart)
        if why is not None:
            notes.add(why[0], why[1], source=src, frame=frame, label=label, detail=why[2])
        counts = np.fromiter((len(p) for p in kept), np.int64, len(kept))
        keep_track = np.arange(len(kept)) == 0
        shapes.add(Kind.POLYGON, counts, np.concatenate(kept), None, np.full(len(kept), det[i]),
                   1, [src] * len(kept), keep_track)  # fmt: skip


def _keypoint_shapes(
    shapes: Shapes, kpts: Any, det: IntArray, frame: str, names: tuple[str, ...],
    cls: IntArray, threshold: float, notes: Notes, where: str,
) -> None:  # fmt: skip
    xy = to_numpy(kpts.xy, f"{where}.keypoints.xy").astype(np.float64)
    n = len(det)
    if xy.ndim != 3 or xy.shape[0] != n or xy.shape[2] != 2:
        raise _bad(f"{where}.keypoints.xy", f"expected shape ({n}, K, 2), got {xy.shape}")
    k = xy.shape[1]
    conf = optional_numpy(getattr(kpts, "conf", None), f"{where}.keypoints.conf")
    if conf is not None:
        if conf.shape not in ((n, k), (n, k, 1)):
            raise _bad(
                f"{where}.keypoints.conf", f"expected shape ({n}, {k}), got {_described(conf)}"
            )
        visible = conf.reshape(n, k) >= threshold
    else:  # without a confidence channel (0, 0) marks a missing point
        visible = ~((xy[:, :, 0] == 0) & (xy[:, :, 1] == 0))
    counts = visible.sum(axis=1)
    has = counts > 0
    for i in np.flatnonzero(~has).tolist():
        notes.add(
            Action.SKIPPED, Reason.NO_VISIBLE_KEYPOINTS, source=f"{where}.keypoints[{i}]",
            frame=frame, label=names[int(cls[i])],
            detail=f"no point with confidence >= {threshold:g}",
        )  # fmt: skip
    if not has.any():
        return
    number = np.broadcast_to(np.arange(1, k + 1, dtype=np.int64), (n, k))
    rows = np.flatnonzero(has)
    shapes.add(
        Kind.LANDMARK, counts[has], xy[visible], number[visible], det[rows], 2,
        [f"{where}.keypoints[{i}]" for i in rows.tolist()],
    )  # fmt: skip

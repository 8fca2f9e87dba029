"""supervision ``Detections`` -> pixel :class:`~prelabel.annotations.Annotations`
(``Annotations.from_supervision``), duck-typed: supervision is not imported.

What is read, per ``Detections`` (supervision 0.2x-0.3x): ``xyxy`` (N, 4) pixels,
``confidence`` (N,) or None, ``class_id`` (N,) or None, ``tracker_id`` (N,) or None,
``data["class_name"]`` (N,) names where present (``Detections.from_ultralytics`` and most
loaders set it), ``data["xyxyxyxy"]`` (N, 4, 2) the corners of oriented boxes (an OBB
model's; ``xyxy`` is then their enclosing box), and ``mask``: a dense (N, H, W) bool array or a ``CompactMask`` (decoded one
mask at a time), traced with prelabel's tracer as ``Annotations.from_masks`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from prelabel.adapters._arrays import check_flag, optional_numpy, to_numpy
from prelabel.adapters._collect import Shapes
from prelabel.adapters._notes import Notes, check_multipart
from prelabel.adapters.masks import default_min_area, frame_text, mask_source, trace_rows
from prelabel.adapters.ultralytics import obb_shapes
from prelabel.annotations import (
    Annotations,
    Frames,
    Kind,
    _bad,
    _described,
    _Inputs,
    class_names,
)
from prelabel.errors import param
from prelabel.report import Report

ORIENTED = "xyxyxyxy"  # supervision's ORIENTED_BOX_COORDINATES data key: (N, 4, 2) corners


def _detections_list(detections: Any) -> list[Any]:
    if hasattr(detections, "xyxy"):
        return [detections]
    if hasattr(detections, "orig_shape"):
        raise _bad(
            "detections",
            f"expected a Detections or a list of them, got {_described(detections)}: an "
            "Ultralytics Results goes to Annotations.from_ultralytics",
        )
    if isinstance(detections, str | bytes) or not hasattr(detections, "__iter__"):
        raise _bad(
            "detections", f"expected a Detections or a list of them, got {_described(detections)}"
        )
    items = list(detections)
    for i, d in enumerate(items):
        if not hasattr(d, "xyxy"):
            raise _bad(
                f"detections[{i}]", f"expected a supervision Detections, got {_described(d)}"
            )
    if not items:
        raise _bad("detections", "is empty: one Detections per frame is needed")
    return items


def _per_frame(value: Any, n: int, param: str) -> np.ndarray[Any, Any]:
    """A frame size: one positive number for all, or one per Detections."""
    expected = f"one number or {n} (one per Detections) of pixels > 0"
    arr = to_numpy(value, param)
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, (n,))
    if arr.shape != (n,) or arr.dtype.kind not in "iuf":
        raise _bad(param, f"expected {expected}, got {_described(value)}")
    out = arr.astype(np.float64)
    bad = ~(np.isfinite(out) & (out > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise _bad(param if n == 1 else f"{param}[{i}]", f"is {out[i]:g}: expected {expected}")
    return out


def _names(names: Any) -> tuple[str, ...] | None:
    return None if names is None else class_names(names, "names")


def annotations_from_supervision(
    detections: Any,
    *,
    width: Any,
    height: Any,
    names: Sequence[str] | Mapping[int, str] | None,
    sequence: str | None,
    frame_id: Sequence[str] | None,
    src: Sequence[str] | None,
    with_boxes: bool,
    min_area: float | None,
    multipart: str,
    report: Report | None,
) -> Annotations:
    items = _detections_list(detections)
    check_multipart(multipart)
    area = default_min_area(min_area)
    with_boxes = check_flag(with_boxes, "with_boxes")
    nf = len(items)
    w = _per_frame(width, nf, "width")
    h = _per_frame(height, nf, "height")
    class_names = _names(names)
    frames = Frames.build(
        w, h, name=[""] * nf, sequence=sequence or "sequence", frame_id=frame_id, src=src
    )
    chk = _Inputs(None, needs_frames=False)
    labels: list[str] = list(class_names or ())
    position = {name: i for i, name in enumerate(labels)}
    shapes = Shapes()
    notes = Notes(report, "Annotations.from_supervision")
    base = 0
    for f, d in enumerate(items):
        where = f"detections[{f}]" if nf > 1 or not hasattr(detections, "xyxy") else "detections"
        xyxy = to_numpy(d.xyxy, f"{where}.xyxy")
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise _bad(f"{where}.xyxy", f"expected shape (N, 4), got {_described(xyxy)}")
        n = len(xyxy)
        text = _labels(d, n, class_names, where, chk)
        uniq, inverse = np.unique(np.asarray(text, dtype=str), return_inverse=True)
        for name in uniq.tolist():
            if name not in position:
                position[name] = len(labels)
                labels.append(name)
        code = np.asarray([position[name] for name in uniq.tolist()], dtype=np.int64)
        conf = optional_numpy(d.confidence, f"{where}.confidence")
        track = optional_numpy(d.tracker_id, f"{where}.tracker_id")
        shapes.detections(
            f,
            code[inverse.reshape(-1)] if n else np.zeros(0, np.int64),
            None if conf is None else chk.floats(conf.reshape(-1), n, f"{where}.confidence"),
            chk.ints(
                None if track is None else track.reshape(-1),
                n,
                f"{where}.tracker_id",
                fill=-1,
                lo=-1,
                hint="-1 for a detection without a track",
            ),
        )
        det = base + np.arange(n, dtype=np.int64)
        mask = getattr(d, "mask", None)
        data = getattr(d, "data", None)
        oriented = data.get(ORIENTED) if isinstance(data, Mapping) else None
        if n and (mask is None or with_boxes) and oriented is not None:
            # an OBB model's corners (xyxy is only their enclosing box): as from_ultralytics
            what = f"{where}.data['{ORIENTED}']"
            obb_shapes(shapes, to_numpy(oriented, what), det,
                       [f"{what}[{i}]" for i in range(n)], what)  # fmt: skip
        elif n and (mask is None or with_boxes):
            shapes.add_boxes(xyxy, det, [f"{where}.xyxy[{i}]" for i in range(n)])
        if mask is not None and n:
            m, mh, mw, get = mask_source(mask, f"{where}.mask")
            if m != n or mh != int(h[f]) or mw != int(w[f]):
                raise _bad(
                    f"{where}.mask",
                    f"expected shape ({n}, {int(h[f])}, {int(w[f])}) (N, height, width), "
                    f"got ({m}, {mh}, {mw})",
                )
            frame = frame_text(frames, f)
            owner, polys, tracked = trace_rows(
                n, get, min_area=area, multipart=multipart, notes=notes,
                where=_where(f"{where}.mask", frame, text),
            )  # fmt: skip
            if polys:
                counts = np.fromiter((len(p) for p in polys), np.int64, len(polys))
                shapes.add(Kind.POLYGON, counts, np.concatenate(polys), None, det[owner], 1,
                           [f"{where}.mask[{i}]" for i in owner.tolist()], tracked)  # fmt: skip
        base += n
    notes.finish()
    return shapes.build(frames, tuple(labels), "detections.xyxy")


def _where(prefix: str, frame: str, text: list[str]) -> Callable[[int], tuple[str, str, str]]:
    """Mask i's (source, frame, label) for its report rows."""
    return lambda i: (f"{prefix}[{i}]", frame, text[i])


def _labels(d: Any, n: int, names: tuple[str, ...] | None, where: str, chk: _Inputs) -> list[str]:
    """Each detection's label: ``data["class_name"]``, else ``class_id`` into ``names``."""
    if n == 0:
        return []
    data = getattr(d, "data", None)
    if isinstance(data, Mapping) and data.get("class_name") is not None:
        what = f"{where}.data['class_name']"
        text = to_numpy(data["class_name"], what).reshape(-1)
        if len(text) != n:
            raise _bad(what, f"expected {n} names (one per box), got {len(text)}")
        out: list[Any] = text.tolist()
        wrong = [i for i, v in enumerate(out) if not isinstance(v, str)]
        if wrong:
            i = wrong[0]
            raise _bad(f"{what}[{i}]", f"expected a class name (str), got {out[i]!r}")
        return [str(v) for v in out]
    class_id = optional_numpy(d.class_id, f"{where}.class_id")
    if class_id is None:
        raise _bad(f"{where}", "has neither data['class_name'] nor class_id: no labels")
    if names is None:
        raise _bad(
            f"{where}.class_id",
            f"are class ids without data['class_name']: pass {param('names')} (the model's "
            "class names)",
        )
    ids = chk.ints(
        class_id.reshape(-1), n, f"{where}.class_id", lo=0, hi=len(names) - 1,
        range_text=f"the class ids of {param('names')} (0..{len(names) - 1})",
    )  # fmt: skip
    return [names[i] for i in ids.tolist()]

"""The sandbox's annotator: what a team of annotators makes of a job's pre-labels.

:func:`annotate` turns a job payload into the video result object the API serves once the
job is completed (``../shared/spec/api-notes.md`` 2.2)::

    {"data": {"annotation_data": {"annotations": [<tracker>, ...]},
              "video_data": {"frames": <the job's frames, echoed>}}}

Trackers have the shape of ``maker_response.video2d.data.annotations``. Annotators change
pre-labels the way people do, at the rates of :class:`AnnotatorRates` (documented in
``docs/results.md``):

- a tracker is deleted whole (``delete``); of the rest, some are relabelled (``relabel``:
  the tracker and all its shapes get another label of the job, or ``<label>_corrected``
  when the job has one label only);
- each kept shape is nudged (``nudge``): all its points move by the same offset of at most
  ``nudge_px`` pixels per axis on a nominal ``frame_size`` frame (payloads carry no frame
  size), clipped so the shape stays inside the frame; the others stay as they were;
- new trackers are added (``add`` per pre-labelled tracker, at least one in a job with
  none): a rectangle on one frame, with fresh ``_id`` s.

Kept trackers and shapes keep their ``_id``; nothing else is invented. The draws come from a
generator seeded with ``seed`` and the job's ``reference_id``, so a job always gets the same
result for a seed, whatever else the sandbox serves. This is the sandbox, not a hot path:
one job at a time, a loop per shape is fine.
"""

from __future__ import annotations

import copy
import hashlib
import random
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AnnotatorRates:
    """How often annotators change what they were given (see the module docstring)."""

    delete: float = 0.10
    relabel: float = 0.10
    nudge: float = 0.75
    add: float = 0.10
    nudge_px: float = 3.0
    frame_size: tuple[int, int] = (1920, 1080)

    def __post_init__(self) -> None:
        for name in ("delete", "relabel", "nudge", "add"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")
        if self.nudge_px < 0 or min(self.frame_size) <= 0:
            raise ValueError("nudge_px >= 0 and a positive frame_size are required")


def job_rng(reference_id: str, seed: int) -> random.Random:
    """The generator of one job's draws: seeded by ``seed`` and the reference_id only."""
    digest = hashlib.sha256(f"{seed}\x00{reference_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def pre_labels(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The trackers of a job payload (``video2d`` or ``video_2d``), or an empty list."""
    data = job.get("data")
    maker = data.get("maker_response") if isinstance(data, dict) else None
    if not isinstance(maker, dict):
        return []
    video = maker.get("video2d", maker.get("video_2d"))
    inner = video.get("data") if isinstance(video, dict) else None
    annotations = inner.get("annotations") if isinstance(inner, dict) else None
    if not isinstance(annotations, list):
        return []
    return [t for t in annotations if isinstance(t, dict)]


def _frames(job: dict[str, Any]) -> list[Any]:
    data = job.get("data")
    video = data.get("video_data") if isinstance(data, dict) else None
    frames = video.get("frames") if isinstance(video, dict) else None
    return list(frames) if isinstance(frames, list) else []


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _points(shape: dict[str, Any]) -> list[dict[str, Any]]:
    """The point objects of a shape: a rectangle's ``coordinates``, the others' ``points``."""
    pts: list[Any] = []
    if isinstance(shape.get("coordinates"), list):
        pts = shape["coordinates"]
    elif isinstance(shape.get("points"), dict):
        pts = list(shape["points"].values())
    return [p for p in pts if isinstance(p, dict) and _is_num(p.get("x")) and _is_num(p.get("y"))]


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _nudge(shape: dict[str, Any], rng: random.Random, rates: AnnotatorRates) -> None:
    """Move every point of ``shape`` by one offset, kept inside the unit square."""
    pts = _points(shape)
    if not pts:
        return
    w, h = rates.frame_size
    for axis, size in (("x", w), ("y", h)):
        d = rng.uniform(-rates.nudge_px, rates.nudge_px) / size
        lo = min(float(p[axis]) for p in pts)
        hi = max(float(p[axis]) for p in pts)
        d = min(max(d, -lo), 1.0 - hi)  # the whole shape stays in the frame, unclipped
        for p in pts:
            p[axis] = float(p[axis]) + d


def _added(frames: list[Any], labels: list[str], rng: random.Random) -> dict[str, Any] | None:
    """A new one-frame rectangle tracker, or None when the job has no frame ids."""
    ids = [
        f["frame_id"] for f in frames if isinstance(f, dict) and isinstance(f.get("frame_id"), str)
    ]
    if not ids:
        return None
    frame_id = ids[rng.randrange(len(ids))]
    label = labels[rng.randrange(len(labels))] if labels else "object"
    bw, bh = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2)
    x0, y0 = rng.uniform(0.0, 1.0 - bw), rng.uniform(0.0, 1.0 - bh)
    x1, y1 = x0 + bw, y0 + bh
    return {
        "_id": _new_id(rng),
        "type": "rectangle",
        "label": label,
        "frames": {
            frame_id: {
                "_id": _new_id(rng),
                "label": label,
                "coordinates": [
                    {"x": x0, "y": y0},
                    {"x": x1, "y": y0},
                    {"x": x1, "y": y1},
                    {"x": x0, "y": y1},
                ],
            }
        },
    }


def annotate(
    job: dict[str, Any], seed: int = 0, rates: AnnotatorRates | None = None
) -> dict[str, Any]:
    """The result object of a completed ``job`` (see the module docstring); ``job`` is not
    changed."""
    rates = rates or AnnotatorRates()
    ref = job.get("reference_id")
    rng = job_rng(ref if isinstance(ref, str) else "", seed)
    given = pre_labels(job)
    frames = _frames(job)
    labels = sorted({t["label"] for t in given if isinstance(t.get("label"), str)})
    out: list[dict[str, Any]] = []
    for tracker in given:
        # every draw is made for every tracker, so one decision never shifts the others
        deleted = rng.random() < rates.delete
        relabelled = rng.random() < rates.relabel
        pick = rng.random()
        if deleted:
            continue
        t = copy.deepcopy(tracker)
        old = t.get("label")
        if relabelled and isinstance(old, str):
            others = [x for x in labels if x != old]
            new = others[int(pick * len(others))] if others else f"{old}_corrected"
            t["label"] = new
        shapes = t.get("frames")
        if isinstance(shapes, dict):
            for shape in shapes.values():
                if not isinstance(shape, dict):
                    continue
                if relabelled and isinstance(old, str):
                    shape["label"] = t["label"]
                if rng.random() < rates.nudge:
                    _nudge(shape, rng, rates)
        out.append(t)
    added = sum(rng.random() < rates.add for _ in given) if given else 1
    for _ in range(added):
        extra = _added(frames, labels, rng)
        if extra is not None:
            out.append(extra)
    return {
        "data": {
            "annotation_data": {"annotations": out},
            "video_data": {"frames": copy.deepcopy(frames)},
        }
    }

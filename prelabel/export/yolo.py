"""Jobs -> an Ultralytics YOLO data set: ``data.yaml`` and ``labels/<image>.txt`` per frame.

| payload | YOLO |
|---|---|
| label | class id: its position in ``names`` of ``data.yaml`` (first-seen order) |
| frame | ``labels/<name>.txt`` (``images/a/b.jpg`` -> ``labels/a/b.txt``, Ultralytics' ``img2label_paths``); a frame without shapes gets an empty file, so it stays a frame |
| rectangle | ``cls xc yc w h`` of its bounds, fractions of the frame |
| polygon | ``cls x1 y1 ... xn yn``, fractions of the frame |
| tracker (``--track-ids``) | a last column, the tracker's number from 1 (as ``yolo track`` writes ids) |
| line, cuboid, landmark | not written: skipped, one report row each (``kind_not_in_format``) |
| ``attributes`` | no place in a row: one ``noted`` report row counts the shapes that had some |

Coordinates are the payload's fractions (x / W, y / H) written as the shortest text that
reads back to the same float, so no frame size is needed. Images are not copied: put (or
link) them at ``images/<name>`` so that readers find their sizes.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import PurePosixPath

import numpy as np
import orjson

from prelabel._ragged import offsets_from_counts, position_in_run, run_owner
from prelabel.annotations import Kind
from prelabel.errors import InputError
from prelabel.export._input import (
    ExportResult,
    JobsInput,
    PathLikeStr,
    frame_names,
    jobs_of,
    output_folder,
    report_skipped,
)
from prelabel.report import Action, Reason

YOLO_KINDS = (Kind.RECTANGLE, Kind.POLYGON)


def label_path(name: str) -> str:
    """The label file of an image name: the last ``images`` folder becomes ``labels`` (or
    ``labels/`` is put in front), the suffix ``.txt``."""
    parts = list(PurePosixPath(name).parts)
    if "images" in parts[:-1]:
        k = len(parts) - 2 - parts[:-1][::-1].index("images")
        parts[k] = "labels"
    else:
        parts.insert(0, "labels")
    p = PurePosixPath(*parts)
    return str(p.with_suffix(".txt")) if p.suffix else f"{p}.txt"


def _texts(values: np.ndarray) -> list[str]:
    """Each float as its shortest round-trip text, in one call."""
    if not len(values):
        return []
    raw = orjson.dumps(
        np.ascontiguousarray(values, dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY
    )
    return raw[1:-1].decode().split(",")


def export_yolo(
    jobs: JobsInput,
    output: PathLikeStr,
    *,
    track_ids: bool = False,
    sizes: PathLikeStr | None = None,
    images: PathLikeStr | None = None,
) -> ExportResult:
    """Write ``jobs`` as a YOLO data set in the folder ``output``."""
    result = ExportResult.of_input(jobs)
    jobs = jobs_of(jobs, sizes, images, need_sizes=False)
    root = output_folder(output)
    names: dict[str, int] = {}
    seen: dict[str, str] = {}
    track_base = 0
    attributed = 0
    made: set[str] = set()
    for job in jobs:
        result.jobs += 1
        ann = job.annotations
        frames = job.frames
        held = np.isin(ann.kind, YOLO_KINDS)
        report_skipped(
            result.report,
            job,
            ~held,
            Reason.KIND_NOT_IN_FORMAT,
            "YOLO detect/segment rows hold boxes and polygons only",
        )
        keep = np.flatnonzero(held)
        with_attrs = sum(1 for a in ann.attributes[keep].tolist() if a)
        attributed += with_attrs
        labels = [ann.labels[i] for i in ann.label[keep].tolist()]
        cls = [names.setdefault(n, len(names)) for n in labels]
        # fractions of the frame, whatever units the table is in
        sub = ann[keep]
        size = np.column_stack([frames.width, frames.height])[np.repeat(sub.frame, sub.counts)]
        frac = sub.points / size
        rows = _rows(sub.kind, sub.offsets, frac, cls)
        if track_ids:
            ids = (sub.track + track_base + 1).tolist()
            rows = [f"{r} {t}" for r, t in zip(rows, ids, strict=True)]
        order = np.argsort(sub.frame, kind="stable")
        per_frame = np.bincount(sub.frame, minlength=len(frames))
        bounds = offsets_from_counts(per_frame).tolist()
        ordered = [rows[i] for i in order.tolist()]
        rels = [label_path(name) for name in frame_names(job)]
        for rel, name in zip(rels, frame_names(job), strict=True):
            parts = PurePosixPath(rel).parts
            if PurePosixPath(rel).is_absolute() or ".." in parts:
                # a name made of a reference_id (no sizes given) is input: never a way out
                where = "$.reference_id" if job.line is None else f"{job.line}: $.reference_id"
                raise InputError(
                    job.path,
                    where,
                    f"frame {name!r} of job {job.reference_id!r} would be written at {rel!r}, "
                    "outside the output folder",
                )
            if rel in seen:
                raise InputError(
                    output, rel, f"frames {seen[rel]!r} and {name!r} would share one label file"
                )
            seen[rel] = name
        for folder in {posixpath.dirname(r) for r in rels} - made:
            (root / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        base = str(root)
        for f, rel in enumerate(rels):
            text = "\n".join(ordered[bounds[f] : bounds[f + 1]])
            target = os.path.join(base, rel)
            _write_small(target, (text + "\n").encode() if text else b"")
            result.files.append(target)
        result.frames += len(frames)
        result.shapes += len(keep)
        track_base += len(job.tracker_ids)
    if attributed:
        result.report.add(
            Action.NOTED,
            Reason.ATTRIBUTES_NOT_IN_FORMAT,
            detail=f"{attributed:,} shape(s) written without their attributes: YOLO rows hold none",
        )
    yaml = [
        "# written by prelabel export yolo",
        "path: .",
        "train: images",
        "val: images",
        "names:",
    ]
    yaml += [f"  {i}: {orjson.dumps(n).decode()}" for n, i in names.items()]
    (root / "data.yaml").write_text("\n".join(yaml) + "\n")
    result.files.insert(0, str(root / "data.yaml"))
    return result


def _write_small(path: str, data: bytes) -> None:
    """One label file: a plain open, write, close (10k frames make 10k of them)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _rows(kind: np.ndarray, offsets: np.ndarray, frac: np.ndarray, cls: list[int]) -> list[str]:
    """One text row per shape: ``cls xc yc w h`` for rectangles, ``cls x1 y1 ...`` else."""
    n = len(kind)
    rect = kind == Kind.RECTANGLE
    counts = np.diff(offsets)
    # per shape its numbers: 4 for a rectangle, 2 per point for a polygon
    lo = np.full((n, 2), np.nan)
    hi = np.full((n, 2), np.nan)
    has = counts > 0
    if has.any():
        lo[has] = np.minimum.reduceat(frac, offsets[:-1][has], axis=0)
        hi[has] = np.maximum.reduceat(frac, offsets[:-1][has], axis=0)
    box = np.column_stack([(lo + hi) / 2, hi - lo])
    value_counts = np.where(rect, 4, 2 * counts)
    values = np.empty(int(value_counts.sum()))
    vstart = offsets_from_counts(value_counts)
    owner = run_owner(value_counts)
    within = position_in_run(value_counts)
    on_rect = rect[owner]
    values[on_rect] = box[owner[on_rect], within[on_rect]]
    poly = ~on_rect
    values[poly] = frac.ravel()[2 * offsets[:-1][owner[poly]] + within[poly]]
    texts = _texts(values)
    vs = vstart.tolist()
    return [f"{c} " + " ".join(texts[vs[i] : vs[i + 1]]) for i, c in enumerate(cls)]

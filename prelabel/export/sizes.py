"""Frame sizes (and names) for export: the sidecar ``convert`` writes, or image headers.

A payload holds normalised coordinates and no pixel sizes, so ``convert`` records each job's
frames next to the jobs file: ``jobs.jsonl`` -> ``jobs.sizes.json``::

    {"format": "prelabel-frames", "version": 1,
     "jobs": {"<reference_id>": {"sequence": "cam1", "frame_id": [...], "name": [...],
                                 "index": [...], "width": [...], "height": [...]}}}

Columns are in the job's frame order. Besides the sizes it keeps what the payload has lost
and an export needs to write the same files again: each frame's image name (relative path)
and the sequence and position it had. ``--images DIR`` is the other way in: each frame's
image is found in DIR by its ``src`` path (the longest tail of the URL path that names a file
under DIR, else the file name when it is unique there), the size read from its header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

import numpy as np
import orjson

from prelabel.annotations import Annotations, Frames
from prelabel.errors import InputError
from prelabel.formats.payload import JobContent
from prelabel.imagesize import IMAGE_SUFFIXES, image_size
from prelabel.jobs import JobOptions, _reference_ids
from prelabel.jsonio import load_json
from prelabel.trackers import layout_jobs
from prelabel.writer import write_atomic

FORMAT = "prelabel-frames"
VERSION = 1


def sidecar_path(jobs_path: str | PathLike[str]) -> Path:
    """``jobs.jsonl`` -> ``jobs.sizes.json`` (the same folder)."""
    p = Path(jobs_path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(f"{stem}.sizes.json")


def frames_record(frames: Frames, options: JobOptions = JobOptions()) -> dict[str, Any]:
    """The sidecar document of ``frames`` as the jobs of ``options`` cut them."""
    layout = layout_jobs(frames, options.frames_per_job)
    ref_ids = _reference_ids(layout, options)
    off = layout.job_frame_offsets.tolist()
    cols = {
        "frame_id": frames.frame_id[layout.frame_order].tolist(),
        "name": frames.name[layout.frame_order].tolist(),
        "index": frames.index[layout.frame_order].tolist(),
        "width": frames.width[layout.frame_order].tolist(),
        "height": frames.height[layout.frame_order].tolist(),
    }
    jobs: dict[str, Any] = {}
    for j, ref in enumerate(ref_ids):
        a, b = off[j], off[j + 1]
        entry: dict[str, Any] = {"sequence": layout.job_sequence[j]}
        entry.update({k: v[a:b] for k, v in cols.items()})
        jobs[ref] = entry
    return {"format": FORMAT, "version": VERSION, "jobs": jobs}


def write_sidecar(
    jobs_path: str | PathLike[str], ann: Annotations, options: JobOptions = JobOptions()
) -> Path | None:
    """Write the sidecar of the jobs written to ``jobs_path`` (None for stdout: no sidecar)."""
    if str(jobs_path) == "-":
        return None
    target = sidecar_path(jobs_path)
    data = orjson.dumps(frames_record(ann.frames, options)) + b"\n"

    def _write(f: BinaryIO) -> None:
        f.write(data)

    write_atomic(target, _write)
    return target


FrameTable = Mapping[str, Mapping[str, Sequence[Any]]]


def load_sidecar(path: str | PathLike[str]) -> dict[str, dict[str, list[Any]]]:
    """The ``jobs`` of a sidecar file, checked: one InputError naming the file and key."""
    doc = load_json(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(path, "$.format", f"not a frame-sizes file (expected {FORMAT!r})")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict):
        raise InputError(path, "$.jobs", "expected an object of reference_id -> frames")
    for ref, entry in jobs.items():
        where = f"$.jobs.{ref}"
        if not isinstance(entry, dict):
            raise InputError(path, where, "expected an object")
        cols = [entry.get(k) for k in ("frame_id", "width", "height")]
        if not all(isinstance(c, list) for c in cols):
            raise InputError(path, where, "needs lists frame_id, width and height")
        n = len(entry["frame_id"])
        for key in ("width", "height", "name", "index"):
            if key in entry and (not isinstance(entry[key], list) or len(entry[key]) != n):
                raise InputError(path, f"{where}.{key}", f"expected a list of {n} values")
        for key in ("width", "height"):
            v = np.asarray(entry[key], dtype=object)
            ok = [type(x) in (int, float) and x > 0 for x in v.tolist()]
            if not all(ok):
                i = ok.index(False)
                raise InputError(path, f"{where}.{key}[{i}]", "expected a positive number")
    return jobs


def with_sidecar(job: JobContent, jobs: FrameTable, path: str | PathLike[str]) -> JobContent:
    """``job`` with its frames' sizes, names, sequence and index from a sidecar's ``jobs``."""
    entry = jobs.get(job.reference_id)
    if entry is None:
        raise InputError(path, f"$.jobs.{job.reference_id}", "no frames recorded for this job")
    ids = list(entry["frame_id"])
    row = {fid: i for i, fid in enumerate(ids)}
    at = np.fromiter((row.get(f, -1) for f in job.frames.frame_id.tolist()), np.int64)
    if (at < 0).any():
        missing = job.frames.frame_id[int(np.flatnonzero(at < 0)[0])]
        raise InputError(
            path, f"$.jobs.{job.reference_id}.frame_id", f"frame {missing!r} is not recorded"
        )
    frames = job.frames
    name = np.asarray(entry.get("name", [""] * len(ids)), dtype=object)[at]
    index = np.asarray(entry.get("index", range(len(ids))), dtype=np.int64)[at]
    seq = entry.get("sequence", job.reference_id)
    new = replace(
        frames,
        width=np.asarray(entry["width"], dtype=np.float64)[at],
        height=np.asarray(entry["height"], dtype=np.float64)[at],
        name=name,
        index=index,
        sequence=np.full(len(frames), seq, dtype=object),
    )
    return _with_frames(job, new)


def with_images(job: JobContent, images: str | PathLike[str], files: ImageIndex) -> JobContent:
    """``job`` with sizes read from the image of each frame under ``images``."""
    names = [
        files.find(src, fid) for src, fid in zip(job.frames.src, job.frames.frame_id, strict=True)
    ]
    w = np.empty(len(names))
    h = np.empty(len(names))
    for i, name in enumerate(names):
        if name is None:
            raise InputError(
                images,
                None,
                f"no image for frame {job.frames.frame_id[i]!r} of job {job.reference_id!r} "
                f"(src {job.frames.src[i]!r})",
            )
        w[i], h[i] = image_size(Path(images) / name)
    new = replace(job.frames, width=w, height=h, name=np.asarray(names, dtype=object))
    return _with_frames(job, new)


def _with_frames(job: JobContent, frames: Frames) -> JobContent:
    return replace(job, frames=frames, annotations=replace(job.annotations, frames=frames))


class ImageIndex:
    """The image files under a folder, by relative path and by file name."""

    def __init__(self, root: str | PathLike[str]) -> None:
        base = Path(root)
        if not base.is_dir():
            raise InputError(root, None, "not a folder of images")
        self.paths: set[str] = set()
        self.by_name: dict[str, list[str]] = {}
        self.by_stem: dict[str, list[str]] = {}
        for p in base.rglob("*"):
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
                rel = p.relative_to(base).as_posix()
                self.paths.add(rel)
                self.by_name.setdefault(p.name, []).append(rel)
                self.by_stem.setdefault(p.stem, []).append(rel)

    def find(self, src: str, frame_id: str) -> str | None:
        """The image of a frame: the longest tail of its src's path that is a file here, else
        its file name when one file has it, else a file named after the frame_id."""
        parts = PurePosixPath(unquote(urlsplit(src).path)).parts if src else ()
        for k in range(len(parts)):
            tail = "/".join(p for p in parts[k:] if p != "/")
            if tail in self.paths:
                return tail
        if parts and len(self.by_name.get(parts[-1], [])) == 1:
            return self.by_name[parts[-1]][0]
        stems = self.by_stem.get(frame_id, [])
        return stems[0] if len(stems) == 1 else None

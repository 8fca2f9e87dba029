"""Frame sizes (and names) for export: the sidecar ``convert`` writes, or image headers.

A payload holds normalised coordinates and no pixel sizes, so ``convert`` records each job's
frames next to the jobs file: ``jobs.jsonl`` -> ``jobs.sizes.json``::

    {"format": "prelabel-frames", "version": 1,
     "jobs": {"<reference_id>": {"sequence": "cam1", "frame_id": [...], "name": [...],
                                 "index": [...], "width": [...], "height": [...]}}}

Columns are in the job's frame order. The document is written a job at a time
(:func:`job_entry`, :class:`SidecarWriter`), so :class:`prelabel.JobSink` writes the same
bytes as ``convert`` while holding one job's frames. Besides the sizes it keeps what the
payload has lost and an export needs to write the same files again: each frame's image name (relative path)
and the sequence and position it had. ``--images DIR`` is the other way in: each frame's
image is found in DIR by its ``src`` path (the longest tail of the URL path that names a file
under DIR, else the file name when it is unique there), the size read from its header.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt
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


# the document around the jobs' entries: what orjson.dumps writes for
# {"format": FORMAT, "version": VERSION, "jobs": {...}}, a newline after it
_HEAD = b'{"format":' + orjson.dumps(FORMAT) + b',"version":' + orjson.dumps(VERSION) + b',"jobs":{'
_TAIL = b"}}\n"


def _columns(frames: Frames, order: npt.NDArray[np.int64] | slice = slice(None)) -> dict[str, Any]:
    return {
        "frame_id": frames.frame_id[order].tolist(),
        "name": frames.name[order].tolist(),
        "index": frames.index[order].tolist(),
        "width": frames.width[order].tolist(),
        "height": frames.height[order].tolist(),
    }


def _jobs(frames: Frames, options: JobOptions) -> Iterator[tuple[str, dict[str, Any]]]:
    """(reference_id, entry) of each job of ``frames`` as ``options`` cut them."""
    layout = layout_jobs(frames, options.frames_per_job)
    ref_ids = _reference_ids(layout, options)
    off = layout.job_frame_offsets.tolist()
    cols = _columns(frames, layout.frame_order)
    for j, ref in enumerate(ref_ids):
        a, b = off[j], off[j + 1]
        entry: dict[str, Any] = {"sequence": layout.job_sequence[j]}
        entry.update({k: v[a:b] for k, v in cols.items()})
        yield ref, entry


def frames_record(frames: Frames, options: JobOptions = JobOptions()) -> dict[str, Any]:
    """The sidecar document of ``frames`` as the jobs of ``options`` cut them."""
    return {"format": FORMAT, "version": VERSION, "jobs": dict(_jobs(frames, options))}


def job_entry(reference_id: str, sequence: str, frames: Frames) -> bytes:
    """One job's ``"reference_id":{...}`` in the sidecar's ``jobs``; ``frames`` are the
    job's, in its frame order."""
    entry: dict[str, Any] = {"sequence": sequence}
    entry.update(_columns(frames))
    return orjson.dumps(reference_id) + b":" + orjson.dumps(entry)


def write_sidecar(
    jobs_path: str | PathLike[str], ann: Annotations, options: JobOptions = JobOptions()
) -> Path | None:
    """Write the sidecar of the jobs written to ``jobs_path`` (None for stdout: no sidecar)."""
    if str(jobs_path) == "-":
        return None
    target = sidecar_path(jobs_path)

    def _write(f: BinaryIO) -> None:
        f.write(_HEAD)
        for j, (ref, entry) in enumerate(_jobs(ann.frames, options)):
            if j:
                f.write(b",")
            f.write(orjson.dumps(ref) + b":" + orjson.dumps(entry))
        f.write(_TAIL)

    write_atomic(target, _write)
    return target


class SidecarWriter:
    """The sidecar of a jobs file written as the jobs are: :meth:`add` each job's entry
    (:func:`job_entry`) when its line is written, :meth:`close` at the end.

    Entries wait in an anonymous temporary file, not in memory; :meth:`close` writes the
    document atomically (temporary file + rename, as every output), so a reader never sees
    half of it. ``jobs_path`` ``-`` (standard output) has no sidecar: every call is a no-op.
    """

    def __init__(self, jobs_path: str | PathLike[str]) -> None:
        self.target = None if str(jobs_path) == "-" else sidecar_path(jobs_path)
        self.jobs = 0
        self._parts: IO[bytes] | None = None

    def add(self, entry: bytes) -> None:
        """Append one job's entry."""
        if self.target is None:
            return
        if self._parts is None:
            # open from the first job to close() or discard(), not one block
            self._parts = tempfile.TemporaryFile()  # noqa: SIM115
        if self.jobs:
            self._parts.write(b",")
        self._parts.write(entry)
        self.jobs += 1

    def close(self) -> Path | None:
        """Write the sidecar of the jobs added (the file; None for standard output)."""
        if self.target is None:
            return None
        parts = self._parts

        def _write(f: BinaryIO) -> None:
            f.write(_HEAD)
            if parts is not None:
                parts.flush()
                parts.seek(0)
                shutil.copyfileobj(parts, f, 1 << 20)
            f.write(_TAIL)

        try:
            write_atomic(self.target, _write)
        finally:
            self.discard()
        return self.target

    def discard(self) -> None:
        """Let the entries go without writing the sidecar."""
        if self._parts is not None:
            self._parts.close()
            self._parts = None


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
        _check_entry(path, f"$.jobs{_key(ref)}", entry)
    return jobs


# the largest frame side taken from a sidecar (as MOT's seqinfo is held): a size is checked
# before anything is made of it
MAX_SIDE = 2**31


def _key(k: str) -> str:
    """A key in a JSON path: ``.cam1``, or ``["a b"]``."""
    return f".{k}" if k.isidentifier() else f"[{orjson.dumps(k).decode()}]"


def _typed(values: Sequence[Any], *allowed: type) -> npt.NDArray[np.bool_]:
    """Per value, whether its type is one of ``allowed`` (exactly: a bool is no int)."""
    types = np.fromiter(map(type, values), dtype=object, count=len(values))
    return np.isin(types, np.asarray(allowed, dtype=object))


def _first_bad(ok: npt.NDArray[np.bool_]) -> int | None:
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if len(bad) else None


def _check_entry(path: str | PathLike[str], where: str, entry: Any) -> None:
    """One job's columns: lists of one length, ids unique strings, sizes in (0, 2**31],
    names relative paths inside the export (no ``..``), indexes integers."""
    if not isinstance(entry, dict):
        raise InputError(path, where, "expected an object")
    cols = [entry.get(k) for k in ("frame_id", "width", "height")]
    if not all(isinstance(c, list) for c in cols):
        raise InputError(path, where, "needs lists frame_id, width and height")
    n = len(entry["frame_id"])
    for key in ("width", "height", "name", "index"):
        if key in entry and (not isinstance(entry[key], list) or len(entry[key]) != n):
            raise InputError(path, f"{where}.{key}", f"expected a list of {n} values")
    if "sequence" in entry and not isinstance(entry["sequence"], str):
        raise InputError(path, f"{where}.sequence", "expected a string")
    ids = entry["frame_id"]
    i = _first_bad(_typed(ids, str))
    if i is not None:
        raise InputError(path, f"{where}.frame_id[{i}]", "expected a string")
    if len(set(ids)) != n:
        _, first, counts = np.unique(
            np.asarray(ids, dtype=str), return_index=True, return_counts=True
        )
        j = int(np.sort(first[counts > 1])[0])
        again = j + 1 + ids[j + 1 :].index(ids[j])
        raise InputError(path, f"{where}.frame_id[{again}]", f"frame_id {ids[j]!r} repeated")
    for key in ("width", "height"):
        col = entry[key]
        numeric = _typed(col, int, float)
        values = np.zeros(n)
        values[numeric] = np.asarray([col[k] for k in np.flatnonzero(numeric)], dtype=float)
        i = _first_bad(numeric & (values > 0) & (values <= MAX_SIDE))
        if i is not None:
            raise InputError(
                path, f"{where}.{key}[{i}]", f"expected a positive number up to {MAX_SIDE:,}"
            )
    if "index" in entry:
        col = entry["index"]
        i = _first_bad(_typed(col, int))
        if i is None:
            i = _first_bad(np.abs(np.asarray(col, dtype=float)) < 2**62)
        if i is not None:
            raise InputError(path, f"{where}.index[{i}]", "expected an integer")
    if "name" in entry:
        names = entry["name"]
        i = _first_bad(_typed(names, str))
        if i is not None:
            raise InputError(path, f"{where}.name[{i}]", "expected a string")
        i = next((k for k, name in enumerate(names) if not _inside(name)), None)
        if i is not None:
            raise InputError(
                path,
                f"{where}.name[{i}]",
                f"{names[i]!r} is not a relative path inside the export (absolute, or with ..)",
            )


def _inside(name: str) -> bool:
    """A relative image name that stays inside a folder (no root, no ``..`` part)."""
    if not name:
        return True
    p = PurePosixPath(name.replace("\\", "/"))
    return not p.is_absolute() and ".." not in p.parts


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

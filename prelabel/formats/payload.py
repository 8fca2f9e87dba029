"""Payloads and results back into the IR: what ``export`` and ``compare`` read.

Two inputs carry the same trackers (``{"_id", "type", "label", "frames": {frame_id: object}}``,
objects as :doc:`payload.md <../../docs/payload>` describes them):

- a payload JSON Lines file, as ``prelabel convert`` writes it: one job per line, trackers at
  ``data.maker_response.video2d.data.annotations`` (``video_2d`` accepted, not both);
- a result JSON, the platform's video result: trackers at ``data.annotation_data.annotations``
  and the job's frames echoed at ``data.video_data.frames`` (API notes 2.2).

Each job becomes one :class:`JobContent`:

- ``reference_id``: the job's (a result without one is named by its file's stem,
  percent-decoded, as ``results fetch`` saves ``<reference_id>.json``);
- ``frames``: :class:`Frames` of ``data.video_data.frames`` in their order: ``frame_id``,
  ``src``, ``sequence`` = the reference_id, ``index`` = position; ``name`` is "" and
  ``width``/``height`` are NaN (a payload has no pixel sizes: :mod:`prelabel.export.sizes`
  fills them from the sidecar ``convert`` writes, ``--sizes`` or ``--images``);
- ``annotations``: normalised :class:`Annotations` over those frames, one shape per
  (tracker, frame) object, trackers in file order and each tracker's frames in key order;
  ``kind`` from the tracker's ``type``, ``label`` the object's own (a per-frame relabel is
  kept; the tracker's label when the object has none), ``track`` the tracker's row in
  ``tracker_ids``, ``attributes`` unwrapped (``{"name": {"value": v}}`` -> ``{"name": v}``;
  a value object with more keys than ``value``, e.g. ``state``, is kept whole), landmark
  point numbers in ``point_label``, ``source`` the object's JSON path;
- ``tracker_ids``: the trackers' ``_id``s (a tuple of strings);
- ``object_ids``: per shape, the object's ``_id`` ("" when it has none);
- ``path`` and ``line``: where the job was read (``line`` None for a result file);
- ``edges``: per shape, a polygon's ``edges`` as pairs of rows of its points (None for
  other kinds and for a polygon without ``edges``), when asked for (else None).

A job without ``maker_response`` (or with ``null``, as ``validate`` allows) has no shapes.
:func:`payload_jobs` gives each job as a :class:`JobDocument` before it is read: its
``reference_id`` at once, its frames and then the objects of all or only some frames on
demand (a preview reads the objects of the few frames it draws, so the Python work on a
10k-frame job is per tracker and per drawn object, not per object).

Coordinates are gathered without Python code per point: the point objects of a job are
chained and read with ``operator.itemgetter`` (C iteration) into one numpy array; only when
that fails (a missing key, a string where a number should be) is the job walked point by
point to name the first bad value. Coordinates must be finite and in [0, 1], as ``validate``
checks them (a result is held to the payload's rule: a value of 1e308 would overflow once
multiplied by a frame size). Bad input raises one :class:`InputError` naming the file,
the line (JSON Lines) and the JSON path.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
import orjson

from prelabel._ragged import offsets_from_counts
from prelabel.annotations import Annotations, Frames, Kind
from prelabel.errors import InputError
from prelabel.jsonio import load_json
from prelabel.order import natural_order
from prelabel.urls import is_url

ObjArray = npt.NDArray[np.object_]
# a polygon's edges as pairs of rows of its points
Edges = tuple[tuple[int, int], ...]

PAYLOAD_TRACKERS = ("data", "maker_response", "video2d", "data", "annotations")
RESULT_TRACKERS = ("data", "annotation_data", "annotations")

_KINDS = {k.type_name: k for k in Kind}
# exact point counts (rectangle, cuboid) and minimums (the others), as validate checks them
_EXACT = {Kind.RECTANGLE: 4, Kind.CUBOID: 8}
_MINIMUM = {Kind.POLYGON: 3, Kind.LINE: 2, Kind.LANDMARK: 1}
_XY = itemgetter("x", "y")
_LABEL = itemgetter("label")
_POINT_KEY = re.compile(r"p([1-9][0-9]*)")
# landmark point labels are held as int32 (Annotations.point_label)
_LABEL_MIN, _LABEL_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True, eq=False)
class JobContent:
    """One job read back: its frames, its shapes (normalised), its tracker and object ids."""

    reference_id: str
    frames: Frames
    annotations: Annotations
    tracker_ids: tuple[str, ...]
    object_ids: ObjArray
    path: str
    line: int | None = None
    edges: tuple[Edges | None, ...] | None = None

    def __len__(self) -> int:
        return len(self.annotations)


# --- public readers -------------------------------------------------------------------------
def payload_jobs(path: str | PathLike[str]) -> Iterator[JobDocument]:
    """The jobs of a payload JSON Lines file, one :class:`JobDocument` per non-blank line,
    parsed and not yet read (nothing of the reader holds one once the next is asked for).

    The file is mapped, not read: each line goes to orjson as a view of the mapping, so a
    job of hundreds of megabytes is never copied into a bytes object first."""
    try:
        with Path(path).open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                view = memoryview(mm)
                try:
                    yield from _lines(mm, view, size, str(path))
                finally:
                    view.release()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None


def read_payload(path: str | PathLike[str]) -> Iterator[JobContent]:
    """The jobs of a payload JSON Lines file, one :class:`JobContent` per non-blank line."""
    for job in payload_jobs(path):
        content = job.content()
        del job  # the parsed JSON is let go before the caller works on the content
        yield content


def _lines(mm: mmap.mmap, view: memoryview, size: int, path: str) -> Iterator[JobDocument]:
    start, number = 0, 0
    while start < size:
        end = mm.find(b"\n", start)
        end = size if end < 0 else end
        number += 1
        # a blank line is short; only short lines are looked at for it
        if end - start > 64 or mm[start:end].strip():
            yield _document(view[start:end], path, number)  # not kept here while yielded
        start = end + 1


def _document(piece: memoryview, path: str, number: int) -> JobDocument:
    try:
        return JobDocument(_parse(piece, path, number), path, number)
    finally:
        piece.release()  # the mapping can close even while an error is raised


def read_result(path: str | PathLike[str]) -> JobContent:
    """One result JSON (``data.annotation_data.annotations`` + ``data.video_data.frames``)."""
    doc = load_json(path)
    # results fetch names files by the percent-encoded reference_id (a/b -> a%2Fb.json) and
    # reads them back with unquote of the name less ".json" (submit.results.saved_results)
    stem = unquote(Path(path).stem)
    return JobDocument(doc, str(path), None, stem=stem, payload=False).content()


def result_files(folder: str | PathLike[str]) -> list[Path]:
    """The ``*.json`` files of a results folder, in natural name order."""
    return _folder_entries(folder)[0]


def ignored_entries(folder: str | PathLike[str]) -> list[str]:
    """The entries of a results folder that are not read (a subfolder, a file not named
    ``*.json``), as names (a folder's with a trailing ``/``), in natural order: the callers
    count and name them, none is dropped unsaid."""
    return _folder_entries(folder)[1]


def _folder_entries(folder: str | PathLike[str]) -> tuple[list[Path], list[str]]:
    root = Path(folder)
    if not root.is_dir():
        raise InputError(folder, None, "not a folder of result files")
    files: list[Path] = []
    other: list[str] = []
    try:
        for p in root.iterdir():
            if p.suffix.lower() == ".json" and p.is_file():
                files.append(p)
            else:
                other.append(f"{p.name}/" if p.is_dir() else p.name)
    except OSError as exc:
        raise InputError(folder, None, f"cannot read: {exc.strerror or exc}") from None
    order = natural_order([p.name for p in files])
    return [files[int(i)] for i in order], [other[int(i)] for i in natural_order(other)]


def read_results(folder: str | PathLike[str]) -> Iterator[JobContent]:
    """Every result in a folder (``<reference_id>.json`` as ``results fetch`` saves them).

    Two files of one reference_id (``a.json`` and ``b.json`` both saying ``"reference_id":
    "a"``) are one error naming the second: which one is the job's is not for a reader to
    guess, and export would write the job twice."""
    first: dict[str, Path] = {}
    for file in result_files(folder):
        job = read_result(file)
        if job.reference_id in first:
            raise InputError(
                file,
                None,
                f"a second result for reference_id {job.reference_id!r} "
                f"(the first is {first[job.reference_id].name})",
            )
        first[job.reference_id] = file
        yield job


def read_jobs(path: str | PathLike[str]) -> Iterator[JobContent]:
    """A results folder, a single result ``.json`` or a payload JSON Lines file."""
    p = Path(path)
    if p.is_dir():
        yield from read_results(p)
    elif p.suffix.lower() == ".json":
        yield read_result(p)
    else:
        lines: dict[str, int | None] = {}
        for job in read_payload(p):
            if job.reference_id in lines:  # as validate says it
                raise InputError(
                    p,
                    f"{job.line}: $.reference_id",
                    f"reference_id {job.reference_id!r} repeated (first on line "
                    f"{lines[job.reference_id]})",
                )
            lines[job.reference_id] = job.line
            yield job


class JobDocument:
    """One parsed job (a payload line, or a result file with ``payload=False``), read on
    demand: its ``reference_id`` is checked when it is made, :meth:`frames` and
    :meth:`content` read the rest. ``stem`` names a result that has no reference_id."""

    def __init__(
        self,
        doc: Any,
        path: str,
        line: int | None,
        *,
        stem: str | None = None,
        payload: bool = True,
    ) -> None:
        self.where = _Where(path, line)
        if not isinstance(doc, dict):
            what = "job" if payload else "result"
            raise self.where.error("$", f"expected a {what} (a JSON object)")
        self.doc: dict[str, Any] = doc
        self.path = path
        self.line = line
        self.payload = payload
        self.reference_id = _reference_id(doc, stem, self.where)
        self._frames: tuple[Frames, dict[str, int]] | None = None

    def frames(self) -> Frames:
        """The job's :class:`Frames` (``data.video_data.frames``), read once."""
        return self._frame_rows()[0]

    def _frame_rows(self) -> tuple[Frames, dict[str, int]]:
        if self._frames is None:
            self._frames = _frames(self.doc, self.reference_id, self.where)
        return self._frames

    def content(self, only: Collection[str] | None = None, *, edges: bool = False) -> JobContent:
        """The job's shapes as a :class:`JobContent` (see the module doc).

        ``only``: the frame ids whose objects are read (None: all). Every tracker and every
        tracker frame key is still checked; the objects of other frames are not looked at.
        ``edges``: read the polygons' ``edges`` too (:attr:`JobContent.edges`)."""
        frames, frame_row = self._frame_rows()
        return _content(self, frames, frame_row, None if only is None else set(only), edges)


# --- one job ----------------------------------------------------------------------------------
def _parse(raw: memoryview, path: str, line: int) -> Any:
    """One line of a payload file (as :func:`prelabel.jsonio.parse_json`, with a hint for a
    pretty-printed job, which fails on its first line)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        hint = " (a payload is JSON Lines: one job per line)" if line == 1 else ""
        raise InputError(
            path, str(line), f"invalid JSON at column {exc.colno}: {exc.msg}{hint}"
        ) from None


class _Where:
    """Builds ``InputError``s at a JSON path of one job."""

    def __init__(self, path: str, line: int | None) -> None:
        self.path = path
        self.line = line

    def error(self, json_path: str, message: str) -> InputError:
        location = json_path if self.line is None else f"{self.line}: {json_path}"
        return InputError(self.path, location, message)


def _key(k: str) -> str:
    """A key in a JSON path as ``validate`` writes it: ``.f1``, or ``["frame 1"]``."""
    return f".{k}" if k.isidentifier() else f"[{orjson.dumps(k).decode()}]"


def _get(doc: Any, keys: tuple[str, ...], where: _Where) -> Any:
    node = doc
    json_path = "$"
    for key in keys:
        if not isinstance(node, dict):
            raise where.error(json_path, "expected an object")
        if key not in node:
            raise where.error(json_path, f"missing {key!r}")
        node = node[key]
        json_path += f".{key}"
    return node


def _reference_id(doc: dict[str, Any], stem: str | None, where: _Where) -> str:
    reference_id = doc.get("reference_id")
    if reference_id is None and isinstance(doc.get("data"), dict):
        reference_id = doc["data"].get("reference_id")
    if reference_id is None and stem is not None:
        reference_id = stem
    if not isinstance(reference_id, str) or not reference_id:
        raise where.error("$.reference_id", "expected a non-empty string")
    return reference_id


def _trackers_path(doc: Any, payload: bool, where: _Where) -> tuple[list[Any], str]:
    keys: tuple[str, ...]
    if not payload:
        keys = RESULT_TRACKERS
    else:
        maker = _get(doc, ("data",), where).get("maker_response")  # data: checked with frames
        if maker is None:  # a job without pre-labels (validate allows it)
            return [], "$.data.maker_response"
        if not isinstance(maker, dict):
            raise where.error("$.data.maker_response", "expected an object")
        if "video2d" in maker and "video_2d" in maker:
            raise where.error("$.data.maker_response", "both 'video2d' and 'video_2d'")
        key = "video_2d" if "video_2d" in maker else "video2d"
        keys = ("data", "maker_response", key, "data", "annotations")
    trackers = _get(doc, keys, where)
    json_path = "$." + ".".join(keys)
    if not isinstance(trackers, list):
        raise where.error(json_path, "expected a list of trackers")
    return trackers, json_path


def _frames(doc: Any, reference_id: str, where: _Where) -> tuple[Frames, dict[str, int]]:
    items = _get(doc, ("data", "video_data", "frames"), where)
    base = "$.data.video_data.frames"
    if not isinstance(items, list):
        raise where.error(base, "expected a list of frames")
    ids: list[str] = []
    srcs: list[str] = []
    row: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise where.error(f"{base}[{i}]", "expected an object")
        fid = item.get("frame_id")
        if not isinstance(fid, str) or not fid:
            raise where.error(f"{base}[{i}].frame_id", "expected a non-empty string")
        if fid in row:
            raise where.error(f"{base}[{i}].frame_id", f"frame_id {fid!r} repeated")
        src = item.get("src", "")
        if not isinstance(src, str):
            raise where.error(f"{base}[{i}].src", "expected a string")
        row[fid] = i
        ids.append(fid)
        srcs.append(src)
    n = len(ids)
    try:
        frames = Frames.build(
            np.full(n, np.nan),
            np.full(n, np.nan),
            frame_id=ids,
            src=srcs,
            name=[""] * n,
            sequence=reference_id,
        )
    except InputError as exc:  # a src that is not a URL: named here by file, line and path
        bad = next((i for i, src in enumerate(srcs) if src and not is_url(src)), None)
        if bad is None:
            raise
        raise where.error(
            f"{base}[{bad}].src", f"{srcs[bad]!r} is not an http(s)://, s3:// or gs:// URL"
        ) from exc
    return frames, row


@lru_cache(maxsize=1024)
def _point_names(n: int) -> list[str]:
    return [f"p{i}" for i in range(1, n + 1)]


@lru_cache(maxsize=1024)
def _point_rows(n: int) -> dict[str, int]:
    return {f"p{i + 1}": i for i in range(n)}


def _unwrap(attrs: Any, json_path: str, where: _Where) -> dict[str, Any] | None:
    if attrs is None:
        return None
    if not isinstance(attrs, dict):
        raise where.error(json_path, "expected an object of attributes")
    if not attrs:
        return None
    return {
        k: v["value"] if isinstance(v, dict) and len(v) == 1 and "value" in v else v
        for k, v in attrs.items()
    }


def _edges(obj: dict[str, Any], n: int, op: str, where: _Where) -> Edges | None:
    """A polygon's ``edges`` as pairs of rows of its ``n`` points (None without edges)."""
    edges = obj.get("edges")
    if edges is None:
        return None
    if not isinstance(edges, dict):
        raise where.error(f"{op}.edges", "expected an object of edges e1..en -> [pa, pb]")
    row = _point_rows(n)
    values = list(edges.values())
    # the common case in C iteration (an object of 1M edges is not 1M Python steps); the
    # loop below runs only to name the first bad edge
    if set(map(type, values)) <= {list} and set(map(len, values)) <= {2}:
        ends_flat = list(chain.from_iterable(values))
        if set(map(type, ends_flat)) <= {str} and set(ends_flat) <= row.keys():
            rows = list(map(row.__getitem__, ends_flat))
            return tuple(zip(rows[0::2], rows[1::2], strict=True))
    out = []
    for name, ends in edges.items():
        if (
            not isinstance(ends, list)
            or len(ends) != 2
            or not all(isinstance(p, str) for p in ends)
        ):
            raise where.error(f"{op}.edges{_key(name)}", "expected a pair of point names")
        missing = [p for p in ends if p not in row]
        if missing:  # validate's words
            points = "a point" if len(missing) == 1 else "points"
            raise where.error(
                f"{op}.edges{_key(name)}",
                f"edge {name} names {' and '.join(missing)}, not {points} of this polygon",
            )
        out.append((row[ends[0]], row[ends[1]]))
    return tuple(out)


def _content(
    job: JobDocument,
    frames: Frames,
    frame_row: dict[str, int],
    only: set[str] | None,
    with_edges: bool,
) -> JobContent:
    where = job.where
    trackers, base = _trackers_path(job.doc, job.payload, where)

    tracker_ids: list[str] = []
    kinds: list[int] = []
    shape_frame: list[int] = []
    shape_track: list[int] = []
    labels: list[str] = []
    attributes: list[dict[str, Any] | None] = []
    object_ids: list[str] = []
    sources: list[str] = []
    geometry: list[Any] = []  # per shape, its sequence of point objects
    counts: list[int] = []
    edges: list[Edges | None] = []
    # per object Python is what the JSON forces (one dict per object); points are not touched
    for t, tracker in enumerate(trackers):
        tp = f"{base}[{t}]"
        if not isinstance(tracker, dict):
            raise where.error(tp, "expected a tracker object")
        tid = tracker.get("_id")
        if not isinstance(tid, str) or not tid:
            raise where.error(f"{tp}._id", "expected a non-empty string")
        kind = _KINDS.get(tracker.get("type"))  # type: ignore[arg-type]
        if kind is None:
            raise where.error(
                f"{tp}.type",
                f"unknown type {tracker.get('type')!r}; expected one of {list(_KINDS)}",
            )
        tracker_label = tracker.get("label")
        objects = tracker.get("frames")
        if not isinstance(objects, dict):
            raise where.error(f"{tp}.frames", "expected an object of frame_id -> annotation")
        tracker_ids.append(tid)
        geometry_key = "coordinates" if kind == Kind.RECTANGLE else "points"
        items: Iterable[tuple[str, Any]] = objects.items()
        if only is not None:
            # every frame key checked at C speed; only the selected frames' objects are read
            if not objects.keys() <= frame_row.keys():
                bad = next(k for k in objects if k not in frame_row)
                raise where.error(
                    f"{tp}.frames{_key(bad)}", f"frame {bad!r} is not in data.video_data.frames"
                )
            hit = only.intersection(objects)
            items = [(k, o) for k, o in objects.items() if k in hit] if hit else ()
        for fid, obj in items:
            op = f"{tp}.frames{_key(fid)}"
            row = frame_row.get(fid)
            if row is None:
                raise where.error(op, f"frame {fid!r} is not in data.video_data.frames")
            if not isinstance(obj, dict):
                raise where.error(op, "expected an annotation object")
            label = obj.get("label", tracker_label)
            if not isinstance(label, str) or not label:
                raise where.error(f"{op}.label", "expected a non-empty string")
            pts = obj.get(geometry_key)
            if kind == Kind.RECTANGLE:
                if not isinstance(pts, list):
                    raise where.error(f"{op}.coordinates", "expected a list of points")
                n = len(pts)
            else:
                if not isinstance(pts, dict):
                    raise where.error(f"{op}.points", "expected an object of points p1..pn")
                n = len(pts)
                if list(pts) != _point_names(n):
                    pts = _ordered_points(pts, f"{op}.points", where)
                else:
                    pts = pts.values()
            exact = _EXACT.get(kind)
            if (exact is not None and n != exact) or n < _MINIMUM.get(kind, 0):
                need = f"{exact}" if exact is not None else f"at least {_MINIMUM[kind]}"
                raise where.error(
                    f"{op}.{geometry_key}", f"a {kind.type_name} has {need} points, not {n}"
                )
            oid = obj.get("_id", "")
            if not isinstance(oid, str):
                raise where.error(f"{op}._id", "expected a string")
            if with_edges:
                edges.append(_edges(obj, n, op, where) if kind == Kind.POLYGON else None)
            kinds.append(kind)
            shape_frame.append(row)
            shape_track.append(t)
            labels.append(label)
            attributes.append(_unwrap(obj.get("attributes"), f"{op}.attributes", where))
            object_ids.append(oid)
            sources.append(op)
            geometry.append(pts)
            counts.append(n)

    kind_arr = np.asarray(kinds, dtype=np.int8)
    count_arr = np.asarray(counts, dtype=np.int64)
    landmark = kind_arr == Kind.LANDMARK
    try:
        points, point_label = _points_fast(geometry, landmark)
    except (KeyError, TypeError, ValueError):
        points, point_label = _points_slow(geometry, kind_arr, sources, where)
    offsets = offsets_from_counts(count_arr)
    # the unchecked constructor, as every reader builds: each value was checked against its
    # JSON path above, so an error names the file, the line and the path
    ann = Annotations._runs(
        frames,
        kind_arr,
        points.reshape(-1, 2),
        offsets,
        labels if labels else np.asarray([], dtype=object),  # names, even when there are none
        np.asarray(shape_frame, dtype=np.int64),
        track=np.asarray(shape_track, dtype=np.int64),
        point_label=point_label,
        attributes=attributes,
        source=sources,
        normalised=True,
    )
    obj_ids = np.empty(len(object_ids), dtype=object)
    obj_ids[:] = object_ids
    return JobContent(
        job.reference_id,
        frames,
        ann,
        tuple(tracker_ids),
        obj_ids,
        job.path,
        job.line,
        tuple(edges) if with_edges else None,
    )


def _ordered_points(pts: dict[str, Any], json_path: str, where: _Where) -> list[Any]:
    """A points object whose keys are not p1..pn in order: sorted by number, or an error."""
    numbered = []
    for key in pts:
        m = _POINT_KEY.fullmatch(key)
        if m is None:
            raise where.error(f"{json_path}.{key}", "expected point names p1..pn")
        numbered.append((int(m[1]), key))
    numbered.sort()
    if [n for n, _ in numbered] != list(range(1, len(numbered) + 1)):
        raise where.error(json_path, "point names are not p1..pn without gaps")
    return [pts[key] for _, key in numbered]


def _points_fast(
    geometry: list[Any], landmark: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Every point of the job in one gather; raises on anything but numbers."""
    pairs = list(map(_XY, chain.from_iterable(geometry)))
    values = list(chain.from_iterable(pairs))
    if not set(map(type, values)) <= {float, int}:
        raise TypeError("non-numeric coordinate")
    points = np.array(values, dtype=np.float64).reshape(-1, 2)
    point_label = np.zeros(len(points), dtype=np.int32)
    if landmark.any():
        marks = [g for g, is_mark in zip(geometry, landmark.tolist(), strict=True) if is_mark]
        lab = list(map(_LABEL, chain.from_iterable(marks)))
        if set(map(type, lab)) - {int}:
            raise TypeError("non-integer landmark label")
        if lab and not (min(lab) >= _LABEL_MIN and max(lab) <= _LABEL_MAX):
            raise ValueError("landmark label beyond int32")  # it would wrap, or overflow
        counts = np.fromiter(map(len, geometry), dtype=np.int64, count=len(geometry))
        point_label[np.repeat(landmark, counts)] = np.asarray(lab, dtype=np.int64)
    # validate's rule: finite and in [0, 1] (NaN fails both comparisons); a value beyond
    # would overflow, or leave the frame, once multiplied by a frame size
    if not ((points >= 0.0) & (points <= 1.0)).all():
        raise ValueError("coordinate outside [0, 1]")
    return points, point_label


def _points_slow(
    geometry: list[Any], kinds: npt.NDArray[np.int8], sources: list[str], where: _Where
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Point by point, to name the first bad value (only run when the fast gather failed)."""
    xy: list[float] = []
    labels: list[int] = []
    for pts, kind, op in zip(geometry, kinds.tolist(), sources, strict=True):
        rect = kind == Kind.RECTANGLE
        for i, point in enumerate(pts):
            pp = f"{op}.coordinates[{i}]" if rect else f"{op}.points.p{i + 1}"
            if not isinstance(point, dict):
                raise where.error(pp, "expected a point object {x, y}")
            for axis in ("x", "y"):
                v = point.get(axis)
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise where.error(f"{pp}.{axis}", f"expected a number, not {v!r}")
                if not 0.0 <= v <= 1.0:  # validate's words
                    raise where.error(
                        f"{pp}.{axis}", f"coordinate must be a finite number in [0, 1], not {v!r}"
                    )
                xy.append(float(v))
            if kind == Kind.LANDMARK:
                lab = point.get("label")
                if isinstance(lab, bool) or not isinstance(lab, int):
                    raise where.error(
                        f"{pp}.label", f"expected an integer point label, not {lab!r}"
                    )
                if not _LABEL_MIN <= lab <= _LABEL_MAX:
                    raise where.error(
                        f"{pp}.label",
                        f"a point label must be in [{_LABEL_MIN}, {_LABEL_MAX}], not {lab}",
                    )
                labels.append(lab)
            else:
                labels.append(0)
    return np.asarray(xy, dtype=np.float64).reshape(-1, 2), np.asarray(labels, dtype=np.int32)

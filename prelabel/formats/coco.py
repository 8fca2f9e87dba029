"""COCO in: instances, results lists, keypoints, video / tracking COCO and YouTube-VIS.

Every variant becomes one table of *records* (one annotation on one frame, with its raw
``bbox`` / ``segmentation`` / ``keypoints``), and one vectorised pass turns the records into
shapes: columns are pulled out of the parsed JSON with ``map`` / ``np.fromiter``, image and
category ids are matched with ``np.searchsorted``, and every polygon point of the file lands
in one flat array. Types are checked per column (the set of Python types seen); only when a
check fails is the offending item looked for, so that the error names its JSON path
(``$.annotations[17].bbox``). Coordinates stay in pixels; see ``docs/formats/coco.md`` for
the mapping and the policies.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import itemgetter
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from prelabel.annotations import Annotations, FloatArray, Frames, IntArray, Kind, ObjArray
from prelabel.errors import InputError
from prelabel.gcpause import paused_gc
from prelabel.jsonio import load_json
from prelabel.order import natural_rank
from prelabel.paths import resolve_inside, safe_relative
from prelabel.report import Action, Report

Multipart = Literal["split", "largest"]

#: Outlines traced from masks smaller than this (square pixels, holes filled) are specks.
MIN_MASK_AREA = 4.0

#: Files ``--image-dir`` treats as images.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})

#: CVAT / datumaro keep tracking state in ``attributes``; these keys are read, never passed on.
TRACK_ATTRIBUTES = ("track_id", "keyframe", "rotation")

_NUMBER = frozenset({int, float})
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
_NoneType = type(None)
PathLikeStr = str | PathLike[str]

# a file name safe_relative would change or refuse: absolute, drive letter, backslash, NUL,
# empty, "." or ".." component, doubled or trailing slash (a match sends the names the slow way)
_UNUSUAL_NAME = re.compile(r"^/|^.:|\\|\x00|(?:^|/)\.{1,2}(?:/|$)|//|/$|^$", re.MULTILINE)

#: Label Studio's route for files of its local storage: ``/data/local-files/?d=clip/1.png``.
LOCAL_FILES_ROUTE = "/data/local-files/?"


# --- small column helpers -----------------------------------------------------------------
Loc = Callable[[int], str]


def _where(base: str, key: str | None = None) -> Loc:
    return (lambda i: f"{base}[{i}]") if key is None else (lambda i: f"{base}[{i}].{key}")


def _objects(items: Any, path: PathLikeStr, where: str) -> list[dict[str, Any]]:
    """``items`` as a list of JSON objects, or the error naming the first that is not one."""
    if not isinstance(items, list):
        raise InputError(path, where, "must be a list")
    if items and set(map(type, items)) != {dict}:
        i = next(k for k, x in enumerate(items) if type(x) is not dict)
        raise InputError(path, f"{where}[{i}]", "must be an object")
    return items


def _required(items: list[dict[str, Any]], key: str, path: PathLikeStr, where: str) -> list[Any]:
    try:
        return [x[key] for x in items]
    except KeyError:
        i = next(k for k, x in enumerate(items) if key not in x)
        raise InputError(path, f"{where}[{i}].{key}", "missing") from None


def _optional(items: list[dict[str, Any]], key: str) -> list[Any]:
    return [x.get(key) for x in items]


def _first_bad(values: Sequence[Any], ok: Callable[[Any], bool]) -> int:
    return next(i for i, v in enumerate(values) if not ok(v))


def _ints(values: Sequence[Any], path: PathLikeStr, loc: Loc, what: str = "an integer") -> IntArray:
    """int64 column; booleans, floats, strings and ids beyond 64 bits are refused."""
    if values and set(map(type, values)) != {int}:
        i = _first_bad(values, lambda v: type(v) is int)
        raise InputError(path, loc(i), f"must be {what}, not {values[i]!r}")
    try:
        return np.fromiter(values, np.int64, len(values))
    except OverflowError:
        i = _first_bad(values, lambda v: _INT64_MIN <= v <= _INT64_MAX)
        raise InputError(path, loc(i), f"{values[i]} is out of range") from None


def _floats(
    values: Sequence[Any], path: PathLikeStr, loc: Loc, *, optional: bool = False
) -> FloatArray:
    """float64 column of JSON numbers; ``None`` becomes NaN when ``optional``."""
    allowed = _NUMBER | {_NoneType} if optional else _NUMBER
    if values and not set(map(type, values)) <= allowed:
        i = _first_bad(values, lambda v: type(v) in allowed)
        raise InputError(path, loc(i), f"must be a number, not {values[i]!r}")
    if not values:
        return np.zeros(0, np.float64)
    return np.array(values, dtype=np.float64)


def _strings(values: Sequence[Any], path: PathLikeStr, loc: Loc) -> list[str]:
    if values and set(map(type, values)) != {str}:
        i = _first_bad(values, lambda v: type(v) is str)
        raise InputError(path, loc(i), f"must be a string, not {values[i]!r}")
    return list(values)


def _number_lists(
    lists: Sequence[Any], path: PathLikeStr, loc: Loc, what: str
) -> tuple[FloatArray, IntArray]:
    """Flat float64 values and per-list lengths of a column of lists of numbers."""
    if lists and set(map(type, lists)) != {list}:
        i = _first_bad(lists, lambda v: type(v) is list)
        raise InputError(path, loc(i), f"must be {what}, not {lists[i]!r}")
    lengths = np.fromiter(map(len, lists), np.int64, len(lists))
    total = int(lengths.sum())
    try:
        # sum() refuses strings, null, lists and objects at C speed ...
        sum(chain.from_iterable(lists))
        flat = np.fromiter(chain.from_iterable(lists), np.float64, total)
    except (TypeError, ValueError):
        i = _first_bad(lists, lambda v: all(type(x) in _NUMBER for x in v))
        raise InputError(path, loc(i), f"must be {what} (numbers only)") from None
    # ... but not booleans, which become 0.0 / 1.0: look at the objects behind those values only
    maybe = np.flatnonzero((flat == 0.0) | (flat == 1.0))
    if maybe.size:
        starts = np.zeros(len(lists) + 1, np.int64)
        np.cumsum(lengths, out=starts[1:])
        owner = np.searchsorted(starts, maybe, side="right") - 1
        for j, p in zip(owner.tolist(), (maybe - starts[owner]).tolist()):
            if type(lists[j][p]) is bool:
                raise InputError(path, loc(j), f"must be {what} (numbers only)")
    return flat, lengths


def _boxes(values: Sequence[Any], path: PathLikeStr, loc: Loc) -> FloatArray:
    """(N, 4) ``x, y, width, height`` from a column of COCO ``bbox`` lists."""
    flat, lengths = _number_lists(values, path, loc, "[x, y, width, height]")
    bad = np.flatnonzero(lengths != 4)
    if bad.size:
        i = int(bad[0])
        raise InputError(
            path, loc(i), f"must be [x, y, width, height], not {len(values[i])} values"
        )
    return flat.reshape(-1, 4)


class _Ids:
    """Sorted lookup of the ``id`` column of a table (images, categories, videos)."""

    def __init__(self, ids: IntArray, path: PathLikeStr, where: str, what: str) -> None:
        self.ids = ids
        self.sorter = np.argsort(ids, kind="stable")
        self.what = what
        s = ids[self.sorter]
        dup = np.flatnonzero(s[1:] == s[:-1])
        if dup.size:
            first, second = sorted(self.sorter[dup[0] : dup[0] + 2].tolist())
            raise InputError(
                path,
                f"{where}[{second}].id",
                f"duplicate {what} id {ids[second]} (also {where}[{first}])",
            )

    def rows(self, ids: IntArray, path: PathLikeStr, loc: Loc) -> IntArray:
        """Row of each id; the first unknown id is an error at its place."""
        if not len(self.ids):
            if len(ids):
                raise InputError(path, loc(0), f"no {self.what} with id {ids[0]}")
            return np.zeros(0, np.int64)
        pos = np.searchsorted(self.ids, ids, sorter=self.sorter)
        rows = self.sorter[np.minimum(pos, len(self.ids) - 1)]
        bad = np.flatnonzero(self.ids[rows] != ids)
        if bad.size:
            i = int(bad[0])
            raise InputError(path, loc(i), f"no {self.what} with id {ids[i]}")
        return rows


# --- options --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    multipart: Multipart = "split"
    as_boxes: bool = False
    keypoints_with_box: bool = False
    occluded_attribute: str | None = None
    attributes: bool = True
    min_mask_area: float = MIN_MASK_AREA


# --- frames -----------------------------------------------------------------------------------
@dataclass
class _ImageTable:
    frames: Frames
    ids: _Ids | None = None  # image ids (COCO images), or
    by_key: dict[Any, int] | None = None  # image_id -> row (--image-dir)
    ambiguous: dict[Any, list[str]] = field(default_factory=dict)

    def rows(self, image_ids: list[Any], path: PathLikeStr, loc: Loc) -> IntArray:
        if self.ids is not None:
            return self.ids.rows(_ints(image_ids, path, loc), path, loc)
        assert self.by_key is not None
        out = np.empty(len(image_ids), dtype=np.int64)
        for i, key in enumerate(image_ids):
            if type(key) not in (int, str):
                raise InputError(
                    path, loc(i), f"must be an integer or a string (a file's stem), not {key!r}"
                )
            row = self.by_key.get(key)
            if row is None:
                if key in self.ambiguous:
                    files = ", ".join(self.ambiguous[key])
                    raise InputError(
                        path, loc(i), f"image_id {key!r} matches several files: {files}"
                    )
                raise InputError(path, loc(i), f"no image file for image_id {key!r} in --image-dir")
            out[i] = row
        return out


def _safe_names(names: list[str], path: PathLikeStr, loc: Loc) -> list[str]:
    """``safe_relative`` over a column; names that are already plain skip the slow path."""
    text = "\n".join(names)
    if text.count("\n") == max(len(names) - 1, 0) and not _UNUSUAL_NAME.search(text):
        return names
    return [safe_relative(n, path=path, location=loc(i)) for i, n in enumerate(names)]


def _local_files_names(names: list[str], path: PathLikeStr, loc: Loc, report: Report) -> list[str]:
    """Label Studio's URLs of its local storage read as the paths they name.

    Label Studio's COCO export run without its local-files document root writes each image's
    URL, ``/data/local-files/?d=clip/1.png``, as ``file_name``. Its server reads ``d`` (a query
    value, URL-decoded) as the file's path relative to that root, so that path is the frame
    name; it is then checked like any other ``file_name``. One ``noted`` report row says so.
    """
    if LOCAL_FILES_ROUTE not in "\n".join(names):  # one scan of the names, no per-name work
        return names
    from urllib.parse import parse_qs

    out = list(names)
    rows = [i for i, name in enumerate(names) if name.startswith(LOCAL_FILES_ROUTE)]
    for i in rows:
        query = parse_qs(names[i][len(LOCAL_FILES_ROUTE) :], keep_blank_values=True)
        values = query.get("d", [])
        if len(values) != 1 or not values[0]:
            raise InputError(
                path,
                loc(i),
                f"Label Studio local-files URL {names[i]!r} names no file (one d=PATH)",
            )
        out[i] = values[0]
    if rows:
        report.add(
            Action.NOTED,
            "label_studio_local_files",
            source=loc(rows[0]),
            detail=f"{len(rows)} file_name(s) read as Label Studio local-files URLs: the frame "
            "is the d= path (URL-decoded), relative to Label Studio's local-files document root",
        )
    return out


def _parent(name: str) -> str:
    return name.rpartition("/")[0]


def _name_rank(names: ObjArray, sequences: ObjArray) -> IntArray:
    """Each frame's position in its sequence when frames are in natural name order."""
    return natural_rank(names.tolist(), [str(s) for s in sequences.tolist()])


def _video_names(videos: Any, path: PathLikeStr) -> tuple[_Ids, list[str], list[dict[str, Any]]]:
    videos = _objects(videos, path, "$.videos")
    ids = _Ids(
        _ints(_required(videos, "id", path, "$.videos"), path, _where("$.videos", "id")),
        path,
        "$.videos",
        "video",
    )
    names = []
    for i, v in enumerate(videos):
        name = v.get("name")
        if name is None:
            files = v.get("file_names")
            first = (
                files[0] if isinstance(files, list) and files and isinstance(files[0], str) else ""
            )
            name = _parent(first.replace("\\", "/")) or str(v["id"])
            where = f"$.videos[{i}].file_names[0]"
        elif type(name) is not str or not name:
            raise InputError(path, f"$.videos[{i}].name", "must be a non-empty string")
        else:
            where = f"$.videos[{i}].name"
        if "\x00" in name:
            raise InputError(path, where, f"{name!r} contains a NUL byte")
        names.append(name)
    return ids, names, videos


def _image_table(
    data: dict[str, Any], path: PathLikeStr, image_dir: PathLikeStr | None, report: Report
) -> _ImageTable:
    """Frames from a COCO ``images`` list (with ``videos`` when the file has them)."""
    images = _objects(data.get("images"), path, "$.images")
    n = len(images)
    ids = _Ids(
        _ints(_required(images, "id", path, "$.images"), path, _where("$.images", "id")),
        path,
        "$.images",
        "image",
    )
    loc_name = _where("$.images", "file_name")
    raw_names = _strings(_required(images, "file_name", path, "$.images"), path, loc_name)
    names = _safe_names(_local_files_names(raw_names, path, loc_name, report), path, loc_name)
    if len(set(names)) != n:
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                raise InputError(
                    path,
                    f"$.images[{i}].file_name",
                    f"duplicate of $.images[{seen[name]}].file_name",
                )
            seen[name] = i
    width = _sizes(images, names, "width", path, image_dir)
    height = _sizes(images, names, "height", path, image_dir)
    # video COCO: images carry video_id and a frame index
    video_ids = _optional(images, "video_id")
    has_video = [v is not None for v in video_ids]
    sequences = np.empty(n, dtype=object)
    sequences[:] = [_parent(x) for x in names]
    index = np.full(n, -1, dtype=np.int64)
    if any(has_video):
        if "videos" not in data:
            i = has_video.index(True)
            raise InputError(path, f"$.images[{i}].video_id", "the file has no 'videos' section")
        vids, vnames, _ = _video_names(data["videos"], path)
        rows = np.flatnonzero(has_video)
        loc = _where("$.images", "video_id")
        vrow = vids.rows(
            _ints([video_ids[i] for i in rows.tolist()], path, lambda k: loc(int(rows[k]))),
            path,
            lambda k: loc(int(rows[k])),
        )
        sequences[rows] = np.asarray(vnames, dtype=object)[vrow]
        frame_no = [x.get("frame_id", x.get("frame_index")) for x in images]
        known = np.flatnonzero([f is not None for f in frame_no])
        if known.size:
            floc = _where("$.images", "frame_id")
            index[known] = _ints(
                [frame_no[i] for i in known.tolist()], path, lambda k: floc(int(known[k]))
            )
    name_col = np.empty(n, dtype=object)
    name_col[:] = names
    unset = index < 0
    if unset.any():
        index[unset] = _name_rank(name_col, sequences)[unset]
    frames = Frames(
        name=name_col,
        sequence=sequences,
        index=index,
        width=width,
        height=height,
        frame_id=_blank(n),
        src=_blank(n),
    )
    return _ImageTable(frames, ids=ids)


def _blank(n: int) -> ObjArray:
    out = np.empty(n, dtype=object)
    out[:] = ""
    return out


def _sizes(
    images: list[dict[str, Any]],
    names: list[str],
    key: str,
    path: PathLikeStr,
    image_dir: PathLikeStr | None,
) -> FloatArray:
    """Image ``width`` or ``height``: positive numbers; missing ones from headers in image_dir."""
    loc = _where("$.images", key)
    values = _optional(images, key)
    missing = [i for i, v in enumerate(values) if v is None] if None in values else []
    if missing:
        if image_dir is None:
            raise InputError(path, loc(missing[0]), "missing (or give --image-dir to read it)")
        from prelabel.imagesize import image_size  # imagesize pulls in urllib, ssl and xml

        axis = 0 if key == "width" else 1
        for i in missing:
            file = resolve_inside(
                image_dir, names[i], path=path, location=f"$.images[{i}].file_name"
            )
            values[i] = image_size(file)[axis]
    out = _floats(values, path, loc)
    bad = np.flatnonzero(~(out > 0))
    if bad.size:
        i = int(bad[0])
        raise InputError(path, loc(i), f"must be a positive number of pixels, not {values[i]}")
    return out


def _image_dir_table(image_dir: PathLikeStr, path: PathLikeStr) -> _ImageTable:
    """Frames from the image files under ``image_dir`` (sizes from their headers).

    A results ``image_id`` names the file whose stem is that id: ``397133`` matches
    ``000000397133.jpg`` (the stem read as an integer) and ``"frame_7"`` matches ``frame_7.png``.
    """
    from prelabel.imagesize import image_size

    root = Path(image_dir)
    if not root.is_dir():
        raise InputError(image_dir, None, "not a directory")
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = Path(folder).relative_to(root).as_posix()
        for f in sorted(files):
            if Path(f).suffix.lower() in IMAGE_SUFFIXES:
                found.append(f if rel == "." else f"{rel}/{f}")
    n = len(found)
    width = np.empty(n)
    height = np.empty(n)
    by_key: dict[Any, int] = {}
    ambiguous: dict[Any, list[str]] = {}
    for i, name in enumerate(found):
        file = resolve_inside(root, name, path=image_dir, location=None)
        width[i], height[i] = image_size(file)
        stem = Path(name).stem
        keys: list[Any] = [stem]
        if stem.isascii() and stem.isdigit():
            keys.append(int(stem))
        for key in keys:
            if key in by_key or key in ambiguous:
                ambiguous.setdefault(key, [found[by_key.pop(key)]] if key in by_key else [])
                ambiguous[key].append(name)
            else:
                by_key[key] = i
    names = np.empty(n, dtype=object)
    names[:] = found
    seqs = np.empty(n, dtype=object)
    seqs[:] = [_parent(x) for x in found]
    frames = Frames(
        name=names,
        sequence=seqs,
        index=_name_rank(names, seqs),
        width=width,
        height=height,
        frame_id=_blank(n),
        src=_blank(n),
    )
    return _ImageTable(frames, by_key=by_key, ambiguous=ambiguous)


# --- categories -----------------------------------------------------------------------------
@dataclass
class _Categories:
    ids: _Ids | None  # None: no categories section, labels are the ids as text
    names: tuple[str, ...]
    label_of_row: IntArray  # category row -> label index (names deduplicated)
    keypoints: IntArray  # category row -> number of keypoints it declares (0: none)

    def labels(
        self, cat_ids: list[Any], path: PathLikeStr, loc: Loc
    ) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
        ids = _ints(cat_ids, path, loc)
        if self.ids is not None:
            return self.label_of_row[self.ids.rows(ids, path, loc)].astype(np.int32), self.names
        uniq, inverse = np.unique(ids, return_inverse=True)
        return inverse.astype(np.int32).ravel(), tuple(str(x) for x in uniq.tolist())

    def keypoint_count(self, cat_ids: IntArray) -> IntArray:
        return self.keypoints[cat_ids]


def _categories(data: dict[str, Any] | None, path: PathLikeStr) -> _Categories:
    if data is None or "categories" not in data:
        return _Categories(None, (), np.zeros(0, np.int64), np.zeros(0, np.int64))
    cats = _objects(data["categories"], path, "$.categories")
    ids = _Ids(
        _ints(_required(cats, "id", path, "$.categories"), path, _where("$.categories", "id")),
        path,
        "$.categories",
        "category",
    )
    names = _strings(
        _required(cats, "name", path, "$.categories"), path, _where("$.categories", "name")
    )
    position: dict[str, int] = {}
    label_of_row = np.array([position.setdefault(nm, len(position)) for nm in names], np.int64)
    kps = np.zeros(len(cats), dtype=np.int64)
    for i, c in enumerate(cats):
        k = c.get("keypoints")
        if k is None:
            continue
        if not isinstance(k, list):
            raise InputError(path, f"$.categories[{i}].keypoints", "must be a list of names")
        kps[i] = len(k)
    return _Categories(ids, tuple(position), label_of_row.reshape(-1), kps)


# --- records: one annotation on one frame -----------------------------------------------------
@dataclass
class _Records:
    """Annotations flattened to one row per (annotation, frame), raw geometry kept as parsed."""

    path: PathLikeStr
    frame: IntArray
    label: npt.NDArray[np.int32]
    kp_count: IntArray  # keypoints the record's category declares (0: undeclared)
    track: IntArray
    score: FloatArray
    attrs: list[Any] | None  # None: no record has the field
    bbox: list[Any] | None
    seg: list[Any] | None
    kps: list[Any] | None
    loc: Callable[[int, str | None], str]
    sources: Callable[[IntArray], list[str]]
    confidence_v: bool = False  # keypoint "v" is a detector confidence (results lists)
    frame_names: ObjArray | None = None  # set with the frames, for report rows
    names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.frame)

    def note(
        self, report: Report, action: Action, reason: str, r: int, detail: str | None = None
    ) -> None:
        """A report row about record ``r`` (its place, frame and label)."""
        frame = None if self.frame_names is None else str(self.frame_names[self.frame[r]])
        label = self.names[self.label[r]] if self.names else None
        report.add(
            action, reason, source=self.loc(r, None), frame=frame, label=label, detail=detail
        )

    def at(self, key: str | None) -> Loc:
        return lambda i: self.loc(i, key)


def _tracks(values: list[Any], path: PathLikeStr, loc: Loc) -> IntArray:
    """Track ids: integers as given (negative: none); strings numbered in sorted order."""
    n = len(values)
    types = set(map(type, values))
    if types <= {int, _NoneType}:
        if types == {_NoneType}:
            return np.full(n, -1, dtype=np.int64)
        filled = [-1 if v is None else v for v in values]
        out = _ints(filled, path, loc, "an integer or a string")
        out[out < 0] = -1
        return out
    if not types <= {int, str, _NoneType}:
        i = _first_bad(values, lambda v: type(v) in (int, str, _NoneType))
        raise InputError(path, loc(i), f"must be an integer or a string, not {values[i]!r}")
    keys = np.array(
        [
            "" if v is None or (type(v) is int and v < 0) else f"{type(v).__name__}:{v}"
            for v in values
        ],
        dtype=str,
    )
    uniq, inverse = np.unique(keys, return_inverse=True)
    out = inverse.astype(np.int64).ravel() - (1 if uniq[0] == "" else 0)
    out[keys == ""] = -1
    return out


def _coco_records(
    anns: list[dict[str, Any]],
    base: str,
    path: PathLikeStr,
    table: _ImageTable,
    cats: _Categories,
) -> tuple[_Records, tuple[str, ...]]:
    """Records of an instances ``annotations`` list or a results list (``base`` "$")."""
    frame = table.rows(_required(anns, "image_id", path, base), path, _where(base, "image_id"))
    label, names = cats.labels(
        _required(anns, "category_id", path, base), path, _where(base, "category_id")
    )
    cat_row = _category_rows(anns, cats, path, base)
    # optional fields no annotation has are not looked up 100k times
    keys: set[str] = set().union(*anns) if anns else set()

    def column(key: str) -> list[Any] | None:
        return _optional(anns, key) if key in keys else None

    attrs = column("attributes")
    track_raw = column("track_id") or column("instance_id")
    if "track_id" in keys and "instance_id" in keys:
        track_raw = [a.get("track_id", a.get("instance_id")) for a in anns]
    if attrs is not None:
        track_raw = track_raw or [None] * len(anns)
        _track_from_attributes(track_raw, attrs)
    n = len(anns)
    score = column("score")
    recs = _Records(
        path=path,
        frame=frame,
        label=label,
        kp_count=cats.keypoint_count(cat_row) if cat_row is not None else np.zeros(n, np.int64),
        track=np.full(n, -1, np.int64)
        if track_raw is None
        else _tracks(track_raw, path, partial(_track_loc, anns, base)),
        score=np.full(n, np.nan)
        if score is None
        else _floats(score, path, _where(base, "score"), optional=True),
        attrs=attrs,
        bbox=column("bbox"),
        seg=column("segmentation"),
        kps=column("keypoints"),
        loc=lambda i, key: f"{base}[{i}]" if key is None else f"{base}[{i}].{key}",
        sources=lambda rows: [f"{base}[{i}]" for i in rows.tolist()],
        confidence_v=base == "$",
    )
    return recs, names


def _category_rows(
    anns: list[dict[str, Any]], cats: _Categories, path: PathLikeStr, base: str
) -> IntArray | None:
    if cats.ids is None or not cats.keypoints.any():
        return None
    ids = np.array([a["category_id"] for a in anns], dtype=np.int64)
    return cats.ids.rows(ids, path, _where(base, "category_id"))


def _track_loc(anns: list[dict[str, Any]], base: str, i: int) -> str:
    """Where annotation ``i``'s track id came from: track_id, instance_id or attributes."""
    a = anns[i]
    key = next((k for k in ("track_id", "instance_id") if a.get(k) is not None), None)
    return f"{base}[{i}].{key or 'attributes.track_id'}"


def _track_from_attributes(track: list[Any], attrs: list[Any]) -> None:
    """CVAT's COCO export keeps the track id in ``attributes.track_id``."""
    for i, a in enumerate(attrs):
        if track[i] is None and type(a) is dict and "track_id" in a:
            track[i] = a["track_id"]


# --- YouTube-VIS ------------------------------------------------------------------------------
def _ytvis_frames(
    videos: list[dict[str, Any]], names: list[str], path: PathLikeStr
) -> tuple[Frames, IntArray]:
    """One frame per ``file_names`` entry; returns the frames and each video's first row."""
    counts: list[int] = []
    files: list[str] = []
    width: list[float] = []
    height: list[float] = []
    for i, v in enumerate(videos):
        fn = v.get("file_names")
        if not isinstance(fn, list) or not all(type(x) is str for x in fn):
            raise InputError(path, f"$.videos[{i}].file_names", "must be a list of file names")
        where = f"$.videos[{i}].file_names"
        files.extend(_safe_names(fn, path, _where(where)))
        counts.append(len(fn))
        for key, out in (("width", width), ("height", height)):
            val: Any = v.get(key)
            if type(val) not in _NUMBER or not val > 0:
                raise InputError(
                    path, f"$.videos[{i}].{key}", "must be a positive number of pixels"
                )
            out.append(float(val))
    n_per = np.array(counts, dtype=np.int64)
    first = np.zeros(len(videos) + 1, dtype=np.int64)
    np.cumsum(n_per, out=first[1:])
    n = int(first[-1])
    name_col = np.empty(n, dtype=object)
    name_col[:] = files
    seq = np.empty(n, dtype=object)
    seq[:] = np.repeat(np.asarray(names, dtype=object), n_per) if n else []
    frames = Frames(
        name=name_col,
        sequence=seq,
        index=np.arange(n, dtype=np.int64) - np.repeat(first[:-1], n_per),
        width=np.repeat(np.asarray(width, dtype=np.float64), n_per),
        height=np.repeat(np.asarray(height, dtype=np.float64), n_per),
        frame_id=_blank(n),
        src=_blank(n),
    )
    return frames, first


def _ytvis_records(
    anns: list[dict[str, Any]],
    base: str,
    path: PathLikeStr,
    videos: _Ids,
    first_frame: IntArray,
    cats: _Categories,
) -> tuple[_Records, tuple[str, ...]]:
    """One record per (annotation, frame) where the annotation has a box or a mask."""
    vloc = _where(base, "video_id")
    vrow = videos.rows(_ints(_required(anns, "video_id", path, base), path, vloc), path, vloc)
    label_all, names = cats.labels(
        _required(anns, "category_id", path, base), path, _where(base, "category_id")
    )
    cat_row = _category_rows(anns, cats, path, base)
    score_all = _floats(_optional(anns, "score"), path, _where(base, "score"), optional=True)
    length = np.diff(first_frame)
    ann_of: list[int] = []
    frame_k: list[int] = []
    bbox: list[Any] = []
    seg: list[Any] = []
    for a, item in enumerate(anns):
        n_frames = int(length[vrow[a]])
        per = {}
        for key in ("bboxes", "segmentations"):
            v = item.get(key)
            if v is None:
                continue
            if not isinstance(v, list) or len(v) != n_frames:
                raise InputError(
                    path,
                    f"{base}[{a}].{key}",
                    f"must be a list of {n_frames} entries (one per frame, null where absent)",
                )
            per[key] = v
        if not per:
            raise InputError(path, f"{base}[{a}]", "has neither 'segmentations' nor 'bboxes'")
        boxes = per.get("bboxes", [None] * n_frames)
        masks = per.get("segmentations", [None] * n_frames)
        for k in range(n_frames):
            if boxes[k] is not None or masks[k] is not None:
                ann_of.append(a)
                frame_k.append(k)
                bbox.append(boxes[k])
                seg.append(masks[k])
    rec_ann = np.asarray(ann_of, dtype=np.int64)
    rec_k = np.asarray(frame_k, dtype=np.int64)
    has_seg = np.fromiter((s is not None for s in seg), bool, len(seg))
    attrs_all = _optional(anns, "attributes")
    attrs = [attrs_all[a] for a in ann_of]
    suffix = {"bbox": "bboxes", "segmentation": "segmentations"}

    def loc(i: int, key: str | None) -> str:
        a, k = int(rec_ann[i]), int(rec_k[i])
        if key is None:
            key = "segmentation" if has_seg[i] else "bbox"
        if key in suffix:
            return f"{base}[{a}].{suffix[key]}[{k}]"
        return f"{base}[{a}].{key}"

    def sources(rows: IntArray) -> list[str]:
        return [loc(i, None) for i in rows.tolist()]

    kp_count = (
        cats.keypoint_count(cat_row) if cat_row is not None else np.zeros(len(anns), np.int64)
    )
    recs = _Records(
        path=path,
        frame=first_frame[vrow[rec_ann]] + rec_k if len(rec_ann) else np.zeros(0, np.int64),
        label=label_all[rec_ann],
        kp_count=kp_count[rec_ann],
        track=rec_ann.copy(),  # one track per annotation
        score=score_all[rec_ann],
        attrs=attrs,
        bbox=bbox,
        seg=seg,
        kps=[None] * len(ann_of),
        loc=loc,
        sources=sources,
    )
    return recs, names


# --- records -> shapes ------------------------------------------------------------------------
@dataclass
class _Piece:
    """Shapes of one kind cut from records: ``rec`` (owner), ``sub`` (order inside the owner)."""

    kind: Kind
    rec: IntArray
    sub: IntArray
    counts: IntArray
    points: FloatArray
    point_label: npt.NDArray[np.int32] | None = None
    keep_track: npt.NDArray[np.bool_] | None = None  # False: the part does not carry the track
    attributes: ObjArray | None = None  # per-shape override of the record's attributes


_ABSENT, _LIST, _OBJECT = 0, 1, 2
_TYPE_CODE = {_NoneType: _ABSENT, list: _LIST, dict: _OBJECT}


def _kinds(
    values: list[Any], allowed: frozenset[type], path: PathLikeStr, loc: Loc, what: str
) -> npt.NDArray[np.int8]:
    """Per value: 0 absent (null or an empty list), 1 a non-empty list, 2 an object."""
    n = len(values)
    try:
        codes = np.fromiter(map(_TYPE_CODE.__getitem__, map(type, values)), np.int8, n)
    except KeyError:
        codes = np.full(n, -1, np.int8)
    bad = codes < 0
    for t in set(_TYPE_CODE) - allowed:
        bad |= codes == _TYPE_CODE[t]
    if bad.any():
        i = _first_bad(values, lambda v: type(v) in allowed)
        raise InputError(path, loc(i), f"must be {what}, not {values[i]!r}")
    empty = (codes == _LIST) & ~np.fromiter(map(bool, values), bool, n)
    codes[empty] = _ABSENT
    return codes


def _select(values: list[Any] | None, rows: IntArray) -> list[Any]:
    if values is None:
        return [None] * len(rows)
    if len(rows) < 2:
        return [values[i] for i in rows.tolist()]
    return list(itemgetter(*rows.tolist())(values))


def _shapes(
    recs: _Records, names: tuple[str, ...], frames: Frames, opts: _Options, report: Report
) -> Annotations:
    """Every record's shapes, in record order (see the module doc and docs/formats/coco.md)."""
    recs.frame_names, recs.names = frames.name, names
    n = len(recs)
    path = recs.path
    seg = (
        np.zeros(n, np.int8)
        if recs.seg is None
        else _kinds(
            recs.seg,
            frozenset({_NoneType, list, dict}),
            path,
            recs.at("segmentation"),
            "a list of polygons or an RLE object",
        )
    )
    poly = seg == _LIST
    rle = seg == _OBJECT

    def bbox_present(rows: IntArray) -> npt.NDArray[np.bool_]:
        """Which of ``rows`` have a bbox (checked only where a box is wanted)."""
        if recs.bbox is None:
            return np.zeros(len(rows), bool)
        where = partial(_row_loc, recs, rows, "bbox")
        values = _select(recs.bbox, rows)
        kinds = _kinds(values, frozenset({_NoneType, list}), path, where, "[x, y, width, height]")
        return kinds == _LIST

    if recs.kps is None:
        has_kp = np.zeros(n, bool)
    else:
        has_kp = (
            _kinds(
                recs.kps,
                frozenset({_NoneType, list}),
                path,
                recs.at("keypoints"),
                "a list of x, y, v values",
            )
            == _LIST
        )

    def no_geometry(rows: IntArray) -> InputError:
        return InputError(
            path, recs.loc(int(rows[0]), None), "has no bbox, segmentation or keypoints"
        )

    pieces: list[_Piece] = []
    if opts.as_boxes:
        has_bb = bbox_present(np.arange(n))
        nothing = ~(has_bb | poly | rle | has_kp)
        if nothing.any():
            raise no_geometry(np.flatnonzero(nothing))
        pieces.append(_bbox_piece(recs, np.flatnonzero(has_bb)))
        rest = ~has_bb
        derived = []
        kp_rows = np.flatnonzero(rest & has_kp)
        if kp_rows.size:
            derived.append(_keypoint_piece(recs, kp_rows, opts, report))
        geo = rest & ~has_kp
        derived += _ring_pieces(
            recs,
            np.flatnonzero(geo & poly),
            np.flatnonzero(geo & rle),
            frames,
            opts,
            report,
            split=False,
        )
        pieces += [_bounds_piece(p) for p in derived if len(p.rec)]
    else:
        kp_rows = np.flatnonzero(has_kp)
        if kp_rows.size:
            landmarks = _keypoint_piece(recs, kp_rows, opts, report)
            pieces.append(landmarks)
            ignored = int((has_kp & (poly | rle)).sum())
            if ignored:
                report.add(
                    Action.NOTED,
                    "keypoint_segmentation_ignored",
                    detail=f"{ignored} annotation(s) with keypoints: their segmentation is not used",
                )
            if opts.keypoints_with_box:
                with_bb = kp_rows[bbox_present(kp_rows)]
                pieces.append(_bbox_piece(recs, with_bb, sub=1))
                no_bb = np.setdiff1d(kp_rows, with_bb)
                if no_bb.size:
                    # the box of the visible keypoints where the annotation has no bbox
                    lm = landmarks
                    take = np.isin(lm.rec, no_bb)
                    if take.any():
                        sub_piece = _take_shapes(lm, take)
                        box = _bounds_piece(sub_piece)
                        box.sub = np.ones_like(box.sub)
                        pieces.append(box)
        geo = ~has_kp
        pieces += _ring_pieces(
            recs,
            np.flatnonzero(geo & poly),
            np.flatnonzero(geo & rle),
            frames,
            opts,
            report,
            split=True,
        )
        box_rows = np.flatnonzero(geo & ~poly & ~rle)
        has_bb = bbox_present(box_rows)
        if not has_bb.all():
            raise no_geometry(box_rows[~has_bb])
        pieces.append(_bbox_piece(recs, box_rows))
    return _assemble(recs, names, frames, [p for p in pieces if len(p.rec)], opts, report)


def _row_loc(recs: _Records, rows: IntArray, key: str, k: int) -> str:
    return recs.loc(int(rows[k]), key)


def _bbox_piece(recs: _Records, rows: IntArray, sub: int = 0) -> _Piece:
    """Rectangles from ``bbox`` [x, y, w, h]: corners (x, y) (x + w, y) (x + w, y + h) (x, y + h)."""
    b = _boxes(_select(recs.bbox, rows), recs.path, partial(_row_loc, recs, rows, "bbox"))
    x0, y0 = b[:, 0], b[:, 1]
    x1, y1 = x0 + b[:, 2], y0 + b[:, 3]
    pts = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 2)
    m = len(rows)
    return _Piece(Kind.RECTANGLE, rows, np.full(m, sub, np.int64), np.full(m, 4, np.int64), pts)


def _take_shapes(p: _Piece, take: npt.NDArray[np.bool_]) -> _Piece:
    owner = np.repeat(np.arange(len(p.rec)), p.counts)
    keep_pts = take[owner]
    return _Piece(
        p.kind,
        p.rec[take],
        p.sub[take],
        p.counts[take],
        p.points[keep_pts],
        None if p.point_label is None else p.point_label[keep_pts],
    )


def _bounds_piece(p: _Piece) -> _Piece:
    """One rectangle per record: the bounds of all its shapes' points in ``p``."""
    owner = np.repeat(p.rec, p.counts)
    recs, inverse = np.unique(owner, return_inverse=True)
    inverse = inverse.ravel()
    lo = np.full((len(recs), 2), np.inf)
    hi = np.full((len(recs), 2), -np.inf)
    np.minimum.at(lo, inverse, p.points)
    np.maximum.at(hi, inverse, p.points)
    pts = np.stack(
        [lo[:, 0], lo[:, 1], hi[:, 0], lo[:, 1], hi[:, 0], hi[:, 1], lo[:, 0], hi[:, 1]], 1
    )
    m = len(recs)
    return _Piece(
        Kind.RECTANGLE, recs, np.zeros(m, np.int64), np.full(m, 4, np.int64), pts.reshape(-1, 2)
    )


def _keypoint_piece(recs: _Records, rows: IntArray, opts: _Options, report: Report) -> _Piece:
    """Landmarks: points numbered 1..K in the category's order; v = 0 left out (instances).

    In results lists the third value is the detector's confidence, so every point is kept.
    """
    path = recs.path
    loc = partial(_row_loc, recs, rows, "keypoints")
    flat, lengths = _number_lists(_select(recs.kps, rows), path, loc, "a list of x, y, v values")
    declared = recs.kp_count[rows]
    bad = np.flatnonzero((lengths % 3 != 0) | ((declared > 0) & (lengths != 3 * declared)))
    if bad.size:
        k = int(bad[0])
        want = f"3 x {declared[k]} values" if declared[k] else "a multiple of 3 values"
        raise InputError(
            path, loc(k), f"has {lengths[k]} values, expected {want} (x, y, v per point)"
        )
    per = lengths // 3
    xyv = flat.reshape(-1, 3)
    owner = np.repeat(np.arange(len(rows)), per)
    starts = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(per, out=starts[1:])
    number = (np.arange(len(xyv)) - starts[owner] + 1).astype(np.int32)
    v = xyv[:, 2]
    keep = np.ones(len(xyv), bool) if recs.confidence_v else v > 0
    counts = np.bincount(owner[keep], minlength=len(rows)).astype(np.int64)
    empty = counts == 0
    if empty.any():
        for k in np.flatnonzero(empty).tolist():
            r = int(rows[k])
            recs.note(report, Action.SKIPPED, "no_visible_keypoints", r, "every keypoint has v = 0")
    attributes = None
    if opts.occluded_attribute:
        occluded = keep & (v == 1) & (not recs.confidence_v)
        occ_owner = owner[occluded]
        occ_number = number[occluded]
        groups = np.split(occ_number, np.searchsorted(occ_owner, np.arange(1, len(rows))))
        attributes = np.empty(len(rows), dtype=object)
        attributes[:] = [{opts.occluded_attribute: [str(x) for x in g.tolist()]} for g in groups]
        attributes = attributes[~empty]
    full = ~empty
    return _Piece(
        Kind.LANDMARK,
        rows[full],
        np.zeros(int(full.sum()), np.int64),
        counts[full],
        xyv[keep, :2].copy(),
        number[keep],
        attributes=attributes,
    )


def _ring_pieces(
    recs: _Records,
    poly_rows: IntArray,
    rle_rows: IntArray,
    frames: Frames,
    opts: _Options,
    report: Report,
    *,
    split: bool,
) -> list[_Piece]:
    """Polygons from polygon segmentations and traced RLE masks, with the multipart policy."""
    owners: list[IntArray] = []
    counts: list[IntArray] = []
    points: list[FloatArray] = []
    if poly_rows.size:
        o, c, p = _polygon_rings(recs, poly_rows)
        owners.append(o)
        counts.append(c)
        points.append(p)
    if rle_rows.size:
        o, c, p = _mask_rings(recs, rle_rows, frames, opts, report)
        owners.append(o)
        counts.append(c)
        points.append(p)
    if not owners:
        return []
    owner = np.concatenate(owners)
    count = np.concatenate(counts)
    pts = np.concatenate(points).reshape(-1, 2)
    if len(owners) > 1:  # rings of one record are contiguous; order them by record
        order = np.argsort(owner, kind="stable")
        piece = _Piece(Kind.POLYGON, owner, np.zeros_like(owner), count, pts)
        piece = _reorder(piece, order)
        owner, count, pts = piece.rec, piece.counts, piece.points
    n_rings = len(owner)
    starts = (
        np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if n_rings else np.zeros(0, np.int64)
    )
    per_rec = np.diff(np.r_[starts, n_rings])
    sub = np.arange(n_rings, dtype=np.int64) - np.repeat(starts, per_rec)
    piece = _Piece(Kind.POLYGON, owner, sub, count, pts)
    multi = per_rec > 1
    if not multi.any() or not split:
        return [piece]
    # several parts: the largest carries the track; the others stand alone or are dropped
    area = _ring_areas(count, pts)
    ring_rec_pos = np.repeat(np.arange(len(starts)), per_rec)
    order = np.lexsort((-area, ring_rec_pos))
    largest = np.zeros(n_rings, bool)
    largest[order[starts]] = True
    multi_recs = owner[starts[multi]]
    parts = per_rec[multi]
    if opts.multipart == "largest":
        for r, k in zip(multi_recs.tolist(), parts.tolist()):
            recs.note(
                report,
                Action.DROPPED,
                "multipart_smaller_parts",
                r,
                f"kept the largest of {k} parts",
            )
        return [_take_shapes(piece, largest)]
    for r, k in zip(multi_recs.tolist(), parts.tolist()):
        recs.note(
            report, Action.SPLIT, "multipart_segmentation", r, f"{k} parts, each its own shape"
        )
    piece.keep_track = largest
    return [piece]


def _ring_areas(counts: IntArray, pts: FloatArray) -> FloatArray:
    """Shoelace area of each ring (absolute), zero for rings of fewer than three points."""
    n = len(counts)
    if not len(pts):
        return np.zeros(n)
    ring = np.repeat(np.arange(n), counts)
    starts = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    nxt = np.arange(len(pts)) + 1
    last = starts[1:][counts > 0] - 1
    nxt[last] = starts[:-1][counts > 0]
    with np.errstate(over="ignore", invalid="ignore"):  # absurd coordinates: inf / nan area
        cross = pts[:, 0] * pts[nxt, 1] - pts[nxt, 0] * pts[:, 1]
        return np.abs(np.bincount(ring, weights=cross, minlength=n)) / 2.0


def _polygon_rings(recs: _Records, rows: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Rings of polygon segmentations ``[[x1, y1, x2, y2, ...], ...]`` (a flat list is one ring)."""
    path = recs.path
    segs = _select(recs.seg, rows)
    first_t = set(map(type, map(itemgetter(0), segs)))
    # a flat list of numbers is one ring (some exporters write it so)
    rings_per = segs if first_t == {list} else [s if type(s[0]) is list else [s] for s in segs]
    n_per = np.fromiter(map(len, rings_per), np.int64, len(rings_per))
    rings = list(chain.from_iterable(rings_per))
    ring_starts = np.zeros(len(rings_per) + 1, np.int64)
    np.cumsum(n_per, out=ring_starts[1:])

    def loc(j: int) -> str:
        k = int(np.searchsorted(ring_starts, j, side="right")) - 1
        return recs.loc(int(rows[k]), "segmentation") + f"[{j - ring_starts[k]}]"

    flat, lengths = _number_lists(rings, path, loc, "a list of x, y coordinates")
    odd = np.flatnonzero(lengths % 2)
    if odd.size:
        j = int(odd[0])
        raise InputError(path, loc(j), f"has an odd number of coordinates ({lengths[j]})")
    return np.repeat(rows, n_per), lengths // 2, flat.reshape(-1, 2)


def _mask_rings(
    recs: _Records, rows: IntArray, frames: Frames, opts: _Options, report: Report
) -> tuple[IntArray, IntArray, FloatArray]:
    """Rings traced from RLE masks (pixel corners; holes filled, specks dropped, both reported)."""
    from prelabel.formats.masks import RLEError, decode_rle, trace_mask

    what = "COCO RLE segmentation"
    owners: list[int] = []
    counts: list[int] = []
    pts: list[FloatArray] = []
    for r, seg in zip(rows.tolist(), _select(recs.seg, rows)):
        f = int(recs.frame[r])
        h, w = float(frames.height[f]), float(frames.width[f])
        loc = recs.loc(r, "segmentation")
        if h != int(h) or w != int(w):
            raise InputError(
                recs.path, loc, f"an RLE mask needs a whole-pixel image size, not {w} x {h}"
            )
        try:
            mask = decode_rle(seg, int(h), int(w), what=what)
        except RLEError as exc:
            raise InputError(recs.path, loc + exc.where, str(exc)) from None
        out = trace_mask(mask, min_area=opts.min_mask_area, what=what)
        for action, reason, detail in out.findings(opts.min_mask_area):
            recs.note(report, action, reason, r, detail)
        if not out.polygons:
            continue
        for p in out.polygons:
            owners.append(r)
            counts.append(len(p))
            pts.append(p)
    return (
        np.asarray(owners, dtype=np.int64),
        np.asarray(counts, dtype=np.int64),
        np.concatenate(pts) if pts else np.zeros((0, 2)),
    )


def _reorder(p: _Piece, order: IntArray) -> _Piece:
    starts = np.zeros(len(p.counts) + 1, np.int64)
    np.cumsum(p.counts, out=starts[1:])
    counts = p.counts[order]
    new_starts = np.zeros(len(order) + 1, np.int64)
    np.cumsum(counts, out=new_starts[1:])
    pidx = np.repeat(starts[:-1][order] - new_starts[:-1], counts) + np.arange(new_starts[-1])
    return _Piece(
        p.kind,
        p.rec[order],
        p.sub[order],
        counts,
        p.points[pidx],
        None if p.point_label is None else p.point_label[pidx],
        None if p.keep_track is None else p.keep_track[order],
        None if p.attributes is None else p.attributes[order],
    )


def _assemble(
    recs: _Records,
    names: tuple[str, ...],
    frames: Frames,
    pieces: list[_Piece],
    opts: _Options,
    report: Report,
) -> Annotations:
    """One table from the pieces, shapes in record order; each piece's points are copied once,
    straight to their final rows."""
    if not pieces:
        return Annotations.empty(frames, names)
    rec = np.concatenate([p.rec for p in pieces])
    sub = np.concatenate([p.sub for p in pieces])
    counts = np.concatenate([p.counts for p in pieces])
    keep_track = np.concatenate(
        [p.keep_track if p.keep_track is not None else np.ones(len(p.rec), bool) for p in pieces]
    )
    kind = np.concatenate([np.full(len(p.rec), int(p.kind), np.int8) for p in pieces])
    attrs = _attribute_column(recs, rec, pieces, opts, report)
    m = len(rec)
    order = np.lexsort((sub, rec))
    in_order = bool(np.all(order == np.arange(m)))
    if in_order and len(pieces) == 1:
        points = pieces[0].points
        pl = pieces[0].point_label
        point_label = pl if pl is not None else np.zeros(len(points), np.int32)
    else:
        position = np.empty(m, np.int64)
        position[order] = np.arange(m)
        out_starts = np.zeros(m + 1, np.int64)
        np.cumsum(counts[order], out=out_starts[1:])
        total = int(out_starts[-1])
        points = np.empty((total, 2), np.float64)
        point_label = np.zeros(total, np.int32)
        first = 0
        for p in pieces:
            k = len(p.rec)
            local = np.zeros(k, np.int64)
            np.cumsum(p.counts[:-1], out=local[1:])
            dest = np.repeat(out_starts[position[first : first + k]] - local, p.counts)
            dest += np.arange(len(p.points))
            points[dest] = p.points
            if p.point_label is not None:
                point_label[dest] = p.point_label
            first += k
        rec, counts, kind, keep_track, attrs = (
            rec[order],
            counts[order],
            kind[order],
            keep_track[order],
            attrs[order],
        )
    offsets = np.zeros(m + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    source = np.empty(m, dtype=object)
    source[:] = recs.sources(rec)
    return Annotations(
        frames=frames,
        labels=names,
        kind=kind,
        frame=recs.frame[rec],
        label=recs.label[rec],
        track=np.where(keep_track, recs.track[rec], -1),
        score=recs.score[rec],
        offsets=offsets,
        points=points,
        point_label=point_label,
        attributes=attrs,
        source=source,
    )


# --- attributes ------------------------------------------------------------------------------
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


def _convert_attributes(recs: _Records, r: int, report: Report) -> dict[str, Any] | None:
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
            if name == "rotation" and type(value) in _NUMBER and value % 360:
                recs.note(
                    report,
                    Action.NOTED,
                    "rotation_ignored",
                    r,
                    f"rotation {value} (the box is kept axis-aligned)",
                )
            continue
        where = _suffix(partial(recs.loc, r, "attributes"), f".{name}")
        converted = _attribute_value(value, recs.path, where)
        if converted is not None:
            out[name] = converted
    return out or None


def _attribute_column(
    recs: _Records, rec: IntArray, pieces: list[_Piece], opts: _Options, report: Report
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


# --- entry point -------------------------------------------------------------------------------
def read_coco(
    path: PathLikeStr,
    *,
    images: PathLikeStr | None = None,
    image_dir: PathLikeStr | None = None,
    multipart: Multipart = "split",
    as_boxes: bool = False,
    keypoints_with_box: bool = False,
    occluded_attribute: str | None = None,
    attributes: bool = True,
    min_mask_area: float = MIN_MASK_AREA,
    report: Report | None = None,
) -> Annotations:
    """Read a COCO file into :class:`Annotations` in pixels.

    ``path`` is an instances file (``images``, ``annotations``, ``categories``; with
    ``videos`` for video / tracking COCO), a YouTube-VIS file (``videos`` with
    ``file_names``), or a results list (a bare JSON list of detections) whose images come
    from ``images`` (an instances or image-info file) or ``image_dir`` (sizes from the file
    headers). ``multipart``: a segmentation in several parts becomes one shape per part
    (``"split"``, reported) or only its largest part (``"largest"``, the rest reported).
    ``as_boxes`` turns every annotation into its rectangle; ``keypoints_with_box`` adds the
    box to each keypoint landmark; ``occluded_attribute`` names a landmark attribute listing
    the points marked occluded (v = 1); ``attributes=False`` leaves ``attributes`` out.
    Bad input raises :class:`InputError` naming the file and the JSON path.
    """
    if multipart not in ("split", "largest"):
        raise ValueError(f"multipart must be 'split' or 'largest', not {multipart!r}")
    opts = _Options(
        multipart, as_boxes, keypoints_with_box, occluded_attribute, attributes, min_mask_area
    )
    report = report if report is not None else Report()
    with paused_gc():
        return _read(path, images, image_dir, opts, report)


def _read(
    path: PathLikeStr,
    images: PathLikeStr | None,
    image_dir: PathLikeStr | None,
    opts: _Options,
    report: Report,
) -> Annotations:
    data = load_json(path)
    if isinstance(data, list):
        return _read_results(data, path, images, image_dir, opts, report)
    if not isinstance(data, dict):
        raise InputError(path, "$", "expected a COCO object or a results list")
    if images is not None:
        raise InputError(path, None, "has its own images; --images is for results lists only")
    if "images" not in data and "videos" in data:
        return _read_ytvis(data, data.get("annotations", []), "$.annotations", path, opts, report)
    if "images" not in data:
        raise InputError(path, "$.images", "missing (not a COCO instances, video or results file)")
    table = _image_table(data, path, image_dir, report)
    cats = _categories(data, path)
    anns = _objects(data.get("annotations", []), path, "$.annotations")
    recs, names = _coco_records(anns, "$.annotations", path, table, cats)
    return _shapes(recs, names, table.frames, opts, report)


def _read_results(
    data: list[Any],
    path: PathLikeStr,
    images: PathLikeStr | None,
    image_dir: PathLikeStr | None,
    opts: _Options,
    report: Report,
) -> Annotations:
    anns = _objects(data, path, "$")
    info: dict[str, Any] | None = None
    if images is not None:
        loaded = load_json(images)
        if not isinstance(loaded, dict):
            raise InputError(images, "$", "expected a COCO object with 'images' (or 'videos')")
        info = loaded
    if anns and "video_id" in anns[0] and "image_id" not in anns[0]:
        if info is None or "videos" not in info:
            raise InputError(
                path, None, "video results need --images FILE with the 'videos' section"
            )
        return _read_ytvis(info, anns, "$", path, opts, report, info_path=images)
    if info is not None:
        table = _image_table(info, images, image_dir, report)  # type: ignore[arg-type]
        cats = _categories(info, images)  # type: ignore[arg-type]
    elif image_dir is not None:
        table = _image_dir_table(image_dir, path)
        cats = _categories(None, path)
    else:
        raise InputError(
            path,
            None,
            "a results list has no image names or sizes: give --images FILE or --image-dir DIR",
        )
    recs, names = _coco_records(anns, "$", path, table, cats)
    return _shapes(recs, names, table.frames, opts, report)


def _read_ytvis(
    info: dict[str, Any],
    anns: Any,
    base: str,
    path: PathLikeStr,
    opts: _Options,
    report: Report,
    info_path: PathLikeStr | None = None,
) -> Annotations:
    ipath = info_path if info_path is not None else path
    vids, vnames, videos = _video_names(info["videos"], ipath)
    frames, first = _ytvis_frames(videos, vnames, ipath)
    cats = _categories(info, ipath)
    anns = _objects(anns, path, base)
    recs, names = _ytvis_records(anns, base, path, vids, first, cats)
    return _shapes(recs, names, frames, opts, report)

"""Images and frames: the ``images`` list, ``videos``, YouTube-VIS ``file_names`` and ``--image-dir``.

Every variant becomes one :class:`Frames` table (name, sequence, index, size) and a way to find
a frame's row from an annotation's ``image_id``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from prelabel._ragged import offsets_from_counts, position_in_run
from prelabel.annotations import FloatArray, Frames, IntArray, ObjArray
from prelabel.errors import InputError, param
from prelabel.formats.coco._columns import (
    NUMBER,
    IdIndex,
    Loc,
    PathLikeStr,
    floats,
    ints,
    item_loc,
    object_list,
    required_values,
    strings,
    values_of,
)
from prelabel.order import natural_rank
from prelabel.paths import resolve_inside, safe_relative
from prelabel.report import Action, Reason, Report

# a file name safe_relative would change or refuse: absolute, drive letter, backslash, NUL,
# empty, "." or ".." component, doubled or trailing slash (a match sends the names the slow way)
_UNUSUAL_NAME = re.compile(r"^/|^.:|\\|\x00|(?:^|/)\.{1,2}(?:/|$)|//|/$|^$", re.MULTILINE)


#: Label Studio's route for files of its local storage: ``/data/local-files/?d=clip/1.png``.
LOCAL_FILES_ROUTE = "/data/local-files/?"


@dataclass(frozen=True)
class ImageTable:
    frames: Frames
    ids: IdIndex | None = None  # image ids (COCO images), or
    by_key: dict[Any, int] | None = None  # image_id -> row (--image-dir)
    ambiguous: dict[Any, list[str]] = field(default_factory=dict)

    def rows(self, image_ids: list[Any], path: PathLikeStr, loc: Loc) -> IntArray:
        if self.ids is not None:
            return self.ids.rows(ints(image_ids, path, loc), path, loc)
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
                raise InputError(
                    path, loc(i), f"no image file for image_id {key!r} in {param('image_dir')}"
                )
            out[i] = row
        return out


def safe_names(names: list[str], path: PathLikeStr, loc: Loc) -> list[str]:
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
            Reason.LABEL_STUDIO_LOCAL_FILES,
            source=loc(rows[0]),
            detail=f"{len(rows)} file_name(s) read as Label Studio local-files URLs: the frame "
            "is the d= path (URL-decoded), relative to Label Studio's local-files document root",
        )
    return out


def parent_folder(name: str) -> str:
    return name.rpartition("/")[0]


def name_rank(names: ObjArray, sequences: ObjArray) -> IntArray:
    """Each frame's position in its sequence when frames are in natural name order."""
    return natural_rank(names.tolist(), [str(s) for s in sequences.tolist()])


def video_names(videos: Any, path: PathLikeStr) -> tuple[IdIndex, list[str], list[dict[str, Any]]]:
    videos = object_list(videos, path, "$.videos")
    ids = IdIndex(
        ints(required_values(videos, "id", path, "$.videos"), path, item_loc("$.videos", "id")),
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
            name = parent_folder(first.replace("\\", "/")) or str(v["id"])
            where = f"$.videos[{i}].file_names[0]"
        elif type(name) is not str or not name:
            raise InputError(path, f"$.videos[{i}].name", "must be a non-empty string")
        else:
            where = f"$.videos[{i}].name"
        if "\x00" in name:
            raise InputError(path, where, f"{name!r} contains a NUL byte")
        names.append(name)
    return ids, names, videos


def image_table(
    data: dict[str, Any], path: PathLikeStr, image_dir: PathLikeStr | None, report: Report
) -> ImageTable:
    """Frames from a COCO ``images`` list (with ``videos`` when the file has them)."""
    images = object_list(data.get("images"), path, "$.images")
    n = len(images)
    ids = IdIndex(
        ints(required_values(images, "id", path, "$.images"), path, item_loc("$.images", "id")),
        path,
        "$.images",
        "image",
    )
    loc_name = item_loc("$.images", "file_name")
    raw_names = strings(required_values(images, "file_name", path, "$.images"), path, loc_name)
    names = safe_names(_local_files_names(raw_names, path, loc_name, report), path, loc_name)
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
    video_ids = values_of(images, "video_id")
    has_video = [v is not None for v in video_ids]
    sequences = np.empty(n, dtype=object)
    sequences[:] = [parent_folder(x) for x in names]
    index = np.full(n, -1, dtype=np.int64)
    if any(has_video):
        if "videos" not in data:
            i = has_video.index(True)
            raise InputError(path, f"$.images[{i}].video_id", "the file has no 'videos' section")
        vids, vnames, _ = video_names(data["videos"], path)
        rows = np.flatnonzero(has_video)
        loc = item_loc("$.images", "video_id")
        vrow = vids.rows(
            ints([video_ids[i] for i in rows.tolist()], path, lambda k: loc(int(rows[k]))),
            path,
            lambda k: loc(int(rows[k])),
        )
        sequences[rows] = np.asarray(vnames, dtype=object)[vrow]
        frame_no = [x.get("frame_id", x.get("frame_index")) for x in images]
        known = np.flatnonzero([f is not None for f in frame_no])
        if known.size:
            floc = item_loc("$.images", "frame_id")
            index[known] = ints(
                [frame_no[i] for i in known.tolist()], path, lambda k: floc(int(known[k]))
            )
    name_col = np.empty(n, dtype=object)
    name_col[:] = names
    unset = index < 0
    if unset.any():
        index[unset] = name_rank(name_col, sequences)[unset]
    frames = Frames(
        name=name_col,
        sequence=sequences,
        index=index,
        width=width,
        height=height,
        frame_id=blank(n),
        src=blank(n),
    )
    return ImageTable(frames, ids=ids)


def blank(n: int) -> ObjArray:
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
    loc = item_loc("$.images", key)
    values = values_of(images, key)
    missing = [i for i, v in enumerate(values) if v is None] if None in values else []
    if missing:
        if image_dir is None:
            raise InputError(
                path, loc(missing[0]), f"missing (or give {param('image_dir')} to read it)"
            )
        from prelabel.imagesize import image_size  # imagesize pulls in urllib, ssl and xml

        axis = 0 if key == "width" else 1
        for i in missing:
            file = resolve_inside(
                image_dir, names[i], path=path, location=f"$.images[{i}].file_name"
            )
            values[i] = image_size(file)[axis]
    out = floats(values, path, loc)
    bad = np.flatnonzero(~(out > 0))
    if bad.size:
        i = int(bad[0])
        raise InputError(path, loc(i), f"must be a positive number of pixels, not {values[i]}")
    return out


def image_dir_table(image_dir: PathLikeStr) -> ImageTable:
    """Frames from the image files under ``image_dir`` (sizes from their headers).

    A results ``image_id`` names the file whose stem is that id: ``397133`` matches
    ``000000397133.jpg`` (the stem read as an integer) and ``"frame_7"`` matches ``frame_7.png``.
    """
    from prelabel.imagesize import IMAGE_SUFFIXES, image_size  # the one set every reader scans for

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
    seqs[:] = [parent_folder(x) for x in found]
    frames = Frames(
        name=names,
        sequence=seqs,
        index=name_rank(names, seqs),
        width=width,
        height=height,
        frame_id=blank(n),
        src=blank(n),
    )
    return ImageTable(frames, by_key=by_key, ambiguous=ambiguous)


def ytvis_frames(
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
        files.extend(safe_names(fn, path, item_loc(where)))
        counts.append(len(fn))
        for key, out in (("width", width), ("height", height)):
            val: Any = v.get(key)
            if type(val) not in NUMBER or not val > 0:
                raise InputError(
                    path, f"$.videos[{i}].{key}", "must be a positive number of pixels"
                )
            out.append(float(val))
    n_per = np.array(counts, dtype=np.int64)
    first = offsets_from_counts(n_per)
    n = int(first[-1])
    name_col = np.empty(n, dtype=object)
    name_col[:] = files
    seq = np.empty(n, dtype=object)
    seq[:] = np.repeat(np.asarray(names, dtype=object), n_per) if n else []
    frames = Frames(
        name=name_col,
        sequence=seq,
        index=position_in_run(n_per),
        width=np.repeat(np.asarray(width, dtype=np.float64), n_per),
        height=np.repeat(np.asarray(height, dtype=np.float64), n_per),
        frame_id=blank(n),
        src=blank(n),
    )
    return frames, first

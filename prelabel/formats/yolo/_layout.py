"""YOLO label files -> :class:`~prelabel.annotations.Annotations`.

Layouts: Ultralytics (``data.yaml`` with ``images/`` and ``labels/`` trees that mirror each
other, or image lists), Darknet (``obj.data``, ``obj.names``, ``train.txt``,
``obj_train_data/``) and a bare folder of ``.txt`` files with a names file. Rows are
``cls`` plus a geometry (box, polygon, keypoints, oriented box) plus optional ``conf`` and
``track`` columns. The row schema is declared (``task``, ``columns``, data.yaml's ``task`` or
``kpt_shape``) or, when nothing declares it, read from the rows where only one reading fits
them (5 values a box, an odd number >= 7 a polygon, as Ultralytics' own loader tells them
apart); two readings that give different shapes are refused, naming both.

Reading 10k small files is the cost, so the reader does as little per file as it can: one
``os.read`` per label file, then every file's bytes joined into one buffer that numpy splits
into lines and tokens and ``np.fromstring`` parses in one call. Per-line Python work happens
only for lines that are refused.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from prelabel.annotations import Annotations, FloatArray, Frames, IntArray, Kind, _obj
from prelabel.errors import InputError
from prelabel.gcpause import paused_gc
from prelabel.imagesize import image_sizes
from prelabel.jsonio import load_yaml
from prelabel.order import natural_order
from prelabel.paths import resolve_inside, safe_relative
from prelabel.report import Action, Report

__all__ = ["TASKS", "Schema", "parse_columns", "read_yolo", "schema_for_task"]

# Ultralytics' IMG_FORMATS (data/utils.py), the suffixes an image folder is scanned for.
IMAGE_SUFFIXES = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}
)
TASKS = ("detect", "segment", "pose", "obb")
_NAMES_FILES = ("classes.txt", "obj.names", "names.txt", "data.names")
_BOM = b"\xef\xbb\xbf"
# \t \v \f \r count as spaces; '\n' ends a line (so '\r\n' files read like '\n' files)
_SPACES = bytes.maketrans(b"\t\v\f\r", b"    ")
# A corner this close (in source units) to the box's min/max counts as on it (OBB -> rectangle).
_AXIS_TOL_NORMALISED = 1e-9
_AXIS_TOL_PIXELS = 1e-6
# Without names, classes are named "0".."N": a bound keeps a typo from naming a billion.
_MAX_UNNAMED_CLASS = 100_000
_MAX_TRACK = 2**53  # beyond this a float is no longer a whole number one can trust
# Values a row could hold at most: a longer declared row (kpt_shape [1e9, 3]) fits no file.
_MAX_ROW = 2**40
_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)


# --- row schema -----------------------------------------------------------------------------
_ALIASES = {
    "cls": "cls", "class": "cls", "class_id": "cls",
    "box": "box", "xywh": "box", "bbox": "box",
    "poly": "poly", "polygon": "poly", "seg": "poly", "segment": "poly",
    "obb": "obb", "xyxyxyxy": "obb",
    "kpts": "kpts", "kpt": "kpts", "keypoints": "kpts",
    "conf": "conf", "score": "conf", "confidence": "conf",
    "track": "track", "id": "track", "track_id": "track",
}  # fmt: skip
_GEOMETRY = ("box", "poly", "obb", "kpts")


@dataclass(frozen=True)
class Schema:
    """The columns of one label row, in order; ``kpts`` is (K points, 2 or 3 values each)."""

    items: tuple[str, ...]
    kpts: tuple[int, int] | None = None

    def size(self, item: str) -> int:
        """Values of a fixed-size item (``poly`` is variable and has none)."""
        if item == "kpts":
            assert self.kpts is not None
            return self.kpts[0] * self.kpts[1]
        return {"cls": 1, "box": 4, "obb": 8, "conf": 1, "track": 1}[item]

    @property
    def variable(self) -> bool:
        return "poly" in self.items

    @property
    def fixed(self) -> int:
        """Values of every fixed-size item together."""
        return sum(self.size(i) for i in self.items if i != "poly")

    def describe(self) -> str:
        """The row as a reader would write it: ``cls xc yc w h conf``."""
        words = {
            "cls": "cls",
            "box": "xc yc w h",
            "obb": "x1 y1 x2 y2 x3 y3 x4 y4",
            "poly": "x1 y1 ... xn yn",
            "conf": "conf",
            "track": "track",
        }
        out = []
        for item in self.items:
            if item == "kpts":
                assert self.kpts is not None
                k, d = self.kpts
                out.append(f"+ {k} keypoints x y{' v' if d == 3 else ''}")
            else:
                out.append(words[item])
        return " ".join(out)

    def wants(self) -> str:
        """``5 values (cls xc yc w h)`` and the like, for error messages."""
        if not self.variable:
            return f"{self.fixed} values ({self.describe()})"
        parity = "an odd" if self.fixed % 2 else "an even"
        return f"{parity} number of values, at least {self.fixed + 6} ({self.describe()})"

    def expectation(self) -> str:
        """``expected 5 values (cls xc yc w h)`` and the like, for error messages."""
        return f"expected {self.wants()}"

    def fits(self, ncol: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Per line: does a row of ``ncol`` values fit this schema?"""
        if self.fixed > _MAX_ROW:  # no file holds such a row (and numpy's int64 could not say so)
            return np.zeros(len(ncol), dtype=bool)
        if not self.variable:
            return ncol == self.fixed
        rest = ncol - self.fixed
        return (rest >= 6) & (rest % 2 == 0)

    @property
    def untracked(self) -> Schema | None:
        """The same row without its trailing ``track`` (what a tracker writes for a shape it
        gave no id), or None when ``track`` is not the last column."""
        if len(self.items) > 2 and self.items[-1] == "track":
            return Schema(self.items[:-1], self.kpts)
        return None

    def __str__(self) -> str:
        return ",".join(
            f"kpts:{self.kpts[0]}x{self.kpts[1]}" if i == "kpts" and self.kpts else i
            for i in self.items
        )


@dataclass(frozen=True)
class Reading:
    """How the rows of a data set are read: one schema per row length (the schemas' lengths
    never overlap, so each row has at most one), and where that came from.

    ``declared`` names the option or data.yaml key that declared it; None when it was read
    from the rows themselves (:func:`_infer_reading`).
    """

    schemas: tuple[Schema, ...]
    declared: str | None = None

    @classmethod
    def of(cls, schema: Schema, declared: str) -> Reading:
        """A declared schema; one ending in ``track`` also takes rows without it (untracked)."""
        untracked = schema.untracked
        return cls((schema,) if untracked is None else (schema, untracked), declared)

    def expectation(self) -> str:
        return "expected " + " or ".join(s.wants() for s in self.schemas)

    def schema_ids(self, ncol: IntArray) -> IntArray:
        """Per line: the index of the schema its length fits, -1 for none."""
        sid = np.full(len(ncol), -1, dtype=np.int64)
        for k, s in enumerate(self.schemas):
            sid[(sid < 0) & s.fits(ncol)] = k
        return sid

    def full_columns(self, schema: Schema) -> str:
        """The ``--columns`` that reads rows like ``schema`` (with its track column, if any)."""
        for s in self.schemas:
            if s == schema or s.untracked == schema:
                return str(s)
        return str(schema)


# Ultralytics' pose models predict COCO's 17 keypoints, each x y and a confidence
_POSE_PREDICTION = (17, 3)


def _shape_readings() -> tuple[Reading, ...]:
    """What Ultralytics' ``save_txt`` writes: ``cls``, a box or a polygon (an oriented box is a
    4-point polygon), then ``conf`` with ``save_conf``, then the track id when the tracker gave
    one. Boxes and polygons may mix row by row (Label Studio's YOLO export). Last, a pose
    model's box and 17 keypoints: rarely the only fit, but a 57-value row is then refused as
    "polygon or pose" instead of read as a 28-point polygon."""
    out = []
    for geometries in ((("box", None), ("poly", None)), (("box+kpts", _POSE_PREDICTION),)):
        for trailing in ((), ("conf",), ("track",), ("conf", "track")):
            schemas: list[Schema] = []
            for geometry, kpts in geometries:
                s = Schema(("cls", *geometry.split("+"), *trailing), kpts)
                schemas.append(s)
                if s.untracked is not None:
                    schemas.append(s.untracked)
            out.append(Reading(tuple(schemas)))
    return tuple(out)


def schema_for_task(task: str, kpt_shape: tuple[int, int] | None = None) -> Schema:
    """The annotation rows of an Ultralytics task (no conf or track column)."""
    items = {
        "detect": "cls,box",
        "segment": "cls,poly",
        "pose": "cls,box,kpts",
        "obb": "cls,obb",
    }.get(task)
    if items is None:
        raise InputError(None, "--task", f"unknown task {task!r}; one of {', '.join(TASKS)}")
    return parse_columns(items, kpt_shape=kpt_shape)


_KPTS_RE = re.compile(r"^(\w+?)(?::?(\d+)x(\d+))?$")


def parse_columns(spec: str, *, kpt_shape: tuple[int, int] | None = None) -> Schema:
    """A :class:`Schema` from ``"cls,box,conf,track"``-style text.

    Items (comma or space separated, case-insensitive): ``cls``; one geometry, ``box``
    (xc yc w h), ``poly`` (x1 y1 ... xn yn, variable), ``obb`` (4 corners) or ``kpts[:KxD]``
    (K keypoints of D = 2 or 3 values, usually after ``box``); then ``conf`` and ``track`` in
    the order the file has them. ``kpts`` without a shape takes ``kpt_shape`` (data.yaml).
    """
    items: list[str] = []
    kpts: tuple[int, int] | None = None
    for raw in re.split(r"[,\s]+", spec.strip()):
        if not raw:
            continue
        m = _KPTS_RE.match(raw.lower())
        item = _ALIASES.get(m.group(1)) if m else None
        if m is None or item is None or (m.group(2) and item != "kpts"):
            raise InputError(
                None,
                "--columns",
                f"unknown column {raw!r}; use cls, box, poly, obb, kpts[:KxD], conf, track",
            )
        if item in items:
            raise InputError(None, "--columns", f"column {item!r} given twice")
        if item == "kpts":
            if m.group(2):
                kpts = (int(m.group(2)), int(m.group(3)))
            elif kpt_shape is not None:
                kpts = kpt_shape
            else:
                raise InputError(
                    None, "--columns", "kpts needs a shape: kpts:17x3 (or kpt_shape in data.yaml)"
                )
            if kpts[0] < 1 or kpts[1] not in (2, 3):
                raise InputError(
                    None, "--columns", f"keypoint shape {kpts[0]}x{kpts[1]}: K >= 1 and D 2 or 3"
                )
        items.append(item)
    geometry = [i for i in items if i in _GEOMETRY]
    if items.count("cls") != 1:
        raise InputError(None, "--columns", "the columns need exactly one cls")
    if not geometry:
        raise InputError(None, "--columns", "the columns need a geometry: box, poly, obb or kpts")
    if len(geometry) > 1 and sorted(geometry) != ["box", "kpts"]:
        raise InputError(
            None, "--columns", f"one geometry per row (box with kpts for pose), got {geometry}"
        )
    return Schema(tuple(items), kpts)


# --- layout: which label file belongs to which image ------------------------------------------
@dataclass
class _Layout:
    """Frames of a data set and their label files, before any label is read."""

    root: str  # names are relative to this folder
    names: list[str] | None = None
    task: str | None = None
    kpt_shape: tuple[int, int] | None = None
    yaml_path: str | None = None  # the data.yaml that declared task / kpt_shape
    # one row per frame: image name (relative to root), image file or None, label file or None,
    # the label's name for messages (relative to root), the label's key for --image-dir matching
    frame_name: list[str] = field(default_factory=list)
    image: list[str | None] = field(default_factory=list)
    label: list[str | None] = field(default_factory=list)
    label_rel: list[str] = field(default_factory=list)
    label_key: list[str] = field(default_factory=list)
    # a video's frame read from Ultralytics' '<video>_<N>.txt': its sequence and N (else None)
    video: list[tuple[str, int] | None] = field(default_factory=list)
    orphans: list[tuple[str, str, str]] = field(default_factory=list)  # path, rel, key
    missing: list[tuple[str, str, str, int]] = field(default_factory=list)  # name, list, rel, line
    notes: list[tuple[str, str]] = field(default_factory=list)  # reason, source
    skipped: dict[str, str] = field(default_factory=dict)  # source -> why it was not read

    def add(
        self, name: str, image: str | None, label: str | None, rel: str, key: str,
        video: tuple[str, int] | None = None,
    ) -> None:  # fmt: skip
        self.frame_name.append(name)
        self.image.append(image)
        self.label.append(label)
        self.label_rel.append(rel)
        self.label_key.append(key)
        self.video.append(video)


_FRAME_COLUMNS = ("frame_name", "image", "label", "label_rel", "label_key", "video")


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _strip_suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > name.rfind("/") else name


def _walk(
    top: str, root: str, skipped: dict[str, str] | None = None, exclude: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    """(path relative to ``top`` with '/', full path) of every file under ``top``, sorted by
    folder; links followed only while they stay inside ``root``. Hidden entries are skipped;
    with ``skipped`` (source relative to ``root`` -> reason), hidden label files and folders
    are recorded there. Folders named in ``exclude`` are left out at the top."""
    stack = [("", top)]
    while stack:
        rel, full = stack.pop()
        try:
            entries = list(os.scandir(full))
        except OSError as exc:
            raise InputError(full, None, f"cannot list folder: {exc.strerror or exc}") from None
        subdirs = []
        for e in entries:
            if e.name.startswith("."):
                if skipped is not None:
                    if e.is_dir():
                        skipped[_rel(e.path, root) + "/"] = "hidden folder"
                    elif e.name.endswith(".txt"):
                        skipped[_rel(e.path, root)] = "hidden label file"
                continue
            if e.is_symlink():
                resolve_inside(root, _rel(e.path, root), path=e.path, location=None)
            r = f"{rel}{e.name}"
            if e.is_dir():
                if not rel and e.name in exclude:
                    continue
                subdirs.append((r + "/", e.path))
            else:
                yield r, e.path
        stack.extend(sorted(subdirs, reverse=True))


def _mirror(rel: str) -> str:
    """Ultralytics' img2label_paths on a path relative to the data set root: the last
    ``images`` folder of the path becomes ``labels`` ("" when there is none)."""
    head, sep, tail = f"/{rel}".rpartition("/images/")
    return f"{head}/labels/{tail}"[1:] if sep else ""


def _base(folder: str, root: str) -> str:
    """The prefix of names inside ``folder``, relative to ``root``: "" or "a/b/"."""
    rel = _rel(folder, root)
    return "" if rel == "." else rel + "/"


def _is_names_file(full: str, names_path: str | None) -> bool:
    """The names file given, or a file named like one (classes.txt, names.txt): not labels."""
    base = os.path.basename(full)
    if base in _NAMES_FILES:
        return True
    return bool(
        names_path
        and base == os.path.basename(names_path)
        and os.path.realpath(full) == os.path.realpath(names_path)
    )


def _load_yaml(path: str) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping (names, path, train, val, ...)")
    return data


def _yaml_names(data: dict[str, Any], path: str) -> list[str] | None:
    names = data.get("names")
    nc = data.get("nc")
    if nc is not None and (type(nc) is not int or nc < 0):
        raise InputError(path, "nc", f"nc must be a whole number >= 0, got {nc!r}")
    if names is None:
        if nc:
            if nc > _MAX_UNNAMED_CLASS:  # 'class_0' .. for a billion classes: refuse, not OOM
                raise InputError(
                    path, "nc", f"nc is {nc:,} without names: at most {_MAX_UNNAMED_CLASS:,}"
                )
            return [f"class_{i}" for i in range(nc)]  # what Ultralytics does without names
        return None
    if isinstance(names, dict):
        if not all(type(k) is int for k in names):
            raise InputError(path, "names", "class ids of names must be whole numbers 0..N-1")
        keys = sorted(names)
        if keys != list(range(len(keys))):
            raise InputError(path, "names", "class ids of names must be 0..N-1")
        values = [names[k] for k in keys]
    elif isinstance(names, list):
        values = names
    else:
        raise InputError(path, "names", "names must be a list or a mapping of class id to name")
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, (str, int, float)) or isinstance(v, bool) or not str(v).strip():
            raise InputError(path, f"names[{i}]", f"class name {v!r} is not a non-empty name")
        out.append(_check_class_name(str(v), path, f"names[{i}]"))
    if nc is not None and nc != len(out):
        raise InputError(path, "nc", f"nc is {nc} but names has {len(out)} entries")
    return out


# C0 and C1 controls and DEL: a label is shown to people and a NUL ends a string in C code
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_class_name(name: str, path: str | None, where: str) -> str:
    bad = _CONTROL.search(name)
    if bad:
        raise InputError(
            path, where,
            f"class name {name!r} has a control character (U+{ord(bad.group()):04X})",
        )  # fmt: skip
    return name


def _read_names_file(path: str) -> list[str]:
    if path.endswith((".yaml", ".yml")):
        names = _yaml_names(_load_yaml(path), path)
        if names is None:
            raise InputError(path, None, "no names in this file")
        return names
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"not UTF-8 text: {exc.reason}") from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    for i, line in enumerate(lines):
        if not line:
            raise InputError(path, str(i + 1), "empty class name")
        _check_class_name(line, path, str(i + 1))
    if not lines:
        raise InputError(path, None, "no class names in this file")
    return lines


def _kpt_shape(data: dict[str, Any], path: str) -> tuple[int, int] | None:
    ks = data.get("kpt_shape")
    if ks is None:
        return None
    if (
        not isinstance(ks, list)
        or len(ks) != 2
        or not all(type(v) is int for v in ks)
        or ks[0] < 1
        or ks[1] not in (2, 3)
    ):
        raise InputError(path, "kpt_shape", f"expected [K, 2] or [K, 3], got {ks!r}")
    return int(ks[0]), int(ks[1])


class _DirCache:
    """Names of the files of a folder (and which are links), listed once."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._inside: set[str] = set()

    def _listing(self, folder: str) -> tuple[frozenset[str], frozenset[str]]:
        got = self._files.get(folder)
        if got is None:
            try:
                entries = list(os.scandir(folder or "."))
            except OSError:
                entries = []
            got = (
                frozenset(e.name for e in entries),
                frozenset(e.name for e in entries if e.is_symlink()),
            )
            self._files[folder] = got
        return got

    def exists(self, path: str) -> bool:
        folder, name = os.path.split(path)
        return name in self._listing(folder)[0]

    def check_inside(self, root: str, rel: str, *, path: str, location: str) -> None:
        """``resolve_inside`` for a listed file, resolving each folder once and the file
        itself only when it is a link (10k ``Path.resolve`` calls would cost half a second)."""
        folder = posixpath.dirname(rel)
        if folder not in self._inside:
            resolve_inside(root, folder or ".", path=path, location=location)
            self._inside.add(folder)
        head, name = os.path.split(os.path.join(root, rel))
        if name in self._listing(head)[1]:
            resolve_inside(root, rel, path=path, location=location)


def _list_entries(
    lst: str, root: str, lay: _Layout, cache: _DirCache, seen: set[str], report_missing: bool
) -> None:
    """Frames from an image list (``train.txt``): one image path per line."""
    try:
        with open(lst, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(lst, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(lst, None, f"not UTF-8 text: {exc.reason}") from None
    lst_rel = _rel(lst, root)
    parent = _base(os.path.dirname(lst) or ".", root)
    for i, raw in enumerate(text.splitlines(), 1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        loc = str(i)
        rel = safe_relative(entry, path=lst, location=loc)
        if entry.startswith("./") and parent:  # Ultralytics: './x' is beside the list
            rel = safe_relative(posixpath.normpath(parent + rel), path=lst, location=loc)
        full = os.path.join(root, rel)
        if not cache.exists(full) and "/" in rel:
            # Darknet lists name images from darknet's working folder: 'data/obj_train_data/a.jpg'
            # with obj.data inside 'data/'; drop that first folder when the path does not exist.
            alt = rel.split("/", 1)[1]
            alt_full = os.path.join(root, alt)
            if cache.exists(alt_full) or cache.exists(os.path.splitext(alt_full)[0] + ".txt"):
                rel, full = alt, alt_full
        if rel in seen:
            continue
        seen.add(rel)
        image: str | None = full
        if cache.exists(full):
            cache.check_inside(root, rel, path=lst, location=loc)
        else:
            image = None
            if report_missing:
                lay.missing.append((rel, lst, lst_rel, i))
        key = _strip_suffix(rel)
        label = label_rel = None
        for cand in (_mirror(key), key):
            if cand and cache.exists(os.path.join(root, cand + ".txt")):
                label_rel = cand + ".txt"
                label = os.path.join(root, label_rel)
                break
        lay.add(rel, image, label, label_rel or "", key)


def _dir_entries(split_dir: str, root: str, lay: _Layout, seen: set[str]) -> None:
    """Frames from an image folder, labels from its mirror (``labels/``) or beside the images."""
    images: dict[str, str] = {}  # key (relative path without suffix) -> relative image path
    sibling: dict[str, str] = {}
    for rel, _full in _walk(split_dir, root, lay.skipped):
        suffix = os.path.splitext(rel)[1].lower()
        if suffix in IMAGE_SUFFIXES:
            key = _strip_suffix(rel)
            if key in images:
                raise InputError(
                    os.path.join(split_dir, rel), None,
                    f"two images share one label file: {images[key]} and {rel}",
                )  # fmt: skip
            images[key] = rel
        elif suffix == ".txt":
            sibling[_strip_suffix(rel)] = rel
    base = _base(split_dir, root)
    mirror = _mirror(base)
    labels = sibling
    label_dir, label_base = split_dir, base
    if mirror and os.path.isdir(os.path.join(root, mirror)):
        label_dir, label_base = os.path.join(root, mirror), mirror
        labels = {r[:-4]: r for r, _ in _walk(label_dir, root, lay.skipped) if r.endswith(".txt")}
        if images:
            for rel in sibling.values():  # Ultralytics reads labels/ only, so do we: reported
                if os.path.basename(rel) not in _NAMES_FILES:
                    lay.skipped[base + rel] = "label file beside its image (labels/ is read)"
    if not images:
        return
    for key in sorted(images):
        name = base + images[key]
        if name in seen:
            continue
        seen.add(name)
        lab = labels.get(key)
        lay.add(
            name,
            os.path.join(split_dir, images[key]),
            os.path.join(label_dir, lab) if lab else None,
            label_base + lab if lab else "",
            key,
        )
    for key in sorted(labels.keys() - images.keys()):
        lay.orphans.append((os.path.join(label_dir, labels[key]), label_base + labels[key], key))


# Ultralytics names the label file of a video frame '<video stem>_<frame number>.txt' (N from 1)
_VIDEO_FRAME = re.compile(r"^(.+)_([1-9][0-9]{0,11})$")


def _video_frames(keys: list[str]) -> list[tuple[str, int] | None]:
    """(sequence, N) per label key where its folder holds only ``<video>_<N>`` files, the
    names Ultralytics' predictor gives a video's frames; None elsewhere. The sequence is the
    folder and the video's stem (``clips/cam1``), one per video."""
    by_folder: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_folder.setdefault(key.rpartition("/")[0], []).append(i)
    out: list[tuple[str, int] | None] = [None] * len(keys)
    for folder, members in by_folder.items():
        matches = [_VIDEO_FRAME.match(keys[i].rpartition("/")[2]) for i in members]
        if not all(matches):
            continue
        for i, m in zip(members, matches):
            assert m is not None
            out[i] = (posixpath.join(folder, m.group(1)), int(m.group(2)))
    return out


def _labels_only(
    label_root: str, root: str, lay: _Layout, names_path: str | None,
    exclude: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Frames named after label files, when no image is there to name them."""
    base = _base(label_root, root)
    found = [
        (rel, full)
        for rel, full in sorted(_walk(label_root, root, lay.skipped, exclude))
        if rel.endswith(".txt") and not _is_names_file(full, names_path)
    ]
    videos = _video_frames([rel[:-4] for rel, _ in found])
    for (rel, full), video in zip(found, videos):
        key = rel[:-4]
        lay.add(base + key, None, full, base + rel, key, video)


def _outside_labels(folder: str, lay: _Layout, names_path: str | None) -> None:
    """Label files of a bare folder that are neither under ``labels/`` nor beside an image in
    ``images/``: no image is theirs, so they are skipped and reported."""
    for rel, full in _walk(folder, folder, lay.skipped, exclude=("labels", "images")):
        if rel.endswith(".txt") and not _is_names_file(full, names_path):
            lay.skipped[rel] = "label file outside labels/ (images/ has the frames)"


def _ultralytics(yaml_path: str, names_file: str | None) -> _Layout:
    data = _load_yaml(yaml_path)
    here = os.path.dirname(yaml_path) or "."
    root = here
    lay = _Layout(root=root)
    p = data.get("path")
    if isinstance(p, str) and p.strip() not in ("", "."):
        if os.path.isabs(p):
            # A data.yaml written on another machine; the data set is the folder of data.yaml.
            if os.path.realpath(p) != os.path.realpath(here):
                lay.notes.append(("absolute data.yaml path ignored", f"{yaml_path}:path"))
        else:
            resolve_inside(here, p, path=yaml_path, location="path")
            root = os.path.join(here, safe_relative(p, path=yaml_path, location="path"))
    lay.root = root
    lay.names = _read_names_file(names_file) if names_file else _yaml_names(data, yaml_path)
    task = data.get("task")
    if task is not None and task not in TASKS:
        raise InputError(yaml_path, "task", f"unknown task {task!r}; one of {', '.join(TASKS)}")
    lay.task = task
    lay.kpt_shape = _kpt_shape(data, yaml_path)
    lay.yaml_path = yaml_path
    cache = _DirCache()
    seen: set[str] = set()
    for split in ("train", "val", "test"):
        value = data.get(split)
        if value is None:
            continue
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, str):
                raise InputError(yaml_path, split, "expected a folder or list file path")
            rel = entry.strip()
            if rel.startswith("../") and not os.path.exists(os.path.join(root, rel)):
                rel = rel[3:]  # Ultralytics' own fallback for Roboflow-style '../train/images'
            resolve_inside(root, rel, path=yaml_path, location=split)
            target = os.path.join(root, safe_relative(rel, path=yaml_path, location=split))
            if os.path.isdir(target):
                _dir_entries(target, root, lay, seen)
            elif os.path.isfile(target):
                _list_entries(target, root, lay, cache, seen, report_missing=True)
            else:
                lay.notes.append(("split not found", f"{yaml_path}:{split}"))
    labels = os.path.join(root, "labels")
    images = os.path.join(root, "images")
    if not lay.frame_name and os.path.isdir(labels) and os.path.isdir(images):
        # no split (supervision writes only nc and names), or splits without images: the
        # images of images/, which labels/ mirrors, as in a bare folder
        lay.orphans = []
        _dir_entries(images, root, lay, seen)
    if not lay.frame_name:  # no image anywhere: the labels alone
        lay.orphans = []
        _labels_only(labels if os.path.isdir(labels) else root, root, lay, names_file)
    return lay


def _darknet(data_path: str, names_file: str | None) -> _Layout:
    root = os.path.dirname(data_path) or "."
    lay = _Layout(root=root)
    try:
        with open(data_path, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(data_path, None, f"cannot read: {exc}") from None
    values: dict[str, tuple[str, int]] = {}
    for i, line in enumerate(text.splitlines(), 1):
        key, eq, value = line.partition("=")
        if eq:
            values[key.strip().lower()] = (value.strip(), i)

    def locate(key: str) -> str | None:
        if key not in values:
            return None
        value, line = values[key]
        rel = safe_relative(value, path=data_path, location=str(line))
        full = os.path.join(root, rel)
        if not os.path.exists(full) and "/" in rel:
            full = os.path.join(root, rel.split("/", 1)[1])  # 'data/obj.names' beside obj.data
        return full if os.path.exists(full) else None

    names_path = names_file or locate("names") or _find_names(root)
    lay.names = _read_names_file(names_path) if names_path else None
    cache = _DirCache()
    seen: set[str] = set()
    # darknet reads train and valid; datumaro writes (and reads) every other key as a subset
    # list (`val = data/val.txt`): all of them are read, but the keys that are not lists
    subsets = sorted(
        (k for k in values if k not in _DARKNET_NOT_LISTS),
        key=lambda k: _DARKNET_FIRST.index(k) if k in _DARKNET_FIRST else len(_DARKNET_FIRST),
    )
    lists = []
    for key in subsets:
        found = locate(key)
        if found is None or not os.path.isfile(found):
            reason = "list not found" if found is None else "list is not a file"
            lay.notes.append((reason, f"{data_path}:{values[key][1]}"))
        else:
            lists.append(found)
    for lst in lists:
        _list_entries(lst, root, lay, cache, seen, report_missing=True)
    if not lists:
        _bare_into(root, lay, names_path)
    return lay


_DARKNET_NOT_LISTS = frozenset({"classes", "names", "backup", "eval", "results", "map"})
_DARKNET_FIRST = ("train", "valid", "val", "test")


def _find_names(folder: str) -> str | None:
    for n in _NAMES_FILES:
        p = os.path.join(folder, n)
        if os.path.isfile(p):
            return p
    return None


def _bare_into(folder: str, lay: _Layout, names_path: str | None) -> None:
    labels = os.path.join(folder, "labels")
    images = os.path.join(folder, "images")
    if os.path.isdir(labels) and os.path.isdir(images):
        _dir_entries(images, folder, lay, set())
        if lay.frame_name:
            _outside_labels(folder, lay, names_path)
            return
        lay.orphans = []
    if os.path.isdir(labels):
        # no images: every label file is a frame, those under labels/ and those beside it
        _labels_only(labels, folder, lay, names_path)
        _labels_only(folder, folder, lay, names_path, exclude=("labels",))
        return
    before = len(lay.frame_name)
    _dir_entries(folder, folder, lay, set())
    # names files and label files without images in a folder that has images: orphans already;
    # a folder without any image: every label file is a frame named after it
    lay.orphans = [o for o in lay.orphans if not _is_names_file(o[0], names_path)]
    if len(lay.frame_name) == before:
        lay.orphans = []
        _labels_only(folder, folder, lay, names_path)


def _bare(folder: str, names_file: str | None) -> _Layout:
    lay = _Layout(root=folder)
    names_path = names_file or _find_names(folder)
    lay.names = _read_names_file(names_path) if names_path else None
    _bare_into(folder, lay, names_path)
    return lay


def _discover(path: str, names_file: str | None) -> _Layout:
    if os.path.isfile(path):
        if path.endswith((".yaml", ".yml")):
            return _ultralytics(path, names_file)
        if path.endswith(".data"):
            return _darknet(path, names_file)
        raise InputError(path, None, "expected data.yaml, obj.data or a folder of label files")
    if not os.path.isdir(path):
        raise InputError(path, None, "no such file or folder")
    for n in ("data.yaml", "dataset.yaml", "data.yml"):
        if os.path.isfile(os.path.join(path, n)):
            return _ultralytics(os.path.join(path, n), names_file)
    if os.path.isfile(os.path.join(path, "obj.data")):
        return _darknet(os.path.join(path, "obj.data"), names_file)
    return _bare(path, names_file)


def _with_image_dir(lay: _Layout, image_dir: str) -> _Layout:
    """Frames = the images of ``image_dir``; label files matched by relative path, then stem,
    then (a video's ``<video>_<N>.txt``) by the number an image is named by."""
    if not os.path.isdir(image_dir):
        raise InputError(image_dir, None, "image folder not found")
    images: dict[str, str] = {}
    full: dict[str, str] = {}
    for rel, path in _walk(image_dir, image_dir):
        key = _strip_suffix(rel)
        if rel[len(key) :].lower() in IMAGE_SUFFIXES:
            if key in images:
                raise InputError(
                    path, None, f"two images share one label file: {images[key]} and {rel}"
                )
            images[key] = rel
            full[key] = path
    by_stem: dict[str, list[str]] | None = None
    labels = [
        (p, r, k) for p, r, k in zip(lay.label, lay.label_rel, lay.label_key) if p is not None
    ] + lay.orphans
    matched: dict[str, tuple[str, str]] = {}
    out = _Layout(
        root=lay.root, names=lay.names, task=lay.task, kpt_shape=lay.kpt_shape,
        yaml_path=lay.yaml_path,
    )  # fmt: skip
    out.notes = lay.notes
    out.skipped = lay.skipped
    videos = _video_frames([k for _p, _r, k in labels])
    n_videos = len({v[0] for v in videos if v is not None})
    numbered: dict[tuple[str, int], str] | None = None
    for (path, rel, key), video in zip(labels, videos):
        if key not in images:
            if by_stem is None:
                by_stem = {}
                for k in images:
                    by_stem.setdefault(k.rpartition("/")[2], []).append(k)
            cands = by_stem.get(key.rpartition("/")[2], [])
            if len(cands) == 1:
                key = cands[0]
            elif video is not None:
                if numbered is None:
                    numbered = _numbered_images(images)
                key = _numbered_match(key, video, numbered, n_videos) or key
        if key in images and key not in matched:
            matched[key] = (path, rel)
        else:
            out.orphans.append((path, rel, key))
    for key in sorted(images):
        lab = matched.get(key)
        out.frame_name.append(images[key])
        out.image.append(full[key])
        out.label.append(lab[0] if lab else None)
        out.label_rel.append(lab[1] if lab else "")
        out.label_key.append(key)
        out.video.append(None)
    return out


def _numbered_images(images: dict[str, str]) -> dict[tuple[str, int], str]:
    """(folder, number) -> image key for images named by a number (``000012.jpg``, ffmpeg's
    ``%06d``); a number that two images of one folder share (``1.jpg``, ``01.jpg``) is left
    out."""
    out: dict[tuple[str, int], str] = {}
    twice: set[tuple[str, int]] = set()
    for k in images:
        folder, _, stem = k.rpartition("/")
        if stem.isascii() and stem.isdigit() and len(stem) <= 12:
            at = (folder, int(stem))
            if at in out:
                twice.add(at)
            out[at] = k
    for at in twice:
        del out[at]
    return out


def _numbered_match(
    key: str, video: tuple[str, int], numbered: dict[tuple[str, int], str], n_videos: int
) -> str | None:
    """The image numbered N for the label file ``<video>_<N>``: in a folder named after the
    video (beside the label's folder or at the top), else, when the labels are of one video
    only, in the label's own folder or at the top of the image folder."""
    folder = key.rpartition("/")[0]
    stem = video[0].rpartition("/")[2]
    places = [posixpath.join(folder, stem), stem]
    if n_videos == 1:
        places += [folder, ""]
    for place in places:
        hit = numbered.get((place, video[1]))
        if hit is not None:
            return hit
    return None


# --- reading label files ------------------------------------------------------------------------
def _read_files(paths: Sequence[str]) -> list[bytes]:
    """The bytes of every file: os.read, no file objects (half the cost of open().read())."""
    out: list[bytes] = []
    append = out.append
    o, r, c = os.open, os.read, os.close
    flags = _O_READ
    for p in paths:
        try:
            fd = o(p, flags)
        except OSError as exc:
            raise InputError(p, None, f"cannot read: {exc.strerror or exc}") from None
        try:
            data = r(fd, 65536)
            if len(data) == 65536:
                chunks = [data]
                while chunk := r(fd, 1 << 20):
                    chunks.append(chunk)
                data = b"".join(chunks)
        finally:
            c(fd)
        append(data)
    return out


@dataclass
class _Lines:
    """Every line of every label file: token counts and the parsed values."""

    blob: bytes
    line_start: IntArray  # byte offset of each line in blob
    line_end: IntArray
    ncol: IntArray  # tokens per line
    tok_first: IntArray  # index into values of each line's first token
    file: IntArray  # file index of each line
    lineno: IntArray  # 1-based line number in its file
    values: FloatArray  # every token, NaN where not a number
    bad_number: npt.NDArray[np.bool_]  # per line: a token is not a number


def _split_lines(contents: list[bytes]) -> _Lines:
    sizes = np.fromiter((len(c) for c in contents), dtype=np.int64, count=len(contents))
    file_start = np.zeros(len(contents), dtype=np.int64)
    np.cumsum(sizes[:-1] + 1, out=file_start[1:])
    blob = b"\n".join(contents) + b"\n"
    blob = blob.translate(_SPACES)
    if _BOM in blob:
        blob = blob.replace(_BOM, b"   ")
    arr = np.frombuffer(blob, dtype=np.uint8)
    line_end = np.flatnonzero(arr == 10)
    line_start = np.empty_like(line_end)
    line_start[0] = 0
    line_start[1:] = line_end[:-1] + 1
    space = (arr == 32) | (arr == 10)
    change = np.flatnonzero(space[1:] != space[:-1]) + 1
    if not space[0]:
        change = np.r_[0, change]
    # blob ends with '\n', so changes alternate: token start, token end, start, end, ...
    tok, tok_end = change[0::2], change[1::2]
    # tokens before each line's end, so tokens per line (needles: lines, fewer than tokens)
    tok_before = np.searchsorted(tok, line_end)
    ncol = np.diff(tok_before, prepend=0).astype(np.int64)
    tok_first = tok_before - ncol
    file = np.searchsorted(file_start, line_start, side="right") - 1
    first_line = np.searchsorted(line_start, file_start)
    lineno = np.arange(len(line_start), dtype=np.int64) - first_line[file] + 1
    bad_number = np.zeros(len(ncol), dtype=bool)
    fast = _decimal_values(arr, tok, tok_end)
    ok = fast is not None
    if fast is not None:
        values = fast
    else:
        try:
            values = np.fromstring(blob, sep=" ")  # one C pass over every number
            ok = len(values) == len(tok)
        except ValueError:
            ok = False
    if not ok:
        values, bad_number = _parse_slowly(blob, line_start, line_end, ncol, file, file_start)
    return _Lines(blob, line_start, line_end, ncol, tok_first, file, lineno, values, bad_number)


_POW10 = 10.0 ** np.arange(23)


def _decimal_values(
    arr: npt.NDArray[np.uint8], start: IntArray, end: IntArray
) -> FloatArray | None:
    """Plain decimals (``-0.123456``, ``3``, ``.5``) parsed with column arithmetic; None when
    a token is anything else (exponent, nan, a typo), for ``np.fromstring`` to decide.

    Tokens are grouped by (length, position of the dot, sign), a handful of groups in YOLO
    files. In a group every token is a fixed-width row of bytes: its digits times powers of
    ten give the integer mantissa m (exact below 2**53, so at most 15 digits), and m / 10**f
    is one correctly rounded division: bit for bit what strtod returns.
    """
    n = len(start)
    if n == 0:
        return np.zeros(0)
    length = end - start
    if int(length.max()) > 17:
        return None
    dots = np.flatnonzero(arr == 46)
    dot_tok = np.searchsorted(start, dots, side="right") - 1
    if len(dots) and np.bincount(dot_tok, minlength=n).max() > 1:
        return None
    dot_col = np.full(n, -1, dtype=np.int64)
    dot_col[dot_tok] = dots - start[dot_tok]
    first = arr[start]
    signed = (first == 45) | (first == 43)
    key = (length * 32 + dot_col + 1) * 2 + signed
    groups = np.flatnonzero(np.bincount(key))
    if len(groups) > 64:
        return None
    out = np.empty(n)
    for g in groups.tolist():
        width, dot, sign = g // 64, (g // 2) % 32 - 1, g % 2
        digit_cols = [j for j in range(width) if j != dot and not (sign and j == 0)]
        if not digit_cols or len(digit_cols) > 15:
            return None
        rows = np.flatnonzero(key == g) if len(groups) > 1 else np.arange(n)
        chars = np.lib.stride_tricks.sliding_window_view(arr, width)[start[rows]]
        mantissa = np.zeros(len(rows), dtype=np.int64)
        for j in digit_cols:  # Horner, one column at a time: no (rows x digits) temporaries
            digit = chars[:, j] - np.uint8(48)  # wraps above 9 for anything but a digit
            if int(digit.max(initial=0)) > 9:
                return None
            mantissa *= 10
            mantissa += digit
        values = mantissa / _POW10[width - 1 - dot] if dot >= 0 else mantissa.astype(np.float64)
        if sign:
            values = np.where(chars[:, 0] == 45, -values, values)
        out[rows] = values
    return out


def _parse_tokens(text: bytes, n: int) -> FloatArray | None:
    try:
        v = np.fromstring(text, sep=" ") if n else np.zeros(0)
    except ValueError:
        return None
    return v if len(v) == n else None


def _parse_slowly(
    blob: bytes, line_start: IntArray, line_end: IntArray, ncol: IntArray, file: IntArray,
    file_start: IntArray,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:  # fmt: skip
    """Some token is not a number: parse file by file, then line by line in the bad files."""
    parts: list[FloatArray] = []
    bad = np.zeros(len(ncol), dtype=bool)
    bounds = np.searchsorted(file, np.arange(len(file_start) + 1))
    for f in range(len(file_start)):
        lo, hi = int(bounds[f]), int(bounds[f + 1])
        if lo == hi:
            continue
        n = int(ncol[lo:hi].sum())
        v = _parse_tokens(blob[line_start[lo] : line_end[hi - 1]], n)
        if v is not None:
            parts.append(v)
            continue
        for i in range(lo, hi):
            k = int(ncol[i])
            v = _parse_tokens(blob[line_start[i] : line_end[i]], k)
            if v is None:
                bad[i] = True
                v = np.full(k, np.nan)
            parts.append(v)
    return (np.concatenate(parts) if parts else np.zeros(0)), bad


def _is_number(token: bytes) -> bool:
    return _parse_tokens(token, 1) is not None


def _line_problem(tokens: list[bytes], reading: Reading, n_names: int | None) -> tuple[str, str]:
    """(reason, message) for one refused line, in plain Python: only refused lines get here."""
    n = len(tokens)
    k = int(reading.schema_ids(np.array([n]))[0])
    if k < 0:
        return "wrong column count", (
            f"{reading.expectation()}, got {n}{_hint(reading.schemas[0], n)}"
        )
    schema = reading.schemas[k]
    for t in tokens:
        if not _is_number(t):
            return "not a number", f"not a number: {_token_text(t)}"
    vals = np.fromstring(b" ".join(tokens), sep=" ")
    for t, v in zip(tokens, vals):
        if not np.isfinite(v):
            return "not a number", f"not a finite number: {_token_text(t)}"
    pos = _positions(schema, n)
    c = vals[pos["cls"]]
    if c != np.floor(c) or c < 0:
        return "bad class", f"class id {_token_text(tokens[pos['cls']])} is not a whole number >= 0"
    if n_names is not None and c >= n_names:
        return "class beyond names", (
            f"class {int(c)} is beyond the {n_names} names (0..{n_names - 1})"
        )
    if c >= _MAX_UNNAMED_CLASS:
        return "class beyond names", f"class {int(c)} is too large without names (give --names)"
    if "track" in pos:
        t = vals[pos["track"]]
        if t != np.floor(t) or t < 0 or t > _MAX_TRACK:
            return "bad track id", (
                f"track id {_token_text(tokens[pos['track']])} is not a whole number >= 0"
            )
    if "conf" in pos and reading.declared is None and not 0 <= vals[pos["conf"]] <= 1:
        return "bad confidence", (
            f"confidence {_token_text(tokens[pos['conf']])} is not between 0 and 1 "
            f"(rows read as {schema}; give --columns if that is wrong)"
        )
    return "bad line", "line refused"


def _token_text(token: bytes) -> str:
    return repr(token.decode("utf-8", "replace"))


def _hint(schema: Schema, n: int) -> str:
    """What a row of ``n`` values might be instead, for the error message (never acted on)."""
    tips = []
    extra = n - schema.fixed
    if not schema.variable and 1 <= extra <= 2 and not {"conf", "track"} & set(schema.items):
        base = ",".join(schema.items)
        tips.append(
            f"a confidence or track column? e.g. --columns {base},conf or {base},conf,track"
        )
    if schema.items == ("cls", "box"):
        if n >= 7 and n % 2 == 1:
            tips.append("polygons? --task segment")
        if n == 9:
            tips.append("oriented boxes? --task obb")
    return f" ({'; '.join(tips)})" if tips else ""


def _positions(schema: Schema, n: int) -> dict[str, int]:
    """Start column of each fixed item in a row of ``n`` values (items after ``poly`` count
    from the end)."""
    pos: dict[str, int] = {}
    at = 0
    for i, item in enumerate(schema.items):
        if item == "poly":
            pos["poly"] = at
            tail = sum(schema.size(x) for x in schema.items[i + 1 :])
            at = n - tail
            continue
        pos[item] = at
        at += schema.size(item)
    return pos


# --- shapes -------------------------------------------------------------------------------------
def _gather(values: FloatArray, first: IntArray, size: int) -> FloatArray:
    """(n, size) block of values starting at ``first`` of each row."""
    return values[first[:, None] + np.arange(size)]


def _rect_corners(x1: FloatArray, y1: FloatArray, x2: FloatArray, y2: FloatArray) -> FloatArray:
    """(n*4, 2) corners top-left, top-right, bottom-right, bottom-left."""
    return np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=1).reshape(-1, 2)


def read_yolo(
    path: str | PathLike[str],
    *,
    task: str | None = None,
    columns: str | None = None,
    names: str | PathLike[str] | Sequence[str] | None = None,
    image_dir: str | PathLike[str] | None = None,
    pixels: bool = False,
    keypoints_with_box: bool = False,
    on_bad_line: Literal["error", "drop"] = "error",
    report: Report | None = None,
) -> Annotations:
    """Read a YOLO data set (``data.yaml``, ``obj.data`` or a folder of label files).

    ``task`` (detect, segment, pose, obb) or ``columns`` (``"cls,box,conf,track"``, see
    :func:`parse_columns`) declare the row schema; otherwise data.yaml's ``task``, then
    ``kpt_shape`` (pose), else it is read from the rows (boxes and polygons by their length,
    row by row; a trailing confidence or track id by its value). ``names`` is a names file
    (or a list of names) that overrides the data set's. ``image_dir`` gives the images when
    the layout has none (frames are then that folder's images). Coordinates are normalised
    unless ``pixels``.

    Returns pixel coordinates when image sizes are known (from the image headers); a data set
    without images gives ``normalised=True`` annotations with frames of width = height = 1.
    A row that does not fit the schema, a non-number, a class id beyond the names or a label
    file without an image raises :class:`InputError` (``FILE:LINE: message``), or with
    ``on_bad_line="drop"`` is skipped and reported.
    """
    if on_bad_line not in ("error", "drop"):
        raise ValueError(f"on_bad_line must be 'error' or 'drop', not {on_bad_line!r}")
    # Tens of thousands of short-lived objects and no reference cycles: the cyclic collector
    # would only walk them again and again (a tenth of the run on 10k files).
    with paused_gc():
        return _read_yolo(
            path, task, columns, names, image_dir, pixels, keypoints_with_box,
            on_bad_line == "drop", report if report is not None else Report(),
        )  # fmt: skip


def _read_yolo(
    path: str | PathLike[str], task: str | None, columns: str | None,
    names: str | PathLike[str] | Sequence[str] | None, image_dir: str | PathLike[str] | None,
    pixels: bool, keypoints_with_box: bool, drop: bool, rep: Report,
) -> Annotations:  # fmt: skip
    given_names: list[str] | None = None
    names_file: str | None = None
    if isinstance(names, (str, PathLike)):
        names_file = os.fspath(names)
    elif names is not None:
        given_names = [_check_class_name(str(n), None, f"names[{i}]") for i, n in enumerate(names)]

    lay = _discover(os.fspath(path), names_file)
    if given_names is not None:
        lay.names = given_names
    if image_dir is not None:
        lay = _with_image_dir(lay, os.fspath(image_dir))
    reading = _declared_reading(lay, task, columns)
    for reason, source in lay.notes:
        rep.add(Action.NOTED, reason, source=source)
    for source, reason in lay.skipped.items():
        rep.add(Action.SKIPPED, reason, source=source)

    # label files without an image; images listed but missing
    have_images = any(i is not None for i in lay.image)
    if lay.orphans and (have_images or image_dir is not None):
        if not drop:
            p = lay.orphans[0][0]
            raise InputError(p, None, "label file without an image")
        for _p, rel, _k in lay.orphans:
            rep.add(Action.SKIPPED, "label file without an image", source=rel)
    if lay.missing and have_images:
        keep = np.array([i is not None for i in lay.image], dtype=bool)
        if not drop:
            name, lst, _rel_lst, line = lay.missing[0]
            raise InputError(lst, str(line), f"image {name!r} not found")
        for name, _lst, rel_lst, line in lay.missing:
            rep.add(Action.SKIPPED, "image not found", source=f"{rel_lst}:{line}", frame=name)
        _keep_frames(lay, keep)
    if pixels and not have_images:
        raise InputError(
            os.fspath(path), None,
            "--pixels needs the images for their sizes: none found (give --image-dir)",
        )  # fmt: skip

    frames = _frames(lay, have_images)
    labels = tuple(lay.names) if lay.names is not None else None
    label_frames = [i for i, p in enumerate(lay.label) if p is not None]
    label_paths: list[str] = [lay.label[i] for i in label_frames]  # type: ignore[misc]
    if not label_paths:
        _note_reading(reading, None, rep)
        return _empty(frames, labels, normalised=not have_images)
    lines = _split_lines(_read_files(label_paths))
    if reading is not None:
        _check_declared_size(reading, lines, lay)
    if reading is None:
        reading, sid = _infer_reading(lines, label_paths, normalised=not pixels)
    else:
        sid = reading.schema_ids(lines.ncol)
    file_frame = np.asarray(label_frames, dtype=np.int64)
    n_names = len(labels) if labels is not None else None
    keep_line = _check_lines(
        lines, reading, sid, n_names, lay, label_paths, label_frames, drop, rep
    )
    _note_reading(reading, sid[keep_line], rep)
    if labels is None:
        # no names anywhere: classes are named by their ids
        top = int(_column(lines, reading, sid, np.flatnonzero(keep_line), "cls").max(initial=-1))
        labels = tuple(str(i) for i in range(top + 1))
    return _shapes(
        lines, keep_line, reading, sid, frames, labels, file_frame, lay, have_images, pixels,
        keypoints_with_box, rep,
    )  # fmt: skip


def _declared_reading(lay: _Layout, task: str | None, columns: str | None) -> Reading | None:
    """The schema declared by an option or data.yaml; None: read it from the rows."""
    if columns:
        return Reading.of(parse_columns(columns, kpt_shape=lay.kpt_shape), "--columns")
    if task:
        declared, t = "--task", task
    elif lay.task:
        declared, t = "data.yaml task", lay.task
    elif lay.kpt_shape:
        declared, t = "data.yaml kpt_shape", "pose"
    else:
        return None
    if t == "pose" and lay.kpt_shape is None:
        raise InputError(
            None, "--task", "pose needs kpt_shape in data.yaml or --columns cls,box,kpts:17x3"
        )
    return Reading.of(schema_for_task(t, lay.kpt_shape), declared)


def _check_declared_size(reading: Reading, lines: _Lines, lay: _Layout) -> None:
    """A declared keypoint count whose rows are longer than any row of the files is refused
    as the declaration's error (``kpt_shape: [1000000000, 3]``) before any row is looked at,
    so nothing is ever sized by it."""
    schema = reading.schemas[0]
    longest = int(lines.ncol.max(initial=0))
    if schema.kpts is None or not longest or min(s.fixed for s in reading.schemas) <= longest:
        return
    k, d = schema.kpts
    where = (
        (lay.yaml_path, "kpt_shape")
        if reading.declared == "data.yaml kpt_shape"
        or (reading.declared != "--columns" and lay.kpt_shape == schema.kpts)
        else (None, "--columns")
    )
    raise InputError(
        where[0], where[1],
        f"{k:,} keypoints of {d} values make rows of {schema.fixed:,} values, but the longest "
        f"row in the label files has {longest:,}",
    )  # fmt: skip


def _infer_reading(
    lines: _Lines, label_paths: list[str], *, normalised: bool
) -> tuple[Reading, IntArray]:
    """The reading of the rows by their length (and by what their trailing columns hold)
    that fits the most rows; refused when another reading fits the same rows and gives
    different shapes (every row has 7 values: triangles, or boxes with conf and track).

    A ``conf`` column must hold a value in 0..1 and a ``track`` column a whole number >= 0:
    six values with a 6th of 0.91 are a box and its confidence, with a 6th of 12 a box and
    its track id. A row the best reading does not fit is a bad line like any other. Between
    readings that fit the same rows, one whose normalised coordinates all lie in the image
    (within Ultralytics' 1% tolerance: its loader refuses the rest) is preferred: seven values
    ending in a track id of 12 are not a triangle with a corner at x = 12.
    """
    ncol = lines.ncol
    present = ncol > 0
    codes: dict[Schema, int] = {}
    found: list[tuple[Reading, IntArray, IntArray]] = []  # reading, schema ids, meaning codes
    for reading in _shape_readings():
        sid = reading.schema_ids(ncol)
        sid[~present] = -1
        for k, schema in enumerate(reading.schemas):
            if "conf" not in schema.items and "track" not in schema.items:
                continue
            rows = np.flatnonzero(sid == k)
            if not len(rows):
                continue
            ok = np.ones(len(rows), dtype=bool)
            if "conf" in schema.items:
                c = _column(lines, reading, sid, rows, "conf")
                ok &= (c >= 0) & (c <= 1)
            if "track" in schema.items:
                t = _column(lines, reading, sid, rows, "track")
                ok &= (t == np.floor(t)) & (t >= 0) & (t <= _MAX_TRACK)
            sid[rows[~ok]] = -1
        table = np.array([codes.setdefault(s, len(codes)) for s in reading.schemas] + [-1])
        found.append((reading, sid, table[sid]))
    # the most rows fitted wins, ties in the order above (a data set's own format first);
    # ambiguous only when another reading fits the very same rows and reads them otherwise
    top = max(int((f[1] >= 0).sum()) for f in found)
    best = next(f for f in found if int((f[1] >= 0).sum()) == top)
    distinct = [best]
    for f in found:
        if np.array_equal(f[1] >= 0, best[1] >= 0) and not any(
            np.array_equal(f[2], d[2]) for d in distinct
        ):
            distinct.append(f)
    if len(distinct) > 1 and normalised:
        inside = [d for d in distinct if _coordinates_inside(lines, d[0], d[1])]
        if len(inside) == 1:
            distinct = inside
    if len(distinct) > 1:
        row = int(np.flatnonzero(distinct[0][2] != distinct[1][2])[0])
        ways = []
        for reading, sid, _ in distinct:
            k = int(sid[row])
            if k >= 0:
                schema = reading.schemas[k]
                ways.append(f"{schema.describe()} (--columns {reading.full_columns(schema)})")
        n = int(ncol[row])
        raise InputError(
            label_paths[int(lines.file[row])], str(int(lines.lineno[row])),
            f"rows of {n} values read more than one way: {' or '.join(ways)}; "
            "give --columns (or --task) to say which",
        )  # fmt: skip
    reading, sid, _ = distinct[0]
    return reading, sid


def _coordinates_inside(lines: _Lines, reading: Reading, sid: IntArray) -> bool:
    """Do the box / polygon values of every row read this way lie in -0.01..1.01?"""
    for k, schema in enumerate(reading.schemas):
        rows = np.flatnonzero(sid == k)
        if not len(rows):
            continue
        ncol = lines.ncol[rows]
        pos = _positions_per_line(schema, ncol)
        geometry = "poly" if "poly" in pos else "box" if "box" in pos else "obb"
        if geometry not in pos:
            continue
        count = (
            ncol - schema.fixed if geometry == "poly" else np.full(len(rows), schema.size(geometry))
        )
        start = lines.tok_first[rows] + pos[geometry]
        off = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(count, out=off[1:])
        v = lines.values[np.repeat(start - off[:-1], count) + np.arange(int(off[-1]))]
        if not ((v >= -0.01) & (v <= 1.01)).all():
            return False
    return True


def _column(
    lines: _Lines, reading: Reading, sid: IntArray, rows: IntArray, item: str
) -> FloatArray:
    """The value of ``item`` on each of ``rows`` (each read by its own schema)."""
    out = np.zeros(len(rows))
    srows = sid[rows]
    for k, schema in enumerate(reading.schemas):
        sel = np.flatnonzero(srows == k)
        if not len(sel) or item not in schema.items:
            continue
        r = rows[sel]
        pos = _positions_per_line(schema, lines.ncol[r])
        out[sel] = lines.values[lines.tok_first[r] + pos[item]]
    return out


def _note_reading(reading: Reading | None, used: IntArray | None, rep: Report) -> None:
    """Say in the report (and so the summary) which row schema was used and where it came
    from: declared by an option or data.yaml, or read from the rows."""
    if reading is not None and reading.declared is not None:
        rep.add(Action.NOTED, f"row schema declared by {reading.declared}: {reading.schemas[0]}")
        return
    if reading is None or used is None or not len(used):
        return
    counts = np.bincount(used, minlength=len(reading.schemas))
    names = [str(reading.schemas[k]) for k in np.flatnonzero(counts).tolist()]
    rep.add(
        Action.NOTED,
        f"row schema read from the rows: {' + '.join(names)}",
        detail=", ".join(
            f"{int(counts[k]):,} row(s) {reading.schemas[k]}" for k in np.flatnonzero(counts)
        ),
    )


def _keep_frames(lay: _Layout, keep: npt.NDArray[np.bool_]) -> None:
    for col in _FRAME_COLUMNS:
        values = getattr(lay, col)
        setattr(lay, col, [v for v, k in zip(values, keep.tolist()) if k])


def _frames(lay: _Layout, have_images: bool) -> Frames:
    """Frames in (sequence, natural name) order: a folder of frames is one video; so are the
    ``<video>_<N>.txt`` files of an Ultralytics video run, frame N at index N - 1."""
    seq = [
        v[0] if v is not None else n.rpartition("/")[0] for n, v in zip(lay.frame_name, lay.video)
    ]
    order = natural_order(lay.frame_name, seq).tolist()
    _keep_order(lay, order)
    seq = [seq[i] for i in order]
    n = len(seq)
    index = np.zeros(n, dtype=np.int64)
    if n:
        s = np.asarray(seq, dtype=object)
        new = np.r_[True, s[1:] != s[:-1]]
        starts = np.flatnonzero(new)
        index = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        numbered = [i for i, v in enumerate(lay.video) if v is not None]
        if numbered:
            # the frame's own number: frames without a label file keep their place (gaps)
            index[numbered] = [lay.video[i][1] - 1 for i in numbered]  # type: ignore[index]
    if have_images:
        w, h = image_sizes(lay.image)  # type: ignore[arg-type]
    else:
        w, h = np.ones(n), np.ones(n)
    return Frames(
        name=_obj(lay.frame_name),
        sequence=_obj(seq),
        index=index.astype(np.int64),
        width=w,
        height=h,
        frame_id=_obj([""] * n),
        src=_obj([""] * n),
    )


def _keep_order(lay: _Layout, order: list[int]) -> None:
    for col in _FRAME_COLUMNS:
        values = getattr(lay, col)
        setattr(lay, col, [values[i] for i in order])


def _empty(frames: Frames, labels: tuple[str, ...] | None, *, normalised: bool) -> Annotations:
    ann = Annotations.empty(frames, labels or ())
    return ann.with_points(ann.points, normalised=normalised)


def _check_lines(
    lines: _Lines, reading: Reading, sid: IntArray, n_names: int | None, lay: _Layout,
    label_paths: list[str], label_frames: list[int], drop: bool, rep: Report,
) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Per line: keep it? Raises on the first refused line unless ``drop``."""
    ncol = lines.ncol
    present = ncol > 0
    bad = present & ((sid < 0) | lines.bad_number)
    fit = present & ~bad
    vals = lines.values
    if fit.any():
        # finite: any non-finite token marks its line
        nonfinite = ~np.isfinite(vals)
        if nonfinite.any():
            tok_line = np.repeat(np.arange(len(ncol)), ncol)
            bad[np.unique(tok_line[nonfinite])] = True
        for k, schema in enumerate(reading.schemas):
            rows = np.flatnonzero(fit & (sid == k))
            if not len(rows):
                continue
            pos = _positions_per_line(schema, ncol[rows])
            c = vals[lines.tok_first[rows] + pos["cls"]]
            wrong = (c != np.floor(c)) | (c < 0) | (c >= (n_names or _MAX_UNNAMED_CLASS))
            if "track" in pos:
                t = vals[lines.tok_first[rows] + pos["track"]]
                wrong |= (t != np.floor(t)) | (t < 0) | (t > _MAX_TRACK)
            bad[rows[wrong]] = True
    bad &= present
    if bad.any():
        rows = np.flatnonzero(bad)
        if not drop:
            rows = rows[:1]
        for i in rows.tolist():
            tokens = lines.blob[lines.line_start[i] : lines.line_end[i]].split()
            reason, message = _line_problem(tokens, reading, n_names)
            f = int(lines.file[i])
            if not drop:
                raise InputError(label_paths[f], str(int(lines.lineno[i])), message)
            rep.add(
                Action.DROPPED,
                reason,
                source=f"{lay.label_rel[label_frames[f]]}:{int(lines.lineno[i])}",
                frame=lay.frame_name[label_frames[f]],
                detail=message,
            )
    return present & ~bad


def _positions_per_line(schema: Schema, ncol: IntArray) -> dict[str, Any]:
    """Start column of each item per line: scalars before ``poly``, arrays after it."""
    pos: dict[str, Any] = {}
    at: Any = 0
    for i, item in enumerate(schema.items):
        if item == "poly":
            pos["poly"] = at
            at = ncol - sum(schema.size(x) for x in schema.items[i + 1 :])
            continue
        pos[item] = at
        at = at + schema.size(item)
    return pos


def _group_parts(
    schema: Schema, vals: FloatArray, first: IntArray, ncol: IntArray, pos: dict[str, Any],
    scale_x: FloatArray, scale_y: FloatArray, tol: float, keypoints_with_box: bool,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """The shapes of the rows of one schema: (kind per shape, point counts, points,
    point labels, the row of each shape)."""
    n = len(first)
    parts: list[tuple[Any, ...]] = []
    if "box" in pos:
        b = _gather(vals, first + pos["box"], 4)
        x1 = (b[:, 0] - b[:, 2] / 2) * scale_x
        y1 = (b[:, 1] - b[:, 3] / 2) * scale_y
        x2 = (b[:, 0] + b[:, 2] / 2) * scale_x
        y2 = (b[:, 1] + b[:, 3] / 2) * scale_y
        if "kpts" not in pos or keypoints_with_box:
            parts.append(
                (np.full(n, Kind.RECTANGLE, np.int8), np.full(n, 4), _rect_corners(x1, y1, x2, y2),
                 np.zeros(4 * n, np.int32), np.arange(n))
            )  # fmt: skip
    if "obb" in pos:
        c = _gather(vals, first + pos["obb"], 8).reshape(n, 4, 2)
        xmin, xmax = c[:, :, 0].min(axis=1), c[:, :, 0].max(axis=1)
        ymin, ymax = c[:, :, 1].min(axis=1), c[:, :, 1].max(axis=1)
        on_x_max = np.abs(c[:, :, 0] - xmax[:, None]) <= tol
        on_x_min = np.abs(c[:, :, 0] - xmin[:, None]) <= tol
        on_y_max = np.abs(c[:, :, 1] - ymax[:, None]) <= tol
        on_y_min = np.abs(c[:, :, 1] - ymin[:, None]) <= tol
        code = on_x_max * 2 + on_y_max
        axis = (
            (on_x_max ^ on_x_min).all(axis=1)
            & (on_y_max ^ on_y_min).all(axis=1)
            & (np.sort(code, axis=1) == np.arange(4)).all(axis=1)
        )
        pts = c * np.stack([scale_x, scale_y], axis=1)[:, None, :]
        rect = _rect_corners(xmin * scale_x, ymin * scale_y, xmax * scale_x, ymax * scale_y)
        pts = np.where(np.repeat(axis, 4)[:, None], rect, pts.reshape(-1, 2))
        kind = np.where(axis, Kind.RECTANGLE, Kind.POLYGON).astype(np.int8)
        parts.append((kind, np.full(n, 4), pts, np.zeros(4 * n, np.int32), np.arange(n)))
    if "poly" in pos:
        counts = ncol - schema.fixed
        total = int(counts.sum())
        starts = first + pos["poly"]
        off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=off[1:])
        idx = np.repeat(starts - off[:-1], counts) + np.arange(total)
        pts = vals[idx].reshape(-1, 2)
        npts = counts // 2
        pts = pts * np.stack([np.repeat(scale_x, npts), np.repeat(scale_y, npts)], axis=1)
        parts.append(
            (np.full(n, Kind.POLYGON, np.int8), npts, pts, np.zeros(len(pts), np.int32),
             np.arange(n))
        )  # fmt: skip
    if "kpts" in pos:
        assert schema.kpts is not None
        k, d = schema.kpts
        kp = _gather(vals, first + pos["kpts"], k * d).reshape(n, k, d)
        visible = kp[:, :, 2] != 0 if d == 3 else np.ones((n, k), dtype=bool)
        counts = visible.sum(axis=1)
        pts = np.stack([kp[:, :, 0] * scale_x[:, None], kp[:, :, 1] * scale_y[:, None]], axis=2)
        pts = pts[visible]
        plabel = np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), (n, k))[visible]
        has = counts > 0  # a row without a visible point gives nothing (the caller reports it)
        parts.append(
            (np.full(int(has.sum()), Kind.LANDMARK, np.int8), counts[has], pts, plabel,
             np.flatnonzero(has))
        )  # fmt: skip

    return parts


def _shapes(
    lines: _Lines, keep: npt.NDArray[np.bool_], reading: Reading, sid: IntArray,
    frames: Frames, labels: tuple[str, ...], file_frame: IntArray, lay: _Layout,
    have_images: bool, pixels: bool, keypoints_with_box: bool, rep: Report,
) -> Annotations:  # fmt: skip
    rows = np.flatnonzero(keep)
    n = len(rows)
    if n == 0:
        return _empty(frames, labels, normalised=not have_images)
    vals = lines.values
    frame = file_frame[lines.file[rows]]
    # pixels per unit of the source: the frame size for normalised rows with images, else 1
    scale_x = frames.width[frame] if have_images and not pixels else np.ones(n)
    scale_y = frames.height[frame] if have_images and not pixels else np.ones(n)
    tol = _AXIS_TOL_PIXELS if pixels else _AXIS_TOL_NORMALISED
    label_rel = np.asarray(lay.label_rel, dtype=object)
    file_rel = label_rel[file_frame]
    # "labels/a.txt:3" per shape, as object-array sums (no Python loop per shape)
    prefix = np.array([f"{r}:" for r in file_rel.tolist()] or [""], dtype=object)
    line_text = np.array([str(i) for i in range(int(lines.lineno.max()) + 1)], dtype=object)
    source = prefix[lines.file[rows]] + line_text[lines.lineno[rows]]
    cls = np.zeros(n, dtype=np.int32)
    score = np.full(n, np.nan)
    track = np.full(n, -1, dtype=np.int64)

    # each schema's rows (one schema unless boxes and polygons mix, or rows lack a track id)
    parts: list[tuple[Any, ...]] = []  # (kind per shape, counts, points, point_label, row index)
    row_sid = sid[rows]
    for k, schema in enumerate(reading.schemas):
        g = np.flatnonzero(row_sid == k)
        if not len(g):
            continue
        first = lines.tok_first[rows[g]]
        ncol = lines.ncol[rows[g]]
        pos = _positions_per_line(schema, ncol)
        cls[g] = vals[first + pos["cls"]].astype(np.int32)
        if "conf" in pos:
            score[g] = vals[first + pos["conf"]]
        if "track" in pos:
            track[g] = vals[first + pos["track"]].astype(np.int64)
        group = _group_parts(
            schema, vals, first, ncol, pos, scale_x[g], scale_y[g], tol, keypoints_with_box
        )
        parts.extend((kind, cnt, pts, plab, g[local]) for kind, cnt, pts, plab, local in group)
        if "kpts" in pos:  # keypoint rows without a visible point give no landmark: reported
            for i in g[np.setdiff1d(np.arange(len(g)), group[-1][4])].tolist():
                rep.add(
                    Action.SKIPPED,
                    "no visible keypoint",
                    source=source[i],
                    frame=str(frames.name[frame[i]]),
                    label=labels[cls[i]],
                )

    kinds = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([p[1] for p in parts]).astype(np.int64)
    points = np.concatenate([p[2] for p in parts]).reshape(-1, 2)
    plabels = np.concatenate([p[3] for p in parts])
    row = np.concatenate([p[4] for p in parts]).astype(np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    ann = Annotations.from_runs(
        frames, kinds, points, offsets, cls[row], frame[row], names=labels, track=track[row],
        score=score[row], point_label=plabels, source=source[row],
        normalised=not have_images,
    )  # fmt: skip
    if len(parts) > 1:
        # keep file order: the shapes of one line together (box, then its keypoints)
        ann = ann[np.lexsort((kinds, row))]
    return ann

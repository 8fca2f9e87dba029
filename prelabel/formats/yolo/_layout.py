"""Which label file belongs to which image: the frame table of a data set before any label is
read, the folder walk, Ultralytics' ``images/`` -> ``labels/`` mirror, image lists and the
``<video>_<N>.txt`` files of a video, and the frames in natural order."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from prelabel._ragged import position_in_run
from prelabel.annotations import Frames, IntArray, _obj
from prelabel.errors import InputError
from prelabel.formats.yolo._names import NAMES_FILES, is_names_file
from prelabel.imagesize import IMAGE_SUFFIXES, image_sizes
from prelabel.jsonio import read_text
from prelabel.order import natural_order
from prelabel.paths import resolve_inside, safe_relative
from prelabel.report import Reason


class Entry(NamedTuple):
    """One frame of a data set and its label file."""

    name: str  # the image's name (relative to the root), or the label file's without images
    image: str | None  # the image file
    label: str | None  # the label file
    label_rel: str  # the label file's name in messages and reports (relative to the root)
    label_key: str  # the label's relative path without suffix, to match --image-dir images
    # a video's frame read from Ultralytics' '<video>_<N>.txt': its sequence and N
    video: tuple[str, int] | None = None


_new_tuple = tuple.__new__


@dataclass
class Layout:
    """Frames of a data set and their label files, before any label is read."""

    root: str  # names are relative to this folder
    names: list[str] | None = None
    task: str | None = None
    kpt_shape: tuple[int, int] | None = None
    yaml_path: str | None = None  # the data.yaml that declared task / kpt_shape
    frames: list[Entry] = field(default_factory=list)
    orphans: list[tuple[str, str, str]] = field(default_factory=list)  # path, rel, key
    missing: list[tuple[str, str, str, int]] = field(default_factory=list)  # name, list, rel, line
    notes: list[tuple[Reason, str]] = field(default_factory=list)  # reason, source
    # source -> why it was not read (reason, detail)
    skipped: dict[str, tuple[Reason, str | None]] = field(default_factory=dict)

    def add(
        self, name: str, image: str | None, label: str | None, rel: str, key: str,
        video: tuple[str, int] | None = None,
    ) -> None:  # fmt: skip
        # tuple.__new__ skips the NamedTuple's Python-level __new__: a third of the cost per
        # frame, and there is one per label file (10k)
        self.frames.append(_new_tuple(Entry, (name, image, label, rel, key, video)))


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def strip_suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > name.rfind("/") else name


def walk(
    top: str,
    root: str,
    skipped: dict[str, tuple[Reason, str | None]] | None = None,
    exclude: tuple[str, ...] = (),
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
                        skipped[_rel(e.path, root) + "/"] = (Reason.HIDDEN_FOLDER, None)
                    elif e.name.endswith(".txt"):
                        skipped[_rel(e.path, root)] = (Reason.HIDDEN_LABEL_FILE, None)
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


class DirCache:
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


def list_entries(
    lst: str, root: str, lay: Layout, cache: DirCache, seen: set[str], report_missing: bool
) -> None:
    """Frames from an image list (``train.txt``): one image path per line."""
    text = read_text(lst, encoding="utf-8-sig")
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
        key = strip_suffix(rel)
        label = label_rel = None
        for cand in (_mirror(key), key):
            if cand and cache.exists(os.path.join(root, cand + ".txt")):
                label_rel = cand + ".txt"
                label = os.path.join(root, label_rel)
                break
        lay.add(rel, image, label, label_rel or "", key)


def dir_entries(split_dir: str, root: str, lay: Layout, seen: set[str]) -> None:
    """Frames from an image folder, labels from its mirror (``labels/``) or beside the images."""
    images: dict[str, str] = {}  # key (relative path without suffix) -> relative image path
    sibling: dict[str, str] = {}
    for rel, _full in walk(split_dir, root, lay.skipped):
        suffix = os.path.splitext(rel)[1].lower()
        if suffix in IMAGE_SUFFIXES:
            key = strip_suffix(rel)
            if key in images:
                raise InputError(
                    os.path.join(split_dir, rel), None,
                    f"two images share one label file: {images[key]} and {rel}",
                )  # fmt: skip
            images[key] = rel
        elif suffix == ".txt":
            sibling[strip_suffix(rel)] = rel
    base = _base(split_dir, root)
    mirror = _mirror(base)
    labels = sibling
    label_dir, label_base = split_dir, base
    if mirror and os.path.isdir(os.path.join(root, mirror)):
        label_dir, label_base = os.path.join(root, mirror), mirror
        labels = {r[:-4]: r for r, _ in walk(label_dir, root, lay.skipped) if r.endswith(".txt")}
        if images:
            for rel in sibling.values():  # Ultralytics reads labels/ only, so do we: reported
                if os.path.basename(rel) not in NAMES_FILES:
                    lay.skipped[base + rel] = (Reason.LABEL_FILE_BESIDE_IMAGE, "labels/ is read")
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


def video_frames(keys: list[str]) -> list[tuple[str, int] | None]:
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
        for i, m in zip(members, matches, strict=True):
            assert m is not None
            out[i] = (posixpath.join(folder, m.group(1)), int(m.group(2)))
    return out


def labels_only(
    label_root: str, root: str, lay: Layout, names_path: str | None,
    exclude: tuple[str, ...] = (),
) -> None:  # fmt: skip
    """Frames named after label files, when no image is there to name them."""
    base = _base(label_root, root)
    found = [
        (rel, full)
        for rel, full in sorted(walk(label_root, root, lay.skipped, exclude))
        if rel.endswith(".txt") and not is_names_file(full, names_path)
    ]
    videos = video_frames([rel[:-4] for rel, _ in found])
    for (rel, full), video in zip(found, videos, strict=True):
        key = rel[:-4]
        lay.add(base + key, None, full, base + rel, key, video)


def outside_labels(folder: str, lay: Layout, names_path: str | None) -> None:
    """Label files of a bare folder that are neither under ``labels/`` nor beside an image in
    ``images/``: no image is theirs, so they are skipped and reported."""
    for rel, full in walk(folder, folder, lay.skipped, exclude=("labels", "images")):
        if rel.endswith(".txt") and not is_names_file(full, names_path):
            lay.skipped[rel] = (Reason.LABEL_FILE_OUTSIDE_LABELS, "images/ has the frames")


def keep_frames(lay: Layout, keep: npt.NDArray[np.bool_]) -> None:
    lay.frames = [e for e, k in zip(lay.frames, keep.tolist(), strict=True) if k]


def _sequences(lay: Layout) -> list[str]:
    """The sequence of each frame: its folder, or the video of a ``<video>_<N>.txt``."""
    return [e.video[0] if e.video is not None else e.name.rpartition("/")[0] for e in lay.frames]


def sort_frames(lay: Layout) -> list[str]:
    """Put the frames in (sequence, natural name) order, in place; their sequences in order."""
    seq = _sequences(lay)
    order = natural_order([e.name for e in lay.frames], seq).tolist()
    lay.frames = [lay.frames[i] for i in order]
    return [seq[i] for i in order]


def build_frames(lay: Layout, seq: list[str], have_images: bool) -> Frames:
    """The frames of a sorted layout and their sequences (:func:`sort_frames`): a folder of
    frames is one video; so are the ``<video>_<N>.txt`` files of an Ultralytics video run,
    frame N at index N - 1."""
    n = len(seq)
    index = np.zeros(n, dtype=np.int64)
    if n:
        s = np.asarray(seq, dtype=object)
        new = np.r_[True, s[1:] != s[:-1]]
        starts = np.flatnonzero(new)
        index = position_in_run(np.diff(np.r_[starts, n]))
        numbered = [(i, e.video[1]) for i, e in enumerate(lay.frames) if e.video is not None]
        if numbered:
            # the frame's own number: frames without a label file keep their place (gaps)
            index[[i for i, _ in numbered]] = [number - 1 for _, number in numbered]
    if have_images:
        w, h = image_sizes([e.image for e in lay.frames])  # type: ignore[misc]
    else:
        w, h = np.ones(n), np.ones(n)
    return Frames(
        name=_obj([e.name for e in lay.frames]),
        sequence=_obj(seq),
        index=index.astype(np.int64),
        width=w,
        height=h,
        frame_id=_obj([""] * n),
        src=_obj([""] * n),
    )


@dataclass(frozen=True)
class LabelFiles:
    """The label files to read, one row each: the file, its name in messages and reports
    (relative to the data set root), and the frame it belongs to (row and name)."""

    path: list[str]
    rel: list[str]
    frame: IntArray
    frame_name: list[str]


def label_files(lay: Layout) -> LabelFiles:
    """The frames' label files, in frame order (frames without one have none)."""
    rows = [i for i, e in enumerate(lay.frames) if e.label is not None]
    entries = [lay.frames[i] for i in rows]
    return LabelFiles(
        path=[e.label for e in entries],  # type: ignore[misc]
        rel=[e.label_rel for e in entries],
        frame=np.asarray(rows, dtype=np.int64),
        frame_name=[e.name for e in entries],
    )

"""The three kinds of YOLO data set, each read into a :class:`Layout`: Ultralytics
(``data.yaml``), Darknet (``obj.data``) and a bare folder; and ``--image-dir``, which makes
a folder of images the frames and matches the label files to them."""

from __future__ import annotations

import os
import posixpath

from prelabel.errors import InputError
from prelabel.formats.yolo._layout import (
    DirCache,
    Layout,
    dir_entries,
    labels_only,
    list_entries,
    outside_labels,
    strip_suffix,
    video_frames,
    walk,
)
from prelabel.formats.yolo._names import (
    find_names_file,
    is_names_file,
    load_mapping,
    read_names_file,
    yaml_kpt_shape,
    yaml_names,
)
from prelabel.formats.yolo._schema import TASKS
from prelabel.imagesize import IMAGE_SUFFIXES
from prelabel.jsonio import read_text
from prelabel.paths import resolve_inside, safe_relative
from prelabel.report import Reason


def _ultralytics(yaml_path: str, names_file: str | None) -> Layout:
    data = load_mapping(yaml_path)
    here = os.path.dirname(yaml_path) or "."
    root = here
    lay = Layout(root=root)
    p = data.get("path")
    if isinstance(p, str) and p.strip() not in ("", "."):
        if os.path.isabs(p):
            # A data.yaml written on another machine; the data set is the folder of data.yaml.
            if os.path.realpath(p) != os.path.realpath(here):
                lay.notes.append((Reason.ABSOLUTE_DATA_PATH_IGNORED, f"{yaml_path}:path"))
        else:
            resolve_inside(here, p, path=yaml_path, location="path")
            root = os.path.join(here, safe_relative(p, path=yaml_path, location="path"))
    lay.root = root
    lay.names = read_names_file(names_file) if names_file else yaml_names(data, yaml_path)
    task = data.get("task")
    if task is not None and task not in TASKS:
        raise InputError(yaml_path, "task", f"unknown task {task!r}; one of {', '.join(TASKS)}")
    lay.task = task
    lay.kpt_shape = yaml_kpt_shape(data, yaml_path)
    lay.yaml_path = yaml_path
    cache = DirCache()
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
                dir_entries(target, root, lay, seen)
            elif os.path.isfile(target):
                list_entries(target, root, lay, cache, seen, report_missing=True)
            else:
                lay.notes.append((Reason.SPLIT_NOT_FOUND, f"{yaml_path}:{split}"))
    labels = os.path.join(root, "labels")
    images = os.path.join(root, "images")
    if not lay.frames and os.path.isdir(labels) and os.path.isdir(images):
        # no split (supervision writes only nc and names), or splits without images: the
        # images of images/, which labels/ mirrors, as in a bare folder
        lay.orphans = []
        dir_entries(images, root, lay, seen)
    if not lay.frames:  # no image anywhere: the labels alone
        lay.orphans = []
        labels_only(labels if os.path.isdir(labels) else root, root, lay, names_file)
    return lay


def _darknet(data_path: str, names_file: str | None) -> Layout:
    root = os.path.dirname(data_path) or "."
    lay = Layout(root=root)
    text = read_text(data_path, encoding="utf-8-sig")
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

    names_path = names_file or locate("names") or find_names_file(root)
    lay.names = read_names_file(names_path) if names_path else None
    cache = DirCache()
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
            reason = Reason.LIST_NOT_FOUND if found is None else Reason.LIST_NOT_A_FILE
            lay.notes.append((reason, f"{data_path}:{values[key][1]}"))
        else:
            lists.append(found)
    for lst in lists:
        list_entries(lst, root, lay, cache, seen, report_missing=True)
    if not lists:
        _bare_into(root, lay, names_path)
    return lay


_DARKNET_NOT_LISTS = frozenset({"classes", "names", "backup", "eval", "results", "map"})
_DARKNET_FIRST = ("train", "valid", "val", "test")


def _bare_into(folder: str, lay: Layout, names_path: str | None) -> None:
    labels = os.path.join(folder, "labels")
    images = os.path.join(folder, "images")
    if os.path.isdir(labels) and os.path.isdir(images):
        dir_entries(images, folder, lay, set())
        if lay.frames:
            outside_labels(folder, lay, names_path)
            return
        lay.orphans = []
    if os.path.isdir(labels):
        # no images: every label file is a frame, those under labels/ and those beside it
        labels_only(labels, folder, lay, names_path)
        labels_only(folder, folder, lay, names_path, exclude=("labels",))
        return
    before = len(lay.frames)
    dir_entries(folder, folder, lay, set())
    # names files and label files without images in a folder that has images: orphans already;
    # a folder without any image: every label file is a frame named after it
    lay.orphans = [o for o in lay.orphans if not is_names_file(o[0], names_path)]
    if len(lay.frames) == before:
        lay.orphans = []
        labels_only(folder, folder, lay, names_path)


def _bare(folder: str, names_file: str | None) -> Layout:
    lay = Layout(root=folder)
    names_path = names_file or find_names_file(folder)
    lay.names = read_names_file(names_path) if names_path else None
    _bare_into(folder, lay, names_path)
    return lay


def discover(path: str, names_file: str | None) -> Layout:
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


def with_image_dir(lay: Layout, image_dir: str) -> Layout:
    """Frames = the images of ``image_dir``; label files matched by relative path, then stem,
    then (a video's ``<video>_<N>.txt``) by the number an image is named by."""
    if not os.path.isdir(image_dir):
        raise InputError(image_dir, None, "image folder not found")
    images: dict[str, str] = {}
    full: dict[str, str] = {}
    for rel, path in walk(image_dir, image_dir):
        key = strip_suffix(rel)
        if rel[len(key) :].lower() in IMAGE_SUFFIXES:
            if key in images:
                raise InputError(
                    path, None, f"two images share one label file: {images[key]} and {rel}"
                )
            images[key] = rel
            full[key] = path
    by_stem: dict[str, list[str]] | None = None
    labels = [
        (e.label, e.label_rel, e.label_key) for e in lay.frames if e.label is not None
    ] + lay.orphans
    matched: dict[str, tuple[str, str]] = {}
    out = Layout(
        root=lay.root, names=lay.names, task=lay.task, kpt_shape=lay.kpt_shape,
        yaml_path=lay.yaml_path,
    )  # fmt: skip
    out.notes = lay.notes
    out.skipped = lay.skipped
    videos = video_frames([k for _p, _r, k in labels])
    n_videos = len({v[0] for v in videos if v is not None})
    numbered: dict[tuple[str, int], str] | None = None
    for (path, rel, key), video in zip(labels, videos, strict=True):
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
        out.add(images[key], full[key], lab[0] if lab else None, lab[1] if lab else "", key)
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

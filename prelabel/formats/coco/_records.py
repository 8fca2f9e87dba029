"""Records: one annotation on one frame, its raw ``bbox`` / ``segmentation`` / ``keypoints``.

Instances files, results lists and video COCO give one record per annotation; YouTube-VIS one
per (annotation, frame) where the annotation has a box or a mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel.annotations import FloatArray, Frames, IntArray
from prelabel.errors import InputError
from prelabel.formats.coco._categories import Categories
from prelabel.formats.coco._columns import (
    IdIndex,
    Loc,
    NoneType,
    PathLikeStr,
    first_bad,
    floats,
    ints,
    item_loc,
    required_values,
    values_of,
)
from prelabel.formats.coco._frames import ImageTable
from prelabel.report import Action, Reason, Report


@dataclass(frozen=True)
class Records:
    """Annotations flattened to one row per (annotation, frame), raw geometry kept as parsed.

    ``frames`` are the frames the records point into and ``labels`` the names their ``label``
    indexes, for report rows.
    """

    path: PathLikeStr
    frames: Frames
    labels: tuple[str, ...]
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

    def __len__(self) -> int:
        return len(self.frame)

    def note(
        self, report: Report, action: Action, reason: Reason, r: int, detail: str | None = None
    ) -> None:
        """A report row about record ``r`` (its place, frame and label)."""
        frame = str(self.frames.name[self.frame[r]])
        label = self.labels[self.label[r]] if self.labels else None
        report.add(
            action, reason, source=self.loc(r, None), frame=frame, label=label, detail=detail
        )

    def at(self, key: str | None) -> Loc:
        return lambda i: self.loc(i, key)


def track_column(values: list[Any], path: PathLikeStr, loc: Loc) -> IntArray:
    """Track ids: integers as given (negative: none); strings numbered in sorted order."""
    n = len(values)
    types = set(map(type, values))
    if types <= {int, NoneType}:
        if types == {NoneType}:
            return np.full(n, -1, dtype=np.int64)
        filled = [-1 if v is None else v for v in values]
        out = ints(filled, path, loc, "an integer or a string")
        out[out < 0] = -1
        return out
    if not types <= {int, str, NoneType}:
        i = first_bad(values, lambda v: type(v) in (int, str, NoneType))
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


def coco_records(
    anns: list[dict[str, Any]],
    base: str,
    path: PathLikeStr,
    table: ImageTable,
    cats: Categories,
    report: Report,
) -> Records:
    """Records of an instances ``annotations`` list or a results list (``base`` "$"); keys
    the reader does not read are noted in ``report``."""
    frame = table.rows(
        required_values(anns, "image_id", path, base), path, item_loc(base, "image_id")
    )
    label, names = cats.labels(
        required_values(anns, "category_id", path, base), path, item_loc(base, "category_id")
    )
    cat_row = category_rows(anns, cats, path, base)
    # optional fields no annotation has are not looked up 100k times
    keys: set[str] = set().union(*anns) if anns else set()
    note_unread_keys(keys, anns, base, report)

    def column(key: str) -> list[Any] | None:
        return values_of(anns, key) if key in keys else None

    attrs = column("attributes")
    track_raw = column("track_id") or column("instance_id")
    if "track_id" in keys and "instance_id" in keys:
        track_raw = [a.get("track_id", a.get("instance_id")) for a in anns]
    if attrs is not None:
        track_raw = track_raw or [None] * len(anns)
        _track_from_attributes(track_raw, attrs)
    n = len(anns)
    score = column("score")
    return Records(
        path=path,
        frames=table.frames,
        labels=names,
        frame=frame,
        label=label,
        kp_count=cats.keypoint_count(cat_row) if cat_row is not None else np.zeros(n, np.int64),
        track=np.full(n, -1, np.int64)
        if track_raw is None
        else track_column(track_raw, path, partial(_track_loc, anns, base)),
        score=np.full(n, np.nan)
        if score is None
        else floats(score, path, item_loc(base, "score"), optional=True),
        attrs=attrs,
        bbox=column("bbox"),
        seg=column("segmentation"),
        kps=column("keypoints"),
        loc=lambda i, key: f"{base}[{i}]" if key is None else f"{base}[{i}].{key}",
        sources=lambda rows: [f"{base}[{i}]" for i in rows.tolist()],
        confidence_v=base == "$",
    )


def category_rows(
    anns: list[dict[str, Any]], cats: Categories, path: PathLikeStr, base: str
) -> IntArray | None:
    if cats.ids is None or not cats.keypoints.any():
        return None
    ids = np.array([a["category_id"] for a in anns], dtype=np.int64)
    return cats.ids.rows(ids, path, item_loc(base, "category_id"))


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


def ytvis_records(
    anns: list[dict[str, Any]],
    base: str,
    path: PathLikeStr,
    videos: IdIndex,
    frames: Frames,
    first_frame: IntArray,
    cats: Categories,
) -> Records:
    """One record per (annotation, frame) where the annotation has a box or a mask."""
    vloc = item_loc(base, "video_id")
    vrow = videos.rows(ints(required_values(anns, "video_id", path, base), path, vloc), path, vloc)
    label_all, names = cats.labels(
        required_values(anns, "category_id", path, base), path, item_loc(base, "category_id")
    )
    cat_row = category_rows(anns, cats, path, base)
    score_all = floats(values_of(anns, "score"), path, item_loc(base, "score"), optional=True)
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
    attrs_all = values_of(anns, "attributes")
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
    return Records(
        path=path,
        frames=frames,
        labels=names,
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


# the annotation keys the reader uses, or knows to carry nothing for a payload (COCO's own
# area, Label Studio's ignore, YouTube-VIS's per-frame lists, video COCO's ids)
READ_KEYS = frozenset(
    {
        "id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "score",
        "attributes", "track_id", "instance_id", "keypoints", "num_keypoints", "video_id",
        "bboxes", "segmentations", "areas", "ignore",
    }
)  # fmt: skip


def note_unread_keys(keys: set[str], anns: list[dict[str, Any]], base: str, report: Report) -> None:
    """One ``noted`` row per annotation key the reader does not read, with how many
    annotations carry it: nothing in the file is left out without a word. ``keys`` is the
    union of the annotations' keys."""
    for key in sorted(keys - READ_KEYS):
        n = sum(key in a for a in anns)  # only for files that have such a key
        report.add(
            Action.NOTED,
            Reason.UNREAD_ANNOTATION_KEY,
            source=f"{base}[*].{key}",
            detail=f"{key!r} on {n:,} annotation(s) is not read; attributes come from 'attributes'",
        )

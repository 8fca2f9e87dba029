"""Jobs -> one COCO instances file, with ``track_id`` and ``attributes`` as CVAT and datumaro
write them (and ``videos``, as video COCO / CocoVID do, so that each sequence stays one).

| payload | COCO |
|---|---|
| frame (sidecar name, size, sequence, index) | ``images[]``: ``id`` 1.., ``file_name``, ``width``, ``height``, ``video_id``, ``frame_id`` (index), ``coco_url`` = ``src`` |
| sequence | ``videos[]``: ``id`` 1.., ``name`` |
| label | ``categories[]``: ``id`` 1.. in first-seen order, ``name``; ``keypoints`` ``"1".."K"`` where the label has landmarks |
| rectangle | ``bbox`` ``[x, y, w, h]`` of its corners' bounds, ``area`` w x h, ``segmentation`` [] |
| polygon | ``segmentation`` ``[[x1, y1, ...]]``, ``bbox`` its bounds, ``area`` by the shoelace formula |
| landmark | ``keypoints`` ``[x, y, 2]`` at point number k (``0, 0, 0`` where absent), ``num_keypoints``, ``bbox`` its bounds |
| tracker of more than one frame | ``track_id`` (and ``attributes.track_id``, ``attributes.keyframe``, as CVAT writes them) |
| ``attributes`` ``{name: {value: v}}`` | ``attributes`` ``{name: v}`` |
| line, cuboid | not in COCO: skipped, one report row each (``kind_not_in_format``) |
"""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np
import orjson

from prelabel._ragged import run_owner, run_rows
from prelabel.annotations import Kind
from prelabel.export._input import (
    ExportResult,
    JobsInput,
    PathLikeStr,
    frame_names,
    jobs_of,
    report_skipped,
)
from prelabel.formats.payload import JobContent
from prelabel.report import Reason
from prelabel.writer import check_output, write_atomic

#: the types COCO instances hold
COCO_KINDS = (Kind.RECTANGLE, Kind.POLYGON, Kind.LANDMARK)


def export_coco(
    jobs: JobsInput,
    output: PathLikeStr,
    *,
    sizes: PathLikeStr | None = None,
    images: PathLikeStr | None = None,
) -> ExportResult:
    """Write ``jobs`` (in pixels, see :func:`prelabel.export.pixel_jobs`) as one COCO file."""
    result = ExportResult.of_input(jobs)
    jobs = jobs_of(jobs, sizes, images)
    check_output(output)
    image_rows: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    videos: dict[str, int] = {}
    categories: dict[str, int] = {}
    keypoints: dict[str, int] = {}  # category -> its largest landmark point number
    track_base = 0
    for job in jobs:
        ann = job.annotations
        frames = job.frames
        result.jobs += 1
        image_base = len(image_rows)
        names = frame_names(job)
        seqs = frames.sequence.tolist()
        for s in seqs:
            videos.setdefault(s, len(videos) + 1)
        image_rows.extend(
            {
                "id": image_base + i + 1,
                "width": _number(w),
                "height": _number(h),
                "file_name": n,
                "license": 0,
                "flickr_url": "",
                "coco_url": src,
                "date_captured": 0,
                "video_id": videos[s],
                "frame_id": idx,
            }
            for i, (w, h, n, src, s, idx) in enumerate(
                zip(
                    frames.width.tolist(),
                    frames.height.tolist(),
                    names,
                    frames.src.tolist(),
                    seqs,
                    frames.index.tolist(),
                    strict=True,
                )
            )
        )
        result.frames += len(frames)
        held = np.isin(ann.kind, COCO_KINDS)
        report_skipped(
            result.report, job, ~held, Reason.KIND_NOT_IN_FORMAT, "COCO has no lines or cuboids"
        )
        bad_marks = _bad_landmarks(ann.kind, ann.offsets, ann.point_label)
        report_skipped(
            result.report,
            job,
            bad_marks,
            Reason.LANDMARK_NOT_IN_FORMAT,
            f"COCO keypoints are numbered 1..K (K at most {MAX_KEYPOINT:,}), once each",
        )
        keep = np.flatnonzero(held & ~bad_marks)
        annotations.extend(_annotations(job, keep, image_base, track_base, categories, keypoints))
        result.shapes += len(keep)
        track_base += len(job.tracker_ids)
    for i, a in enumerate(annotations):
        a["id"] = i + 1
        if "keypoints" in a:
            k = keypoints[a.pop("_label")]
            pts = a["keypoints"]
            a["keypoints"] = pts + [0] * (3 * k - len(pts))
        else:
            a.pop("_label", None)
    doc = {
        "info": {"description": "prelabel export", "version": "1.0"},
        "licenses": [{"id": 0, "name": "", "url": ""}],
        "videos": [{"id": i, "name": name} for name, i in videos.items()],
        "images": image_rows,
        "annotations": annotations,
        "categories": [
            {
                "id": i,
                "name": name,
                "supercategory": "",
                **(
                    {"keypoints": [str(k + 1) for k in range(keypoints[name])], "skeleton": []}
                    if name in keypoints
                    else {}
                ),
            }
            for name, i in categories.items()
        ],
    }
    data = orjson.dumps(doc)

    def _write(f: BinaryIO) -> None:
        f.write(data)

    write_atomic(output, _write)
    result.files.append(str(output))
    return result


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


# the largest landmark point number written: COCO pads every keypoints list of a category to
# its largest number (K), so one number taken from the input is a size (COCO-WholeBody has
# 133 points, a MediaPipe face mesh 478)
MAX_KEYPOINT = 1_000


def _bad_landmarks(kind: np.ndarray, offsets: np.ndarray, point_label: np.ndarray) -> np.ndarray:
    """Landmarks whose point numbers COCO cannot hold: below 1, above MAX_KEYPOINT, or one
    number twice."""
    counts = np.diff(offsets)
    owner = run_owner(counts)
    on_mark = (kind == Kind.LANDMARK)[owner]
    bad = np.zeros(len(counts), dtype=bool)
    if not on_mark.any():
        return bad
    o, lab = owner[on_mark], point_label[on_mark].astype(np.int64)
    bad[o[(lab < 1) | (lab > MAX_KEYPOINT)]] = True
    order = np.lexsort((lab, o))
    so, sl = o[order], lab[order]
    twice = (so[1:] == so[:-1]) & (sl[1:] == sl[:-1])
    bad[so[1:][twice]] = True
    return bad


def _plain_value(v: Any) -> Any:
    return v["value"] if isinstance(v, dict) and "value" in v else v


def _annotations(
    job: JobContent,
    keep: np.ndarray,
    image_base: int,
    track_base: int,
    categories: dict[str, int],
    keypoints: dict[str, int],
) -> list[dict[str, Any]]:
    ann = job.annotations
    labels = [ann.labels[i] for i in ann.label.tolist()]
    for name in (labels[i] for i in keep.tolist()):
        categories.setdefault(name, len(categories) + 1)
    xyxy = ann.xyxy
    box = np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]).tolist()
    area = ann.area
    rect = ann.kind == Kind.RECTANGLE
    area[rect] = (xyxy[rect, 2] - xyxy[rect, 0]) * (xyxy[rect, 3] - xyxy[rect, 1])
    area_l = area.tolist()
    flat = ann.points.ravel().tolist()
    off = ann.offsets.tolist()
    kinds = ann.kind.tolist()
    track = ann.track
    # a tracker that spans more than one frame keeps its identity as track_id
    spans = np.bincount(track[track >= 0], minlength=len(job.tracker_ids))
    tracked = (track >= 0) & (spans[np.maximum(track, 0)] > 1)
    track_ids = np.where(tracked, track + track_base + 1, 0).tolist()
    marks = _keypoint_rows(ann, keep, labels, keypoints)
    frame = (ann.frame + image_base + 1).tolist()
    out: list[dict[str, Any]] = []
    for i in keep.tolist():
        k = kinds[i]
        attrs = {str(name): _plain_value(v) for name, v in (ann.attributes[i] or {}).items()}
        a: dict[str, Any] = {
            "id": 0,
            "image_id": frame[i],
            "category_id": categories[labels[i]],
            "segmentation": [flat[2 * off[i] : 2 * off[i + 1]]] if k == Kind.POLYGON else [],
            "area": area_l[i],
            "bbox": box[i],
            "iscrowd": 0,
            "_label": labels[i],
        }
        if k == Kind.LANDMARK:
            a["keypoints"], a["num_keypoints"] = marks[i]
        if track_ids[i]:
            a["track_id"] = track_ids[i]
            attrs.update(track_id=track_ids[i], keyframe=True)
        if attrs:
            a["attributes"] = attrs
        out.append(a)
    return out


def _keypoint_rows(
    ann: Any, keep: np.ndarray, labels: list[str], keypoints: dict[str, int]
) -> dict[int, tuple[list[float], int]]:
    """Per kept landmark, its ``[x, y, 2, ...]`` up to its largest point number (padded to
    the category's K once every job is read) and its point count."""
    marks = keep[ann.kind[keep] == Kind.LANDMARK]
    out: dict[int, tuple[list[float], int]] = {}
    if not len(marks):
        return out
    counts = ann.counts[marks]
    rows = run_owner(counts)
    pidx, _ = run_rows(ann.offsets, marks)
    lab = ann.point_label[pidx].astype(np.int64)
    top = np.zeros(len(marks), dtype=np.int64)
    np.maximum.at(top, rows, lab)
    width = int(top.max())
    table = np.zeros((len(marks), width, 3))
    table[rows, lab - 1, 0] = ann.points[pidx, 0]
    table[rows, lab - 1, 1] = ann.points[pidx, 1]
    table[rows, lab - 1, 2] = 2
    flat = table.reshape(len(marks), -1).tolist()
    for j, (i, k, n) in enumerate(zip(marks.tolist(), top.tolist(), counts.tolist(), strict=True)):
        name = labels[i]
        keypoints[name] = max(keypoints.get(name, 0), k)
        row = flat[j][: 3 * k]
        row[2::3] = [int(v) for v in row[2::3]]
        out[i] = (row, n)
    return out

"""Jobs -> CVAT for video 1.1 XML: one file per job (one CVAT task), a ``<track>`` per tracker.

Written as CVAT's own ``dump_as_cvat_interpolation`` writes a task
(``cvat/apps/dataset_manager/formats/cvat.py``): ``<version>``, ``<meta><task>`` with the
labels, their attributes and ``<original_size>``, then each track with one element per
frame carrying ``frame``, ``outside``, ``occluded``, ``keyframe``, the geometry and
``z_order``, and ``<attribute name>`` children.

| payload | CVAT |
|---|---|
| job | a file ``<reference_id>.xml``; ``<task><name>`` the sequence, ``<size>`` the frame count, ``start_frame`` 0, ``<original_size>`` the frames' size |
| frame | its position in the job: frame 0 .. n-1 (CVAT video frames have no names; read back, the default frame id is ``frame_{index:06d}``) |
| tracker | ``<track id label source="manual">``, ids from 0; a tracker whose label changes on some frame becomes one track per run of one label (report: ``split / track_label_changes``) |
| object on a frame | ``keyframe="1" outside="0"`` |
| a frame the tracker leaves (the frame after each run of frames, when there is one) | a copy of the last shape with ``outside="1"``, so that no reader interpolates over the gap or holds the shape to the end of the task |
| rectangle | ``<box xtl ytl xbr ybr>`` of its bounds |
| polygon, line | ``<polygon points>``, ``<polyline points>``: ``x,y;x,y...`` |
| landmark | ``<points points>`` in point-number order (CVAT numbers them 1..n in file order; numbers that are not 1..n are renumbered, report: ``noted / landmark_points_not_in_format``) |
| cuboid | ``<cuboid xtl1 ... ybr2>``, corners as the CVAT reader maps them (``CUBOID_CVAT_TO_P``) |
| ``attributes`` | ``<attribute name>value</attribute>`` (a list as ``a,b``; booleans ``true``/``false``), declared in the task's labels as mutable text attributes |

Coordinates are pixels written as the shortest text that reads back to the same float (CVAT
itself writes two decimals).
"""

from __future__ import annotations

from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import orjson

from prelabel.annotations import Kind
from prelabel.errors import InputError
from prelabel.export._input import ExportResult, JobsInput, PathLikeStr, jobs_of, output_folder
from prelabel.formats.cvat import CUBOID_CVAT_TO_P
from prelabel.formats.payload import JobContent
from prelabel.report import Action, Reason
from prelabel.writer import write_atomic

_TAG = {
    Kind.RECTANGLE: "box",
    Kind.POLYGON: "polygon",
    Kind.LINE: "polyline",
    Kind.LANDMARK: "points",
    Kind.CUBOID: "cuboid",
}
_CUBOID_NAMES = ("tl1", "bl1", "tr1", "br1", "tl2", "bl2", "tr2", "br2")
# payload point of each CVAT corner (the inverse of the reader's corner -> point map)
_CORNER_POINT = np.argsort(CUBOID_CVAT_TO_P)


def _safe_name(ref: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in ref) or "job"


def export_cvat(
    jobs: JobsInput,
    output: PathLikeStr,
    *,
    sizes: PathLikeStr | None = None,
    images: PathLikeStr | None = None,
) -> ExportResult:
    """Write each of ``jobs`` (in pixels) as ``<output>/<reference_id>.xml``."""
    result = ExportResult.of_input(jobs)
    jobs = jobs_of(jobs, sizes, images)
    root = output_folder(output)
    used: set[str] = set()
    for job in jobs:
        name = _safe_name(job.reference_id)
        stem, k = name, 1
        while name in used:
            k += 1
            name = f"{stem}-{k}"
        used.add(name)
        target = root / f"{name}.xml"
        data = task_xml(job, result)

        def _write(f: BinaryIO, data: bytes = data) -> None:
            f.write(data)

        write_atomic(target, _write)
        result.files.append(str(target))
        result.jobs += 1
        result.frames += len(job.frames)
        result.shapes += len(job.annotations)
    return result


def _value_text(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        v = v["value"]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(_value_text(x) for x in v)
    return "" if v is None else str(v)


def task_xml(job: JobContent, result: ExportResult) -> bytes:
    """The CVAT for video document of one job (report rows go to ``result.report``)."""
    ann = job.annotations
    frames = job.frames
    n = len(frames)
    if n and not (
        (frames.width == frames.width[0]).all() and (frames.height == frames.height[0]).all()
    ):
        raise InputError(
            job.path,
            None if job.line is None else str(job.line),
            f"job {job.reference_id!r} has frames of different sizes; a CVAT video task has "
            "one <original_size>",
        )
    width = _num(float(frames.width[0])) if n else "0"
    height = _num(float(frames.height[0])) if n else "0"
    labels = [ann.labels[i] for i in ann.label.tolist()]
    label_attrs: dict[str, dict[str, None]] = {}
    for lab, attrs in zip(labels, ann.attributes.tolist(), strict=True):
        names = label_attrs.setdefault(lab, {})
        for a in attrs or {}:
            names.setdefault(str(a), None)

    texts = _coordinate_texts(ann.points)
    # "x,y" of every point in one numpy string operation; shapes join their runs of them
    pairs: list[str] = (
        np.char.add(np.char.add(np.array(texts[0::2]), ","), np.array(texts[1::2])).tolist()
        if texts
        else []
    )
    off = ann.offsets.tolist()
    kinds = ann.kind.tolist()
    frame = ann.frame.tolist()
    track = ann.track.tolist()
    point_label = ann.point_label
    xyxy_text = _coordinate_texts(ann.xyxy.reshape(-1, 2)) if len(ann) else []

    where = job.path if job.line is None else f"{job.path}:{job.line}"

    def note(action: Action, reason: Reason, i: int, detail: str) -> None:
        """A report row about shape ``i``, its source ``file:line $.path``."""
        result.report.add(
            action,
            reason,
            source=f"{where} {ann.source[i]}",
            frame=str(frames.frame_id[frame[i]]),
            label=labels[i],
            detail=detail,
        )

    # shapes by tracker, each tracker's shapes by frame
    order = np.lexsort((ann.frame, ann.track)).tolist()
    tracks: list[list[int]] = []
    last = None
    for i in order:
        if track[i] != last or labels[i] != labels[tracks[-1][-1]]:
            if track[i] == last:
                note(
                    Action.SPLIT,
                    Reason.TRACK_LABEL_CHANGES,
                    i,
                    "a CVAT track has one label: a new track from this frame",
                )
            tracks.append([])
            last = track[i]
        tracks[-1].append(i)

    def geometry(i: int) -> str:
        k = kinds[i]
        if k == Kind.RECTANGLE:
            x1, y1, x2, y2 = xyxy_text[4 * i : 4 * i + 4]
            return f'xtl="{x1}" ytl="{y1}" xbr="{x2}" ybr="{y2}"'
        a, b = off[i], off[i + 1]
        if k == Kind.CUBOID:
            parts = []
            for corner, p in zip(_CUBOID_NAMES, _CORNER_POINT.tolist(), strict=True):
                j = 2 * (a + p)
                parts.append(f'x{corner}="{texts[j]}" y{corner}="{texts[j + 1]}"')
            return " ".join(parts)
        if k != Kind.LANDMARK:
            return f'points="{";".join(pairs[a:b])}"'
        labs = point_label[a:b]
        rows = (a + np.argsort(labs, kind="stable")).tolist()
        if sorted(labs.tolist()) != list(range(1, b - a + 1)):
            note(
                Action.NOTED,
                Reason.LANDMARK_NOT_IN_FORMAT,
                i,
                f"point numbers {labs.tolist()} written as 1..{b - a} in that order",
            )
        return f'points="{";".join(pairs[r] for r in rows)}"'

    def attributes(i: int, indent: str) -> str:
        attrs = ann.attributes[i] or {}
        return "".join(
            f"{indent}<attribute name={quoteattr(str(k))}>{escape(_value_text(v))}</attribute>\n"
            for k, v in attrs.items()
        )

    out = ['<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n']
    out.append("  <meta>\n    <task>\n      <id>1</id>\n")
    seq = str(frames.sequence[0]) if n else job.reference_id
    out.append(f"      <name>{escape(seq or job.reference_id)}</name>\n")
    out.append(f"      <size>{n}</size>\n      <mode>interpolation</mode>\n")
    out.append("      <overlap>0</overlap>\n      <bugtracker></bugtracker>\n")
    out.append(
        f"      <start_frame>0</start_frame>\n      <stop_frame>{max(n - 1, 0)}</stop_frame>\n"
    )
    out.append(
        "      <frame_filter></frame_filter>\n      <z_order>False</z_order>\n      <labels>\n"
    )
    for lab, names in label_attrs.items():
        out.append(
            f"        <label>\n          <name>{escape(lab)}</name>\n          <attributes>\n"
        )
        for a in names:
            out.append(
                f"            <attribute>\n              <name>{escape(a)}</name>\n"
                "              <mutable>True</mutable>\n              <input_type>text</input_type>\n"
                "              <default_value></default_value>\n              <values></values>\n"
                "            </attribute>\n"
            )
        out.append("          </attributes>\n        </label>\n")
    out.append("      </labels>\n")
    out.append(
        f"      <original_size>\n        <width>{width}</width>\n"
        f"        <height>{height}</height>\n      </original_size>\n"
    )
    out.append(f"    </task>\n    <source>{escape(job.reference_id)}</source>\n  </meta>\n")
    for t, shapes in enumerate(tracks):
        i0 = shapes[0]
        out.append(f'  <track id="{t}" label={quoteattr(labels[i0])} source="manual">\n')
        for s, i in enumerate(shapes):
            tag = _TAG[Kind(kinds[i])]
            geo = geometry(i)
            at = attributes(i, "      ")
            f = frame[i]
            out.append(
                f'    <{tag} frame="{f}" outside="0" occluded="0" keyframe="1" {geo} z_order="0">\n'
                f"{at}    </{tag}>\n"
            )
            following = frame[shapes[s + 1]] if s + 1 < len(shapes) else None
            if following != f + 1 and f + 1 < n:
                out.append(
                    f'    <{tag} frame="{f + 1}" outside="1" occluded="0" keyframe="1" {geo} '
                    f'z_order="0">\n{at}    </{tag}>\n'
                )
        out.append("  </track>\n")
    out.append("</annotations>\n")
    return "".join(out).encode()


def _num(v: float) -> str:
    return str(int(v)) if v.is_integer() else repr(v)


def _coordinate_texts(points: np.ndarray) -> list[str]:
    if not len(points):
        return []
    raw = orjson.dumps(
        np.ascontiguousarray(points.ravel(), dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY
    )
    return raw[1:-1].decode().split(",")

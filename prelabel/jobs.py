"""Trackers + frames -> job payloads, written straight as JSON bytes.

The payload of a million shapes is mostly ``{"x": .., "y": ..}`` objects. Building a Python
dict per point and handing them to a serialiser costs several times the serialisation itself,
so the builder does not: every coordinate is formatted in one ``orjson`` call over the numpy
column (shortest round-trip float text), and each annotation object is one ``%`` on a byte
template cached per (kind, point count). The result is byte-for-byte what ``orjson.dumps``
would write for the equivalent dicts (the tests check it), and the pydantic models of
:mod:`prelabel.schema` accept it (the property tests check that too).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from string import Formatter
from typing import Any

import numpy as np
import orjson

from prelabel._ragged import offsets_from_counts, run_owner
from prelabel.annotations import Annotations, Frames, Kind
from prelabel.errors import InputError, PayloadError, param
from prelabel.text import ID_CONTROL, first_control
from prelabel.trackers import (
    JobLayout,
    TrackerLayout,
    build_trackers,
    first_duplicate,
    layout_jobs,
)

# The namespace of every deterministic id prelabel writes.
ID_NAMESPACE = uuid.UUID("6f1c7f0e-5d2a-5b8e-9c43-1d2a7be0c0de")
MAKER_RESPONSE_KEY = "video2d"

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


# --- byte templates of annotation objects ----------------------------------------------------
def _points_template(n: int, with_label: bool) -> bytes:
    one = b'"p%d":{"x":%%s,"y":%%s,"label":%%s}' if with_label else b'"p%d":{"x":%%s,"y":%%s}'
    return b"{" + b",".join(one % (i + 1) for i in range(n)) + b"}"


@lru_cache(maxsize=4096)
def object_template(kind: int, n: int) -> bytes:
    """The annotation object of ``kind`` with ``n`` points, with ``%s`` slots for id, label,
    attributes (``b""`` or ``b',"attributes":{...}'``) and every coordinate."""
    head = b'{"_id":"%s","label":%s%s,'
    k = Kind(kind)
    if k == Kind.RECTANGLE:
        body = b'"coordinates":[' + b",".join([b'{"x":%s,"y":%s}'] * n) + b"]"
    elif k == Kind.POLYGON:
        edges = b",".join(
            b'"e%d":["p%d","p%d"]' % (i + 1, i + 1, (i + 1) % n + 1) for i in range(n)
        )
        body = b'"points":' + _points_template(n, False) + b',"edges":{' + edges + b"}"
    elif k == Kind.LINE:
        body = b'"points":' + _points_template(n, False)
    elif k == Kind.CUBOID:
        # faces as in the spec's example: front p1-p4, side p2 p3 p5 p6, back p7 p8 p5 p6
        body = (
            b'"points":'
            + _points_template(n, False)
            + b',"front":{"coordinates":["p1","p2","p3","p4"]}'
            + b',"side":{"coordinates":["p2","p3","p5","p6"]}'
            + b',"back":{"coordinates":["p7","p8","p5","p6"]}'
        )
    else:
        body = b'"points":' + _points_template(n, True)
    return head + body + b"}"


def _number_texts(ann: Annotations) -> tuple[list[bytes], np.ndarray]:
    """Every value a template needs, as JSON text, and each shape's start in that list.

    Points give x and y; landmark points also their integer label.
    """
    pts = ann.points
    text = orjson.dumps(np.ascontiguousarray(pts.ravel()), option=orjson.OPT_SERIALIZE_NUMPY)
    xy = text[1:-1].split(b",") if len(pts) else []
    land = np.repeat(ann.kind == Kind.LANDMARK, ann.counts)
    per_point = np.where(land, 3, 2)
    starts = offsets_from_counts(per_point)
    if not land.any():
        values = xy
    else:
        vals = np.empty(int(starts[-1]), dtype=object)
        vals[starts[:-1]] = xy[0::2]
        vals[starts[:-1] + 1] = xy[1::2]
        labels = ann.point_label[land]
        lab_text = orjson.dumps(labels.astype(np.int64), option=orjson.OPT_SERIALIZE_NUMPY)
        vals[starts[:-1][land] + 2] = lab_text[1:-1].split(b",")
        values = vals.tolist()
    return values, starts[ann.offsets]


def attributes_json(attrs: Mapping[str, Any] | None) -> bytes:
    """``b',"attributes":{"name":{"value":v}}'`` (empty for no attributes)."""
    if not attrs:
        return b""
    wrapped = {
        str(k): v if isinstance(v, dict) and "value" in v else {"value": v}
        for k, v in attrs.items()
    }
    try:
        # numpy scalars and arrays straight from inference code are fine
        text = orjson.dumps(wrapped, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except TypeError as exc:
        raise PayloadError(f"attributes {list(attrs)!r}: {exc}") from None
    return b',"attributes":' + text


# --- jobs --------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobOptions:
    """How frames become jobs.

    ``reference_id`` is a template with fields ``{sequence}`` and ``{chunk}`` (1-based); when
    jobs are chunked and the template has no ``{chunk}``, ``-{chunk:03d}`` is appended.
    """

    reference_id: str = "{sequence}"
    frames_per_job: int | None = None
    workflow_id: str | None = None
    batch_id: str | None = None


def _reference_ids(layout: JobLayout, options: JobOptions) -> list[str]:
    template = options.reference_id
    fields = {f for _, f, _, _ in Formatter().parse(template) if f}
    if options.frames_per_job and not any(f.split(":")[0] == "chunk" for f in fields):
        template += "-{chunk:03d}"
    try:
        ids = [
            template.format(sequence=s, chunk=c)
            for s, c in zip(layout.job_sequence, layout.job_chunk, strict=True)
        ]
    except (KeyError, IndexError, ValueError) as exc:
        raise PayloadError(
            f"{param('reference_id')} template {options.reference_id!r}: {exc}"
        ) from None
    if any(not i for i in ids):
        raise PayloadError(
            f"a reference_id is empty: give {param('reference_id')} or name the sequences"
        )
    for option, value in (
        (param("workflow_id", options.workflow_id), options.workflow_id),
        (param("batch_id", options.batch_id), options.batch_id),
    ):
        if value and first_control(value):
            raise InputError(
                None,
                None,
                f"{option} contains a control character ({first_control(value)})",
            )
    bad = next((i for i in ids if first_control(i)), None)
    if bad is not None:
        raise InputError(
            None,
            None,
            f"reference_id {bad!r} contains a control character ({first_control(bad)}): "
            f"rename the sequence or give {param('reference_id')}",
        )
    seen: dict[str, int] = {}
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
    dup = [i for i, n in seen.items() if n > 1]
    if dup:
        raise PayloadError(
            f"reference_id {dup[0]!r} would name {seen[dup[0]]} jobs;"
            f" make {param('reference_id')} unique"
        )
    return ids


def _check_frames(ann: Annotations, layout: JobLayout, ref_ids: list[str]) -> None:
    frames = ann.frames
    empty_id = np.flatnonzero(frames.frame_id == "")
    if empty_id.size:
        raise PayloadError(f"frame {_frame_name(ann, empty_id[0])} has no frame_id")
    empty_src = np.flatnonzero(frames.src == "")
    if empty_src.size:
        raise PayloadError(
            f"frame {_frame_name(ann, empty_src[0])} has no src: give {param('src_prefix')},"
            f" {param('src_template')} or {param('frames_file')}"
        )
    _check_frame_id_text(frames, layout)
    dup = _duplicate_frame_id(frames, layout)
    if dup is not None:
        a, b = dup
        hint = _unique_template(frames, layout)
        fix = (
            f"make them unique, e.g. {param('frame_id', hint)}"
            if hint
            else f"make them unique with a {param('frame_id')} template or a"
            f" {param('frames_file')} file"
        )
        raise InputError(
            None,
            None,
            f"images {_image_name(frames, a)} and {_image_name(frames, b)} both get frame_id "
            f"{frames.frame_id[a]!r} in job {ref_ids[int(layout.job_of_frame[a])]!r}; {fix}",
        )


def _check_frame_id_text(frames: Frames, layout: JobLayout) -> None:
    """frame_ids without control characters (a name with a newline gives one by ``{stem}``);
    one regex over all the ids, the offender looked for only when there is one."""
    ids = frames.frame_id.tolist()
    if not ID_CONTROL.search("".join(ids)):
        return
    row = next(i for i, f in enumerate(ids) if ID_CONTROL.search(f))
    index_ok = first_duplicate(layout.job_of_frame, frames.index.astype(np.int64)) is None
    fix = (
        f"e.g. {param('frame_id', 'frame_{index:06d}')}"
        if index_ok
        else f"with {param('frames_file')}"
    )
    raise InputError(
        None,
        None,
        f"image {_image_name(frames, row)} gets frame_id {ids[row]!r}, which contains a control "
        f"character ({first_control(ids[row])}); give it an id without one, {fix}",
    )


def _frame_id_codes(frame_id: np.ndarray) -> np.ndarray:
    """An integer code per frame, equal where the frame_ids are equal (the text compared
    whole, NUL bytes and all, as Python strings)."""
    if not len(frame_id):
        return np.zeros(0, np.int64)
    _, codes = np.unique(np.asarray(frame_id, dtype=object), return_inverse=True)
    return codes.ravel().astype(np.int64)


def _duplicate_frame_id(frames: Frames, layout: JobLayout) -> tuple[int, int] | None:
    """The first two frame rows of one job that share a frame_id, or ``None``."""
    return first_duplicate(layout.job_of_frame, _frame_id_codes(frames.frame_id))


def _unique_template(frames: Frames, layout: JobLayout) -> str | None:
    """A ``--frame-id`` template that gives every frame of each job its own id, if one does."""
    job = layout.job_of_frame
    names = frames.name
    if (names != "").all() and first_duplicate(job, _frame_id_codes(names)) is None:
        return "{name}"
    if first_duplicate(job, frames.index.astype(np.int64)) is None:
        return "frame_{index:06d}"
    return None


def _image_name(frames: Frames, row: int) -> str:
    name = frames.name[row]
    return (
        repr(name) if name else f"#{frames.index[row]} of {frames.sequence[row] or 'the input'!r}"
    )


def _frame_name(ann: Annotations, row: int) -> str:
    f = ann.frames
    return repr(
        f.frame_id[row] or f.name[row] or f"#{f.index[row]} of {f.sequence[row] or 'the input'}"
    )


def job_chunks(ann: Annotations, options: JobOptions = JobOptions()) -> Iterator[Iterator[bytes]]:
    """Per job, in order, the pieces of its JSON document (concatenated: one document).

    A job of a million shapes is hundreds of megabytes of JSON; yielding it in pieces of a
    few thousand shapes lets the writer stream it without ever holding it whole. Consume
    each job's pieces before asking for the next job.
    """
    if not ann.normalised:
        raise PayloadError("annotations must be normalised before building jobs")
    yield from layout_chunks(ann, layout_jobs(ann.frames, options.frames_per_job), options)


def layout_chunks(
    ann: Annotations, layout: JobLayout, options: JobOptions = JobOptions()
) -> Iterator[Iterator[bytes]]:
    """:func:`job_chunks` over a given job layout of ``ann``'s frames.

    The streaming sink (:class:`prelabel.JobSink`) builds each job alone: its frames laid
    out as one job, with the chunk number the job has in the whole sequence, give the bytes
    the whole sequence's layout gives for that job (trackers and ids are per job).
    """
    ref_ids = _reference_ids(layout, options)
    _check_frames(ann, layout, ref_ids)
    trackers = build_trackers(ann, layout)
    ids = ann.frames.frame_id.tolist()
    frame_text = _FrameText([f.encode() for f in ids], [orjson.dumps(f) for f in ids])
    jobs = [_job_context(ann, layout, trackers, j, ref, options) for j, ref in enumerate(ref_ids)]
    shared = _Shared(ann, frame_text, jobs)
    for j in range(len(jobs)):
        yield _pieces(jobs[j], (_block_json(shared, j, lo) for lo in jobs[j].block_starts))


def job_lines(ann: Annotations, options: JobOptions = JobOptions()) -> Iterator[bytes]:
    """One JSON document (bytes, no newline) per job, in order.

    ``ann`` must be normalised and checked (:func:`prelabel.geometry.prepare`).
    """
    for pieces in job_chunks(ann, options):
        yield b"".join(pieces)


@dataclass(frozen=True)
class _JobContext:
    """What one job's blocks of shapes need, computed once per job."""

    head: bytes  # the document up to the opening of the annotations array
    rows: np.ndarray  # shape rows of the job, in tracker order
    tracker_names: list[bytes]
    tracker_ids: list[bytes]
    tracker_of_shape: np.ndarray
    single_shape: np.ndarray
    offsets: list[int]

    @property
    def block_starts(self) -> range:
        return range(0, len(self.rows), _BLOCK)


@dataclass(frozen=True)
class _Shared:
    """Everything the blocks of all jobs are built from."""

    ann: Annotations
    frame_text: _FrameText
    jobs: list[_JobContext]


def _job_context(
    ann: Annotations,
    layout: JobLayout,
    trackers: TrackerLayout,
    j: int,
    ref: str,
    options: JobOptions,
) -> _JobContext:
    frames = ann.frames
    frame_rows = layout.frame_order[layout.job_frame_offsets[j] : layout.job_frame_offsets[j + 1]]
    frame_list = [
        {"frame_id": fid, "src": src}
        for fid, src in zip(
            frames.frame_id[frame_rows].tolist(), frames.src[frame_rows].tolist(), strict=True
        )
    ]
    data: dict[str, Any] = {"video_data": {"frames": frame_list}}
    refs = [r for r in frames.reference[frame_rows].tolist() if r]
    if refs:
        data["reference_data"] = {"vector": {"images": refs}}
    head: dict[str, Any] = {"reference_id": ref}
    if options.workflow_id:
        head["work_flow_id"] = options.workflow_id
    if options.batch_id:
        head["batch_id"] = options.batch_id
    t_lo, t_hi = (int(t) for t in np.searchsorted(trackers.tracker_job, [j, j + 1]))
    s_lo, s_hi = int(trackers.tracker_offsets[t_lo]), int(trackers.tracker_offsets[t_hi])
    offs = trackers.tracker_offsets[t_lo : t_hi + 1] - s_lo
    names = [ref.encode() + b"/" + k.encode() for k in trackers.tracker_key[t_lo:t_hi].tolist()]
    ns = ID_NAMESPACE.bytes
    sizes = np.diff(offs)
    tracker_of_shape = run_owner(sizes)
    return _JobContext(
        # reopen the data object to append maker_response after the frames
        head=orjson.dumps({**head, "data": data})[:-2] + _MAKER_OPEN,
        rows=trackers.shape_order[s_lo:s_hi],
        tracker_names=names,
        tracker_ids=_uuid_text(
            [hashlib.sha1(ns + name, usedforsecurity=False).digest() for name in names]
        ),
        tracker_of_shape=tracker_of_shape,
        single_shape=(sizes == 1)[tracker_of_shape],
        offsets=offs.tolist(),
    )


def _pieces(job: _JobContext, blocks: Iterator[bytes]) -> Iterator[bytes]:
    yield job.head
    for i, block in enumerate(blocks):
        yield block if i == 0 else b"," + block
    yield b"]}}}}}"


def _block_json(shared: _Shared, j: int, lo: int) -> bytes:
    job = shared.jobs[j]
    hi = min(len(job.rows), lo + _BLOCK)
    return _objects_json(
        shared.ann[job.rows[lo:hi]],
        shared.frame_text,
        job.tracker_names,
        job.tracker_ids,
        job.tracker_of_shape[lo:hi],
        job.single_shape[lo:hi],
        job.offsets,
        lo,
    )


_BLOCK = 8192
_MAKER_OPEN = b',"maker_response":{"' + MAKER_RESPONSE_KEY.encode() + b'":{"data":{"annotations":['


@dataclass(frozen=True)
class _FrameText:
    """Per frame row: the frame_id as raw bytes (for ids) and as a JSON string (for keys)."""

    raw: list[bytes]
    json: list[bytes]


@lru_cache(maxsize=4096)
def keyed_template(kind: int, n: int, whole_tracker: bool) -> bytes:
    """``"frame_id":{object}``; with ``whole_tracker`` wrapped in its one-frame tracker
    (slots: tracker id, label, then the frame key and the object's slots)."""
    obj = b"%s:" + object_template(kind, n)
    if not whole_tracker:
        return obj
    type_name = Kind(kind).type_name.encode()
    return b'{"_id":"%s","type":"' + type_name + b'","label":%s,"frames":{' + obj + b"}}"


def _objects_json(
    sub: Annotations,
    frame_text: _FrameText,
    tracker_names: list[bytes],
    tracker_ids: list[bytes],
    tracker_of_shape: np.ndarray,
    single: np.ndarray,
    offs: list[int],
    lo: int,
) -> bytes:
    """A block of a job's shapes (in tracker order, starting at position ``lo`` of the job)
    as the comma-separated text of the ``annotations`` array.

    Each shape becomes ``"frame_id":{object}`` with one ``%`` on a cached template; a
    tracker of one shape (the common case for detections) is written whole by that same
    ``%``. Trackers that span frames get their header before their first shape and their
    closing after their last, wherever the blocks cut them.
    """
    n = len(sub)
    values, vstart = _number_texts(sub)
    v = vstart.tolist()
    ns = ID_NAMESPACE.bytes
    frame_rows = sub.frame.tolist()
    fraw = frame_text.raw
    fkey = [frame_text.json[i] for i in frame_rows]
    tos = tracker_of_shape.tolist()
    # ids: uuid5(reference_id/tracker/frame_id) per object, uuid5(reference_id/tracker) per tracker
    object_ids = _uuid_text(
        [
            hashlib.sha1(
                b"%s%s/%s" % (ns, tracker_names[t], fraw[f]), usedforsecurity=False
            ).digest()
            for t, f in zip(tos, frame_rows, strict=True)
        ]
    )
    label_text = [orjson.dumps(x) for x in sub.labels]
    labels = [label_text[i] for i in sub.label.tolist()]
    attrs = [attributes_json(a) if a else b"" for a in sub.attributes.tolist()]
    # one template per distinct (kind, point count, tracker of one shape)
    code = sub.kind.astype(np.int64) * 2 + single + sub.counts.astype(np.int64) * 16
    uniq, inverse = np.unique(code, return_inverse=True)
    table = [keyed_template(int(c % 16) // 2, int(c // 16), bool(c % 2)) for c in uniq.tolist()]
    tmpl = [table[i] for i in inverse.ravel().tolist()]
    texts = np.empty(n, dtype=object)
    one = np.flatnonzero(single).tolist()
    if one:
        texts[one] = [
            tmpl[i]
            % (
                tracker_ids[tos[i]],
                labels[i],
                fkey[i],
                object_ids[i],
                labels[i],
                attrs[i],
                *values[v[i] : v[i + 1]],
            )
            for i in one
        ]
    many = np.flatnonzero(~single).tolist()
    if many:
        texts[many] = [
            tmpl[i] % (fkey[i], object_ids[i], labels[i], attrs[i], *values[v[i] : v[i + 1]])
            for i in many
        ]
        kinds = sub.kind.tolist()
        for i in many:
            t = tos[i]
            if offs[t] == lo + i:  # the tracker's first shape
                head = b'{"_id":"%s","type":"%s","label":%s,"frames":{' % (
                    tracker_ids[t],
                    Kind(kinds[i]).type_name.encode(),
                    labels[i],
                )
                texts[i] = head + texts[i]
            if offs[t + 1] - 1 == lo + i:  # its last
                texts[i] = texts[i] + b"}}"
    return b",".join(texts.tolist())


def _uuid_text(digests: list[bytes]) -> list[bytes]:
    """RFC 4122 version-5 UUID text from SHA-1 digests, the bit twiddling and hex in numpy."""
    n = len(digests)
    if n == 0:
        return []
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(n, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = _HEX[np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, 0:8] = hexed[:, 0:8]
    out[:, 9:13] = hexed[:, 8:12]
    out[:, 14:18] = hexed[:, 12:16]
    out[:, 19:23] = hexed[:, 16:20]
    out[:, 24:36] = hexed[:, 20:32]
    flat = out.tobytes()
    return [flat[i : i + 36] for i in range(0, 36 * n, 36)]


def build_jobs(ann: Annotations, options: JobOptions = JobOptions()) -> list[dict[str, Any]]:
    """The job payloads as dicts (for library use; the CLI streams :func:`job_lines`)."""
    return [orjson.loads(line) for line in job_lines(ann, options)]

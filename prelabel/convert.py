"""What every ``prelabel convert <format>`` shares: frame ids and URLs, labels, scores, the
geometry policy, jobs, the output file, the report and the summary.

A reader returns :class:`Annotations` in pixels; :func:`convert` does the rest. The CLI's
``run_convert`` (``prelabel.commands._convert``) is a thin layer over it, and library users
call :func:`convert` (or the stages) directly. This module does not import click.
"""

from __future__ import annotations

import csv
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from string import Formatter
from typing import Any
from urllib.parse import quote

import numpy as np

from prelabel.annotations import Annotations, Frames
from prelabel.errors import (
    GeometryError,
    InputError,
    Message,
    PayloadError,
    PrelabelError,
    param,
)
from prelabel.export.sizes import write_sidecar
from prelabel.geometry import Policy, prepare
from prelabel.jobs import JobOptions, job_chunks
from prelabel.jsonio import load_json, load_yaml, read_text
from prelabel.report import Action, Reason, Report
from prelabel.trackers import layout_jobs
from prelabel.urls import is_url
from prelabel.writer import check_output, write_jsonl

# The fields of --frame-id and --src-template; {number} is index + 1: the 1-based frame
# number of ffmpeg's %06d frames and of Ultralytics' <video>_<N>.txt track files
FRAME_FIELDS = ("stem", "name", "index", "number", "sequence")
REFERENCE_FIELDS = ("sequence", "chunk")
_INTEGER_FIELDS = frozenset({"index", "number", "chunk"})


def check_template(template: str, parameter: str, fields: tuple[str, ...]) -> None:
    """Refuse a template that plain named fields cannot fill: one :class:`InputError`
    naming the ``parameter`` (``"frame_id"``) and the template (a lone brace, ``{0}``, ``{stem.attr}``,
    ``{name[0]}``, ``{stem!r}``, an unknown field or a format spec its value refuses)."""

    def bad(why: str) -> InputError:
        return InputError(None, None, f"{param(parameter, template)}: {why}")

    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise bad(f"{exc} (write a literal brace as {{{{ or }}}})") from None
    known = ", ".join("{" + f + "}" for f in fields)
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or name.isdigit():
            raise bad(f"positional field {{{name}}}: name a field ({known})")
        if not name.isidentifier():
            raise bad(f"{{{name}}}: attribute and index access are not supported; use {known}")
        if name not in fields:
            raise bad(f"unknown field {{{name}}}; use {known}")
        if conversion is not None:
            raise bad(f"{{{name}!{conversion}}}: conversions are not supported")
        if spec and "{" in spec:
            raise bad(f"{{{name}:{spec}}}: nested fields in a format spec are not supported")
        try:
            format(1 if name in _INTEGER_FIELDS else "x", spec or "")
        except (ValueError, TypeError) as exc:
            raise bad(f"{{{name}:{spec}}}: {exc}") from None


def _render(template: str, frames: Frames, parameter: str, *, url: bool = False) -> list[str]:
    """The template per frame; with ``url`` the text fields are percent-encoded."""
    q = (lambda v: quote(v, safe="/")) if url else (lambda v: v)
    out = []
    try:
        for name, seq, idx in zip(
            frames.name.tolist(), frames.sequence.tolist(), frames.index.tolist(), strict=True
        ):
            stem = posixpath.splitext(posixpath.basename(name))[0] if name else str(idx)
            out.append(
                template.format(
                    stem=q(stem), name=q(name), index=idx, number=idx + 1, sequence=q(seq)
                )
            )
    except (ValueError, OverflowError) as exc:  # e.g. {index:c} of a value beyond Unicode
        raise InputError(None, None, f"{param(parameter, template)}: {exc}") from None
    return out


@dataclass(frozen=True)
class FrameOptions:
    """How each frame gets its ``frame_id`` and ``src`` (and reference images)."""

    frame_id: str = "{stem}"
    src_prefix: str | None = None
    src_template: str | None = None
    frames_file: str | None = None


def assign_frames(
    frames: Frames,
    options: FrameOptions,
    *,
    default_sequence: str = "sequence",
    source: str | PathLike[str] | None = None,
) -> Frames:
    """Fill ``frame_id``, ``src`` and ``reference`` from the templates and the frames file.

    Values the source already gave are kept unless the frames file overrides them.
    ``source`` (the input file) is named in the errors.
    """
    check_frame_options(options)
    seq = frames.sequence.copy()
    seq[seq == ""] = default_sequence
    out = replace(frames, sequence=seq)
    ids = out.frame_id.copy()
    missing = ids == ""
    if missing.any():
        rendered = _render(options.frame_id, out, "frame_id")
        ids[missing] = np.asarray(rendered, dtype=object)[missing]
    src = out.src.copy()
    if options.src_template:
        src[:] = _render(options.src_template, out, "src_template", url=True)
    elif options.src_prefix:
        prefix = options.src_prefix.rstrip("/") + "/"
        src[:] = [prefix + quote(n, safe="/") if n else "" for n in out.name.tolist()]
    reference = out.reference.copy()
    if options.frames_file:
        _apply_frames_file(options.frames_file, out, ids, src, reference)
    out = replace(out, frame_id=ids, src=src, reference=reference)
    bad = np.flatnonzero([not is_url(s) for s in src.tolist()])
    if bad.size:
        raise InputError(source, None, _bad_src_message(out, int(bad[0]), options))
    # reference images carry the frame's final id
    for i in np.flatnonzero([r is not None for r in reference.tolist()]).tolist():
        reference[i] = {"frame_id": ids[i], "data": reference[i]["data"]}
    return out


def check_frame_options(options: FrameOptions) -> None:
    """The templates and the prefix, checked before any input is read."""
    check_template(options.frame_id, "frame_id", FRAME_FIELDS)
    if options.src_template:
        check_template(options.src_template, "src_template", FRAME_FIELDS)
    elif options.src_prefix and not is_url(options.src_prefix.rstrip("/") + "/x"):
        raise InputError(
            None,
            None,
            f"{param('src_prefix', options.src_prefix)} is not an http(s)://, s3:// or gs:// URL",
        )


def _bad_src_message(frames: Frames, i: int, options: FrameOptions) -> str:
    """Why frame ``i`` has no usable src, in terms of the options that were given."""
    name, value = frames.name[i], frames.src[i]
    what = (
        repr(name)
        if name
        else f"{frames.frame_id[i]!r} (#{frames.index[i]} of sequence {frames.sequence[i]!r})"
    )
    if value:
        return (
            f"frame {what} has src {value!r}, not an http(s)://, s3:// or gs:// URL"
            f" (give {_GIVE_SRC})"
        )
    if (
        options.src_prefix
        and not options.src_template
        and not name
        and not any(frames.name.tolist())
    ):
        return (
            f"frame {what}: the input names no images (a video), so {param('src_prefix')} has"
            f" nothing to join; give {param('src_template')} (e.g."
            f" 's3://bucket/{{sequence}}/{{number:06d}}.jpg') or {param('frames_file')}"
        )
    if options.src_prefix and not options.src_template and not name:
        return (
            f"frame {what} has an empty image name (file_name), so {param('src_prefix')} has"
            f" nothing to join; name the image in the input, or give {param('src_template')} or"
            f" {param('frames_file')}"
        )
    return f"frame {what} has no src (give {_GIVE_SRC})"


_GIVE_SRC = f"{param('src_prefix')}, {param('src_template')} or {param('frames_file')}"


def _apply_frames_file(
    path: str, frames: Frames, ids: np.ndarray, src: np.ndarray, reference: np.ndarray
) -> None:
    """Per-frame overrides from a CSV (``name,frame_id,src,reference:<label>...``) or JSON file
    (a list of ``{name, frame_id, src, reference: [{label, image_url}]}``)."""
    rows = _read_frames_file(path)
    by_name = {n: i for i, n in enumerate(frames.name.tolist()) if n}
    by_index = {str(i): k for k, i in enumerate(frames.index.tolist())}
    for where, row in rows:
        key = row.get("name")
        k = by_name.get(str(key)) if key else by_index.get(str(row.get("index", "")))
        if k is None:
            raise InputError(
                path, where, f"no frame named {key or row.get('index')!r} in the input"
            )
        if row.get("frame_id"):
            ids[k] = str(row["frame_id"])
        if row.get("src"):
            src[k] = str(row["src"])
        refs = row.get("reference")
        if refs:
            reference[k] = {"frame_id": None, "data": refs}


def _read_frames_file(path: str) -> list[tuple[str, dict[str, Any]]]:
    p = Path(path)
    if p.suffix.lower() == ".csv":
        text = read_text(p, encoding="utf-8-sig")
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or not ({"name", "index"} & set(reader.fieldnames)):
            raise InputError(path, "line 1", "the header needs a 'name' (or 'index') column")
        out = []
        for line, row in enumerate(reader, start=2):
            refs = [
                {"label": col.split(":", 1)[1], "image_url": v}
                for col, v in row.items()
                if col and col.startswith("reference:") and v
            ]
            out.append((f"line {line}", {**row, "reference": refs}))
        return out
    data = load_json(path)
    if isinstance(data, dict):
        data = [{"name": k, **(v if isinstance(v, dict) else {"src": v})} for k, v in data.items()]
    if not isinstance(data, list):
        raise InputError(path, "$", "expected a list of frames or a mapping of name -> frame")
    out = []
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise InputError(path, f"$[{i}]", "expected an object")
        out.append((f"$[{i}]", row))
    return out


# --- labels and scores ---------------------------------------------------------------------
@dataclass(frozen=True)
class LabelOptions:
    """Source label -> platform label, and score thresholds.

    ``mapping`` values are a platform label, ``None`` (leave the class out), or
    ``{"label": ..., "min_score": ...}``.
    """

    mapping: Mapping[str, Any] | None = None
    drop_unmapped: bool = False
    min_score: float | None = None
    source: str | None = field(default=None, compare=False)


def load_label_map(path: str | PathLike[str]) -> dict[str, Any]:
    """A JSON or YAML mapping of source label -> platform label (or ``{label, min_score}``)."""
    p = Path(path)
    data = load_yaml(p) if p.suffix.lower() in (".yaml", ".yml") else load_json(path)
    if not isinstance(data, dict):
        raise InputError(path, "$", "expected a mapping of source label -> platform label")
    for k, v in data.items():
        # "" is accepted here and dropped (or refused) with the empty labels of the input
        if v is None or isinstance(v, str):
            continue
        if (
            isinstance(v, dict)
            and isinstance(v.get("label", ""), str)
            and isinstance(v.get("min_score", 0), (int, float))
        ):
            continue
        raise InputError(path, f"$.{k}", "expected a label name, null, or {label, min_score}")
    return {str(k): v for k, v in data.items()}


def apply_labels(
    ann: Annotations,
    options: LabelOptions,
    report: Report,
    *,
    on_invalid: Policy | str = Policy.REPAIR,
    source: str | PathLike[str] | None = None,
) -> Annotations:
    """Rename labels, leave out unmapped or excluded classes, apply score thresholds.

    A shape whose label is empty (a class the input names ``""``, or a ``--labels`` entry
    mapped to ``""``) cannot be written: it is dropped and reported, or under the ``error``
    policy refused, naming ``source`` (the input file) and the shape's place in it. This is
    the one place every reader's empty labels are handled.
    """
    n_labels = len(ann.labels)
    target = list(ann.labels)
    keep_label = np.ones(n_labels, dtype=bool)
    threshold = np.full(n_labels, -np.inf if options.min_score is None else options.min_score)
    if options.mapping is not None:
        unmapped = [name for name in ann.labels if name not in options.mapping]
        used = np.bincount(ann.label, minlength=n_labels) > 0
        unmapped_used = [
            name
            for name, u in zip(ann.labels, used, strict=True)
            if u and name not in options.mapping
        ]
        if unmapped_used and not options.drop_unmapped:
            raise InputError(
                options.source,
                None,
                f"label {unmapped_used[0]!r} is not in the label map (add it, or use"
                f" {param('drop_unmapped', True)})",
            )
        for i, name in enumerate(ann.labels):
            if name in unmapped:
                keep_label[i] = False
                continue
            v = options.mapping[name]
            if v is None:
                keep_label[i] = False
            elif isinstance(v, dict):
                target[i] = str(v["label"]) if "label" in v else name
                if "min_score" in v:
                    threshold[i] = float(v["min_score"])
            else:
                target[i] = v
    label_ok = keep_label[ann.label]
    unmapped_rows = ~label_ok
    if unmapped_rows.any():
        report.add_shapes(Action.DROPPED, Reason.LABEL_UNMAPPED, ann, unmapped_rows)
    empty_label = np.array([t == "" for t in target], dtype=bool)
    empty = label_ok & empty_label[ann.label]
    if empty.any():
        _empty_labels(ann, empty, options, report, Policy(on_invalid), source)
        label_ok &= ~empty
    low = label_ok & (ann.score < threshold[ann.label])  # NaN (no score) is never below
    if low.any():
        report.add_shapes(Action.DROPPED, Reason.BELOW_MIN_SCORE, ann, low)
    out = ann[label_ok & ~low]
    # merge labels that now share a platform name
    names, remap = np.unique(np.asarray(target, dtype=object).astype(str), return_inverse=True)
    return replace(
        out, labels=tuple(str(x) for x in names), label=remap.ravel()[out.label].astype(np.int32)
    )


def _empty_labels(
    ann: Annotations,
    rows: np.ndarray,
    options: LabelOptions,
    report: Report,
    on_invalid: Policy,
    source: str | PathLike[str] | None,
) -> None:
    """Report (or, under ``error``, refuse) the shapes ``rows`` whose label would be empty."""
    for i in np.unique(ann.label[rows]).tolist():
        name = ann.labels[i]
        if name:
            why, fix = f"{param('mapping')} maps {name!r} to ''", "map it to a name, or to null"
            detail = f"the label map maps {name!r} to ''"  # a row is data: no option named
        else:
            why = detail = "the input names this class ''"
            fix = f"name it with {param('mapping')} ('': Name), or leave it out ('': null)"
        sel = rows & (ann.label == i)
        if on_invalid == Policy.ERROR:
            first = int(np.flatnonzero(sel)[0])
            where = ann.source[first]
            raise InputError(
                options.source if name else source,
                f"$.{name}" if name else (str(where) if where else None),
                f"{int(sel.sum())} shape(s) would have an empty label ({why}); {fix}",
            )
        report.add_shapes(Action.DROPPED, Reason.LABEL_EMPTY, ann, sel, detail=detail)


# --- the whole conversion ------------------------------------------------------------------
# A job is one request to the API. Its documentation gives no size limit (see
# the API notes, section 5.4), but HTTP front ends commonly refuse bodies of a few
# megabytes to a few tens (the sandbox: 64 MiB); past this size convert warns and names
# --frames-per-job, which splits a sequence into several jobs.
JOB_SOFT_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class ConvertResult:
    jobs: int
    frames: int
    shapes: int
    report: Report
    job_bytes: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


# A reader left to convert to call, as ``read(report=report)``: ``read_coco`` with its path
# and options bound (``functools.partial(prelabel.read_coco, "in.json", image_dir="img")``)
Reader = Callable[..., Annotations]


def convert(
    ann: Annotations | Reader,
    output: str | PathLike[str],
    *,
    frames: FrameOptions = FrameOptions(),
    labels: LabelOptions = LabelOptions(),
    jobs: JobOptions = JobOptions(),
    on_invalid: Policy | str = Policy.REPAIR,
    report: Report | None = None,
    default_sequence: str = "sequence",
    progress: Callable[[Any], Any] | None = None,
    source: str | PathLike[str] | None = None,
    soft_limit: int | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> ConvertResult:
    """Frames, labels, checks, trackers, jobs: pixel ``Annotations`` to a JSON Lines file.

    ``ann`` is the annotations, or the reader that gives them (see :data:`Reader`), which
    ``convert`` calls after checking the options, with the report it returns: what the
    reader split, dropped or noted is then in ``result.report`` beside what ``convert``
    did, as the CLI shows it (the CLI passes its reader here). Given annotations already
    read, pass the reader's ``report=`` to keep its rows.
    What it writes passes ``prelabel validate``: an input without frames is refused rather
    than written as an empty file, and shapes with an empty label are dropped (reported).
    ``source`` (the input file) is named in errors; jobs larger than ``soft_limit`` bytes
    (default :data:`JOB_SOFT_LIMIT`) are reported and listed in ``warnings``. ``progress``
    wraps the iterator of job lines (one item per job written); ``on_stage`` is told the
    name of each stage as it starts (``reading``, for a reader, ``frames``, ``checks``,
    ``jobs``), for a display.
    """
    stage = on_stage or (lambda _name: None)
    check_output(output)
    check_options(frames, jobs)
    report = report if report is not None else Report()
    if not isinstance(ann, Annotations):
        stage("reading")
        ann = ann(report=report)
    if len(ann.frames) == 0:
        raise InputError(source, None, "the input has no images or frames: nothing to convert")
    stage("frames")
    ann = replace(
        ann,
        frames=assign_frames(ann.frames, frames, default_sequence=default_sequence, source=source),
    )
    ann = apply_labels(ann, labels, report, on_invalid=on_invalid, source=source)
    stage("checks")
    try:
        ann, report = prepare(ann, on_invalid, report)
    except GeometryError as exc:
        if exc.path is None and source is not None:
            exc.path = str(source)
        raise
    stage("jobs")
    sizes: list[int] = []
    lines: Any = (_measured(pieces, sizes) for pieces in job_chunks(ann, jobs))
    if progress is not None:
        lines = progress(lines)
    count = write_jsonl(output, lines)
    # frame sizes and names beside the jobs (jobs.sizes.json), for export back to pixels
    write_sidecar(output, ann, jobs)
    limit = JOB_SOFT_LIMIT if soft_limit is None else soft_limit
    warnings = _size_warnings(ann.frames, jobs, sizes, limit, report)
    return ConvertResult(
        jobs=count,
        frames=len(ann.frames),
        shapes=len(ann),
        report=report,
        job_bytes=tuple(sizes),
        warnings=tuple(warnings),
    )


def check_options(frames: FrameOptions, jobs: JobOptions) -> None:
    """Every template and prefix, checked before the input is read."""
    check_frame_options(frames)
    check_template(jobs.reference_id, "reference_id", REFERENCE_FIELDS)


def _measured(pieces: Iterable[bytes], sizes: list[int]) -> Iterator[bytes]:
    """The pieces of one job, passed on; its size in bytes is appended to ``sizes``."""
    n = 0
    for piece in pieces:
        n += len(piece)
        yield piece
    sizes.append(n)


def _size_warnings(
    frames: Frames, jobs: JobOptions, sizes: list[int], limit: int, report: Report
) -> list[str]:
    """A warning (and a report row) per job over ``limit`` bytes, with a --frames-per-job
    that would bring it under the limit at its average bytes per frame."""
    big = [k for k, n in enumerate(sizes) if n > limit]
    if not big:
        return []
    per_job = np.diff(layout_jobs(frames, jobs.frames_per_job).job_frame_offsets).tolist()
    out: list[str] = []
    for k in big:
        n_frames = per_job[k] if len(per_job) == len(sizes) else 0
        suggest = max(1, n_frames * limit // sizes[k]) if n_frames else None
        hint = f" (about {suggest} here)" if suggest else ""
        detail = (
            f"job on line {k + 1} is {_size_text(sizes[k])}, over the"
            f" {_size_text(limit)} soft limit of one request"
        )
        report.add(Action.NOTED, Reason.JOB_OVER_SOFT_LIMIT, source=f"line {k + 1}", detail=detail)
        out.append(Message(f"{detail}; split it with {param('frames_per_job', cli='N')}{hint}"))
    return out


def _size_text(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


__all__ = [
    "ConvertResult",
    "FrameOptions",
    "LabelOptions",
    "PayloadError",
    "PrelabelError",
    "Reader",
    "apply_labels",
    "assign_frames",
    "check_options",
    "check_template",
    "convert",
    "load_label_map",
]

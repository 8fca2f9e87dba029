"""What every ``prelabel convert <format>`` shares: frame ids and URLs, labels, scores, the
geometry policy, jobs, the output file, the report and the summary.

A reader returns :class:`Annotations` in pixels; :func:`convert` does the rest. The CLI's
``run_convert`` is a thin layer over it, and library users call :func:`convert` (or the
stages) directly.
"""

from __future__ import annotations

import csv
import functools
import posixpath
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from string import Formatter
from typing import Any
from urllib.parse import quote

import click
import numpy as np

from prelabel.annotations import Annotations, Frames
from prelabel.errors import InputError, PayloadError, PrelabelError
from prelabel.geometry import Policy, prepare
from prelabel.jobs import JobOptions, job_chunks
from prelabel.jsonio import load_json, load_yaml, read_text
from prelabel.report import Action, Report
from prelabel.urls import is_url
from prelabel.writer import write_json, write_jsonl

FRAME_FIELDS = ("stem", "name", "index", "sequence")


# --- frames ------------------------------------------------------------------------------
def _template_fields(template: str, what: str) -> None:
    for _, name, _, _ in Formatter().parse(template):
        if name is not None and name.split(".")[0].split("[")[0] not in FRAME_FIELDS:
            raise InputError(
                None,
                None,
                f"{what} {template!r}: unknown field {{{name}}}; use {', '.join('{' + f + '}' for f in FRAME_FIELDS)}",
            )


def _render(template: str, frames: Frames, *, url: bool = False) -> list[str]:
    """The template per frame; with ``url`` the text fields are percent-encoded."""
    q = (lambda v: quote(v, safe="/")) if url else (lambda v: v)
    out = []
    for name, seq, idx in zip(
        frames.name.tolist(), frames.sequence.tolist(), frames.index.tolist()
    ):
        stem = posixpath.splitext(posixpath.basename(name))[0] if name else str(idx)
        out.append(template.format(stem=q(stem), name=q(name), index=idx, sequence=q(seq)))
    return out


@dataclass(frozen=True)
class FrameOptions:
    """How each frame gets its ``frame_id`` and ``src`` (and reference images)."""

    frame_id: str = "{stem}"
    src_prefix: str | None = None
    src_template: str | None = None
    frames_file: str | None = None


def assign_frames(
    frames: Frames, options: FrameOptions, *, default_sequence: str = "sequence"
) -> Frames:
    """Fill ``frame_id``, ``src`` and ``reference`` from the templates and the frames file.

    Values the source already gave are kept unless the frames file overrides them.
    """
    _template_fields(options.frame_id, "--frame-id")
    seq = frames.sequence.copy()
    seq[seq == ""] = default_sequence
    out = replace(frames, sequence=seq)
    ids = out.frame_id.copy()
    missing = ids == ""
    if missing.any():
        ids[missing] = np.asarray(_render(options.frame_id, out), dtype=object)[missing]
    src = out.src.copy()
    if options.src_template:
        _template_fields(options.src_template, "--src-template")
        src[:] = _render(options.src_template, out, url=True)
    elif options.src_prefix:
        prefix = options.src_prefix.rstrip("/") + "/"
        src[:] = [prefix + quote(n, safe="/") if n else "" for n in out.name.tolist()]
    reference = out.reference.copy()
    if options.frames_file:
        _apply_frames_file(options.frames_file, out, ids, src, reference)
    out = replace(out, frame_id=ids, src=src, reference=reference)
    bad = np.flatnonzero([not is_url(s) for s in src.tolist()])
    if bad.size:
        i = int(bad[0])
        what = repr(out.name[i] or ids[i])
        value = src[i]
        reason = (
            "has no src"
            if not value
            else f"has src {value!r}, not an http(s)://, s3:// or gs:// URL"
        )
        raise InputError(
            None, None, f"frame {what} {reason} (give --src-prefix, --src-template or --frames)"
        )
    # reference images carry the frame's final id
    for i in np.flatnonzero([r is not None for r in reference.tolist()]).tolist():
        reference[i] = {"frame_id": ids[i], "data": reference[i]["data"]}
    return out


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
        if v is None or (isinstance(v, str) and v):
            continue
        if (
            isinstance(v, dict)
            and isinstance(v.get("label", ""), str)
            and isinstance(v.get("min_score", 0), (int, float))
        ):
            continue
        raise InputError(path, f"$.{k}", "expected a label name, null, or {label, min_score}")
    return {str(k): v for k, v in data.items()}


def apply_labels(ann: Annotations, options: LabelOptions, report: Report) -> Annotations:
    """Rename labels, leave out unmapped or excluded classes, apply score thresholds."""
    n_labels = len(ann.labels)
    target = list(ann.labels)
    keep_label = np.ones(n_labels, dtype=bool)
    threshold = np.full(n_labels, -np.inf if options.min_score is None else options.min_score)
    if options.mapping is not None:
        unmapped = [name for name in ann.labels if name not in options.mapping]
        used = np.bincount(ann.label, minlength=n_labels) > 0
        unmapped_used = [
            name for name, u in zip(ann.labels, used) if u and name not in options.mapping
        ]
        if unmapped_used and not options.drop_unmapped:
            raise InputError(
                options.source,
                None,
                f"label {unmapped_used[0]!r} is not in the label map (add it, or use --drop-unmapped)",
            )
        for i, name in enumerate(ann.labels):
            if name in unmapped:
                keep_label[i] = False
                continue
            v = options.mapping[name]
            if v is None:
                keep_label[i] = False
            elif isinstance(v, dict):
                target[i] = v.get("label") or name
                if "min_score" in v:
                    threshold[i] = float(v["min_score"])
            else:
                target[i] = v
    label_ok = keep_label[ann.label]
    unmapped_rows = ~label_ok
    if unmapped_rows.any():
        reason = "label_unmapped"
        report.add_shapes(Action.DROPPED, reason, ann, unmapped_rows)
    low = label_ok & (ann.score < threshold[ann.label])  # NaN (no score) is never below
    if low.any():
        report.add_shapes(Action.DROPPED, "below_min_score", ann, low)
    out = ann[label_ok & ~low]
    # merge labels that now share a platform name
    names, remap = np.unique(np.asarray(target, dtype=object).astype(str), return_inverse=True)
    return replace(
        out, labels=tuple(str(x) for x in names), label=remap.ravel()[out.label].astype(np.int32)
    )


# --- the whole conversion ------------------------------------------------------------------
@dataclass(frozen=True)
class ConvertResult:
    jobs: int
    frames: int
    shapes: int
    report: Report


def convert(
    ann: Annotations,
    output: str | PathLike[str],
    *,
    frames: FrameOptions = FrameOptions(),
    labels: LabelOptions = LabelOptions(),
    jobs: JobOptions = JobOptions(),
    policy: Policy | str = Policy.REPAIR,
    report: Report | None = None,
    default_sequence: str = "sequence",
    progress: Callable[[Any], Any] | None = None,
) -> ConvertResult:
    """Frames, labels, checks, trackers, jobs: pixel ``Annotations`` to a JSON Lines file."""
    report = report if report is not None else Report()
    ann = replace(ann, frames=assign_frames(ann.frames, frames, default_sequence=default_sequence))
    ann = apply_labels(ann, labels, report)
    ann, report = prepare(ann, policy, report)
    lines = job_chunks(ann, jobs)
    if progress is not None:
        lines = progress(lines)
    count = write_jsonl(output, lines)
    return ConvertResult(jobs=count, frames=len(ann.frames), shapes=len(ann), report=report)


# --- CLI glue ------------------------------------------------------------------------------
def convert_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options every ``convert`` command shares (see docs/cli.md)."""
    options = [
        click.option(
            "-o", "--output", required=True, help="JSON Lines of job payloads ('-' for stdout)."
        ),
        click.option(
            "--report",
            "report_path",
            type=click.Path(dir_okay=False),
            help="Write a JSON report of every shape dropped or repaired.",
        ),
        click.option(
            "--frame-id",
            "frame_id",
            default=None,
            help="frame_id template; fields {stem} {name} {index} {sequence}. [default: {stem}; frame_{index:06d} for video]",
        ),
        click.option(
            "--src-prefix",
            help="Each frame's src is this URL joined with the image's relative path.",
        ),
        click.option(
            "--src-template", help="Each frame's src from a template with the --frame-id fields."
        ),
        click.option(
            "--frames",
            "frames_file",
            type=click.Path(exists=True, dir_okay=False),
            help="CSV or JSON: image name -> frame_id, src, reference images.",
        ),
        click.option(
            "--frames-per-job",
            type=click.IntRange(min=1),
            help="Split each sequence into jobs of N frames.",
        ),
        click.option(
            "--reference-id",
            default="{sequence}",
            show_default=True,
            help="reference_id template; fields {sequence} {chunk}.",
        ),
        click.option("--workflow-id", help="work_flow_id of every job."),
        click.option("--batch-id", help="batch_id of every job."),
        click.option(
            "--labels",
            "labels_file",
            type=click.Path(exists=True, dir_okay=False),
            help="JSON or YAML map: source label -> platform label (or {label, min_score}).",
        ),
        click.option(
            "--drop-unmapped",
            is_flag=True,
            help="Drop (and report) labels missing from --labels instead of failing.",
        ),
        click.option("--min-score", type=float, help="Leave out shapes scored below this."),
        click.option(
            "--on-invalid",
            type=click.Choice([p.value for p in Policy]),
            default=Policy.REPAIR.value,
            show_default=True,
            help="What to do with shapes that fail a check.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def run_convert(
    read: Callable[[Report], Annotations],
    *,
    default_frame_id: str = "{stem}",
    default_sequence: str | None = None,
    output: str,
    report_path: str | None,
    frame_id: str | None,
    src_prefix: str | None,
    src_template: str | None,
    frames_file: str | None,
    frames_per_job: int | None,
    reference_id: str,
    workflow_id: str | None,
    batch_id: str | None,
    labels_file: str | None,
    drop_unmapped: bool,
    min_score: float | None,
    on_invalid: str,
    quiet: bool,
) -> None:
    """Read, convert and write; print the summary; write the report. Errors propagate as
    :class:`PrelabelError` for the CLI to print as one line."""
    start = time.perf_counter()
    if default_sequence is None:
        ctx = click.get_current_context(silent=True)
        source = ctx.params.get("source") if ctx else None
        default_sequence = Path(str(source)).stem if source else "sequence"
    report = Report()
    ann = read(report)
    mapping = load_label_map(labels_file) if labels_file else None
    progress = None
    if not quiet and sys.stderr.isatty():
        progress = functools.partial(_progress, label="writing jobs")
    try:
        result = convert(
            ann,
            output,
            frames=FrameOptions(
                frame_id or default_frame_id, src_prefix, src_template, frames_file
            ),
            labels=LabelOptions(mapping, drop_unmapped, min_score, labels_file),
            jobs=JobOptions(reference_id, frames_per_job, workflow_id, batch_id),
            policy=on_invalid,
            report=report,
            default_sequence=default_sequence,
            progress=progress,
        )
    finally:
        if report_path:
            write_json(report_path, report.to_dict())
    if not quiet:
        secs = time.perf_counter() - start
        click.echo(
            f"{result.jobs:,} job(s), {result.frames:,} frame(s), {result.shapes:,} shape(s) -> {output} in {secs:.1f}s",
            err=True,
        )
        for line in report.summary_lines():
            click.echo(line, err=True)


def _progress(lines: Any, label: str) -> Any:
    with click.progressbar(lines, label=label, file=sys.stderr) as bar:
        yield from bar


__all__ = [
    "ConvertResult",
    "FrameOptions",
    "LabelOptions",
    "PayloadError",
    "PrelabelError",
    "apply_labels",
    "assign_frames",
    "convert",
    "convert_options",
    "load_label_map",
    "run_convert",
]

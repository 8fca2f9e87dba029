"""What every ``prelabel convert <format>`` command shares on the command line: the options,
the run (read, convert, write, summary, report) and its progress display.

The library's :func:`prelabel.convert.convert` does the work; this module only maps flags to
its parameters and prints. It is the one place the convert commands import click from.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from prelabel.annotations import Annotations
from prelabel.cli import cli_text
from prelabel.commands._outputs import refuse_replacing
from prelabel.convert import FrameOptions, LabelOptions, check_options, convert, load_label_map
from prelabel.errors import InputError, printable
from prelabel.gcpause import paused_gc
from prelabel.geometry import Policy
from prelabel.jobs import JobOptions
from prelabel.progress import Progress
from prelabel.report import Report
from prelabel.writer import check_output, same_output, write_json

# a run shorter than this shows no progress at all (the summary line says what was done)
PROGRESS_DELAY = 1.0

_STAGES = {
    "reading": "reading {source}",
    "frames": "frame ids and URLs",
    "checks": "checking shapes",
    "jobs": "writing jobs",
}


class _Display:
    """One progress display for the whole run: the stage being worked on, elapsed time and,
    while writing, the jobs written. Nothing shows for a run under :data:`PROGRESS_DELAY`."""

    def __init__(self, *, enabled: bool, source: object) -> None:
        self.source = Path(str(source)).name if source else "input"
        self.progress = Progress(
            None,
            desc=self._desc("reading"),
            unit="job",
            stream=sys.stderr,
            enabled=enabled,
            delay=PROGRESS_DELAY,
            bar_format="{desc} [{elapsed}]",
        )

    def _desc(self, stage: str) -> str:
        return _STAGES.get(stage, stage).format(source=self.source)

    def stage(self, name: str) -> None:
        self.progress.set_description(self._desc(name))
        if name == "jobs":
            self.progress.set_format("{desc}: {n_fmt} {unit}(s) [{elapsed}, {rate_fmt}]")

    def jobs(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        for line in lines:
            yield line
            self.progress.update(1)

    def __enter__(self) -> _Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.close()


def convert_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options every ``convert`` command shares (see docs/cli.md)."""
    options = [
        click.option(
            "-o",
            "--output",
            required=True,
            help="JSON Lines of job payloads: a regular file's path, or '-' for stdout.",
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
            help="frame_id template; fields {stem} {name} {index} {number} (index + 1) {sequence}. [default: {stem}; frame_{index:06d} for video]",
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
    ctx = click.get_current_context(silent=True)
    source = ctx.params.get("source") if ctx else None
    if default_sequence is None:
        default_sequence = Path(str(source)).stem if source else "sequence"
    frame_options = FrameOptions(
        frame_id or default_frame_id, src_prefix, src_template, frames_file
    )
    job_options = JobOptions(reference_id, frames_per_job, workflow_id, batch_id)
    # everything that can be refused without reading the input is refused first
    check_output(output)
    if report_path is not None:
        check_output(report_path, "--report")
        if same_output(report_path, output):
            raise InputError(report_path, None, "--report names the same file as -o/--output")
    inputs = [
        ("the input file", source),
        ("the --labels file", labels_file),
        ("the --frames file", frames_file),
    ]
    refuse_replacing("-o/--output", output, inputs)
    refuse_replacing("--report", report_path, inputs)
    check_options(frame_options, job_options)
    mapping = load_label_map(labels_file) if labels_file else None
    report = Report()
    display = _Display(enabled=not quiet, source=source)
    display.stage("reading")
    read_ok: list[bool] = []  # the report is written once the input could be read

    def reading(report: Report) -> Annotations:
        ann = read(report)
        read_ok.append(True)
        return ann

    # reading, checking and formatting make many containers and no cycles: the collector's
    # passes over them would cost more than the work (the CLI's decision, see gcpause)
    with display, paused_gc():
        try:
            result = convert(
                reading,  # convert reads, so the reader's rows are in its report
                output,
                frames=frame_options,
                labels=LabelOptions(mapping, drop_unmapped, min_score, labels_file),
                jobs=job_options,
                on_invalid=on_invalid,
                report=report,
                default_sequence=default_sequence,
                progress=display.jobs,
                on_stage=display.stage,
                source=None if source is None else str(source),
            )
        finally:
            if report_path and read_ok:
                write_json(report_path, report.to_dict())
    for warning in result.warnings:  # the library's parameters named as this command's flags
        click.echo(printable(f"warning: {cli_text(warning)}"), err=True)
    if not quiet:
        secs = time.perf_counter() - start
        click.echo(
            printable(
                f"{result.jobs:,} job(s), {result.frames:,} frame(s), {result.shapes:,} shape(s) -> {output} in {secs:.1f}s"
            ),
            err=True,
        )
        for line in report.summary_lines():
            click.echo(printable(line), err=True)

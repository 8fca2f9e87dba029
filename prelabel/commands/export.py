"""``prelabel export coco|yolo|cvat INPUT -o OUT``: results or payloads back to training files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from prelabel.cli import LazyGroup
from prelabel.commands._outputs import refuse_replacing
from prelabel.export._input import ExportResult
from prelabel.gcpause import paused_gc
from prelabel.writer import check_output, write_json

_INPUT = click.argument("source", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
_SIZES = click.option(
    "--sizes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The frame sizes file convert wrote beside the jobs (jobs.sizes.json); found by "
    "itself next to a payload INPUT.",
)
_IMAGES = click.option(
    "--images",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the frames: sizes from their headers, each found by its src path.",
)
_REPORT = click.option(
    "--report", type=click.Path(dir_okay=False), help="Write a JSON report of skipped shapes."
)
_QUIET = click.option("-q", "--quiet", is_flag=True, help="No summary.")


# a LazyGroup (no lazy commands) records the subcommand being run, so that the library's
# messages name its options as flags (--sizes, --images)
@click.group("export", cls=LazyGroup)
def export_group() -> None:
    """Results (a folder of <reference_id>.json) or a payload JSONL back to COCO, YOLO, CVAT."""


def _check_outputs(
    source: Path, output: str | None, report: str | None, sizes: Path | None
) -> None:
    """Refuse, before any work, an output that names a file the export reads (or, for the
    report, the file it writes): the write would replace it. ``output`` None: a folder."""
    inputs = [("the INPUT file", source), ("the --sizes file", sizes)]
    refuse_replacing("-o/--output", output, inputs)
    if report is not None:  # written last: a report it cannot write would fail the whole run
        check_output(report, "--report")
    refuse_replacing("--report", report, [*inputs, ("the -o/--output file", output)])


def _finish(result: ExportResult, what: str, report: str | None, quiet: bool) -> None:
    if report:
        write_json(report, result.report.to_dict())
    if quiet:
        return
    click.echo(
        f"{result.jobs:,} job(s), {result.frames:,} frame(s), {result.shapes:,} shape(s) -> {what}",
        err=True,
    )
    for line in result.report.summary_lines():
        click.echo(line, err=True)


@export_group.command("coco")
@_INPUT
@click.option("-o", "--output", required=True, help="The COCO JSON file to write.")
@_SIZES
@_IMAGES
@_REPORT
@_QUIET
def coco_command(source: Path, output: str, **options: Any) -> None:
    """One COCO instances file (track_id, attributes, videos) with every frame of INPUT."""
    from prelabel.export.coco import export_coco

    _check_outputs(source, output, options["report"], options["sizes"])
    with paused_gc():
        result = export_coco(source, output, sizes=options["sizes"], images=options["images"])
    _finish(result, output, options["report"], options["quiet"])


@export_group.command("yolo")
@_INPUT
@click.option("-o", "--output", required=True, help="The data set folder to write.")
@click.option(
    "--track-ids/--no-track-ids",
    default=False,
    show_default=True,
    help="Append each tracked shape's id as a last column (Ultralytics' track output).",
)
@_SIZES
@_IMAGES
@_REPORT
@_QUIET
def yolo_command(source: Path, output: str, track_ids: bool, **options: Any) -> None:
    """An Ultralytics data set: data.yaml (names) and labels/<image>.txt per frame."""
    from prelabel.export.yolo import export_yolo

    _check_outputs(source, None, options["report"], options["sizes"])
    with paused_gc():
        result = export_yolo(
            source, output, track_ids=track_ids, sizes=options["sizes"], images=options["images"]
        )
    _finish(result, output, options["report"], options["quiet"])


@export_group.command("cvat")
@_INPUT
@click.option(
    "-o", "--output", required=True, help="The folder for one <reference_id>.xml per job."
)
@_SIZES
@_IMAGES
@_REPORT
@_QUIET
def cvat_command(source: Path, output: str, **options: Any) -> None:
    """CVAT for video 1.1: one XML per job, a <track> per tracker, outside where it leaves."""
    from prelabel.export.cvat import export_cvat

    _check_outputs(source, None, options["report"], options["sizes"])
    with paused_gc():
        result = export_cvat(source, output, sizes=options["sizes"], images=options["images"])
    _finish(result, output, options["report"], options["quiet"])

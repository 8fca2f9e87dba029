"""``prelabel preview``: each job's pre-labels drawn over its frames (the CLI over
:mod:`prelabel.preview`). Exit 0 when written; 2 on bad input or options."""

from __future__ import annotations

import click

from prelabel.errors import printable

MISSING_SHOWN = 5


def _size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    """``--placeholder-size`` read by click, so its error names the option."""
    w, sep, h = value.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise click.BadParameter(f"{value!r} is not WIDTHxHEIGHT (e.g. 1920x1080)")
    return int(w), int(h)


@click.command("preview")
@click.argument("jobs_file", metavar="JOBS", type=click.Path(dir_okay=False))
@click.option(
    "--frames-dir",
    type=click.Path(file_okay=False),
    help="Folder of the frames' images, found by the file name in each frame's src "
    "(the longest trailing part of the URL's path that exists: drive-07/000001.jpg, then 000001.jpg).",
)
@click.option(
    "--frames",
    "frames_file",
    type=click.Path(dir_okay=False),
    help="CSV (or JSON) of name,frame_id,src (convert's --frames file): the image 'name' of each "
    "frame, matched by src or frame_id; names are relative to --frames-dir, or to this file's folder.",
)
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(), help="Output folder.")
@click.option("--job", "job_ids", multiple=True, help="Only this reference_id (repeatable).")
@click.option("--label", "labels", multiple=True, help="Only shapes of this label (repeatable).")
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Draw every Nth frame of each job (positions 0, N, 2N, ...).",
)
@click.option(
    "--first",
    type=click.IntRange(min=1),
    default=None,
    help="Only the first N frames of each job (with --every: every Nth of those).",
)
@click.option(
    "--sheet-frames",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="At most this many thumbnails on a job's contact sheet (evenly spaced).",
)
@click.option(
    "--sheet-size",
    type=click.IntRange(min=128),
    default=4096,
    show_default=True,
    help="A contact sheet's largest width and height, in pixels.",
)
@click.option(
    "--placeholder-size",
    default="1280x720",
    show_default=True,
    callback=_size,
    help="Size of a missing frame when no frame of its job is found (WIDTHxHEIGHT).",
)
@click.option(
    "--sheet-only",
    is_flag=True,
    help="Write the contact sheets alone: only their frames are opened (JPEGs decoded small).",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def preview_command(
    jobs_file: str,
    frames_dir: str | None,
    frames_file: str | None,
    out_dir: str,
    job_ids: tuple[str, ...],
    labels: tuple[str, ...],
    every: int,
    first: int | None,
    sheet_frames: int,
    sheet_size: int,
    placeholder_size: tuple[int, int],
    sheet_only: bool,
    quiet: bool,
) -> None:
    """Draw each job's pre-labels over its frames: OUT/<reference_id>/<position>_<frame_id>.png
    per drawn frame and OUT/<reference_id>.png, a contact sheet of thumbnails. A frame whose
    image is not found is a grey placeholder with its name, counted in the summary."""
    from prelabel.preview import PreviewOptions, preview

    if frames_dir is None and frames_file is None:
        raise click.UsageError("give --frames-dir, --frames or both")
    options = PreviewOptions(
        every=every,
        first=first,
        jobs=frozenset(job_ids) if job_ids else None,
        labels=frozenset(labels) if labels else None,
        sheet_frames=sheet_frames,
        sheet_size=sheet_size,
        placeholder_size=placeholder_size,
        sheet_only=sheet_only,
    )
    summary = preview(
        jobs_file, out_dir, frames_dir=frames_dir, frames_file=frames_file, options=options
    )
    for ref in summary.unmatched_jobs:
        click.echo(printable(f"warning: --job {ref!r}: no job with that reference_id"), err=True)
    for label in summary.unmatched_labels:
        click.echo(printable(f"warning: --label {label!r}: no drawn shape has it"), err=True)
    if quiet:
        return
    for m in summary.missing[:MISSING_SHOWN]:
        click.echo(
            printable(f"placeholder: {m.reference_id} {m.frame_id}: {m.reason}: {m.src}"), err=True
        )
    more = len(summary.missing) - MISSING_SHOWN
    if more > 0:
        click.echo(f"... and {more} more placeholder(s)", err=True)
    click.echo(
        printable(
            f"preview: {summary.jobs} job(s), {summary.frames} frame(s) drawn,"
            f" {summary.placeholders} placeholder(s), {summary.shapes} shape(s),"
            f" {len(summary.files)} file(s) written to {out_dir}"
        ),
        err=True,
    )

"""``prelabel compare PRELABELS.jsonl RESULTS -o report.json``: how good were the pre-labels."""

from __future__ import annotations

from pathlib import Path

import click

from prelabel.commands._outputs import refuse_replacing
from prelabel.errors import printable
from prelabel.gcpause import paused_gc


@click.command("compare")
@click.argument("prelabels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("results", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o", "--output", help="Write the whole report as JSON (per job and label); - for stdout."
)
@click.option(
    "--plot", "plot", help="Draw kept/moved/relabelled/deleted/added per label (PNG); - for stdout."
)
@click.option(
    "--match-iou",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.5,
    show_default=True,
    help="Least similarity for matching shapes whose _id was not kept.",
)
@click.option(
    "--threshold",
    "thresholds",
    type=click.FloatRange(0, 1, min_open=True),
    multiple=True,
    help="Similarity at which precision and recall are given (repeatable). [default: 0.5, 0.75]",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=1e-4,
    show_default=True,
    help="Largest coordinate change (fraction of the frame) of an unchanged shape.",
)
@click.option(
    "--line-width",
    type=click.FloatRange(0, min_open=True),
    default=0.01,
    show_default=True,
    help="Lines are compared as outlines this wide on each side (fraction of the frame).",
)
@click.option("--summary", is_flag=True, help="Print the totals only, not every job.")
def compare_command(
    prelabels: Path,
    results: Path,
    output: str | None,
    plot: str | None,
    match_iou: float,
    thresholds: tuple[float, ...],
    tolerance: float,
    line_width: float,
    summary: bool,
) -> None:
    """Compare the pre-labels sent (PRELABELS, the payload JSONL) with what annotators
    finished (RESULTS: a folder of <reference_id>.json, or one result file): per job and
    label, the shapes kept unchanged, moved (with their IoU), relabelled, deleted and added,
    the model's precision and recall, tracker splits, merges and ID switches, and the share
    of the final shapes that came from pre-labels."""
    from prelabel.compare import CompareOptions, compare, format_table, plot_report
    from prelabel.writer import check_output, write_json

    if output == "-" and plot == "-":
        raise click.UsageError("-o and --plot cannot both be - (stdout)")
    for target, option in ((output, "-o/--output"), (plot, "--plot")):
        if target is not None:
            check_output(target, option)
    inputs = [("the PRELABELS file", prelabels), ("the RESULTS file", results)]
    refuse_replacing("-o/--output", output, inputs)
    refuse_replacing("--plot", plot, [*inputs, ("the -o/--output file", output)])
    if plot is not None:
        try:
            import matplotlib  # noqa: F401 (only whether it is there)
        except ImportError:
            from prelabel.errors import MissingExtraError

            raise MissingExtraError("plot", "compare --plot") from None
    options = CompareOptions(
        match_iou=match_iou,
        thresholds=tuple(sorted(set(thresholds))) or (0.5, 0.75),
        tolerance=tolerance,
        line_width=line_width,
    )
    with paused_gc():  # reading makes many containers and no cycles
        report = compare(prelabels, results, options)
    # with -o - (or --plot -) stdout holds that file alone: the table goes to stderr
    click.echo(format_table(report, per_job=not summary), err="-" in (output, plot))
    if output is not None:
        write_json(output, report.to_dict())
    if plot is not None:
        plot_report(report, plot)
    _name_some(report.missing_results, "no result for {!r}")
    _name_some(report.unknown_results, "a result for {!r}, which PRELABELS does not hold")
    _name_some(report.ignored_files, "not a result file, not read: {!r}")


def _name_some(refs: list[str], line: str, shown: int = 5) -> None:
    """The first few of ``refs`` on stderr, and how many more (all of them are in -o)."""
    for ref in refs[:shown]:
        click.echo(printable(line.format(ref)), err=True)
    if len(refs) > shown:
        click.echo(f"... and {len(refs) - shown} more (all in the report, -o)", err=True)

"""``prelabel convert mot``: MOTChallenge gt/det files and tracker results -> job payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from prelabel.commands._convert import convert_options, run_convert
from prelabel.formats.mot import read_mot


@click.command("mot")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rows",
    type=click.Choice(["gt", "det"]),
    help="What column 7 is: gt (the consider flag; 0 is an ignored box) or det (a confidence, "
    "for detections and tracker results). [default: gt for gt.txt, det otherwise]",
)
@click.option(
    "--names",
    type=click.Path(exists=True, dir_okay=False),
    help="Labels of classes 1, 2, ... one per line. [default: labels.txt beside the rows "
    "(datumaro's), else the MOT16/17/20 classes]",
)
@click.option(
    "--image-dir",
    type=click.Path(exists=True, file_okay=False),
    help="Sequence folder (seqinfo.ini, img1/) of a lone .txt file; for a folder of tracker "
    "results, the folder of the sequence folders.",
)
@click.option(
    "--first-class",
    type=int,
    default=1,
    show_default=True,
    help="Number of the first label: 1 in MOTChallenge files, 0 for YOLO class ids (boxmot).",
)
@click.option("--width", type=click.IntRange(min=1), help="Image width (overrides seqinfo.ini).")
@click.option("--height", type=click.IntRange(min=1), help="Image height (with --width).")
@click.option(
    "--world-coordinates",
    is_flag=True,
    help="Columns 8-10 are world x, y, z (2D MOT 2015), not class and visibility.",
)
@click.option(
    "--keep-ignored",
    is_flag=True,
    help="Keep ground-truth boxes whose consider flag is 0 (attribute ignored: true) instead "
    "of dropping and reporting them.",
)
@convert_options
def command(
    source: Path,
    rows: str | None,
    names: str | None,
    image_dir: str | None,
    first_class: int,
    width: int | None,
    height: int | None,
    world_coordinates: bool,
    keep_ignored: bool,
    **common: Any,
) -> None:
    """Convert MOTChallenge files to job payloads, one job per sequence: a sequence folder
    (seqinfo.ini, gt/gt.txt or det/det.txt, img1/), a folder of them, a folder of tracker
    results (<seq>.txt), or one .txt file. Rows that cannot be read are refused (FILE:LINE),
    or with --on-invalid drop left out and reported."""
    if (width is None) != (height is None):
        raise click.UsageError("--width and --height go together")
    run_convert(
        lambda report: read_mot(
            source,
            names=names,
            image_dir=image_dir,
            width=width,
            height=height,
            rows=rows,  # type: ignore[arg-type]
            first_class=first_class,
            world_coordinates=world_coordinates,
            keep_ignored=keep_ignored,
            on_invalid=common["on_invalid"],
            report=report,
        ),
        default_frame_id="{stem}",
        **common,
    )

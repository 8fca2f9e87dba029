"""``prelabel convert yolo``: YOLO label files (Ultralytics, Darknet, bare folder) -> job payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from prelabel.commands._convert import convert_options, run_convert
from prelabel.errors import InputError
from prelabel.formats.yolo import TASKS, parse_columns, read_yolo


def _check_columns(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        try:
            # a shape-less kpts may still get its shape from data.yaml: checked when read
            parse_columns(value, kpt_shape=(1, 2))
        except InputError as exc:
            raise click.BadParameter(exc.message) from None
    return value


@click.command("yolo")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--task",
    type=click.Choice(TASKS),
    help="Row schema: detect (cls xc yc w h), segment (cls x1 y1 ...), pose (box + keypoints), "
    "obb (cls x1 y1 ... x4 y4). [default: data.yaml's task, pose with kpt_shape, else read "
    "from the rows: 5 values a box, an odd number >= 7 a polygon, mixed row by row]",
)
@click.option(
    "--columns",
    callback=_check_columns,
    metavar="LIST",
    help="Columns of a row, e.g. cls,box,conf,track or cls,poly,conf or cls,box,kpts:17x3,conf "
    "(overrides --task). With track last, rows without it are untracked shapes.",
)
@click.option(
    "--names",
    type=click.Path(exists=True, dir_okay=False),
    help="Class names, one per line (or a YAML file with names).",
)
@click.option(
    "--image-dir",
    type=click.Path(exists=True, file_okay=False),
    help="Folder of the images (for their sizes and names) when the data set has none.",
)
@click.option("--pixels", is_flag=True, help="Coordinates are pixels, not 0..1 (needs images).")
@click.option(
    "--keypoints-with-box",
    is_flag=True,
    help="Pose rows give the box as a rectangle as well as the keypoints as a landmark.",
)
@convert_options
def command(
    source: Path,
    task: str | None,
    columns: str | None,
    names: str | None,
    image_dir: str | None,
    pixels: bool,
    keypoints_with_box: bool,
    **common: Any,
) -> None:
    """Convert YOLO labels (data.yaml, obj.data or a folder of .txt files) to job payloads.

    Without images the coordinates stay normalised and frames are named after the label files;
    Ultralytics' video labels (<video>_<N>.txt) are one sequence per video, frame N at its place.
    """
    run_convert(
        lambda report: read_yolo(
            source,
            task=task,
            columns=columns,
            names=names,
            image_dir=image_dir,
            pixels=pixels,
            keypoints_with_box=keypoints_with_box,
            on_invalid=common["on_invalid"],
            report=report,
        ),
        default_frame_id="{stem}",
        **common,
    )

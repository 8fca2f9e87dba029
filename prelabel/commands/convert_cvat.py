"""``prelabel convert cvat``: CVAT for images / CVAT for video 1.1 XML -> job payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from prelabel.commands._convert import convert_options, run_convert
from prelabel.formats.cvat import cvat_export_kind, read_cvat


@click.command("cvat")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--no-interpolate",
    "interpolate",  # read_cvat's parameter, so its messages name this flag
    flag_value=False,
    default=True,
    help="Keep only the frames a track lists; do not fill the frames between keyframes.",
)
@click.option(
    "--ellipse-vertices",
    type=click.IntRange(min=3),
    default=32,
    show_default=True,
    help="Vertices of the polygon an <ellipse> becomes.",
)
@click.option(
    "--occluded-attribute",
    metavar="NAME",
    help="Put CVAT's occluded flag into this attribute ('true'/'false').",
)
@convert_options
def command(
    source: Path,
    interpolate: bool,
    ellipse_vertices: int,
    occluded_attribute: str | None,
    **common: Any,
) -> None:
    """Convert a CVAT XML export (images or video; task, job or project; or a file datumaro
    writes as cvat) to job payloads, one job per video task, project task or image folder."""
    video = cvat_export_kind(source) == "video"
    run_convert(
        lambda report: read_cvat(
            source,
            interpolate=interpolate,
            ellipse_vertices=ellipse_vertices,
            occluded_attribute=occluded_attribute,
            on_invalid=common["on_invalid"],
            report=report,
        ),
        default_frame_id="frame_{index:06d}" if video else "{stem}",
        **common,
    )

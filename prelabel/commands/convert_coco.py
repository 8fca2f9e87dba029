"""``prelabel convert coco``: COCO instances, results, keypoints and video files -> job payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from prelabel.commands._convert import convert_options, run_convert
from prelabel.formats.coco import MIN_MASK_AREA, read_coco


@click.command("coco")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--images",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="For a results list: the instances or image-info file with the images (and categories).",
)
@click.option(
    "--image-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the images: sizes from their headers (results lists: image_id = file stem).",
)
@click.option(
    "--multipart",
    type=click.Choice(["split", "largest"]),
    default="split",
    show_default=True,
    help="A segmentation in several parts: one shape per part, or only the largest part.",
)
@click.option("--as-boxes", is_flag=True, help="Every annotation becomes its rectangle.")
@click.option(
    "--keypoints-with-box",
    is_flag=True,
    help="Keypoint annotations give their box as a rectangle as well as the landmark.",
)
@click.option(
    "--occluded-attribute",
    metavar="NAME",
    help="Landmark attribute listing the numbers of the points marked occluded (v = 1).",
)
@click.option(
    "--attributes",
    "attributes_mode",
    type=click.Choice(["all", "none"]),
    default="all",
    show_default=True,
    help="Pass each annotation's 'attributes' object on, or leave attributes out.",
)
@click.option(
    "--min-mask-area",
    type=click.FloatRange(min=0),
    default=MIN_MASK_AREA,
    show_default=True,
    help="Pieces of an RLE mask smaller than this many square pixels are dropped (reported).",
)
@convert_options
def command(
    source: Path,
    images: Path | None,
    image_dir: Path | None,
    multipart: str,
    as_boxes: bool,
    keypoints_with_box: bool,
    occluded_attribute: str | None,
    attributes_mode: str,
    min_mask_area: float,
    **common: Any,
) -> None:
    """Convert a COCO file (instances, results list, keypoints, video COCO, YouTube-VIS)."""
    run_convert(
        lambda report: read_coco(
            source,
            images=images,
            image_dir=image_dir,
            multipart="largest" if multipart == "largest" else "split",
            as_boxes=as_boxes,
            keypoints_with_box=keypoints_with_box,
            occluded_attribute=occluded_attribute,
            attributes=attributes_mode == "all",
            min_mask_area=min_mask_area,
            report=report,
        ),
        default_frame_id="{stem}",
        **common,
    )

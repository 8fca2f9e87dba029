"""The reader's options, as one frozen value passed to the stages that use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Multipart = Literal["split", "largest"]


#: Outlines traced from masks smaller than this (square pixels, holes filled) are specks.
MIN_MASK_AREA = 4.0


@dataclass(frozen=True)
class Options:
    """What ``read_coco``'s keyword arguments ask for (see its docstring)."""

    multipart: Multipart = "split"
    as_boxes: bool = False
    keypoints_with_box: bool = False
    occluded_attribute: str | None = None
    attributes: bool = True
    min_mask_area: float = MIN_MASK_AREA

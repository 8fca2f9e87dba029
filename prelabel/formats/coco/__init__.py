"""COCO in: instances, results lists, keypoints, video / tracking COCO and YouTube-VIS.

Every variant becomes one table of *records* (one annotation on one frame, with its raw
``bbox`` / ``segmentation`` / ``keypoints``), and one vectorised pass turns the records into
shapes: columns are pulled out of the parsed JSON with ``map`` / ``np.fromiter``, image and
category ids are matched with ``np.searchsorted``, and every polygon point of the file lands
in one flat array. Types are checked per column (the set of Python types seen); only when a
check fails is the offending item looked for, so that the error names its JSON path
(``$.annotations[17].bbox``). Coordinates stay in pixels; see ``docs/formats/coco.md`` for
the mapping and the policies.

The package, one idea per module:

- ``_columns``: typed JSON columns (ids, numbers, strings, lists of numbers) and id lookup;
- ``_frames``: images and frames (``images``, ``videos``, YouTube-VIS, ``--image-dir``, names);
- ``_categories``: category ids -> labels; ``_records``: one annotation on one frame;
- ``_pieces``, ``_keypoints``, ``_rings``: shapes of one kind cut from the records (boxes,
  landmarks, polygons and traced masks with the multipart policy);
- ``_attributes``: ``attributes`` objects -> platform values;
- ``_shapes``: which geometry each record gives, and the one table in record order;
- ``_variants``: which file is which (instances, results lists, YouTube-VIS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prelabel.annotations import Annotations
from prelabel.formats.coco._attributes import TRACK_ATTRIBUTES
from prelabel.formats.coco._columns import PathLikeStr
from prelabel.formats.coco._frames import LOCAL_FILES_ROUTE
from prelabel.formats.coco._options import MIN_MASK_AREA, Multipart, Options
from prelabel.formats.coco._variants import read_document
from prelabel.jsonio import load_json  # looked up here when called: the benchmark's seam
from prelabel.report import Report

if TYPE_CHECKING:
    from prelabel.imagesize import IMAGE_SUFFIXES

__all__ = [
    "IMAGE_SUFFIXES",
    "LOCAL_FILES_ROUTE",
    "MIN_MASK_AREA",
    "TRACK_ATTRIBUTES",
    "Multipart",
    "read_coco",
]


def read_coco(
    path: PathLikeStr,
    *,
    images: PathLikeStr | None = None,
    image_dir: PathLikeStr | None = None,
    multipart: Multipart = "split",
    as_boxes: bool = False,
    keypoints_with_box: bool = False,
    occluded_attribute: str | None = None,
    attributes: bool = True,
    min_mask_area: float = MIN_MASK_AREA,
    report: Report | None = None,
) -> Annotations:
    """Read a COCO file into :class:`Annotations` in pixels.

    ``path`` is an instances file (``images``, ``annotations``, ``categories``; with
    ``videos`` for video / tracking COCO), a YouTube-VIS file (``videos`` with
    ``file_names``), or a results list (a bare JSON list of detections) whose images come
    from ``images`` (an instances or image-info file) or ``image_dir`` (sizes from the file
    headers). ``multipart``: a segmentation in several parts becomes one shape per part
    (``"split"``, reported) or only its largest part (``"largest"``, the rest reported).
    ``as_boxes`` turns every annotation into its rectangle; ``keypoints_with_box`` adds the
    box to each keypoint landmark; ``occluded_attribute`` names a landmark attribute listing
    the points marked occluded (v = 1); ``attributes=False`` leaves ``attributes`` out.
    Bad input raises :class:`InputError` naming the file and the JSON path.

    A read makes many short-lived objects and no reference cycles: a caller reading large
    files may wrap it in :func:`prelabel.paused_gc` (the CLI pauses the collector around the
    whole run).
    """
    if multipart not in ("split", "largest"):
        raise ValueError(f"multipart must be 'split' or 'largest', not {multipart!r}")
    opts = Options(
        multipart, as_boxes, keypoints_with_box, occluded_attribute, attributes, min_mask_area
    )
    report = report if report is not None else Report()
    return read_document(load_json(path), path, images, image_dir, opts, report)


def __getattr__(name: str) -> Any:
    # the image suffixes are prelabel.imagesize's, which imports the imagesize package (urllib,
    # ssl, xml): named here for compatibility, imported only when asked for
    if name == "IMAGE_SUFFIXES":
        from prelabel.imagesize import IMAGE_SUFFIXES

        return IMAGE_SUFFIXES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Which file is which: instances / video COCO, results lists, YouTube-VIS (files and results)."""

from __future__ import annotations

from typing import Any

from prelabel.annotations import Annotations
from prelabel.errors import InputError, param
from prelabel.formats.coco._categories import read_categories
from prelabel.formats.coco._columns import PathLikeStr, object_list
from prelabel.formats.coco._frames import image_dir_table, image_table, video_names, ytvis_frames
from prelabel.formats.coco._options import Options
from prelabel.formats.coco._records import coco_records, ytvis_records
from prelabel.formats.coco._shapes import record_shapes
from prelabel.jsonio import load_json
from prelabel.report import Report


def read_document(
    data: Any,
    path: PathLikeStr,
    images: PathLikeStr | None,
    image_dir: PathLikeStr | None,
    opts: Options,
    report: Report,
) -> Annotations:
    """The annotations of the parsed JSON of ``path``, read as the variant its top level says."""
    if isinstance(data, list):
        return read_results(data, path, images, image_dir, opts, report)
    if not isinstance(data, dict):
        raise InputError(path, "$", "expected a COCO object or a results list")
    if images is not None:
        raise InputError(
            path, None, f"has its own images; {param('images')} is for results lists only"
        )
    if "images" not in data and "videos" in data:
        return read_ytvis(data, data.get("annotations", []), "$.annotations", path, opts, report)
    if "images" not in data:
        raise InputError(path, "$.images", "missing (not a COCO instances, video or results file)")
    table = image_table(data, path, image_dir, report)
    cats = read_categories(data, path)
    anns = object_list(data.get("annotations", []), path, "$.annotations")
    records = coco_records(anns, "$.annotations", path, table, cats, report)
    return record_shapes(records, opts, report)


def read_results(
    data: list[Any],
    path: PathLikeStr,
    images: PathLikeStr | None,
    image_dir: PathLikeStr | None,
    opts: Options,
    report: Report,
) -> Annotations:
    """A results list: its images from ``images`` (a COCO file) or the files in ``image_dir``."""
    anns = object_list(data, path, "$")
    info: dict[str, Any] | None = None
    if images is not None:
        loaded = load_json(images)
        if not isinstance(loaded, dict):
            raise InputError(images, "$", "expected a COCO object with 'images' (or 'videos')")
        info = loaded
    if anns and "video_id" in anns[0] and "image_id" not in anns[0]:
        if info is None or "videos" not in info:
            raise InputError(
                path,
                None,
                f"video results need {param('images', cli='FILE')} with the 'videos' section",
            )
        return read_ytvis(info, anns, "$", path, opts, report, info_path=images)
    if info is not None and images is not None:  # images and categories from --images
        table = image_table(info, images, image_dir, report)
        cats = read_categories(info, images)
    elif image_dir is not None:
        table = image_dir_table(image_dir)
        cats = read_categories(None, path)
    else:
        raise InputError(
            path,
            None,
            "a results list has no image names or sizes: give"
            f" {param('images', cli='FILE')} or {param('image_dir', cli='DIR')}",
        )
    return record_shapes(coco_records(anns, "$", path, table, cats, report), opts, report)


def read_ytvis(
    info: dict[str, Any],
    anns: Any,
    base: str,
    path: PathLikeStr,
    opts: Options,
    report: Report,
    info_path: PathLikeStr | None = None,
) -> Annotations:
    """YouTube-VIS: ``info`` has the videos and categories (in ``info_path``, else ``path``)."""
    ipath = info_path if info_path is not None else path
    vids, vnames, videos = video_names(info["videos"], ipath)
    frames, first = ytvis_frames(videos, vnames, ipath)
    cats = read_categories(info, ipath)
    anns = object_list(anns, path, base)
    return record_shapes(ytvis_records(anns, base, path, vids, frames, first, cats), opts, report)

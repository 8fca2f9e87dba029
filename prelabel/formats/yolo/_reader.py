"""``read_yolo``: the data set's layout, then its label files, then the shapes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from os import PathLike

import numpy as np

from prelabel.annotations import Annotations
from prelabel.errors import InputError, param
from prelabel.formats.yolo._datasets import discover, with_image_dir
from prelabel.formats.yolo._layout import build_frames, keep_frames, label_files, sort_frames
from prelabel.formats.yolo._lines import read_files, split_lines
from prelabel.formats.yolo._names import check_class_name
from prelabel.formats.yolo._rows import (
    check_declared_size,
    check_lines,
    column_values,
    declared_reading,
    infer_reading,
    note_reading,
)
from prelabel.formats.yolo._shapes import build_shapes, empty_annotations
from prelabel.geometry import Policy, as_policy
from prelabel.report import Action, Reason, Report


def read_yolo(
    path: str | PathLike[str],
    *,
    task: str | None = None,
    columns: str | None = None,
    names: str | PathLike[str] | Sequence[str] | None = None,
    image_dir: str | PathLike[str] | None = None,
    pixels: bool = False,
    keypoints_with_box: bool = False,
    on_invalid: Policy | str = "error",
    report: Report | None = None,
) -> Annotations:
    """Read a YOLO data set (``data.yaml``, ``obj.data`` or a folder of label files).

    ``task`` (detect, segment, pose, obb) or ``columns`` (``"cls,box,conf,track"``, see
    :func:`parse_columns`) declare the row schema; otherwise data.yaml's ``task``, then
    ``kpt_shape`` (pose), else it is read from the rows (boxes and polygons by their length,
    row by row; a trailing confidence or track id by its value). ``names`` is a names file
    (or a list of names) that overrides the data set's. ``image_dir`` gives the images when
    the layout has none (frames are then that folder's images). Coordinates are normalised
    unless ``pixels``.

    Returns pixel coordinates when image sizes are known (from the image headers); a data set
    without images gives ``normalised=True`` annotations with frames of width = height = 1.
    A row that does not fit the schema, a non-number, a class id beyond the names or a label
    file without an image raises :class:`InputError` (``FILE:LINE: message``) under
    ``on_invalid="error"`` and ``"repair"`` (a malformed line has nothing to repair from), or
    with ``on_invalid="drop"`` is skipped and reported.

    A read makes tens of thousands of short-lived objects and no reference cycles: a caller
    reading large data sets may wrap it in :func:`prelabel.paused_gc` (the CLI pauses the
    collector around the whole run).
    """
    drop = as_policy(on_invalid) == Policy.DROP
    return _read_yolo(
        path, task, columns, names, image_dir, pixels, keypoints_with_box,
        drop, report if report is not None else Report(),
    )  # fmt: skip


def _read_yolo(
    path: str | PathLike[str], task: str | None, columns: str | None,
    names: str | PathLike[str] | Sequence[str] | None, image_dir: str | PathLike[str] | None,
    pixels: bool, keypoints_with_box: bool, drop: bool, rep: Report,
) -> Annotations:  # fmt: skip
    given_names: list[str] | None = None
    names_file: str | None = None
    if isinstance(names, (str, PathLike)):
        names_file = os.fspath(names)
    elif names is not None:
        given_names = [check_class_name(str(n), None, f"names[{i}]") for i, n in enumerate(names)]

    lay = discover(os.fspath(path), names_file)
    if given_names is not None:
        lay.names = given_names
    if image_dir is not None:
        lay = with_image_dir(lay, os.fspath(image_dir))
    reading = declared_reading(lay, task, columns)
    for reason, source in lay.notes:
        rep.add(Action.NOTED, reason, source=source)
    for source, (reason, detail) in lay.skipped.items():
        rep.add(Action.SKIPPED, reason, source=source, detail=detail)

    # label files without an image; images listed but missing
    have_images = any(e.image is not None for e in lay.frames)
    if lay.orphans and (have_images or image_dir is not None):
        if not drop:
            p = lay.orphans[0][0]
            raise InputError(p, None, "label file without an image")
        for _p, rel, _k in lay.orphans:
            rep.add(Action.SKIPPED, Reason.LABEL_FILE_WITHOUT_IMAGE, source=rel)
    if lay.missing and have_images:
        keep = np.array([e.image is not None for e in lay.frames], dtype=bool)
        if not drop:
            name, lst, _rel_lst, line = lay.missing[0]
            raise InputError(lst, str(line), f"image {name!r} not found")
        for name, _lst, rel_lst, line in lay.missing:
            rep.add(Action.SKIPPED, Reason.IMAGE_NOT_FOUND, source=f"{rel_lst}:{line}", frame=name)
        keep_frames(lay, keep)
    if pixels and not have_images:
        raise InputError(
            os.fspath(path), None,
            f"{param('pixels', True)} needs the images for their sizes: none found"
            f" (give {param('image_dir')})",
        )  # fmt: skip

    frames = build_frames(lay, sort_frames(lay), have_images)
    labels = tuple(lay.names) if lay.names is not None else None
    files = label_files(lay)
    if not files.path:
        note_reading(reading, None, rep)
        return empty_annotations(frames, labels, normalised=not have_images)
    lines = split_lines(read_files(files.path))
    if reading is not None:
        check_declared_size(reading, lines, lay)
    if reading is None:
        reading, sid = infer_reading(lines, files.path, normalised=not pixels)
    else:
        sid = reading.schema_ids(lines.ncol)
    n_names = len(labels) if labels is not None else None
    keep_line = check_lines(lines, reading, sid, n_names, files, drop, rep)
    note_reading(reading, sid[keep_line], rep)
    if labels is None:
        # no names anywhere: classes are named by their ids
        top = int(
            column_values(lines, reading, sid, np.flatnonzero(keep_line), "cls").max(initial=-1)
        )
        labels = tuple(str(i) for i in range(top + 1))
    return build_shapes(
        lines, keep_line, reading, sid, frames, labels, files, have_images, pixels,
        keypoints_with_box, rep,
    )  # fmt: skip

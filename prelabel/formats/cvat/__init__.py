"""CVAT for images 1.1 and CVAT for video 1.1 XML -> :class:`Annotations` in pixels.

The stages, one module each, hand each other small tables (``_tables``):

- ``_xml``: the hardened expat parser (no DTD, no entities, no external references) and its
  errors; ``_stream`` and ``_elements``: the streaming parse into lists, data only; ``_meta``:
  the tasks and labels of ``<meta>``;
- ``_numbers`` and ``_raw``: every ``x,y;x,y`` run converted in one numpy call, the raw shape
  table;
- ``_frames``: the frames table; tracks mapped to task frames (``start_frame``,
  ``frame_filter`` step, and in a project export the task's frame offset);
- ``_tracks``: keyframe gaps filled by linear interpolation as CVAT does, ``outside`` frames
  removed;
- ``_geometry`` and ``_masks``: each CVAT type turned into the platform's geometry (see
  docs/formats/cvat.md for the table).
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from prelabel.annotations import Annotations

# the public names, and those the tests reach (also importable from here, as before the split)
from prelabel.formats.cvat._frames import MAX_TASK_FRAMES as MAX_TASK_FRAMES
from prelabel.formats.cvat._frames import frame_text, frames_table
from prelabel.formats.cvat._geometry import CUBOID_CVAT_TO_P as CUBOID_CVAT_TO_P
from prelabel.formats.cvat._geometry import box_corners as box_corners
from prelabel.formats.cvat._geometry import ellipse_polygon as ellipse_polygon
from prelabel.formats.cvat._geometry import to_annotations
from prelabel.formats.cvat._masks import cvat_rle_to_mask as cvat_rle_to_mask
from prelabel.formats.cvat._raw import raw_shapes
from prelabel.formats.cvat._stream import StreamParser
from prelabel.formats.cvat._tracks import MAX_FILLED_POINTS as MAX_FILLED_POINTS
from prelabel.formats.cvat._tracks import track_pass
from prelabel.formats.cvat._xml import cvat_export_kind
from prelabel.geometry import Policy, as_policy
from prelabel.report import Report

__all__ = ["read_cvat", "cvat_export_kind"]


def read_cvat(
    path: str | PathLike[str],
    *,
    interpolate: bool = True,
    ellipse_vertices: int = 32,
    occluded_attribute: str | None = None,
    on_invalid: Policy | str = "error",
    report: Report | None = None,
) -> Annotations:
    """Read a CVAT 1.1 XML export (images or video, task, job or project) into pixels.

    ``interpolate`` fills the frames between a track's keyframes linearly (and after its last
    keyframe, up to the end of the task, unless it is ``outside``), as CVAT does;
    ``ellipse_vertices`` is the number of polygon vertices an ellipse becomes;
    ``occluded_attribute`` names the attribute that receives CVAT's ``occluded`` flag
    (``"true"``/``"false"``). Skipped tags, dropped frames and split masks go to ``report``.

    A bad element (an unknown label, a bad ``points`` string or coordinate, a missing
    attribute, a frame or rotation that is not a number, a bad mask) raises
    :class:`InputError` naming the element and its line under ``on_invalid="error"`` and
    ``"repair"`` (a bad element has nothing to repair from); with ``"drop"`` that
    element is skipped (a shape, one frame of a track; a bad ``<image>`` or ``<track>`` with
    the shapes in it; a bad skeleton point with its skeleton), a ``dropped`` row goes to
    ``report`` and the rest of the file is read. A file that cannot be read as a whole
    (malformed XML, a DTD or entity, a bad ``<meta>``, an image path leaving the dataset
    root) raises in both modes.
    """
    if ellipse_vertices < 3:
        raise ValueError("an ellipse needs at least 3 vertices")
    drop = as_policy(on_invalid) == Policy.DROP
    rep = report if report is not None else Report()
    with open(path, "rb") as f:
        parsed = StreamParser(str(path), rep, drop=drop).parse(f)
    # a coordinate may be inf or NaN (CVAT writes none; prelabel.geometry drops and reports
    # such shapes): the arithmetic on it is not a warning
    with np.errstate(invalid="ignore", over="ignore"):
        raw = raw_shapes(parsed, drop, rep)
        frames, tasks, frame_row, keep = frames_table(parsed, raw, rep)
        if not keep.all():
            raw = raw.take(keep)
            frame_row = frame_row[keep]
        raw.frame = frame_row
        if parsed.tracks.id:
            ends = {t.key: t.end for t in tasks}
            default = tasks[0].end
            raw = track_pass(
                raw,
                end_of_track=np.array(
                    [ends.get(k, default) for k in parsed.tracks.task], dtype=np.int64
                ),
                track_ids=parsed.tracks.id,
                track_attrs=parsed.tracks.attrs,
                label_names=parsed.label_names,
                interpolate=interpolate,
                path=parsed.path,
                report=rep,
            )
        return to_annotations(
            raw,
            frames,
            parsed,
            ellipse_vertices=ellipse_vertices,
            occluded_attribute=occluded_attribute,
            drop=drop,
            frame_text=lambda track_row, frame_row: frame_text(parsed, tasks, track_row, frame_row),
            report=rep,
        )

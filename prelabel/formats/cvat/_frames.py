"""Frames: the images' positions, the video tasks' frame ranges, and track frames -> frame rows.

Tracks are mapped to task frames: task frame *k* is CVAT frame ``start_frame + shift + k * step``
(``frame_filter`` step; ``shift`` the task's frame offset in a project export, see
:func:`prelabel.formats.cvat._meta.task_offsets`). The count of a task's frames comes from
the meta, or from the largest track frame when the meta has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from prelabel._ragged import position_in_run
from prelabel.annotations import Frames
from prelabel.errors import InputError
from prelabel.formats.cvat._raw import RawShapes
from prelabel.formats.cvat._tables import ParsedFile, Task, element_source
from prelabel.report import Action, Reason, Report

# The frames one task (one video sequence) may have: the frames table holds a row for each,
# and the count comes from the meta or the largest track frame, not from what the file holds.
MAX_TASK_FRAMES = 1_000_000


@dataclass(frozen=True)
class VideoTask:
    """A task read as one video sequence: its frames are rows ``base .. base + n_frames``."""

    task: Task
    shift: int  # the offset the file's track frames follow (0 or the task's ``offset``)
    n_frames: int
    base: int  # first row of this task's frames in the frames table

    @property
    def key(self) -> str | None:
        return self.task.key

    @property
    def first(self) -> int:
        """CVAT's frame number of the task's first frame."""
        return self.task.start + self.shift

    @property
    def end(self) -> int:
        """The frame row just past the task's last frame."""
        return self.base + self.n_frames


def task_frame_count(
    start: int, step: int, offset: int, declared: list[int], used: npt.NDArray[np.int64]
) -> tuple[int, int | None]:
    """``(shift, needed)``: the shift the track frames ``used`` follow, and the task frames
    they need with it (None if one is off the grid or before the start).

    The shift is ``offset`` (CVAT's project offset) unless the frames only fit the task
    without it (off the grid or before the start with it, or more than the ``declared``
    counts allow).
    """

    def count_needed(shift: int) -> int | None:
        if not used.size:
            return 0
        rel = used - (start + shift)
        if (rel < 0).any() or (rel % step).any():
            return None
        return int(rel.max()) // step + 1

    needed = count_needed(offset)
    if offset and (needed is None or (declared and needed > max(declared))):
        plain = count_needed(0)
        if plain is not None and not (declared and plain > max(declared)):
            return 0, plain
    return offset, needed


def task_length(
    by_stop: int | None,
    by_size: int | None,
    needed: int | None,
    first: int,
    step: int,
    used: npt.NDArray[np.int64],
) -> int:
    """The frames of a task: the meta's count; where ``size`` and ``start_frame ..
    stop_frame`` disagree (datumaro writes ``stop_frame = size``, which CVAT reads as the last
    frame), the smaller one that holds the ``needed`` frames, else the larger; with neither,
    up to the last frame ``used`` (the task's first frame is CVAT frame ``first``)."""
    declared = [c for c in (by_stop, by_size) if c is not None]
    if by_stop is not None and by_size is not None and by_stop != by_size:
        fitting = [c for c in sorted(declared) if needed is not None and needed <= c]
        return fitting[0] if fitting else max(declared)
    if declared:
        return declared[0]
    last = int(used.max()) if used.size else first
    return max((last - first) // step + 1, 0)


def track_frame_rows(
    frame: npt.NDArray[np.int64],
    first: npt.NDArray[np.int64],
    step: npt.NDArray[np.int64],
    n_frames: npt.NDArray[np.int64],
    base: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Frame rows of CVAT frame numbers (per shape: its task's first frame, step, frame
    count and first row), and which are off the step grid or outside the task (their row is
    then clipped, not meaningful)."""
    rel = frame - first
    k = rel // step
    off_grid = rel % step != 0
    out_of_task = (k < 0) | (k >= n_frames)
    return base + np.clip(k, 0, None), off_grid, out_of_task


def image_index(sequences: list[str], ids: list[int]) -> npt.NDArray[np.int64]:
    """Each image's position in its sequence: by its ``id`` (CVAT's frame number) when every
    image of the sequence has one, else in file order; ties keep file order."""
    n = len(sequences)
    if not n:
        return np.zeros(0, dtype=np.int64)
    _, code = np.unique(np.asarray(sequences, dtype=object), return_inverse=True)
    code = code.astype(np.int64)
    frame = np.asarray(ids, dtype=np.int64)  # -1: no usable id
    pos = np.arange(n, dtype=np.int64)
    missing = np.bincount(code, weights=frame < 0) > 0
    key = np.where(missing[code], pos, frame)
    order = np.lexsort((pos, key, code))
    sorted_code = code[order]
    first = np.r_[True, sorted_code[1:] != sorted_code[:-1]]
    starts = np.flatnonzero(first)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = position_in_run(np.diff(np.r_[starts, n]))
    return rank


def task_of_tracks(tasks: list[VideoTask], keys: list[str | None]) -> list[VideoTask]:
    """The video task of each track: by its ``task_id``, else the first task."""
    by_key = {t.key: t for t in tasks}
    return [by_key.get(k, tasks[0]) for k in keys]


def _chosen_tasks(parsed: ParsedFile) -> list[Task]:
    """The tasks read as video: those the tracks name (else the first), or with no tracks,
    in an interpolation-mode file without images, every task with a frame size."""
    meta = parsed.meta
    meta_tasks = meta.tasks if meta else []
    if parsed.tracks.id:
        wanted = set(parsed.tracks.task)
        tasks = [t for t in meta_tasks if t.key in wanted] or meta_tasks[:1]
        return tasks or [Task(key=None, name="video")]
    if (meta.mode if meta else None) == "interpolation" and not parsed.images.name:
        return [t for t in meta_tasks if t.width is not None]
    return []


def video_tasks(
    parsed: ParsedFile, raw: RawShapes, first_row: int, report: Report
) -> list[VideoTask]:
    """The video tasks, laid out in the frames table from row ``first_row`` on."""
    tasks = _chosen_tasks(parsed)
    for t in tasks:
        if t.width is None or t.height is None:
            raise InputError(
                parsed.path,
                "<meta>",
                f"task {t.name!r}: no <original_size> width/height, so the video frame size "
                "is unknown",
            )
    # the absolute frames of each task's tracks (a task by key: the last of that key)
    is_track = raw.track >= 0
    index = {t.key: i for i, t in enumerate(tasks)}
    owner = np.array([index.get(k, 0) for k in parsed.tracks.task], dtype=np.int64)
    track_task = owner[raw.track[is_track]] if parsed.tracks.id else np.zeros(0, np.int64)
    frames = raw.frame[is_track]
    out: list[VideoTask] = []
    base = first_row
    for i, t in enumerate(tasks):
        used = frames[track_task == i]
        by_stop, by_size = t.stop_count(), t.size
        declared = [c for c in (by_stop, by_size) if c is not None]
        shift, needed = task_frame_count(t.start, t.step, t.offset, declared, used)
        if shift != t.offset:
            report.add(
                Action.NOTED,
                Reason.TRACK_FRAMES_NOT_OFFSET,
                source=f"<meta> task {t.name!r}",
                detail=f"a CVAT project export shifts this task's frames by {t.offset} "
                "(the frames of the tasks before it in its subset); these tracks' frames "
                "fit the task only without that shift, so they are read as they are",
            )
        n = task_length(by_stop, by_size, needed, t.start + shift, t.step, used)
        if n > MAX_TASK_FRAMES:
            raise InputError(
                parsed.path,
                "<meta>",
                f"task {t.name!r} would have {n:,} frames, more than the "
                f"{MAX_TASK_FRAMES:,} one sequence may have (start_frame {t.start}, stop_frame "
                f"{t.stop}, size {t.size}, or the largest track frame)",
            )
        out.append(VideoTask(task=t, shift=shift, n_frames=n, base=base))
        base += n
    return out


def note_meta_disagreements(parsed: ParsedFile, tasks: list[VideoTask], report: Report) -> None:
    """A report row for every task whose ``size`` and ``start_frame .. stop_frame``
    disagree, saying which frames were used."""
    used = {id(v.task): v for v in tasks}
    for t in parsed.meta.tasks if parsed.meta else []:
        by_stop = t.stop_count()
        if by_stop is None or t.size is None or by_stop == t.size:
            continue
        if id(t) in used:
            what = f"the task has the {used[id(t)].n_frames} frames its tracks fit in"
        else:
            what = "the frames are the file's <image> elements"
        report.add(
            Action.NOTED,
            Reason.TASK_META_DISAGREES,
            source=f"<meta> task {t.name!r}",
            detail=f"size {t.size}, but start_frame {t.start} .. stop_frame {t.stop} "
            f"(step {t.step}) is {by_stop} frames; {what} (datumaro writes "
            "stop_frame = size, CVAT reads stop_frame as the last frame)",
        )


def frames_table(
    parsed: ParsedFile, raw: RawShapes, report: Report
) -> tuple[Frames, list[VideoTask], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The frames table; the video tasks; each raw shape's frame row; which shapes lie in
    their task (a track frame off the step or outside the range is reported)."""
    img = parsed.images
    parts: list[Frames] = []
    n_img = len(img.name)
    if n_img:
        parts.append(
            Frames.build(
                img.width,
                img.height,
                name=img.name,
                sequence=img.sequence,
                index=image_index(img.sequence, img.number),
            )
        )
    frame_row = raw.frame.copy()
    keep = np.ones(len(raw), dtype=bool)
    tasks = video_tasks(parsed, raw, n_img, report)
    note_meta_disagreements(parsed, tasks, report)
    for v in tasks:
        parts.append(
            Frames.build(
                v.task.width or 0.0,
                v.task.height or 0.0,
                name=[""] * v.n_frames,
                sequence=v.task.name,
                index=np.arange(v.n_frames),
            )
        )
    is_track = raw.track >= 0
    if is_track.any():
        of_track = task_of_tracks(tasks, parsed.tracks.task)
        sel = raw.track[is_track]

        def column(values: list[int]) -> npt.NDArray[np.int64]:
            return np.array(values, dtype=np.int64)[sel]

        rows_of, off_grid, out_of_task = track_frame_rows(
            raw.frame[is_track],
            column([v.first for v in of_track]),
            column([v.task.step for v in of_track]),
            column([v.n_frames for v in of_track]),
            column([v.base for v in of_track]),
        )
        bad = off_grid | out_of_task
        rows = np.flatnonzero(is_track)
        for r, og in zip(rows[bad].tolist(), off_grid[bad].tolist(), strict=True):
            report.add(
                Action.SKIPPED,
                Reason.FRAME_NOT_IN_TASK,
                source=element_source(raw.kind[r], raw.line[r]),
                label=parsed.label_names[raw.label[r]],
                detail=f"frame {raw.frame[r]} is "
                + ("not on the frame_filter step" if og else "outside start_frame..stop_frame"),
            )
        keep[rows[bad]] = False
        frame_row[rows] = rows_of
    frames = Frames.concat(parts) if len(parts) > 1 else parts[0] if parts else Frames.build([], [])
    return frames, tasks, frame_row, keep


def frame_text(parsed: ParsedFile, tasks: list[VideoTask], track_row: int, frame_row: int) -> str:
    """A built shape's frame for the report: the image name, or CVAT's frame number."""
    if track_row < 0:
        names = parsed.images.name
        return str(names[frame_row]) if frame_row < len(names) else ""
    key = parsed.tracks.task[track_row]
    v = next((t for t in tasks if t.key == key), tasks[0])
    return str(v.first + (frame_row - v.base) * v.task.step)

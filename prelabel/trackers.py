"""Shapes -> jobs and trackers: which job each frame belongs to, which tracker each shape joins.

A tracker is one object followed across the frames of one job. Shapes that share a track id
inside a sequence join one tracker (per kind, so a track that mixes kinds is split); a shape
without a track is a tracker of its own. All of it is integer column work: no Python loop
per shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prelabel.annotations import Annotations, Frames, IntArray, ObjArray


@dataclass(frozen=True)
class JobLayout:
    """Frames grouped into jobs, in payload order.

    ``frame_order`` lists frame rows job by job, each job's frames in sequence order;
    ``job_of_frame`` gives each frame's job; ``job_frame_offsets`` cuts ``frame_order`` per job;
    ``position`` is each frame's position inside its job; ``job_sequence`` and ``job_chunk``
    (1-based) describe each job.
    """

    frame_order: IntArray
    job_of_frame: IntArray
    job_frame_offsets: IntArray
    position: IntArray
    job_sequence: list[str]
    job_chunk: list[int]

    def __len__(self) -> int:
        return len(self.job_sequence)


def layout_jobs(frames: Frames, frames_per_job: int | None = None) -> JobLayout:
    """One job per sequence (first-seen order), frames by index; chunks of ``frames_per_job``."""
    seq = frames.sequence.astype(str)
    uniq, first, code = np.unique(seq, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    seq_rank = rank[code.ravel()]
    order = np.lexsort((np.arange(len(frames)), frames.index, seq_rank))
    sorted_seq = seq_rank[order]
    starts = (
        np.flatnonzero(np.r_[True, sorted_seq[1:] != sorted_seq[:-1]])
        if len(order)
        else np.zeros(0, np.int64)
    )
    pos_in_seq = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chunk = pos_in_seq // frames_per_job if frames_per_job else np.zeros(len(order), np.int64)
    # a new job wherever the sequence or the chunk changes
    new_job = (
        np.r_[True, (sorted_seq[1:] != sorted_seq[:-1]) | (chunk[1:] != chunk[:-1])]
        if len(order)
        else np.zeros(0, bool)
    )
    job_sorted = np.cumsum(new_job) - 1
    job_of_frame = np.empty(len(frames), dtype=np.int64)
    job_of_frame[order] = job_sorted
    job_starts = np.flatnonzero(new_job)
    offsets = np.r_[job_starts, len(order)].astype(np.int64)
    position = np.empty(len(frames), dtype=np.int64)
    position[order] = np.arange(len(order)) - np.repeat(job_starts, np.diff(offsets))
    return JobLayout(
        frame_order=order.astype(np.int64),
        job_of_frame=job_of_frame,
        job_frame_offsets=offsets,
        position=position,
        job_sequence=[str(s) for s in seq[order[job_starts]]],
        job_chunk=[int(c) + 1 for c in chunk[job_starts]],
    )


@dataclass(frozen=True)
class TrackerLayout:
    """Shapes grouped into trackers, in payload order.

    ``shape_order`` lists shape rows tracker by tracker (each tracker's shapes in frame
    order); ``tracker_offsets`` cuts it per tracker; ``tracker_job`` is each tracker's job;
    ``tracker_key`` names the tracker inside its job (``t<track>-<kind>`` or ``s<n>``), the
    stable part of its deterministic id.
    """

    shape_order: IntArray
    tracker_offsets: IntArray
    tracker_job: IntArray
    tracker_key: ObjArray

    def __len__(self) -> int:
        return len(self.tracker_job)


def _group_ids(*keys: IntArray) -> IntArray:
    """A dense group number per row for equal key tuples (a lexsort, cheaper than
    ``np.unique(axis=0)``, which sorts row views)."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort(keys[::-1])
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        ks = k[order]
        change[1:] |= ks[1:] != ks[:-1]
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(change) - 1
    return group


def first_duplicate(*keys: IntArray) -> tuple[int, int] | None:
    """The earliest two rows with equal key tuples, as ``(first, second)``, or ``None``.

    "Earliest" is the pair whose second row comes first; its first row is the first row of
    that key. Keys are integer columns (codes), so equality is exact: no text joined with a
    separator that the values themselves might contain.
    """
    n = len(keys[0])
    if n < 2:
        return None
    group = _group_ids(*keys)
    first = np.full(int(group.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, group, np.arange(n))
    repeated = np.flatnonzero(first[group] != np.arange(n))
    if not repeated.size:
        return None
    second = int(repeated[0])
    return int(first[group[second]]), second


def build_trackers(ann: Annotations, jobs: JobLayout) -> TrackerLayout:
    """Group shapes into trackers keyed by (job, track, kind); untracked shapes stand alone."""
    n = len(ann)
    job = jobs.job_of_frame[ann.frame]
    pos = jobs.position[ann.frame]
    tracked = ann.track >= 0
    # group key: tracked -> (job, track, kind); untracked -> unique per shape
    key_a = np.where(tracked, ann.track, -1 - np.arange(n))
    key_b = np.where(tracked, ann.kind.astype(np.int64), 0)
    group = _group_ids(job, key_a, key_b)
    n_groups = int(group.max()) + 1 if n else 0
    # each tracker sorts by its first frame position, then its first shape row
    first_pos = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(first_pos, group, pos)
    first_row = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(first_row, group, np.arange(n))
    g_job = np.zeros(n_groups, np.int64)
    g_job[group] = job
    g_order = np.lexsort((first_row, first_pos, g_job))
    g_rank = np.empty(n_groups, dtype=np.int64)
    g_rank[g_order] = np.arange(n_groups)
    shape_order = np.lexsort((np.arange(n), pos, g_rank[group]))
    sorted_groups = g_rank[group][shape_order]
    starts = (
        np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
        if n
        else np.zeros(0, np.int64)
    )
    offsets = np.r_[starts, n].astype(np.int64)
    first_shape = shape_order[starts]
    t_job = job[first_shape]
    # names inside the job: tracks by id and kind; standalone shapes by their rank in the job
    t_tracked = tracked[first_shape]
    job_start = (
        np.flatnonzero(np.r_[True, t_job[1:] != t_job[:-1]])
        if len(t_job)
        else np.zeros(0, np.int64)
    )
    rank_in_job = np.arange(len(t_job)) - np.repeat(
        job_start, np.diff(np.r_[job_start, len(t_job)])
    )
    track_ids = ann.track[first_shape].tolist()
    kinds = ann.kind[first_shape].tolist()
    keys_out = np.empty(len(t_job), dtype=object)
    keys_out[:] = [
        f"t{t}-{k}" if tr else f"s{r}"
        for t, k, tr, r in zip(
            track_ids, kinds, t_tracked.tolist(), rank_in_job.tolist(), strict=True
        )
    ]
    return TrackerLayout(
        shape_order=shape_order.astype(np.int64),
        tracker_offsets=offsets,
        tracker_job=t_job.astype(np.int64),
        tracker_key=keys_out,
    )

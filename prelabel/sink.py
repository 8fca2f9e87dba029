"""Inference results frame by frame -> job lines, one job at a time: :class:`JobSink`.

The batch path (:func:`prelabel.convert`) holds the whole video in memory until the end. The
sink is written to once per frame, like supervision's ``CSVSink``, and finishes a job every
``frames_per_job`` frames: that job's frames go through the same stages as ``convert``
(empty labels, :func:`prelabel.prepare`, the job builder of :mod:`prelabel.jobs`) and are
written as one line; then they are let go. The bytes are those ``convert`` writes for the
same frames and shapes collected up front, because a job's payload depends only on its own
frames, its sequence and its chunk number: trackers are per job (a track that crosses a job
boundary is a tracker in each job, as the batch path splits it) and every id is
``uuid5`` of the job's reference_id and names inside the job. So the sink keeps nothing of a
finished job but counters, the report rows, the reference_ids it has written (one per
job, to refuse a second job of the same name) and, with a submitter, each job's outcome.
Each job's frame sizes go to the sidecar (``jobs.sizes.json``, as ``convert`` writes it for
``prelabel export``) as the job is written, through a temporary file: the sidecar is
renamed into place when the sink ends.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from dataclasses import replace
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from prelabel.annotations import Annotations, Frames
from prelabel.convert import (
    JOB_SOFT_LIMIT,
    REFERENCE_FIELDS,
    LabelOptions,
    _size_text,
    apply_labels,
    check_template,
)
from prelabel.errors import GeometryError, InputError, SubmitError, param
from prelabel.export.sizes import SidecarWriter, job_entry, sidecar_path
from prelabel.geometry import Policy, as_policy, denormalise, prepare
from prelabel.jobs import JobOptions, _reference_ids, layout_chunks
from prelabel.report import Action, Reason, Report
from prelabel.text import first_control
from prelabel.trackers import JobLayout, layout_jobs
from prelabel.urls import is_url
from prelabel.writer import check_output

if TYPE_CHECKING:
    from prelabel.submit import SubmitResult, Submitter

_EMPTY = np.zeros(0, dtype=np.int64)


class JobSink:
    """Write job lines frame by frame, one finished job at a time (a context manager).

    ``with JobSink("jobs.jsonl", frames_per_job=500) as sink:`` then, once per frame,
    ``sink.append(item, frame_id=..., src=...)`` where ``item`` is the frame's shapes: a
    one-frame :class:`Annotations`, an Ultralytics ``Results`` or a supervision
    ``Detections``. Every ``frames_per_job`` frames a job is finished: checked under
    ``on_invalid``, written as one line (whole or not at all) and, with ``submitter``,
    submitted through its ledger before the next frame is taken. Leaving the block finishes
    the last, shorter job; leaving it on an exception writes nothing of the unfinished job
    and keeps what is finished. Without ``frames_per_job`` the video is one job, written when
    the block ends (its memory is the whole video's).

    ``path``: the JSON Lines file (created or emptied on entry; ``-`` standard output; None
    only with a ``submitter``). ``sequence`` names the video; ``reference_id`` is the
    template of :class:`prelabel.JobOptions` (``{sequence}``, ``{chunk}``, default
    ``{sequence}``, ``-{chunk:03d}`` appended when jobs are chunked). The frames are the
    sequence's frames in the order they are appended.

    Beside a file ``jobs.jsonl`` the sink writes ``jobs.sizes.json``, the frame sizes and
    names of the jobs written, byte for byte what ``convert`` writes for the same frames
    (``prelabel export`` reads it), when the block ends, also on an exception (then of the
    finished jobs); on entry an old one is removed with the old jobs.

    After the block: ``report`` (every shape dropped or repaired, across all jobs),
    ``frames``, ``shapes``, ``jobs``, ``bytes``, ``warnings``, ``submitted`` (the
    submitter's outcomes, all jobs together), ``sidecar`` (the sizes file, or None) and
    :meth:`summary`.
    """

    def __init__(
        self,
        path: str | PathLike[str] | None,
        *,
        workflow_id: str | None = None,
        batch_id: str | None = None,
        frames_per_job: int | None = None,
        sequence: str = "sequence",
        reference_id: str | None = None,
        on_invalid: Policy | str = Policy.REPAIR,
        submitter: Submitter | None = None,
    ) -> None:
        if frames_per_job is not None and (
            isinstance(frames_per_job, bool)
            or not isinstance(frames_per_job, numbers.Integral)
            or frames_per_job < 1
        ):
            raise InputError(
                None,
                None,
                f"{param('frames_per_job')} must be a whole number >= 1 or None, "
                f"not {frames_per_job!r}",
            )
        for name, value, required in (
            ("sequence", sequence, True),
            ("workflow_id", workflow_id, False),
            ("batch_id", batch_id, False),
        ):
            _check_text(name, value, required)
        template = "{sequence}" if reference_id is None else reference_id
        if not isinstance(template, str):
            raise InputError(
                None, None, f"{param('reference_id')} must be a template string, not {template!r}"
            )
        check_template(template, "reference_id", REFERENCE_FIELDS)
        try:
            self.on_invalid = as_policy(on_invalid)
        except ValueError as exc:
            raise InputError(None, None, f"{param('on_invalid')}: {exc}") from None
        if path is None and submitter is None:
            raise InputError(
                None, None, f"{param('path')} is None: give a file (or -), or a submitter"
            )
        if path is not None and not isinstance(path, str | PathLike):
            raise InputError(
                None,
                None,
                f"{param('path')} must be a file path (a str or Path), '-' or None, not {path!r}",
            )
        if path is not None:
            check_output(path, param("path"))
        if submitter is not None and not callable(getattr(submitter, "submit", None)):
            raise InputError(
                None, None, f"{param('submitter')} must be a prelabel.Submitter, not {submitter!r}"
            )
        self.path = None if path is None else os.fspath(path)
        self.sequence = sequence
        self.frames_per_job = None if frames_per_job is None else int(frames_per_job)
        self.options = JobOptions(
            reference_id=template,
            frames_per_job=self.frames_per_job,
            workflow_id=workflow_id,
            batch_id=batch_id,
        )
        self.submitter = submitter
        self.report = Report()
        self.frames = 0  # frames appended
        self.shapes = 0  # shapes written
        self.jobs = 0  # jobs written
        self.bytes = 0  # bytes written, newlines included
        self.warnings: list[str] = []
        self.unwritten = 0  # frames of the unfinished job an exception left unwritten
        self.submitted: SubmitResult | None = None
        self._reference_ids: set[str] = set()  # one per job written
        self._shapes_in = 0  # shapes appended to finished jobs (report rows count from it)
        self._shapes_labelled = 0  # of those, shapes left after the label stage
        self._job = _Pending()  # the unfinished job
        self._fd: int | None = None
        self._sizes: SidecarWriter | None = None  # the sidecar, a job at a time
        self.sidecar: Path | None = None  # the sidecar written
        self._committed = 0  # bytes of whole lines in the file
        self._state = "new"
        # the first job's name is known now: a template that cannot name it fails here
        self._reference_id(1)

    def __repr__(self) -> str:
        return f"JobSink({self.path!r}, {self._state}, {self.frames:,} frames, {self.jobs} jobs)"

    # -- life cycle ---------------------------------------------------------------------

    def __enter__(self) -> JobSink:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abandon()

    def open(self) -> JobSink:
        """Create (or empty) the output file; :meth:`__enter__` calls it."""
        if self._state != "new":
            raise ValueError(f"this JobSink is {self._state}; make a new one")
        if self.path is not None and self.path != "-":
            target = Path(self.path)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(
                    target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o666
                )
                # the old jobs are gone: so are their sizes (the new ones come at the end)
                sidecar_path(target).unlink(missing_ok=True)
            except OSError as exc:
                raise InputError(self.path, None, f"cannot write: {exc.strerror or exc}") from None
            self._sizes = SidecarWriter(target)
        self._state = "open"
        return self

    def close(self) -> None:
        """Finish the last job, write it, and close the file (:meth:`__exit__` calls it)."""
        if self._state != "open":
            return
        try:
            self._finish_job()
        except BaseException:
            self._abandon()
            raise
        if self._fd is not None:
            os.fsync(self._fd)
        self._release("closed")
        sizes, self._sizes = self._sizes, None
        if sizes is not None:
            self.sidecar = sizes.close()

    def _abandon(self) -> None:
        """Leave the unfinished job unwritten; what is written stays, with its sidecar."""
        self.unwritten = len(self._job)
        self._job = _Pending()
        self._release("abandoned")
        sizes, self._sizes = self._sizes, None
        if sizes is None:
            return
        try:
            self.sidecar = sizes.close()
        except (OSError, InputError) as exc:  # the exception that ended the sink goes on
            self.warnings.append(
                f"the frame sizes of the {self.jobs:,} jobs written were not written "
                f"({sizes.target}): {exc}"
            )

    def _release(self, state: str) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._state = state

    # -- frames -------------------------------------------------------------------------

    def append(
        self,
        item: Any,
        *,
        frame_id: str,
        src: str,
        width: float | None = None,
        height: float | None = None,
    ) -> None:
        """Add one frame: its shapes (``item``), its ``frame_id`` (unique in its job) and the
        URL of its image (``src``). ``width`` and ``height`` (pixels) are needed only where
        the item does not know them (a supervision ``Detections``); where it does, they must
        agree with it. The frame that completes a job writes (and submits) the job."""
        if self._state != "open":
            raise ValueError(
                "JobSink.append outside its with block"
                if self._state == "new"
                else f"JobSink.append after the sink is {self._state}"
                + (" (an exception ended it)" if self._state == "abandoned" else "")
            )
        where = f"frame {self.frames} (0-based) of sequence {self.sequence!r}"
        self._check_frame_id(frame_id, where)
        if not isinstance(src, str) or not is_url(src):
            raise InputError(
                None,
                where,
                f"{param('src')} {src!r} is not an http(s)://, s3:// or gs:// URL",
            )
        size = _given_size(width, height, where)
        ann, name = self._shapes_of(item, size, where, frame_id)
        _check_own_text(ann, frame_id, src, where)
        w, h = known = _frame_size(ann)
        if size is not None and known != (0.0, 0.0):
            _check_agrees(size, known, where)
        elif known == (0.0, 0.0):
            w, h = size or known
        self._job.add(ann, name, frame_id, src, w, h)
        self.frames += 1
        if self.frames_per_job is not None and len(self._job) == self.frames_per_job:
            try:
                self._finish_job()
            except BaseException:
                # a job that cannot be finished (refused under on_invalid="error", a failed
                # write, a stopped submitter) ends the sink: later frames would belong to it
                self._abandon()
                raise

    def _check_frame_id(self, frame_id: object, where: str) -> None:
        if not isinstance(frame_id, str) or not frame_id:
            hint = " (e.g. f'frame_{i:06d}')" if isinstance(frame_id, int) else ""
            raise InputError(
                None, where, f"{param('frame_id')} must be a non-empty str, not {frame_id!r}{hint}"
            )
        bad = first_control(frame_id)
        if bad:
            raise InputError(
                None,
                where,
                f"{param('frame_id')} {frame_id!r} contains a control character ({bad})",
            )
        if frame_id in self._job.frame_ids:
            raise InputError(
                None,
                where,
                f"{param('frame_id')} {frame_id!r} is already a frame of this job "
                f"(job {self.jobs + 1}); a frame_id is unique in its job",
            )

    def _adapter_rows(self, rows: Report, frame_id: str) -> None:
        """What an adapter reported about the frame (a mask in several pieces, keypoints all
        below the threshold) joins the report, named by the frame's id, its shapes counted
        from the sink's first shape."""
        for r in rows.rows:
            r["frame"] = frame_id
        _shift_rows(rows.rows, self._shapes_in + self._job.shapes)
        self.report.extend(rows)

    def _shapes_of(
        self, item: Any, size: tuple[float, float] | None, where: str, frame_id: str
    ) -> tuple[Annotations, str]:
        """The item as a one-frame table, and the frame's name (its image path, if any)."""
        if isinstance(item, Annotations):
            ann = item
        elif _is_ultralytics(item):
            rows = Report()
            ann = Annotations.from_ultralytics(item, sequence=self.sequence, report=rows)
            self._adapter_rows(rows, frame_id)
        elif _is_supervision(item):
            if size is None:
                raise InputError(
                    None,
                    where,
                    f"{param('width')} and {param('height')} are needed: a supervision "
                    "Detections does not know its frame's size",
                )
            rows = Report()
            ann = Annotations.from_supervision(
                item, width=size[0], height=size[1], sequence=self.sequence, report=rows
            )
            self._adapter_rows(rows, frame_id)
        else:
            raise InputError(
                None,
                where,
                f"{param('item')} must be a one-frame prelabel.Annotations, an Ultralytics "
                f"Results or a supervision Detections, not {type(item).__name__}",
            )
        if len(ann.frames) != 1:
            raise InputError(
                None,
                where,
                f"{param('item')} holds {len(ann.frames)} frames; append one frame at a time",
            )
        if size is None and _frame_size(ann) == (0.0, 0.0):
            w, h = float(ann.frames.width[0]), float(ann.frames.height[0])
            raise InputError(
                None,
                where,
                f"{param('width')} and {param('height')} are needed: the item's frame has "
                f"no size ({w:g} x {h:g})",
            )
        return ann, str(ann.frames.name[0])

    # -- jobs ---------------------------------------------------------------------------

    def _reference_id(self, chunk: int) -> str:
        layout = JobLayout(
            frame_order=_EMPTY,
            job_of_frame=_EMPTY,
            job_frame_offsets=np.zeros(2, np.int64),
            position=_EMPTY,
            job_sequence=[self.sequence],
            job_chunk=[chunk],
        )
        return _reference_ids(layout, self.options)[0]

    def _finish_job(self) -> None:
        """Check, build, write and submit the unfinished job; then let its frames go."""
        job = self._job
        if not len(job):
            return
        chunk = self.jobs + 1
        ref = self._reference_id(chunk)
        if ref in self._reference_ids:
            raise InputError(
                None,
                None,
                f"reference_id {ref!r} would name two jobs; make {param('reference_id')} unique",
            )
        ann = job.table(self.sequence, self.frames - len(job))
        report = Report()
        ann = apply_labels(ann, LabelOptions(), report, on_invalid=self.on_invalid)
        labelled = len(ann)
        in_rows = len(report.rows)
        try:
            ann, report = prepare(ann, self.on_invalid, report)
        except GeometryError as exc:
            _shift_rows(exc.problems, self._shapes_labelled)
            raise
        # report rows count shapes as the batch path does: the label stage's in the shapes
        # appended, the checks' in the shapes the label stage left
        _shift_rows(report.rows[:in_rows], self._shapes_in)
        _shift_rows(report.rows[in_rows:], self._shapes_labelled)
        layout = replace(layout_jobs(ann.frames), job_chunk=[chunk])
        pieces = next(iter(layout_chunks(ann, layout, self.options)))
        line = b"".join(pieces)
        self._size_warning(len(line), len(job), report)
        self._write(line + b"\n")
        # the job is written: from here on it is finished, whatever happens next
        if self._sizes is not None:
            frames = ann.frames.take(layout.frame_order)
            self._sizes.add(job_entry(ref, layout.job_sequence[0], frames))
        self._reference_ids.add(ref)
        self.jobs += 1
        self.shapes += len(ann)
        self._shapes_in += job.shapes
        self._shapes_labelled += labelled
        self.report.extend(report)
        self._job = _Pending()
        if self.submitter is not None:
            self._submit(ref, line)

    def _size_warning(self, size: int, n_frames: int, report: Report) -> None:
        """A job over :data:`prelabel.convert.JOB_SOFT_LIMIT` is a report row and a warning,
        as ``convert`` gives them."""
        if size <= JOB_SOFT_LIMIT:
            return
        line = self.jobs + 1
        detail = (
            f"job on line {line} is {_size_text(size)}, over the"
            f" {_size_text(JOB_SOFT_LIMIT)} soft limit of one request"
        )
        report.add(Action.NOTED, Reason.JOB_OVER_SOFT_LIMIT, source=f"line {line}", detail=detail)
        suggest = max(1, n_frames * JOB_SOFT_LIMIT // size)
        self.warnings.append(
            f"{detail}; split it with {param('frames_per_job')} (about {suggest} here)"
        )

    def _write(self, data: bytes) -> None:
        """One whole line, or nothing: a failed write is cut back to the last whole line."""
        if self.path == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        elif self._fd is not None:
            view = memoryview(data)
            done = 0
            try:
                while done < len(view):
                    done += os.write(self._fd, view[done:])
            except BaseException:
                os.ftruncate(self._fd, self._committed)
                raise
            self._committed += len(data)
        self.bytes += len(data)

    def _submit(self, ref: str, line: bytes) -> None:
        """Send the finished job through the submitter's ledger; stop the loop (resumably)
        when the submitter stops."""
        assert self.submitter is not None
        result = self.submitter.submit([orjson.loads(line)], source=self.path or "JobSink")
        self._merge(result)
        if result.stop_reason is not None:
            raise SubmitError(
                f"job {ref!r} (job {self.jobs} of the sink): submitting stopped: "
                f"{result.stop_reason}; it and the jobs before it are written, and the ledger "
                "knows what was sent: rerun the loop with the same ledger to resume"
            )

    def _merge(self, result: SubmitResult) -> None:
        total = self.submitted
        if total is None:
            self.submitted = result
            return
        total.counts.update(result.counts)
        total.outcomes.extend(result.outcomes)
        total.retries += result.retries
        total.retries_by_cause.update(result.retries_by_cause)
        total.recovered += result.recovered
        total.elapsed += result.elapsed
        total.requests += result.requests
        total.withheld += result.withheld
        total.missing_job_id.update(result.missing_job_id)
        total.stop_reason = result.stop_reason
        total.input_error = result.input_error

    # -- the result ---------------------------------------------------------------------

    def summary(self) -> str:
        """One paragraph: frames, shapes, jobs and where they went, the report's counts and
        the submitter's."""
        where = {None: "", "-": " to standard output"}.get(self.path, f" to {self.path}")
        text = (
            f"{self.frames:,} frames, {self.shapes:,} shapes in {self.jobs:,} "
            f"job{'' if self.jobs == 1 else 's'} ({_size_text(self.bytes)}){where}"
        )
        if self.unwritten:
            text += f"; stopped by an error: the last {self.unwritten:,} frames (an unfinished job) were not written"
        lines = self.report.summary_lines()
        text += "; report: " + (", ".join(x.strip() for x in lines) if lines else "nothing")
        if self.submitted is not None:
            text += "; submitted: " + self.submitted.summary()
        return text


# -- helpers ------------------------------------------------------------------------------


class _Pending:
    """The unfinished job: each frame's shapes (the items as given) and its columns."""

    def __init__(self) -> None:
        self.items: list[Annotations] = []
        self.names: list[str] = []
        self.ids: list[str] = []
        self.srcs: list[str] = []
        self.widths: list[float] = []
        self.heights: list[float] = []
        self.frame_ids: set[str] = set()
        self.shapes = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, ann: Annotations, name: str, frame_id: str, src: str, w: float, h: float) -> None:
        self.items.append(ann)
        self.names.append(name)
        self.ids.append(frame_id)
        self.srcs.append(src)
        self.widths.append(w)
        self.heights.append(h)
        self.frame_ids.add(frame_id)
        self.shapes += len(ann)

    def table(self, sequence: str, first_index: int) -> Annotations:
        """The job's frames and shapes as one table, frames in append order (numbered from
        ``first_index`` in the sequence), shapes frame by frame in their items' order."""
        n = len(self.items)
        frames = Frames(
            name=_objects(self.names),
            sequence=_objects([sequence] * n),
            index=np.arange(first_index, first_index + n, dtype=np.int64),
            width=np.array(self.widths, dtype=np.float64),
            height=np.array(self.heights, dtype=np.float64),
            frame_id=_objects(self.ids),
            src=_objects(self.srcs),
        )
        parts = self.items
        # one table cannot mix units: normalised items go back to pixels only in a job that
        # mixes both (the batch path refuses such a mix)
        if len({p.normalised for p in parts}) > 1:
            parts = [denormalise(p) if p.normalised else p for p in parts]
        frame = np.repeat(np.arange(n, dtype=np.int64), [len(p) for p in parts])
        return Annotations._stacked(parts, frames, frame)


def _objects(values: list[str]) -> Any:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _frame_size(ann: Annotations) -> tuple[float, float]:
    """The item's frame size, or (0, 0) where it does not know it."""
    w, h = float(ann.frames.width[0]), float(ann.frames.height[0])
    if math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0:
        return w, h
    return 0.0, 0.0


def _check_text(name: str, value: object, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        need = "a non-empty str" if required else "a str or None"
        raise InputError(None, None, f"{param(name)} must be {need}, not {value!r}")
    bad = first_control(value)
    if bad:
        raise InputError(
            None, None, f"{param(name)} {value!r} contains a control character ({bad})"
        )


def _given_size(width: object, height: object, where: str) -> tuple[float, float] | None:
    if width is None and height is None:
        return None
    out = []
    for name, value in (("width", width), ("height", height)):
        if value is None:
            other = "height" if name == "width" else "width"
            raise InputError(None, where, f"{param(other)} is given without {param(name)}")
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        number = float(value) if ok else math.nan  # type: ignore[arg-type]
        if not (math.isfinite(number) and number > 0):
            raise InputError(
                None, where, f"{param(name)} must be a positive number of pixels, not {value!r}"
            )
        out.append(number)
    return out[0], out[1]


def _check_agrees(size: tuple[float, float], known: tuple[float, float], where: str) -> None:
    for name, given, own in zip(("width", "height"), size, known, strict=True):
        if given != own:
            raise InputError(
                None,
                where,
                f"{param(name)} {given:g} disagrees with the item's frame ({own:g}); "
                "leave it out where the item knows its size",
            )


def _check_own_text(ann: Annotations, frame_id: str, src: str, where: str) -> None:
    """An item's own ``frame_id`` / ``src`` (a table built with them) must be the ones given:
    the sink writes the given ones, and replacing the item's silently hides a mix-up."""
    for name, given, own in (
        ("frame_id", frame_id, str(ann.frames.frame_id[0])),
        ("src", src, str(ann.frames.src[0])),
    ):
        if own and given != own:
            raise InputError(
                None,
                where,
                f"{param(name)} {given!r} disagrees with the item's frame ({own!r}); give "
                "the item's, or build its frames without one",
            )


def _is_ultralytics(item: object) -> bool:
    """An ``ultralytics.engine.results.Results``: ``orig_shape`` and ``boxes`` (prelabel does
    not import the package)."""
    return hasattr(item, "orig_shape") and hasattr(item, "boxes") and hasattr(item, "names")


def _is_supervision(item: object) -> bool:
    """A ``supervision.Detections``: ``xyxy``, ``class_id`` and ``tracker_id`` columns."""
    return all(hasattr(item, a) for a in ("xyxy", "class_id", "tracker_id", "confidence"))


def _shift_rows(rows: list[Any], by: int) -> None:
    """Count the rows' ``shape`` from the sink's first shape, not from the job's."""
    if not by:
        return
    for r in rows:
        if r.get("shape") is not None:
            r["shape"] += by

"""What every export shares: the jobs of INPUT in pixels, and the result of writing them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

from prelabel.annotations import Annotations
from prelabel.errors import InputError, param
from prelabel.export.sizes import (
    ImageIndex,
    load_sidecar,
    sidecar_path,
    with_images,
    with_sidecar,
)
from prelabel.formats.payload import JobContent, ignored_entries, read_jobs
from prelabel.geometry import denormalise
from prelabel.report import Action, Reason, Report

PathLikeStr = str | PathLike[str]


@dataclass
class ExportResult:
    """What an export wrote: its files, counts, and the report of shapes it could not hold."""

    files: list[str] = field(default_factory=list)
    jobs: int = 0
    frames: int = 0
    shapes: int = 0
    report: Report = field(default_factory=Report)

    @classmethod
    def of_input(cls, jobs: JobsInput) -> ExportResult:
        """A result whose report already holds the entries of a results folder ``jobs``
        that are not read (one ``not_a_result_file`` row each)."""
        result = cls()
        if isinstance(jobs, str | PathLike) and Path(jobs).is_dir():
            for name in ignored_entries(jobs):
                result.report.add(
                    Action.SKIPPED,
                    Reason.NOT_A_RESULT_FILE,
                    source=str(Path(jobs) / name),
                    detail="a subfolder" if name.endswith("/") else "not named *.json",
                )
        return result

    @property
    def skipped(self) -> int:
        """Shapes the format could not hold (each a report row)."""
        return sum(
            1
            for r in self.report.rows
            if r["action"] == Action.SKIPPED.value and r["reason"] != Reason.NOT_A_RESULT_FILE.value
        )


def pixel_jobs(
    source: PathLikeStr,
    *,
    sizes: PathLikeStr | None = None,
    images: PathLikeStr | None = None,
    need_sizes: bool = True,
) -> Iterator[JobContent]:
    """The jobs of ``source`` (a results folder, a result file or a payload JSON Lines file)
    with frame sizes and names, their shapes in pixels.

    Sizes come from ``sizes`` (a sidecar file), else ``images`` (image headers), else the
    sidecar beside a payload file (``jobs.sizes.json``). Without any, a format that needs
    pixels (``need_sizes``) refuses; YOLO, which is normalised, keeps the payload's values
    and names each frame ``<reference_id>/<file name of its src>``.
    """
    sidecar: Path | None = Path(sizes) if sizes is not None else None
    if sidecar is None and images is None and Path(source).is_file():
        beside = sidecar_path(source)
        if beside.is_file() and Path(source).suffix.lower() != ".json":
            sidecar = beside
    table = load_sidecar(sidecar) if sidecar is not None else None
    index = ImageIndex(images) if images is not None and table is None else None
    for job in read_jobs(source):
        if table is not None and sidecar is not None:
            job = with_sidecar(job, table, sidecar)
        elif index is not None and images is not None:
            job = with_images(job, images, index)
        elif need_sizes:
            raise InputError(
                source,
                None,
                f"the frame sizes of job {job.reference_id!r} are unknown: give "
                f"{param('sizes', cli='FILE')} (the jobs.sizes.json that convert wrote beside "
                f"the jobs) or {param('images', cli='DIR')}",
            )
        else:
            job = _default_names(job)
        if table is not None or index is not None:
            ann = denormalise(job.annotations)
        else:
            ann = replace(job.annotations, normalised=False)  # YOLO: sizes of 1 x 1
            ann = replace(ann, frames=job.frames)
        yield replace(job, annotations=ann)


JobsInput = Iterable[JobContent] | str | PathLike[str]


def jobs_of(
    jobs: JobsInput,
    sizes: PathLikeStr | None,
    images: PathLikeStr | None,
    *,
    need_sizes: bool = True,
) -> Iterable[JobContent]:
    """Jobs given as a path (read with :func:`pixel_jobs`) or as jobs already in pixels."""
    if isinstance(jobs, str | PathLike):
        return pixel_jobs(jobs, sizes=sizes, images=images, need_sizes=need_sizes)
    return jobs


def _default_names(job: JobContent) -> JobContent:
    """Names ``<reference_id>/<file name of src>`` (the frame_id where names would repeat)
    and sizes 1 x 1: the values stay the payload's fractions."""
    frames = job.frames
    tails = [
        PurePosixPath(unquote(urlsplit(s).path)).name if s else "" for s in frames.src.tolist()
    ]
    if len(set(tails)) != len(tails) or not all(tails):
        tails = frames.frame_id.tolist()
    names = np.empty(len(tails), dtype=object)
    names[:] = [f"{job.reference_id}/{t}" for t in tails]
    ones = np.ones(len(frames))
    new = replace(frames, name=names, width=ones, height=ones.copy())
    return replace(job, frames=new, annotations=replace(job.annotations, frames=new))


def frame_names(job: JobContent) -> list[str]:
    """Each frame's image name: the recorded one, else ``<reference_id>/<frame_id>`` (a
    video source records no names)."""
    return [
        n or f"{job.reference_id}/{fid}"
        for n, fid in zip(job.frames.name.tolist(), job.frames.frame_id.tolist(), strict=True)
    ]


def report_skipped(
    report: Report,
    job: JobContent,
    rows: npt.NDArray[np.bool_] | npt.NDArray[np.int64],
    reason: Reason,
    detail: str,
) -> None:
    """One ``skipped`` row per selected shape of ``job``, its source ``file:line $.path``."""
    sel = np.flatnonzero(rows) if rows.dtype == bool else rows
    if not len(sel):
        return
    where = job.path if job.line is None else f"{job.path}:{job.line}"
    ann: Annotations = job.annotations
    sources = np.empty(len(ann), dtype=object)
    sources[:] = None
    sources[sel] = [f"{where} {s}" for s in ann.source[sel].tolist()]
    report.add_shapes(Action.SKIPPED, reason, replace(ann, source=sources), sel, detail)


def output_folder(out: PathLikeStr) -> Path:
    """An output folder: created when missing; an existing file is refused."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(out, None, "the output must be a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, None, f"cannot create: {exc.strerror or exc}") from None
    return p

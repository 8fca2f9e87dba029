"""prelabel: model outputs -> pre-labelled video annotation jobs, checked and submitted.

The library in brief::

    import prelabel
    frames = prelabel.Frames.build(width=1920, height=1080, frame_id=ids, src=urls, sequence="cam1")
    ann = prelabel.Annotations.from_boxes(frames, xyxy, labels=class_ids, names=names,
                                          frame=frame_rows, score=scores, track=track_ids)
    ann, report = prelabel.prepare(ann, policy="repair")   # normalise + check + repair
    jobs = prelabel.build_jobs(ann, prelabel.JobOptions(workflow_id="..."))
"""

from __future__ import annotations

__version__ = "0.1.0"

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.convert import FrameOptions, LabelOptions, assign_frames, convert
from prelabel.errors import (
    GeometryError,
    InputError,
    MissingExtraError,
    PayloadError,
    PrelabelError,
    SubmitError,
)
from prelabel.geometry import Policy, normalise, prepare
from prelabel.jobs import JobOptions, build_jobs, job_lines
from prelabel.report import Report
from prelabel.writer import write_jsonl

__all__ = [
    "Annotations",
    "FrameOptions",
    "Frames",
    "GeometryError",
    "InputError",
    "JobOptions",
    "Kind",
    "LabelOptions",
    "MissingExtraError",
    "PayloadError",
    "Policy",
    "PrelabelError",
    "Report",
    "SubmitError",
    "__version__",
    "assign_frames",
    "build_jobs",
    "convert",
    "file_problems",
    "job_lines",
    "job_problems",
    "normalise",
    "prepare",
    "write_jsonl",
]


def __getattr__(name: str) -> object:
    """Readers, the submitter and the validator are imported on first use (they pull in
    more modules: pydantic, httpx, the XML parser)."""
    lazy = {
        "read_coco": "prelabel.formats.coco",
        "read_yolo": "prelabel.formats.yolo",
        "read_cvat": "prelabel.formats.cvat",
        "Submitter": "prelabel.submit",
        "file_problems": "prelabel.validate",
        "job_problems": "prelabel.validate",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module 'prelabel' has no attribute {name!r}")

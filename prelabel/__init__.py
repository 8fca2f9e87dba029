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

import sys
import types

from prelabel.errors import (
    GeometryError,
    InputError,
    MissingExtraError,
    PayloadError,
    PrelabelError,
    SubmitError,
)

# name -> module, imported on first use: `import prelabel` (and so `prelabel --version`)
# costs no numpy, shapely, pydantic or httpx until one of these is asked for
_LAZY = {
    "Annotations": "prelabel.annotations",
    "Frames": "prelabel.annotations",
    "Kind": "prelabel.annotations",
    "FrameOptions": "prelabel.convert",
    "LabelOptions": "prelabel.convert",
    "assign_frames": "prelabel.convert",
    "convert": "prelabel.convert",
    "Policy": "prelabel.geometry",
    "normalise": "prelabel.geometry",
    "prepare": "prelabel.geometry",
    "JobOptions": "prelabel.jobs",
    "build_jobs": "prelabel.jobs",
    "job_lines": "prelabel.jobs",
    "Report": "prelabel.report",
    "write_jsonl": "prelabel.writer",
    "read_coco": "prelabel.formats.coco",
    "read_yolo": "prelabel.formats.yolo",
    "read_cvat": "prelabel.formats.cvat",
    "read_mot": "prelabel.formats.mot",
    "Submitter": "prelabel.submit",
    "paused_gc": "prelabel.gcpause",
    "file_problems": "prelabel.validate",
    "job_problems": "prelabel.validate",
}

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
    "paused_gc",
    "prepare",
    "write_jsonl",
]


def __getattr__(name: str) -> object:
    """The library's names are imported on first use (see ``_LAZY``)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'prelabel' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """``prelabel.convert`` is the function, as it was when the package imported it eagerly:
    loading the submodule of the same name (``import prelabel.convert``) would otherwise
    rebind the attribute to the module."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "convert" and isinstance(value, types.ModuleType):
            value = value.convert
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

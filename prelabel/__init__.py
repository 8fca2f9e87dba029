"""prelabel: model outputs -> pre-labelled video annotation jobs, checked and submitted.

The library in brief::

    import prelabel
    frames = prelabel.Frames.build(width=1920, height=1080, frame_id=ids, src=urls, sequence="cam1")
    ann = prelabel.Annotations.from_boxes(frames, xyxy, labels=class_ids, names=names,
                                          frame=frame_rows, score=scores, track=track_ids)
    ann, report = prelabel.prepare(ann, on_invalid="repair")   # normalise + check + repair
    jobs = prelabel.build_jobs(ann, prelabel.JobOptions(workflow_id="..."))
"""

from __future__ import annotations

__version__ = "0.1.0"

import sys
import types

from prelabel import formats as _formats
from prelabel.errors import (
    GeometryError,
    InputError,
    MissingExtraError,
    PayloadError,
    PrelabelError,
    SubmitError,
)
from prelabel.formats import reader_path

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
    "denormalise": "prelabel.geometry",
    "normalise": "prelabel.geometry",
    "prepare": "prelabel.geometry",
    "JobOptions": "prelabel.jobs",
    "build_jobs": "prelabel.jobs",
    "job_lines": "prelabel.jobs",
    "Reason": "prelabel.report",
    "Report": "prelabel.report",
    "write_jsonl": "prelabel.writer",
    "JobSink": "prelabel.sink",
    "paused_gc": "prelabel.gcpause",
    "Limits": "prelabel.submit",
    "Retries": "prelabel.submit",
    "Submitter": "prelabel.submit",
    "Timeouts": "prelabel.submit",
    "fetch_results": "prelabel.submit.results",
    "file_problems": "prelabel.validate",
    "JobContent": "prelabel.formats.payload",
    "read_payload": "prelabel.formats.payload",
    "read_result": "prelabel.formats.payload",
    "read_results": "prelabel.formats.payload",
    "ExportResult": "prelabel.export._input",
    "export_coco": "prelabel.export.coco",
    "export_cvat": "prelabel.export.cvat",
    "export_yolo": "prelabel.export.yolo",
    "pixel_jobs": "prelabel.export._input",
    "CompareOptions": "prelabel.compare",
    "CompareReport": "prelabel.compare",
    "compare": "prelabel.compare",
    "job_problems": "prelabel.validate",
    "PreviewOptions": "prelabel.preview",
    "PreviewSummary": "prelabel.preview",
    "preview": "prelabel.preview",
}
# every registered format's reader, read_<name> (prelabel.formats.FORMATS)
_LAZY.update((f"read_{name}", reader_path(name).partition(":")[0]) for name in _formats.FORMATS)

# Type checkers see the real objects behind the lazy names (``__getattr__`` below returns
# ``object`` to them). A local constant rather than ``typing.TYPE_CHECKING``: mypy and
# pyright read it the same, and ``import prelabel`` does not pay for importing typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from prelabel.annotations import Annotations as Annotations
    from prelabel.annotations import Frames as Frames
    from prelabel.annotations import Kind as Kind
    from prelabel.compare import CompareOptions as CompareOptions
    from prelabel.compare import CompareReport as CompareReport
    from prelabel.compare import compare as compare
    from prelabel.convert import FrameOptions as FrameOptions
    from prelabel.convert import LabelOptions as LabelOptions
    from prelabel.convert import assign_frames as assign_frames
    from prelabel.convert import convert as convert
    from prelabel.export._input import ExportResult as ExportResult
    from prelabel.export._input import pixel_jobs as pixel_jobs
    from prelabel.export.coco import export_coco as export_coco
    from prelabel.export.cvat import export_cvat as export_cvat
    from prelabel.export.yolo import export_yolo as export_yolo
    from prelabel.formats.coco import read_coco as read_coco
    from prelabel.formats.cvat import read_cvat as read_cvat
    from prelabel.formats.mot import read_mot as read_mot
    from prelabel.formats.payload import JobContent as JobContent
    from prelabel.formats.payload import read_payload as read_payload
    from prelabel.formats.payload import read_result as read_result
    from prelabel.formats.payload import read_results as read_results
    from prelabel.formats.yolo import read_yolo as read_yolo
    from prelabel.gcpause import paused_gc as paused_gc
    from prelabel.geometry import Policy as Policy
    from prelabel.geometry import denormalise as denormalise
    from prelabel.geometry import normalise as normalise
    from prelabel.geometry import prepare as prepare
    from prelabel.jobs import JobOptions as JobOptions
    from prelabel.jobs import build_jobs as build_jobs
    from prelabel.jobs import job_lines as job_lines
    from prelabel.preview import PreviewOptions as PreviewOptions
    from prelabel.preview import PreviewSummary as PreviewSummary
    from prelabel.preview import preview as preview
    from prelabel.report import Reason as Reason
    from prelabel.report import Report as Report
    from prelabel.sink import JobSink as JobSink
    from prelabel.submit import Limits as Limits
    from prelabel.submit import Retries as Retries
    from prelabel.submit import Submitter as Submitter
    from prelabel.submit import Timeouts as Timeouts
    from prelabel.submit.results import fetch_results as fetch_results
    from prelabel.validate import file_problems as file_problems
    from prelabel.validate import job_problems as job_problems
    from prelabel.writer import write_jsonl as write_jsonl

__all__ = [
    "Annotations",
    "CompareOptions",
    "CompareReport",
    "ExportResult",
    "FrameOptions",
    "Frames",
    "GeometryError",
    "InputError",
    "JobContent",
    "JobOptions",
    "JobSink",
    "Kind",
    "LabelOptions",
    "Limits",
    "MissingExtraError",
    "PayloadError",
    "Policy",
    "PrelabelError",
    "PreviewOptions",
    "PreviewSummary",
    "Reason",
    "Report",
    "Retries",
    "SubmitError",
    "Submitter",
    "Timeouts",
    "__version__",
    "assign_frames",
    "build_jobs",
    "compare",
    "convert",
    "denormalise",
    "export_coco",
    "export_cvat",
    "export_yolo",
    "fetch_results",
    "file_problems",
    "job_lines",
    "job_problems",
    "normalise",
    "paused_gc",
    "pixel_jobs",
    "prepare",
    "preview",
    "read_coco",
    "read_cvat",
    "read_mot",
    "read_payload",
    "read_result",
    "read_results",
    "read_yolo",
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


# public functions that share their module's name: ``prelabel.convert`` is the function
_SAME_NAME = frozenset(n for n, m in _LAZY.items() if m == f"prelabel.{n}")


class _Package(types.ModuleType):
    """``prelabel.convert`` (``compare``, ``preview``) is the function, as it was when the
    package imported it eagerly: loading the submodule of the same name (``import
    prelabel.convert``, or any module that imports it) would otherwise rebind the attribute
    to the module."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _SAME_NAME and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

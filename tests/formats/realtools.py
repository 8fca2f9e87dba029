"""Helpers shared by the tests of fixtures written by real tools (tests/formats/test_realtools_*.py).

They run the real CLI through click's ``CliRunner`` and read the payload back: the trackers of a
job, an object's points (normalised as written, or in pixels), and the shoelace area and bounds
of a ring, so each test file keeps only what its own data set means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from prelabel.cli import main

Point = tuple[float, float]
JOBS = "jobs.jsonl"  # the output file of run_convert, in the folder it is given
REPORT = "report.json"  # the --report file of run_convert, beside it


@dataclass(frozen=True)
class Converted:
    """What a successful ``prelabel convert`` wrote and said."""

    jobs: list[dict[str, Any]]  # the JSON Lines output, one job a line
    report: dict[str, Any]  # the --report file
    stderr: str  # the summary (and any notes) convert printed


def run_convert(fmt: str, source: Path, tmp_path: Path, *args: str, quiet: bool = False) -> Result:
    """``prelabel convert FMT SOURCE ARGS`` into ``tmp_path``/jobs.jsonl, its report beside it.

    Nothing is checked: for the tests of a run that must fail. ``quiet`` adds ``-q``.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    out, report = tmp_path / JOBS, tmp_path / REPORT
    cmd = ["convert", fmt, str(source), "-o", str(out), "--report", str(report), *args]
    return CliRunner().invoke(main, [*cmd, "-q"] if quiet else cmd)


def convert_ok(
    fmt: str, source: Path, tmp_path: Path, *args: str, quiet: bool = False
) -> Converted:
    """``prelabel convert`` as `run_convert`, which must exit 0 without a traceback, and whose
    output ``prelabel validate`` must accept; its jobs, report and summary."""
    result = run_convert(fmt, source, tmp_path, *args, quiet=quiet)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    out = tmp_path / JOBS
    checked = CliRunner().invoke(main, ["validate", str(out)])
    assert checked.exit_code == 0, checked.output
    return Converted(
        jobs=[json.loads(line) for line in out.read_text().splitlines()],
        report=json.loads((tmp_path / REPORT).read_text()),
        stderr=result.stderr,
    )


def trackers(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's trackers (``maker_response.video2d.data.annotations``), in payload order."""
    found: list[dict[str, Any]] = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
    return found


def frame_ids(job: dict[str, Any]) -> list[str]:
    """The job's frame ids, in the order of ``video_data.frames``."""
    return [f["frame_id"] for f in job["data"]["video_data"]["frames"]]


def frame_srcs(job: dict[str, Any]) -> list[str]:
    """The job's frame URLs, in the order of ``video_data.frames``."""
    return [f["src"] for f in job["data"]["video_data"]["frames"]]


def payload_points(obj: dict[str, Any]) -> list[Point]:
    """An object's points as written (normalised): ``coordinates`` of a rectangle, else the
    ``points`` of a polygon, line or landmark set in their key order."""
    pts = obj.get("coordinates") or list(obj["points"].values())
    return [(p["x"], p["y"]) for p in pts]


def pixel_points(obj: dict[str, Any], width: float, height: float) -> list[Point]:
    """An object's points in pixels of a ``width`` x ``height`` frame (float noise left in)."""
    return [(x * width, y * height) for x, y in payload_points(obj)]


def approx_points(points: list[Point], tol: float = 1e-9) -> list[Any]:
    """``points`` to compare with ``==`` up to ``tol`` on each coordinate (the noise of / W * W)."""
    return [(pytest.approx(x, abs=tol), pytest.approx(y, abs=tol)) for x, y in points]


def shapes_by_frame(
    job: dict[str, Any], width: float, height: float
) -> dict[str, list[tuple[str, str, list[Point]]]]:
    """frame_id -> [(type, label, points in pixels)], in the tracker order of the payload."""
    out: dict[str, list[tuple[str, str, list[Point]]]] = {}
    for t in trackers(job):
        for fid, obj in t["frames"].items():
            out.setdefault(fid, []).append(
                (t["type"], t["label"], pixel_points(obj, width, height))
            )
    return out


def rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    """A rectangle's corners TL, TR, BR, BL (the payload's order of ``coordinates``)."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def shoelace_area(points: list[Point]) -> float:
    """The area of the ring through ``points`` (closed implicitly), by the shoelace formula."""
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def bounds(points: list[Point]) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) of ``points``."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)

"""Checking finished payloads: one job dict, or a whole JSON Lines / JSON file.

Problems are ``(json_path, message)`` pairs such as
``("$.data.maker_response.video2d.data.annotations[3].frames.f1.coordinates[0].x", ...)``,
so a user can find the value in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import orjson
import pydantic

from prelabel.errors import InputError
from prelabel.schema import TRACKER_TAGS, Job


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload; ``line`` is the file line the job starts on."""

    line: int
    path: str
    message: str

    def format(self, file: str) -> str:
        return f"{file}:{self.line}: {self.path}: {self.message}"


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = "$"
    prev: int | str | None = None
    for part in loc:
        # a discriminated union adds the tag ("rectangle") after the list index: not in the data
        if isinstance(prev, int) and part in TRACKER_TAGS:
            prev = part
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{orjson.dumps(part).decode()}]"
        prev = part
    return out


def job_problems(obj: Any) -> list[tuple[str, str]]:
    """Every problem of one job payload, as (JSON path, message); empty when valid."""
    try:
        job = Job.model_validate(obj)
    except pydantic.ValidationError as exc:
        return [(_loc_to_path(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
    return _cross_problems(job)


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        hint = " (the API's key is work_flow_id)" if err["loc"][-1:] == ("workflow_id",) else ""
        return f"unknown key{hint}"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _cross_problems(job: Job) -> list[tuple[str, str]]:
    problems = []
    frame_ids: dict[str, int] = {}
    for i, f in enumerate(job.data.video_data.frames):
        if f.frame_id in frame_ids:
            problems.append(
                (
                    f"$.data.video_data.frames[{i}].frame_id",
                    f"frame_id {f.frame_id!r} repeats frames[{frame_ids[f.frame_id]}]",
                )
            )
        else:
            frame_ids[f.frame_id] = i
    mr = job.data.maker_response
    if mr is not None:
        key = "video2d" if mr.video2d is not None else "video_2d"
        for t, tracker in enumerate(mr.trackers):
            for fid in tracker.frames:
                if fid not in frame_ids:
                    problems.append(
                        (
                            f"$.data.maker_response.{key}.data.annotations[{t}].frames{_key(fid)}",
                            f"frame {fid!r} is not in data.video_data.frames",
                        )
                    )
    rd = job.data.reference_data
    if rd is not None:
        for i, img in enumerate(rd.vector.images):
            if img.frame_id not in frame_ids:
                problems.append(
                    (
                        f"$.data.reference_data.vector.images[{i}].frame_id",
                        f"frame {img.frame_id!r} is not in data.video_data.frames",
                    )
                )
    return problems


def _key(k: str) -> str:
    return f".{k}" if k.isidentifier() else f"[{orjson.dumps(k).decode()}]"


def iter_documents(path: str | PathLike[str]) -> Iterator[tuple[int, Any]]:
    """(line, job) for each job of a JSON Lines file, or of a file holding one JSON document
    (a job or a list of jobs). An unreadable or unparseable file raises InputError."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    stripped = data.lstrip()
    if not stripped:
        raise InputError(path, None, "the file is empty")
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        whole_error = exc
    else:
        if isinstance(whole, list):
            yield from ((1, job) for job in whole)
        else:
            yield 1, whole
        return
    first = True
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if first:  # not JSON Lines either: report the document's own error
                raise InputError(
                    path,
                    None,
                    f"invalid JSON at line {whole_error.lineno}, column {whole_error.colno}: {whole_error.msg}",
                ) from None
            raise InputError(
                path, str(number), f"invalid JSON at column {exc.colno}: {exc.msg}"
            ) from None
        first = False


def file_problems(path: str | PathLike[str]) -> Iterator[Problem]:
    """Every problem in a payload file, job by job, plus reference_ids used twice."""
    seen: dict[str, int] = {}
    for line, job in iter_documents(path):
        if not isinstance(job, dict):
            yield Problem(line, "$", "a job must be a JSON object")
            continue
        for where, msg in job_problems(job):
            yield Problem(line, where, msg)
        ref = job.get("reference_id")
        if isinstance(ref, str) and ref:
            if ref in seen:
                yield Problem(
                    line, "$.reference_id", f"reference_id {ref!r} is used on line {seen[ref]} too"
                )
            else:
                seen[ref] = line

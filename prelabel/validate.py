"""Checking finished payloads: one job dict, or a whole JSON Lines / JSON file.

Problems are ``(json_path, message)`` pairs such as
``("$.data.maker_response.video2d.data.annotations[3].frames.f1.coordinates[0].x", ...)``,
so a user can find the value in the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pydantic

from prelabel.errors import InputError
from prelabel.schema import EDGE_NAME_PATTERN, TRACKER_TAGS, Job, json_type_name


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload; ``line`` is the file line the job starts on."""

    line: int
    path: str
    message: str

    def format(self, file: str) -> str:
        return f"{file}:{self.line}: {self.path}: {self.message}"


_ITEMS = {"List": "items", "Dictionary": "entries", "Tuple": "items"}
_KINDS = ", ".join(TRACKER_TAGS)


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = "$"
    prev: int | str | None = None
    for part in loc:
        # a discriminated union adds the tag ("rectangle") after the list index: not in the data
        if isinstance(prev, int) and part in TRACKER_TAGS:
            prev = part
            continue
        if part == "[key]":  # the error is about the key itself, already in the path
            continue
        out += _key(part) if isinstance(part, str) else f"[{part}]"
        prev = part
    return out


def job_problems(obj: Any) -> list[tuple[str, str]]:
    """Every problem of one job payload, as (JSON path, message); empty when valid.

    The models' problems and the cross-checks (frame ids, edges) are independent: a schema
    error in one place does not hide a problem in another."""
    problems: list[tuple[str, str]] = []
    try:
        Job.model_validate(obj)
    except pydantic.ValidationError as exc:
        problems = [_problem(e) for e in exc.errors(include_url=False)]
    return problems + _cross_problems(obj)


def _problem(err: Any) -> tuple[str, str]:
    """A pydantic error as (JSON path, message in prelabel's words)."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        loc += ("type",)  # the tracker's "type" is what is wrong
    return _loc_to_path(loc), _message(err)


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = tuple(err["loc"])
    got = json_type_name(err.get("input"))
    if kind == "extra_forbidden":
        hint = " (the API's key is work_flow_id)" if loc[-1:] == ("workflow_id",) else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        return f"unknown tracker type {ctx.get('tag')!r} (the types are {_KINDS})"
    if kind == "union_tag_not_found":
        return f"a tracker needs a type ({_KINDS})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        what = "edge" if ctx.get("pattern") == EDGE_NAME_PATTERN else "point"
        letter = what[0]
        return f"{what} names are {letter}1, {letter}2, ...: not {err.get('input')!r}"
    if kind == "string_type":
        return f"must be a string, not {got}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be an integer, not {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be an object, not {got}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, not {got}"
    if kind in ("too_short", "too_long"):
        items = _ITEMS.get(str(ctx.get("field_type")), "items")
        n = ctx.get("actual_length")
        if loc[-1:] == ("coordinates",):
            return f"needs exactly 4 {'corners' if 'rectangle' in loc else 'point names'}, has {n}"
        if kind == "too_short":
            return f"needs at least {ctx.get('min_length')} {items}, has {n}"
        return f"takes at most {ctx.get('max_length')} {items}, has {n}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _cross_problems(obj: Any) -> list[tuple[str, str]]:
    """What spans the document, on the raw JSON (so it runs whatever the models said): frame
    ids unique, every tracker frame and reference frame in ``video_data.frames``, every edge
    naming points of its polygon. A part of the wrong type is skipped (the models report it)."""
    problems: list[tuple[str, str]] = []
    data = _get(obj, "data")
    frames = _get(_get(data, "video_data"), "frames")
    frame_ids: dict[str, int] = {}
    for i, f in enumerate(frames if isinstance(frames, list) else []):
        fid = _get(f, "frame_id")
        if not isinstance(fid, str):
            continue
        if fid in frame_ids:
            problems.append(
                (
                    f"$.data.video_data.frames[{i}].frame_id",
                    f"frame_id {fid!r} repeats frames[{frame_ids[fid]}]",
                )
            )
        else:
            frame_ids[fid] = i
    known = isinstance(frames, list)  # without a frames list, membership is not checked
    mr = _get(data, "maker_response")
    for key in ("video2d", "video_2d"):
        trackers = _get(_get(_get(mr, key), "data"), "annotations")
        for t, tracker in enumerate(trackers if isinstance(trackers, list) else []):
            path = f"$.data.maker_response.{key}.data.annotations[{t}].frames"
            tracker_frames = _get(tracker, "frames")
            if not isinstance(tracker_frames, dict):
                continue
            polygon = _get(tracker, "type") == "polygon"
            for fid, shape in tracker_frames.items():
                if known and fid not in frame_ids:
                    problems.append(
                        (f"{path}{_key(fid)}", f"frame {fid!r} is not in data.video_data.frames")
                    )
                if polygon:
                    problems.extend(_edge_problems(shape, f"{path}{_key(fid)}"))
    images = _get(_get(_get(data, "reference_data"), "vector"), "images")
    for i, img in enumerate(images if isinstance(images, list) and known else []):
        fid = _get(img, "frame_id")
        if isinstance(fid, str) and fid not in frame_ids:
            problems.append(
                (
                    f"$.data.reference_data.vector.images[{i}].frame_id",
                    f"frame {fid!r} is not in data.video_data.frames",
                )
            )
    return problems


def _edge_problems(shape: Any, path: str) -> list[tuple[str, str]]:
    points, edges = _get(shape, "points"), _get(shape, "edges")
    if not isinstance(points, dict) or not isinstance(edges, dict):
        return []
    out = []
    for name, ends in edges.items():
        if not isinstance(ends, list):
            continue
        missing = [p for p in ends if isinstance(p, str) and p not in points]
        if missing:
            names = " and ".join(missing)
            out.append(
                (
                    f"{path}.edges{_key(name)}",
                    f"edge {name} names {names}, not"
                    f" {'a point' if len(missing) == 1 else 'points'} of this polygon",
                )
            )
    return out


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _key(k: str) -> str:
    return f".{k}" if k.isidentifier() else f"[{orjson.dumps(k).decode()}]"


def _documents(path: str | PathLike[str]) -> Iterator[tuple[int, Any, list[tuple[str, str]]]]:
    """(line, job, the job's repeated keys as (JSON path, message)) for each job of a JSON
    Lines file, or of a file holding one JSON document (a job or a list of jobs). An
    unreadable or unparseable file raises InputError."""
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
        repeated = repeated_keys(data, whole)
        if isinstance(whole, list):
            per_job: dict[int, list[tuple[str, str]]] = {}
            for where, msg in repeated:  # "$[3].data..." is job 3's "$.data..."
                index, _, rest = where[2:].partition("]")
                per_job.setdefault(int(index), []).append(("$" + rest, msg))
            yield from ((1, job, per_job.get(i, [])) for i, job in enumerate(whole))
        else:
            yield 1, whole, repeated
        return
    first = True
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            job = orjson.loads(line)
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
        yield number, job, repeated_keys(line, job)
        first = False


def repeated_keys(text: bytes, parsed: Any) -> list[tuple[str, str]]:
    """Keys that appear twice in one object of the JSON ``text`` (``parsed`` is what orjson
    made of it), as (JSON path, message).

    JSON readers keep the last value of a repeated key (orjson, the stdlib, the API's own),
    so the other values are silently lost. The cheap test: the colons outside strings of the
    text (one per key) against those of ``parsed`` written back, where each key is once.
    Only a document that differs is parsed again, by the stdlib with a hook that sees every
    key, to name the paths."""
    if _key_count(text) == _key_count(orjson.dumps(parsed)):
        return []
    tree = json.loads(text, object_pairs_hook=_KeyCounts.from_pairs)
    out: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(tree, "$")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _KeyCounts):
            for key, n in node.repeated.items():
                out.append(
                    (
                        f"{where}{_key(key)}",
                        f"key repeated ({n} times in one object): a JSON reader keeps only"
                        " the last value",
                    )
                )
            stack.extend((v, f"{where}{_key(k)}") for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))
    return out


class _KeyCounts(dict[str, Any]):
    """A JSON object that remembers how often each repeated key appeared."""

    repeated: dict[str, int]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _KeyCounts:
        obj = cls()
        obj.repeated = {}
        for key, value in pairs:
            if key in obj:
                obj.repeated[key] = obj.repeated.get(key, 1) + 1
            obj[key] = value
        return obj


_QUOTE, _BACKSLASH, _COLON = ord('"'), ord("\\"), ord(":")


def _key_count(text: bytes) -> int:
    """The colons outside strings of valid JSON text: one per key of every object.

    Byte masks only (a few bytes of memory per byte of text): a byte is inside a string when
    an odd number of unescaped quotes precede it."""
    b = np.frombuffer(text, dtype=np.uint8)
    quote = b == _QUOTE
    if b"\\" in text:
        # a quote after an odd run of backslashes is escaped: it does not end the string
        quotes = np.flatnonzero(quote)
        run = np.zeros(len(quotes), dtype=np.int64)
        before = quotes - 1
        active = np.flatnonzero(before >= 0)
        active = active[b[before[active]] == _BACKSLASH]
        while active.size:
            run[active] += 1
            before[active] -= 1
            active = active[before[active] >= 0]
            active = active[b[before[active]] == _BACKSLASH]
        quote[quotes[run % 2 == 1]] = False
    inside = np.logical_xor.accumulate(quote)
    return int(np.count_nonzero((b == _COLON) & ~inside))


def file_problems(path: str | PathLike[str]) -> Iterator[Problem]:
    """Every problem in a payload file, job by job, plus reference_ids used twice."""
    seen: dict[str, int] = {}
    for line, job, repeated in _documents(path):
        for where, msg in repeated:
            yield Problem(line, where, msg)
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

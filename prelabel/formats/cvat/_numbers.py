"""Coordinates and rotations from text: every ``x,y;x,y`` run of the file in one numpy call.

Shapes are collected as text and parsed in bulk: every geometry is one run of ``x,y`` pairs
(a box ``xtl,ytl;xbr,ybr``, a cuboid its eight corners, an ellipse ``cx,cy;rx,ry``), the runs
are joined once, checked once for the pair syntax and converted by one numpy call. Only when
that fails are the runs read one by one, to name (or, under ``drop``, leave out) the bad ones.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from prelabel.errors import InputError
from prelabel.formats.cvat._tables import PAIR_RUNS, SHAPE_TAGS, ParsedFile, element_source
from prelabel.report import Action, Reason, Report


def report_bad_row(
    parsed: ParsedFile, report: Report, row: int, e: InputError, reason: Reason
) -> None:
    """The report row of a shape left out after the parse (its coordinates or rotation)."""
    report.add(
        Action.DROPPED,
        reason,
        source=e.location,
        frame=parsed.frame_of_element(row),
        label=parsed.label_names[parsed.shapes.label[row]],
        detail=f"{e.message}: the shape is left out",
    )


def parse_rotations(
    parsed: ParsedFile, drop: bool, report: Report, dropped: list[int]
) -> npt.NDArray[np.float64]:
    """Each shape's ``rotation`` in degrees (0 where it has none); a bad one raises, or under
    ``drop`` is reported and its row added to ``dropped``."""
    s = parsed.shapes
    rotation = np.zeros(len(s.kind))
    if not s.rot_rows:
        return rotation
    try:
        rotation[s.rot_rows] = np.array(s.rot_text, dtype=np.float64)
    except ValueError:
        already = set(dropped)  # left out for their coordinates
        for row, text in zip(s.rot_rows, s.rot_text, strict=True):
            if row in already:
                continue
            if _is_float(text):
                rotation[row] = float(text)
                continue
            err = InputError(
                parsed.path,
                element_source(s.kind[row], s.line[row]),
                f"rotation is not a number: {text[:40]!r}",
            )
            if not drop:
                raise err from None
            report_bad_row(parsed, report, row, err, Reason.BAD_ROTATION)
            dropped.append(row)
    return rotation


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# byte classes for the fast number parser: 0 separator, 1 digit, 2 '.', 3 '-', 9 other
def parse_runs(
    parsed: ParsedFile,
    offsets: npt.NDArray[np.int64],
    drop: bool,
    report: Report,
    dropped: list[int],
) -> npt.NDArray[np.float64]:
    """All ``x,y;x,y`` runs at once: one join, one syntax check, one numeric conversion.

    The separators must alternate ``,`` ``;`` ``,`` ... so that every pair has two numbers
    and every shape's pairs are where its offsets say; if they do not, or a number does not
    convert, :func:`_parse_runs_one_by_one` finds (and names, or drops) the bad runs.
    """
    total = int(offsets[-1])
    geo = parsed.shapes.geo
    if not geo:
        return np.zeros((0, 2))
    text = ";".join(geo)
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    seps = np.flatnonzero((data == 44) | (data == 59))
    kinds = data[seps]
    if len(seps) != 2 * total - 1 or (kinds[0::2] != 44).any() or (kinds[1::2] != 59).any():
        return _parse_runs_one_by_one(parsed, total, drop, report, dropped)
    # numpy's own text parser, one C pass: a hand-written column parser measured 2-5% of the
    # read faster (tests/benchmarks/bench_parsers.py history, docs/benchmarks.md), not worth it
    try:
        values = np.fromstring(text.replace(";", ","), dtype=np.float64, sep=",")
    except ValueError:
        values = None
    if values is None or len(values) != 2 * total:
        return _parse_runs_one_by_one(parsed, total, drop, report, dropped)
    return values.reshape(-1, 2)


def _run_values(run: str, npairs: int) -> list[float] | None:
    """The numbers of one ``x,y;x,y`` run of ``npairs`` pairs, or None if it is not one."""
    pairs = run.split(";")
    if len(pairs) != npairs or "_" in run:
        return None
    out: list[float] = []
    try:
        for pair in pairs:
            x, y = pair.split(",")
            out.append(float(x))
            out.append(float(y))
    except ValueError:
        return None
    return out


def _parse_runs_one_by_one(
    parsed: ParsedFile, total: int, drop: bool, report: Report, dropped: list[int]
) -> npt.NDArray[np.float64]:
    """The error path of :func:`parse_runs`: each run on its own. A bad run raises (the
    first one), or under ``drop`` is reported, filled with NaN and its row added to
    ``dropped``."""
    s = parsed.shapes
    values: list[float] = []
    rows = [i for i, n in enumerate(s.npairs) if n > 0]
    for row, run in zip(rows, s.geo, strict=True):
        n = s.npairs[row]
        got = _run_values(run, n)
        if got is None:
            tag = SHAPE_TAGS[s.kind[row]]
            pair_run = tag in PAIR_RUNS or tag == "skeleton"
            what = "points string" if pair_run else "coordinate"
            err = InputError(parsed.path, f"<{tag}> line {s.line[row]}", f"bad {what} {run[:60]!r}")
            if not drop:
                raise err
            report_bad_row(
                parsed, report, row, err, Reason.BAD_POINTS if pair_run else Reason.BAD_COORDINATE
            )
            dropped.append(row)
            got = [math.nan] * (2 * n)
        values.extend(got)
    if len(values) != 2 * total:  # pragma: no cover - npairs and geo always agree
        raise InputError(parsed.path, None, "bad coordinates")
    return np.array(values, dtype=np.float64).reshape(-1, 2)

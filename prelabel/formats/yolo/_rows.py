"""Which schema reads the rows and which rows are refused: the declared reading, the reading
inferred from the rows, the checks of every line (column count, numbers, class and track ids)
and the message of a refused line."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prelabel._ragged import rows_at, run_owner
from prelabel.annotations import FloatArray, IntArray
from prelabel.errors import InputError, param, render
from prelabel.formats.yolo._layout import LabelFiles, Layout
from prelabel.formats.yolo._lines import Lines, parse_tokens
from prelabel.formats.yolo._names import MAX_UNNAMED_CLASS
from prelabel.formats.yolo._schema import (
    Reading,
    Schema,
    parse_columns,
    positions,
    positions_per_line,
    schema_for_task,
    shape_readings,
)
from prelabel.report import Action, Reason, Report

_MAX_TRACK = 2**53  # beyond this a float is no longer a whole number one can trust


def _is_number(token: bytes) -> bool:
    return parse_tokens(token, 1) is not None


def _line_problem(tokens: list[bytes], reading: Reading, n_names: int | None) -> tuple[Reason, str]:
    """(reason, message) for one refused line, in plain Python: only refused lines get here."""
    n = len(tokens)
    k = int(reading.schema_ids(np.array([n]))[0])
    if k < 0:
        return Reason.WRONG_COLUMN_COUNT, (
            f"{reading.expectation()}, got {n}{_hint(reading.schemas[0], n)}"
        )
    schema = reading.schemas[k]
    for t in tokens:
        if not _is_number(t):
            return Reason.NOT_A_NUMBER, f"not a number: {_token_text(t)}"
    vals = np.fromstring(b" ".join(tokens), sep=" ")
    for t, v in zip(tokens, vals, strict=True):
        if not np.isfinite(v):
            return Reason.NOT_A_NUMBER, f"not a finite number: {_token_text(t)}"
    pos = positions(schema, n)
    c = vals[pos["cls"]]
    if c != np.floor(c) or c < 0:
        return (
            Reason.BAD_CLASS,
            f"class id {_token_text(tokens[pos['cls']])} is not a whole number >= 0",
        )
    if n_names is not None and c >= n_names:
        return Reason.CLASS_BEYOND_NAMES, (
            f"class {int(c)} is beyond the {n_names} names (0..{n_names - 1})"
        )
    if c >= MAX_UNNAMED_CLASS:
        return (
            Reason.CLASS_BEYOND_NAMES,
            f"class {int(c)} is too large without names (give {param('names')})",
        )
    if "track" in pos:
        t = vals[pos["track"]]
        if t != np.floor(t) or t < 0 or t > _MAX_TRACK:
            return Reason.BAD_TRACK_ID, (
                f"track id {_token_text(tokens[pos['track']])} is not a whole number >= 0"
            )
    if "conf" in pos and reading.declared is None and not 0 <= vals[pos["conf"]] <= 1:
        return Reason.BAD_CONFIDENCE, (
            f"confidence {_token_text(tokens[pos['conf']])} is not between 0 and 1 "
            f"(rows read as {schema}; give {param('columns')} if that is wrong)"
        )
    return Reason.BAD_LINE, "line refused"


def _token_text(token: bytes) -> str:
    return repr(token.decode("utf-8", "replace"))


def _hint(schema: Schema, n: int) -> str:
    """What a row of ``n`` values might be instead, for the error message (never acted on)."""
    tips = []
    extra = n - schema.fixed
    if not schema.variable and 1 <= extra <= 2 and not {"conf", "track"} & set(schema.items):
        base = ",".join(schema.items)
        tips.append(
            f"a confidence or track column? e.g. {param('columns', f'{base},conf', cli=f'{base},conf')}"
            f" or {base},conf,track"
        )
    if schema.items == ("cls", "box"):
        if n >= 7 and n % 2 == 1:
            tips.append(f"polygons? {param('task', 'segment', cli='segment')}")
        if n == 9:
            tips.append(f"oriented boxes? {param('task', 'obb', cli='obb')}")
    return f" ({'; '.join(tips)})" if tips else ""


def declared_reading(lay: Layout, task: str | None, columns: str | None) -> Reading | None:
    """The schema declared by an option or data.yaml; None: read it from the rows."""
    if columns:
        return Reading.of(parse_columns(columns, kpt_shape=lay.kpt_shape), "columns")
    if task:
        declared, t = "task", task
    elif lay.task:
        declared, t = "data.yaml task", lay.task
    elif lay.kpt_shape:
        declared, t = "data.yaml kpt_shape", "pose"
    else:
        return None
    if t == "pose" and lay.kpt_shape is None:
        raise InputError(
            None,
            param("task"),
            "pose needs kpt_shape in data.yaml or "
            + param("columns", "cls,box,kpts:17x3", cli="cls,box,kpts:17x3"),
        )
    return Reading.of(schema_for_task(t, lay.kpt_shape), declared)


def check_declared_size(reading: Reading, lines: Lines, lay: Layout) -> None:
    """A declared keypoint count whose rows are longer than any row of the files is refused
    as the declaration's error (``kpt_shape: [1000000000, 3]``) before any row is looked at,
    so nothing is ever sized by it."""
    schema = reading.schemas[0]
    longest = int(lines.ncol.max(initial=0))
    if schema.kpts is None or not longest or min(s.fixed for s in reading.schemas) <= longest:
        return
    k, d = schema.kpts
    where = (
        (lay.yaml_path, "kpt_shape")
        if reading.declared == "data.yaml kpt_shape"
        or (reading.declared != "columns" and lay.kpt_shape == schema.kpts)
        else (None, param("columns"))
    )
    raise InputError(
        where[0], where[1],
        f"{k:,} keypoints of {d} values make rows of {schema.fixed:,} values, but the longest "
        f"row in the label files has {longest:,}",
    )  # fmt: skip


def infer_reading(
    lines: Lines, label_paths: list[str], *, normalised: bool
) -> tuple[Reading, IntArray]:
    """The reading of the rows by their length (and by what their trailing columns hold)
    that fits the most rows; refused when another reading fits the same rows and gives
    different shapes (every row has 7 values: triangles, or boxes with conf and track).

    A ``conf`` column must hold a value in 0..1 and a ``track`` column a whole number >= 0:
    six values with a 6th of 0.91 are a box and its confidence, with a 6th of 12 a box and
    its track id. A row the best reading does not fit is a bad line like any other. Between
    readings that fit the same rows, one whose normalised coordinates all lie in the image
    (within Ultralytics' 1% tolerance: its loader refuses the rest) is preferred: seven values
    ending in a track id of 12 are not a triangle with a corner at x = 12.
    """
    ncol = lines.ncol
    present = ncol > 0
    codes: dict[Schema, int] = {}
    found: list[tuple[Reading, IntArray, IntArray]] = []  # reading, schema ids, meaning codes
    for reading in shape_readings():
        sid = reading.schema_ids(ncol)
        sid[~present] = -1
        for k, schema in enumerate(reading.schemas):
            if "conf" not in schema.items and "track" not in schema.items:
                continue
            rows = np.flatnonzero(sid == k)
            if not len(rows):
                continue
            ok = np.ones(len(rows), dtype=bool)
            if "conf" in schema.items:
                c = column_values(lines, reading, sid, rows, "conf")
                ok &= (c >= 0) & (c <= 1)
            if "track" in schema.items:
                t = column_values(lines, reading, sid, rows, "track")
                ok &= (t == np.floor(t)) & (t >= 0) & (t <= _MAX_TRACK)
            sid[rows[~ok]] = -1
        table = np.array([codes.setdefault(s, len(codes)) for s in reading.schemas] + [-1])
        found.append((reading, sid, table[sid]))
    # the most rows fitted wins, ties in the order above (a data set's own format first);
    # ambiguous only when another reading fits the very same rows and reads them otherwise
    top = max(int((f[1] >= 0).sum()) for f in found)
    best = next(f for f in found if int((f[1] >= 0).sum()) == top)
    distinct = [best]
    for f in found:
        if np.array_equal(f[1] >= 0, best[1] >= 0) and not any(
            np.array_equal(f[2], d[2]) for d in distinct
        ):
            distinct.append(f)
    if len(distinct) > 1 and normalised:
        inside = [d for d in distinct if _coordinates_inside(lines, d[0], d[1])]
        if len(inside) == 1:
            distinct = inside
    if len(distinct) > 1:
        row = int(np.flatnonzero(distinct[0][2] != distinct[1][2])[0])
        ways = []
        for reading, sid, _ in distinct:
            k = int(sid[row])
            if k >= 0:
                schema = reading.schemas[k]
                full = reading.full_columns(schema)
                ways.append(f"{schema.describe()} ({param('columns', full, cli=full)})")
        n = int(ncol[row])
        raise InputError(
            label_paths[int(lines.file[row])], str(int(lines.lineno[row])),
            f"rows of {n} values read more than one way: {' or '.join(ways)}; "
            f"give {param('columns')} (or {param('task')}) to say which",
        )  # fmt: skip
    reading, sid, _ = distinct[0]
    return reading, sid


def _coordinates_inside(lines: Lines, reading: Reading, sid: IntArray) -> bool:
    """Do the box / polygon values of every row read this way lie in -0.01..1.01?"""
    for k, schema in enumerate(reading.schemas):
        rows = np.flatnonzero(sid == k)
        if not len(rows):
            continue
        ncol = lines.ncol[rows]
        pos = positions_per_line(schema, ncol)
        geometry = "poly" if "poly" in pos else "box" if "box" in pos else "obb"
        if geometry not in pos:
            continue
        count = (
            ncol - schema.fixed if geometry == "poly" else np.full(len(rows), schema.size(geometry))
        )
        start = lines.tok_first[rows] + pos[geometry]
        v = lines.values[rows_at(start, count)]
        if not ((v >= -0.01) & (v <= 1.01)).all():
            return False
    return True


def column_values(
    lines: Lines, reading: Reading, sid: IntArray, rows: IntArray, item: str
) -> FloatArray:
    """The value of ``item`` on each of ``rows`` (each read by its own schema)."""
    out = np.zeros(len(rows))
    srows = sid[rows]
    for k, schema in enumerate(reading.schemas):
        sel = np.flatnonzero(srows == k)
        if not len(sel) or item not in schema.items:
            continue
        r = rows[sel]
        pos = positions_per_line(schema, lines.ncol[r])
        out[sel] = lines.values[lines.tok_first[r] + pos[item]]
    return out


def note_reading(reading: Reading | None, used: IntArray | None, rep: Report) -> None:
    """Say in the report (and so the summary) which row schema was used and where it came
    from: declared by an option or data.yaml, or read from the rows."""
    if reading is not None and reading.declared is not None:
        rep.add(
            Action.NOTED,
            Reason.ROW_SCHEMA_DECLARED,
            detail=f"{reading.schemas[0]} by {reading.declared}",
        )
        return
    if reading is None or used is None or not len(used):
        return
    counts = np.bincount(used, minlength=len(reading.schemas))
    names = [str(reading.schemas[k]) for k in np.flatnonzero(counts).tolist()]
    rep.add(
        Action.NOTED,
        Reason.ROW_SCHEMA_INFERRED,
        detail=" + ".join(names)
        + "; "
        + ", ".join(
            f"{int(counts[k]):,} row(s) {reading.schemas[k]}" for k in np.flatnonzero(counts)
        ),
    )


def check_lines(
    lines: Lines, reading: Reading, sid: IntArray, n_names: int | None, files: LabelFiles,
    drop: bool, rep: Report,
) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Per line: keep it? Raises on the first refused line unless ``drop``."""
    ncol = lines.ncol
    present = ncol > 0
    bad = present & ((sid < 0) | lines.bad_number)
    fit = present & ~bad
    vals = lines.values
    if fit.any():
        # finite: any non-finite token marks its line
        nonfinite = ~np.isfinite(vals)
        if nonfinite.any():
            tok_line = run_owner(ncol)
            bad[np.unique(tok_line[nonfinite])] = True
        for k, schema in enumerate(reading.schemas):
            rows = np.flatnonzero(fit & (sid == k))
            if not len(rows):
                continue
            pos = positions_per_line(schema, ncol[rows])
            c = vals[lines.tok_first[rows] + pos["cls"]]
            wrong = (c != np.floor(c)) | (c < 0) | (c >= (n_names or MAX_UNNAMED_CLASS))
            if "track" in pos:
                t = vals[lines.tok_first[rows] + pos["track"]]
                wrong |= (t != np.floor(t)) | (t < 0) | (t > _MAX_TRACK)
            bad[rows[wrong]] = True
    bad &= present
    if bad.any():
        rows = np.flatnonzero(bad)
        if not drop:
            rows = rows[:1]
        for i in rows.tolist():
            tokens = lines.blob[lines.line_start[i] : lines.line_end[i]].split()
            reason, message = _line_problem(tokens, reading, n_names)
            f = int(lines.file[i])
            if not drop:
                raise InputError(files.path[f], str(int(lines.lineno[i])), message)
            rep.add(
                Action.DROPPED,
                reason,
                source=f"{files.rel[f]}:{int(lines.lineno[i])}",
                frame=files.frame_name[f],
                detail=render(message),
            )
    return present & ~bad

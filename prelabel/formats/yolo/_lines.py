"""Label files -> one table of lines and numbers, without a Python loop per line.

One ``os.read`` per file; every file's bytes joined into one buffer that numpy splits into
lines and tokens; the numbers parsed by column arithmetic (:func:`decimal_values`) or one
``np.fromstring`` call. Only a file with a token that is not a number is parsed line by line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from prelabel._ragged import offsets_from_counts
from prelabel.annotations import FloatArray, IntArray
from prelabel.errors import InputError

_BOM = b"\xef\xbb\xbf"
# \t \v \f \r count as spaces; '\n' ends a line (so '\r\n' files read like '\n' files)
_SPACES = bytes.maketrans(b"\t\v\f\r", b"    ")


_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def read_files(paths: Sequence[str]) -> list[bytes]:
    """The bytes of every file: os.read, no file objects (half the cost of open().read())."""
    out: list[bytes] = []
    append = out.append
    o, r, c = os.open, os.read, os.close
    flags = _O_READ
    for p in paths:
        try:
            fd = o(p, flags)
        except OSError as exc:
            raise InputError(p, None, f"cannot read: {exc.strerror or exc}") from None
        try:
            data = r(fd, 65536)
            if len(data) == 65536:
                chunks = [data]
                while chunk := r(fd, 1 << 20):
                    chunks.append(chunk)
                data = b"".join(chunks)
        finally:
            c(fd)
        append(data)
    return out


@dataclass
class Lines:
    """Every line of every label file: token counts and the parsed values."""

    blob: bytes
    line_start: IntArray  # byte offset of each line in blob
    line_end: IntArray
    ncol: IntArray  # tokens per line
    tok_first: IntArray  # index into values of each line's first token
    file: IntArray  # file index of each line
    lineno: IntArray  # 1-based line number in its file
    values: FloatArray  # every token, NaN where not a number
    bad_number: npt.NDArray[np.bool_]  # per line: a token is not a number


def split_lines(contents: list[bytes]) -> Lines:
    sizes = np.fromiter((len(c) for c in contents), dtype=np.int64, count=len(contents))
    file_start = offsets_from_counts(sizes + 1)[:-1]  # each file and its joining '\n'
    blob = b"\n".join(contents) + b"\n"
    blob = blob.translate(_SPACES)
    if _BOM in blob:
        blob = blob.replace(_BOM, b"   ")
    arr = np.frombuffer(blob, dtype=np.uint8)
    line_end = np.flatnonzero(arr == 10)
    line_start = np.empty_like(line_end)
    line_start[0] = 0
    line_start[1:] = line_end[:-1] + 1
    space = (arr == 32) | (arr == 10)
    change = np.flatnonzero(space[1:] != space[:-1]) + 1
    if not space[0]:
        change = np.r_[0, change]
    # blob ends with '\n', so changes alternate: token start, token end, start, end, ...
    tok, tok_end = change[0::2], change[1::2]
    # tokens before each line's end, so tokens per line (needles: lines, fewer than tokens)
    tok_before = np.searchsorted(tok, line_end)
    ncol = np.diff(tok_before, prepend=0).astype(np.int64)
    tok_first = tok_before - ncol
    file = np.searchsorted(file_start, line_start, side="right") - 1
    first_line = np.searchsorted(line_start, file_start)
    lineno = np.arange(len(line_start), dtype=np.int64) - first_line[file] + 1
    bad_number = np.zeros(len(ncol), dtype=bool)
    fast = decimal_values(arr, tok, tok_end)
    ok = fast is not None
    if fast is not None:
        values = fast
    else:
        try:
            values = np.fromstring(blob, sep=" ")  # one C pass over every number
            ok = len(values) == len(tok)
        except ValueError:
            ok = False
    if not ok:
        values, bad_number = _parse_slowly(blob, line_start, line_end, ncol, file, file_start)
    return Lines(blob, line_start, line_end, ncol, tok_first, file, lineno, values, bad_number)


_POW10 = 10.0 ** np.arange(23)


def decimal_values(arr: npt.NDArray[np.uint8], start: IntArray, end: IntArray) -> FloatArray | None:
    """Plain decimals (``-0.123456``, ``3``, ``.5``) parsed with column arithmetic; None when
    a token is anything else (exponent, nan, a typo), for ``np.fromstring`` to decide.

    Tokens are grouped by (length, position of the dot, sign), a handful of groups in YOLO
    files. In a group every token is a fixed-width row of bytes: its digits times powers of
    ten give the integer mantissa m (exact below 2**53, so at most 15 digits), and m / 10**f
    is one correctly rounded division: bit for bit what strtod returns.
    """
    n = len(start)
    if n == 0:
        return np.zeros(0)
    length = end - start
    if int(length.max()) > 17:
        return None
    dots = np.flatnonzero(arr == 46)
    dot_tok = np.searchsorted(start, dots, side="right") - 1
    if len(dots) and np.bincount(dot_tok, minlength=n).max() > 1:
        return None
    dot_col = np.full(n, -1, dtype=np.int64)
    dot_col[dot_tok] = dots - start[dot_tok]
    first = arr[start]
    signed = (first == 45) | (first == 43)
    key = (length * 32 + dot_col + 1) * 2 + signed
    groups = np.flatnonzero(np.bincount(key))
    if len(groups) > 64:
        return None
    out = np.empty(n)
    for g in groups.tolist():
        width, dot, sign = g // 64, (g // 2) % 32 - 1, g % 2
        digit_cols = [j for j in range(width) if j != dot and not (sign and j == 0)]
        if not digit_cols or len(digit_cols) > 15:
            return None
        rows = np.flatnonzero(key == g) if len(groups) > 1 else np.arange(n)
        chars = np.lib.stride_tricks.sliding_window_view(arr, width)[start[rows]]
        mantissa = np.zeros(len(rows), dtype=np.int64)
        for j in digit_cols:  # Horner, one column at a time: no (rows x digits) temporaries
            digit = chars[:, j] - np.uint8(48)  # wraps above 9 for anything but a digit
            if int(digit.max(initial=0)) > 9:
                return None
            mantissa *= 10
            mantissa += digit
        values = mantissa / _POW10[width - 1 - dot] if dot >= 0 else mantissa.astype(np.float64)
        if sign:
            values = np.where(chars[:, 0] == 45, -values, values)
        out[rows] = values
    return out


def parse_tokens(text: bytes, n: int) -> FloatArray | None:
    try:
        v = np.fromstring(text, sep=" ") if n else np.zeros(0)
    except ValueError:
        return None
    return v if len(v) == n else None


def _parse_slowly(
    blob: bytes, line_start: IntArray, line_end: IntArray, ncol: IntArray, file: IntArray,
    file_start: IntArray,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:  # fmt: skip
    """Some token is not a number: parse file by file, then line by line in the bad files."""
    parts: list[FloatArray] = []
    bad = np.zeros(len(ncol), dtype=bool)
    bounds = np.searchsorted(file, np.arange(len(file_start) + 1))
    for f in range(len(file_start)):
        lo, hi = int(bounds[f]), int(bounds[f + 1])
        if lo == hi:
            continue
        n = int(ncol[lo:hi].sum())
        v = parse_tokens(blob[line_start[lo] : line_end[hi - 1]], n)
        if v is not None:
            parts.append(v)
            continue
        for i in range(lo, hi):
            k = int(ncol[i])
            v = parse_tokens(blob[line_start[i] : line_end[i]], k)
            if v is None:
                bad[i] = True
                v = np.full(k, np.nan)
            parts.append(v)
    return (np.concatenate(parts) if parts else np.zeros(0)), bad

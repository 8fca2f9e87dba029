"""Benchmark: does the hand-written decimal parser pay for itself?

The YOLO reader parses its numbers with ``prelabel.formats.yolo._lines.decimal_values``:
column arithmetic over the bytes, for plain decimals only. (The CVAT reader had one too; it
saved 2-5% of a read and was removed, see docs/benchmarks.md.) When it returns None the
reader falls back to numpy's own text parser (``np.fromstring(..., sep=...)``), which
reads every number in one C pass. This script measures both ways on the bench data, in one
process (imports paid once), jobs alternating round by round:

- parser alone: the hand parser against ``np.fromstring`` on the very input the reader
  gave it (captured during one read), and whether the two results are bit for bit equal;
- whole read: ``read_yolo`` as it is, against the same call with the
  hand parser switched off (it returns None, so the reader takes its numpy fallback).

A ratio below 1 means the hand parser is faster. Usage::

    python gen_data.py medium DATA --formats yolo     # ../shared/bench/gen_data.py
    python tests/benchmarks/bench_parsers.py DATA [--runs 5]

DATA is the generator's output folder (holding yolo/).
"""

from __future__ import annotations

import gc
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from harness import alternate_calls, arg_parser, header, paired_text  # noqa: E402


@contextmanager
def _replaced(module: ModuleType, name: str, value: Callable[..., Any]) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def _captured(module: ModuleType, name: str, read: Callable[[], object]) -> tuple[Any, ...]:
    """The arguments the reader passes to ``module.name`` during one read."""
    seen: list[tuple[Any, ...]] = []
    original = getattr(module, name)

    def record(*args: Any) -> Any:
        seen.append(args)
        return original(*args)

    with _replaced(module, name, record):
        read()
    if len(seen) != 1:
        raise SystemExit(f"{module.__name__}.{name} was called {len(seen)} times, not once")
    return seen[0]


def _without(module: ModuleType, name: str, read: Callable[[], object]) -> Callable[[], object]:
    """``read`` with the hand parser declining every input (the reader's numpy fallback)."""

    def run() -> object:
        with _replaced(module, name, lambda *_args: None):
            return read()

    return run


def _same(a: np.ndarray | None, b: np.ndarray) -> str:
    if a is None:
        return "hand parser declined this input"
    return "bit for bit equal" if a.tobytes() == b.tobytes() else "DIFFERENT"


def _table(title: str, times: dict[str, list[float]], pairs: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name in times)
    for name, ts in times.items():
        print(f"{name:<{width}} {statistics.median(ts):>8.4f} s  [{min(ts):.4f}-{max(ts):.4f}]")
    for hand, numpy_job in pairs:
        ratio = paired_text(times[hand], times[numpy_job])
        print(f"{hand} / {numpy_job}: {ratio} (median [min-max] of the per-round ratios)")


def main() -> None:
    ap = arg_parser(__doc__ or "", "the generator's output folder (yolo/)")
    args = ap.parse_args()
    data: Path = args.data
    from prelabel.formats.yolo import _lines as yolo_lines
    from prelabel.formats.yolo import read_yolo

    yolo_dir = data / "yolo"

    def yolo() -> object:
        return read_yolo(yolo_dir)

    arr, tok, tok_end = _captured(yolo_lines, "decimal_values", yolo)
    blob = arr.tobytes()
    print(f"YOLO: {len(tok):,} numbers in {len(blob) / 1e6:.1f} MB of label text")
    y_hand = yolo_lines.decimal_values(arr, tok, tok_end)
    y_numpy = np.fromstring(blob, sep=" ")
    print(f"YOLO decimal_values against np.fromstring: {_same(y_hand, y_numpy)}")

    alone: dict[str, Callable[[], object]] = {
        "yolo decimal_values": lambda: yolo_lines.decimal_values(arr, tok, tok_end),
        "yolo np.fromstring": lambda: np.fromstring(blob, sep=" "),
    }
    whole: dict[str, Callable[[], object]] = {
        "read_yolo": yolo,
        "read_yolo (numpy parse)": _without(yolo_lines, "decimal_values", yolo),
    }
    header(str(data), args.runs, {**alone, **whole})
    gc.collect()
    parse_times = alternate_calls(alone, args.runs)
    _table(
        "parser alone",
        parse_times,
        [
            ("yolo decimal_values", "yolo np.fromstring"),
        ],
    )
    gc.collect()
    read_times = alternate_calls(whole, args.runs)
    _table(
        "whole read (library call)",
        read_times,
        [("read_yolo", "read_yolo (numpy parse)")],
    )
    # the whole-read ratio drowns in a loaded machine's noise; the parse time saved, as a
    # share of the read (fastest rounds of each, the least disturbed), is the steadier figure
    print("\nparse time saved per read, as a share of the read (fastest rounds)")
    for hand, numpy_job, read in [
        ("yolo decimal_values", "yolo np.fromstring", "read_yolo"),
    ]:
        saved = min(parse_times[numpy_job]) - min(parse_times[hand])
        share = saved / min(read_times[read])
        print(
            f"{read}: {saved * 1000:.0f} ms of {min(read_times[read]) * 1000:.0f} ms = {share:.1%}"
        )


if __name__ == "__main__":
    main()

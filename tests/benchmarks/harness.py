"""What the format benchmarks share: timed jobs in alternating rounds, paired ratios, a table.

A benchmark script builds its jobs (a command line per whole-process job, a callable per
in-process one), runs them with `alternate` / `alternate_calls` (one warm-up round, then
``runs`` counted rounds, A B C ... A B C ..., so a noisy machine slows every job alike) and
prints them with `summarise`; `converter_rounds` does all of that for the four jobs the
COCO and CVAT benchmarks share (floor, read, convert, globox). Ratios are paired round by round: the median of the per-round
ratios, not the ratio of the medians. Scripts import it with their own folder on ``sys.path``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

Job = TypeVar("Job")


def star_polygons(rng, n: int):  # type: ignore[no-untyped-def]
    """``n`` star-shaped polygons of 6-20 points on a 1920 x 1080 frame, as ``(points,
    offsets)`` for ``Annotations.from_runs``: K angles in order around a centre, the radius
    varied point by point (simple rings, no repair needed). Draws from ``rng`` in one order,
    so a seed gives the same polygons in every benchmark."""
    import numpy as np

    k = rng.integers(6, 21, n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(k, out=offsets[1:])
    shape_of_point = np.repeat(np.arange(n), k)
    pos = np.arange(offsets[-1]) - offsets[:-1][shape_of_point]
    angle = 2 * np.pi * (pos + rng.uniform(0.1, 0.9, offsets[-1])) / k[shape_of_point]
    radius = rng.uniform(20, 80, offsets[-1])
    centre = rng.uniform([100, 100], [1820, 980], (n, 2))[shape_of_point]
    points = centre + np.stack([np.cos(angle), np.sin(angle)], 1) * radius[:, None]
    return points, offsets


# `python -c PRELABEL_CLI ARGS...` runs `prelabel ARGS...` with this interpreter.
PRELABEL_CLI = """
import sys
from prelabel.cli import main
sys.argv[0] = "prelabel"
main()
"""

# Children that may cache bytecode (__pycache__, ignored by git) as an installed package has
# it: with PYTHONDONTWRITEBYTECODE set, every run would compile prelabel's sources (~80 ms).
BYTECODE_ENV: dict[str, str] = {
    k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"
}


def arg_parser(doc: str, data_help: str, *, peers: bool = False) -> argparse.ArgumentParser:
    """The common options: DATA, --runs, --globox-python (and --floor, --globox-script)."""
    ap = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", type=Path, help=data_help)
    ap.add_argument("--runs", type=int, default=5, help="counted rounds (after one warm-up)")
    if peers:
        ap.add_argument("--floor", type=Path, help="the benchmark's floor.py")
        ap.add_argument(
            "--globox-script", type=Path, help="the benchmark's peers/globox_convert.py"
        )
    ap.add_argument("--globox-python", default=sys.executable, help="a Python with globox")
    return ap


def input_file(data: Path, relative: str) -> Path:
    """``data / relative``, or exit saying the generator makes it."""
    path = data / relative
    if not path.is_file():
        raise SystemExit(f"need {path} (gen_data.py SIZE DATA)")
    return path


def converter_rounds(
    args: argparse.Namespace,
    fmt: str,
    src: Path,
    read: str,
    *,
    floor_mode: str,
    env: Mapping[str, str] | None = None,
) -> dict[str, list[float]]:
    """Run and print the whole-process jobs over one annotation file; their times per round.

    The jobs: floor (``floor.py FLOOR_MODE SRC OUT``, with --floor), ``read_<fmt>`` (``python
    -c READ SRC``), convert (``prelabel convert FMT SRC``) and globox (``globox_convert.py FMT
    SRC DIR``, with --globox-script); ratios are to the floor, else to ``read_<fmt>``.
    """
    with tempfile.TemporaryDirectory(prefix=f"bench_{fmt}_", ignore_cleanup_errors=True) as tmp:
        jobs = _converter_jobs(args, fmt, src, read, Path(tmp), floor_mode)
        header(f"{src} ({src.stat().st_size / 1e6:.1f} MB)", args.runs, jobs)
        if env is BYTECODE_ENV:
            print("bytecode cached by the warm-up round (as in an installed package)")
        times, rss = alternate(jobs, args.runs, env)
    base = "floor" if "floor" in jobs else f"read_{fmt}"
    summarise("whole process (start-up included)", times, rss, base)
    return times


def _converter_jobs(
    args: argparse.Namespace, fmt: str, src: Path, read: str, out: Path, floor_mode: str
) -> dict[str, list[str]]:
    py = sys.executable
    jobs: dict[str, list[str]] = {}
    if args.floor:
        jobs["floor"] = [py, str(args.floor), floor_mode, str(src), str(out / "floor.json")]
    jobs[f"read_{fmt}"] = [py, "-c", read, str(src)]
    jobs["convert"] = [
        py, "-c", PRELABEL_CLI, "convert", fmt, str(src), "-q",
        "-o", str(out / "jobs.jsonl"), "--src-prefix", "https://example.com/images/",
    ]  # fmt: skip
    if args.globox_script:
        jobs["globox"] = [
            args.globox_python, str(args.globox_script), fmt, str(src), str(out / "globox")
        ]  # fmt: skip
    return jobs


def run_process(cmd: list[str], env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process; exit with its stderr if it fails.

    ``env`` replaces the environment (None: inherit this one).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage, not all children's
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def _rounds(jobs: Mapping[str, Job], runs: int) -> Iterator[tuple[bool, str, Job]]:
    """(counted, name, job) for a warm-up round then ``runs`` counted ones, jobs alternating.

    The warm-up fills the page cache, the bytecode cache and the import caches.
    """
    for r in range(runs + 1):
        for name, job in jobs.items():
            yield r > 0, name, job


def alternate(
    jobs: Mapping[str, list[str]], runs: int, env: Mapping[str, str] | None = None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds and peak RSS (MiB) per job and counted round, each job a child process."""
    times: dict[str, list[float]] = {k: [] for k in jobs}
    rss: dict[str, list[float]] = {k: [] for k in jobs}
    for counted, name, cmd in _rounds(jobs, runs):
        wall, peak = run_process(cmd, env)
        if counted:
            times[name].append(wall)
            rss[name].append(peak)
    return times, rss


def alternate_calls(jobs: Mapping[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Wall seconds per job and counted round, each job a call in this process."""
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for counted, name, fn in _rounds(jobs, runs):
        start = time.perf_counter()
        fn()
        if counted:
            times[name].append(time.perf_counter() - start)
    return times


def paired(ts: list[float], base_ts: list[float]) -> tuple[float, float, float]:
    """Median, min and max of the per-round ratios ts / base_ts."""
    ratios = [t / b for t, b in zip(ts, base_ts, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def paired_text(ts: list[float], base_ts: list[float]) -> str:
    """`paired` as ``median [min-max]``."""
    ratio, lo, hi = paired(ts, base_ts)
    return f"{ratio:.3f} [{lo:.2f}-{hi:.2f}]"


def summarise(
    title: str, times: dict[str, list[float]], rss: dict[str, list[float]], base: str
) -> None:
    """Print a row per job: median and min-max seconds, paired ratio to ``base``, peak RSS.

    Without ``rss`` (in-process jobs) the RSS columns are left out; a job missing from it
    shows "-".
    """
    width = max(len(name) for name in [*times, "job"])
    ratio_head = f"x {base} [min-max]"
    ratio_width = max(22, len(ratio_head) + 2)
    head = f"{'job':<{width}} {'median s':>9} {'min-max s':>15} {ratio_head:>{ratio_width}}"
    rss_head = f"RSS x {base}"
    rss_width = max(12, len(rss_head) + 1)
    print(f"\n{title}")
    print(head + (f" {'peak RSS':>10} {rss_head:>{rss_width}}" if rss else ""))
    base_rss = statistics.median(rss[base]) if rss.get(base) else None
    for name, ts in times.items():
        line = (
            f"{name:<{width}} {statistics.median(ts):>9.3f} {min(ts):>7.3f}-{max(ts):<7.3f}"
            f" {paired_text(ts, times[base]):>{ratio_width}}"
        )
        if rss:
            peak = statistics.median(rss[name]) if rss.get(name) else None
            peak_text = "-" if peak is None else f"{peak:.0f} MiB"
            rss_ratio = "-" if peak is None or base_rss is None else f"{peak / base_rss:.2f}"
            line += f" {peak_text:>10} {rss_ratio:>{rss_width}}"
        print(line)


def header(data: str, runs: int, jobs: Mapping[str, object]) -> None:
    """Print what is measured: the data, the interpreter, the rounds and the jobs' order."""
    print(f"data: {data}; python {sys.version.split()[0]}")
    rounds = "round" if runs == 1 else "rounds"
    print(f"{runs} {rounds} + 1 warm-up, jobs alternating: {', '.join(jobs)}")

"""Benchmark: CVAT for images XML (``medium``: 21 MB, 10k images, 100k boxes and polygons).

Prints, for each job, the median wall time over the runs, the ratio to the floor paired run
by run (median of the per-round ratios), the peak RSS and its ratio to the floor's. Jobs
alternate inside each round (A B C ... A B C ...), so a noisy machine slows every job alike.

Whole-process jobs (a fresh interpreter each, start-up and imports included):
  floor      the benchmark floor: ``floor.py cvat XML OUT`` (ElementTree parse, numpy
             normalisation, target-shape dicts, orjson dump)
  read_cvat  prelabel.formats.cvat.read_cvat alone (pixels, no output)
  convert    ``prelabel convert cvat XML -o FILE --src-prefix ...`` (every stage + writing)
  globox     the globox peer: ``globox_convert.py cvat XML DIR`` (boxes only, YOLO output)

In-process jobs (imports paid once): read_cvat against globox's ``AnnotationSet.from_cvat``
(globox's CVAT reading alone).

Usage::

    python gen_data.py medium DATA                       # ../shared/bench/gen_data.py
    python tests/benchmarks/bench_cvat.py DATA --floor FLOOR_PY --globox-script PEER_PY

DATA is the generator's output folder (holding cvat/annotations.xml); FLOOR_PY is the
benchmark's floor.py and PEER_PY its peers/globox_convert.py (jobs without them are skipped).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

READ = """
import sys
from prelabel.formats.cvat import read_cvat
ann = read_cvat(sys.argv[1])
assert len(ann) > 0
"""

CONVERT = """
import sys
from prelabel.cli import main
sys.argv[0] = "prelabel"
main()
"""


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def summarise(
    title: str, times: dict[str, list[float]], rss: dict[str, list[float]], floor: str
) -> None:
    print(f"\n{title}")
    head = f"{'job':<12} {'median s':>9} {'min-max s':>15} {'x ' + floor:>10}"
    print(head + (f" {'peak RSS':>10} {'RSS x ' + floor:>12}" if rss else ""))
    base = times[floor]
    for job, ts in times.items():
        ratio = statistics.median(t / b for t, b in zip(ts, base))
        line = f"{job:<12} {statistics.median(ts):>9.3f} {min(ts):>7.3f}-{max(ts):<7.3f} {ratio:>10.2f}"
        if rss:
            peak = statistics.median(rss[job])
            line += f" {peak:>6.0f} MiB {peak / statistics.median(rss[floor]):>12.2f}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", type=Path, help="gen_data.py output folder (cvat/annotations.xml)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--floor", type=Path, help="the benchmark's floor.py")
    ap.add_argument("--globox-script", type=Path, help="the benchmark's peers/globox_convert.py")
    ap.add_argument("--globox-python", default=sys.executable, help="a Python with globox")
    args = ap.parse_args()
    xml = args.data / "cvat" / "annotations.xml"
    if not xml.is_file():
        raise SystemExit(f"need {xml} (gen_data.py SIZE DATA)")
    out = Path(tempfile.mkdtemp(prefix="bench_cvat_"))
    py = sys.executable
    jobs: dict[str, list[str]] = {}
    if args.floor:
        jobs["floor"] = [py, str(args.floor), "cvat", str(xml), str(out / "floor.json")]
    jobs["read_cvat"] = [py, "-c", READ, str(xml)]
    jobs["convert"] = [
        py, "-c", CONVERT, "convert", "cvat", str(xml), "-q", "-o", str(out / "jobs.jsonl"),
        "--src-prefix", "https://example.com/images/",
    ]  # fmt: skip
    if args.globox_script:
        jobs["globox"] = [
            args.globox_python,
            str(args.globox_script),
            "cvat",
            str(xml),
            str(out / "g"),
        ]
    size = xml.stat().st_size / 1e6
    print(f"data: {xml} ({size:.1f} MB); {args.runs} runs + 1 warm-up, alternating")
    times: dict[str, list[float]] = {k: [] for k in jobs}
    rss: dict[str, list[float]] = {k: [] for k in jobs}
    try:
        for r in range(args.runs + 1):
            for name, cmd in jobs.items():
                wall, peak = run_process(cmd)
                if r:  # the first round only warms the page cache
                    times[name].append(wall)
                    rss[name].append(peak)
        base = "floor" if "floor" in jobs else "read_cvat"
        summarise("whole process (start-up included)", times, rss, base)
        if "globox" in times:
            speedup = statistics.median(g / c for g, c in zip(times["globox"], times["convert"]))
            print(f"globox / convert (paired median): {speedup:.2f}x")
        in_process(xml, args.runs, args.globox_python == sys.executable)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def in_process(xml: Path, runs: int, with_globox: bool) -> None:
    from prelabel.formats.cvat import read_cvat

    jobs: dict[str, Callable[[], object]] = {"read_cvat": lambda: read_cvat(xml)}
    if with_globox:
        from globox import AnnotationSet

        jobs["globox"] = lambda: AnnotationSet.from_cvat(xml)
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for r in range(runs + 1):
        for name, fn in jobs.items():
            start = time.perf_counter()
            fn()
            if r:
                times[name].append(time.perf_counter() - start)
    summarise("in process (imports paid once)", times, {}, "read_cvat")


if __name__ == "__main__":
    main()

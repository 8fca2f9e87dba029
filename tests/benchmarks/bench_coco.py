"""Benchmark: COCO instances (``medium``: 23 MB, 10k images, 100k boxes and polygons).

Whole-process jobs (a fresh interpreter each, start-up and imports included), run in rounds
that alternate the jobs (A B C D A B C D ...) so a noisy machine slows every job alike:

  floor      ``floor.py convert COCO OUT``: orjson load, numpy normalisation, target-shape
             dicts, orjson dump (the benchmark's floor)
  read_coco  ``prelabel.formats.coco.read_coco`` alone (pixels, no output)
  convert    ``prelabel convert coco COCO -o FILE --src-prefix URL`` (every stage + writing)
  globox     ``globox_convert.py coco COCO DIR`` (COCO -> YOLO, boxes only)

Printed: median wall time, min-max, the ratio to the floor paired round by round (median of
the per-round ratios), peak RSS; then convert / globox paired the same way. In process
(imports paid once): ``load_json`` alone against ``read_coco``, to show what the reader adds
to parsing the file.

Usage::

    python gen_data.py medium DATA                      # ../shared/bench/gen_data.py
    python tests/benchmarks/bench_coco.py DATA --floor FLOOR_PY \\
        --globox-script PEER_PY [--globox-python PY] [--runs 5]

DATA is the generator's output folder (with coco/instances.json); FLOOR_PY is the
benchmark's floor.py and PEER_PY its peers/globox_convert.py (jobs without them are skipped).
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READ = """
import sys
from prelabel.formats.coco import read_coco
assert len(read_coco(sys.argv[1])) > 0
"""

CONVERT = """
import sys
from prelabel.cli import main
sys.argv[0] = "prelabel"
main()
"""


# Children may cache bytecode (__pycache__, ignored by git) as an installed package has it:
# with PYTHONDONTWRITEBYTECODE set, every run would compile prelabel's sources again (~80 ms).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Median, min and max of the per-round ratios a / b."""
    ratios = [x / y for x, y in zip(a, b)]
    return statistics.median(ratios), min(ratios), max(ratios)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", type=Path, help="gen_data.py output folder (coco/instances.json)")
    ap.add_argument("--runs", type=int, default=5, help="counted rounds (after one warm-up)")
    ap.add_argument("--floor", type=Path, help="the benchmark's floor.py")
    ap.add_argument("--globox-script", type=Path, help="the benchmark's peers/globox_convert.py")
    ap.add_argument("--globox-python", default=sys.executable, help="a Python with globox")
    args = ap.parse_args()
    src = args.data / "coco" / "instances.json"
    if not src.is_file():
        raise SystemExit(f"need {src} (gen_data.py SIZE DATA)")
    out = Path(tempfile.mkdtemp(prefix="bench_coco_"))
    py = sys.executable
    jobs: dict[str, list[str]] = {}
    if args.floor:
        jobs["floor"] = [py, str(args.floor), "convert", str(src), str(out / "floor.json")]
    jobs["read_coco"] = [py, "-c", READ, str(src)]
    jobs["convert"] = [
        py, "-c", CONVERT, "convert", "coco", str(src), "-q", "-o", str(out / "jobs.jsonl"),
        "--src-prefix", "https://example.com/images/",
    ]  # fmt: skip
    if args.globox_script:
        jobs["globox"] = [
            args.globox_python, str(args.globox_script), "coco", str(src), str(out / "globox")
        ]  # fmt: skip
    print(f"data: {src} ({src.stat().st_size / 1e6:.1f} MB), python {sys.version.split()[0]}")
    print(f"{args.runs} rounds + 1 warm-up, jobs alternating: {', '.join(jobs)}")
    print("bytecode cached by the warm-up round (as in an installed package)")
    times: dict[str, list[float]] = {k: [] for k in jobs}
    rss: dict[str, list[float]] = {k: [] for k in jobs}
    try:
        for r in range(args.runs + 1):
            for name, cmd in jobs.items():
                wall, peak = run_process(cmd)
                if r:  # round 0 warms the page cache and the import caches
                    times[name].append(wall)
                    rss[name].append(peak)
        base = "floor" if "floor" in jobs else "read_coco"
        print("\nwhole process (start-up included)")
        print(f"{'job':<10} {'median s':>9} {'min-max s':>15} {'x ' + base + ' [min-max]':>22} {'peak RSS':>10}")  # fmt: skip
        for name, ts in times.items():
            ratio, lo, hi = paired(ts, times[base])
            print(
                f"{name:<10} {statistics.median(ts):>9.3f} {min(ts):>7.3f}-{max(ts):<7.3f}"
                f" {ratio:>8.3f} [{lo:.2f}-{hi:.2f}]      {statistics.median(rss[name]):>6.0f} MiB"
            )
        if "globox" in times:
            ratio, lo, hi = paired(times["convert"], times["globox"])
            print(f"convert / globox (paired): {ratio:.3f} [{lo:.2f}-{hi:.2f}]")
        in_process(src, args.runs)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _parsed(data: object, _path: object) -> object:
    return data


def in_process(src: Path, runs: int) -> None:
    import gc

    from prelabel.formats import coco
    from prelabel.jsonio import load_json

    loads, reads = [], []
    for r in range(runs + 1):
        gc.collect()
        start = time.perf_counter()
        with coco._collector_paused():  # as read_coco parses it
            data = load_json(src)
        mid = time.perf_counter()
        original = coco.load_json
        coco.load_json = functools.partial(_parsed, data)  # the reader's work on parsed JSON
        try:
            coco.read_coco(src)
        finally:
            coco.load_json = original
        end = time.perf_counter()
        if r:
            loads.append(mid - start)
            reads.append(end - mid)
    print("\nin process (imports paid once)")
    print(f"load_json            {statistics.median(loads):.3f} s (median)")
    print(f"read_coco after load {statistics.median(reads):.3f} s (median)")


if __name__ == "__main__":
    main()

"""Benchmark: reading a YOLO data set (10k small label files at ``medium``).

Prints, for each job, the median wall time over the runs, the ratio to the floor paired run
by run (median of the per-round ratios) and the peak RSS. Jobs alternate inside each round
(A B C ... A B C ...), so a noisy machine slows every job alike.

Whole-process jobs (a fresh interpreter each, start-up and imports included):
  floor          a plain Python loop: list the label files, open each, split its lines
  import         `import prelabel.formats.yolo` alone (interpreter + package start-up)
  floor+images   the same, plus opening every image and reading its first 4 KiB
                 (the least work that learns the image sizes)
  read_yolo      prelabel.formats.yolo.read_yolo on the labels alone (normalised)
  read_yolo+img  read_yolo with image_dir: sizes from every image header, pixel output
  convert        `prelabel convert yolo ... -o FILE` (labels alone; all stages + writing)
  convert+img    the same with --image-dir
  globox         globox.AnnotationSet.from_yolo_v5(labels, image_folder=images) (it needs
                 the images for their sizes)

In-process jobs (one interpreter, imports paid once): floor, floor+images, read_yolo,
read_yolo+img and globox again, timed with perf_counter.

Usage::

    python gen_data.py medium DATA                       # ../shared/bench/gen_data.py
    python gen_data.py medium DATA --images --formats none
    python tests/benchmarks/bench_yolo.py DATA [--runs 5] [--globox-python PY]

DATA is the generator's output folder (holding yolo/ and images/).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FLOOR = """
import glob, os, sys
n = 0
for p in sorted(glob.glob(os.path.join(sys.argv[1], "*.txt"))):
    with open(p) as f:
        for line in f:
            n += len(line.split())
"""

FLOOR_IMAGES = (
    FLOOR
    + """
for p in sorted(glob.glob(os.path.join(sys.argv[2], "*.jpg"))):
    with open(p, "rb") as f:
        f.read(4096)
"""
)

READ = """
import sys
from prelabel.formats.yolo import read_yolo
ann = read_yolo(sys.argv[1], image_dir=sys.argv[2] if len(sys.argv) > 2 else None)
assert len(ann) > 0
"""

GLOBOX = """
import sys
from globox import AnnotationSet
s = AnnotationSet.from_yolo_v5(sys.argv[1], image_folder=sys.argv[2])
assert len(s) > 0
"""


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def summarise(
    title: str, times: dict[str, list[float]], rss: dict[str, list[float]], floor: str
) -> None:
    print(f"\n{title}")
    print(f"{'job':<16} {'median s':>9} {'min-max s':>15} {'x ' + floor:>14} {'peak RSS':>10}")
    base = times[floor]
    for job, ts in times.items():
        ratios = [t / b for t, b in zip(ts, base)]
        peak = f"{statistics.median(rss[job]):.0f} MiB" if rss.get(job) else "-"
        print(
            f"{job:<16} {statistics.median(ts):>9.3f} {min(ts):>7.3f}-{max(ts):<7.3f}"
            f" {statistics.median(ratios):>14.2f} {peak:>10}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", type=Path, help="gen_data.py output folder (yolo/, images/)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--globox-python", default=sys.executable, help="a Python with globox")
    ap.add_argument(
        "--prelabel",
        default=str(Path(sys.executable).with_name("prelabel")),
        help="the prelabel command",
    )
    args = ap.parse_args()
    yolo = args.data / "yolo"
    labels = yolo / "labels"
    images = args.data / "images"
    if not labels.is_dir() or not images.is_dir():
        raise SystemExit(f"need {labels} and {images} (gen_data.py ... and --images)")
    n_files = sum(1 for _ in labels.glob("*.txt"))
    out_dir = Path(tempfile.mkdtemp(prefix="bench_yolo_"))
    py = sys.executable
    convert = [args.prelabel, "convert", "yolo", str(yolo), "--src-prefix", "https://example.com/"]
    jobs: dict[str, list[str]] = {
        "floor": [py, "-c", FLOOR, str(labels)],
        "floor+images": [py, "-c", FLOOR_IMAGES, str(labels), str(images)],
        "import": [py, "-c", "import prelabel.formats.yolo"],
        "read_yolo": [py, "-c", READ, str(yolo)],
        "read_yolo+img": [py, "-c", READ, str(yolo), str(images)],
        "convert": [*convert, "-q", "-o", str(out_dir / "a.jsonl")],
        "convert+img": [*convert, "--image-dir", str(images), "-q", "-o", str(out_dir / "b.jsonl")],
        "globox": [args.globox_python, "-c", GLOBOX, str(labels), str(images)],
    }
    print(f"data: {args.data} ({n_files:,} label files); {args.runs} runs + 1 warm-up, alternating")
    times: dict[str, list[float]] = {k: [] for k in jobs}
    rss: dict[str, list[float]] = {k: [] for k in jobs}
    try:
        for r in range(args.runs + 1):
            for name, cmd in jobs.items():
                wall, peak = run_process(cmd)
                if r:  # the first round only warms the page cache
                    times[name].append(wall)
                    rss[name].append(peak)
        summarise("whole process (start-up included)", times, rss, "floor")
        in_process(labels, yolo, images, args.runs, args.globox_python == sys.executable)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def in_process(labels: Path, yolo: Path, images: Path, runs: int, with_globox: bool) -> None:
    import glob

    from prelabel.formats.yolo import read_yolo

    def floor() -> None:
        n = 0
        for p in sorted(glob.glob(os.path.join(labels, "*.txt"))):
            with open(p) as f:
                for line in f:
                    n += len(line.split())

    def floor_images() -> None:
        floor()
        for p in sorted(glob.glob(os.path.join(images, "*.jpg"))):
            with open(p, "rb") as f:
                f.read(4096)

    jobs: dict[str, Callable[[], object]] = {
        "floor": floor,
        "floor+images": floor_images,
        "read_yolo": lambda: read_yolo(yolo),
        "read_yolo+img": lambda: read_yolo(yolo, image_dir=images),
    }
    if with_globox:
        from globox import AnnotationSet

        jobs["globox"] = lambda: AnnotationSet.from_yolo_v5(labels, image_folder=images)
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for r in range(runs + 1):
        for name, fn in jobs.items():
            start = time.perf_counter()
            fn()
            if r:
                times[name].append(time.perf_counter() - start)
    summarise("in process (imports paid once)", times, {}, "floor")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the in-process runs together: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

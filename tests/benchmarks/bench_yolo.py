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

import os
import resource
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

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
from prelabel.gcpause import paused_gc
with paused_gc():  # as the CLI runs it (the reader leaves the collector alone)
    ann = read_yolo(sys.argv[1], image_dir=sys.argv[2] if len(sys.argv) > 2 else None)
assert len(ann) > 0
"""

GLOBOX = """
import sys
from globox import AnnotationSet
s = AnnotationSet.from_yolo_v5(sys.argv[1], image_folder=sys.argv[2])
assert len(s) > 0
"""


def main() -> None:
    ap = harness.arg_parser(__doc__, "gen_data.py output folder (yolo/, images/)")
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
    py = sys.executable
    convert = [args.prelabel, "convert", "yolo", str(yolo), "--src-prefix", "https://example.com/"]
    with tempfile.TemporaryDirectory(prefix="bench_yolo_", ignore_cleanup_errors=True) as tmp:
        out = Path(tmp)
        jobs: dict[str, list[str]] = {
            "floor": [py, "-c", FLOOR, str(labels)],
            "floor+images": [py, "-c", FLOOR_IMAGES, str(labels), str(images)],
            "import": [py, "-c", "import prelabel.formats.yolo"],
            "read_yolo": [py, "-c", READ, str(yolo)],
            "read_yolo+img": [py, "-c", READ, str(yolo), str(images)],
            "convert": [*convert, "-q", "-o", str(out / "a.jsonl")],
            "convert+img": [*convert, "--image-dir", str(images), "-q", "-o", str(out / "b.jsonl")],
            "globox": [args.globox_python, "-c", GLOBOX, str(labels), str(images)],
        }
        harness.header(f"{args.data} ({n_files:,} label files)", args.runs, jobs)
        times, rss = harness.alternate(jobs, args.runs)
    harness.summarise("whole process (start-up included)", times, rss, "floor")
    in_process(labels, yolo, images, args.runs, args.globox_python == sys.executable)


def in_process(labels: Path, yolo: Path, images: Path, runs: int, with_globox: bool) -> None:
    import glob

    from prelabel.formats.yolo import read_yolo
    from prelabel.gcpause import paused_gc

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

    def paused(read: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            with paused_gc():  # as the CLI runs a read
                return read()

        return run

    jobs: dict[str, Callable[[], object]] = {
        "floor": floor,
        "floor+images": floor_images,
        "read_yolo": paused(lambda: read_yolo(yolo)),
        "read_yolo+img": paused(lambda: read_yolo(yolo, image_dir=images)),
    }
    if with_globox:
        from globox import AnnotationSet

        jobs["globox"] = lambda: AnnotationSet.from_yolo_v5(labels, image_folder=images)
    harness.summarise(
        "in process (imports paid once)", harness.alternate_calls(jobs, runs), {}, "floor"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the in-process runs together: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

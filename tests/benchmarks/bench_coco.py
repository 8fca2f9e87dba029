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

import functools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

READ = """
import sys
from prelabel.formats.coco import read_coco
from prelabel.gcpause import paused_gc
with paused_gc():  # as the CLI runs it (the reader leaves the collector alone)
    assert len(read_coco(sys.argv[1])) > 0
"""


def main() -> None:
    args = harness.arg_parser(
        __doc__, "gen_data.py output folder (coco/instances.json)", peers=True
    ).parse_args()
    src = harness.input_file(args.data, "coco/instances.json")
    times = harness.converter_rounds(
        args, "coco", src, READ, floor_mode="convert", env=harness.BYTECODE_ENV
    )
    if "globox" in times:
        ratio = harness.paired_text(times["convert"], times["globox"])
        print(f"convert / globox (paired): {ratio}")
    in_process(src, args.runs)


def _parsed(data: object, _path: object) -> object:
    return data


def in_process(src: Path, runs: int) -> None:
    import gc

    from prelabel.formats import coco
    from prelabel.gcpause import paused_gc
    from prelabel.jsonio import load_json

    loads, reads = [], []
    for r in range(runs + 1):
        gc.collect()
        start = time.perf_counter()
        with paused_gc():  # as the CLI runs the read
            data = load_json(src)
        mid = time.perf_counter()
        original = coco.load_json
        coco.load_json = functools.partial(_parsed, data)  # the reader's work on parsed JSON
        try:
            with paused_gc():
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

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

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

READ = """
import sys
from prelabel.formats.cvat import read_cvat
ann = read_cvat(sys.argv[1])
assert len(ann) > 0
"""


def main() -> None:
    args = harness.arg_parser(
        __doc__, "gen_data.py output folder (cvat/annotations.xml)", peers=True
    ).parse_args()
    xml = harness.input_file(args.data, "cvat/annotations.xml")
    times = harness.converter_rounds(args, "cvat", xml, READ, floor_mode="cvat")
    if "globox" in times:
        ratio = harness.paired_text(times["globox"], times["convert"])
        print(f"globox / convert (paired): {ratio}")
    in_process(xml, args.runs, args.globox_python == sys.executable)


def in_process(xml: Path, runs: int, with_globox: bool) -> None:
    from prelabel.formats.cvat import read_cvat

    jobs: dict[str, Callable[[], object]] = {"read_cvat": lambda: read_cvat(xml)}
    if with_globox:
        from globox import AnnotationSet

        jobs["globox"] = lambda: AnnotationSet.from_cvat(xml)
    harness.summarise(
        "in process (imports paid once)", harness.alternate_calls(jobs, runs), {}, "read_cvat"
    )


if __name__ == "__main__":
    main()

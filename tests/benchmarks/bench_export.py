"""Export throughput (shapes/s) on the shared bench's data: payload -> COCO, YOLO, CVAT.

The payload is made once from DATA's COCO file (gen_data.py: 10k images, 100k shapes, half
boxes and half polygons for medium) with the library's ``convert``, one job per image size
(a CVAT video task has one size), and its sizes sidecar; not timed. Then, in this process,
in alternating rounds (one warm-up, then ``--runs`` counted):

- ``read``: ``pixel_jobs`` alone (the payload parsed, sizes applied, back to pixels): the
  floor every export starts from;
- ``coco``, ``yolo``, ``cvat``: the whole export to a temporary folder (``read`` included);
- ``coco-write``, ``yolo-write``, ``cvat-write``: the same from the jobs already read (held in
  memory, read once before the rounds): the writers alone.

The garbage collector is paused around each call, as the CLI does.

    python ../shared/bench/gen_data.py medium /tmp/bench/data/medium
    python tests/benchmarks/bench_export.py /tmp/bench/data/medium --runs 3
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import alternate_calls, arg_parser, input_file, summarise  # noqa: E402

from prelabel import FrameOptions, convert, read_coco  # noqa: E402
from prelabel.export._input import pixel_jobs  # noqa: E402
from prelabel.export.coco import export_coco  # noqa: E402
from prelabel.export.cvat import export_cvat  # noqa: E402
from prelabel.export.yolo import export_yolo  # noqa: E402
from prelabel.gcpause import paused_gc  # noqa: E402


def main() -> None:
    ap = arg_parser(__doc__ or "", "gen_data.py output folder (needs coco/instances.json)")
    args = ap.parse_args()
    src = input_file(args.data, "coco/instances.json")
    with tempfile.TemporaryDirectory(prefix="bench_export_") as tmp:
        out = Path(tmp)
        jobs = out / "jobs.jsonl"
        with paused_gc():
            ann = read_coco(src)
            f = ann.frames
            seq = np.asarray(
                [f"res{int(w)}x{int(h)}" for w, h in zip(f.width, f.height, strict=True)],
                dtype=object,
            )
            ann = replace(ann, frames=replace(f, sequence=seq))
            made = convert(ann, jobs, frames=FrameOptions(src_prefix="https://img.example.com/"))
        shapes = made.shapes
        print(f"payload: {jobs.stat().st_size / 1e6:.1f} MB, {made.jobs} jobs, "
              f"{made.frames:,} frames, {shapes:,} shapes")  # fmt: skip

        def read() -> None:
            with paused_gc():
                for _ in pixel_jobs(jobs):
                    pass

        def run(fn, target):  # type: ignore[no-untyped-def]
            def call() -> None:
                with paused_gc():
                    fn(jobs, out / target)

            return call

        with paused_gc():
            held = list(pixel_jobs(jobs))

        def write(fn, target):  # type: ignore[no-untyped-def]
            def call() -> None:
                with paused_gc():
                    fn(held, out / target)

            return call

        calls = {
            "read": read,
            "coco": run(export_coco, "x.json"),
            "yolo": run(export_yolo, "yolo"),
            "cvat": run(export_cvat, "cvat"),
            "coco-write": write(export_coco, "x2.json"),
            "yolo-write": write(export_yolo, "yolo2"),
            "cvat-write": write(export_cvat, "cvat2"),
        }
        times = alternate_calls(calls, args.runs)
    summarise(f"export, {shapes:,} shapes ({args.runs} rounds)", times, {}, "read")
    print()
    for name, ts in times.items():
        print(f"{name:>10}: {shapes / statistics.median(ts):,.0f} shapes/s")


if __name__ == "__main__":
    main()

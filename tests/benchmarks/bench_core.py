"""Benchmark of the core pipeline from numpy arrays: normalise + check + trackers + JSON Lines.

N shapes over 10k frames (1920x1080), half rectangles and half polygons of 6-20 points, built
with the library's constructors as inference code would. For each size, in one child process
(so peak RSS is that size's own):

- ``pipeline``: ``prepare`` (normalise, check, repair) + ``job_lines`` + writing the file;
- ``orjson``: ``orjson.dumps`` of the finished payload objects (the same jobs as dicts, built
  beforehand and not timed), one line each, to a file: the serialisation floor.

The ratio pipeline / orjson is the figure the target is about (<= 2.0x at 1M shapes).

    python tests/benchmarks/bench_core.py                # 100k and 1M shapes, 3 runs each
    python tests/benchmarks/bench_core.py --shapes 100000 --runs 5
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import star_polygons  # noqa: E402

FRAMES = 10_000


def make_annotations(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    from prelabel import Annotations, Frames

    rng = np.random.default_rng(seed)
    frames = Frames.build(
        1920,
        1080,
        frame_id=[f"frame_{i:06d}" for i in range(FRAMES)],
        src=[f"https://images.example.com/seq/{i:06d}.jpg" for i in range(FRAMES)],
        sequence=[f"seq{i // 1000:02d}" for i in range(FRAMES)],
        index=np.arange(FRAMES) % 1000,
    )
    n_box = n // 2
    n_poly = n - n_box
    names = ["car", "person", "bicycle", "sign", "truck"]
    xy = rng.uniform([0, 0], [1700, 900], (n_box, 2))
    wh = rng.uniform(10, 200, (n_box, 2))
    boxes = Annotations.from_boxes(
        frames,
        np.hstack([xy, xy + wh]),
        rng.integers(0, 5, n_box),
        rng.integers(0, FRAMES, n_box),
        names=names,
        score=rng.uniform(0, 1, n_box),
    )
    # star-shaped polygons: K angles sorted, radius varied, around a centre
    pts, offsets = star_polygons(rng, n_poly)
    polys = Annotations.from_runs(
        frames,
        1,
        pts,
        offsets,
        rng.integers(0, 5, n_poly),
        rng.integers(0, FRAMES, n_poly),
        names=names,
    )
    return boxes + polys


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(n: int, out_dir: str) -> dict[str, float]:
    from prelabel import JobOptions, prepare, write_jsonl
    from prelabel.jobs import job_chunks

    ann = make_annotations(n)
    t0 = time.perf_counter()
    ready, report = prepare(ann, "repair")
    count = write_jsonl(
        os.path.join(out_dir, "jobs.jsonl"), job_chunks(ready, JobOptions(workflow_id="wf"))
    )
    pipeline = time.perf_counter() - t0
    peak_pipeline = _peak_mib()
    # the same payloads as Python objects, then orjson alone
    with open(os.path.join(out_dir, "jobs.jsonl"), "rb") as f:
        jobs = [orjson.loads(line) for line in f]
    gc.collect()
    t0 = time.perf_counter()
    with open(os.path.join(out_dir, "orjson.jsonl"), "wb") as f:
        for job in jobs:
            f.write(orjson.dumps(job))
            f.write(b"\n")
    serialise = time.perf_counter() - t0
    out = Path(out_dir)
    same = (out / "jobs.jsonl").read_bytes() == (out / "orjson.jsonl").read_bytes()
    return {
        "shapes": n,
        "jobs": count,
        "pipeline_s": pipeline,
        "orjson_s": serialise,
        "peak_mib_pipeline": peak_pipeline,
        "report_rows": len(report),
        "identical_bytes": same,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shapes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as d:
            print(json.dumps(child(args.child, d)))
        return
    print(
        "| shapes | pipeline (median) | shapes/s | orjson alone | pipeline / orjson | peak RSS | runs |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in args.shapes:
        rows = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n)],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout))
        pipe = statistics.median(r["pipeline_s"] for r in rows)
        ser = statistics.median(r["orjson_s"] for r in rows)
        ratio = statistics.median(r["pipeline_s"] / r["orjson_s"] for r in rows)
        peak = statistics.median(r["peak_mib_pipeline"] for r in rows)
        assert all(r["identical_bytes"] for r in rows), "builder bytes differ from orjson's"
        print(
            f"| {n:,} | {pipe:.2f} s | {n / pipe:,.0f} | {ser:.2f} s | {ratio:.2f}x | {peak:,.0f} MiB | {args.runs} |"
        )


if __name__ == "__main__":
    main()

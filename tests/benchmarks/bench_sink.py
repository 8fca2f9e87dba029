"""Benchmark of the streaming JobSink against the batch path, on a simulated tracking video.

A video of 1920x1080 frames with 10 boxes each, every box on a track (a track lives 300
frames, the ten of them staggered, so ids keep changing and tracks cross every job
boundary). For each length, in its own child process (so each peak RSS is that run's own):

- ``sink``: the inference loop a user writes, frame by frame: the frame's boxes as a
  one-frame ``Annotations.from_boxes`` (what an adapter builds), then ``sink.append``; a
  job every ``--frames-per-job`` frames. The two are timed apart (the arrays of each frame,
  the model's output, are made outside the clock); ``append`` includes finishing, checking,
  building and writing every job.
- ``batch``: the same boxes for every frame at once as one table, then ``prelabel.convert``
  with the same job options (the table's construction timed apart from ``convert``).

Each child prints the sha256 of the file it wrote: the two must be the same bytes. The
sink's peak RSS must not depend on the video's length (within 10% at 20k and 200k frames).

    python tests/benchmarks/bench_sink.py                       # 20k and 200k frames
    python tests/benchmarks/bench_sink.py --frames 20000 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BOXES = 10  # per frame, one per track slot
LIFE = 300  # frames a track lives
W, H = 1920, 1080
NAMES = ["car", "person", "bicycle"]


def boxes(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For frames ``frame`` (an int array), their boxes: xyxy (len*10, 4), the frame of each,
    its track id and its class. Slot ``s`` holds one track at a time; a new track (a new id)
    starts every LIFE frames, slot ``s`` shifted by ``s * LIFE / 10``; a box drifts across its
    part of the frame and grows a little."""
    f = np.repeat(frame, BOXES)
    slot = np.tile(np.arange(BOXES), len(frame))
    age = (f + slot * (LIFE // BOXES)) % LIFE
    life = (f + slot * (LIFE // BOXES)) // LIFE
    track = life * BOXES + slot
    x0 = 40.0 + slot * 180 + age * 0.4
    y0 = 60.0 + (track % 7) * 120 + age * 0.2
    size = 40.0 + (track % 5) * 10 + age * 0.05
    xyxy = np.stack([x0, y0, x0 + size, y0 + size * 1.5], axis=1)
    return xyxy, f, track, track % len(NAMES)


def frame_id(i: int) -> str:
    return f"frame_{i:06d}"


def src(i: int) -> str:
    return f"s3://bucket/cam1/{i + 1:06d}.jpg"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def child_sink(n: int, fpj: int, out: Path) -> dict[str, Any]:
    from prelabel import Annotations, Frames, JobSink

    frames = Frames.build(W, H)
    building = appending = 0.0
    clock = time.perf_counter
    with JobSink(out, frames_per_job=fpj, sequence="cam1", workflow_id="wf") as sink:
        for i in range(n):
            xyxy, _, track, cls = boxes(np.array([i]))  # the model's output: not timed
            t0 = clock()
            ann = Annotations.from_boxes(frames, xyxy, cls, 0, names=NAMES, track=track)
            t1 = clock()
            sink.append(ann, frame_id=frame_id(i), src=src(i))
            t2 = clock()
            building += t1 - t0
            appending += t2 - t1
        t0 = clock()
    appending += clock() - t0  # the last job, written when the block ends
    return {
        "seconds": building + appending,
        "build_s": building,
        "append_s": appending,
        "jobs": sink.jobs,
        "report_rows": len(sink.report),
        "peak_mib": _peak_mib(),
        "sha256": _sha(out),
    }


def child_batch(n: int, fpj: int, out: Path) -> dict[str, Any]:
    import prelabel
    from prelabel import Annotations, Frames, JobOptions

    start = time.perf_counter()
    frames = Frames.build(
        W, H, frame_id=[frame_id(i) for i in range(n)], src=[src(i) for i in range(n)],
        sequence="cam1",
    )  # fmt: skip
    xyxy, f, track, cls = boxes(np.arange(n))
    ann = Annotations.from_boxes(frames, xyxy, cls, f, names=NAMES, track=track)
    built = time.perf_counter() - start
    t = time.perf_counter()
    result = prelabel.convert(
        ann, out, jobs=JobOptions(frames_per_job=fpj, workflow_id="wf"), default_sequence="cam1"
    )
    converting = time.perf_counter() - t
    return {
        "seconds": built + converting,
        "build_s": built,
        "convert_s": converting,
        "jobs": result.jobs,
        "report_rows": len(result.report),
        "peak_mib": _peak_mib(),
        "sha256": _sha(out),
    }


def run_child(kind: str, n: int, fpj: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_sink_") as tmp:
        cmd = [sys.executable, __file__, "--child", kind, str(n), str(fpj), tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{kind} {n} failed:\n{proc.stderr}")
        return dict(json.loads(proc.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--frames", type=int, nargs="*", default=[20_000, 200_000])
    ap.add_argument("--frames-per-job", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=1, help="child processes per length and path")
    ap.add_argument("--no-batch", action="store_true", help="the sink only")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, n, fpj, tmp = args.child
        fn = child_sink if kind == "sink" else child_batch
        print(json.dumps(fn(int(n), int(fpj), Path(tmp) / "jobs.jsonl")))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {BOXES} boxes/frame,"
          f" {args.frames_per_job} frames/job, median of {args.runs} run(s)")  # fmt: skip
    print(
        "| frames | sink s (from_boxes + append) | sink frames/s | append alone, frames/s "
        "| sink peak RSS | batch s (build + convert) | batch frames/s | batch peak RSS "
        "| same bytes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    peaks = []
    ratios = []
    for n in args.frames:
        # rounds alternate sink, batch, sink, batch ...: a noisy machine slows both alike
        sink: list[dict[str, Any]] = []
        batch: list[dict[str, Any]] = []
        for _ in range(args.runs):
            sink.append(run_child("sink", n, args.frames_per_job))
            if not args.no_batch:
                batch.append(run_child("batch", n, args.frames_per_job))
        s = statistics.median(r["seconds"] for r in sink)
        sb = statistics.median(r["build_s"] for r in sink)
        a = statistics.median(r["append_s"] for r in sink)
        p = statistics.median(r["peak_mib"] for r in sink)
        peaks.append(p)
        row = (
            f"| {n:,} | {s:.1f} ({sb:.1f} + {a:.1f}) | {n / s:,.0f} | {n / a:,.0f} | {p:,.0f} MiB |"
        )
        if args.no_batch:
            print(row + " - | - | - | - |")
            continue
        b = statistics.median(r["seconds"] for r in batch)
        bb = statistics.median(r["build_s"] for r in batch)
        bc = statistics.median(r["convert_s"] for r in batch)
        bp = statistics.median(r["peak_mib"] for r in batch)
        same = {r["sha256"] for r in sink} == {r["sha256"] for r in batch}
        jobs = {r["jobs"] for r in sink + batch}
        ratios.append(
            (
                n,
                statistics.median(
                    x["append_s"] / y["convert_s"] for x, y in zip(sink, batch, strict=True)
                ),
            )
        )
        print(
            f"{row} {b:.1f} ({bb:.1f} + {bc:.1f}) | {n / b:,.0f} | {bp:,.0f} MiB |"
            f" {'yes' if same else 'NO'} ({', '.join(map(str, sorted(jobs)))} jobs) |"
        )
    for n, ratio in ratios:
        print(f"\n{n:,} frames: append / convert, paired by round: {ratio:.2f}x")
    if len(peaks) > 1:
        spread = max(peaks) / min(peaks) - 1
        print(f"\nsink peak RSS: {', '.join(f'{x:,.0f}' for x in peaks)} MiB; spread {spread:.1%}")


if __name__ == "__main__":
    main()

"""Benchmark of compare on one crowded frame: N shapes of one label, no _ids kept.

Every pre-label shape could in principle be matched to every final shape of its frame and
label (N x N candidate pairs: 25M at N = 5,000). Compare builds only the pairs whose boxes
can overlap (an STRtree query for large groups) and solves the assignment per connected
component of the candidate graph. Printed per N and kind: the candidate pairs, the wall and
CPU seconds of ``compare_annotations`` (median of ``--runs``), and the counts.

    python tests/benchmarks/bench_compare_crowd.py --sizes 1000 5000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.compare import compare_annotations


def crowd(n: int, kind: Kind, seed: int) -> tuple[Annotations, Annotations]:
    """N small shapes scattered over one frame, and the same nudged by up to 10%."""
    rng = np.random.default_rng(seed)
    frames = Frames.build(1, 1, frame_id=["f1"], src=["s3://b/f1.jpg"])
    side = 0.6 / np.sqrt(n)  # they touch and overlap a little, as a crowd does
    lo = rng.uniform(0, 1 - side, (n, 2))
    nudge = rng.uniform(-0.1, 0.1, (n, 2)) * side
    labels, frame = ["person"] * n, [0] * n
    if kind == Kind.RECTANGLE:
        pre = np.column_stack([lo, lo + side])
        fin = np.clip(pre + np.tile(nudge, 2), 0, 1)
        make = Annotations.from_boxes
        return (
            make(frames, pre, labels, frame, normalized=True),
            make(frames, fin, labels, frame, normalized=True),
        )
    ring = np.array([[0, 0], [1, 0], [1, 1], [0.5, 1.3], [0, 1]]) * side * 0.7
    pts = [lo[i] + ring for i in range(n)]
    moved = [np.clip(p + nudge[i], 0, 1) for i, p in enumerate(pts)]
    make_p = Annotations.from_point_lists
    return (
        make_p(frames, kind, pts, labels, frame, normalized=True),
        make_p(frames, kind, moved, labels, frame, normalized=True),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--kinds", nargs="+", default=["rectangle", "polygon", "landmark"])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    for n in args.sizes:
        for name in args.kinds:
            kind = next(k for k in Kind if k.type_name == name)
            pre, fin = crowd(n, kind, seed=n)
            walls, cpus = [], []
            for _ in range(args.runs):
                w, c = time.perf_counter(), time.process_time()
                job = compare_annotations(pre, fin)
                walls.append(time.perf_counter() - w)
                cpus.append(time.process_time() - c)
            t = job.table.total()
            print(
                f"N={n:>6,} {name:<9} wall {statistics.median(walls):7.3f} s  "
                f"cpu {statistics.median(cpus):7.3f} s  kept {t['unchanged'] + t['moved']:,} "
                f"deleted {t['deleted']:,} added {t['added']:,}",
                flush=True,
            )


if __name__ == "__main__":
    main()

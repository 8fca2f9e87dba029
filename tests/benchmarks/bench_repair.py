"""Benchmark of the self-intersection repair: one polygon per child process, ``prepare`` timed.

Each row builds one self-intersecting polygon in a 1000 x 1000 frame and runs
``prepare(ann, "repair")`` on it in a fresh child process, so the peak RSS is that shape's
own. Printed per row: the crossings the repair's budget counted (capped: ">" when the count
stopped), what became of the shape (repaired by linework or structure, or dropped), the
seconds of ``prepare`` and the child's peak RSS (and its growth over the RSS before
``prepare``).

Families of rings:

- ``random``: vertices uniform over the frame in random order (about n * n / 10 crossings);
- ``twist``: a circle with one pair of neighbouring vertices swapped (one bow-tie crossing);
- ``tangle``: a circle with 200 consecutive vertices scattered in a 100-pixel box (~4,500
  crossings, under the budget's cap);
- ``zigzag``: a valid ring of parallel diagonals up and down across the frame: no crossing,
  but every edge's box overlaps nearly every other's (n * n / 2 pairs to test).

``--before`` runs the same rows with the budget switched off (every ring through linework, as
prelabel did before), each child killed after ``--timeout`` seconds.

    python tests/benchmarks/bench_repair.py
    python tests/benchmarks/bench_repair.py --sizes 200 400 1000 --before --timeout 60
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

FAMILIES = ("random", "twist", "tangle", "zigzag")
SIZES = (200, 400, 1000, 10_000, 100_000)


def ring(family: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if family == "random":
        return rng.uniform(0, 1000, (n, 2))
    if family == "zigzag":
        m = (n - 2) // 2
        x = np.arange(m) * (0.5 / m)
        zz = np.empty((2 * m, 2))
        zz[0::2] = np.stack([x, np.zeros(m)], axis=1)
        zz[1::2] = np.stack([x + 0.5, np.ones(m)], axis=1)
        return np.vstack([zz, [[1.0, 1.2], [0.0, 1.2]]]) * 700 + 100
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([500 + 400 * np.cos(t), 500 + 400 * np.sin(t)], axis=1)
    if family == "twist":
        pts[[n // 2, n // 2 + 1]] = pts[[n // 2 + 1, n // 2]]
    else:  # tangle
        p = min(200, n - 3)
        pts[1 : p + 1] = pts[0] + rng.uniform(-50, 50, (p, 2))
    return pts


def child(family: str, n: int, before: bool) -> None:
    """Run one row in this process and print it as JSON."""
    import prelabel.geometry as geometry
    from prelabel import Annotations, Frames
    from prelabel.geometry import prepare, self_crossings

    if before:  # every ring through linework, nothing counted first
        geometry.LINEWORK_MAX_CROSSINGS = geometry.MAX_CROSSINGS = 2**62
        geometry.LINEWORK_MAX_POINTS = geometry.PRECHECK_POINTS = 2**62
    frames = Frames.build([1000], [1000], frame_id=["f"], src=["s3://b/f.jpg"])
    ann = Annotations.from_polygons(frames, [ring(family, n)], ["p"], [0])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    out, report = prepare(ann, "repair")
    seconds = time.perf_counter() - start
    crossings, pairs = self_crossings(geometry.normalise(ann), np.array([0]))
    rows = report.rows
    if not rows:
        outcome = "unchanged"
    elif rows[0]["action"] == "dropped":
        outcome = f"dropped ({rows[0]['reason']})"
    else:
        method = "structure" if "structure" in (rows[0].get("detail") or "") else "linework"
        outcome = f"repaired ({method}, {int(out.counts[0]) if len(out) else 0} points)"
    # the count stops at the cap, or once it has tested MAX_CROSSING_PAIRS pairs of edges
    capped = crossings[0] > geometry.MAX_CROSSINGS or pairs[0] > geometry.MAX_CROSSING_PAIRS
    print(
        json.dumps(
            {
                "crossings": (">" if capped else "") + f"{int(crossings[0]):,}",
                "outcome": outcome,
                "seconds": seconds,
                "rss_before": rss_before,
            }
        )
    )


def run_row(family: str, n: int, before: bool, timeout: float) -> dict[str, object]:
    """One row in a child process: its printed figures plus its peak RSS (MiB)."""
    cmd = [sys.executable, __file__, "--child", family, str(n)] + (["--before"] * before)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return {"outcome": f"killed after {timeout:.0f} s", "peak": usage.ru_maxrss / 1024}
        time.sleep(0.05)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        last = err.strip().splitlines()[-1:] or ["?"]
        return {"outcome": f"failed: {last[0][:60]}", "peak": usage.ru_maxrss / 1024}
    row: dict[str, object] = json.loads(out)
    row["peak"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return row


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    ap.add_argument("--before", action="store_true", help="budget off: linework for every ring")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per child")
    ap.add_argument("--child", nargs=2, metavar=("FAMILY", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.before)
        return
    import numpy
    import shapely

    print(
        f"python {sys.version.split()[0]}, numpy {numpy.__version__}, shapely"
        f" {shapely.__version__} (GEOS {shapely.geos_version_string});"
        f" {'budget off (linework for every ring)' if args.before else 'the repair budget'}"
    )
    head = f"{'family':<7} {'points':>8} {'crossings':>10}  {'outcome':<44} {'prepare s':>9}"
    print(head + f" {'peak RSS':>9} {'growth':>8}")
    for family in args.families:
        for n in args.sizes:
            r = run_row(family, n, args.before, args.timeout)
            secs = f"{r['seconds']:.3f}" if "seconds" in r else "-"
            growth = f"{r['peak'] - r['rss_before']:.0f}" if "rss_before" in r else "-"  # type: ignore[operator]
            print(
                f"{family:<7} {n:>8,} {r.get('crossings', '-'):>10}  {r['outcome']:<44}"
                f" {secs:>9} {r['peak']:>5.0f} MiB {growth:>4} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()

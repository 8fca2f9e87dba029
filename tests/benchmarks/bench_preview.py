"""Benchmark of `prelabel preview`: one 10,000-frame job (1920x1080), drawn with --every 100.

The job is built with the library: 100,000 shapes (half boxes, half polygons of 6-20 points)
in 20,000 tracks of 5 frames, one JSON line of ~70 MB. The frames folder holds 10,000 JPEGs
(1920x1080, hard links to 20 distinct synthetic images, so the folder is as large as a real
one in names while taking 20 images' disk). Each run is the real command in a child process
(wall time, CPU time and peak RSS), in alternating rounds after a warm-up:

- ``every100``: ``--every 100``, 100 frames drawn + the contact sheet (the issue's figure);
- ``sheet100``: ``--every 100 --sheet-only``, the contact sheet of the same 100 frames alone;
- ``every1000``: ``--every 1000``, 10 frames: what reading and indexing the job costs alone;
- ``parse``: ``orjson.loads`` of the line in a child: the floor of any reader.

    python tests/benchmarks/bench_preview.py             # 3 counted runs
    python tests/benchmarks/bench_preview.py --runs 5 --keep /tmp/preview-bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PRELABEL_CLI, star_polygons  # noqa: E402

FRAMES = 10_000
SHAPES = 100_000
TRACK_LEN = 5
W, H = 1920, 1080


def make_jobs(path: Path, seed: int = 0) -> int:
    """The 10k-frame job as one JSON line; returns its size in bytes."""
    from prelabel import Annotations, Frames, JobOptions, prepare, write_jsonl
    from prelabel.jobs import job_chunks

    rng = np.random.default_rng(seed)
    frames = Frames.build(
        W,
        H,
        frame_id=[f"frame_{i:06d}" for i in range(FRAMES)],
        src=[f"https://images.example.com/drive/{i:06d}.jpg" for i in range(FRAMES)],
        sequence="drive",
    )
    tracks = SHAPES // TRACK_LEN
    start = rng.integers(0, FRAMES - TRACK_LEN, tracks)
    frame = (start[:, None] + np.arange(TRACK_LEN)).ravel()
    track = np.repeat(np.arange(tracks), TRACK_LEN)
    label = np.repeat(rng.integers(0, 5, tracks), TRACK_LEN)
    names = ["car", "person", "bicycle", "sign", "truck"]
    half = tracks // 2
    is_box = track < half
    xy = rng.uniform([0, 0], [1700, 900], (SHAPES, 2))
    wh = rng.uniform(20, 200, (SHAPES, 2))
    boxes = Annotations.from_boxes(
        frames,
        np.hstack([xy, xy + wh])[is_box],
        label[is_box],
        frame[is_box],
        names=names,
        track=track[is_box],
    )
    n_poly = int((~is_box).sum())
    pts, offsets = star_polygons(rng, n_poly)
    polys = Annotations.from_runs(
        frames, 1, pts, offsets, label[~is_box], frame[~is_box], names=names, track=track[~is_box]
    )
    ready, _ = prepare(boxes + polys, "repair")
    write_jsonl(path, job_chunks(ready, JobOptions(workflow_id="wf")))
    return path.stat().st_size


def make_frames(folder: Path, distinct: int = 20, seed: int = 0) -> None:
    """FRAMES JPEGs named 000000.jpg...: hard links to ``distinct`` noisy 1920x1080 images."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    bases = []
    for d in range(distinct):
        # gradients, soft blobs and a little sensor noise: about what a 1080p dash-cam JPEG
        # weighs (~0.3 MB at quality 90) and what a PNG of it costs, unlike flat or pure noise
        yy, xx = np.mgrid[0:H, 0:W] / np.array([H, W])[:, None, None]
        fx, fy = rng.uniform(2, 12, 2)
        waves = 40 * np.sin(2 * np.pi * (fx * xx + d / distinct)) * np.cos(2 * np.pi * fy * yy)
        base = (60 + 80 * xx + 40 * yy + waves)[..., None] + rng.normal(0, 4, (H, W, 3))
        base = base + np.array([0, 10, 25]) * (d % 3)
        path = folder / f"base{d:02d}.jpg"
        Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB").save(path, quality=90)
        bases.append(path)
    for i in range(FRAMES):
        target = folder / f"{i:06d}.jpg"
        if not target.exists():
            os.link(bases[i % distinct], target)


def run(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process.

    CPU time is the steadier figure on a shared machine: wall time waits for the other
    processes' turns, CPU time does not (both are printed)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


PARSE = "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3, help="counted rounds (after one warm-up)")
    ap.add_argument("--keep", type=Path, help="build the data here and keep it (reused if there)")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-preview-"))
    root.mkdir(parents=True, exist_ok=True)
    jobs, frames = root / "jobs.jsonl", root / "frames"
    t0 = time.perf_counter()
    if not jobs.exists():
        make_jobs(jobs)
    if not (frames / f"{FRAMES - 1:06d}.jpg").exists():
        make_frames(frames)
    print(
        f"data: {jobs.stat().st_size / 1e6:.1f} MB job line, {FRAMES} frames, {SHAPES} shapes"
        f" (built in {time.perf_counter() - t0:.1f} s)"
    )
    load = f"{os.getloadavg()[0]:.1f}"
    py = sys.executable
    cli = [py, "-c", PRELABEL_CLI, "preview", str(jobs), "--frames-dir", str(frames), "-q"]
    cmds = {
        "every100": [*cli, "-o", str(root / "out100"), "--every", "100"],
        "sheet100": [*cli, "-o", str(root / "sheet100"), "--every", "100", "--sheet-only"],
        "every1000": [*cli, "-o", str(root / "out1000"), "--every", "1000"],
        "parse": [py, "-c", PARSE, str(jobs)],
    }
    times: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    rss: dict[str, list[float]] = {k: [] for k in cmds}
    for r in range(args.runs + 1):  # a warm-up round, then alternating counted ones
        for name, cmd in cmds.items():
            wall, cpu, peak = run(cmd)
            if r:
                times[name].append(wall)
                cpus[name].append(cpu)
                rss[name].append(peak)
    print(f"load average before/after: {load} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name in cmds:
        t, c = times[name], cpus[name]
        print(
            f"{name:10s} wall median {statistics.median(t):6.2f} s [{min(t):.2f}-{max(t):.2f}]"
            f"  CPU median {statistics.median(c):6.2f} s  peak RSS {max(rss[name]):5.0f} MiB"
        )
    out = root / "out100"
    pngs = list((out / "drive").glob("*.png"))
    size = sum(p.stat().st_size for p in pngs)
    from PIL import Image

    with Image.open(out / "drive.png") as sheet:
        print(
            f"every100 wrote {len(pngs)} frame PNGs ({size / 1e6:.1f} MB) and a"
            f" {sheet.size[0]}x{sheet.size[1]} contact sheet"
        )


if __name__ == "__main__":
    main()

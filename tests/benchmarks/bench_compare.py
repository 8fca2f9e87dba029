"""Benchmark of `prelabel compare` on the shared bench's medium set.

Setup (not timed): `prelabel convert coco` of DATA/coco/instances.json (10k images, 100k
annotations, half polygons of 6-20 points) into jobs of ``--frames-per-job`` frames, then one
result per job made by the sandbox's annotator (`prelabel.submit.annotator.annotate`, seed 0:
most shapes nudged by up to 3 px, 10% of the trackers deleted, 10% relabelled, new boxes
added, the _ids of kept shapes preserved). A second results folder has every _id replaced,
so that every shape is matched by geometry (Hungarian over label + IoU per frame).

Timed in this process, alternating rounds after a warm-up:

- ``read``: the payload and result readers alone (the floor of any compare);
- ``compare (ids)``: `prelabel.compare(PRELABELS, RESULTS)`, reading included;
- ``compare (no ids)``: the same with the _ids gone;
- ``match (ids)`` / ``match (no ids)``: the comparison of jobs already read.

Throughput is pre-labelled shapes per second of the median round, of wall time and of this
process's CPU time (the machine is shared: CPU time is what a load does not inflate much).

    python ../shared/bench/gen_data.py medium /tmp/bench/data/medium --formats coco
    python tests/benchmarks/bench_compare.py /tmp/bench/data/medium --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PRELABEL_CLI, input_file  # noqa: E402


def convert(src: Path, out: Path, frames_per_job: int) -> None:
    cmd = [
        sys.executable, "-c", PRELABEL_CLI, "convert", "coco", str(src), "-q", "-o", str(out),
        "--src-prefix", "https://example.com/images/", "--frames-per-job", str(frames_per_job),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


def make_results(jobs: Path, folder: Path, *, keep_ids: bool) -> None:
    """One `<reference_id>.json` per job, from the sandbox's annotator."""
    from prelabel.submit.annotator import annotate

    folder.mkdir(parents=True, exist_ok=True)
    for n, line in enumerate(jobs.read_bytes().splitlines()):
        job = orjson.loads(line)
        result = annotate(job, seed=0)
        if not keep_ids:
            for t, tracker in enumerate(result["data"]["annotation_data"]["annotations"]):
                tracker["_id"] = f"new-{n}-{t}"
                for f, obj in enumerate(tracker["frames"].values()):
                    obj["_id"] = f"new-{n}-{t}-{f}"
        (folder / f"{quote(job['reference_id'], safe='')}.json").write_bytes(orjson.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", type=Path, help="a gen_data.py output folder (with coco/)")
    ap.add_argument("--runs", type=int, default=5, help="counted rounds (after one warm-up)")
    ap.add_argument("--frames-per-job", type=int, default=100)
    args = ap.parse_args()

    import prelabel
    from prelabel.compare import format_table
    from prelabel.formats.payload import read_payload, read_results

    src = input_file(args.data, "coco/instances.json")
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        work = Path(tmp)
        pre = work / "jobs.jsonl"
        convert(src, pre, args.frames_per_job)
        make_results(pre, work / "ids", keep_ids=True)
        make_results(pre, work / "noids", keep_ids=False)
        pre_jobs = list(read_payload(pre))
        res = {k: list(read_results(work / k)) for k in ("ids", "noids")}
        n_pre = sum(len(j.annotations) for j in pre_jobs)
        n_fin = sum(len(j.annotations) for j in res["ids"])
        points = sum(len(j.annotations.points) for j in pre_jobs)
        print(
            f"{len(pre_jobs)} jobs, {n_pre:,} pre-labelled shapes ({points:,} points), "
            f"{n_fin:,} final shapes; {args.runs} counted rounds"
        )

        def read_all() -> None:
            list(read_payload(pre))
            list(read_results(work / "ids"))

        jobs = {
            "read": read_all,
            "compare (ids)": lambda: prelabel.compare(pre, work / "ids"),
            "compare (no ids)": lambda: prelabel.compare(pre, work / "noids"),
            "match (ids)": lambda: prelabel.compare(pre_jobs, res["ids"]),
            "match (no ids)": lambda: prelabel.compare(pre_jobs, res["noids"]),
        }
        wall: dict[str, list[float]] = {k: [] for k in jobs}
        cpu: dict[str, list[float]] = {k: [] for k in jobs}
        with prelabel.paused_gc():  # as the CLI runs it
            for r in range(args.runs + 1):  # a warm-up round, then jobs alternating
                for name, fn in jobs.items():
                    w0, c0 = time.perf_counter(), time.process_time()
                    fn()
                    if r:
                        wall[name].append(time.perf_counter() - w0)
                        cpu[name].append(time.process_time() - c0)
        print(
            f"{'job':<18} {'wall s':>7} {'min-max':>13} {'cpu s':>7} {'shapes/s wall':>14} {'cpu':>9}"
        )
        for name, ts in wall.items():
            med, c = statistics.median(ts), statistics.median(cpu[name])
            print(
                f"{name:<18} {med:>7.2f} {min(ts):>6.2f}-{max(ts):<6.2f} {c:>7.2f} "
                f"{n_pre / med:>14,.0f} {n_pre / c:>9,.0f}"
            )
        for key in ("ids", "noids"):
            report = prelabel.compare(pre_jobs, res[key])
            total = report.table.total()
            print(f"\n{key}: " + json.dumps({k: total[k] for k in list(total)[:11]}))
            print(format_table(report, per_job=False).splitlines()[-2])


if __name__ == "__main__":
    main()

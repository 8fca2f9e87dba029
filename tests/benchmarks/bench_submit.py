"""Benchmark: creating small jobs in the sandbox, the Submitter against sequential loops.

The sandbox runs in its own process (its own core), with no faults and no rate limit. In
the same run it times:

  floor httpx.post   one request at a time, ``httpx.post`` per job: a new client and a new
                     connection each time, as the spec's sample code does with
                     ``requests.post`` (the client construction includes a TLS context)
  floor new-conn     one request at a time over a fresh ``http.client`` connection: the
                     cost of a new connection alone, with no client construction
  submitter cN       ``Submitter(limits=Limits(concurrency=N, rate=0))`` with a ledger file, N = 1, 4, 16

and prints jobs/s and the ratio to each floor, plus the process's peak RSS. ``--latency-ms``
adds a server-side delay per request, a stand-in for the network round trip of the real API
(loopback has none, which flatters the sequential loops).

Usage::

    python tests/benchmarks/bench_submit.py [--jobs 5000] [--floor-jobs 1000] [--latency-ms 0]

Other modes (``--tree DIR`` runs them on another checkout, e.g. an older commit unpacked
with ``git archive``, for before/after figures):

  --mode validate     ``prelabel validate`` of one big job (``--mb 71``): wall, CPU, peak RSS
  --mode submit-cpu   ``prelabel submit`` of ``--jobs`` jobs of ``--job-kb`` KB each to the
                      sandbox (own process): the client's CPU seconds and wall
  --mode startup      ``prelabel --version`` and ``prelabel --help``: median wall of 15 runs
  --mode hostile      ``prelabel submit`` of one job against tests/submit/hostile.py: a
                      trickle (1 byte / 50 ms, ``--timeout 0.5 --max-attempts 2``) and a
                      64 MB body; wall and peak RSS of the client
"""

from __future__ import annotations

import argparse
import http.client
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from prelabel.submit import Limits, Submitter

KEY = "bench-key"


def small_job(ref: str) -> dict[str, Any]:
    return {
        "reference_id": ref,
        "work_flow_id": "wf-bench",
        "data": {
            "video_data": {
                "frames": [{"frame_id": "f1", "src": f"https://images.example.com/{ref}.jpg"}]
            }
        },
    }


def start_sandbox(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from prelabel.cli import main; main()", "sandbox", "--port",
         "0", "--api-key", KEY, "--latency-ms", str(latency_ms), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def floor_httpx_post(url: str, project: str, n: int) -> None:
    for i in range(n):
        r = httpx.post(
            f"{url}/v1/projects/{project}/jobs", json=small_job(f"f{i}"), headers={"x-api-key": KEY}
        )
        if r.status_code != 200:
            raise SystemExit(f"floor: {r.status_code} {r.text}")


def floor_new_connection(url: str, project: str, n: int) -> None:
    host, port = url.removeprefix("http://").split(":")
    for i in range(n):
        c = http.client.HTTPConnection(host, int(port))
        c.request(
            "POST",
            f"/v1/projects/{project}/jobs",
            body=orjson.dumps(small_job(f"g{i}")),
            headers={"x-api-key": KEY, "content-type": "application/json"},
        )
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            raise SystemExit(f"floor: {r.status}")


def submitter(concurrency: int, tmp: Path) -> Callable[[str, str, int], None]:
    def run(url: str, project: str, n: int) -> None:
        with Submitter(
            project,
            KEY,
            base_url=url,
            ledger=tmp / f"{project}.sqlite",
            limits=Limits(concurrency=concurrency, rate=0),
        ) as s:
            result = s.submit(small_job(f"s{i}") for i in range(n))
        if not result.ok or result.counts["created"] != n:
            raise SystemExit(f"submitter: {result.summary()}")

    return run


def big_job(ref: str, target_bytes: int) -> dict[str, Any]:
    """One valid job of about ``target_bytes``: 500 frames (20 below 5 MB), rectangle
    trackers on every frame."""
    n_frames = 500 if target_bytes > 5 << 20 else 20
    frames = [
        {"frame_id": f"f{i:05d}", "src": f"https://images.example.com/{ref}/{i:05d}.jpg"}
        for i in range(n_frames)
    ]

    def box(t: int, i: int) -> dict[str, Any]:
        x, y = (t % 50) / 60, (i % 50) / 60
        return {
            "_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ref}/{t}/{i}")),
            "label": "Car",
            "attributes": {"occluded": {"value": "false"}},
            "coordinates": [
                {"x": x, "y": y},
                {"x": x + 0.1, "y": y},
                {"x": x + 0.1, "y": y + 0.1},
                {"x": x, "y": y + 0.1},
            ],
        }

    def tracker(t: int) -> dict[str, Any]:
        return {
            "_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ref}/{t}")),
            "type": "rectangle",
            "label": "Car",
            "frames": {f["frame_id"]: box(t, i) for i, f in enumerate(frames)},
        }

    room = target_bytes - len(orjson.dumps(frames)) - 200
    n_trackers = max(1, room // (len(orjson.dumps(tracker(0))) + 1))
    trackers = [tracker(t) for t in range(n_trackers)]
    job = {
        "reference_id": ref,
        "work_flow_id": "wf-bench",
        "data": {
            "video_data": {"frames": frames},
            "maker_response": {"video2d": {"data": {"annotations": trackers}}},
        },
    }
    # the estimate above misses the separators: trim to the target
    per_tracker = len(orjson.dumps(trackers)) / len(trackers)
    keep = max(1, int(len(trackers) - (len(orjson.dumps(job)) - target_bytes) / per_tracker))
    del trackers[keep:]
    return job


def _child(
    cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child.

    The child runs in the ``--tree`` directory when one is given: ``python -c`` puts its
    working directory first on sys.path, before PYTHONPATH."""
    import os

    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=env.get("PYTHONPATH") or None,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in ok:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _env(tree: str | None) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    return env


CLI = [sys.executable, "-c", "from prelabel.cli import main; main()"]


def bench_validate(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        path.write_bytes(orjson.dumps(big_job("big", args.mb << 20)) + b"\n")
        size = path.stat().st_size / 2**20
        env = _env(args.tree)
        _child([*CLI, "validate", str(path)], env)  # warm-up
        got = [_child([*CLI, "validate", str(path)], env) for _ in range(args.runs)]
    got.sort()
    wall, cpu, rss = got[len(got) // 2]
    print(
        f"validate one {size:.0f} MB job ({args.tree or 'this checkout'}), median of {args.runs}:"
    )
    print(f"  wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MiB")


def bench_submit_cpu(args: argparse.Namespace) -> None:
    proc, url = start_sandbox(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "jobs.jsonl"
            kb = args.job_kb << 10
            one = orjson.dumps(big_job("r", kb))
            with path.open("wb") as f:
                for i in range(args.jobs):  # the same job under another reference_id
                    f.write(one.replace(b'"reference_id":"r"', f'"reference_id":"r{i}"'.encode()))
                    f.write(b"\n")
            size = path.stat().st_size / 2**20
            env = _env(args.tree)
            env["PLAYMENT_API_KEY"] = KEY
            results: list[tuple[float, float, float]] = []
            reruns: list[tuple[float, float, float]] = []
            for run in range(args.runs):
                project = uuid.uuid4().hex[:8]
                cmd = [*CLI, "submit", str(path), "--project-id", project, "--base-url", url,
                       "--rate", "0", "--concurrency", "4", "-q",
                       "--ledger", str(Path(tmp) / f"l{run}.sqlite")]  # fmt: skip
                results.append(_child(cmd, env))
                reruns.append(_child(cmd, env))  # the same command again: every job done
    finally:
        proc.terminate()
        proc.wait(10)
    where = args.tree or "this checkout"
    for what, got in (("submit", results), ("rerun, all done", reruns)):
        got.sort(key=lambda r: r[1])
        wall, cpu, rss = got[len(got) // 2]
        print(
            f"{what}: {args.jobs} x {args.job_kb} KB jobs ({size:.0f} MB, {where}), median of "
            f"{args.runs}: client CPU {cpu:.2f} s, wall {wall:.2f} s, peak RSS {rss:.0f} MiB"
        )


def bench_startup(args: argparse.Namespace) -> None:
    env = _env(args.tree)
    for what in (["--version"], ["--help"]):
        _child([*CLI, *what], env)
        walls = sorted(_child([*CLI, *what], env)[0] for _ in range(15))
        print(
            f"prelabel {what[0]} ({args.tree or 'this checkout'}): median {walls[7] * 1000:.0f} ms"
            f" (min {walls[0] * 1000:.0f}, max {walls[-1] * 1000:.0f}) over 15 runs"
        )


def bench_hostile(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.submit.hostile import HostileServer

    env = _env(args.tree)
    env["PLAYMENT_API_KEY"] = KEY
    where = args.tree or "this checkout"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "jobs.jsonl"
        path.write_bytes(orjson.dumps(small_job("a")) + b"\n")
        for mode in ("trickle", "huge"):
            with HostileServer(mode, trickle_gap=0.05) as srv:
                cmd = [*CLI, "submit", str(path), "--project-id", "p", "--base-url", srv.url,
                       "--timeout", "0.5" if mode == "trickle" else "60", "--max-attempts", "2",
                       "--backoff-base", "0", "--rate", "0", "-q",
                       "--ledger", str(Path(tmp) / f"{mode}.sqlite")]  # fmt: skip
                wall, cpu, rss = _child(cmd, env, ok=(0, 1))  # 1: the job failed
                print(
                    f"{mode} ({where}): wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} "
                    f"MiB, {srv.sent_bytes / 2**20:.1f} MiB sent by the server"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--mode",
        choices=["throughput", "validate", "submit-cpu", "startup", "hostile"],
        default="throughput",
    )
    ap.add_argument("--jobs", type=int, default=5000, help="jobs per Submitter run")
    ap.add_argument("--floor-jobs", type=int, default=1000, help="jobs per sequential loop")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="server delay per request")
    ap.add_argument("--mb", type=int, default=71, help="validate: size of the job")
    ap.add_argument("--job-kb", type=int, default=71, help="submit-cpu: size of each job")
    ap.add_argument("--runs", type=int, default=3, help="validate/submit-cpu: counted runs")
    ap.add_argument("--tree", help="run the CLI from this source tree (PYTHONPATH)")
    args = ap.parse_args()
    if args.mode != "throughput":
        modes = {
            "validate": bench_validate,
            "submit-cpu": bench_submit_cpu,
            "startup": bench_startup,
            "hostile": bench_hostile,
        }
        modes[args.mode](args)
        return
    proc, url = start_sandbox(args.latency_ms)
    rows: list[tuple[str, int, float]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cases: list[tuple[str, int, Callable[[str, str, int], None]]] = [
                ("floor httpx.post", args.floor_jobs, floor_httpx_post),
                ("floor new-conn", args.floor_jobs, floor_new_connection),
            ]
            cases += [(f"submitter c{c}", args.jobs, submitter(c, Path(tmp))) for c in (1, 4, 16)]
            for name, n, fn in cases:
                project = uuid.uuid4().hex[:8]
                t0 = time.perf_counter()
                fn(url, project, n)
                rows.append((name, n, time.perf_counter() - t0))
    finally:
        proc.terminate()
        proc.wait(10)
    floors = {name: n / wall for name, n, wall in rows if name.startswith("floor")}
    print(f"sandbox latency {args.latency_ms:g} ms, no faults, rate unlimited")
    print(
        f"{'mode':<18}{'jobs':>7}{'wall s':>9}{'jobs/s':>9}{'x httpx.post':>14}{'x new-conn':>12}"
    )
    for name, n, wall in rows:
        rate = n / wall
        print(
            f"{name:<18}{n:>7}{wall:>9.2f}{rate:>9.0f}"
            f"{rate / floors['floor httpx.post']:>14.1f}{rate / floors['floor new-conn']:>12.1f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the client process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()

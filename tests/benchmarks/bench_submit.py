"""Benchmark: creating small jobs in the sandbox, the Submitter against sequential loops.

The sandbox runs in its own process (its own core), with no faults and no rate limit. In
the same run it times:

  floor httpx.post   one request at a time, ``httpx.post`` per job: a new client and a new
                     connection each time, as the spec's sample code does with
                     ``requests.post`` (the client construction includes a TLS context)
  floor new-conn     one request at a time over a fresh ``http.client`` connection: the
                     cost of a new connection alone, with no client construction
  submitter cN       ``Submitter(concurrency=N, rate=0)`` with a ledger file, N = 1, 4, 16

and prints jobs/s and the ratio to each floor, plus the process's peak RSS. ``--latency-ms``
adds a server-side delay per request, a stand-in for the network round trip of the real API
(loopback has none, which flatters the sequential loops).

Usage::

    python tests/benchmarks/bench_submit.py [--jobs 5000] [--floor-jobs 1000] [--latency-ms 0]
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

from prelabel.submit import Submitter

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
            concurrency=concurrency,
            rate=0,
        ) as s:
            result = s.submit(small_job(f"s{i}") for i in range(n))
        if not result.ok or result.counts["created"] != n:
            raise SystemExit(f"submitter: {result.summary()}")

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=5000, help="jobs per Submitter run")
    ap.add_argument("--floor-jobs", type=int, default=1000, help="jobs per sequential loop")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="server delay per request")
    args = ap.parse_args()
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

"""Benchmark: ``fetch_results`` against the sandbox (in this process, annotate 0).

Jobs are the ``street`` job of fixtures/results/prelabels.jsonl (5 trackers, 18 shapes over
7 frames; results of ~6 KB) under ``--jobs`` reference_ids. Prints, per concurrency:
jobs/s and MB/s of a first fetch (GET job, attachments redirect, signed GET, check, atomic
save, ledger) and the wall of a rerun that fetches nothing again (ledger and file checks
only). The sandbox shares the process and its GIL, so the figures are a floor.

Usage::

    python tests/benchmarks/bench_results.py [--jobs 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import orjson

from prelabel.submit import Limits, Retries, Submitter
from prelabel.submit.results import fetch_results
from prelabel.submit.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
KEY = "pk_bench_0000000000"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=500)
    args = ap.parse_args()
    lines = (ROOT / "fixtures/results/prelabels.jsonl").read_bytes().splitlines()
    street = next(orjson.loads(x) for x in lines if b'"street"' in x)
    payloads = [{**street, "reference_id": f"street-{i:05d}"} for i in range(args.jobs)]
    for n in (1, 4, 8):
        with tempfile.TemporaryDirectory() as d, Sandbox(KEY, annotate=0) as sb:
            ledger, out = Path(d) / "l.sqlite", Path(d) / "r"
            limits = Limits(concurrency=n, rate=0)
            with Submitter("p", KEY, base_url=sb.url, ledger=ledger, limits=limits) as s:
                assert s.submit(payloads).ok
            t0 = time.perf_counter()
            got = fetch_results(ledger, out, api_key=KEY, limits=limits, retries=Retries())
            wall = time.perf_counter() - t0
            assert got.counts == {"fetched": args.jobs}, got.summary()
            size = sum(p.stat().st_size for p in out.iterdir())
            t0 = time.perf_counter()
            again = fetch_results(ledger, out, api_key=KEY, limits=limits)
            rerun = time.perf_counter() - t0
            assert again.counts == {"done": args.jobs}
            print(
                f"concurrency {n}: {args.jobs} results in {wall:.2f} s, "
                f"{args.jobs / wall:.0f} jobs/s, {size / wall / 1e6:.2f} MB/s "
                f"({size / args.jobs / 1e3:.1f} KB each); rerun (nothing fetched) {rerun:.2f} s"
            )


if __name__ == "__main__":
    main()

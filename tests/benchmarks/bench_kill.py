"""Stray temporary files after killed converts: SIGKILL ``--kills`` converts mid-write.

Each convert is the real CLI (``prelabel convert coco fixtures/coco/instances.json``) with
its job builder held after the first job, so the kill lands while the output's temporary
file is open, every time (no timing involved). Prints the files left beside the output
after the kills, and after one more convert that finishes, for each way the writer names
its temporary file (on a checkout without O_TMPFILE support both rows measure the same).

Usage::

    python tests/benchmarks/bench_kill.py [--kills 24] [--prelabel DIR]

``--prelabel DIR`` measures the package in DIR (e.g. an older checkout's ``git archive``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "coco" / "instances.json"
HELD_CONVERT = """
import importlib
import sys
convert = importlib.import_module("prelabel.convert")
writer = importlib.import_module("prelabel.writer")
writer.USE_O_TMPFILE = sys.argv[1] == "1"
hold = sys.argv[2] == "hold"
real = convert.job_chunks
def held(*args, **kwargs):
    for job in real(*args, **kwargs):
        yield job
        if hold:
            print("ready", flush=True)
            sys.stdin.read()
convert.job_chunks = held
from prelabel.cli import main
sys.argv = ["prelabel", *sys.argv[3:]]
main()
"""


def run(out: Path, o_tmpfile: bool, hold: bool, env: dict[str, str]) -> None:
    args = ["convert", "coco", str(FIXTURE), "-q", "-o", str(out), "--src-prefix", "https://x/"]
    mode = ["1" if o_tmpfile else "0", "hold" if hold else "run"]
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD_CONVERT, *mode, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=out.parent,
    )
    if hold:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGKILL)
    proc.communicate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--prelabel", type=Path, help="folder holding the prelabel package")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.prelabel:
        env["PYTHONPATH"] = str(args.prelabel.resolve())
    print(f"{'writer mode':<12} {'kills':>5} {'stray files':>11} {'after a run':>11}")
    for name, o_tmpfile in (("O_TMPFILE", True), ("named temp", False)):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "jobs.jsonl"
            for _ in range(args.kills):
                run(out, o_tmpfile, True, env)
            left = [p for p in Path(tmp).iterdir() if p != out]
            run(out, o_tmpfile, False, env)
            after = [p for p in Path(tmp).iterdir() if p != out]
            print(f"{name:<12} {args.kills:>5} {len(left):>11} {len(after):>11}")


if __name__ == "__main__":
    main()

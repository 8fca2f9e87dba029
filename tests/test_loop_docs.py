"""The loop of docs/results.md, run as written against the sandbox: convert -> preview ->
submit -> results fetch -> compare -> export, one shell block, checked step by step by what
each step leaves on disk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from prelabel.formats.coco import read_coco
from prelabel.formats.cvat import read_cvat
from prelabel.formats.payload import read_payload, read_results

ROOT = Path(__file__).resolve().parent.parent


def _loop_block() -> str:
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    section = text.split("## The loop against the sandbox", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, flags=re.S | re.M)
    assert len(blocks) == 1, "the loop is one block"
    return str(blocks[0])


def test_the_documented_loop_runs(tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="the preview step needs the preview extra")
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PLAYMENT_API_KEY", None)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _loop_block()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    loop = tmp_path / "loop"

    # convert + preview: one job of 5 frames, a PNG per frame and the contact sheet
    (job,) = read_payload(loop / "jobs.jsonl")
    assert len(job.frames) == 5
    ref = job.reference_id
    assert len(list((loop / "preview" / ref).glob("*.png"))) == 5
    assert (loop / "preview" / f"{ref}.png").is_file()

    # results: the sandbox's result for that job, its pre-labels changed by the annotator
    (result,) = read_results(loop / "results")
    assert result.reference_id == ref
    kept = set(result.object_ids) & set(job.object_ids)
    assert kept, "the annotator keeps most shapes' _ids"

    # compare: every pre-label is accounted for, every final shape too, and the _id matches
    # are the _ids both files share
    report = orjson.loads((loop / "compare.json").read_bytes())
    total = report["total"]
    pre_outcomes = ("unchanged", "moved", "attributes_changed", "relabelled", "deleted")
    assert sum(total[k] for k in pre_outcomes) == total["prelabelled"] == len(job.annotations)
    assert total["final"] == len(result.annotations)

    # export: COCO and CVAT read back by prelabel's readers hold the result's shapes
    coco = read_coco(loop / "instances.json")
    assert len(coco) == len(result.annotations)
    cvat_files = sorted((loop / "cvat").glob("*.xml"))
    assert cvat_files
    assert sum(len(read_cvat(f)) for f in cvat_files) == len(result.annotations)
    assert (loop / "yolo" / "data.yaml").is_file()

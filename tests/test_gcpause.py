"""The cyclic collector is the application's to switch off: the CLI pauses it around a run,
library calls leave it as they found it."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import prelabel
import prelabel.commands._convert as convert_command
import prelabel.jobs as jobs_module
from prelabel.annotations import Annotations, Frames
from prelabel.cli import main
from prelabel.gcpause import paused_gc
from prelabel.jobs import JobOptions, job_lines

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_paused_gc_restores_the_previous_state() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off: it stays off
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: not switched on behind the caller
    finally:
        gc.enable()


def test_paused_gc_is_public() -> None:
    assert prelabel.paused_gc is paused_gc
    assert "paused_gc" in prelabel.__all__


def test_writing_jobs_leaves_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = jobs_module._objects_json

    def spy(*args: Any) -> bytes:
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(jobs_module, "_objects_json", spy)
    frames = Frames.build(
        100, 50, frame_id=["a", "b"], src=["https://x.test/a", "https://x.test/b"], sequence="s"
    )
    ann = Annotations.from_boxes(
        frames, np.array([[1, 1, 9, 9], [2, 2, 8, 8]]), ["car", "car"], [0, 1]
    )
    lines = list(job_lines(prelabel.normalise(ann), JobOptions(reference_id="{sequence}")))
    assert len(lines) == 1
    assert seen == [True]


def test_the_convert_command_pauses_the_collector_for_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = convert_command.convert

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(convert_command, "convert", spy)
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "coco", str(FIXTURES / "coco" / "instances.json"), "-o", str(out), "-q"]
    result = CliRunner().invoke(main, [*args, "--src-prefix", "https://x.test/"])
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()
    assert out.stat().st_size > 0

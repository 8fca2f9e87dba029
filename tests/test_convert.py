"""The common convert stage: frame ids and URLs from templates, frames files, label maps,
score thresholds, and the whole pipeline to a JSON Lines file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import orjson
import pytest

from prelabel.annotations import Annotations, Frames
from prelabel.convert import (
    FrameOptions,
    LabelOptions,
    apply_labels,
    assign_frames,
    convert,
    load_label_map,
)
from prelabel.errors import GeometryError, InputError
from prelabel.jobs import JobOptions
from prelabel.report import Report
from prelabel.validate import file_problems


def _frames() -> Frames:
    return Frames.build(
        [640, 640, 640],
        [480, 480, 480],
        name=["cam1/000001.jpg", "cam1/000002.jpg", "cam2/a b.png"],
        sequence=["cam1", "cam1", "cam2"],
        index=[0, 1, 0],
    )


def test_frame_ids_and_src_from_prefix() -> None:
    out = assign_frames(_frames(), FrameOptions(src_prefix="https://cdn.test/data/"))
    assert out.frame_id.tolist() == ["000001", "000002", "a b"]
    # the relative path is URL-quoted and joined with exactly one slash
    assert out.src.tolist()[2] == "https://cdn.test/data/cam2/a%20b.png"


def test_templates_with_every_field() -> None:
    opts = FrameOptions(
        frame_id="{sequence}_{index:04d}", src_template="s3://bucket/{sequence}/{stem}.jpg"
    )
    out = assign_frames(_frames(), opts)
    assert out.frame_id.tolist() == ["cam1_0000", "cam1_0001", "cam2_0000"]
    assert out.src.tolist()[1] == "s3://bucket/cam1/000002.jpg"
    with pytest.raises(InputError, match=r"unknown field \{frame\}"):
        assign_frames(_frames(), FrameOptions(frame_id="{frame}", src_prefix="https://x"))


def test_a_frame_without_a_usable_src_is_named() -> None:
    with pytest.raises(InputError, match="cam1/000001.jpg' has no src"):
        assign_frames(_frames(), FrameOptions())
    with pytest.raises(InputError, match="not an http"):
        assign_frames(_frames(), FrameOptions(src_template="/local/{name}"))


def test_frames_file_csv_overrides_and_adds_reference_images(tmp_path: Path) -> None:
    csv_file = tmp_path / "frames.csv"
    csv_file.write_text(
        "name,frame_id,src,reference:camera 2\n"
        "cam1/000002.jpg,F2,https://x.test/2.jpg,https://x.test/2-side.jpg\n"
    )
    out = assign_frames(
        _frames(), FrameOptions(src_prefix="https://x.test", frames_file=str(csv_file))
    )
    assert out.frame_id.tolist() == ["000001", "F2", "a b"]
    assert out.src.tolist()[1] == "https://x.test/2.jpg"
    assert out.reference.tolist()[1] == {
        "frame_id": "F2",
        "data": [{"label": "camera 2", "image_url": "https://x.test/2-side.jpg"}],
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("name,src\nnope.jpg,https://x\n")
    with pytest.raises(InputError, match=r"bad.csv:line 2: no frame named 'nope.jpg'"):
        assign_frames(_frames(), FrameOptions(src_prefix="https://x", frames_file=str(bad)))


def _boxes() -> Annotations:
    f = assign_frames(_frames(), FrameOptions(src_prefix="https://x.test"))
    return Annotations.from_boxes(
        f,
        np.tile([10, 10, 20, 20], (4, 1)),
        ["car", "person", "car", "bike"],
        [0, 0, 1, 2],
        score=[0.9, 0.4, 0.2, np.nan],
    )


def test_label_map_renames_thresholds_and_refuses_unmapped() -> None:
    mapping = {"car": "Car", "person": {"label": "Pedestrian", "min_score": 0.5}}
    with pytest.raises(InputError, match="label 'bike' is not in the label map"):
        apply_labels(_boxes(), LabelOptions(mapping), Report())
    report = Report()
    out = apply_labels(_boxes(), LabelOptions(mapping, drop_unmapped=True, min_score=0.3), report)
    assert [out.labels[i] for i in out.label] == ["Car"]
    assert report.counts == {("dropped", "label_unmapped"): 1, ("dropped", "below_min_score"): 2}


def test_shapes_without_a_score_pass_any_threshold() -> None:
    out = apply_labels(_boxes(), LabelOptions(min_score=0.95), Report())
    assert [out.labels[i] for i in out.label] == ["bike"]


def test_label_map_files(tmp_path: Path) -> None:
    y = tmp_path / "labels.yaml"
    y.write_text("car: Car\nperson:\n  label: Pedestrian\n  min_score: 0.5\ntree: null\n")
    assert load_label_map(y) == {
        "car": "Car",
        "person": {"label": "Pedestrian", "min_score": 0.5},
        "tree": None,
    }
    j = tmp_path / "labels.json"
    j.write_text(json.dumps({"car": 3}))
    with pytest.raises(InputError, match=r"labels.json:\$.car: expected a label name"):
        load_label_map(j)
    bad = tmp_path / "bad.yaml"
    bad.write_text("car: [\n")
    with pytest.raises(InputError, match=r"bad.yaml:2:1: invalid YAML"):
        load_label_map(bad)


def test_convert_writes_valid_jobs_per_sequence(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    result = convert(_boxes(), out, jobs=JobOptions(workflow_id="wf"))
    lines = out.read_bytes().splitlines()
    assert result.jobs == 2 and len(lines) == 2
    assert [orjson.loads(x)["reference_id"] for x in lines] == ["cam1", "cam2"]
    assert list(file_problems(out)) == []


def test_error_policy_leaves_no_output(tmp_path: Path) -> None:
    f = assign_frames(_frames(), FrameOptions(src_prefix="https://x.test"))
    ann = Annotations.from_boxes(f, [[-10, 0, 20, 20]], ["car"], [0])
    out = tmp_path / "jobs.jsonl"
    with pytest.raises(GeometryError):
        convert(ann, out, policy="error")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_output_has_the_usual_permissions(tmp_path: Path) -> None:
    """Written through a temporary file, but with the mode open() would give (not 0600)."""
    out = tmp_path / "jobs.jsonl"
    convert(_boxes(), out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask

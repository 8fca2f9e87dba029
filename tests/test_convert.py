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
    FRAME_FIELDS,
    REFERENCE_FIELDS,
    FrameOptions,
    LabelOptions,
    apply_labels,
    assign_frames,
    check_template,
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
    assert result.jobs == 2
    assert len(lines) == 2
    assert [orjson.loads(x)["reference_id"] for x in lines] == ["cam1", "cam2"]
    assert list(file_problems(out)) == []


def test_error_policy_leaves_no_output(tmp_path: Path) -> None:
    f = assign_frames(_frames(), FrameOptions(src_prefix="https://x.test"))
    ann = Annotations.from_boxes(f, [[-10, 0, 20, 20]], ["car"], [0])
    out = tmp_path / "jobs.jsonl"
    with pytest.raises(GeometryError):
        convert(ann, out, on_invalid="error")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_output_has_the_usual_permissions(tmp_path: Path) -> None:
    """Written through a temporary file, but with the mode open() would give (not 0600)."""
    out = tmp_path / "jobs.jsonl"
    convert(_boxes(), out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


# --- templates -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("s3://b/{stem", "expected '}' before end of string"),
        ("s3://b/stem}", "Single '}'"),
        ("s3://b/{index:bad}", r"\{index:bad\}: Invalid format specifier"),
        ("s3://b/{stem:d}", r"\{stem:d\}: Unknown format code 'd'"),
        ("s3://b/{0}", r"positional field \{0\}"),
        ("s3://b/{}", r"positional field \{\}"),
        ("s3://b/{stem.upper}", "attribute and index access"),
        ("s3://b/{name[0]}", "attribute and index access"),
        ("s3://b/{stem!r}", "conversions are not supported"),
        ("s3://b/{index:{stem}}", "nested fields"),
        ("s3://b/{frame}", r"unknown field \{frame\}"),
    ],
)
def test_a_malformed_template_is_one_input_error(template: str, why: str) -> None:
    for option, opts in [
        ("src_template", FrameOptions(src_template=template)),
        ("frame_id", FrameOptions(frame_id=template, src_prefix="https://x.test")),
    ]:
        with pytest.raises(InputError, match=why) as info:
            assign_frames(_frames(), opts)
        assert str(info.value).startswith(f"{option}={template!r}: ")


def test_reference_id_templates_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^reference_id='\{sequence\.x\}'"):
        convert(_boxes(), tmp_path / "jobs.jsonl", jobs=JobOptions(reference_id="{sequence.x}"))
    assert list(tmp_path.iterdir()) == []
    check_template("{sequence}-{chunk:03d}", "reference_id", REFERENCE_FIELDS)


def test_number_is_the_one_based_frame_number() -> None:
    out = assign_frames(
        _frames(),
        FrameOptions(frame_id="{number:06d}", src_template="s3://b/{sequence}/{number:06d}.jpg"),
    )
    # index 0, 1 (cam1) and 0 (cam2) -> numbers 1, 2, 1, as ffmpeg's %06d frames
    assert out.frame_id.tolist() == ["000001", "000002", "000001"]
    assert out.src.tolist() == [
        "s3://b/cam1/000001.jpg",
        "s3://b/cam1/000002.jpg",
        "s3://b/cam2/000001.jpg",
    ]
    assert "number" in FRAME_FIELDS


# --- src messages ----------------------------------------------------------------------------
def test_an_empty_image_name_with_a_prefix_says_so() -> None:
    f = Frames.build([640, 640], [480, 480], name=["a.jpg", ""], sequence=["s", "s"], index=[0, 1])
    with pytest.raises(InputError) as info:
        assign_frames(f, FrameOptions(src_prefix="https://x.test"), source="in.json")
    msg = str(info.value)
    assert msg.startswith("in.json: frame '1' (#1 of sequence 's') has an empty image name")
    assert "give src_prefix=" not in msg
    with pytest.raises(InputError, match="has no src \\(give src_prefix=, src_template= or"):
        assign_frames(f, FrameOptions())


def test_a_video_without_image_names_points_at_src_template() -> None:
    f = Frames.build([640, 640], [480, 480], sequence=["v", "v"], index=[0, 1])
    with pytest.raises(InputError, match="names no images .* give src_template="):
        assign_frames(f, FrameOptions(src_prefix="https://x.test"))


def test_a_prefix_that_is_not_a_url_is_refused_up_front() -> None:
    with pytest.raises(InputError, match=r"^src_prefix='/data' is not an http"):
        assign_frames(_frames(), FrameOptions(src_prefix="/data"))


# --- what convert writes passes validate -----------------------------------------------------
def _unnamed_class() -> Annotations:
    """Boxes of the classes '' (twice) and 'car', each with its place in the input."""
    f = assign_frames(_frames(), FrameOptions(src_prefix="https://x.test"))
    return Annotations.from_boxes(
        f,
        np.tile([10, 10, 20, 20], (3, 1)),
        ["", "car", ""],
        [0, 1, 2],
        source=["$.annotations[0]", "$.annotations[1]", "$.annotations[2]"],
    )


def test_empty_labels_are_dropped_and_reported(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    result = convert(_unnamed_class(), out, source="in.json")
    assert result.shapes == 1
    assert list(file_problems(out)) == []
    rows = [r for r in result.report.rows if r["reason"] == "label_empty"]
    assert [r["source"] for r in rows] == ["$.annotations[0]", "$.annotations[2]"]
    assert rows[0]["detail"] == "the input names this class ''"


def test_empty_labels_under_error_name_the_file_and_the_place(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        convert(_unnamed_class(), tmp_path / "jobs.jsonl", on_invalid="error", source="in.json")
    assert str(info.value).startswith(
        "in.json:$.annotations[0]: 2 shape(s) would have an empty label"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_label_map_to_the_empty_name_drops_that_class(tmp_path: Path) -> None:
    report = Report()
    labels = LabelOptions({"car": "", "person": "Person", "bike": "Bike"}, source="map.yaml")
    out = apply_labels(_boxes(), labels, report)
    assert sorted(out.labels[i] for i in out.label) == ["Bike", "Person"]
    assert report.counts == {("dropped", "label_empty"): 2}
    assert report.rows[0]["detail"] == "the label map maps 'car' to ''"
    with pytest.raises(InputError, match=r"^map.yaml:\$.car: 2 shape\(s\) would have an empty"):
        apply_labels(_boxes(), labels, Report(), on_invalid="error")
    y = tmp_path / "labels.yaml"
    y.write_text("car: ''\nperson:\n  label: ''\n")
    assert load_label_map(y) == {"car": "", "person": {"label": ""}}


def test_an_input_without_frames_is_refused(tmp_path: Path) -> None:
    empty = Annotations.from_boxes(Frames.build([], []), np.zeros((0, 4)), [], [])
    with pytest.raises(InputError, match="^in.json: the input has no images or frames"):
        convert(empty, tmp_path / "jobs.jsonl", source="in.json")
    assert list(tmp_path.iterdir()) == []


def test_a_job_over_the_soft_limit_is_warned_with_the_option_that_splits_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "jobs.jsonl"
    plain = convert(_boxes(), out)
    assert plain.warnings == ()
    assert len(plain.job_bytes) == 2
    sizes = [len(line) for line in out.read_bytes().splitlines()]
    assert list(plain.job_bytes) == sizes
    limit = sizes[0] - 1  # cam1's job (2 frames) is just over, cam2's (1 frame) is not
    result = convert(_boxes(), out, soft_limit=limit)
    (warning,) = result.warnings
    assert warning.startswith("job on line 1 is ")
    assert "frames_per_job=N (about 1 here)" in warning
    assert result.report.counts[("noted", "job_over_soft_limit")] == 1
    split = convert(_boxes(), out, soft_limit=limit, jobs=JobOptions(frames_per_job=1))
    assert split.warnings == ()
    assert max(split.job_bytes) <= limit


def test_the_library_does_not_import_click() -> None:
    # the CLI is a layer over the library: importing prelabel, its convert pipeline and
    # every reader must not pull in click (it is only imported by prelabel.cli/commands).
    # prelabel.submit is left out: httpx itself imports click for its own command line.
    import subprocess
    import sys

    code = (
        "import sys, prelabel, prelabel.convert, prelabel.validate;"
        "from prelabel import convert, read_coco, read_yolo, read_cvat, read_mot;"
        "print(sorted(m for m in sys.modules if m == 'click' or m.startswith('click.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the reader's report -----------------------------------------------------------------------
COCO_FIXTURE = Path(__file__).parent.parent / "fixtures" / "coco" / "instances.json"


def test_convert_given_the_reader_keeps_its_report_rows_as_the_cli_does(tmp_path: Path) -> None:
    from functools import partial

    from click.testing import CliRunner

    from prelabel.cli import main
    from prelabel.formats.coco import read_coco

    prefix = FrameOptions(src_prefix="https://x/")
    read = partial(read_coco, COCO_FIXTURE)
    # the CLI names a sequence without a name after the input file
    result = convert(read, tmp_path / "lib.jsonl", frames=prefix, default_sequence="instances")
    assert result.report.counts[("split", "split_into_polygons")] == 1
    # what the CLI writes with --report: the same rows, from the same call
    args = ["convert", "coco", str(COCO_FIXTURE), "-o", str(tmp_path / "cli.jsonl")]
    args += ["--src-prefix", "https://x/", "--report", str(tmp_path / "r.json"), "-q"]
    assert CliRunner().invoke(main, args).exit_code == 0
    cli_report = json.loads((tmp_path / "r.json").read_text())
    assert cli_report == json.loads(json.dumps(result.report.to_dict()))
    assert (tmp_path / "lib.jsonl").read_bytes() == (tmp_path / "cli.jsonl").read_bytes()
    # annotations read beforehand keep the reader's rows only through the same report=
    report = Report()
    ann = read_coco(COCO_FIXTURE, report=report)
    kept = convert(ann, tmp_path / "o.jsonl", frames=prefix, report=report)
    assert kept.report.counts == result.report.counts
    alone = convert(read_coco(COCO_FIXTURE), tmp_path / "o.jsonl", frames=prefix)
    assert ("split", "split_into_polygons") not in alone.report.counts


def test_a_reader_is_not_called_when_an_option_is_refused(tmp_path: Path) -> None:
    calls: list[Report] = []

    def read(*, report: Report) -> Annotations:
        calls.append(report)
        return _boxes()

    with pytest.raises(InputError, match="reference_id="):
        convert(read, tmp_path / "o.jsonl", jobs=JobOptions(reference_id="{x}"))
    assert calls == []
    mine = Report()
    result = convert(read, tmp_path / "o.jsonl", report=mine)
    assert calls == [mine]
    assert result.report is mine

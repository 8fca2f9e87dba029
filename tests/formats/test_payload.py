"""The payload / result reader: jobs back into the IR, and errors that name the place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prelabel.annotations import Kind
from prelabel.errors import InputError
from prelabel.formats.payload import (
    JobContent,
    payload_jobs,
    read_jobs,
    read_payload,
    read_result,
    read_results,
)
from prelabel.geometry import prepare
from prelabel.jobs import JobOptions, job_lines
from prelabel.submit.results import result_file_name, saved_results
from tests.strategies import annotations, byte_mutations, mutate_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VALID = FIXTURES / "payloads" / "valid.jsonl"


def _job() -> dict[str, Any]:
    return orjson.loads(VALID.read_bytes().splitlines()[0])


def as_result(job: dict[str, Any], *, keep_reference: bool = True) -> dict[str, Any]:
    """A result document as API notes 2.2 describe it: the trackers of ``maker_response`` as
    a plain list under ``data.annotation_data.annotations``, the frames echoed."""
    out: dict[str, Any] = {
        "data": {
            "annotation_data": {
                "annotations": job["data"]["maker_response"]["video2d"]["data"]["annotations"]
            },
            "video_data": job["data"]["video_data"],
        }
    }
    if keep_reference:
        out["reference_id"] = job["reference_id"]
    return out


def _write_jsonl(path: Path, jobs: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(j) + b"\n" for j in jobs))
    return path


def test_valid_payload_reads_every_type() -> None:
    (job,) = list(read_payload(VALID))
    ann = job.annotations
    assert job.reference_id == "drive-07"
    assert list(job.frames.frame_id) == ["frame001", "frame002", "frame003"]
    # the fixture: a car over frames 1-2, then one polygon, line, cuboid, landmark
    assert ann.kind.tolist() == [Kind.RECTANGLE] * 2 + [
        Kind.POLYGON,
        Kind.LINE,
        Kind.CUBOID,
        Kind.LANDMARK,
    ]
    assert ann.track.tolist() == [0, 0, 1, 2, 3, 4]
    assert len(job.tracker_ids) == 5
    assert ann.normalised
    # the car's first box: [192, 108, 576, 432] on 1920 x 1080 -> TL (0.1, 0.1), BR (0.3, 0.4)
    np.testing.assert_array_equal(ann.points[:4], [[0.1, 0.1], [0.3, 0.1], [0.3, 0.4], [0.1, 0.4]])
    assert ann.attributes[0] == {"occluded": "false"}
    assert ann.counts.tolist() == [4, 4, 5, 3, 8, 3]
    assert ann.point_label[-3:].tolist() == [1, 2, 3]
    assert job.object_ids[0]
    assert job.object_ids[0] != job.tracker_ids[0]
    assert ann.source[0].endswith("annotations[0].frames.frame001")


def test_result_reads_the_same_as_its_payload(tmp_path: Path) -> None:
    payload = next(read_payload(VALID))
    file = tmp_path / "whatever.json"
    file.write_bytes(orjson.dumps(as_result(_job())))
    result = read_result(file)
    assert result.reference_id == payload.reference_id
    assert result.tracker_ids == payload.tracker_ids
    np.testing.assert_array_equal(result.annotations.points, payload.annotations.points)
    assert result.annotations.labels == payload.annotations.labels
    assert list(result.object_ids) == list(payload.object_ids)
    assert result.line is None


def test_result_without_reference_id_is_named_by_its_file(tmp_path: Path) -> None:
    for name in ("job-10", "job-9"):
        (tmp_path / f"{name}.json").write_bytes(
            orjson.dumps(as_result(_job(), keep_reference=False))
        )
    (tmp_path / "notes.txt").write_text("not a result")
    assert [j.reference_id for j in read_results(tmp_path)] == ["job-9", "job-10"]
    assert [j.reference_id for j in read_jobs(tmp_path)] == ["job-9", "job-10"]
    # results fetch percent-encodes what a file name cannot hold: a/b -> a%2Fb.json
    (tmp_path / "a%2Fb.json").write_bytes(orjson.dumps(as_result(_job(), keep_reference=False)))
    assert read_result(tmp_path / "a%2Fb.json").reference_id == "a/b"


def test_state_beside_value_is_kept_and_relabel_per_frame(tmp_path: Path) -> None:
    job = _job()
    car = job["data"]["maker_response"]["video2d"]["data"]["annotations"][0]
    car["frames"]["frame002"]["label"] = "Truck"
    car["frames"]["frame002"]["attributes"] = {"occluded": {"value": "true", "state": "editable"}}
    (content,) = list(read_payload(_write_jsonl(tmp_path / "j.jsonl", [job])))
    ann = content.annotations
    assert [ann.labels[i] for i in ann.label[:2]] == ["Car", "Truck"]
    assert ann.track[:2].tolist() == [0, 0]
    assert ann.attributes[1] == {"occluded": {"value": "true", "state": "editable"}}


def test_points_out_of_order_are_sorted_by_number(tmp_path: Path) -> None:
    job = _job()
    polygon = job["data"]["maker_response"]["video2d"]["data"]["annotations"][1]
    pts = polygon["frames"]["frame001"]["points"]
    polygon["frames"]["frame001"]["points"] = dict(reversed(list(pts.items())))
    (content,) = list(read_payload(_write_jsonl(tmp_path / "j.jsonl", [job])))
    (reference,) = list(read_payload(VALID))
    np.testing.assert_array_equal(content.annotations.points, reference.annotations.points)


def test_blank_lines_are_skipped_and_lines_counted(tmp_path: Path) -> None:
    file = tmp_path / "j.jsonl"
    line = VALID.read_bytes().splitlines()[0]
    second = orjson.loads(line)
    second["reference_id"] = "drive-08"
    file.write_bytes(line + b"\n\n" + orjson.dumps(second) + b"\n")
    assert [(j.reference_id, j.line) for j in read_payload(file)] == [
        ("drive-07", 1),
        ("drive-08", 3),
    ]


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda t: t[0]["frames"]["frame001"]["coordinates"][2].update(x=True), "coordinates[2].x"),
        (lambda t: t[0]["frames"]["frame001"]["coordinates"][1].pop("y"), "coordinates[1].y"),
        (lambda t: t[1]["frames"]["frame001"]["points"].update(p9={"x": 0, "y": 0}), "points"),
        (lambda t: t[4]["frames"]["frame003"]["points"]["p2"].update(label=1.5), "p2.label"),
        (lambda t: t[0]["frames"].update(nope=t[0]["frames"]["frame001"]), "frames.nope"),
        (lambda t: t[2].update(type="ellipse"), "annotations[2].type"),
        (lambda t: t[0]["frames"]["frame002"].update(label=""), "frame002.label"),
        # a coordinate beyond [0, 1] overflows (1e308) or leaves the frame once in pixels
        (lambda t: t[0]["frames"]["frame001"]["coordinates"][3].update(y=1e308), "[3].y"),
        (lambda t: t[1]["frames"]["frame001"]["points"]["p2"].update(x=-0.5), "p2.x"),
        (lambda t: t[0]["frames"]["frame001"].update(coordinates=[{"x": 0, "y": 0}]), "nates"),
        (lambda t: t[3]["frames"]["frame003"]["points"].pop("p8"), "frame003.points"),
        (
            lambda t: t[1]["frames"]["frame001"].update(points={"p1": {"x": 0.1, "y": 0.1}}),
            "frame001.points",
        ),
        # point labels are int32: 2**32 + 1 was read as 1, 2**64 - 1 an OverflowError
        (lambda t: t[4]["frames"]["frame003"]["points"]["p2"].update(label=2**32 + 1), "label"),
        (lambda t: t[4]["frames"]["frame003"]["points"]["p1"].update(label=2**64 - 1), "label"),
    ],
)
def test_bad_input_names_file_line_and_path(tmp_path: Path, edit: Any, where: str) -> None:
    job = _job()
    edit(job["data"]["maker_response"]["video2d"]["data"]["annotations"])
    file = _write_jsonl(tmp_path / "bad.jsonl", [job])
    with pytest.raises(InputError) as info:
        list(read_payload(file))
    assert info.value.path == str(file)
    assert info.value.location is not None
    assert info.value.location.startswith("1: $.data.maker_response.video2d.data.annotations")
    assert info.value.location.endswith(where)


def test_bad_json_and_missing_trackers(tmp_path: Path) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_bytes(VALID.read_bytes() + b"{not json\n")
    with pytest.raises(InputError, match="invalid JSON") as info:
        list(read_payload(file))
    assert info.value.location == "2"
    result = tmp_path / "r.json"
    result.write_bytes(orjson.dumps({"reference_id": "a", "data": {"video_data": {"frames": []}}}))
    with pytest.raises(InputError, match="missing 'annotation_data'"):
        read_result(result)


@given(annotations(inside=True))
def test_every_built_payload_reads_back(ann: Any) -> None:
    """What the builder writes reads back to the same normalised points, kinds and labels."""
    prepared, _ = prepare(ann, "repair")
    lines = list(job_lines(prepared, JobOptions()))
    jobs = [orjson.loads(line) for line in lines]
    total = 0
    for job in jobs:
        trackers = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
        total += sum(len(t["frames"]) for t in trackers)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        file = _write_jsonl(Path(tmp) / "j.jsonl", jobs)
        contents = list(read_payload(file))
    assert sum(len(c) for c in contents) == total == len(prepared)
    points = np.concatenate([c.annotations.points for c in contents]).reshape(-1, 2)
    # the same multiset of points (the builder orders shapes by tracker, not input order)
    np.testing.assert_array_equal(
        np.sort(points.view([("x", float), ("y", float)]).ravel()),
        np.sort(prepared.points.copy().view([("x", float), ("y", float)]).ravel()),
    )


def _trackers(job: dict[str, Any]) -> list[dict[str, Any]]:
    trackers: list[dict[str, Any]] = job["data"]["maker_response"]["video2d"]["data"]["annotations"]
    return trackers


def test_content_of_only_some_frames_reads_those_objects_alone(tmp_path: Path) -> None:
    job = _job()
    # a bad point on frame001 only: reading frame002's objects does not look at it
    _trackers(job)[0]["frames"]["frame001"]["coordinates"][0]["x"] = "bad"
    file = _write_jsonl(tmp_path / "j.jsonl", [job])
    (document,) = list(payload_jobs(file))
    assert (document.reference_id, document.line) == ("drive-07", 1)
    assert list(document.frames().frame_id) == ["frame001", "frame002", "frame003"]
    part = document.content({"frame002"})
    full = next(read_payload(VALID))
    on_2 = full.annotations.frame == 1
    assert part.annotations.kind.tolist() == full.annotations.kind[on_2].tolist()
    assert part.annotations.track.tolist() == full.annotations.track[on_2].tolist()
    assert part.tracker_ids == full.tracker_ids  # every tracker, even those not on frame002
    np.testing.assert_array_equal(
        part.annotations.points, full.annotations.points[np.repeat(on_2, full.annotations.counts)]
    )
    with pytest.raises(InputError, match=r"frame001\.coordinates\[0\]\.x: expected a number"):
        document.content()


def test_content_of_some_frames_still_checks_every_frame_key(tmp_path: Path) -> None:
    job = _job()
    car = _trackers(job)[0]
    car["frames"]["frame 9"] = car["frames"]["frame001"]
    (document,) = list(payload_jobs(_write_jsonl(tmp_path / "j.jsonl", [job])))
    with pytest.raises(InputError) as info:
        document.content({"frame003"})
    # the key as validate writes it in a path: ["frame 9"]
    assert (
        info.value.location
        == '1: $.data.maker_response.video2d.data.annotations[0].frames["frame 9"]'
    )
    assert info.value.message == "frame 'frame 9' is not in data.video_data.frames"


def test_polygon_edges_are_read_on_request(tmp_path: Path) -> None:
    job = _job()
    polygon = _trackers(job)[1]["frames"]["frame001"]
    (content,) = list(read_payload(_write_jsonl(tmp_path / "j.jsonl", [job])))
    assert content.edges is None  # not asked for
    (document,) = list(payload_jobs(tmp_path / "j.jsonl"))
    edges = document.content(edges=True).edges
    assert edges is not None
    expected = tuple(
        (int(a[1:]) - 1, int(b[1:]) - 1) for a, b in polygon["edges"].values()
    )  # p1 is row 0
    assert edges[2] == expected
    assert [e for i, e in enumerate(edges) if i != 2] == [None] * 5  # other kinds have none
    polygon["edges"]["e2"] = ["p2", "p9"]
    (document,) = list(payload_jobs(_write_jsonl(tmp_path / "bad.jsonl", [job])))
    with pytest.raises(
        InputError, match=r"frame001\.edges\.e2: edge e2 names p9, not a point of this polygon"
    ):
        document.content(edges=True)


def test_a_job_without_maker_response_has_no_shapes(tmp_path: Path) -> None:
    job = _job()
    del job["data"]["maker_response"]
    (content,) = list(read_payload(_write_jsonl(tmp_path / "j.jsonl", [job])))
    assert (len(content), len(content.frames), content.tracker_ids) == (0, 3, ())


def test_a_src_that_is_not_a_url_names_the_file_line_and_path(tmp_path: Path) -> None:
    job = _job()
    job["data"]["video_data"]["frames"][1]["src"] = "frames/000002.jpg"
    file = _write_jsonl(tmp_path / "j.jsonl", [job])
    with pytest.raises(InputError) as info:
        list(read_payload(file))
    assert info.value.path == str(file)
    assert info.value.location == "1: $.data.video_data.frames[1].src"
    assert "'frames/000002.jpg' is not an http(s)://" in info.value.message


def test_bad_json_on_the_first_line_hints_at_json_lines(tmp_path: Path) -> None:
    file = tmp_path / "pretty.jsonl"
    file.write_bytes((FIXTURES / "payloads" / "valid.pretty.json").read_bytes())
    with pytest.raises(InputError, match="one job per line") as info:
        list(read_payload(file))
    assert info.value.location == "1"


@pytest.mark.parametrize("reference_id", ["a/b", "drive 07", "CON", ".hidden", "50%", "é/ü", "a.b"])
def test_a_result_file_named_as_results_fetch_names_it_reads_back_its_reference_id(
    tmp_path: Path, reference_id: str
) -> None:
    name = result_file_name(reference_id)
    assert name is not None
    file = tmp_path / name
    file.write_bytes(orjson.dumps(as_result(_job(), keep_reference=False)))
    assert read_result(file).reference_id == reference_id
    assert saved_results(tmp_path) == {reference_id: file}  # the same decoding
    assert [j.reference_id for j in read_results(tmp_path)] == [reference_id]


# --- fuzz: mutated payloads and results give JobContent or one InputError ----------------------
_RESULTS = FIXTURES / "results"
_FUZZ_FILES = sorted(_RESULTS.glob("*.json")) + [_RESULTS / "prelabels.jsonl"]
_JSON_TOKENS = [
    b"{", b"}", b"[", b"]", b",", b":", b'"', b"\n", b"null", b"true", b"-1", b"0", b"1e308",
    b"-1e309", b"18446744073709551615", b"4294967297", b"NaN", b'"x"', b'"frame_000000"',
    b'"p1"', b'"p9"', b'"coordinates"', b'"points"', b'"edges"', b'"frames"', b'"type"', b'"polygon"', b'"cuboid"', b'"landmark"',
    b'"label"', b'"_id"', b'"reference_id"', b'"\\u0000"', b"\xff", b"{}", b"[]",
]  # fmt: skip


@given(
    st.sampled_from(_FUZZ_FILES),
    st.lists(byte_mutations(_JSON_TOKENS), min_size=1, max_size=3),
)
def test_mutated_results_and_payloads_read_or_fail_with_one_input_error(
    source: Path, mutations: list[tuple[str, float, bytes, int]]
) -> None:
    import tempfile

    data = source.read_bytes()
    for m in mutations:
        data = mutate_bytes(data, *m)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.name
        path.write_bytes(data)
        try:
            jobs = list(read_jobs(path))
            for job in jobs:
                assert isinstance(job, JobContent)
                assert len(job.object_ids) == len(job.annotations)
                assert np.isfinite(job.annotations.points).all()
        except InputError as exc:
            assert str(path) in str(exc)

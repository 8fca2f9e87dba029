"""Annotations.from_ultralytics on a stand-in with the real Results' attribute names and types
(recorded from ultralytics 8.4 by fixtures/adapters/ultralytics/make_results.py), and on the
real package when it is installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from prelabel.adapters.ultralytics import split_merged
from prelabel.annotations import Annotations, Kind
from prelabel.errors import InputError
from prelabel.report import Report
from tests.adapters.ultralytics_standin import Tensor, describe, load, standins

NAMES = ("person", "car", "dog")


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return standins()


def test_standin_has_the_recorded_attributes_names_and_types(results: dict[str, Any]) -> None:
    meta, _ = load()
    assert meta["ultralytics"].startswith("8.")
    for rec in meta["results"]:
        r = results[rec["case"]]
        for key, want in rec["attrs"].items():
            part, _, field = key.partition(".")
            obj = getattr(r, part)
            value = getattr(obj, field) if field else obj
            if "class" in want:  # Boxes, Masks, ... or None: the class name
                assert type(obj).__name__ == want["class"], key
                continue
            assert describe(value) == want, key


def test_frames_from_orig_shape_height_first_and_path(results: dict[str, Any]) -> None:
    order = ["track", "detect", "empty"]
    ann = Annotations.from_ultralytics([results[k] for k in order], sequence="cam1")
    # orig_shape is (48, 64): height 48, width 64
    assert ann.frames.width.tolist() == [64, 64, 64]
    assert ann.frames.height.tolist() == [48, 48, 48]
    assert ann.frames.name.tolist() == ["videos/street.mp4", "images/0001.jpg", "images/0005.jpg"]
    assert ann.frames.sequence.tolist() == ["cam1"] * 3
    assert ann.frames.index.tolist() == [0, 1, 2]
    assert ann.labels == NAMES
    assert ann.frame.tolist() == [0, 0, 0, 1, 1]  # three tracked boxes, two boxes, nothing


def test_boxes_with_conf_and_track_ids(results: dict[str, Any]) -> None:
    ann = Annotations.from_ultralytics(results["track"])
    assert ann.kind.tolist() == [Kind.RECTANGLE] * 3
    assert ann.track.tolist() == [7, 8, 12]
    assert [ann.labels[i] for i in ann.label] == ["person", "car", "dog"]
    assert ann.score == pytest.approx([0.9, 0.5, 0.25])
    # the third box x1, y1, x2, y2 = 30.5, 10.25, 60, 47 as corners TL TR BR BL
    assert ann.points[8:12].tolist() == [[30.5, 10.25], [60, 10.25], [60, 47], [30.5, 47]]
    assert ann.source.tolist() == [f"results[0].boxes[{i}]" for i in range(3)]


def test_untracked_boxes_have_no_track(results: dict[str, Any]) -> None:
    ann = Annotations.from_ultralytics(results["detect"])
    assert results["detect"].boxes.id is None
    assert ann.track.tolist() == [-1, -1]


def test_masks_become_polygons_merged_pieces_split_and_empty_reported(
    results: dict[str, Any],
) -> None:
    report = Report()
    ann = Annotations.from_ultralytics(results["segment"], report=report)
    assert ann.kind.tolist() == [Kind.POLYGON] * 3  # the boxes give way to the outlines
    # mask 0 as one ring; mask 1 (two rectangles Ultralytics merged) as two, the larger
    # (19 x 9 = 171 px^2 between pixel centres) before the smaller (9 x 5 = 45); mask 2 none
    assert ann.source.tolist() == ["results[0].masks[0]"] + ["results[0].masks[1]"] * 2
    assert ann.area.tolist() == [9 * 14, 19 * 9, 9 * 5]
    assert ann.points[ann.offsets[1] : ann.offsets[2]].min(axis=0).tolist() == [30, 30]
    reasons = sorted((r["reason"], r["source"]) for r in report.rows)
    assert reasons == [
        ("mask_empty", "results[0].masks[2]"),
        ("split_into_polygons", "results[0].masks[1]"),
    ]


def test_with_boxes_keeps_each_box_before_its_outline(results: dict[str, Any]) -> None:
    ann = Annotations.from_ultralytics(results["segment"], with_boxes=True, report=Report())
    assert ann.kind.tolist() == [0, 1, 0, 1, 1, 0]  # box, outline per detection; box 2 alone


def test_multipart_largest_keeps_one_piece(results: dict[str, Any]) -> None:
    report = Report()
    ann = Annotations.from_ultralytics(results["segment"], multipart="largest", report=report)
    assert ann.area.tolist() == [9 * 14, 19 * 9]
    assert "multipart_smaller_parts" in {r["reason"] for r in report.rows}


def test_split_merged_is_the_identity_on_one_piece() -> None:
    ring = np.array([[0.0, 0], [4, 0], [4, 3], [0, 3]])
    assert [p.tolist() for p in split_merged(ring)] == [ring.tolist()]
    assert split_merged(np.zeros((0, 2))) == []


def test_keypoints_below_the_threshold_are_left_out(results: dict[str, Any]) -> None:
    _, arrays = load()
    conf = arrays["pose/keypoints.conf"]
    report = Report()
    ann = Annotations.from_ultralytics(results["pose"], report=report)
    visible = np.flatnonzero(conf[0] >= 0.25)
    assert ann.kind.tolist() == [Kind.LANDMARK]  # the second person has no point >= 0.25
    assert ann.point_label.tolist() == (visible + 1).tolist()
    assert ann.points.tolist() == arrays["pose/keypoints.xy"][0][visible].tolist()
    assert [(r["reason"], r["source"]) for r in report.rows] == [
        ("no_visible_keypoints", "results[0].keypoints[1]")
    ]
    stricter = Annotations.from_ultralytics(
        results["pose"], keypoint_threshold=0.5, report=Report()
    )
    assert len(stricter.points) == int((conf[0] >= 0.5).sum())


def test_obb_axis_aligned_is_a_rectangle_rotated_a_polygon(results: dict[str, Any]) -> None:
    ann = Annotations.from_ultralytics(results["obb"])
    assert ann.kind.tolist() == [Kind.RECTANGLE, Kind.POLYGON]
    # cx, cy, w, h = 30, 20, 20, 10 at angle 0: x 20..40, y 15..25, corners TL TR BR BL
    assert ann.points[:4].tolist() == [[20, 15], [40, 15], [40, 25], [20, 25]]
    assert [ann.labels[i] for i in ann.label] == ["car", "person"]


def test_empty_result_keeps_its_frame(results: dict[str, Any]) -> None:
    ann = Annotations.from_ultralytics(results["empty"])
    assert len(ann) == 0
    assert len(ann.frames) == 1
    assert ann.labels == NAMES


def test_a_generator_is_read_one_result_at_a_time(results: dict[str, Any]) -> None:
    seen = []

    def stream() -> Any:  # model.track(..., stream=True) yields results as frames are read
        for case in ("track", "detect"):
            seen.append(case)
            yield results[case]

    ann = Annotations.from_ultralytics(stream(), frame_id=["a", "b"])
    assert seen == ["track", "detect"]
    assert ann.frames.frame_id.tolist() == ["a", "b"]
    with pytest.raises(
        InputError, match=r"^frame_id: expected 2 values \(one per result\), got 1$"
    ):
        Annotations.from_ultralytics([results["track"], results["detect"]], frame_id=["a"])


def test_frame_id_and_src_are_checked_like_frames_build(results: dict[str, Any]) -> None:
    r = results["detect"]
    ann = Annotations.from_ultralytics(r, frame_id=["f1"], src=["https://x.example/1.jpg"])
    assert ann.frames.frame_id.tolist() == ["f1"]
    with pytest.raises(InputError, match=r"src\[0\]: 'frames/1.jpg' is not an http"):
        Annotations.from_ultralytics(r, src=["frames/1.jpg"])


def test_rows_without_a_report_are_a_warning(results: dict[str, Any]) -> None:
    with pytest.warns(UserWarning, match="mask_empty.*pass report="):
        Annotations.from_ultralytics(results["segment"])


def test_wrong_input_names_the_place(results: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=r"results\[1\]: expected an ultralytics Results"):
        Annotations.from_ultralytics([results["detect"], "x.jpg"])
    with pytest.raises(InputError, match="results: is empty"):
        Annotations.from_ultralytics([])
    other = standins()["detect"]
    other.names = {0: "cat"}
    with pytest.raises(InputError, match=r"results\[1\].names: differ"):
        Annotations.from_ultralytics([results["detect"], other])
    broken = standins()["track"]
    broken.boxes.id = Tensor(np.array([7.0, np.nan, 9.0], np.float32))
    with pytest.raises(InputError, match=r"results\[0\].boxes.id\[1\]: is nan"):
        Annotations.from_ultralytics(broken)


# --- the real package (opt-in: runs where ultralytics and torch are installed) --------------
def _real_results() -> dict[str, Any]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("ultralytics")
    from ultralytics.engine.results import Results

    meta, arrays = load()
    names = {int(k): v for k, v in meta["names"].items()}
    out = {}
    for rec in meta["results"]:
        h, w = rec["orig_shape"]
        raw = {
            k: torch.from_numpy(arrays[f"{rec['case']}/raw/{k}"])
            for k in ("boxes", "masks", "keypoints", "obb")
            if f"{rec['case']}/raw/{k}" in arrays
        }
        out[rec["case"]] = Results(np.zeros((h, w, 3), np.uint8), rec["path"], names, **raw)
    return out


def test_real_results_give_what_the_standin_gives(results: dict[str, Any]) -> None:
    real = _real_results()
    order = list(results)
    a = Annotations.from_ultralytics([real[k] for k in order], report=Report())
    b = Annotations.from_ultralytics([results[k] for k in order], report=Report())
    for col in ("kind", "frame", "label", "track", "offsets", "points", "point_label", "source"):
        assert np.array_equal(getattr(a, col), getattr(b, col)), col
    assert np.allclose(a.score, b.score, equal_nan=True)
    assert a.labels == b.labels
    assert a.frames.same_as(b.frames)


# --- what a new user passes: tensors as torch gives them, results without boxes ------------


class _GpuTensor(Tensor):
    """A tensor on a GPU: ``numpy()`` refuses (torch's words) until ``cpu()`` copies it."""

    def numpy(self) -> Any:
        raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu()")

    def cpu(self) -> Tensor:
        return Tensor(self._data)


class _BFloat16(Tensor):
    """A bfloat16 tensor: numpy has no such dtype, ``numpy()`` refuses until ``float()``."""

    def numpy(self) -> Any:
        raise TypeError("Got unsupported ScalarType BFloat16")

    def float(self) -> Tensor:
        return Tensor(self._data.astype(np.float32))


def _boxes_result(wrap: type[Tensor], dtype: Any = np.float32) -> Any:
    from tests.adapters.ultralytics_standin import Boxes, Results

    xyxy = np.array([[1, 2, 30, 40], [10, 5, 60, 47]], dtype)
    boxes = Boxes(
        wrap(xyxy),
        wrap(np.array([0.9, 0.5], dtype)),
        wrap(np.array([0, 2], dtype)),
        wrap(np.array([7, 8], dtype)),
    )
    return Results((48, 64), "f.jpg", dict(enumerate(NAMES)), boxes=boxes)


@pytest.mark.parametrize("wrap", [_GpuTensor, _BFloat16])
def test_gpu_and_bfloat16_tensors_are_read(wrap: type[Tensor]) -> None:
    ann = Annotations.from_ultralytics(_boxes_result(wrap))
    assert ann.xyxy.tolist() == [[1, 2, 30, 40], [10, 5, 60, 47]]
    assert ann.track.tolist() == [7, 8]
    assert [ann.labels[i] for i in ann.label] == ["person", "dog"]


@pytest.mark.filterwarnings("error")
def test_float16_ids_are_checked_without_a_numpy_warning() -> None:
    # float16 cannot hold 2**62: comparing in float16 warned "overflow encountered in cast"
    ann = Annotations.from_ultralytics(_boxes_result(Tensor, np.float16))
    assert ann.track.tolist() == [7, 8]
    assert ann.label.tolist() == [0, 2]


def test_a_classification_result_is_refused_naming_probs() -> None:
    r = standins()["empty"]  # a fresh one: the module's are shared
    r.boxes, r.probs = None, Tensor(np.array([0.2, 0.8], np.float32))  # type: ignore[attr-defined]
    with pytest.raises(InputError, match=r"results\[0\]\.probs: is a classification result"):
        Annotations.from_ultralytics(r)


def test_a_result_without_boxes_is_a_frame_without_shapes(results: dict[str, Any]) -> None:
    r = standins()["empty"]
    r.boxes = None
    # alone it was numpy's "need at least one array to concatenate"
    ann = Annotations.from_ultralytics(r)
    assert len(ann) == 0
    assert len(ann.frames) == 1
    both = Annotations.from_ultralytics([r, results["detect"]])
    assert both.frame.tolist() == [1, 1]


def test_masks_without_boxes_are_refused_naming_boxes() -> None:
    r = standins()["segment"]
    r.boxes = None
    with pytest.raises(InputError, match=r"results\[0\]\.boxes: is None but masks are given"):
        Annotations.from_ultralytics(r)


@pytest.mark.parametrize("keyword", ["frame_id", "src"])
def test_frame_id_or_src_as_one_string_is_refused(results: dict[str, Any], keyword: str) -> None:
    # list("a") happened to be ["a"]; "https://..." gave "expected 1 values, got 15"
    value = "https://a/b.jpg" if keyword == "src" else "f1"
    with pytest.raises(InputError, match=rf"{keyword}: expected a list of strings"):
        Annotations.from_ultralytics(results["detect"], **{keyword: value})


def test_flags_and_thresholds_are_their_types(results: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="with_boxes: expected True or False"):
        Annotations.from_ultralytics(results["detect"], with_boxes="no")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="keypoint_threshold: expected a number"):
        Annotations.from_ultralytics(results["detect"], keypoint_threshold=True)


def test_real_bfloat16_and_classification_results() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("ultralytics")
    from ultralytics.engine.results import Results

    img = np.zeros((48, 64, 3), np.uint8)
    boxes = torch.tensor([[1, 2, 30, 40, 7, 0.9, 2]], dtype=torch.bfloat16)
    ann = Annotations.from_ultralytics(Results(img, "f.jpg", dict(enumerate(NAMES)), boxes=boxes))
    assert ann.xyxy.tolist() == [[1, 2, 30, 40]]
    assert ann.track.tolist() == [7]
    probs = Results(img, "f.jpg", dict(enumerate(NAMES)), probs=torch.tensor([0.1, 0.2, 0.7]))
    with pytest.raises(InputError, match=r"results\[0\]\.probs: is a classification result"):
        Annotations.from_ultralytics(probs)


def test_misshapen_parts_of_a_result_are_named() -> None:
    # keypoints.conf of the wrong size was numpy's "cannot reshape array of size ..."
    r = standins()["pose"]
    assert r.keypoints is not None
    assert r.keypoints.conf is not None
    r.keypoints.conf = Tensor(r.keypoints.conf.numpy()[:, :-1])
    with pytest.raises(InputError, match=r"results\[0\]\.keypoints\.conf: expected shape"):
        Annotations.from_ultralytics(r)
    r = standins()["segment"]
    assert r.masks is not None
    r.masks.xy[0] = np.zeros((3, 3), np.float32)
    with pytest.raises(InputError, match=r"results\[0\]\.masks\[0\]\.xy: expected shape \(K, 2\)"):
        Annotations.from_ultralytics(r)
    r = standins()["obb"]
    assert r.obb is not None
    r.obb.xyxyxyxy = Tensor(r.obb.xyxyxyxy.numpy()[:, :3])
    with pytest.raises(InputError, match=r"results\[0\]\.obb\.xyxyxyxy: expected shape"):
        Annotations.from_ultralytics(r)
    r = standins()["detect"]
    assert r.boxes is not None
    r.boxes.conf = Tensor(r.boxes.conf.numpy()[:1])  # was taken, misaligned with the boxes
    with pytest.raises(InputError, match=r"results\[0\]\.boxes\.conf: expected 2 numbers"):
        Annotations.from_ultralytics(r)


def test_too_few_frame_ids_for_a_stream_are_said_at_the_first_result_over() -> None:
    seen = []

    def stream() -> Any:
        for i in range(1000):
            seen.append(i)
            yield standins()["detect"]

    with pytest.raises(InputError, match="frame_id: expected one value per result, got 2"):
        Annotations.from_ultralytics(stream(), frame_id=["a", "b"])
    assert seen == [0, 1, 2]  # not the whole video first

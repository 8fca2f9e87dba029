"""Annotations.from_supervision on real sv.Detections (skipped without supervision)."""

from __future__ import annotations

import numpy as np
import pytest

from prelabel.annotations import Annotations, Kind
from prelabel.errors import InputError
from prelabel.report import Report

sv = pytest.importorskip("supervision")


def _two_masks() -> np.ndarray:
    m = np.zeros((2, 48, 64), bool)
    m[0, 5:20, 5:15] = True  # 10 x 15 pixels
    m[1, 30:40, 30:50] = True  # two pieces: 20 x 10 and 10 x 6 pixels
    m[1, 2:8, 50:60] = True
    return m


def _tracked() -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([[1.0, 2, 20, 30], [10, 5, 40, 40]]),
        confidence=np.array([0.9, 0.5]),
        class_id=np.array([0, 1]),
        tracker_id=np.array([7, 8]),
        data={"class_name": np.array(["person", "car"])},
    )


def test_boxes_scores_tracks_and_class_names() -> None:
    ann = Annotations.from_supervision(_tracked(), width=64, height=48)
    assert ann.kind.tolist() == [Kind.RECTANGLE] * 2
    assert [ann.labels[i] for i in ann.label] == ["person", "car"]
    assert ann.track.tolist() == [7, 8]
    assert ann.score.tolist() == [0.9, 0.5]
    assert ann.points[:4].tolist() == [[1, 2], [20, 2], [20, 30], [1, 30]]
    assert (ann.frames.width.tolist(), ann.frames.height.tolist()) == ([64], [48])


def test_a_list_is_one_frame_each_and_untracked_is_no_track() -> None:
    plain = sv.Detections(xyxy=np.array([[0.0, 0, 5, 5]]), class_id=np.array([1]))
    frames = [_tracked(), sv.Detections.empty(), plain]
    ann = Annotations.from_supervision(frames, width=64, height=48, names=["person", "car"])
    assert len(ann.frames) == 3
    assert ann.frame.tolist() == [0, 0, 2]
    assert ann.track.tolist() == [7, 8, -1]
    assert np.isnan(ann.score[2])
    assert [ann.labels[i] for i in ann.label] == ["person", "car", "car"]


def test_class_ids_without_names_are_refused() -> None:
    plain = sv.Detections(xyxy=np.array([[0.0, 0, 5, 5]]), class_id=np.array([1]))
    with pytest.raises(InputError, match=r"detections.class_id: .*pass names="):
        Annotations.from_supervision(plain, width=64, height=48)


def test_masks_traced_on_pixel_corners_pieces_split_and_reported() -> None:
    d = _tracked()
    d.mask = _two_masks()
    report = Report()
    ann = Annotations.from_supervision(d, width=64, height=48, report=report)
    assert ann.kind.tolist() == [Kind.POLYGON] * 3
    # outlines on pixel corners: areas are pixel counts, the larger piece keeps the track
    assert ann.area.tolist() == [10 * 15, 20 * 10, 10 * 6]
    assert ann.track.tolist() == [7, 8, -1]
    assert [(r["action"], r["reason"]) for r in report.rows] == [("split", "split_into_polygons")]


def test_compact_masks_give_the_dense_result() -> None:
    from supervision.detection.compact_mask import CompactMask

    d = _tracked()
    d.xyxy = np.array([[5.0, 5, 15, 20], [30, 2, 60, 40]])  # a CompactMask keeps its box's crop
    d.mask = _two_masks()
    dense = Annotations.from_supervision(d, width=64, height=48, report=Report())
    d.mask = CompactMask.from_dense(_two_masks(), d.xyxy, image_shape=(48, 64))
    compact = Annotations.from_supervision(d, width=64, height=48, report=Report())
    assert np.array_equal(dense.points, compact.points)
    assert np.array_equal(dense.offsets, compact.offsets)


def test_a_mask_of_another_size_is_refused() -> None:
    d = _tracked()
    d.mask = _two_masks()
    with pytest.raises(InputError, match=r"detections.mask: expected shape \(2, 40, 64\)"):
        Annotations.from_supervision(d, width=64, height=40)


def test_merge_of_frames_is_not_needed_width_per_frame() -> None:
    ann = Annotations.from_supervision([_tracked(), _tracked()], width=[64, 32], height=48)
    assert ann.frames.width.tolist() == [64, 32]
    with pytest.raises(InputError, match="width: expected one number or 2"):
        Annotations.from_supervision([_tracked(), _tracked()], width=[64, 32, 16], height=48)


# --- what a new user passes ----------------------------------------------------------------


@pytest.mark.parametrize("name", [None, 3])
def test_a_class_name_that_is_no_string_is_refused(name: object) -> None:
    # np.array(["car", None]) gave the label "None"
    d = sv.Detections(
        xyxy=np.array([[1.0, 2, 20, 30], [10, 5, 40, 40]]),
        data={"class_name": np.array(["car", name], dtype=object)},
    )
    with pytest.raises(
        InputError, match=r"detections\.data\['class_name'\]\[1\]: expected a class"
    ):
        Annotations.from_supervision(d, width=64, height=48)


@pytest.mark.parametrize("width", [float("nan"), 0, -64, None, "64"])
def test_a_frame_size_is_a_positive_number(width: object) -> None:
    with pytest.raises(InputError, match="width: .*pixels > 0"):
        Annotations.from_supervision(_tracked(), width=width, height=48)  # type: ignore[arg-type]


def test_fractions_passed_as_pixels_are_refused() -> None:
    d = _tracked()
    d.xyxy = d.xyxy / 100  # xyxyn-style fractions in a Detections of pixels
    with pytest.raises(InputError, match=r"detections\.xyxy: every coordinate lies in 0\.\.1"):
        Annotations.from_supervision(d, width=640, height=480)


def test_a_soft_float_mask_is_refused_with_the_fix() -> None:
    d = _tracked()
    d.mask = _two_masks().astype(np.float32) * 0.3  # probabilities, not thresholded
    with pytest.raises(InputError, match=r"detections\.mask\[0, 5, 5\]: .*threshold"):
        Annotations.from_supervision(d, width=64, height=48)
    d.mask = _two_masks().astype(np.float32)  # exactly 0 and 1: traced as the bool masks
    ann = Annotations.from_supervision(d, width=64, height=48, report=Report())
    assert (ann.kind == Kind.POLYGON).all()
    assert len(ann) == 3


def test_with_boxes_is_true_or_false() -> None:
    with pytest.raises(InputError, match="with_boxes: expected True or False"):
        Annotations.from_supervision(_tracked(), width=64, height=48, with_boxes="no")  # type: ignore[arg-type]


def test_a_nan_tracker_id_gets_the_hint() -> None:
    d = _tracked()
    d.tracker_id = np.array([7.0, np.nan])
    with pytest.raises(InputError, match=r"tracker_id\[1\]: is nan.*-1 for a detection without"):
        Annotations.from_supervision(d, width=64, height=48)


def test_oriented_boxes_in_data_are_polygons_not_their_enclosing_boxes() -> None:
    # Detections.from_ultralytics of an OBB model keeps the corners in data["xyxyxyxy"];
    # xyxy is only the enclosing box, which was written instead, silently
    rotated = np.array([[20.0, 5], [40, 20], [25, 40], [5, 25]])
    aligned = np.array([[30.0, 30], [50, 30], [50, 45], [30, 45]])
    d = sv.Detections(
        xyxy=np.array([[5.0, 5, 40, 40], [30, 30, 50, 45]]),
        data={"class_name": np.array(["ship", "car"]), "xyxyxyxy": np.stack([rotated, aligned])},
    )
    ann = Annotations.from_supervision(d[d.xyxy[:, 0] >= 0], width=64, height=48)
    assert ann.kind.tolist() == [Kind.POLYGON, Kind.RECTANGLE]
    assert ann.points[:4].tolist() == rotated.tolist()
    assert ann.xyxy[1].tolist() == [30, 30, 50, 45]
    d.data["xyxyxyxy"] = np.zeros((2, 3, 2))
    with pytest.raises(
        InputError, match=r"detections\.data\['xyxyxyxy'\]: expected shape \(2, 4, 2\)"
    ):
        Annotations.from_supervision(d, width=64, height=48)


def test_a_result_of_the_other_library_is_pointed_to_its_adapter() -> None:
    from tests.adapters.ultralytics_standin import standins

    with pytest.raises(InputError, match="Results goes to Annotations.from_ultralytics"):
        Annotations.from_supervision(standins()["detect"], width=64, height=48)
    with pytest.raises(InputError, match="Detections goes to Annotations.from_supervision"):
        Annotations.from_ultralytics(_tracked())

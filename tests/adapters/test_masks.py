"""Annotations.from_masks: binary masks -> polygons with the COCO RLE policy, reported."""

from __future__ import annotations

import numpy as np
import pytest

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.errors import InputError
from prelabel.report import Report

pytest.importorskip("cv2")


@pytest.fixture
def frames() -> Frames:
    return Frames.build([16, 16], [12, 12], frame_id=["a", "b"])


def _masks() -> np.ndarray:
    m = np.zeros((4, 12, 16), np.uint8)
    m[0, 2:6, 3:8] = 1  # 5 x 4 pixels
    m[1, 1:9, 1:9] = 1  # 8 x 8 with a 2 x 2 hole
    m[1, 4:6, 4:6] = 0
    m[2, 0:3, 0:3] = 1  # 3 x 3 and a speck of 1 pixel (under 4 px^2)
    m[2, 10, 14] = 1
    return m  # m[3] has no pixel


def test_polygons_on_pixel_corners_with_holes_filled_specks_dropped(frames: Frames) -> None:
    report = Report()
    ann = Annotations.from_masks(
        frames, _masks(), ["a", "b", "c", "d"], [0, 0, 1, 1], track=[1, 2, 3, 4], report=report
    )
    assert ann.kind.tolist() == [Kind.POLYGON] * 3
    assert ann.area.tolist() == [5 * 4, 8 * 8, 3 * 3]  # the hole is filled
    assert ann.xyxy[0].tolist() == [3, 2, 8, 6]  # pixel corners: columns 3..7 -> x 3..8
    assert ann.track.tolist() == [1, 2, 3]
    assert ann.source.tolist() == ["masks[0]", "masks[1]", "masks[2]"]
    rows = sorted((r["reason"], r["source"], r["frame"], r["label"]) for r in report.rows)
    assert rows == [
        ("mask_empty", "masks[3]", "b", "d"),
        ("mask_holes_filled", "masks[1]", "a", "b"),
        ("mask_specks", "masks[2]", "b", "c"),
    ]


def test_pieces_split_the_largest_keeps_the_track(frames: Frames) -> None:
    m = np.zeros((1, 12, 16), bool)
    m[0, 0:4, 0:4] = True
    m[0, 6:12, 8:16] = True
    report = Report()
    ann = Annotations.from_masks(frames, m, "x", 0, track=5, report=report)
    assert ann.area.tolist() == [6 * 8, 4 * 4]
    assert ann.track.tolist() == [5, -1]
    assert [r["reason"] for r in report.rows] == ["split_into_polygons"]
    one = Annotations.from_masks(frames, m, "x", 0, multipart="largest", report=Report())
    assert one.area.tolist() == [6 * 8]


def test_without_a_report_the_rows_are_a_warning(frames: Frames) -> None:
    with pytest.warns(UserWarning, match="mask_empty"):
        Annotations.from_masks(frames, np.zeros((1, 12, 16)), "x", 0)


def test_wrong_masks_are_refused_by_name(frames: Frames) -> None:
    with pytest.raises(InputError, match=r"masks: expected an \(N, H, W\) array.*\(12, 16\)"):
        Annotations.from_masks(frames, np.zeros((12, 16)), "x", 0)
    with pytest.raises(InputError, match=r"masks\[0\]: is 16 x 10 pixels but its frame"):
        Annotations.from_masks(frames, np.zeros((1, 10, 16)), "x", 0)
    with pytest.raises(InputError, match=r"labels: expected 2 label names"):
        Annotations.from_masks(frames, np.zeros((2, 12, 16)), ["x"], 0)
    with pytest.raises(InputError, match="multipart: expected 'split' or 'largest'"):
        Annotations.from_masks(frames, np.zeros((1, 12, 16)), "x", 0, multipart="all")


def test_one_h_w_mask_gets_the_fix(frames: Frames) -> None:
    with pytest.raises(InputError, match=r"masks: expected an \(N, H, W\).*masks\[None\]"):
        Annotations.from_masks(frames, _masks()[0], "car", 0)


@pytest.mark.parametrize("value", [0.3, float("nan")])
def test_a_float_mask_that_is_not_binary_is_refused(frames: Frames, value: float) -> None:
    # "non-zero = inside" would make a soft mask (or NaN) inside everywhere
    m = _masks().astype(np.float64)
    m[1, 2, 3] = value
    with pytest.raises(InputError, match=r"masks\[1, 2, 3\]: is .*must be 0 or 1"):
        Annotations.from_masks(frames, m, "car", 0)


def test_a_ragged_list_of_masks_is_named(frames: Frames) -> None:
    m = _masks()
    with pytest.raises(InputError, match="masks: .*a list of 2 whose items differ in shape"):
        Annotations.from_masks(frames, [m[0], m[0][:5]], "car", 0)


def test_min_area_is_any_real_number_but_not_a_flag(frames: Frames) -> None:
    # numpy numbers are numbers (np.int64 was refused); True is no area (it was taken as 1)
    m = np.zeros((1, 12, 16), np.uint8)
    m[0, 0:3, 0:3] = 1  # 9 px^2
    keep = Annotations.from_masks(frames, m, "a", 0, min_area=np.int64(9))
    gone = Annotations.from_masks(frames, m, "a", 0, min_area=np.float32(10), report=Report())
    assert (len(keep), len(gone)) == (1, 0)
    for flag in (True, np.bool_(True)):
        with pytest.raises(InputError, match=r"^min_area: expected a number of square pixels"):
            Annotations.from_masks(frames, m, "a", 0, min_area=flag)

"""Masks -> polygons: RLE decoding and outlines along pixel corners."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_api

from prelabel.errors import MissingExtraError
from prelabel.formats.masks import (
    MAX_MASK_PIXELS,
    RLEError,
    compressed_counts,
    decode_rle,
    polygons_from_mask,
    trace_mask,
)


def _mask(h: int, w: int, *on: tuple[slice | int, slice | int]) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    for rows, cols in on:
        m[rows, cols] = 1
    return m


def _ring(pts: np.ndarray) -> set[tuple[float, float]]:
    return {(float(x), float(y)) for x, y in pts}


# --- outlines ----------------------------------------------------------------------------------
def test_single_pixel_is_its_square() -> None:
    # pixel (col 5, row 7) covers [5, 6] x [7, 8]
    (poly,) = polygons_from_mask(_mask(10, 12, (7, 5)), min_area=0)
    assert _ring(poly) == {(5, 7), (5, 8), (6, 8), (6, 7)}


def test_l_shape_keeps_its_inner_corner() -> None:
    # pixels (0,0), (0,1), (1,1) as (col,row): the inner corner (1, 1) is a vertex; area 3
    (poly,) = polygons_from_mask(_mask(4, 4, (0, 0), (1, 0), (1, 1)), min_area=0)
    assert _ring(poly) == {(0, 0), (0, 2), (2, 2), (2, 1), (1, 1), (1, 0)}
    assert shapely.Polygon(poly).area == 3


def test_hole_filled_and_speck_dropped_are_counted() -> None:
    # 4 x 3 block (cols 2..5, rows 1..3) with a hole at (3, 2), and one pixel at (7, 5)
    m = _mask(6, 8, (slice(1, 4), slice(2, 6)), (5, 7))
    m[2, 3] = 0
    out = trace_mask(m, min_area=4)
    assert out.specks == 1
    assert out.holes == 1
    (poly,) = out.polygons
    # the block's outline: x 2..6, y 1..4 -> area 4 * 3 = 12 (the hole filled)
    assert _ring(poly) == {(2, 1), (6, 1), (6, 4), (2, 4)}
    assert len(trace_mask(m, min_area=1).polygons) == 2  # a one-pixel piece has area 1


def test_pieces_largest_first_and_offset() -> None:
    m = _mask(6, 8, (slice(0, 2), slice(0, 2)), (slice(4, 6), slice(5, 8)))
    small_first = polygons_from_mask(m, min_area=0, offset=(100, 10))
    areas = [shapely.Polygon(p).area for p in small_first]
    assert areas == [6, 4]
    # the 3 x 2 piece: cols 5..7 -> x 105..108, rows 4..5 -> y 14..16
    assert _ring(small_first[0]) == {(105, 14), (108, 14), (108, 16), (105, 16)}


def test_corner_touching_pixels_make_one_valid_polygon() -> None:
    polys = polygons_from_mask(_mask(3, 3, (0, 0), (1, 1)), min_area=0)
    assert len(polys) == 1
    p = shapely.Polygon(polys[0])
    assert p.is_valid
    # two unit squares joined by a neck of two 1/8-pixel triangles
    assert p.area == pytest.approx(2.25)


def test_empty_mask_and_bad_shape() -> None:
    assert trace_mask(np.zeros((4, 4)), min_area=0).polygons == []
    assert polygons_from_mask(np.ones((2, 3, 1)), min_area=0)  # (h, w, 1) is accepted
    with pytest.raises(ValueError, match=r"must be 2-D, not of shape \(5,\)"):
        trace_mask(np.zeros(5), min_area=0)


def _has_pinch(m: np.ndarray) -> bool:
    p = np.pad(m.astype(bool), 1)
    a, b, c, d = p[:-1, :-1], p[:-1, 1:], p[1:, :-1], p[1:, 1:]
    return bool(((a & d & ~b & ~c) | (b & c & ~a & ~d)).any())


@given(
    hnp.arrays(
        np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9)), elements=st.integers(0, 1)
    )
)
def test_outline_is_exactly_the_pixels_with_holes_filled(m: np.ndarray) -> None:
    polys = [shapely.Polygon(p) for p in polygons_from_mask(m, min_area=0)]
    assert all(p.is_valid for p in polys)
    if not m.any():
        assert polys == []
        return
    if _has_pinch(m):  # corner-only contacts get a neck; exactness is for the rest
        return
    pixels = shapely.union_all(
        [shapely.box(c, r, c + 1, r + 1) for r, c in zip(*np.nonzero(m), strict=True)]
    )
    parts = list(getattr(pixels, "geoms", [pixels]))
    filled = shapely.union_all([shapely.Polygon(p.exterior) for p in parts])
    mine = shapely.union_all(polys)
    assert mine.symmetric_difference(filled).area == 0
    assert sum(p.area for p in polys) == filled.area


# --- RLE ---------------------------------------------------------------------------------------
def test_decode_uncompressed_and_compressed() -> None:
    # 3 high x 2 wide, column-major runs: 1 zero, 2 ones (column 0), 1 one, 2 zeros (column 1)
    m = decode_rle({"size": [3, 2], "counts": [1, 3, 2]}, 3, 2)
    assert m.tolist() == [[0, 1], [1, 0], [1, 0]]
    compressed = mask_api.encode(np.asfortranarray(m))["counts"].decode()
    assert decode_rle({"size": [3, 2], "counts": compressed}, 3, 2).tolist() == m.tolist()
    # a first run of 0 zeros: the mask starts with ones
    assert decode_rle({"size": [1, 2], "counts": [0, 2]}, 1, 2).tolist() == [[1, 1]]


@pytest.mark.parametrize(
    ("rle", "message"),
    [
        ({"size": [2, 2], "counts": [4]}, "not the image size"),
        ({"size": [3], "counts": [3]}, "'size' must be"),
        ({"size": [3, 2], "counts": [1, 4]}, "add up to 5"),
        ({"size": [3, 2], "counts": [1, 7]}, "run length 7 is longer than the mask"),
        # beyond int64, and runs whose int64 sum wraps around to the mask size (2**64 + 6)
        ({"size": [3, 2], "counts": [2**63, 6]}, "run length 9223372036854775808"),
        ({"size": [3, 2], "counts": [2**62] * 4 + [6]}, "longer than the mask"),
        ({"size": [3, 2], "counts": [-1, 7]}, "must not be negative"),
        ({"size": [3, 2], "counts": [1.5, 4.5]}, "list of integers"),
        ({"size": [3, 2], "counts": "é"}, "ASCII"),
        ({"size": [3, 2], "counts": None}, "'counts' must be"),
        ({"size": [3, 2], "counts": "zzzz"}, "not a compressed RLE digit"),
    ],
)
def test_bad_rle(rle: dict, message: str) -> None:
    with pytest.raises(RLEError, match=message):
        decode_rle(rle, 3, 2)


def test_bad_rle_says_where_in_the_object() -> None:
    # counts[2] is the run beyond int64: the place is that element
    with pytest.raises(RLEError) as err:
        decode_rle({"size": [3, 2], "counts": [1, 2, 2**63]}, 3, 2)
    assert err.value.where == ".counts[2]"
    with pytest.raises(RLEError) as err:
        decode_rle({"size": [3, 3], "counts": [9]}, 3, 2)
    assert err.value.where == ".size"


def test_huge_mask_refused_before_decoding() -> None:
    side = int(MAX_MASK_PIXELS**0.5) + 1
    with pytest.raises(RLEError, match="larger than"):
        decode_rle({"size": [side, side], "counts": ""}, side, side)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=16))
def test_any_compressed_string_decodes_or_is_refused(counts: str) -> None:
    try:
        m = decode_rle({"size": [4, 5], "counts": counts}, 4, 5)
    except RLEError:
        return
    assert m.shape == (4, 5)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError
    with pytest.raises(MissingExtraError, match=r"prelabel\[masks\]"):
        polygons_from_mask(np.ones((2, 2)), min_area=0, what="COCO RLE segmentation")
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    with pytest.raises(MissingExtraError, match="COCO RLE segmentation"):
        decode_rle({"size": [1, 1], "counts": [0, 1]}, 1, 1)


def test_findings_name_specks_holes_and_empty_masks() -> None:
    from prelabel.formats.masks import MaskOutlines
    from prelabel.report import Action

    ring = np.zeros((3, 2))
    assert MaskOutlines([ring], specks=2, holes=1).findings(4) == [
        (Action.DROPPED, "mask_specks", "2 piece(s) under 4 square pixels"),
        (Action.REPAIRED, "mask_holes_filled", "1 hole(s): a polygon has one ring"),
    ]
    assert MaskOutlines([], specks=1).findings(1.0)[-1][1] == "mask_empty"


def _runs(mask: np.ndarray) -> list[int]:
    """Column-major run lengths starting with a run of zeros, as COCO counts them."""
    flat = mask.flatten(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.r_[0, change, len(flat)]
    runs = np.diff(bounds).tolist()
    return ([0] + runs) if flat[0] == 1 else runs


@given(
    hnp.arrays(
        np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 1)
    )
)
def test_compressed_counts_read_what_pycocotools_writes(mask: np.ndarray) -> None:
    text = mask_api.encode(np.asfortranarray(mask))["counts"].decode()
    assert compressed_counts(text) == _runs(mask)
    h, w = mask.shape
    assert (decode_rle({"size": [h, w], "counts": text}, h, w) == mask).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # "1" is one run of 1 pixel, "o" (63) says another digit follows: the string ends there
        ("1o", "ends inside a run"),
        ("1 ", "not a compressed RLE digit"),
        ("é", "must be ASCII"),
        # runs 0, 3 and 2 add up to 5 pixels, not the 2 x 2 = 4 of the mask: refused here,
        # before pycocotools' decoder (which has no bounds check) would write past its buffer
        ("032", "add up to 5, not 2 x 2"),
        ("0" + "o" * 12 + "1", "too long for 64 bits"),
    ],
)
def test_malformed_compressed_counts_are_refused_before_decoding(text: str, message: str) -> None:
    with pytest.raises(RLEError, match=message):
        decode_rle({"size": [2, 2], "counts": text}, 2, 2)

"""Binary masks -> polygons: RLE decoding (pycocotools) and outline tracing (OpenCV).

Both libraries are the optional extra ``prelabel[masks]`` and are imported only when a mask
is met, so inputs without masks never pay for them.

Policy (the same for every reader that meets masks):

- **Outline on pixel corners.** A pixel ``(col, row)`` covers the square ``[col, col + 1] x
  [row, row + 1]`` in the continuous coordinates of the payload (origin at the top-left
  corner). The polygon follows the outer edges of the mask's pixels exactly, so a single
  pixel at (5, 7) becomes the square (5, 7) (5, 8) (6, 8) (6, 7) and the polygon's area equals
  the number of pixels (holes aside). This is done by tracing the mask on a lattice twice as
  fine where each pixel fills a 3 x 3 block of lattice points; OpenCV's contour of that
  lattice, halved, runs along the pixel corners.
- **Holes are dropped** (filled): the platform's polygons have one ring. Each hole is counted.
- **Specks are dropped**: an outline whose area (holes filled) is below ``min_area`` square
  pixels is left out and counted.
- **Several outlines** (a mask in pieces) come back as several polygons, largest first;
  what to do with them (split or keep the largest) is the reader's multipart policy.
- Pieces that touch only at a corner (8-connected) are one outline joined by a neck half a
  pixel wide at that corner, so the polygon stays simple (valid).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from prelabel._ragged import position_in_run
from prelabel.errors import MissingExtraError
from prelabel.report import Action, Reason

FloatArray = npt.NDArray[np.float64]

#: Masks larger than this many pixels are refused before decoding (a 1 GiB-per-mask guard
#: against sizes read from untrusted files); 2**27 is about 11585 x 11585 pixels.
MAX_MASK_PIXELS = 1 << 27


@dataclass
class MaskOutlines:
    """What tracing one mask gave: polygons (pixel corners, largest first) and what was dropped."""

    polygons: list[FloatArray] = field(default_factory=list)
    specks: int = 0
    holes: int = 0

    def findings(self, min_area: float) -> list[tuple[Action, Reason, str]]:
        """(action, reason, detail) for the report: the same words whichever reader traced it."""
        out = []
        if self.specks:
            out.append(
                (
                    Action.DROPPED,
                    Reason.MASK_SPECKS,
                    f"{self.specks} piece(s) under {min_area:g} square pixels",
                )
            )
        if self.holes:
            out.append(
                (
                    Action.REPAIRED,
                    Reason.MASK_HOLES_FILLED,
                    f"{self.holes} hole(s): a polygon has one ring",
                )
            )
        if not self.polygons:
            out.append((Action.DROPPED, Reason.MASK_EMPTY, "no pixel set (after specks)"))
        return out


def _cv2(what: str) -> Any:
    try:
        import cv2
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise MissingExtraError("masks", what) from None
    return cv2


def _mask_api(what: str) -> Any:
    try:
        from pycocotools import mask as mask_api
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise MissingExtraError("masks", what) from None
    return mask_api


def trace_mask(
    mask: npt.ArrayLike,
    *,
    min_area: float,
    offset: tuple[float, float] = (0.0, 0.0),
    what: str = "mask segmentation",
) -> MaskOutlines:
    """Outer outlines of a 2-D mask (non-zero = inside) along pixel corners, see the module doc.

    ``offset`` (x, y) is added to every point, for masks cut out of a larger image.
    """
    cv2 = _cv2(what)
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[:, :, 0]
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D, not of shape {m.shape}")
    on = m != 0
    rows = np.flatnonzero(on.any(axis=1))
    if rows.size == 0:
        return MaskOutlines()
    cols = np.flatnonzero(on.any(axis=0))
    r0, c0 = int(rows[0]), int(cols[0])
    crop = on[r0 : int(rows[-1]) + 1, c0 : int(cols[-1]) + 1]
    h, w = crop.shape
    # lattice point (2 * col, 2 * row) is the top-left corner of pixel (col, row); each pixel
    # fills lattice points 2*col .. 2*col + 2 (and likewise rows); one point of padding around
    up = np.repeat(np.repeat(crop, 2, axis=0), 2, axis=1)
    lattice = np.zeros((2 * h + 3, 2 * w + 3), dtype=np.uint8)
    inner = lattice[1:-1, 1:-1]
    inner[:-1, :-1] |= up
    inner[1:, 1:] |= up
    inner[1:, :-1] |= up
    inner[:-1, 1:] |= up
    contours, hierarchy = cv2.findContours(lattice, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    out = MaskOutlines()
    if hierarchy is None:
        return out
    parent = hierarchy[0][:, 3]
    kept: list[tuple[float, FloatArray]] = []
    kept_ids = set()
    for i, contour in enumerate(contours):
        if parent[i] >= 0:
            continue
        area = float(cv2.contourArea(contour)) / 4.0
        if area < min_area:
            out.specks += 1
            continue
        pts = _corner_outline(contour.reshape(-1, 2), lattice).astype(np.float64)
        pts = (pts - 1.0) / 2.0 + (c0 + offset[0], r0 + offset[1])
        kept.append((area, pts))
        kept_ids.add(i)
    out.holes = int(sum(1 for p in parent.tolist() if p in kept_ids))
    kept.sort(key=lambda t: -t[0])
    out.polygons = [pts for _, pts in kept]
    return out


def _corner_outline(pts: npt.NDArray[Any], lattice: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
    """A traced lattice contour with its cut corners restored and straight runs merged.

    The 8-connected tracer steps diagonally across each concave corner; the corner point it
    skipped is the one of the two candidates that lies in the region. Where the two pieces
    only touch at that point (a pinch: two opposite lattice diagonals filled, the other two
    empty) the diagonal is kept, so the outline stays a simple polygon with a narrow neck.
    """
    pts = pts.astype(np.int64)
    nxt = np.roll(pts, -1, axis=0)
    step = nxt - pts
    diag = np.flatnonzero((step[:, 0] != 0) & (step[:, 1] != 0))
    if diag.size:
        a, b = pts[diag], nxt[diag]
        c1 = np.stack([a[:, 0], b[:, 1]], axis=1)
        c2 = np.stack([b[:, 0], a[:, 1]], axis=1)
        corner = np.where((lattice[c1[:, 1], c1[:, 0]] != 0)[:, None], c1, c2)
        x, y = corner[:, 0], corner[:, 1]
        around = (
            (lattice[y - 1, x - 1] != 0).astype(np.int8)
            + (lattice[y + 1, x + 1] != 0)
            + (lattice[y - 1, x + 1] != 0)
            + (lattice[y + 1, x - 1] != 0)
        )
        keep = around != 2
        pts = np.insert(pts, diag[keep] + 1, corner[keep], axis=0)
    if len(pts) < 3:
        return pts
    # drop points in the middle of straight runs (same direction in and out)
    prev = np.roll(pts, 1, axis=0)
    nxt = np.roll(pts, -1, axis=0)
    d_in, d_out = pts - prev, nxt - pts
    turn: npt.NDArray[np.bool_] = d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0] != 0
    kept: npt.NDArray[Any] = pts[turn]
    return kept


def polygons_from_mask(
    mask: npt.ArrayLike,
    *,
    min_area: float,
    offset: tuple[float, float] = (0.0, 0.0),
    what: str = "mask segmentation",
) -> list[FloatArray]:
    """Polygons ((K, 2) pixel-corner arrays, largest first) outlining a 2-D mask.

    Holes are filled and outlines smaller than ``min_area`` square pixels dropped; use
    :func:`trace_mask` to learn how many of each.
    """
    return trace_mask(mask, min_area=min_area, offset=offset, what=what).polygons


class RLEError(ValueError):
    """An RLE object that does not hold a valid mask; the message says what is wrong and
    ``where`` the place inside the object (``".counts[3]"``, or ``""`` for the whole)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


def compressed_counts(text: str) -> list[int]:
    """The run lengths of a COCO compressed RLE string (pycocotools' ``rleFrString``), in numpy.

    Each run is a little-endian group of 5-bit digits (``char - 48``); bit 0x20 says another
    digit follows, bit 0x10 of the last digit makes the value negative; from the third run on,
    a value is the difference to the run two places before. Malformed text is an
    :class:`RLEError`; the caller checks the runs against the mask's size.
    """
    try:
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raise RLEError("compressed 'counts' must be ASCII", ".counts") from None
    if raw.size == 0:
        return []
    c = raw.astype(np.int64) - 48
    if c.min() < 0 or c.max() > 63:
        k = int(np.flatnonzero((c < 0) | (c > 63))[0])
        raise RLEError(f"character {text[k]!r} at {k} is not a compressed RLE digit", ".counts")
    more = (c & 0x20) != 0
    if more[-1]:
        raise RLEError("compressed 'counts' ends inside a run", ".counts")
    ends = np.flatnonzero(~more)
    starts = np.r_[0, ends[:-1] + 1]
    lengths = ends - starts + 1
    if lengths.max() > 12:  # 13 digits are 65 bits: no run of a real mask
        raise RLEError("compressed 'counts' holds a run too long for 64 bits", ".counts")
    digit = position_in_run(lengths)
    values = np.add.reduceat((c & 0x1F) << (5 * digit), starts)
    negative = (c[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * lengths[negative])
    # from the third run on, each value is relative to the run two before it
    runs = values.copy()
    if len(runs) > 3:
        runs[3::2] = np.cumsum(values[3::2]) + values[1]
    if len(runs) > 4:
        runs[4::2] = np.cumsum(values[4::2]) + values[2]
    return [int(v) for v in runs.tolist()]


def decode_rle(
    rle: Mapping[str, Any], height: int, width: int, *, what: str = "COCO RLE segmentation"
) -> npt.NDArray[np.uint8]:
    """The (height, width) mask of a COCO RLE ``{"size": [h, w], "counts": ...}``.

    ``counts`` is either the compressed string of the COCO API or a list of run lengths
    (uncompressed, column-major, starting with a run of zeros). ``size`` must equal the image
    size. Raises :class:`RLEError` for anything malformed.
    """
    size = rle.get("size")
    counts = rle.get("counts")
    if not isinstance(size, list) or len(size) != 2 or not all(type(v) is int for v in size):
        raise RLEError("'size' must be [height, width] in pixels", ".size")
    if size != [int(height), int(width)]:
        raise RLEError(f"mask size {size} is not the image size [{height}, {width}]", ".size")
    if height * width > MAX_MASK_PIXELS:
        raise RLEError(f"mask of {height} x {width} pixels is larger than {MAX_MASK_PIXELS}")
    api = _mask_api(what)
    if isinstance(counts, str):
        # pycocotools decodes a compressed string without bounds checks (runs that add up to
        # more than the mask write past its buffer; a last character that says "more" reads
        # past the string's end): the string is read here and its runs checked like a list
        counts = compressed_counts(counts)
    if isinstance(counts, list):
        if not all(type(v) is int for v in counts):
            k = next(i for i, v in enumerate(counts) if type(v) is not int)
            raise RLEError("uncompressed 'counts' must be a list of integers", f".counts[{k}]")
        # checked as Python integers: a run of 2**63 (or runs whose int64 sum wraps around)
        # must be refused, not overflow; pycocotools keeps runs as uint32
        if counts and min(counts) < 0:
            k = counts.index(min(counts))
            raise RLEError("run lengths must not be negative", f".counts[{k}]")
        if counts and max(counts) > height * width:
            k = counts.index(max(counts))
            raise RLEError(
                f"run length {counts[k]} is longer than the mask ({height} x {width} pixels)",
                f".counts[{k}]",
            )
        total = sum(counts)
        if total != height * width:
            raise RLEError(
                f"run lengths add up to {total}, not {height} x {width} pixels", ".counts"
            )
        compressed = api.frPyObjects({"size": size, "counts": counts}, height, width)
    else:
        raise RLEError("'counts' must be a string (compressed) or a list of run lengths", ".counts")
    try:
        with warnings.catch_warnings():  # pycocotools' own numpy 2 deprecation notice
            warnings.simplefilter("ignore", DeprecationWarning)
            mask = api.decode(compressed)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RLEError(f"cannot decode RLE: {exc}", ".counts") from None
    return np.asarray(mask, dtype=np.uint8)

"""Image sizes from headers: PNG and JPEG read directly (EXIF orientation honoured), the rest
through the imagesize package, failures as one InputError."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from prelabel.errors import InputError
from prelabel.imagesize import image_size, image_sizes


def _jpeg_with_orientation(path: Path, w: int, h: int, orientation: int) -> None:
    ok, enc = cv2.imencode(".jpg", np.zeros((h, w, 3), np.uint8))
    assert ok
    data = enc.tobytes()
    # little-endian TIFF: one IFD entry, tag 0x0112 (orientation), SHORT, count 1
    ifd = struct.pack("<HHHIHH", 1, 0x0112, 3, 1, orientation, 0) + b"\0\0\0\0"
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd
    payload = b"Exif\0\0" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    path.write_bytes(data[:2] + app1 + data[2:])


@pytest.mark.parametrize(("orientation", "size"), [(1, (40, 20)), (6, (20, 40)), (8, (20, 40))])
def test_jpeg_exif_orientation_swaps_sizes(tmp_path: Path, orientation: int, size: tuple) -> None:
    p = tmp_path / "x.jpg"
    _jpeg_with_orientation(p, 40, 20, orientation)
    assert image_size(p) == size


def test_png_bmp_and_many_at_once(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((7, 9, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "b.bmp"), np.zeros((5, 3, 3), np.uint8))  # not PNG/JPEG
    w, h = image_sizes([str(tmp_path / "a.png"), str(tmp_path / "b.bmp")])
    assert w.tolist() == [9, 3] and h.tolist() == [7, 5]


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read image header"):
        image_size(tmp_path / "missing.jpg")
    (tmp_path / "text.jpg").write_bytes(b"not an image at all")
    with pytest.raises(InputError, match="image size not found"):
        image_size(tmp_path / "text.jpg")

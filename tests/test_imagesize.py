"""Image sizes from headers: PNG and JPEG read directly (EXIF orientation honoured), the rest
through the imagesize package, failures as one InputError."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from prelabel.errors import InputError
from prelabel.imagesize import IMAGE_SUFFIXES, image_size, image_sizes


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
    assert w.tolist() == [9, 3]
    assert h.tolist() == [7, 5]


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read image header"):
        image_size(tmp_path / "missing.jpg")
    (tmp_path / "text.jpg").write_bytes(b"not an image at all")
    with pytest.raises(InputError, match="image size not found"):
        image_size(tmp_path / "text.jpg")


def _box(kind: bytes, payload: bytes, version: int | None = None) -> bytes:
    """An ISO BMFF / JPEG 2000 box; with ``version``, a full box (version and flags)."""
    if version is not None:
        payload = struct.pack(">I", version << 24) + payload
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _image_bytes(suffix: str, w: int, h: int) -> bytes:
    """A small file of the kind ``suffix`` names: encoded by OpenCV where it can, else the
    header written by hand (HEIC and AVIF: ftyp + meta with an ispe property; JPEG 2000: the
    signature, ftyp and jp2h/ihdr boxes)."""
    if suffix in (".heic", ".avif"):
        brand = suffix[1:].encode()
        ftyp = _box(b"ftyp", brand + b"\0\0\0\0mif1" + brand)
        ispe = _box(b"ispe", struct.pack(">II", w, h), version=0)
        ipma = _box(b"ipma", struct.pack(">IHBB", 1, 1, 1, 0x81), version=0)
        hdlr = _box(b"hdlr", b"\0" * 4 + b"pict" + b"\0" * 13, version=0)
        pitm = _box(b"pitm", struct.pack(">H", 1), version=0)
        meta = _box(b"meta", hdlr + pitm + _box(b"iprp", _box(b"ipco", ispe) + ipma), version=0)
        return ftyp + meta
    if suffix in (".jp2", ".jpeg2000"):
        ihdr = _box(b"ihdr", struct.pack(">IIHBBBB", h, w, 3, 7, 7, 0, 0))
        signature = b"\0\0\0\x0cjP  \r\n\x87\n"
        return signature + _box(b"ftyp", b"jp2 \0\0\0\0jp2 ") + _box(b"jp2h", ihdr)
    # MPO is a JPEG with more pictures after the first; DNG is a TIFF
    encode_as = {".mpo": ".jpg", ".dng": ".tif"}.get(suffix, suffix)
    ok, data = cv2.imencode(encode_as, np.zeros((h, w, 3), np.uint8))
    assert ok, suffix
    return data.tobytes()


@pytest.mark.parametrize("suffix", sorted(IMAGE_SUFFIXES))
def test_every_image_suffix_has_a_header_reader(tmp_path: Path, suffix: str) -> None:
    """A reader that takes a file for an image by its suffix must be able to size it."""
    p = tmp_path / f"x{suffix}"
    p.write_bytes(_image_bytes(suffix, 40, 20))
    assert image_size(p) == (40, 20)


def test_image_suffixes_are_lower_case_and_leave_out_videos_and_float_maps() -> None:
    assert all(s.startswith(".") and s == s.lower() for s in IMAGE_SUFFIXES)
    # .gif is a video to Ultralytics; .pfm has no header reader (and Ultralytics dropped it)
    assert not {".gif", ".pfm"} & IMAGE_SUFFIXES
    assert {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"} <= IMAGE_SUFFIXES

"""Image width and height from file headers, never decoding pixels.

PNG and JPEG (nearly every frame a model sees) are read here from their first bytes, with a
JPEG's EXIF orientation honoured: a photo stored landscape but shown portrait (orientation
5-8) has its width and height swapped, since annotations are relative to the image as shown
(as Ultralytics' ``exif_size`` does). Other formats go through the ``imagesize`` package.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from os import PathLike
from typing import Literal

import imagesize as _imagesize
import numpy as np
import numpy.typing as npt

from prelabel.errors import InputError

_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)

# The suffixes (lower case) of the files a reader takes for images when it scans a folder: the
# one definition every reader uses. They are Ultralytics' IMG_FORMATS (ultralytics/data/utils.py),
# which YOLO data sets are made for, and every one has a header read here or by imagesize
# (JPEG, MPO = JPEG; TIFF, DNG = TIFF; HEIC, AVIF = ISO BMFF; JPEG 2000; BMP, PNG, WebP).
# Left out: .gif, a video to Ultralytics (VID_FORMATS) whose header gives one frame's size, and
# .pfm, which Ultralytics has dropped and no header reader here knows.
IMAGE_SUFFIXES = frozenset(
    {".avif", ".bmp", ".dng", ".heic", ".jp2", ".jpeg", ".jpeg2000", ".jpg", ".mpo", ".png",
     ".tif", ".tiff", ".webp"}
)  # fmt: skip


def image_size(path: str | PathLike[str]) -> tuple[int, int]:
    """(width, height) of an image file read from its header; InputError when unknown."""
    try:
        size = _fast_size(str(path))
    except OSError:
        size = None
    if size is None or size[0] <= 0 or size[1] <= 0:
        size = _library_size(str(path))
    return size


def _library_size(path: str) -> tuple[int, int]:
    try:
        os.stat(path)  # imagesize answers -1, -1 for a missing file instead of raising
        w, h = _imagesize.get(path)
    except OSError as exc:
        raise InputError(path, None, f"cannot read image header: {exc.strerror or exc}") from None
    if w <= 0 or h <= 0:
        raise InputError(path, None, "image size not found in the file header")
    return int(w), int(h)


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _exif_transposed(seg: bytes) -> bool:
    """True when a JPEG APP1 Exif segment says the image is shown rotated by 90 degrees
    (orientation 5-8): YOLO coordinates are relative to the image as shown."""
    if seg[:6] != b"Exif\x00\x00" or len(seg) < 14:
        return False
    tiff = seg[6:]
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    try:
        ifd = int.from_bytes(tiff[4:8], order)
        count = int.from_bytes(tiff[ifd : ifd + 2], order)
        for i in range(count):
            e = ifd + 2 + 12 * i
            if int.from_bytes(tiff[e : e + 2], order) == 0x0112:
                return int.from_bytes(tiff[e + 8 : e + 10], order) in (5, 6, 7, 8)
    except (IndexError, ValueError):
        return False
    return False


def _fast_size(path: str) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG from its first bytes; None for anything else."""
    fd = os.open(path, _O_READ)
    try:
        buf = os.read(fd, 4096)
        if buf[:8] == b"\x89PNG\r\n\x1a\n" and buf[12:16] == b"IHDR":
            return int.from_bytes(buf[16:20], "big"), int.from_bytes(buf[20:24], "big")
        if buf[:2] != b"\xff\xd8":
            return None
        base, pos, transposed = 0, 2, False
        while True:
            if pos + 10 > len(buf):  # refill from the file at the current marker
                os.lseek(fd, base + pos, os.SEEK_SET)
                buf, base, pos = os.read(fd, 65536), base + pos, 0
                if len(buf) < 4:
                    return None
            if buf[pos] != 0xFF:
                return None
            marker = buf[pos + 1]
            if marker == 0xFF:
                pos += 1
                continue
            if marker in _SOF:
                h = int.from_bytes(buf[pos + 5 : pos + 7], "big")
                w = int.from_bytes(buf[pos + 7 : pos + 9], "big")
                return (h, w) if transposed else (w, h)
            if marker == 0x01 or 0xD0 <= marker <= 0xD8:
                pos += 2
                continue
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            if length < 2:
                return None
            if marker == 0xE1 and not transposed:
                if pos + 2 + length > len(buf):
                    os.lseek(fd, base + pos, os.SEEK_SET)
                    buf, base, pos = os.read(fd, length + 12), base + pos, 0
                transposed = _exif_transposed(buf[pos + 4 : pos + 2 + length])
            pos += 2 + length
    except OSError:
        return None
    finally:
        os.close(fd)


def image_sizes(paths: Sequence[str]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Widths and heights of many images (PNG and JPEG read here, the rest by imagesize)."""
    w = np.empty(len(paths))
    h = np.empty(len(paths))
    for i, p in enumerate(paths):
        w[i], h[i] = image_size(p)
    return w, h

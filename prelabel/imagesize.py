"""Image width and height from file headers, never decoding pixels (the ``imagesize`` package)."""

from __future__ import annotations

from os import PathLike

import imagesize as _imagesize

from prelabel.errors import InputError


def image_size(path: str | PathLike[str]) -> tuple[int, int]:
    """(width, height) of an image file read from its header; InputError when unknown."""
    try:
        w, h = _imagesize.get(str(path))
    except OSError as exc:
        raise InputError(path, None, f"cannot read image header: {exc.strerror or exc}") from None
    if w <= 0 or h <= 0:
        raise InputError(path, None, "image size not found in the file header")
    return int(w), int(h)

"""Paths named inside input files, kept inside the dataset root.

A COCO ``file_name``, a YOLO image list or a CVAT ``name`` is data, not an instruction: once
resolved it must stay under the root it is relative to. ``../``, absolute paths and symbolic
links that lead out of the root are refused.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path, PurePosixPath

from prelabel.errors import InputError


def safe_relative(name: str, *, path: str | PathLike[str] | None, location: str | None) -> str:
    """The POSIX relative form of ``name``; refuses absolute paths and ``..`` components."""
    if not any(c in name for c in "/\\:\x00") and not name.startswith("."):
        return name  # a plain file name: nothing to resolve (the common case, kept cheap)
    if "\x00" in name:
        raise InputError(path, location, f"image path {name!r} contains a NUL byte")
    norm = name.replace("\\", "/")
    p = PurePosixPath(norm)
    if p.is_absolute() or norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise InputError(path, location, f"absolute image path {name!r} is not allowed")
    if any(part == ".." for part in p.parts):
        raise InputError(path, location, f"image path {name!r} leaves the dataset root")
    return str(p)


def resolve_inside(
    root: str | PathLike[str], name: str, *, path: str | PathLike[str] | None, location: str | None
) -> Path:
    """``root / name`` after checking that it (and any link in it) stays inside ``root``."""
    rel = safe_relative(name, path=path, location=location)
    base = Path(root).resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise InputError(path, location, f"image path {name!r} resolves outside {root}")
    return target

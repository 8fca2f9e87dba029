"""Writing outputs atomically: a temporary file beside the target, fsync, then rename.

A crash leaves either the old file or the complete new one, never half a file that looks
whole. ``-`` writes to standard output instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from os import PathLike
from pathlib import Path
from typing import BinaryIO

import orjson

from prelabel.errors import InputError


def write_atomic(path: str | PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary file and move it to ``path`` when it succeeds."""
    if str(path) == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(path, None, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            write(f)
            f.flush()
            # mkstemp makes the file 0600: give it the mode a plain open() would have
            os.fchmod(f.fileno(), _mode_for(target))
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    """The existing file's permissions, else 0666 less the process umask."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_jsonl(path: str | PathLike[str], lines: Iterable[bytes | Iterable[bytes]]) -> int:
    """Stream JSON documents to a JSON Lines file, one per line; returns the count.

    Each document is bytes, or an iterable of byte pieces written as they come (see
    :func:`prelabel.jobs.job_chunks`), so a huge job never sits in memory whole."""
    count = 0

    def _write(f: BinaryIO) -> None:
        nonlocal count
        for line in lines:
            if isinstance(line, bytes):
                f.write(line)
            else:
                for piece in line:
                    f.write(piece)
            f.write(b"\n")
            count += 1

    write_atomic(path, _write)
    return count


def write_json(path: str | PathLike[str], obj: object) -> None:
    """One JSON document, indented, written atomically."""

    def _write(f: BinaryIO) -> None:
        f.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n")

    write_atomic(path, _write)

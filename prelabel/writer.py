"""Writing outputs atomically: a temporary file beside the target, fsync, then rename.

A crash leaves either the old file or the complete new one, never half a file that looks
whole. ``-`` writes to standard output instead.

On Linux the temporary file is opened with ``O_TMPFILE``: it has no name until it is
complete, so a process killed mid-write (``SIGKILL``, the OOM killer) leaves nothing behind.
Where that is not available the temporary file is named
``.<target>.<host>-<pid>-<random>.tmp``, and the next write to the same target removes those
of this host whose process is gone (``<host>`` tells apart machines, and containers, sharing
a folder: another machine's pid says nothing about its files).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from os import PathLike
from pathlib import Path
from typing import BinaryIO

import orjson

from prelabel.errors import InputError, param

# ``os.O_TMPFILE`` exists only on Linux; tests turn it off to exercise the fallback
USE_O_TMPFILE = hasattr(os, "O_TMPFILE")
_AT_FDCWD = -100
_AT_EMPTY_PATH = 0x1000
_NEW_FILE_MODE = 0o666  # less the umask, applied by the kernel
_TEMP_SUFFIX = re.compile(r"([0-9a-f]{8})-(\d+)-[A-Za-z0-9_]+\.tmp")


def check_output(path: str | PathLike[str], option: str = param("output")) -> None:
    """Refuse, before any work, an output that is not ``-`` or a regular file's path.

    The write replaces the target with a new file, so a directory, a device (``/dev/null``)
    or a FIFO must not be a target: writing "to" them would destroy them, not write into them.
    """
    text = os.fspath(path)
    if text == "-":
        return
    if not text:
        raise InputError(None, None, f"{option} is empty: give a file path, or - for stdout")
    if text.endswith(("/", os.sep)):
        raise InputError(text, None, f"{option} names a directory; give a file path in it")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        _check_parent(Path(text), option)
        return
    except OSError as exc:
        raise InputError(text, None, f"{option}: cannot use it: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        what = _file_kind(st.st_mode)
        hint = (
            "give a file path in it"
            if stat.S_ISDIR(st.st_mode)
            else "prelabel replaces its output with a new file; use -o - and redirect instead"
        )
        raise InputError(text, None, f"{option} is {what}, not a regular file; {hint}")


def _check_parent(target: Path, option: str) -> None:
    """The nearest existing ancestor must be a directory (the missing ones are created)."""
    for parent in target.absolute().parents:
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise InputError(target, None, f"{option}: cannot use it: {exc.strerror}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise InputError(target, None, f"{option}: {parent} is not a directory")
        return


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((what for test, what in kinds if test(mode)), "not a plain file")


def same_output(a: str | PathLike[str], b: str | PathLike[str]) -> bool:
    """True when two output paths name one file (the same resolved path, a hard link, or
    both standard output)."""
    sa, sb = os.fspath(a), os.fspath(b)
    if sa == "-" or sb == "-":
        return sa == sb
    if Path(sa).resolve() == Path(sb).resolve():
        return True
    try:
        return os.path.samefile(sa, sb)
    except OSError:
        return False


def write_atomic(path: str | PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary file and move it to ``path`` when it succeeds."""
    if str(path) == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    check_output(path, "output")
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(directory, target.name)
        fd, tmp = _open_temporary(directory, target.name)
    except OSError as exc:
        raise InputError(path, None, f"cannot write: {exc.strerror or exc}") from None
    f = os.fdopen(fd, "wb", buffering=1 << 20)
    try:
        write(f)
        f.flush()
        # the temporary file was created 0666 less the umask, as open() would; a file being
        # replaced keeps its own permissions
        existing = _existing_mode(target)
        if existing is not None:
            os.fchmod(f.fileno(), existing)
        os.fsync(f.fileno())
        if tmp is None:
            tmp = _name_temporary(f, directory, target.name)
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        f.close()


@functools.cache
def host_tag() -> str:
    """8 hex digits naming this host and pid namespace, in named temporary files."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    text = f"{socket.gethostname()}|{namespace}".encode()
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:8]


def _temporary_prefix(name: str) -> str:
    return f".{name}.{host_tag()}-{os.getpid()}-"


def _temporary_name(directory: Path, name: str) -> str:
    return str(directory / f"{_temporary_prefix(name)}{secrets.token_hex(4)}.tmp")


def _open_temporary(directory: Path, name: str) -> tuple[int, str | None]:
    """An open file for the new content, and its name (``None``: unnamed, ``O_TMPFILE``).

    It is created with mode 0666, so the kernel applies the process umask as for a plain
    ``open()``; the umask is never read or changed (that would race with other threads)."""
    if USE_O_TMPFILE:
        try:
            return os.open(directory, os.O_TMPFILE | os.O_RDWR, _NEW_FILE_MODE), None
        except OSError:
            pass  # not supported by this file system or kernel: a named one below
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR | getattr(os, "O_BINARY", 0)
    for _ in range(tempfile.TMP_MAX):
        tmp = _temporary_name(directory, name)
        try:
            return os.open(tmp, flags, _NEW_FILE_MODE), tmp
        except FileExistsError:
            continue  # 32 random bits taken: draw again, as mkstemp does
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(directory))


def _name_temporary(f: BinaryIO, directory: Path, name: str) -> str:
    """Give the finished ``O_TMPFILE`` a temporary name (then renamed over the target).

    ``linkat(fd, "", AT_EMPTY_PATH)`` first (it needs CAP_DAC_READ_SEARCH on many
    kernels), then the ``/proc/self/fd`` link that open(2) documents for ``O_TMPFILE`` (some
    sandboxes refuse it with EXDEV), and as a last resort a copy into a named temporary
    file. Either name exists only for the moment before the rename (or the copy), and the
    stale-file cleanup covers it.
    """
    tmp = _temporary_name(directory, name)
    fd = f.fileno()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.linkat(fd, b"", _AT_FDCWD, os.fsencode(tmp), _AT_EMPTY_PATH) == 0:
            return tmp
    except (OSError, AttributeError):
        pass
    try:
        os.link(f"/proc/self/fd/{fd}", tmp)
        return tmp
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise
    src = os.fdopen(os.dup(fd), "rb")
    with src, open(tmp, "xb") as copy:
        src.seek(0)
        shutil.copyfileobj(src, copy, 1 << 20)
        copy.flush()
        os.fchmod(copy.fileno(), os.fstat(fd).st_mode & 0o777)
        os.fsync(copy.fileno())
    return tmp


def _remove_stale_temporaries(directory: Path, name: str) -> None:
    """Remove ``.<name>.<host>-<pid>-<random>.tmp`` files left by a killed process of this
    host (one no longer alive)."""
    prefix = f".{name}."
    try:
        entries = os.scandir(directory)
    except OSError:
        return
    with entries:
        for entry in entries:
            if not entry.name.startswith(prefix):
                continue
            m = _TEMP_SUFFIX.fullmatch(entry.name[len(prefix) :])
            if m is None or m[1] != host_tag() or _process_alive(int(m[2])):
                continue
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                os.unlink(entry.path)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid we can ask about: leave the file
    return True


def _existing_mode(target: Path) -> int | None:
    """The permissions of the file about to be replaced, or None when there is none."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return None


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

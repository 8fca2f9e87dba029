"""Atomic output: a failure leaves the old file (or none), never half a new one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from prelabel import writer
from prelabel.errors import InputError
from prelabel.writer import check_output, same_output, write_json, write_jsonl


def test_lines_and_pieces(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "jobs.jsonl"  # the folder is created
    n = write_jsonl(out, [b'{"a":1}', iter([b'{"b":', b"2}"])])
    assert n == 2
    assert out.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    out.write_bytes(b"old\n")

    def lines() -> Iterator[bytes]:
        yield b"new"
        raise RuntimeError("reader failed half way")

    with pytest.raises(RuntimeError):
        write_jsonl(out, lines())
    assert out.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.jsonl"]


def test_stdout(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_jsonl("-", [b"{}"])
    assert capfdbinary.readouterr().out == b"{}\n"


def test_json_document(tmp_path: Path) -> None:
    write_json(tmp_path / "r.json", {"counts": []})
    assert (tmp_path / "r.json").read_text() == '{\n  "counts": []\n}\n'


# --- outputs that are not regular files are refused before anything is written ---------------
def _char_device(tmp_path: Path) -> Path:
    """A character device to write "to": a node of /dev/null's numbers in tmp_path where we
    may create one (as root), else /dev/null itself (which only root could replace)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        if os.geteuid() == 0:
            pytest.skip("cannot create a device node here")
        return Path("/dev/null")
    return node


def test_outputs_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    device = _char_device(tmp_path)
    cases = {
        "": "is empty",
        str(tmp_path): "is a directory",
        f"{tmp_path}/sub/": "names a directory",
        str(fifo): "is a FIFO",
        str(device): "is a character device",
    }
    for path, why in cases.items():
        with pytest.raises(InputError, match=why):
            check_output(path)
        with pytest.raises(InputError, match=why):
            write_jsonl(path, [b"{}"])
    assert stat.S_ISCHR(device.stat().st_mode)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(InputError, match="is not a directory|Not a directory"):
        check_output(tmp_path / "file" / "jobs.jsonl")
    check_output("-")
    check_output(tmp_path / "new" / "jobs.jsonl")  # missing folders are created on write


def test_same_output_by_path_link_or_stdout(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_bytes(b"")
    os.link(a, tmp_path / "hard.json")
    os.symlink(a, tmp_path / "soft.json")
    assert same_output(a, tmp_path / "sub" / ".." / "a.json")
    assert same_output(a, tmp_path / "hard.json")
    assert same_output(tmp_path / "soft.json", a)
    assert same_output("-", "-")
    assert not same_output("-", a)
    assert not same_output(a, tmp_path / "b.json")


# --- temporary files -------------------------------------------------------------------------
def _names_while_writing(tmp_path: Path) -> list[str]:
    seen: list[str] = []

    def lines() -> Iterator[bytes]:
        yield b"{}"
        seen.extend(sorted(p.name for p in tmp_path.iterdir()))

    write_jsonl(tmp_path / "jobs.jsonl", lines())
    return seen


@pytest.mark.skipif(not writer.USE_O_TMPFILE, reason="O_TMPFILE is Linux only")
def test_an_unnamed_temporary_file_on_linux(tmp_path: Path) -> None:
    assert _names_while_writing(tmp_path) == []  # nothing visible until it is complete
    assert (tmp_path / "jobs.jsonl").read_bytes() == b"{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.jsonl"]


def test_the_named_fallback_carries_the_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "USE_O_TMPFILE", False)
    (name,) = _names_while_writing(tmp_path)
    assert name.startswith(f".jobs.jsonl.{writer.host_tag()}-{os.getpid()}-")
    assert name.endswith(".tmp")
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.jsonl"]


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    host, pid = writer.host_tag(), _dead_pid()
    dead = tmp_path / f".jobs.jsonl.{host}-{pid}-abc123.tmp"
    alive = tmp_path / f".jobs.jsonl.{host}-{os.getppid()}-abc123.tmp"  # a running process's
    elsewhere = tmp_path / f".jobs.jsonl.0badc0de-{pid}-abc123.tmp"  # another host's
    other = tmp_path / ".jobs.jsonl.notours.tmp"  # not our pattern
    assert host != "0badc0de"
    for p in (dead, alive, elsewhere, other):
        p.write_bytes(b"partial")
    write_jsonl(tmp_path / "jobs.jsonl", [b"{}"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["jobs.jsonl", alive.name, elsewhere.name, other.name]
    )


# A convert that stops after its first job until killed: the real CLI, with job_chunks held
_HELD_CONVERT = """
import importlib
import sys
convert = importlib.import_module("prelabel.convert")  # the module, not prelabel.convert()
writer = importlib.import_module("prelabel.writer")
writer.USE_O_TMPFILE = sys.argv[1] == "1"
real = convert.job_chunks
def held(*args, **kwargs):
    for job in real(*args, **kwargs):
        yield job
        print("ready", flush=True)  # the first job is in the temporary file
        sys.stdin.read()
convert.job_chunks = held
from prelabel.cli import main
sys.argv = ["prelabel", *sys.argv[2:]]
main()
"""
FIXTURES = Path(__file__).parent.parent / "fixtures"


def killed_converts(out: Path, kills: int, *, o_tmpfile: bool) -> list[str]:
    """Run ``kills`` converts to ``out``, SIGKILL each mid-write; the files left beside it."""
    args = ["convert", "coco", str(FIXTURES / "coco" / "instances.json"), "-q", "-o", str(out)]
    args += ["--src-prefix", "https://x.test/"]
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", _HELD_CONVERT, "1" if o_tmpfile else "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
    return sorted(p.name for p in out.parent.iterdir())


@pytest.mark.skipif(not writer.USE_O_TMPFILE, reason="O_TMPFILE is Linux only")
def test_a_killed_convert_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    out.write_bytes(b"old\n")
    assert killed_converts(out, 3, o_tmpfile=True) == ["jobs.jsonl"]
    assert out.read_bytes() == b"old\n"


def test_without_o_tmpfile_the_next_run_removes_what_killed_ones_left(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    # each run removes what the one before left: never more than the last one's file
    (left,) = killed_converts(out, 3, o_tmpfile=False)
    assert left.startswith(".jobs.jsonl.")
    assert left.endswith(".tmp")
    write_jsonl(out, [b"{}"])
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.jsonl"]


@pytest.mark.skipif(not writer.USE_O_TMPFILE, reason="O_TMPFILE is Linux only")
def test_an_unnamed_file_that_cannot_be_linked_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where neither linkat(AT_EMPTY_PATH) nor the /proc/self/fd link is allowed."""

    def no_link(*_args: object, **_kwargs: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(writer, "_AT_EMPTY_PATH", 0)  # linkat(fd, "", ..., 0) fails
    monkeypatch.setattr(writer.os, "link", no_link)
    write_jsonl(tmp_path / "jobs.jsonl", [b'{"a":1}'] * 3)
    assert (tmp_path / "jobs.jsonl").read_bytes() == b'{"a":1}\n' * 3
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.jsonl"]


_MODES_SCRIPT = """
import os, sys
from pathlib import Path
from prelabel import writer
writer.USE_O_TMPFILE = sys.argv[2] == "1"
os.umask(0o027)
out = Path(sys.argv[1])
writer.write_jsonl(out / "new.jsonl", [b"{}"])
kept = out / "kept.jsonl"
kept.write_bytes(b"old")
os.chmod(kept, 0o604)
writer.write_jsonl(kept, [b"{}"])
print(oct(os.stat(out / "new.jsonl").st_mode & 0o777), oct(os.stat(kept).st_mode & 0o777))
"""


@pytest.mark.parametrize("o_tmpfile", [True, False])
def test_a_new_file_gets_the_umask_and_a_replaced_one_keeps_its_mode(
    tmp_path: Path, o_tmpfile: bool
) -> None:
    """Under umask 027 a new output is 0666 & ~027 = 0640, as open() would make it; a file
    being replaced keeps its 0604. In a child process: a umask is process-wide."""
    if o_tmpfile and not writer.USE_O_TMPFILE:
        pytest.skip("O_TMPFILE is Linux only")
    proc = subprocess.run(
        [sys.executable, "-c", _MODES_SCRIPT, str(tmp_path), "1" if o_tmpfile else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert proc.stdout.split() == ["0o640", "0o604"]


@pytest.mark.parametrize("o_tmpfile", [True, False])
def test_writing_never_touches_the_process_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, o_tmpfile: bool
) -> None:
    """Reading the umask means setting it (os.umask), a race with every other thread."""

    def refuse(mask: int) -> int:
        raise AssertionError(f"os.umask({mask:o}) called")

    monkeypatch.setattr(writer, "USE_O_TMPFILE", o_tmpfile and writer.USE_O_TMPFILE)
    monkeypatch.setattr(os, "umask", refuse)
    write_jsonl(tmp_path / "jobs.jsonl", [b"{}"])
    write_jsonl(tmp_path / "jobs.jsonl", [b"{}", b"[]"])  # replacing an existing file
    assert (tmp_path / "jobs.jsonl").read_bytes() == b"{}\n[]\n"

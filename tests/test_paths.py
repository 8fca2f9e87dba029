"""Paths named inside inputs stay inside the dataset root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prelabel.errors import InputError
from prelabel.paths import resolve_inside, safe_relative


def test_relative_names_are_normalised_to_posix() -> None:
    assert safe_relative("cam1\\000001.jpg", path="a.json", location="$.images[0]") == (
        "cam1/000001.jpg"
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("C:\\data\\x.jpg", "absolute"),
        ("a/../../x.jpg", "leaves the dataset root"),
        ("a\x00b.jpg", "NUL byte"),
    ],
)
def test_refused_names_say_where(name: str, why: str) -> None:
    with pytest.raises(InputError, match=why) as info:
        safe_relative(name, path="in.json", location="$.images[3].file_name")
    assert str(info.value).startswith("in.json:$.images[3].file_name: ")


def test_a_link_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (tmp_path / "secret.jpg").write_bytes(b"x")
    os.symlink(tmp_path / "secret.jpg", root / "frame.jpg")
    with pytest.raises(InputError, match="resolves outside"):
        resolve_inside(root, "frame.jpg", path="list.txt", location="1")
    (root / "ok.jpg").write_bytes(b"x")
    assert (
        resolve_inside(root, "ok.jpg", path="list.txt", location="2") == (root / "ok.jpg").resolve()
    )

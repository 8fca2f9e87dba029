"""JSON inputs: one InputError with the file, line and column for anything orjson refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from prelabel.errors import InputError
from prelabel.jsonio import json_path, load_json, read_text


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{\n  "a": [1, 2,\n}', "line 3, column 1"),
        ('{"a": NaN}', "line 1, column 7"),
        ("[" * 2000 + "]" * 2000, "line 1"),  # nesting deeper than orjson's limit
        ('{"a": 1} trailing', "line 1, column 10"),
    ],
)
def test_refused_with_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    f = tmp_path / "in.json"
    f.write_text(text)
    with pytest.raises(InputError, match=f"invalid JSON at {where}") as info:
        load_json(f)
    assert str(info.value).startswith(f"{f}: invalid JSON")


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_json(tmp_path / "missing.json")


def test_json_path() -> None:
    assert json_path("annotations", 17, "bbox") == "$.annotations[17].bbox"


def test_text_files_that_are_not_text(tmp_path: Path) -> None:
    f = tmp_path / "labels.yaml"
    f.write_bytes(b"car: Car\n\xff\xfe")
    with pytest.raises(InputError, match=r"labels.yaml:byte 9: not utf-8 text"):
        read_text(f)

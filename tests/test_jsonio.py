"""JSON inputs: one InputError with the file, line and column for anything orjson refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from prelabel.errors import InputError
from prelabel.jsonio import load_json, load_yaml, read_text


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


def test_text_files_that_are_not_text(tmp_path: Path) -> None:
    f = tmp_path / "labels.yaml"
    f.write_bytes(b"car: Car\n\xff\xfe")
    with pytest.raises(InputError, match=r"labels.yaml:byte 9: not utf-8 text"):
        read_text(f)


def test_text_with_a_bom_and_windows_line_ends(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_bytes(b"\xef\xbb\xbfcar\r\ntruck\rbus\n")
    assert read_text(f, encoding="utf-8-sig") == "car\ntruck\nbus\n"
    assert read_text(f).startswith("\ufeffcar\n")  # plain utf-8 keeps the BOM as text
    f.write_bytes(b"\xef\xbb\xbfcar\n\xff")
    # the byte named counts the BOM: 3 + len("car\n") = 7
    with pytest.raises(InputError, match=r"names.txt:byte 7: not utf-8 text"):
        read_text(f, encoding="utf-8-sig")


# --- YAML --------------------------------------------------------------------------------------
def test_yaml_nested_5000_deep_is_one_error_with_the_place(tmp_path: Path) -> None:
    f = tmp_path / "data.yaml"
    f.write_text("names: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError) as info:
        load_yaml(f)
    # the mapping is level 1, so the 100th "[" opens level 101: column 7 ("names: ") + 100
    assert str(info.value) == f"{f}:1:107: invalid YAML: nested deeper than 100 levels"


def test_yaml_nesting_up_to_the_bound_loads(tmp_path: Path) -> None:
    f = tmp_path / "deep.yaml"
    f.write_text("[" * 100 + "]" * 100)
    value = load_yaml(f)
    depth = 0
    while isinstance(value, list):
        value = value[0] if value else None
        depth += 1
    assert depth == 100


def test_yaml_alias_bomb_is_refused_before_loading(tmp_path: Path) -> None:
    # each level repeats the previous one ten times: 10**7 values once expanded
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"bomb\.yaml:6:\d+: invalid YAML: more than 1,000,000"):
        load_yaml(f)


def test_yaml_aliases_of_ordinary_size_load(tmp_path: Path) -> None:
    f = tmp_path / "map.yaml"
    f.write_text("base: &b {label: car}\ncar: *b\ntruck: *b\n")
    assert load_yaml(f) == {
        "base": {"label": "car"},
        "car": {"label": "car"},
        "truck": {"label": "car"},
    }


def test_yaml_syntax_error_keeps_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("names: [a\n")
    with pytest.raises(InputError, match=r"bad\.yaml:2:1: invalid YAML"):
        load_yaml(f)

"""Class names: data.yaml's ``names`` / ``nc``, names files (``classes.txt``, ``obj.names``)
and data.yaml's ``kpt_shape``; every name checked for control characters."""

from __future__ import annotations

import os
from typing import Any

from prelabel.errors import InputError
from prelabel.jsonio import load_yaml, read_text
from prelabel.text import ID_CONTROL

NAMES_FILES = ("classes.txt", "obj.names", "names.txt", "data.names")


# Without names, classes are named "0".."N": a bound keeps a typo from naming a billion.
MAX_UNNAMED_CLASS = 100_000


def is_names_file(full: str, names_path: str | None) -> bool:
    """The names file given, or a file named like one (classes.txt, names.txt): not labels."""
    base = os.path.basename(full)
    if base in NAMES_FILES:
        return True
    return bool(
        names_path
        and base == os.path.basename(names_path)
        and os.path.realpath(full) == os.path.realpath(names_path)
    )


def load_mapping(path: str) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping (names, path, train, val, ...)")
    return data


def yaml_names(data: dict[str, Any], path: str) -> list[str] | None:
    names = data.get("names")
    nc = data.get("nc")
    if nc is not None and (type(nc) is not int or nc < 0):
        raise InputError(path, "nc", f"nc must be a whole number >= 0, got {nc!r}")
    if names is None:
        if nc:
            if nc > MAX_UNNAMED_CLASS:  # 'class_0' .. for a billion classes: refuse, not OOM
                raise InputError(
                    path, "nc", f"nc is {nc:,} without names: at most {MAX_UNNAMED_CLASS:,}"
                )
            return [f"class_{i}" for i in range(nc)]  # what Ultralytics does without names
        return None
    if isinstance(names, dict):
        if not all(type(k) is int for k in names):
            raise InputError(path, "names", "class ids of names must be whole numbers 0..N-1")
        keys = sorted(names)
        if keys != list(range(len(keys))):
            raise InputError(path, "names", "class ids of names must be 0..N-1")
        values = [names[k] for k in keys]
    elif isinstance(names, list):
        values = names
    else:
        raise InputError(path, "names", "names must be a list or a mapping of class id to name")
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, (str, int, float)) or isinstance(v, bool) or not str(v).strip():
            raise InputError(path, f"names[{i}]", f"class name {v!r} is not a non-empty name")
        out.append(check_class_name(str(v), path, f"names[{i}]"))
    if nc is not None and nc != len(out):
        raise InputError(path, "nc", f"nc is {nc} but names has {len(out)} entries")
    return out


def check_class_name(name: str, path: str | None, where: str) -> str:
    """``name``, refused if it holds a character an id may not (:data:`prelabel.text.ID_CONTROL`):
    a label is shown to people and a NUL ends a string in C code."""
    bad = ID_CONTROL.search(name)
    if bad:
        raise InputError(
            path, where,
            f"class name {name!r} has a control character (U+{ord(bad.group()):04X})",
        )  # fmt: skip
    return name


def read_names_file(path: str) -> list[str]:
    if path.endswith((".yaml", ".yml")):
        names = yaml_names(load_mapping(path), path)
        if names is None:
            raise InputError(path, None, "no names in this file")
        return names
    text = read_text(path, encoding="utf-8-sig")
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    for i, line in enumerate(lines):
        if not line:
            raise InputError(path, str(i + 1), "empty class name")
        check_class_name(line, path, str(i + 1))
    if not lines:
        raise InputError(path, None, "no class names in this file")
    return lines


def yaml_kpt_shape(data: dict[str, Any], path: str) -> tuple[int, int] | None:
    ks = data.get("kpt_shape")
    if ks is None:
        return None
    if (
        not isinstance(ks, list)
        or len(ks) != 2
        or not all(type(v) is int for v in ks)
        or ks[0] < 1
        or ks[1] not in (2, 3)
    ):
        raise InputError(path, "kpt_shape", f"expected [K, 2] or [K, 3], got {ks!r}")
    return int(ks[0]), int(ks[1])


def find_names_file(folder: str) -> str | None:
    for n in NAMES_FILES:
        p = os.path.join(folder, n)
        if os.path.isfile(p):
            return p
    return None

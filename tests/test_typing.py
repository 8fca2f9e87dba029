"""The public surface is typed for users' type checkers: ``prelabel.read_coco`` is the real
function to mypy, not the ``object`` the lazy ``__getattr__`` returns, and the package ships
``py.typed`` (PEP 561)."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import prelabel

ROOT = Path(__file__).parent.parent

USER_CODE = """\
from pathlib import Path

import numpy as np
import numpy.typing as npt

import prelabel


def boxes_of(path: Path) -> npt.NDArray[np.float64]:
    ann = prelabel.read_coco(path)
    ann, report = prelabel.prepare(ann, on_invalid="repair")
    print(len(report), ann.is_empty())
    return ann[2:5].xyxy


def areas(frames: prelabel.Frames) -> npt.NDArray[np.float64]:
    ann = prelabel.Annotations.from_polygons(frames, [[(0, 0), (4, 0), (4, 3)]], ["roof"], [0])
    return ann.area


reveal_type(prelabel.read_coco)
reveal_type(prelabel.read_yolo)
reveal_type(prelabel.read_cvat)
reveal_type(prelabel.read_mot)
reveal_type(prelabel.convert)
reveal_type(prelabel.Submitter)
reveal_type(prelabel.paused_gc)
"""


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is a test extra")
def test_user_code_type_checks_under_strict(tmp_path: Path) -> None:
    """mypy --strict on a user's script; the package is found from the source tree (errors
    inside the package are the package's own check, ``mypy prelabel``)."""
    script = tmp_path / "user.py"
    script.write_text(USER_CODE)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-color-output"]
        + ["--cache-dir", str(tmp_path / "cache"), str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    revealed = [line for line in proc.stdout.splitlines() if "Revealed type" in line]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(revealed) == 7, proc.stdout
    assert all("builtins.object" not in line for line in revealed), proc.stdout
    read_coco, read_yolo, read_cvat, read_mot, convert, submitter, paused_gc = revealed
    for reader in (read_coco, read_yolo, read_cvat, read_mot):
        assert "-> prelabel.annotations.Annotations" in reader
    assert "report: prelabel.report.Report | None" in read_coco
    assert re.search(r"-> prelabel\.[\w.]*ConvertResult", convert)
    assert re.search(r"-> prelabel\.submit\.[\w.]*Submitter", submitter)
    assert "contextlib._GeneratorContextManager[None" in paused_gc


def _type_checking_imports() -> dict[str, str]:
    """name -> module of the ``if TYPE_CHECKING:`` imports of prelabel/__init__.py."""
    tree = ast.parse((ROOT / "prelabel" / "__init__.py").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                assert imp.module
                for alias in imp.names:
                    assert alias.asname == alias.name  # an explicit re-export
                    found[alias.name] = imp.module
    return found


def test_every_lazy_name_is_seen_by_type_checkers_and_exported() -> None:
    assert _type_checking_imports() == prelabel._LAZY
    assert set(prelabel._LAZY) <= set(prelabel.__all__)
    assert sorted(prelabel.__all__) == prelabel.__all__
    for name in prelabel.__all__:
        assert getattr(prelabel, name) is not None


def test_import_stays_lazy() -> None:
    """The type-checking imports cost nothing at run time: no numpy, nor even typing."""
    code = "import sys, prelabel; print(sorted({'numpy', 'typing', 'click'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_is_shipped() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    assert (ROOT / "prelabel" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["prelabel"]


@pytest.mark.parametrize("name", ["convert", "compare", "preview"])
def test_a_function_named_like_its_module_stays_the_function(name: str) -> None:
    """``prelabel.preview`` is the function even once ``prelabel.preview`` the module is
    imported (which any module that uses it does), in a fresh interpreter."""
    code = (
        f"import importlib, prelabel; importlib.import_module('prelabel.{name}'); "
        f"print(callable(prelabel.{name}), type(prelabel.{name}).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "function"]

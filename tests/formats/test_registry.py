"""The format registry: every registered format has its reader, its command, its help line
and its typed export, so that the CLI and the library are built from one table."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import prelabel
from prelabel.cli import main
from prelabel.formats import FORMATS, command_path, reader_path


def _load(path: str) -> object:
    module, attr = path.split(":")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_has_a_reader_and_a_command(name: str) -> None:
    reader = _load(reader_path(name))
    assert callable(reader)
    assert reader.__name__ == f"read_{name}"
    command = _load(command_path(name))
    assert isinstance(command, click.Command)
    # the library export is the reader itself, and is part of the documented surface
    assert getattr(prelabel, f"read_{name}") is reader
    assert f"read_{name}" in prelabel.__all__


@pytest.mark.parametrize("name", list(FORMATS))
def test_the_cli_lists_each_format_with_its_line(name: str) -> None:
    out = CliRunner().invoke(main, ["convert", "--help"])
    assert out.exit_code == 0
    line = next(x for x in out.output.splitlines() if x.strip().startswith(name + " "))
    assert FORMATS[name][:40] in line
    run = CliRunner().invoke(main, ["convert", name, "--help"])
    assert run.exit_code == 0
    assert "--on-invalid" in run.output


def test_type_checkers_see_every_reader() -> None:
    # the lazy exports are typed through imports under TYPE_CHECKING: one per format
    source = Path(inspect.getfile(prelabel)).read_text()
    for name in FORMATS:
        assert f"from prelabel.formats.{name} import read_{name} as read_{name}" in source

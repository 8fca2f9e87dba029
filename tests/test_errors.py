"""Messages name library parameters; the CLI spells them as the running command's flags.

The library's messages say ``frames_per_job=`` (what a caller of ``convert`` or
``JobOptions`` wrote), the CLI's ``--frames-per-job`` (what its user typed), from one token
(:func:`prelabel.errors.param`) rendered by ``str(exc)`` or by the CLI's one error handler.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from prelabel import cli
from prelabel.annotations import Annotations, Frames
from prelabel.cli import flag_spelling, main
from prelabel.convert import FrameOptions, assign_frames, convert
from prelabel.errors import GeometryError, InputError, Message, PrelabelError, param, render
from prelabel.formats.coco import read_coco
from prelabel.formats.yolo import read_yolo
from prelabel.geometry import prepare
from prelabel.jobs import JobOptions
from prelabel.writer import check_output

FIXTURES = Path(__file__).parent.parent / "fixtures"
PACKAGE = Path(__file__).parent.parent / "prelabel"
NONCHARACTERS = re.compile("[\ufdd0-\ufdef]")


def _boxes(width: int = 100) -> Annotations:
    frames = Frames.build(width, 100, name=["a.jpg"], sequence="cam")
    return Annotations.from_boxes(frames, np.array([[10.0, 10.0, 30.0, 30.0]]), ["car"], [0])


# --- the token -------------------------------------------------------------------------------
def test_a_token_reads_as_the_library_parameter_by_default() -> None:
    text = f"give {param('frames_per_job', cli='N')}, {param('frame_id', 'f_{index}')} or {param('src_prefix')}"
    assert render(text) == "give frames_per_job=N, frame_id='f_{index}' or src_prefix="
    assert render("no token here") == "no token here"


def test_a_spelling_chooses_per_parameter_and_falls_back_to_the_library() -> None:
    text = f"{param('frames_per_job', cli='N')} and {param('names')}"
    said = render(text, lambda name, value: f"--{name}:{value}" if name != "names" else None)
    assert said == "--frames_per_job:N and names="


def test_errors_and_warnings_keep_the_token_for_the_cli() -> None:
    exc = InputError("a.txt", param("columns"), f"give {param('task', 'obb', cli='obb')}")
    assert str(exc) == "a.txt:columns=: give task='obb'"
    assert exc.location == "columns="
    assert exc.message == "give task='obb'"
    assert exc.args == ("a.txt:columns=: give task='obb'",)
    assert exc.format(lambda n, v: f"--{n} {v}".strip()) == "a.txt:--columns: give --task obb"
    plain = PrelabelError(f"see {param('batch_id')}")
    assert str(plain) == "see batch_id="
    warning = Message(f"split it with {param('frames_per_job', cli='N')}")
    assert warning == "split it with frames_per_job=N"
    assert (
        render(warning, lambda n, v: f"--{n} {v}".replace("_", "-"))
        == "split it with --frames-per-job N"
    )


# --- the library says parameters ---------------------------------------------------------------
def _library_messages(tmp_path: Path) -> list[str]:
    out: list[str] = []
    with pytest.raises(InputError) as e1:  # convert.py
        assign_frames(_boxes().frames, FrameOptions(src_prefix="/data"))
    out.append(str(e1.value))
    with pytest.raises(InputError) as e2:  # convert.py, through JobOptions
        convert(_boxes(), tmp_path / "o.jsonl", jobs=JobOptions(reference_id="{sequence.x}"))
    out.append(str(e2.value))
    with pytest.raises(InputError) as e3:  # jobs.py
        convert(
            _boxes(),
            tmp_path / "o.jsonl",
            frames=FrameOptions(src_prefix="https://x.test"),
            jobs=JobOptions(batch_id="b\x00"),
        )
    out.append(str(e3.value))
    with pytest.raises(GeometryError) as e4:  # geometry.py
        prepare(_boxes(width=20), "error")
    out.append(str(e4.value))
    with pytest.raises(InputError) as e5:  # writer.py
        check_output("")
    out.append(str(e5.value))
    with pytest.raises(InputError) as e6:  # formats/yolo
        read_yolo(FIXTURES / "yolo" / "ultralytics_detect", columns="cls,box,poly")
    out.append(str(e6.value))
    with pytest.raises(InputError) as e7:  # formats/coco
        read_coco(FIXTURES / "coco" / "results.json")
    out.append(str(e7.value))
    return out


def test_library_errors_name_library_parameters(tmp_path: Path) -> None:
    messages = _library_messages(tmp_path)
    assert messages[0] == "src_prefix='/data' is not an http(s)://, s3:// or gs:// URL"
    assert messages[1].startswith("reference_id='{sequence.x}': ")
    assert messages[2].startswith("batch_id='b\\x00' contains a control character")
    assert messages[3].endswith("shape problem(s) under on_invalid='error'")
    assert messages[4].startswith("output= is empty")
    assert messages[5].startswith("columns=: one geometry per row")
    assert messages[6].endswith("give images=FILE or image_dir=DIR")
    for m in messages:
        assert not re.search(r"(?<![\w-])--[a-z]", m), m
        assert not NONCHARACTERS.search(m), m


def test_convert_warnings_name_the_parameter(tmp_path: Path) -> None:
    result = convert(
        _boxes(), tmp_path / "o.jsonl", frames=FrameOptions(src_prefix="https://x/"), soft_limit=1
    )
    (warning,) = result.warnings
    assert warning.endswith("split it with frames_per_job=N (about 1 here)")
    assert not NONCHARACTERS.search(str(warning))
    assert json.dumps(list(result.warnings))  # plain text to a JSON writer


# --- the CLI says flags -----------------------------------------------------------------------
def _run(*args: str) -> str:
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code == 2, r.output
    return r.stderr


def test_the_cli_names_the_flags_of_the_command_being_run(tmp_path: Path) -> None:
    out = str(tmp_path / "o.jsonl")
    coco = str(FIXTURES / "coco" / "instances.json")
    assert _run("convert", "coco", coco, "-o", out, "--src-prefix", "/data") == (
        "error: --src-prefix '/data' is not an http(s)://, s3:// or gs:// URL\n"
    )
    results = str(FIXTURES / "coco" / "results.json")
    assert _run("convert", "coco", results, "-o", out).endswith(
        "give --images FILE or --image-dir DIR\n"
    )
    err = _run(
        "convert", "coco", coco, "-o", out, "--src-prefix", "https://x/", "--batch-id", "b\x1b"
    )
    assert err.startswith("error: --batch-id 'b\\x1b' contains a control character")
    segment = str(FIXTURES / "yolo" / "ultralytics_segment")
    err = _run("convert", "yolo", segment, "-o", out, "--src-prefix", "s3://b", "--task", "detect")
    assert err.endswith(
        "(a confidence or track column? e.g. --columns cls,box,conf or cls,box,conf,track;"
        " polygons? --task segment)\n"
    )
    bare = str(FIXTURES / "yolo" / "bare")
    assert _run("convert", "yolo", bare, "-o", out, "--src-prefix", "https://x/", "--pixels") == (
        f"error: {bare}: --pixels needs the images for their sizes: none found (give --image-dir)\n"
    )
    assert _run("convert", "coco", coco, "-o", "").startswith("error: -o/--output is empty")


def test_the_cli_gives_the_library_spelling_where_the_command_has_no_such_option() -> None:
    @click.command()
    @click.option("-o", "--output")
    @click.option("--no-interpolate", "interpolate", flag_value=False, default=True)
    @click.option("--labels", "labels_file")
    @click.option("--frames-per-job", type=int)
    def command(**_: object) -> None:
        """A stand-in with the shapes of option the convert commands have."""

    spell = flag_spelling(command)
    text = (
        f"{param('output')}; {param('interpolate', False)}; {param('mapping')};"
        f" {param('frames_per_job', cli='N')}; {param('names')}"
    )
    assert (
        render(text, spell) == "-o/--output; --no-interpolate; --labels; --frames-per-job N; names="
    )
    assert render(text, flag_spelling(None)) == render(text)


def test_every_convert_command_has_an_option_for_each_reader_parameter_it_names() -> None:
    """The readers' parameters the messages name are the commands' click names (no table)."""
    wanted = {
        "coco": ["images", "image_dir"],
        "yolo": ["task", "columns", "names", "image_dir", "pixels"],
        "mot": ["names", "image_dir", "width", "height"],
        "cvat": ["interpolate"],
    }
    convert_group = main.commands["convert"]
    assert isinstance(convert_group, cli.LazyGroup)
    for fmt, names in wanted.items():
        command = convert_group.get_command(click.Context(convert_group), fmt)
        spell = flag_spelling(command)
        for name in [*names, "frames_per_job", "reference_id", "frame_id", "frames_file"]:
            said = spell(name, "")
            assert said is not None, (fmt, name)
            assert said.startswith("--"), (fmt, name, said)


# --- no flag spelled in the library's messages ---------------------------------------------------
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _message_strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant of ``path`` but the docstrings (which document the CLI too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_no_library_message_spells_a_flag() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "cli.py" or rel.startswith("commands/"):
            continue  # the CLI itself: its own messages are about its flags
        for line, text in _message_strings(path):
            flags = set(FLAG.findall(text))
            if flags:
                found.append(f"prelabel/{rel}:{line}: {sorted(flags)} in {text[:60]!r}")
    assert found == [], "name the parameter with prelabel.errors.param():\n" + "\n".join(found)


def test_the_scan_sees_a_flag_in_a_message_and_not_in_a_docstring(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        '"""Module doc: --frames-per-job is fine here."""\n'
        "def f(n):\n"
        '    """Doc: --also-fine."""\n'
        '    raise ValueError(f"give --frames-per-job {n}; a YAML --- marker is no flag")\n'
    )
    flags = [FLAG.findall(t) for _, t in _message_strings(sample)]
    assert [f for f in flags if f] == [["--frames-per-job"]]

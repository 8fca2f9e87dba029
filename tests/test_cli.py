"""The convert and validate commands end to end: exit codes, one-line errors, and that what
convert writes (exit 0) passes validate."""

from __future__ import annotations

import copy
import importlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from prelabel.cli import main
from prelabel.errors import printable

FIXTURES = Path(__file__).parent.parent / "fixtures"
COCO = json.loads((FIXTURES / "coco" / "instances.json").read_text())


def _coco(tmp_path: Path, change: Any = None, name: str = "in.json") -> Path:
    doc = copy.deepcopy(COCO)
    if change is not None:
        change(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _convert(src: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["convert", "coco", str(src), *args])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point in a process of its own: the real exit code and streams."""
    code = "import sys; from prelabel.cli import main; sys.argv[0] = 'prelabel'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_malformed_template_exits_2_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    src = str(FIXTURES / "coco" / "instances.json")
    r = _cli("convert", "coco", src, "-o", str(out), "--src-template", "s3://b/{stem")
    assert r.returncode == 2
    line = _one_error_line(r.stderr)
    assert line.startswith("error: --src-template 's3://b/{stem': expected '}'")
    assert not out.exists()


def test_an_output_that_is_not_a_regular_file_is_refused_before_reading(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")  # never read: the output is refused first
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for output, why in [("", "is empty"), (str(tmp_path), "is a directory"), (str(fifo), "FIFO")]:
        r = _cli("convert", "coco", str(broken), "-o", output, "--src-prefix", "https://x/")
        assert r.returncode == 2
        assert why in _one_error_line(r.stderr)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_device_node_is_not_replaced(tmp_path: Path) -> None:
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        pytest.skip("cannot create a device node here (not root)")
    src = FIXTURES / "coco" / "instances.json"
    r = _cli("convert", "coco", str(src), "-o", str(node), "--src-prefix", "https://x/")
    assert r.returncode == 2
    assert "is a character device" in _one_error_line(r.stderr)
    assert stat.S_ISCHR(node.stat().st_mode)


def test_report_and_output_must_differ(tmp_path: Path) -> None:
    src = _coco(tmp_path)
    out = tmp_path / "jobs.jsonl"
    for report in [str(out), f"{tmp_path}/./jobs.jsonl"]:
        r = _convert(src, "-o", str(out), "--report", report, "--src-prefix", "https://x/")
        assert r.exit_code == 2
        assert "--report names the same file as -o" in r.stderr
    assert not out.exists()
    r = _convert(src, "-o", "-", "--report", "-", "--src-prefix", "https://x/")
    assert r.exit_code == 2


def test_an_empty_category_name_is_dropped_and_the_output_validates(tmp_path: Path) -> None:
    def unnamed(doc: dict[str, Any]) -> None:
        doc["categories"][0]["name"] = ""  # person, used by annotation 10

    src = _coco(tmp_path, unnamed)
    out, report = tmp_path / "jobs.jsonl", tmp_path / "report.json"
    r = _convert(src, "-o", str(out), "--report", str(report), "--src-prefix", "https://x/")
    assert r.exit_code == 0, r.output
    assert "dropped (label_empty)" in r.stderr
    rows = json.loads(report.read_text())["rows"]
    assert [x["source"] for x in rows if x["reason"] == "label_empty"] == ["$.annotations[0]"]
    v = CliRunner().invoke(main, ["validate", str(out)])
    assert v.exit_code == 0, v.output
    r = _convert(src, "-o", str(out), "--src-prefix", "https://x/", "--on-invalid", "error")
    assert r.exit_code == 2
    assert f"error: {src}:$.annotations[0]: 1 shape(s) would have an empty label" in r.stderr


def test_an_input_without_images_is_one_error_and_no_file(tmp_path: Path) -> None:
    def no_images(doc: dict[str, Any]) -> None:
        doc["images"], doc["annotations"] = [], []

    out = tmp_path / "jobs.jsonl"
    r = _convert(_coco(tmp_path, no_images), "-o", str(out), "--src-prefix", "https://x/")
    assert r.exit_code == 2
    assert "the input has no images or frames" in r.stderr
    assert not out.exists()


def test_problem_lines_under_error_name_the_file(tmp_path: Path) -> None:
    def outside(doc: dict[str, Any]) -> None:
        doc["annotations"][0]["bbox"] = [-50, -50, 100, 100]

    src = _coco(tmp_path, outside)
    out = tmp_path / "jobs.jsonl"
    r = _convert(src, "-o", str(out), "--src-prefix", "https://x/", "--on-invalid", "error")
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"{src}:$.annotations[0]: 'person': out_of_frame",
        f"error: {src}: 1 shape problem(s) under --on-invalid error",
    ]


def test_names_with_control_characters_stay_on_one_line(tmp_path: Path) -> None:
    src = tmp_path / "bad\nname\x1b[31m.json"
    src.write_text("{not json")
    r = _cli(
        "convert", "coco", str(src), "-o", str(tmp_path / "o.jsonl"), "--src-prefix", "https://x/"
    )
    assert r.returncode == 2
    line = _one_error_line(r.stderr)
    assert "bad\\nname\\x1b[31m.json" in line

    def newline_label(doc: dict[str, Any]) -> None:
        doc["categories"][0]["name"] = "per\nson"
        doc["annotations"][0]["bbox"] = [-50, -50, 100, 100]

    src = _coco(tmp_path, newline_label)
    r = _convert(
        src, "-o", str(tmp_path / "o.jsonl"), "--src-prefix", "https://x/", "--on-invalid", "error"
    )
    assert r.exit_code == 2
    assert len(r.stderr.splitlines()) == 2
    assert "'per\\nson': out_of_frame" in r.stderr


def test_an_empty_file_name_with_a_prefix_names_the_real_cause(tmp_path: Path) -> None:
    def unnamed(doc: dict[str, Any]) -> None:
        doc["images"][1]["file_name"] = ""

    src = _coco(tmp_path, unnamed)
    r = _convert(src, "-o", str(tmp_path / "o.jsonl"), "--src-prefix", "https://x/")
    assert r.exit_code == 2
    assert "has an empty image name (file_name)" in r.stderr
    assert "give --src-prefix" not in r.stderr


def test_a_large_job_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    convert_module = importlib.import_module("prelabel.convert")
    monkeypatch.setattr(convert_module, "JOB_SOFT_LIMIT", 100)
    out = tmp_path / "jobs.jsonl"
    r = _convert(_coco(tmp_path), "-o", str(out), "-q", "--src-prefix", "https://x/")
    assert r.exit_code == 0
    warnings = r.stderr.splitlines()
    assert len(warnings) == 2  # both jobs of the fixture are over 100 bytes
    assert all(
        w.startswith("warning: job on line ") and "split it with --frames-per-job N" in w
        for w in warnings
    )


def test_printable_escapes_control_characters_only() -> None:
    assert printable("a\nb\r\tc\x00\x1b[0m\x7f\x85\u2028") == (
        "a\\nb\\r\\tc\\x00\\x1b[0m\\x7f\\x85\\u2028"
    )
    text = "plain C:\\data\\é ✓ 'quoted'"
    assert printable(text) == text  # backslashes and non-ASCII letters stay as they are


def test_an_output_that_is_an_input_is_refused(tmp_path: Path) -> None:
    src = _coco(tmp_path)
    before = src.read_bytes()
    labels = tmp_path / "labels.yaml"
    labels.write_text("person: Person\ncar: Car\nbike: Bike\n")
    for args in (["-o", str(src)], ["-o", "-", "--report", str(labels), "--labels", str(labels)]):
        r = _convert(src, *args, "--src-prefix", "https://x/")
        assert r.exit_code == 2, r.stderr
        assert "it would be replaced" in r.stderr, r.stderr
    assert src.read_bytes() == before
    assert labels.read_text().startswith("person: Person")


def test_compare_and_export_refuse_an_output_that_replaces_an_input(tmp_path: Path) -> None:
    # compare and export read everything, then replace their outputs: an output naming an
    # input (or the report naming the COCO file) would have replaced it with no word said
    jobs = tmp_path / "jobs.jsonl"
    r = _convert(_coco(tmp_path), "-o", str(jobs), "-q", "--src-prefix", "https://x/")
    assert r.exit_code == 0, r.stderr
    results = tmp_path / "results"
    results.mkdir()
    before = jobs.read_bytes()
    coco, report = str(tmp_path / "coco.json"), str(tmp_path / "report.json")
    runs = {
        "-o/--output names the PRELABELS file": [
            "compare",
            str(jobs),
            str(results),
            "-o",
            str(jobs),
        ],
        "--plot names the -o/--output file": [
            "compare",
            str(jobs),
            str(results),
            "-o",
            report,
            "--plot",
            report,
        ],
        "-o/--output names the INPUT file": ["export", "coco", str(jobs), "-o", str(jobs)],
        "--report names the -o/--output file": [
            "export",
            "coco",
            str(jobs),
            "-o",
            coco,
            "--report",
            coco,
        ],
        "--report names the INPUT file": [
            "export",
            "yolo",
            str(jobs),
            "-o",
            str(tmp_path / "ds"),
            "--report",
            str(jobs),
        ],
    }
    for message, args in runs.items():
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert f"{message}: it would be replaced" in r.stderr, (args, r.stderr)
        assert r.exception is None or isinstance(r.exception, SystemExit)
    assert jobs.read_bytes() == before
    assert not any(Path(p).exists() for p in (coco, report, tmp_path / "ds"))


def test_compare_names_the_option_of_an_output_it_refuses(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("")
    for option in ("-o", "--plot"):
        r = CliRunner().invoke(main, ["compare", str(jobs), str(tmp_path), option, f"{tmp_path}/"])
        assert r.exit_code == 2, r.output
        named = "-o/--output" if option == "-o" else option
        assert (
            r.stderr == f"error: {tmp_path}/: {named} names a directory; give a file path in it\n"
        )


def test_a_bad_placeholder_size_names_its_option(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("")
    args = ["preview", str(jobs), "--frames-dir", str(tmp_path), "-o", str(tmp_path / "pv")]
    for bad in ("12", "0x10", "axb"):
        r = CliRunner().invoke(main, [*args, "--placeholder-size", bad])
        assert r.exit_code == 2, r.output
        assert f"Invalid value for '--placeholder-size': {bad!r} is not WIDTHxHEIGHT" in r.stderr
    assert not (tmp_path / "pv").exists()


def test_export_refuses_a_report_it_cannot_write_before_exporting(tmp_path: Path) -> None:
    # the report is written last: refused then, the export was on disk and exit 2 said it failed
    jobs = tmp_path / "jobs.jsonl"
    r = _convert(_coco(tmp_path), "-o", str(jobs), "-q", "--src-prefix", "https://x/")
    assert r.exit_code == 0, r.stderr
    (tmp_path / "afile").write_text("")
    for what, report in [
        ("coco", f"{tmp_path / 'rep'}/"),
        ("yolo", str(tmp_path / "afile" / "r.json")),
    ]:
        out = tmp_path / f"out-{what}"
        r = CliRunner().invoke(
            main, ["export", what, str(jobs), "-o", str(out), "--report", report]
        )
        assert r.exit_code == 2, r.output
        assert r.stderr.startswith("error: "), r.stderr
        assert "--report" in r.stderr, r.stderr
        assert not out.exists()


def _validates(out: Path) -> bool:
    return CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0


def _shapes(result: Result) -> int:
    """The shape count of a convert summary: 'N job(s), N frame(s), N shape(s) -> ...'."""
    return int(result.stderr.split(" shape(s)")[0].split()[-1].replace(",", ""))


def test_an_empty_cvat_label_is_dropped_and_the_output_validates(tmp_path: Path) -> None:
    original = FIXTURES / "cvat" / "images.xml"
    xml = original.read_text()
    assert 'label="person"' in xml
    assert "<name>person</name>" in xml
    src = tmp_path / "unnamed.xml"
    src.write_text(
        xml.replace('label="person"', 'label=""').replace("<name>person</name>", "<name></name>")
    )
    out = tmp_path / "jobs.jsonl"
    common = ["-o", str(out), "--src-prefix", "https://x/"]
    before = CliRunner().invoke(main, ["convert", "cvat", str(original), *common])
    r = CliRunner().invoke(main, ["convert", "cvat", str(src), *common])
    assert r.exit_code == 0, r.output
    dropped = _shapes(before) - _shapes(r)  # every person shape, and only those
    assert dropped > 0
    assert f"{dropped} dropped (label_empty)" in " ".join(r.stderr.split())
    assert _validates(out)
    r = CliRunner().invoke(main, ["convert", "cvat", str(src), *common, "--on-invalid", "error"])
    assert r.exit_code == 2
    assert f"error: {src}:<" in r.stderr
    assert "empty label" in r.stderr


def test_an_empty_yolo_name_never_gives_an_output_validate_refuses(tmp_path: Path) -> None:
    """Refused by the reader (naming data.yaml) or dropped here: never written."""
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("names: ['', car]\n")
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "yolo", str(tmp_path), "-o", str(out), "--src-prefix", "https://x/"]
    r = CliRunner().invoke(main, args)
    if r.exit_code == 2:
        assert _one_error_line(r.stderr).startswith(f"error: {tmp_path / 'data.yaml'}:names[0]")
        assert not out.exists()
    else:
        assert r.exit_code == 0
        assert "1 dropped (label_empty)" in " ".join(r.stderr.split())
        assert _validates(out)
        assert out.read_text().count('"label":"car"') == 1


def test_yolo_problem_lines_name_the_label_file_in_the_data_set(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n0 1.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text("names: [car]\n")
    for source in (tmp_path, tmp_path / "data.yaml"):
        args = ["convert", "yolo", str(source), "-o", str(tmp_path / "o.jsonl")]
        r = CliRunner().invoke(main, [*args, "--src-prefix", "https://x/", "--on-invalid", "error"])
        assert r.exit_code == 2
        assert r.stderr.splitlines()[0] == f"{tmp_path / 'labels' / 'a.txt'}:2: 'car': out_of_frame"

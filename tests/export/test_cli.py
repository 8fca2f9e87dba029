"""``prelabel export``: the commands over the library, the sidecar and the errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from prelabel.cli import main
from prelabel.export.sizes import sidecar_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [*args])


def _jobs(tmp: Path) -> Path:
    out = tmp / "jobs.jsonl"
    r = run(
        "convert", "cvat", str(FIXTURES / "cvat" / "video.xml"), "-o", str(out), "-q",
        "--src-template", "https://images.example.com/{sequence}/{index}.jpg",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return out


def test_convert_writes_the_sidecar(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path)
    side = orjson.loads(sidecar_path(jobs).read_bytes())
    assert side["format"] == "prelabel-frames"
    (ref,) = side["jobs"]
    entry = side["jobs"][ref]
    n = len(orjson.loads(jobs.read_bytes().splitlines()[0])["data"]["video_data"]["frames"])
    assert len(entry["frame_id"]) == len(entry["width"]) == n
    # video.xml's <original_size> is 640 x 480
    assert set(entry["width"]) == {640}
    assert set(entry["height"]) == {480}


def test_every_format_from_a_payload(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path)
    r = run("export", "coco", str(jobs), "-o", str(tmp_path / "x.json"))
    assert r.exit_code == 0, r.output
    assert "-> " in r.output
    doc = orjson.loads((tmp_path / "x.json").read_bytes())
    assert doc["annotations"]
    r = run(
        "export",
        "yolo",
        str(jobs),
        "-o",
        str(tmp_path / "ds"),
        "--report",
        str(tmp_path / "r.json"),
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "ds" / "data.yaml").is_file()
    report = orjson.loads((tmp_path / "r.json").read_bytes())
    # video.xml has landmarks and lines, which YOLO rows cannot hold: each one a row
    assert any(c["reason"] == "kind_not_in_format" and c["count"] > 0 for c in report["counts"])
    r = run("export", "cvat", str(jobs), "-o", str(tmp_path / "xml"), "-q")
    assert r.exit_code == 0, r.output
    assert r.output == ""
    assert [p.name for p in (tmp_path / "xml").iterdir()] == ["street.xml"]


def test_results_folder_needs_sizes(tmp_path: Path) -> None:
    r = run("export", "coco", str(FIXTURES / "results"), "-o", str(tmp_path / "x.json"))
    assert r.exit_code == 2
    assert "--sizes" in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "x.json").exists()


def test_results_folder_without_sizes_to_yolo(tmp_path: Path) -> None:
    """YOLO is normalised: the results' own fractions, frames named <reference_id>/<file>."""
    r = run("export", "yolo", str(FIXTURES / "results"), "-o", str(tmp_path / "ds"))
    assert r.exit_code == 0, r.output
    labels = sorted(
        p.relative_to(tmp_path / "ds").as_posix() for p in (tmp_path / "ds").rglob("*.txt")
    )
    assert labels
    assert all(p.startswith("labels/") for p in labels)


def test_bad_result_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "a.json").write_bytes(b'{"data": {"video_data": {"frames": []}}}')
    r = run("export", "yolo", str(folder), "-o", str(tmp_path / "ds"))
    assert r.exit_code == 2
    assert "a.json" in r.output
    assert "annotation_data" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("reference_id", ["../../escaped", "/tmp/escaped", "a/../../escaped"])
def test_a_reference_id_cannot_write_outside_the_yolo_folder(
    tmp_path: Path, reference_id: str
) -> None:
    """Without sizes, YOLO names frames <reference_id>/<file>: a result's reference_id is
    input, and one of .. parts (or a root) must not take the label files out of -o."""
    folder = tmp_path / "results"
    folder.mkdir()
    doc = orjson.loads((FIXTURES / "results" / "street.json").read_bytes())
    doc["reference_id"] = reference_id
    (folder / "street.json").write_bytes(orjson.dumps(doc))
    out = tmp_path / "deep" / "er" / "ds"
    r = run("export", "yolo", str(folder), "-o", str(out))
    assert r.exit_code == 2, r.output
    assert "street.json" in r.output
    assert "outside" in r.output
    assert "Traceback" not in r.output
    assert not list(tmp_path.rglob("escaped"))
    assert not Path("/tmp/escaped").exists()


def test_entries_of_a_results_folder_that_are_not_results_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "street.json").write_bytes((FIXTURES / "results" / "street.json").read_bytes())
    (folder / "notes.txt").write_text("x")
    (folder / "old").mkdir()
    (folder / "old" / "street.json").write_text("{}")
    (folder / "dir.json").mkdir()
    report = tmp_path / "report.json"
    r = run("export", "yolo", str(folder), "-o", str(tmp_path / "ds"), "--report", str(report))
    assert r.exit_code == 0, r.output
    assert "not_a_result_file" in r.output
    rows = orjson.loads(report.read_bytes())["rows"]
    skipped = sorted(
        Path(row["source"]).name for row in rows if row["reason"] == "not_a_result_file"
    )
    assert skipped == ["dir.json", "notes.txt", "old"]


def test_two_results_of_one_reference_id_are_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    doc = orjson.loads((FIXTURES / "results" / "street.json").read_bytes())
    doc["reference_id"] = "street"
    for name in ("a.json", "b.json"):
        (folder / name).write_bytes(orjson.dumps(doc))
    ids = [f["frame_id"] for f in doc["data"]["video_data"]["frames"]]
    n = len(ids)
    sizes = tmp_path / "sizes.json"
    columns = {"frame_id": ids, "width": [640] * n, "height": [480] * n}
    sizes.write_bytes(orjson.dumps({"format": "prelabel-frames", "jobs": {"street": columns}}))
    for fmt, out in (("yolo", "ds"), ("cvat", "xml"), ("coco", "x.json")):
        r = run("export", fmt, str(folder), "-o", str(tmp_path / out), "--sizes", str(sizes))
        assert r.exit_code == 2, r.output
        assert "b.json" in r.output
        assert "a second result for reference_id 'street' (the first is a.json)" in r.output
        assert "Traceback" not in r.output
    assert not (tmp_path / "x.json").exists()


def test_a_payload_with_a_reference_id_twice_is_one_error(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    line = (FIXTURES / "results" / "prelabels.jsonl").read_bytes().splitlines()[0]
    jobs.write_bytes(line + b"\n" + line + b"\n")
    r = run("export", "yolo", str(jobs), "-o", str(tmp_path / "ds"))
    assert r.exit_code == 2, r.output
    assert "jobs.jsonl:2: $.reference_id" in r.output
    assert "repeated (first on line 1)" in r.output


def test_a_result_of_zero_frames_exports_and_compares_empty(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    doc = {"data": {"annotation_data": {"annotations": []}, "video_data": {"frames": []}}}
    (folder / "empty.json").write_bytes(orjson.dumps(doc))
    sizes = tmp_path / "sizes.json"
    empty = {"frame_id": [], "width": [], "height": []}
    sizes.write_bytes(orjson.dumps({"format": "prelabel-frames", "jobs": {"empty": empty}}))
    r = run("export", "coco", str(folder), "--sizes", str(sizes), "-o", str(tmp_path / "x.json"))
    assert r.exit_code == 0, r.output
    out = orjson.loads((tmp_path / "x.json").read_bytes())
    assert (out["images"], out["annotations"]) == ([], [])
    r = run("export", "cvat", str(folder), "--sizes", str(sizes), "-o", str(tmp_path / "cvat"))
    assert r.exit_code == 0, r.output
    assert "<size>0</size>" in (tmp_path / "cvat" / "empty.xml").read_text()

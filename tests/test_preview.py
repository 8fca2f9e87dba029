"""prelabel.preview and `prelabel preview`: the pixels drawn, placeholders, the contact sheet's
cap, the selections, bad input, and the command line."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from prelabel.cli import main
from prelabel.errors import InputError, MissingExtraError
from prelabel.preview import (
    PALETTE,
    PLACEHOLDER_GREY,
    PreviewOptions,
    frame_shapes,
    label_colours,
    preview,
    selected_positions,
)

Image = pytest.importorskip("PIL.Image")

FIXTURES = Path(__file__).parent.parent / "fixtures" / "payloads"
W, H = 640, 360


def _rect(fid: str, x0: float, y0: float, x1: float, y1: float, label: str) -> dict[str, Any]:
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return {
        fid: {
            "_id": f"o-{fid}",
            "label": label,
            "coordinates": [{"x": x, "y": y} for x, y in corners],
        }
    }


def _job(ref: str, n: int, trackers: list[dict[str, Any]]) -> dict[str, Any]:
    frames = [
        {"frame_id": f"f{i}", "src": f"https://img.example.com/{ref}/{i:06d}.png"} for i in range(n)
    ]
    return {
        "reference_id": ref,
        "work_flow_id": "wf",
        "data": {
            "video_data": {"frames": frames},
            "maker_response": {"video2d": {"data": {"annotations": trackers}}},
        },
    }


def _box_tracker(tid: str, label: str, frames: dict[str, Any]) -> dict[str, Any]:
    return {"_id": tid, "type": "rectangle", "label": label, "frames": frames}


def _write_jobs(path: Path, jobs: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(j) + b"\n" for j in jobs))
    return path


def _noise(seed: int, size: tuple[int, int] = (W, H)) -> Any:
    """A frame of seeded noise in mid tones (so no drawn colour equals it by chance)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(60, 200, size=(size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def _frames(root: Path, ref: str, n: int, *, size: tuple[int, int] = (W, H)) -> list[Path]:
    folder = root / ref
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"{i:06d}.png"
        _noise(i, size).save(path)
        out.append(path)
    return out


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture
def one_box(tmp_path: Path) -> tuple[Path, Path]:
    """A job of two frames with a box on f0 at x 0.25..0.75, y 0.25..0.75."""
    # on 640 x 360: x 160..480, y 90..270
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        [_job("cam", 2, [_box_tracker("t1", "Car", _rect("f0", 0.25, 0.25, 0.75, 0.75, "Car"))])],
    )
    _frames(tmp_path / "frames", "cam", 2)
    return jobs, tmp_path / "frames"


def test_a_drawn_edge_differs_from_the_frame_and_the_inside_of_the_box_does_not(
    one_box: tuple[Path, Path], tmp_path: Path
) -> None:
    jobs, frames = one_box
    summary = preview(jobs, tmp_path / "out", frames_dir=frames)
    drawn = _pixels(tmp_path / "out" / "cam" / "000000_f0.png")
    original = np.asarray(_noise(0))
    assert drawn.shape == original.shape  # the frame's own size, not a default
    colour = np.array(label_colours({"Car"})["Car"])
    # the box's left edge is x = 0.25 * 640 = 160, from y = 90 to 270: drawn in Car's colour
    assert (drawn[150:250, 160] == colour).all()
    assert (drawn[150:250, 160] != original[150:250, 160]).any(axis=1).all()
    # its interior, well inside the edges (x 170..470, y 100..260), is the frame untouched
    assert np.array_equal(drawn[100:260, 170:470], original[100:260, 170:470])
    # frame f1 has no shape: identical to its frame
    assert np.array_equal(
        _pixels(tmp_path / "out" / "cam" / "000001_f1.png"), np.asarray(_noise(1))
    )
    assert (summary.jobs, summary.frames, summary.placeholders, summary.shapes) == (1, 2, 0, 1)


def test_coordinates_are_scaled_by_the_images_real_size(tmp_path: Path) -> None:
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl",
        [_job("cam", 1, [_box_tracker("t1", "Car", _rect("f0", 0.25, 0.25, 0.75, 0.75, "Car"))])],
    )
    _frames(tmp_path / "frames", "cam", 1, size=(200, 100))
    preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    drawn = _pixels(tmp_path / "out" / "cam" / "000000_f0.png")
    colour = np.array(label_colours({"Car"})["Car"])
    # on 200 x 100 the left edge is x = 50 (y 25..75), the right edge x = 150
    assert (drawn[40:70, 50] == colour).all()
    assert (drawn[40:70, 150] == colour).all()
    assert np.array_equal(drawn[30:70, 60:140], np.asarray(_noise(0, (200, 100)))[30:70, 60:140])


def test_every_shape_type_is_drawn(tmp_path: Path) -> None:
    # the bundled valid payload: 1920 x 1080 frames 000001.jpg .. 000003.jpg
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in (1, 2):
        Image.new("RGB", (1920, 1080), (40, 40, 40)).save(frames / f"{i:06d}.jpg", quality=95)
    summary = preview(FIXTURES / "valid.jsonl", tmp_path / "out", frames_dir=frames)
    f1 = _pixels(tmp_path / "out" / "drive-07" / "000000_frame001.png").astype(int)
    f2 = _pixels(tmp_path / "out" / "drive-07" / "000001_frame002.png").astype(int)

    def differs(image: np.ndarray, x: float, y: float) -> bool:
        return bool(np.abs(image[round(y), round(x)] - 40).max() > 60)

    assert differs(f1, 192, 300)  # the Car box's left edge, x = 192
    assert differs(f1, 1152, 650)  # the face_mask polygon's right edge, x = 1152
    assert differs(f1, 930, 595)  # its edge p5 (900, 650) -> p1 (960, 540), at its middle
    assert differs(f2, 240, 945)  # the line (0,1080) -> (480,810): middle of its first part
    assert not differs(f1, 240, 945)  # ... which is on frame002 only
    assert summary.shapes == 6  # frame001: box, polygon; 002: box, line; 003: cuboid, landmark
    assert summary.placeholders == 1  # 000003.jpg is not there
    f3 = _pixels(tmp_path / "out" / "drive-07" / "000002_frame003.png").astype(int)
    grey = PLACEHOLDER_GREY[0]

    def on_grey(x: float, y: float) -> bool:
        return bool(np.abs(f3[round(y), round(x)] - grey).max() > 40)

    assert f3.shape == (1080, 1920, 3)  # the job's frame size, read from the frames found
    assert on_grey(412, 626)  # the cuboid's front bottom edge (326,626) -> (499,626)
    assert on_grey(672, 475)  # its back face's right edge (672,562) -> (672,389)
    assert on_grey(585, 594)  # the connector p2 (499,626) -> p6 (672,562), at its middle
    assert on_grey(499, 680)  # the landmark's point p2 (499, 680)


def test_a_missing_frame_is_a_grey_placeholder_of_the_jobs_size_and_is_counted(
    tmp_path: Path,
) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 3, [])])
    paths = _frames(tmp_path / "frames", "cam", 3, size=(320, 240))
    paths[1].unlink()
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    hole = _pixels(tmp_path / "out" / "cam" / "000001_f1.png")
    assert hole.shape == (240, 320, 3)  # the size of the job's other frames
    assert (hole[:20, :20] == PLACEHOLDER_GREY).all()
    assert (hole != PLACEHOLDER_GREY).any()  # its name is written on it
    assert (summary.frames, summary.placeholders) == (3, 1)
    (missing,) = summary.missing
    assert (missing.reference_id, missing.frame_id, missing.reason) == ("cam", "f1", "not found")
    assert missing.src.endswith("/cam/000001.png")


def test_a_job_with_no_frame_found_uses_the_placeholder_size(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 2, [])])
    (tmp_path / "frames").mkdir()
    options = PreviewOptions(placeholder_size=(300, 200))
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames", options=options)
    assert _pixels(tmp_path / "out" / "cam" / "000000_f0.png").shape == (200, 300, 3)
    assert summary.placeholders == 2


def test_an_unreadable_frame_is_a_placeholder_that_says_so(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 2, [])])
    paths = _frames(tmp_path / "frames", "cam", 2)
    paths[0].write_bytes(b"not an image")
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    assert [m.reason for m in summary.missing] == ["unreadable (UnidentifiedImageError)"]
    assert _pixels(tmp_path / "out" / "cam" / "000000_f0.png").shape == (H, W, 3)


def test_frames_that_are_not_drawn_are_not_opened(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 4, [])])
    paths = _frames(tmp_path / "frames", "cam", 4)
    for p in paths[1::2]:
        p.write_bytes(b"garbage")  # would be a placeholder if it were decoded
    options = PreviewOptions(every=2)
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames", options=options)
    assert (summary.frames, summary.placeholders) == (2, 0)


def test_the_contact_sheet_is_capped_in_thumbnails_and_pixels(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 40, [])])
    _frames(tmp_path / "frames", "cam", 40, size=(64, 48))
    big = PreviewOptions(sheet_frames=40, thumb_width=200, sheet_size=600)
    preview(jobs, tmp_path / "big", frames_dir=tmp_path / "frames", options=big)
    with Image.open(tmp_path / "big" / "cam.png") as sheet:
        # 40 thumbnails: 7 columns, 6 rows; 7 of 200 would be 1400 wide, so a cell is
        # (600 - 8 gaps of 4) // 7 = 81 wide, 81 * 48/64 = 61 high: 7 * (81 + 4) + 4 = 599
        # wide, 40 header + 6 * (61 + 14 caption + 4) + 4 = 518 high
        assert sheet.size == (599, 518)
        assert max(sheet.size) <= 600
    few = PreviewOptions(sheet_frames=4, thumb_width=100, sheet_size=4096)
    summary = preview(jobs, tmp_path / "few", frames_dir=tmp_path / "frames", options=few)
    with Image.open(tmp_path / "few" / "cam.png") as sheet:
        # 4 thumbnails: 2 columns of 100 + 3 gaps of 4 = 212, under the 320 minimum width;
        # 2 rows of (75 + 14 caption + 4) under a 40 header, + 4 = 230
        assert sheet.size == (320, 230)
    assert summary.frames == 40  # every frame drawn; only the sheet is capped


def test_selected_positions() -> None:
    assert selected_positions(10, PreviewOptions()).tolist() == list(range(10))
    assert selected_positions(10, PreviewOptions(every=3)).tolist() == [0, 3, 6, 9]
    assert selected_positions(10, PreviewOptions(first=4)).tolist() == [0, 1, 2, 3]
    assert selected_positions(10, PreviewOptions(every=2, first=5)).tolist() == [0, 2, 4]
    assert selected_positions(10_000, PreviewOptions(every=100)).size == 100


def test_jobs_frames_and_labels_are_selected(tmp_path: Path) -> None:
    car = _box_tracker("t1", "Car", _rect("f2", 0.25, 0.25, 0.75, 0.75, "Car"))
    person = _box_tracker("t2", "Person", _rect("f2", 0.1, 0.1, 0.2, 0.2, "Person"))
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl", [_job("a", 5, [car, person]), _job("b", 5, [car, person])]
    )
    _frames(tmp_path / "frames", "a", 5)
    _frames(tmp_path / "frames", "b", 5)
    options = PreviewOptions(
        jobs=frozenset({"b", "zzz"}), every=2, first=4, labels=frozenset({"Person", "Bus"})
    )
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames", options=options)
    assert not (tmp_path / "out" / "a").exists()
    assert sorted(p.name for p in (tmp_path / "out" / "b").iterdir()) == [
        "000000_f0.png",
        "000002_f2.png",
    ]
    assert (summary.jobs, summary.frames, summary.shapes) == (1, 2, 1)
    assert summary.unmatched_jobs == ["zzz"]
    assert summary.unmatched_labels == ["Bus"]
    drawn = _pixels(tmp_path / "out" / "b" / "000002_f2.png")
    original = np.asarray(_noise(2))
    assert np.array_equal(drawn[:, 160], original[:, 160])  # Car's left edge: not drawn
    assert (drawn[40:70, 64] == label_colours({"Person"})["Person"]).all()  # Person's, x = 64


def test_frames_file_maps_src_or_frame_id_to_an_image(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 3, [])])
    images = tmp_path / "images"
    images.mkdir()
    for name, seed in (("first.png", 0), ("second.png", 1)):
        _noise(seed).save(images / name)
    csv = tmp_path / "frames.csv"
    csv.write_text(
        "name,frame_id,src\n"
        "images/first.png,,https://img.example.com/cam/000000.png\n"
        "images/second.png,f1,\n"
    )
    summary = preview(jobs, tmp_path / "out", frames_file=csv)
    assert np.array_equal(
        _pixels(tmp_path / "out" / "cam" / "000001_f1.png"), np.asarray(_noise(1))
    )
    assert [m.frame_id for m in summary.missing] == ["f2"]


def test_label_colours_are_stable_and_distinct_within_a_job() -> None:
    many = [f"label{i}" for i in range(len(PALETTE))]
    colours = label_colours(many)
    assert len(set(colours.values())) == len(PALETTE)
    # a label alone has the slot of its name's hash, whatever the run
    slot = int.from_bytes(hashlib.sha1(b"Car").digest()[:4], "big") % len(PALETTE)
    assert label_colours({"Car"}) == {"Car": PALETTE[slot]}
    assert label_colours(["b", "a"]) == label_colours(["a", "b"])
    # the first label in sorted order keeps its slot when another label collides with it
    rival = next(
        f"x{i}"
        for i in range(1000)
        if int.from_bytes(hashlib.sha1(f"x{i}".encode()).digest()[:4], "big") % len(PALETTE) == slot
    )
    both = label_colours({"Car", rival})
    assert both["Car"] == PALETTE[slot]
    assert both[rival] == PALETTE[(slot + 1) % len(PALETTE)]


@pytest.mark.parametrize(
    ("line", "where"),
    [
        (b"{not json", "jobs.jsonl:2: invalid JSON at column 2"),
        (b"[1]", "jobs.jsonl:2: $: expected a job"),
        (b'{"reference_id": "x", "data": {}}', "jobs.jsonl:2: $.data: missing 'video_data'"),
    ],
)
def test_bad_input_is_one_error_naming_the_file_and_line(
    tmp_path: Path, line: bytes, where: str
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_bytes(orjson.dumps(_job("ok", 1, [])) + b"\n" + line + b"\n")
    (tmp_path / "frames").mkdir()
    with pytest.raises(InputError) as err:
        preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    assert where in str(err.value)


def test_a_bad_shape_names_its_json_path(tmp_path: Path) -> None:
    box = _rect("f0", 0.1, 0.1, 0.2, 0.2, "Car")
    box["f0"]["coordinates"][2]["x"] = "0.2"
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 1, [_box_tracker("t", "Car", box)])])
    (tmp_path / "frames").mkdir()
    with pytest.raises(InputError, match=r"jobs.jsonl:1: \$\.data\.maker_response\.video2d"):
        preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    with pytest.raises(InputError) as err:
        preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    assert "annotations[0].frames.f0.coordinates[2].x: expected a number, not '0.2'" in str(
        err.value
    )


def test_a_tracker_frame_that_is_not_a_frame_of_the_job_is_an_error(tmp_path: Path) -> None:
    stray = _box_tracker("t", "Car", _rect("nope", 0.1, 0.1, 0.2, 0.2, "Car"))
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 1, [stray])])
    (tmp_path / "frames").mkdir()
    with pytest.raises(InputError) as err:
        preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    assert str(err.value).endswith(
        "jobs.jsonl:1: $.data.maker_response.video2d.data.annotations[0].frames.nope:"
        " frame 'nope' is not in data.video_data.frames"
    )


def test_a_stray_frame_key_is_an_error_even_on_a_frame_not_drawn(tmp_path: Path) -> None:
    # only f0 is drawn; the tracker's second key names no frame of the job
    frames = {**_rect("f0", 0.1, 0.1, 0.2, 0.2, "Car"), **_rect("gone", 0.1, 0.1, 0.2, 0.2, "Car")}
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl", [_job("cam", 4, [_box_tracker("t", "Car", frames)])]
    )
    (tmp_path / "frames").mkdir()
    with pytest.raises(InputError, match=r"annotations\[0\]\.frames\.gone: frame 'gone' is not"):
        preview(
            jobs, tmp_path / "out", frames_dir=tmp_path / "frames", options=PreviewOptions(first=1)
        )


def test_the_objects_of_frames_not_drawn_are_not_read(tmp_path: Path) -> None:
    box = _rect("f1", 0.1, 0.1, 0.2, 0.2, "Car")
    box["f1"]["coordinates"][0]["x"] = "bad"  # on f1, which --every 2 does not draw
    good = _rect("f0", 0.25, 0.25, 0.75, 0.75, "Car")
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl", [_job("cam", 2, [_box_tracker("t", "Car", {**good, **box})])]
    )
    _frames(tmp_path / "frames", "cam", 2)
    options = PreviewOptions(every=2)
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames", options=options)
    assert (summary.frames, summary.shapes) == (1, 1)
    with pytest.raises(InputError, match=r"frames\.f1\.coordinates\[0\]\.x"):
        preview(jobs, tmp_path / "all", frames_dir=tmp_path / "frames")


def test_a_polygon_is_drawn_by_its_edges(tmp_path: Path) -> None:
    # a square p1 (0.25, 0.25) .. p4 (0.25, 0.75) whose edges are its two diagonals only
    corners = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]
    square = {
        "_id": "o",
        "label": "Car",
        "points": {f"p{i + 1}": {"x": x, "y": y} for i, (x, y) in enumerate(corners)},
        "edges": {"e1": ["p1", "p3"], "e2": ["p2", "p4"]},
    }
    tracker = {"_id": "t", "type": "polygon", "label": "Car", "frames": {"f0": square}}
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 1, [tracker])])
    _frames(tmp_path / "frames", "cam", 1)
    preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    drawn = _pixels(tmp_path / "out" / "cam" / "000000_f0.png")
    colour = label_colours({"Car"})["Car"]
    # on 640 x 360 the diagonals cross at (320, 180); the ring's left side x = 160 is not drawn
    assert (drawn[178:183, 318:323] == colour).all(axis=-1).any()
    assert not (drawn[150:250, 160] == colour).all(axis=-1).any()


def test_a_job_without_pre_labels_is_drawn_without_shapes(tmp_path: Path) -> None:
    job = _job("cam", 2, [])
    del job["data"]["maker_response"]  # validate allows it: nothing to pre-label
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [job])
    _frames(tmp_path / "frames", "cam", 2)
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames")
    assert (summary.jobs, summary.frames, summary.shapes) == (1, 2, 0)


def test_a_pretty_printed_payload_and_an_empty_file_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_text('{\n  "reference_id": "cam"\n}\n')
    with pytest.raises(InputError, match=r"pretty.jsonl:1: invalid JSON .* one job per line"):
        preview(pretty, tmp_path / "out", frames_dir=tmp_path / "frames")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match=r"empty.jsonl: the file holds no jobs"):
        preview(empty, tmp_path / "out", frames_dir=tmp_path / "frames")


def test_without_pillow_the_extra_is_named(
    one_box: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs, frames = one_box
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(MissingExtraError, match=r"prelabel\[preview\]"):
        preview(jobs, tmp_path / "out", frames_dir=frames)


def test_cli_writes_the_files_and_a_summary(one_box: tuple[Path, Path], tmp_path: Path) -> None:
    jobs, frames = one_box
    (frames / "cam" / "000001.png").unlink()
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["preview", str(jobs), "--frames-dir", str(frames), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.rglob("*.png")) == [
        "000000_f0.png",
        "000001_f1.png",
        "cam.png",
    ]
    assert "placeholder: cam f1: not found: https://img.example.com/cam/000001.png" in result.stderr
    assert (
        f"preview: 1 job(s), 2 frame(s) drawn, 1 placeholder(s), 1 shape(s), 3 file(s) written to {out}"
        in result.stderr
    )


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_bytes(b"\n{oops\n")
    result = CliRunner().invoke(
        main, ["preview", str(jobs), "--frames-dir", str(tmp_path), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {jobs}:2: invalid JSON at column 2")


def test_cli_needs_a_way_to_find_frames(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 1, [])])
    result = CliRunner().invoke(main, ["preview", str(jobs), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "give --frames-dir, --frames or both" in result.stderr


def test_sheet_only_writes_the_sheet_and_opens_only_its_frames(tmp_path: Path) -> None:
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [_job("cam", 9, [])])
    paths = _frames(tmp_path / "frames", "cam", 9)
    for i in (1, 2, 3, 5, 6, 7):
        paths[i].write_bytes(b"garbage")  # off the sheet: never opened
    # 9 frames, 3 on the sheet: linspace(0, 8, 3) = positions 0, 4, 8
    options = PreviewOptions(sheet_frames=3, sheet_only=True)
    summary = preview(jobs, tmp_path / "out", frames_dir=tmp_path / "frames", options=options)
    assert [p.name for p in summary.files] == ["cam.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cam.png"]
    assert (summary.frames, summary.placeholders) == (3, 0)


def test_an_output_that_cannot_be_written_is_an_input_error(
    one_box: tuple[Path, Path], tmp_path: Path
) -> None:
    jobs, frames = one_box
    (tmp_path / "out").write_text("a file, not a folder")
    with pytest.raises(InputError, match="out"):
        preview(jobs, tmp_path / "out", frames_dir=frames)


def test_frames_are_found_by_the_longest_trailing_part_of_the_src_path(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    (frames / "a").mkdir(parents=True)
    _noise(1).save(frames / "a" / "0 1.png")  # DIR/a/<name>: the more specific match
    _noise(2).save(frames / "0 1.png")  # DIR/<name>: for any other folder
    job = _job("cam", 0, [])
    job["data"]["video_data"]["frames"] = [
        {"frame_id": "f0", "src": "https://h.example.com/a/0%201.png"},  # %20 is a space
        {"frame_id": "f1", "src": "s3://bucket/b/0%201.png"},
        {"frame_id": "f2", "src": "https://h.example.com/../a/0%201.png?v=2"},
    ]
    jobs = _write_jobs(tmp_path / "jobs.jsonl", [job])
    summary = preview(jobs, tmp_path / "out", frames_dir=frames)
    out = tmp_path / "out" / "cam"
    assert np.array_equal(_pixels(out / "000000_f0.png"), np.asarray(_noise(1)))
    assert np.array_equal(_pixels(out / "000001_f1.png"), np.asarray(_noise(2)))
    # '..' is dropped (never leaves the folder) and the query is not part of the path
    assert np.array_equal(_pixels(out / "000002_f2.png"), np.asarray(_noise(1)))
    assert summary.placeholders == 0


def test_frame_shapes_of_a_parsed_job() -> None:
    job = orjson.loads((FIXTURES / "valid.jsonl").read_bytes().splitlines()[0])
    shapes = frame_shapes(job, {"frame002", "nope"}, labels=frozenset({"Car"}))
    assert set(shapes) == {"frame002", "nope"}  # a key for every id asked for
    (car,) = shapes["frame002"]  # its line is not a Car
    assert (car.kind, car.label, car.closed, car.edges) == ("rectangle", "Car", True, ())
    assert car.tracker == job["data"]["maker_response"]["video2d"]["data"]["annotations"][0]["_id"]
    corners = job["data"]["maker_response"]["video2d"]["data"]["annotations"][0]["frames"]
    expected = [[c["x"], c["y"]] for c in corners["frame002"]["coordinates"]]
    np.testing.assert_array_equal(car.points, expected)
    cuboid, nose = frame_shapes(job, {"frame003"})["frame003"]
    assert (cuboid.kind, len(cuboid.edges), nose.kind, len(nose.points)) == (
        "cuboid",
        12,
        "landmark",
        3,
    )

"""Frame sizes for export: the sidecar, --sizes and --images."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from prelabel import FrameOptions, convert
from prelabel.annotations import Annotations
from prelabel.errors import InputError
from prelabel.export import sizes
from prelabel.export._input import pixel_jobs
from tests.export.roundtrip import PREFIX, framed, png_header


def _payload(tmp: Path) -> Path:
    frames = framed([("cam", 2, 300, 200)], "cam/{i:03d}.png")
    ann = Annotations.from_boxes(frames, [[30, 20, 60, 40]], ["car"], [1])
    out = tmp / "jobs.jsonl"
    convert(ann, out, frames=FrameOptions(src_prefix=PREFIX))
    return out


def test_sidecar_path() -> None:
    assert sizes.sidecar_path("a/jobs.jsonl") == Path("a/jobs.sizes.json")
    assert sizes.sidecar_path("jobs") == Path("jobs.sizes.json")


def test_pixels_from_the_sidecar_beside_the_payload(tmp_path: Path) -> None:
    (job,) = list(pixel_jobs(_payload(tmp_path)))
    assert job.frames.name.tolist() == ["cam/000.png", "cam/001.png"]
    assert job.frames.width.tolist() == [300, 300]
    # back to pixels: x 0.1 * 300 = 30, y 0.1 * 200 = 20
    assert job.annotations.points[0].tolist() == pytest.approx([30, 20])
    assert not job.annotations.normalised


def test_images_give_sizes_by_src_path(tmp_path: Path) -> None:
    jobs = _payload(tmp_path)
    sizes.sidecar_path(jobs).unlink()
    with pytest.raises(InputError, match="unknown"):
        list(pixel_jobs(jobs))
    png_header(tmp_path / "img" / "cam" / "000.png", 600, 400)
    png_header(tmp_path / "img" / "cam" / "001.png", 600, 400)
    (job,) = list(pixel_jobs(jobs, images=tmp_path / "img"))
    assert job.frames.name.tolist() == ["cam/000.png", "cam/001.png"]
    # the image is twice the size the payload was made for: 0.1 * 600 = 60
    assert job.annotations.points[0].tolist() == pytest.approx([60, 40])
    (tmp_path / "img" / "cam" / "001.png").unlink()
    with pytest.raises(InputError, match="no image for frame '001'"):
        list(pixel_jobs(jobs, images=tmp_path / "img"))


def test_bad_sidecar_names_the_key(tmp_path: Path) -> None:
    jobs = _payload(tmp_path)
    side = sizes.sidecar_path(jobs)
    doc = orjson.loads(side.read_bytes())
    doc["jobs"]["cam"]["width"][1] = -3
    side.write_bytes(orjson.dumps(doc))
    with pytest.raises(InputError, match="positive") as info:
        list(pixel_jobs(jobs))
    assert info.value.location == "$.jobs.cam.width[1]"
    doc["jobs"] = {"other": doc["jobs"]["cam"]}
    doc["jobs"]["other"]["width"][1] = 3
    side.write_bytes(orjson.dumps(doc))
    with pytest.raises(InputError, match="no frames recorded"):
        list(pixel_jobs(jobs))


@pytest.mark.parametrize(
    ("key", "at", "value", "message"),
    [
        # a size is checked before anything is made of it: 1e308 overflowed COCO's ints
        ("width", 1, 1e308, "up to"),
        ("height", 0, 1e12, "up to"),
        ("width", 0, True, "positive"),
        ("index", 1, "a", "integer"),  # was a ValueError from numpy
        ("index", 0, 1.5, "integer"),  # was truncated to 1
        ("frame_id", 1, 7, "string"),
        ("frame_id", 1, "000", "repeated"),  # was "frame '001' is not recorded"
        ("name", 0, 5, "string"),  # was a TypeError in export yolo
        ("name", 1, "../../outside.png", "inside the export"),  # export yolo wrote there
        ("name", 0, "/etc/x.png", "inside the export"),
        ("sequence", None, ["cam"], "string"),
    ],
)
def test_sidecar_values_are_checked_before_use(
    tmp_path: Path, key: str, at: int | None, value: object, message: str
) -> None:
    jobs = _payload(tmp_path)
    side = sizes.sidecar_path(jobs)
    doc = orjson.loads(side.read_bytes())
    if at is None:
        doc["jobs"]["cam"][key] = value
    else:
        doc["jobs"]["cam"][key][at] = value
    side.write_bytes(orjson.dumps(doc))
    with pytest.raises(InputError, match=message) as info:
        list(pixel_jobs(jobs))
    assert info.value.path == str(side)
    assert info.value.location == f"$.jobs.cam.{key}" + ("" if at is None else f"[{at}]")

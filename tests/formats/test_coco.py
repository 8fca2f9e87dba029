"""COCO reader and ``prelabel convert coco``: every variant on hand-checked fixtures, bad input,
and properties over random COCO files."""

from __future__ import annotations

import contextlib
import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Kind
from prelabel.cli import main
from prelabel.errors import InputError
from prelabel.formats.coco import read_coco
from prelabel.geometry import normalise
from prelabel.report import Report
from prelabel.validate import job_problems

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "coco"


def shapes(ann: Annotations) -> list[tuple[str, str, list[list[float]]]]:
    """(kind, label, points) per shape, for readable assertions."""
    out = []
    for i in range(len(ann)):
        pts = ann.points[ann.offsets[i] : ann.offsets[i + 1]].tolist()
        out.append((Kind(int(ann.kind[i])).type_name, ann.labels[ann.label[i]], pts))
    return out


def reasons(report: Report) -> list[tuple[str, str, str | None]]:
    return [(r["action"], r["reason"], r["source"]) for r in report.rows]


# --- instances ---------------------------------------------------------------------------------
def test_instances_boxes_polygons_and_category_ids() -> None:
    report = Report()
    ann = read_coco(FIXTURES / "instances.json", report=report)
    # category ids 0, 7, 3: names in the file's order, whatever the ids
    assert ann.labels == ("person", "car", "bike")
    assert ann.frames.name.tolist() == ["cam1/000001.jpg", "cam1/000002.jpg", "street.jpg"]
    # no video: the parent folder is the sequence ("" = one sequence named after the file)
    assert ann.frames.sequence.tolist() == ["cam1", "cam1", ""]
    assert ann.frames.index.tolist() == [0, 1, 0]
    assert ann.frames.width.tolist() == [640, 640, 1000]
    assert ann.frames.frame_id.tolist() == ["", "", ""]
    assert shapes(ann) == [
        # bbox [10, 20, 100, 50]: x 10..110, y 20..70
        ("rectangle", "person", [[10, 20], [110, 20], [110, 70], [10, 70]]),
        ("polygon", "car", [[100, 100], [200, 100], [200, 150], [100, 150]]),
        # two rings: each its own polygon, in the file's order
        ("polygon", "car", [[0, 0], [10, 0], [10, 10]]),
        ("polygon", "car", [[500, 250], [600, 250], [600, 300], [500, 300]]),
        # bbox [1.5, 2.25, 3, 4]: x 1.5..4.5, y 2.25..6.25
        ("rectangle", "bike", [[1.5, 2.25], [4.5, 2.25], [4.5, 6.25], [1.5, 6.25]]),
    ]
    assert ann.frame.tolist() == [0, 1, 2, 2, 2]
    assert ann.track.tolist() == [-1] * 5
    assert np.isnan(ann.score).all()
    assert ann.source.tolist() == [
        "$.annotations[0]",
        "$.annotations[1]",
        "$.annotations[2]",
        "$.annotations[2]",
        "$.annotations[3]",
    ]
    assert report.rows == [
        {
            "action": "split",
            "reason": "split_into_polygons",
            "frame": "street.jpg",
            "label": "car",
            "shape": None,
            "source": "$.annotations[2]",
            "detail": "2 parts, each its own shape",
        }
    ]
    # normalised: the top-right corner of the first box, x = 110 / 640 = 0.171875,
    # y = 20 / 480 = 0.041666...
    norm = normalise(ann)
    assert norm.points[1].tolist() == [110 / 640, 20 / 480]
    assert norm.points[1, 0] == 0.171875


def test_multipart_largest_keeps_the_biggest_ring() -> None:
    report = Report()
    ann = read_coco(FIXTURES / "instances.json", multipart="largest", report=report)
    # ring 0: triangle of area 10 * 10 / 2 = 50; ring 1: 100 x 50 = 5000 -> ring 1 stays
    assert shapes(ann)[2] == ("polygon", "car", [[500, 250], [600, 250], [600, 300], [500, 300]])
    assert len(ann) == 4
    assert reasons(report) == [("dropped", "multipart_smaller_parts", "$.annotations[2]")]
    assert report.rows[0]["detail"] == "kept the largest of 2 parts"


def test_as_boxes_uses_bbox_for_every_annotation() -> None:
    ann = read_coco(FIXTURES / "instances.json", as_boxes=True)
    assert [k for k, _, _ in shapes(ann)] == ["rectangle"] * 4
    # the multipart annotation's bbox [0, 0, 600, 300]
    assert shapes(ann)[2][2] == [[0, 0], [600, 0], [600, 300], [0, 300]]


def test_as_boxes_without_bbox_takes_the_bounds(tmp_path: Path) -> None:
    doc = _doc()
    doc["annotations"] = [
        {
            "image_id": 1,
            "category_id": 1,
            "segmentation": [[1, 2, 9, 2, 5, 8], [20, 1, 22, 1, 21, 3]],
        }
    ]
    ann = read_coco(_write(tmp_path, doc), as_boxes=True)
    # x over both rings 1..22, y 1..8
    assert shapes(ann) == [("rectangle", "a", [[1, 1], [22, 1], [22, 8], [1, 8]])]


def test_flat_polygon_list_is_one_ring(tmp_path: Path) -> None:
    doc = _doc()
    doc["annotations"] = [{"image_id": 1, "category_id": 1, "segmentation": [1, 2, 9, 2, 5, 8]}]
    ann = read_coco(_write(tmp_path, doc))
    assert shapes(ann) == [("polygon", "a", [[1, 2], [9, 2], [5, 8]])]


def test_attributes_become_platform_values() -> None:
    ann = read_coco(FIXTURES / "instances.json")
    # false -> "false", 3 -> "3", 0.5 -> "0.5", list items as strings, null left out
    assert ann.attributes[4] == {
        "occluded": "false",
        "color": "red",
        "count": "3",
        "ratio": "0.5",
        "tags": ["a", "2", "true"],
    }
    assert ann.attributes[:4].tolist() == [None] * 4
    assert (
        read_coco(FIXTURES / "instances.json", attributes=False).attributes.tolist() == [None] * 5
    )


def test_cvat_export_track_in_attributes() -> None:
    report = Report()
    ann = read_coco(FIXTURES / "attributes.json", report=report)
    assert ann.track.tolist() == [3, 3]  # attributes.track_id, one track over both frames
    # track_id, keyframe and rotation are CVAT's tracking state, not attributes
    assert ann.attributes.tolist() == [
        {"occluded": "false", "color": "red", "parts": ["wheel", "door"], "count": "2"},
        {"occluded": "true", "color": "blue", "parts": [], "count": "2"},  # 2.0 -> "2"
    ]
    assert reasons(report) == [("noted", "rotation_ignored", "$.annotations[1]")]


# --- RLE -----------------------------------------------------------------------------------------
def test_rle_uncompressed_and_compressed() -> None:
    report = Report()
    ann = read_coco(FIXTURES / "rle.json", report=report)
    # annotation 0 (uncompressed runs): a 4 x 3 block at cols 2..5, rows 1..3 with a hole at
    # (3, 2), plus a one-pixel speck at (7, 5). Outline on pixel corners: x 2..6, y 1..4.
    # annotation 1 (compressed "0240f00ZO000"): 2 x 2 at the top left and 3 x 2 at the bottom
    # right -> two parts, the larger (6 px) first.
    got = [(k, label, sorted(map(tuple, pts))) for k, label, pts in shapes(ann)]
    assert got == [
        ("polygon", "blob", [(2, 1), (2, 4), (6, 1), (6, 4)]),
        ("polygon", "crowd", [(5, 4), (5, 6), (8, 4), (8, 6)]),
        ("polygon", "crowd", [(0, 0), (0, 2), (2, 0), (2, 2)]),
    ]
    assert reasons(report) == [
        ("dropped", "mask_specks", "$.annotations[0]"),
        ("repaired", "mask_holes_filled", "$.annotations[0]"),
        ("split", "split_into_polygons", "$.annotations[1]"),
    ]
    # normalised: x = 6 / 8 = 0.75, y = 4 / 6 = 0.666...
    assert 0.75 in normalise(ann).points[:4, 0].tolist()


def test_rle_min_area_and_largest() -> None:
    ann = read_coco(FIXTURES / "rle.json", min_mask_area=0, multipart="largest")
    # the speck is kept now (area 1 >= 0), as a second part of annotation 0 -> largest only
    assert len(ann) == 2
    ann = read_coco(FIXTURES / "rle.json", min_mask_area=5)
    # the 2 x 2 part (area 4) of annotation 1 is a speck at 5
    assert len(ann) == 2


def test_rle_size_must_match_the_image(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "rle.json").read_text())
    doc["images"][0]["width"] = 9
    with pytest.raises(InputError, match=r"\$\.annotations\[0\]\.segmentation\.size: mask size"):
        read_coco(_write(tmp_path, doc))


# --- keypoints ---------------------------------------------------------------------------------
def test_keypoints_landmark_occluded_and_box() -> None:
    report = Report()
    ann = read_coco(
        FIXTURES / "keypoints.json",
        occluded_attribute="occluded",
        keypoints_with_box=True,
        report=report,
    )
    assert shapes(ann) == [
        # points 1 (v 2), 3 (v 1), 4 (v 2); point 2 has v 0 and is left out
        ("landmark", "person", [[50, 60], [55, 58], [45, 58]]),
        ("rectangle", "person", [[10, 20], [40, 20], [40, 60], [10, 60]]),
        # annotation 1 has no visible keypoint: its box only
        ("rectangle", "person", [[0, 0], [5, 0], [5, 5], [0, 5]]),
    ]
    assert ann.point_label[:3].tolist() == [1, 3, 4]
    assert ann.attributes[0] == {"occluded": ["3"]}
    assert ann.attributes[1] is None
    assert ("skipped", "no_visible_keypoints", "$.annotations[1]") in reasons(report)
    assert ("noted", "keypoint_segmentation_ignored", None) in reasons(report)
    # normalised: nose x = 50 / 100 = 0.5, y = 60 / 200 = 0.3
    assert normalise(ann).points[0].tolist() == [0.5, 0.3]


def test_keypoints_without_options() -> None:
    ann = read_coco(FIXTURES / "keypoints.json")
    assert [k for k, _, _ in shapes(ann)] == ["landmark"]
    assert ann.attributes.tolist() == [None]


def test_keypoint_results_keep_every_point(tmp_path: Path) -> None:
    results = [{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 0.1, 3, 4, -2.5, 5, 6, 0, 7, 8, 1], "score": 0.9}]  # fmt: skip
    src = tmp_path / "results.json"
    src.write_text(json.dumps(results))
    ann = read_coco(src, images=FIXTURES / "keypoints.json", occluded_attribute="occ")
    # in results the third value is a confidence: no point is left out or marked occluded
    assert shapes(ann) == [("landmark", "person", [[1, 2], [3, 4], [5, 6], [7, 8]])]
    assert ann.attributes[0] == {"occ": []}
    assert ann.score.tolist() == [0.9]


# --- results lists -----------------------------------------------------------------------------
def test_results_with_images_file() -> None:
    ann = read_coco(FIXTURES / "results.json", images=FIXTURES / "instances.json")
    assert ann.labels == ("person", "car", "bike")
    assert len(ann.frames) == 3  # every image of the images file is a frame
    assert shapes(ann) == [
        ("rectangle", "car", [[1, 2], [4, 2], [4, 6], [1, 6]]),
        ("rectangle", "person", [[100, 50], [300, 50], [300, 150], [100, 150]]),
        ("polygon", "bike", [[0, 0], [10, 0], [10, 10], [0, 10]]),
    ]
    assert ann.score.tolist() == [0.75, 0.5, 0.25]
    assert ann.frame.tolist() == [0, 2, 2]
    assert ann.source.tolist() == ["$[0]", "$[1]", "$[2]"]


def test_results_with_image_dir() -> None:
    ann = read_coco(FIXTURES / "results.json", image_dir=FIXTURES / "images")
    # image_id 1 -> 000000000001.png (stem read as an integer), 5 -> 5.png; notes.txt ignored
    assert ann.frames.name.tolist() == ["000000000001.png", "5.png"]
    assert ann.frames.width.tolist() == [640, 1000]  # from the PNG headers
    assert ann.frames.height.tolist() == [480, 500]
    assert ann.frame.tolist() == [0, 1, 1]
    # no categories: labels are the ids as text, in id order
    assert ann.labels == ("0", "3", "7")
    assert [label for _, label, _ in shapes(ann)] == ["7", "0", "3"]


def test_image_dir_scans_for_the_one_set_of_image_suffixes(tmp_path: Path) -> None:
    import cv2

    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "1.png"), np.zeros((6, 8, 3), np.uint8))  # 8 x 6
    ok, jpeg = cv2.imencode(".jpg", np.zeros((4, 10, 3), np.uint8))  # 10 x 4
    assert ok
    (images / "2.mpo").write_bytes(jpeg.tobytes())  # MPO: a JPEG file, an image to Ultralytics
    (images / "3.gif").write_bytes(b"GIF89a\x05\x00\x05\x00\x00\x00\x00;")  # a video to it
    src = tmp_path / "r.json"
    src.write_text(
        json.dumps([{"image_id": k, "category_id": 1, "bbox": [0, 0, 1, 1]} for k in (1, 2)])
    )
    ann = read_coco(src, image_dir=images)
    assert ann.frames.name.tolist() == ["1.png", "2.mpo"]
    assert ann.frames.width.tolist() == [8, 10]
    assert ann.frames.height.tolist() == [6, 4]
    src.write_text(json.dumps([{"image_id": 3, "category_id": 1, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(InputError, match="no image file for image_id 3 in image_dir="):
        read_coco(src, image_dir=images)


def test_results_need_images() -> None:
    with pytest.raises(InputError, match="give images=FILE or image_dir=DIR"):
        read_coco(FIXTURES / "results.json")


def test_results_unknown_image_in_dir(tmp_path: Path) -> None:
    src = tmp_path / "r.json"
    src.write_text(json.dumps([{"image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(InputError, match=r"\$\[0\]\.image_id: no image file for image_id 2"):
        read_coco(src, image_dir=FIXTURES / "images")


def test_images_option_only_for_results() -> None:
    with pytest.raises(InputError, match="images= is for results lists only"):
        read_coco(FIXTURES / "instances.json", images=FIXTURES / "instances.json")


# --- video ----------------------------------------------------------------------------------------
def test_video_coco_sequences_frames_and_tracks() -> None:
    ann = read_coco(FIXTURES / "video.json")
    assert ann.frames.sequence.tolist() == ["walk", "walk", "drive"]
    # frame_id / frame_index give the order: walk/a.jpg is frame 0 although listed second
    assert ann.frames.index.tolist() == [1, 0, 0]
    # track_id 5 twice (one tracker), instance_id 9, and an annotation without a track
    assert ann.track.tolist() == [5, 5, 9, -1]
    assert ann.frame.tolist() == [0, 1, 2, 1]


def test_youtube_vis() -> None:
    ann = read_coco(FIXTURES / "ytvis.json")
    assert ann.frames.name.tolist() == ["v1/00000.jpg", "v1/00005.jpg", "v1/00010.jpg"]
    assert ann.frames.sequence.tolist() == ["v1"] * 3  # no name: the frames' folder
    assert ann.frames.index.tolist() == [0, 1, 2]
    assert ann.frames.width.tolist() == [320] * 3
    assert shapes(ann) == [
        ("rectangle", "cat", [[10, 10], [30, 10], [30, 30], [10, 30]]),
        ("rectangle", "cat", [[12, 10], [32, 10], [32, 30], [12, 30]]),
        # a segmentation wins over the box of the same frame
        ("polygon", "dog", [[0, 0], [10, 0], [10, 10]]),
    ]
    assert ann.frame.tolist() == [0, 2, 1]
    assert ann.track.tolist() == [0, 0, 1]  # one track per annotation
    assert ann.source.tolist() == [
        "$.annotations[0].bboxes[0]",
        "$.annotations[0].bboxes[2]",
        "$.annotations[1].segmentations[1]",
    ]


def test_youtube_vis_wrong_frame_count(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "ytvis.json").read_text())
    doc["annotations"][1]["bboxes"] = [None]
    with pytest.raises(InputError, match=r"\$\.annotations\[1\]\.bboxes: must be a list of 3"):
        read_coco(_write(tmp_path, doc))


def test_youtube_vis_results(tmp_path: Path) -> None:
    src = tmp_path / "results.json"
    results = [{"video_id": 1, "category_id": 4, "score": 0.8, "segmentations": [[[1, 1, 5, 1, 5, 5]], None, None]}]  # fmt: skip
    src.write_text(json.dumps(results))
    ann = read_coco(src, images=FIXTURES / "ytvis.json")
    assert shapes(ann) == [("polygon", "dog", [[1, 1], [5, 1], [5, 5]])]
    assert ann.score.tolist() == [0.8]


# --- bad input -----------------------------------------------------------------------------------
def _doc() -> dict[str, Any]:
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
            {"id": 2, "file_name": "b.jpg", "width": 40, "height": 30},
        ],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"id": 2, "image_id": 2, "category_id": 1, "segmentation": [[1, 1, 5, 1, 5, 5]]},
        ],
    }


def _write(tmp_path: Path, doc: Any, name: str = "in.json") -> Path:
    p = tmp_path / name
    p.write_bytes(orjson.dumps(doc))
    return p


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    if value is _DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        (("annotations", 0, "bbox"), [1, 2, 3], "$.annotations[0].bbox", "not 3 values"),
        (("annotations", 0, "bbox"), [1, "2", 3, 4], "$.annotations[0].bbox", "numbers only"),
        (("annotations", 0, "bbox"), [1, True, 3, 4], "$.annotations[0].bbox", "numbers only"),
        (("annotations", 0, "bbox"), "1,2,3,4", "$.annotations[0].bbox", "must be [x, y"),
        (("annotations", 0, "bbox"), _DELETE, "$.annotations[0]", "no bbox, segmentation"),
        (("annotations", 1, "image_id"), 9, "$.annotations[1].image_id", "no image with id 9"),
        (("annotations", 1, "image_id"), "2", "$.annotations[1].image_id", "must be an integer"),
        (("annotations", 1, "image_id"), _DELETE, "$.annotations[1].image_id", "missing"),
        (
            ("annotations", 1, "category_id"),
            0,
            "$.annotations[1].category_id",
            "no category with id 0",
        ),
        (
            ("annotations", 1, "segmentation"),
            [[1, 1, 5, 1, 5]],
            "$.annotations[1].segmentation[0]",
            "odd number",
        ),
        (
            ("annotations", 1, "segmentation"),
            [[1, 1, 5, None, 5, 5]],
            "$.annotations[1].segmentation[0]",
            "numbers only",
        ),
        (
            ("annotations", 1, "segmentation"),
            [[1, 1, 5, 1, 5, 5], "x"],
            "$.annotations[1].segmentation[1]",
            "must be a list",
        ),
        (
            ("annotations", 1, "segmentation"),
            "poly",
            "$.annotations[1].segmentation",
            "must be a list of polygons",
        ),
        (
            ("annotations", 1, "segmentation"),
            {"size": [30, 40]},
            "$.annotations[1].segmentation.counts",
            "'counts' must be",
        ),
        (("annotations", 1, "score"), "high", "$.annotations[1].score", "must be a number"),
        (
            ("annotations", 1, "track_id"),
            1.5,
            "$.annotations[1].track_id",
            "integer or a string",
        ),
        (("annotations", 1, "keypoints"), [1, 2], "$.annotations[1].keypoints", "multiple of 3"),
        (
            ("annotations", 1, "attributes"),
            {"a": {"b": 1}},
            "$.annotations[1].attributes.a",
            "attribute value",
        ),
        (
            ("annotations", 1, "attributes"),
            {"a": [[1]]},
            "$.annotations[1].attributes.a[0]",
            "a list attribute",
        ),
        (
            ("annotations", 1, "attributes"),
            [1],
            "$.annotations[1].attributes",
            "must be an object",
        ),
        (("annotations", 1), [1], "$.annotations[1]", "must be an object"),
        (("annotations",), {}, "$.annotations", "must be a list"),
        (("images", 0, "width"), -640, "$.images[0].width", "positive number"),
        (("images", 1, "height"), 0, "$.images[1].height", "positive number"),
        (("images", 1, "height"), _DELETE, "$.images[1].height", "missing"),
        (("images", 1, "id"), 1, "$.images[1].id", "duplicate image id 1"),
        (
            ("images", 1, "file_name"),
            "a.jpg",
            "$.images[1].file_name",
            "duplicate of $.images[0]",
        ),
        (
            ("images", 1, "file_name"),
            "../b.jpg",
            "$.images[1].file_name",
            "leaves the dataset root",
        ),
        (("images", 1, "file_name"), "/etc/b.jpg", "$.images[1].file_name", "absolute"),
        (("images", 1, "file_name"), 7, "$.images[1].file_name", "must be a string"),
        (("images", 1, "id"), 2**63, "$.images[1].id", None),
        (("images", 1, "video_id"), 3, "$.images[1].video_id", "no 'videos' section"),
        (("categories", 0, "name"), None, "$.categories[0].name", "must be a string"),
        (("categories", 0, "keypoints"), "nose", "$.categories[0].keypoints", "list of names"),
        (("images",), _DELETE, "$.images", "missing"),
    ],
)
def test_bad_field_names_its_json_path(
    tmp_path: Path, path: tuple[Any, ...], value: Any, where: str, message: str | None
) -> None:
    doc = _doc()
    _set(doc, path, value)
    src = _write(tmp_path, doc)
    with pytest.raises(InputError) as info:
        read_coco(src)
    assert info.value.path == str(src)
    assert info.value.location == where
    if message:
        assert message in info.value.message


@pytest.mark.parametrize(
    ("file_name", "frame"),
    [
        ("/data/local-files/?d=clip/1.png", "clip/1.png"),
        # the query is URL-decoded as Label Studio's server reads it; other keys are ignored
        ("/data/local-files/?d=my%20clip/a%2Bb.png", "my clip/a+b.png"),
        ("/data/local-files/?x=1&d=clip/f+2.png", "clip/f 2.png"),
    ],
)
def test_label_studio_local_files_url_is_its_d_path(
    tmp_path: Path, file_name: str, frame: str
) -> None:
    doc = _doc()
    doc["images"][1]["file_name"] = file_name
    report = Report()
    ann = read_coco(_write(tmp_path, doc), report=report)
    assert ann.frames.name.tolist() == ["a.jpg", frame]
    assert reasons(report) == [("noted", "label_studio_local_files", "$.images[1].file_name")]


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("/data/local-files/?d=../b.jpg", "leaves the dataset root"),
        ("/data/local-files/?d=%2Fetc%2Fb.jpg", "absolute image path '/etc/b.jpg'"),
        ("/data/local-files/?d=", "names no file"),
        ("/data/local-files/?f=b.jpg", "names no file"),
        ("/data/local-files/?d=a.jpg&d=b.jpg", "names no file"),
        ("/data/local-files/?d=a.jpg", "duplicate of $.images[0].file_name"),
    ],
)
def test_label_studio_local_files_url_checked_like_any_name(
    tmp_path: Path, file_name: str, message: str
) -> None:
    doc = _doc()
    doc["images"][1]["file_name"] = file_name
    with pytest.raises(InputError) as info:
        read_coco(_write(tmp_path, doc))
    assert info.value.location == "$.images[1].file_name"
    assert message in info.value.message


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    src = tmp_path / "bad.json"
    src.write_text('{"images": [\n  {"id": 1,, }\n]}')
    with pytest.raises(InputError, match=r"bad\.json: invalid JSON at line 2, column 12"):
        read_coco(src)


def test_missing_file_and_wrong_top_level(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_coco(tmp_path / "nope.json")
    with pytest.raises(InputError, match="expected a COCO object or a results list"):
        read_coco(_write(tmp_path, 3))


def test_keypoints_must_match_the_category(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "keypoints.json").read_text())
    doc["annotations"][0]["keypoints"] = [1, 2, 2] * 3
    with pytest.raises(InputError, match=r"\.keypoints: has 9 values, expected 3 x 4"):
        read_coco(_write(tmp_path, doc))


def test_missing_sizes_read_from_image_dir(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "5.png"}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [],
    }
    src = _write(tmp_path, doc)
    with pytest.raises(InputError, match=r"\$\.images\[0\]\.width: missing \(or give image_dir="):
        read_coco(src)
    ann = read_coco(src, image_dir=FIXTURES / "images")
    assert ann.frames.width.tolist() == [1000]
    assert ann.frames.height.tolist() == [500]
    assert len(ann) == 0
    assert ann.labels == ("a",)


# --- properties ----------------------------------------------------------------------------------
coords = st.floats(-50, 5000, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def coco_documents(draw: Any) -> dict[str, Any]:
    """Random COCO instances: boxes and polygons (multipart too), any category ids."""
    n_img = draw(st.integers(1, 4))
    img_ids = draw(st.lists(st.integers(0, 10**9), min_size=n_img, max_size=n_img, unique=True))
    images = [
        {
            "id": i,
            "file_name": f"{draw(st.sampled_from(['', 'cam1/', 'cam2/']))}img{k}.jpg",
            "width": draw(st.integers(1, 4000) | st.floats(1, 4000)),
            "height": draw(st.integers(1, 4000) | st.floats(1, 4000)),
        }
        for k, i in enumerate(img_ids)
    ]
    cat_ids = draw(st.lists(st.integers(0, 1000), min_size=1, max_size=4, unique=True))
    categories = [{"id": c, "name": f"class{c}"} for c in cat_ids]
    anns = []
    for k in range(draw(st.integers(0, 8))):
        a: dict[str, Any] = {
            "id": k,
            "image_id": draw(st.sampled_from(img_ids)),
            "category_id": draw(st.sampled_from(cat_ids)),
            "bbox": draw(st.lists(coords, min_size=4, max_size=4)),
        }
        if draw(st.booleans()):
            rings = draw(
                st.lists(st.lists(coords, min_size=6, max_size=16), min_size=1, max_size=3)
            )
            a["segmentation"] = [r[: len(r) // 2 * 2] for r in rings]
        else:
            a["segmentation"] = []
        if draw(st.booleans()):
            a["score"] = draw(st.floats(0, 1))
        anns.append(a)
    return {"images": images, "categories": categories, "annotations": anns}


@given(doc=coco_documents())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_coordinate_is_the_input_pixel(tmp_path: Path, doc: dict[str, Any]) -> None:
    ann = read_coco(_write(tmp_path, doc))
    expected: list[tuple[int, list[list[float]]]] = []
    for a in doc["annotations"]:
        if a["segmentation"]:
            for ring in a["segmentation"]:
                expected.append((Kind.POLYGON, np.reshape(ring, (-1, 2)).tolist()))
        else:
            x, y, w, h = a["bbox"]
            expected.append((Kind.RECTANGLE, [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))
    got = [
        (int(ann.kind[i]), ann.points[ann.offsets[i] : ann.offsets[i + 1]].tolist())
        for i in range(len(ann))
    ]
    assert got == expected
    ids = [im["id"] for im in doc["images"]]
    rows = [ids.index(a["image_id"]) for a in doc["annotations"] for _ in a["segmentation"] or [0]]
    assert ann.frame.tolist() == rows
    # normalised and scaled back: the input pixel (rel 1e-9)
    norm = normalise(ann)
    size = np.stack([ann.frames.width, ann.frames.height], axis=1)[np.repeat(ann.frame, ann.counts)]
    assert np.allclose(norm.points * size, ann.points, rtol=1e-9, atol=0)


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    n = len(data)
    cut = st.integers(0, n - 1).map(lambda k: data[:k])
    flip = st.tuples(st.integers(0, n - 1), st.integers(0, 255)).map(
        lambda t: data[: t[0]] + bytes([t[1]]) + data[t[0] + 1 :]
    )
    return cut | flip


FIXTURE_BYTES = {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.json"))}


@given(
    st.sampled_from(sorted(FIXTURE_BYTES)).flatmap(
        lambda name: st.tuples(st.just(name), _mutations(FIXTURE_BYTES[name]))
    )
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_truncated_or_mutated_bytes_never_escape(tmp_path: Path, case: tuple[str, bytes]) -> None:
    name, data = case
    src = tmp_path / name
    src.write_bytes(data)
    images = FIXTURES / "instances.json" if name == "results.json" else None
    with contextlib.suppress(InputError):
        read_coco(src, images=images)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@given(st.data())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_value_anywhere_is_read_or_refused(tmp_path: Path, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(set(FIXTURE_BYTES) - {"results.json"})))
    doc = json.loads(FIXTURE_BYTES[name])
    path = data.draw(st.sampled_from(_paths(doc)))
    _set(doc, path, data.draw(json_values | st.just(_DELETE)))
    try:
        read_coco(_write(tmp_path, doc))
    except InputError as exc:
        assert exc.location is None or exc.location.startswith("$")


# --- CLI -----------------------------------------------------------------------------------------
def _jobs(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _frame_objects(job: dict[str, Any]) -> list[tuple[str, str, list[list[float]]]]:
    """(frame_id, type, points) of every annotation object of a job."""
    out = []
    for tracker in job["data"]["maker_response"]["video2d"]["data"]["annotations"]:
        for frame_id, obj in tracker["frames"].items():
            if "coordinates" in obj:
                pts = [[c["x"], c["y"]] for c in obj["coordinates"]]
            else:
                pts = [[p["x"], p["y"]] for p in obj["points"].values()]
            out.append((frame_id, tracker["type"], pts))
    return out


@pytest.mark.parametrize(
    ("fixture", "extra"),
    [
        ("instances.json", []),
        ("instances.json", ["--multipart", "largest", "--attributes", "none"]),
        ("instances.json", ["--as-boxes"]),
        ("rle.json", []),
        ("keypoints.json", ["--keypoints-with-box", "--occluded-attribute", "occluded"]),
        ("results.json", ["--images", str(FIXTURES / "instances.json")]),
        ("results.json", ["--image-dir", str(FIXTURES / "images")]),
        ("video.json", []),
        ("ytvis.json", []),
        ("attributes.json", []),
    ],
)
def test_cli_every_variant_gives_valid_jobs(tmp_path: Path, fixture: str, extra: list[str]) -> None:
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "coco", str(FIXTURES / fixture), "-o", str(out), "-q"]
    args += ["--src-prefix", "https://example.com/data/", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    jobs = _jobs(out)
    assert jobs
    for job in jobs:
        assert job_problems(job) == []


def test_cli_video_jobs_and_trackers(tmp_path: Path) -> None:
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "coco", str(FIXTURES / "video.json"), "-o", str(out), "-q"]
    result = CliRunner().invoke(main, [*args, "--src-prefix", "https://example.com/"])
    assert result.exit_code == 0, result.output
    walk, drive = _jobs(out)
    assert (walk["reference_id"], drive["reference_id"]) == ("walk", "drive")
    assert [f["frame_id"] for f in walk["data"]["video_data"]["frames"]] == ["a", "b"]
    trackers = walk["data"]["maker_response"]["video2d"]["data"]["annotations"]
    pedestrian = [t for t in trackers if t["label"] == "pedestrian"]
    assert len(pedestrian) == 1
    assert list(pedestrian[0]["frames"]) == ["a", "b"]
    # frame b: bbox [20, 10, 40, 30] on 200 x 100 -> x 20 / 200 = 0.1 .. 60 / 200 = 0.3
    b = pedestrian[0]["frames"]["b"]["coordinates"]
    assert [b[0]["x"], b[1]["x"], b[0]["y"], b[2]["y"]] == [0.1, 0.3, 0.1, 0.4]


@pytest.mark.parametrize(
    ("path", "value", "line"),
    [
        (
            ("annotations", 0, "bbox"),
            [1, 2, 3],
            "$.annotations[0].bbox: must be [x, y, width, height], not 3 values",
        ),
        (
            ("images", 0, "width"),
            -5,
            "$.images[0].width: must be a positive number of pixels, not -5",
        ),
        (
            ("annotations", 1, "category_id"),
            4,
            "$.annotations[1].category_id: no category with id 4",
        ),
    ],
)
def test_cli_bad_input_one_line_exit_2_no_output(
    tmp_path: Path, path: tuple[Any, ...], value: Any, line: str
) -> None:
    doc = _doc()
    _set(doc, path, value)
    src = _write(tmp_path, doc)
    out = tmp_path / "jobs.jsonl"
    result = CliRunner().invoke(
        main, ["convert", "coco", str(src), "-o", str(out), "--src-prefix", "https://e.com/"]
    )
    assert result.exit_code == 2
    assert f"{src}:{line}" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_invalid_json(tmp_path: Path) -> None:
    src = tmp_path / "bad.json"
    src.write_text("[1, 2")
    result = CliRunner().invoke(main, ["convert", "coco", str(src), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"{src}: invalid JSON at line 1, column" in result.output


@st.composite
def framed_documents(draw: Any) -> dict[str, Any]:
    """Random COCO whose shapes are valid and inside their image: boxes and convex polygons."""
    n_img = draw(st.integers(1, 3))
    images = [
        {
            "id": k + 1,
            "file_name": f"f{k}.jpg",
            "width": draw(st.integers(20, 4000)),
            "height": draw(st.integers(20, 4000)),
        }
        for k in range(n_img)
    ]
    anns = []
    for k in range(draw(st.integers(0, 6))):
        im = draw(st.sampled_from(images))
        w, h = im["width"], im["height"]
        a: dict[str, Any] = {"id": k, "image_id": im["id"], "category_id": 0}
        x = draw(st.floats(0, w - 10))
        y = draw(st.floats(0, h - 10))
        bw = draw(st.floats(2, w - x))
        bh = draw(st.floats(2, h - y))
        a["bbox"] = [x, y, bw, bh]
        if draw(st.booleans()):
            k_pts = draw(st.integers(3, 8))
            angles = [2 * math.pi * (j + 0.5) / k_pts for j in range(k_pts)]
            cx, cy, rx, ry = x + bw / 2, y + bh / 2, bw / 2, bh / 2
            ring = []
            for t in angles:
                ring += [cx + rx * math.cos(t), cy + ry * math.sin(t)]
            a["segmentation"] = [ring]
        anns.append(a)
    return {"images": images, "categories": [{"id": 0, "name": "thing"}], "annotations": anns}


@given(doc=framed_documents())
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_cli_jobs_validate_and_scale_back_to_pixels(tmp_path: Path, doc: dict[str, Any]) -> None:
    src = _write(tmp_path, doc)
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "coco", str(src), "-o", str(out), "-q", "--src-prefix", "https://e.com/"]
    result = CliRunner().invoke(main, [*args, "--on-invalid", "error"])
    assert result.exit_code == 0, result.output
    (job,) = _jobs(out)
    assert job_problems(job) == []
    size = {f"f{k}": (im["width"], im["height"]) for k, im in enumerate(doc["images"])}
    got = sorted(
        (fid, [[x * size[fid][0], y * size[fid][1]] for x, y in pts])
        for fid, _, pts in _frame_objects(job)
    )
    want = []
    for a in doc["annotations"]:
        fid = f"f{a['image_id'] - 1}"
        if "segmentation" in a:
            want.append((fid, np.reshape(a["segmentation"][0], (-1, 2)).tolist()))
        else:
            x, y, w, h = a["bbox"]
            want.append((fid, [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))
    want.sort()
    assert [f for f, _ in got] == [f for f, _ in want]
    got_by_frame: dict[str, list[np.ndarray]] = {}
    for fid, pts in got:
        got_by_frame.setdefault(fid, []).append(np.asarray(pts))
    for fid, pts in want:
        candidates = got_by_frame[fid]
        match = [
            i
            for i, c in enumerate(candidates)
            if c.shape == np.shape(pts) and np.allclose(c, pts, rtol=1e-6, atol=1e-9)
        ]
        assert match, (fid, pts, candidates)
        candidates.pop(match[0])


def test_multipart_track_stays_with_the_largest_part(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "video.json").read_text())
    # two rings on a tracked annotation: areas 10 * 10 / 2 = 50 and 20 * 20 = 400
    doc["annotations"][0]["segmentation"] = [[0, 0, 10, 0, 10, 10], [50, 50, 70, 50, 70, 70, 50, 70]]  # fmt: skip
    report = Report()
    ann = read_coco(_write(tmp_path, doc), report=report)
    assert ann.track.tolist()[:3] == [-1, 5, 5]  # the triangle stands alone; the square is track 5
    assert reasons(report) == [("split", "split_into_polygons", "$.annotations[0]")]


def test_image_dir_string_ids_and_ambiguous_stems(tmp_path: Path) -> None:
    images = tmp_path / "images"
    (images / "a").mkdir(parents=True)
    (images / "b").mkdir()
    png = (FIXTURES / "images" / "5.png").read_bytes()
    for name in ("a/7.png", "b/007.png", "a/frame_x.png"):
        (images / name).write_bytes(png)
    src = tmp_path / "r.json"
    src.write_text(json.dumps([{"image_id": "frame_x", "category_id": 1, "bbox": [0, 0, 1, 1]}]))
    ann = read_coco(src, image_dir=images)
    assert ann.frames.name.tolist() == ["a/7.png", "a/frame_x.png", "b/007.png"]
    assert ann.frames.sequence.tolist() == ["a", "a", "b"]  # sub-folders are sequences
    assert ann.frame.tolist() == [1]
    src.write_text(json.dumps([{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1]}]))
    # 7.png and 007.png both have the stem 7 read as an integer
    with pytest.raises(InputError, match=r"image_id 7 matches several files: a/7.png, b/007.png"):
        read_coco(src, image_dir=images)


def test_results_with_rle_masks(tmp_path: Path) -> None:
    rle = json.loads((FIXTURES / "rle.json").read_text())["annotations"][1]["segmentation"]
    src = tmp_path / "segm.json"
    src.write_text(
        json.dumps([{"image_id": 1, "category_id": 2, "segmentation": rle, "score": 0.6}])
    )
    report = Report()
    ann = read_coco(src, images=FIXTURES / "rle.json", multipart="largest", report=report)
    # the compressed mask's larger part: 3 x 2 pixels at cols 5..7, rows 4..5
    assert [sorted(map(tuple, pts)) for _, _, pts in shapes(ann)] == [[(5, 4), (5, 6), (8, 4), (8, 6)]]  # fmt: skip
    assert ann.score.tolist() == [0.6]
    assert reasons(report) == [("dropped", "multipart_smaller_parts", "$[0]")]


# --- issue 9: natural frame order, frame ids, values beyond int64, NUL bytes -----------------
_NATURAL = [f"{k}.jpg" for k in range(1, 13)]
# the order a string sort gives, which is how such files often list their images
_AS_STRINGS = sorted(_NATURAL)  # 1, 10, 11, 12, 2, ...


def _numbered_doc(names: list[str], **image: Any) -> dict[str, Any]:
    """Images without a frame index (what supervision, Label Studio, datumaro and FiftyOne
    write), one box on each."""
    return {
        "images": [
            {"id": 10 + i, "file_name": n, "width": 40, "height": 30, **image}
            for i, n in enumerate(names)
        ],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": i, "image_id": 10 + i, "category_id": 1, "bbox": [1, 2, 3, 4]}
            for i in range(len(names))
        ],
    }


def _frames_in_order(ann: Annotations) -> list[str]:
    f = ann.frames
    return [str(f.name[i]) for i in np.lexsort((f.index, f.sequence.astype(str)))]


def test_frames_without_an_index_order_naturally(tmp_path: Path) -> None:
    assert _AS_STRINGS[:3] == ["1.jpg", "10.jpg", "11.jpg"]
    ann = read_coco(_write(tmp_path, _numbered_doc(_AS_STRINGS)))
    assert _frames_in_order(ann) == _NATURAL
    out = tmp_path / "jobs.jsonl"
    args = ["convert", "coco", str(tmp_path / "in.json"), "-o", str(out), "-q"]
    result = CliRunner().invoke(main, [*args, "--src-prefix", "https://example.com/"])
    assert result.exit_code == 0, result.output
    (job,) = _jobs(out)
    assert [f["frame_id"] for f in job["data"]["video_data"]["frames"]] == [
        str(k) for k in range(1, 13)
    ]


def test_results_frames_order_naturally_with_images_and_image_dir(tmp_path: Path) -> None:
    info = _write(tmp_path, {**_numbered_doc(_AS_STRINGS), "annotations": []}, "info.json")
    results = [{"image_id": 10 + i, "category_id": 1, "bbox": [1, 2, 3, 4]} for i in range(12)]
    src = _write(tmp_path, results, "results.json")
    assert _frames_in_order(read_coco(src, images=info)) == _NATURAL
    images = tmp_path / "images"
    images.mkdir()
    png = (FIXTURES / "images" / "5.png").read_bytes()
    for k in range(1, 13):
        (images / f"{k}.png").write_bytes(png)
    by_stem = [{"image_id": k, "category_id": 1, "bbox": [1, 2, 3, 4]} for k in range(1, 13)]
    ann = read_coco(_write(tmp_path, by_stem, "by_stem.json"), image_dir=images)
    assert _frames_in_order(ann) == [f"{k}.png" for k in range(1, 13)]


def test_video_frames_without_an_index_order_naturally(tmp_path: Path) -> None:
    doc = _numbered_doc([f"v/{n}" for n in _AS_STRINGS], video_id=1)
    doc["videos"] = [{"id": 1, "name": "v"}]
    ann = read_coco(_write(tmp_path, doc))
    assert _frames_in_order(ann) == [f"v/{n}" for n in _NATURAL]
    assert set(ann.frames.sequence.tolist()) == {"v"}
    # where the file gives the index, the index wins over the name
    for i, image in enumerate(doc["images"]):
        image["frame_id"] = 11 - i
    ann = read_coco(_write(tmp_path, doc))
    assert _frames_in_order(ann) == [f"v/{n}" for n in reversed(_AS_STRINGS)]


def _convert_cli(src: Path, out: Path, *extra: str) -> Any:
    args = ["convert", "coco", str(src), "-o", str(out), "-q", "--src-prefix", "https://e.test/"]
    return CliRunner().invoke(main, [*args, *extra])


def test_same_stem_in_one_job_is_one_error_naming_both_images(tmp_path: Path) -> None:
    # FiftyOne exports x.jpg and x.png side by side: {stem} gives both the frame_id "x"
    src = _write(tmp_path, _numbered_doc(["x.jpg", "x.png"]))
    out = tmp_path / "jobs.jsonl"
    result = _convert_cli(src, out)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "'x.jpg' and 'x.png'" in line
    assert "frame_id 'x'" in line
    assert "--frame-id '{name}'" in line
    assert "Traceback" not in result.output
    assert not out.exists()
    # the suggested template works
    result = _convert_cli(src, out, "--frame-id", "{name}")
    assert result.exit_code == 0, result.output
    (job,) = _jobs(out)
    assert [f["frame_id"] for f in job["data"]["video_data"]["frames"]] == ["x.jpg", "x.png"]


def test_a_colliding_frame_id_template_is_one_error(tmp_path: Path) -> None:
    src = _write(tmp_path, _numbered_doc(["a.jpg", "b.jpg"]))
    result = _convert_cli(src, tmp_path / "jobs.jsonl", "--frame-id", "same")
    assert result.exit_code == 2
    assert "'a.jpg' and 'b.jpg' both get frame_id 'same'" in result.output
    assert "--frame-id '{name}'" in result.output


def test_equal_stems_in_different_folders_are_not_duplicates(tmp_path: Path) -> None:
    # folders a00..a10: a01/0x.jpg (job 1, frame "0x") and a10/x.jpg (job 10, frame "x")
    # were both "10x" to the old check, which joined job and frame_id and lost the separator
    names = [f"a{k:02d}/{'0x' if k == 1 else 'x'}.jpg" for k in range(11)]
    out = tmp_path / "jobs.jsonl"
    result = _convert_cli(_write(tmp_path, _numbered_doc(names)), out)
    assert result.exit_code == 0, result.output
    jobs = _jobs(out)
    assert [j["reference_id"] for j in jobs] == [f"a{k:02d}" for k in range(11)]
    assert jobs[1]["data"]["video_data"]["frames"][0]["frame_id"] == "0x"
    assert all(job_problems(j) == [] for j in jobs)


def test_rle_counts_beyond_int64_name_the_run(tmp_path: Path) -> None:
    doc = _doc()
    doc["annotations"][1]["segmentation"] = {"size": [30, 40], "counts": [2**63, 1200]}
    with pytest.raises(InputError) as err:
        read_coco(_write(tmp_path, doc))
    assert err.value.location == "$.annotations[1].segmentation.counts[0]"
    assert "9223372036854775808" in err.value.message
    # four runs of 2**62 wrap an int64 sum around to 0: refused, not decoded
    doc["annotations"][1]["segmentation"]["counts"] = [2**62] * 4 + [1200]
    with pytest.raises(InputError, match=r"segmentation\.counts\[0\]: run length"):
        read_coco(_write(tmp_path, doc))


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("images", 1, "file_name"), "$.images[1].file_name"),
        (("images", 0, "file_name"), "$.images[0].file_name"),
    ],
)
def test_file_name_with_a_nul_byte_is_refused(
    tmp_path: Path, path: tuple[Any, ...], where: str
) -> None:
    for name in ("b\x00.jpg", "dir/b\x00.jpg"):
        doc = _doc()
        _set(doc, path, name)
        with pytest.raises(InputError, match="NUL byte") as err:
            read_coco(_write(tmp_path, doc))
        assert err.value.location == where


def test_video_names_with_a_nul_byte_are_refused(tmp_path: Path) -> None:
    video = json.loads((FIXTURES / "video.json").read_text())
    video["videos"][1]["name"] = "dri\x00ve"
    with pytest.raises(InputError, match=r"\$\.videos\[1\]\.name: .*NUL byte"):
        read_coco(_write(tmp_path, video))
    ytvis = json.loads((FIXTURES / "ytvis.json").read_text())
    ytvis["videos"][0]["file_names"][1] = "v/\x00.jpg"
    with pytest.raises(InputError, match=r"\$\.videos\[0\]\.file_names\[1\]: .*NUL byte"):
        read_coco(_write(tmp_path, ytvis))


_ID_PATHS = [
    ("instances.json", ("images", 0, "id")),
    ("instances.json", ("annotations", 0, "image_id")),
    ("instances.json", ("annotations", 0, "category_id")),
    ("instances.json", ("categories", 0, "id")),
    ("video.json", ("videos", 0, "id")),
    ("video.json", ("images", 0, "video_id")),
    ("video.json", ("images", 0, "frame_id")),
    ("video.json", ("annotations", 0, "track_id")),
    ("video.json", ("annotations", 2, "instance_id")),
    ("ytvis.json", ("annotations", 0, "video_id")),
    ("attributes.json", ("annotations", 1, "attributes", "track_id")),
]


@pytest.mark.parametrize(("fixture", "path"), _ID_PATHS)
@pytest.mark.parametrize("value", [2**63, 2**64 - 1])
def test_ids_beyond_int64_are_refused_at_their_place(
    tmp_path: Path, fixture: str, path: tuple[Any, ...], value: int
) -> None:
    doc = json.loads((FIXTURES / fixture).read_text())
    _set(doc, path, value)
    with pytest.raises(InputError, match="out of range") as err:
        read_coco(_write(tmp_path, doc))
    assert err.value.location == "$." + ".".join(
        f"{p}" if isinstance(p, str) else f"[{p}]" for p in path
    ).replace(".[", "[")


def test_the_smallest_int64_is_an_id(tmp_path: Path) -> None:
    doc = _doc()
    doc["images"][0]["id"] = doc["annotations"][0]["image_id"] = -(2**63)
    assert read_coco(_write(tmp_path, doc)).frames.name.tolist() == ["a.jpg", "b.jpg"]


# --- fuzz: mutated real files convert to valid jobs or give one InputError ---------------------
_ID_EDGES = [2**63, 2**64 - 1, -(2**63), -1, 0, 1, "1", 1.0, True, None]
# per COCO field, the values that went wrong before (or that a reader could get wrong)
_FIELD_EDGES: dict[str, list[Any]] = {
    **dict.fromkeys(
        ["id", "image_id", "category_id", "video_id", "track_id", "instance_id", "frame_id",
         "frame_index"],
        _ID_EDGES,
    ),
    "file_name": ["x\x00.jpg", "a/b\x00.jpg", "", "1.jpg", "10.jpg", "x.png", "a01/0x.jpg",
                  "a10/x.jpg", "../x.jpg", "/abs.jpg", "a\nb.jpg", 7],
    "name": ["", "a\x00b", "x", "a/b", None, 3],
    "width": [0, -1, 0.5, 2**63, 1e308, "40", None],
    "height": [0, -1, 0.5, 2**63, 1e308, "30", None],
    "counts": [[2**63, 1], [2**62] * 4 + [12], [-1, 13], [], "zz", "", None],
    "size": [[2**63, 1], [0, 0], [1], None],
    "score": [-1.0, 2.0, 1e308, "0.5", None],
}  # fmt: skip
_RUN_EDGES = [2**63, 2**62, 2**64 - 1, -1, 0]


def _field_of(path: tuple[Any, ...]) -> str | None:
    """The COCO field a path is in: its last key, or "run" for a run length inside counts."""
    if len(path) >= 2 and path[-2] == "counts" and isinstance(path[-1], int):
        return "run"
    last = path[-1]
    return last if isinstance(last, str) and last in _FIELD_EDGES else None


@st.composite
def _mutated_fixture(draw: Any) -> tuple[str, Any]:
    """A fixture's document with one to three mutations: a known field set to one of its edge
    values (ids beyond int64, names with NUL bytes, RLE runs of 2**63 ...), any value replaced
    or deleted, or a list item copied (a copied image repeats its id and name)."""
    name = draw(st.sampled_from(sorted(FIXTURE_BYTES)))
    doc = json.loads(FIXTURE_BYTES[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        fields = [p for p in paths if _field_of(p)]
        how = draw(st.sampled_from(["field", "field", "value", "delete", "copy"]))
        pool = fields if how == "field" and fields else paths
        if not pool:
            break
        path = draw(st.sampled_from(pool))
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        field = _field_of(path)
        if how == "field" and field:
            edges = _RUN_EDGES if field == "run" else _FIELD_EDGES[field]
            # a copy: the edge lists are shared between examples
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(edges)))
        elif how == "copy" and isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
        elif how == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return name, doc


@given(
    case=_mutated_fixture(),
    as_boxes=st.booleans(),
    frame_id=st.sampled_from(["{stem}", "{name}", "{index}"]),
    frames_per_job=st.sampled_from([None, 1]),
    image_dir=st.booleans(),
)
# 200 examples (1-4 s): fewer missed the RLE overflow and the empty label in the derandomised run
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzz_mutated_fixtures_convert_to_valid_jobs_or_one_input_error(
    tmp_path: Path,
    case: tuple[str, Any],
    as_boxes: bool,
    frame_id: str,
    frames_per_job: int | None,
    image_dir: bool,
) -> None:
    from prelabel.convert import FrameOptions, convert
    from prelabel.jobs import JobOptions
    from prelabel.validate import file_problems

    name, doc = case
    src = _write(tmp_path, doc, name)
    options: dict[str, Any] = {"as_boxes": as_boxes}
    if name == "results.json":
        options["image_dir" if image_dir else "images"] = (
            FIXTURES / "images" if image_dir else FIXTURES / "instances.json"
        )
    out = tmp_path / "jobs.jsonl"
    out.unlink(missing_ok=True)
    try:
        ann = read_coco(src, **options)
        convert(
            ann,
            out,
            frames=FrameOptions(frame_id, src_prefix="https://e.test/"),
            jobs=JobOptions(frames_per_job=frames_per_job),
        )
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert list(file_problems(out)) == []


@pytest.mark.parametrize("image_id", [[1], {"a": 1}, 1.0, True, None])
def test_image_dir_ids_must_be_integers_or_strings(tmp_path: Path, image_id: Any) -> None:
    # a list here raised TypeError (unhashable) in the --image-dir lookup (found by the fuzz)
    src = _write(tmp_path, [{"image_id": image_id, "category_id": 1, "bbox": [0, 0, 1, 1]}])
    with pytest.raises(InputError, match="must be an integer or a string") as err:
        read_coco(src, image_dir=FIXTURES / "images")
    assert err.value.location == "$[0].image_id"

"""The bundled valid payload (fixtures/payloads/valid.jsonl) as code: one job of three frames
with every object type, built by the library. ``python -m tests.payload_fixture`` rewrites the
golden file and the invalid variants (each wrong in exactly one way)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from prelabel.annotations import Annotations, Frames
from prelabel.geometry import prepare
from prelabel.jobs import JobOptions, job_lines

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"


def valid_annotations() -> Annotations:
    frames = Frames.build(
        [1920, 1920, 1920],
        [1080, 1080, 1080],
        frame_id=["frame001", "frame002", "frame003"],
        src=[f"https://images.example.com/drive-07/{i:06d}.jpg" for i in (1, 2, 3)],
        sequence="drive-07",
    )
    return Annotations.concat(
        [
            # a car tracked over frames 1 and 2
            Annotations.from_boxes(
                frames,
                [[192, 108, 576, 432], [240, 108, 624, 432]],
                ["Car", "Car"],
                [0, 1],
                track=[1, 1],
                attributes=[{"occluded": "false"}, {"occluded": "true"}],
            ),
            Annotations.from_polygons(
                frames,
                [[[960, 540], [1152, 540], [1152, 756], [960, 756], [900, 650]]],
                ["face_mask"],
                [0],
                attributes=[{"covers_nose": "Yes"}],
            ),
            Annotations.from_lines(
                frames, [[[0, 1080], [480, 810], [960, 540]]], ["lane_divider"], [1]
            ),
            Annotations.from_cuboids(
                frames,
                np.array(
                    [
                        [
                            [326, 626],
                            [499, 626],
                            [499, 529],
                            [326, 529],
                            [460, 550],
                            [672, 562],
                            [672, 389],
                            [480, 400],
                        ]
                    ]
                ),
                ["Car"],
                [2],
                attributes=[{"faces_visible": ["right", "back"]}],
            ),
            Annotations.from_landmarks(
                frames, [[[326, 626], [499, 680], [518, 680]]], ["nose"], [2]
            ),
        ]
    )


def valid_line() -> bytes:
    ann, report = prepare(valid_annotations(), "error")
    (line,) = job_lines(ann, JobOptions(workflow_id="2aae1234-acac-1234-eeff-12a22a237bbc"))
    return line


def _trackers(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["data"]["maker_response"]["video2d"]["data"]["annotations"]


def invalid_variants() -> dict[str, tuple[dict[str, Any], str]]:
    """name -> (payload, the JSON path its problem is reported at)."""
    base = orjson.loads(valid_line())
    out: dict[str, tuple[dict[str, Any], str]] = {}

    def variant(name: str, path: str) -> dict[str, Any]:
        job = copy.deepcopy(base)
        out[name] = (job, path)
        return job

    tr = "$.data.maker_response.video2d.data.annotations"
    _trackers(variant("coordinate_above_one", f"{tr}[0].frames.frame001.coordinates[1].x"))[0][
        "frames"
    ]["frame001"]["coordinates"][1]["x"] = 1.2
    _trackers(variant("polygon_two_points", f"{tr}[1].frames.frame001"))[1]["frames"]["frame001"][
        "points"
    ] = {"p1": {"x": 0.1, "y": 0.1}, "p2": {"x": 0.2, "y": 0.2}}
    _trackers(variant("edge_names_missing_point", f"{tr}[1].frames.frame001.edges.e5"))[1][
        "frames"
    ]["frame001"]["edges"]["e5"] = ["p5", "p9"]
    _trackers(variant("tracker_frame_not_in_frames", f"{tr}[2].frames.frame999"))[2]["frames"][
        "frame999"
    ] = _trackers(base)[2]["frames"]["frame002"]
    variant("duplicate_frame_id", "$.data.video_data.frames[2].frame_id")["data"]["video_data"][
        "frames"
    ][2]["frame_id"] = "frame002"
    variant("empty_reference_id", "$.reference_id")["reference_id"] = ""
    _trackers(variant("empty_label", f"{tr}[0].label"))[0]["label"] = ""
    variant("src_not_a_url", "$.data.video_data.frames[0].src")["data"]["video_data"]["frames"][0][
        "src"
    ] = "/data/frame001.jpg"
    _trackers(variant("unknown_type", f"{tr}[4].type"))[4]["type"] = "ellipse"
    del _trackers(variant("cuboid_seven_points", f"{tr}[3].frames.frame003"))[3]["frames"][
        "frame003"
    ]["points"]["p8"]
    _trackers(variant("landmark_label_not_int", f"{tr}[4].frames.frame003.points.p1.label"))[4][
        "frames"
    ]["frame003"]["points"]["p1"]["label"] = "one"
    job = variant("workflow_id_misspelt", "$.workflow_id")
    job["workflow_id"] = job.pop("work_flow_id")
    return out


def write() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / "valid.jsonl").write_bytes(valid_line() + b"\n")
    (FIXTURES / "valid.pretty.json").write_bytes(
        orjson.dumps(orjson.loads(valid_line()), option=orjson.OPT_INDENT_2) + b"\n"
    )
    for name, (job, _) in invalid_variants().items():
        (FIXTURES / f"invalid_{name}.jsonl").write_bytes(orjson.dumps(job) + b"\n")


if __name__ == "__main__":
    write()

"""The report: one row per shape that was changed or removed, counted by (action, reason)."""

from __future__ import annotations

import numpy as np

from prelabel.annotations import Annotations, Frames
from prelabel.report import Action, Report


def test_rows_name_frame_label_shape_and_source() -> None:
    f = Frames.build(10, 10, frame_id=["", "f1"], name=["a.jpg", "b.jpg"], src=["s3://x/a"] * 2)
    ann = Annotations.from_boxes(
        f, np.zeros((3, 4)), ["car", "dog", "car"], [0, 1, 1], source=["$.a[0]", "$.a[1]", None]
    )
    r = Report()
    r.add_shapes(Action.DROPPED, "zero_extent", ann, np.array([True, False, True]))
    r.add(Action.SKIPPED, "tag", source="<tag> line 9")
    assert [(x["frame"], x["label"], x["shape"], x["source"]) for x in r.rows] == [
        ("a.jpg", "car", 0, "$.a[0]"),  # no frame_id yet: the image name
        ("f1", "car", 2, None),
        (None, None, None, "<tag> line 9"),
    ]
    assert r.counts == {("dropped", "zero_extent"): 2, ("skipped", "tag"): 1}
    assert r.summary_lines()[0].split() == ["2", "dropped", "(zero_extent)"]
    assert r.to_dict()["counts"][0] == {"action": "dropped", "reason": "zero_extent", "count": 2}

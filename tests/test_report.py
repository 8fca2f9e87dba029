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


def test_repr_counts_per_action_and_reason_not_rows() -> None:
    r = Report()
    assert repr(r) == "Report(0 rows)"
    for _ in range(3):
        r.add(Action.DROPPED, "zero_area", source="$.a[0]")
    r.add(Action.REPAIRED, "clipped", source="$.a[1]")
    assert repr(r) == "Report(4 rows: 3 dropped (zero_area), 1 repaired (clipped))"
    assert "$.a" not in repr(r)  # the rows themselves are not printed


def test_repr_of_many_reasons_names_the_six_most_frequent() -> None:
    r = Report()
    for i in range(8):  # reason r<i> has i + 1 rows: 36 rows in all
        for _ in range(i + 1):
            r.add(Action.DROPPED, f"r{i}")
    text = repr(r)
    # r7..r2 shown (8+7+6+5+4+3 = 33 rows); r1 and r0 are the 2 + 1 = 3 rows left
    assert text.startswith("Report(36 rows: 8 dropped (r7), 7 dropped (r6),")
    assert text.endswith("3 dropped (r2), 3 more (2 other reasons))")

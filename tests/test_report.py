"""The report: one row per shape that was changed or removed, counted by (action, reason)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from prelabel.annotations import Annotations, Frames
from prelabel.report import Action, Reason, Report


def test_rows_name_frame_label_shape_and_source() -> None:
    f = Frames.build(10, 10, frame_id=["", "f1"], name=["a.jpg", "b.jpg"], src=["s3://x/a"] * 2)
    ann = Annotations.from_boxes(
        f, np.zeros((3, 4)), ["car", "dog", "car"], [0, 1, 1], source=["$.a[0]", "$.a[1]", None]
    )
    r = Report()
    r.add_shapes(Action.DROPPED, Reason.ZERO_EXTENT, ann, np.array([True, False, True]))
    r.add(Action.SKIPPED, Reason.TAG, source="<tag> line 9")
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
        r.add(Action.DROPPED, Reason.ZERO_AREA, source="$.a[0]")
    r.add(Action.REPAIRED, Reason.OUT_OF_FRAME, source="$.a[1]")
    assert repr(r) == "Report(4 rows: 3 dropped (zero_area), 1 repaired (out_of_frame))"
    assert "$.a" not in repr(r)  # the rows themselves are not printed


def test_repr_of_many_reasons_names_the_six_most_frequent() -> None:
    r = Report()
    reasons = list(Reason)[:8]
    for i, reason in enumerate(reasons):  # reason i has i + 1 rows: 36 rows in all
        for _ in range(i + 1):
            r.add(Action.DROPPED, reason)
    text = repr(r)
    # reasons 7..2 shown (8+7+6+5+4+3 = 33 rows); 1 and 0 are the 2 + 1 = 3 rows left
    r7, r6, r2 = reasons[7].value, reasons[6].value, reasons[2].value
    assert text.startswith(f"Report(36 rows: 8 dropped ({r7}), 7 dropped ({r6}),")
    assert text.endswith(f"3 dropped ({r2}), 3 more (2 other reasons))")


def test_an_unregistered_reason_is_refused() -> None:
    r = Report()
    with pytest.raises(ValueError, match="not a valid Reason"):
        r.add(Action.DROPPED, "clipped")  # type: ignore[arg-type]
    assert len(r) == 0


def test_a_reason_given_as_its_value_is_stored_as_the_value() -> None:
    r = Report()
    r.add(Action.DROPPED, "zero_area")  # type: ignore[arg-type]
    r.add(Action.DROPPED, Reason.ZERO_AREA, detail="d")
    assert [type(x["reason"]) for x in r.rows] == [str, str]
    assert r.rows[1] == {
        "action": "dropped",
        "reason": "zero_area",
        "frame": None,
        "label": None,
        "shape": None,
        "source": None,
        "detail": "d",
    }


def test_the_summary_of_a_row_schema_note_names_the_schema_not_its_counts() -> None:
    r = Report()
    r.add(Action.NOTED, Reason.ROW_SCHEMA_INFERRED, detail="cls,box + cls,poly; 2 row(s) ...")
    r.add(Action.SKIPPED, Reason.TAG, detail="not named in the summary")
    assert r.summary_lines() == [
        "        1 noted (row_schema_inferred: cls,box + cls,poly)",
        "        1 skipped (tag)",
    ]


DOC = Path(__file__).resolve().parents[1] / "docs" / "report.md"


def test_every_reason_is_documented_and_every_documented_reason_is_one() -> None:
    # the doc's reason tables (not the table of renames): rows that start with a reason
    text = DOC.read_text(encoding="utf-8").split("## Renamed reasons")[0]
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.M)
    assert len(documented) == len(set(documented)), "a reason is listed twice"
    assert set(documented) == {r.value for r in Reason}


def test_each_reason_has_one_snake_case_spelling() -> None:
    values = [r.value for r in Reason]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", v) for v in values)

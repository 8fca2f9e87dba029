"""The report of everything skipped, dropped, clipped, split or repaired.

Nothing disappears silently: each stage that changes or removes a shape adds a row here with
its reason, and the CLI prints the counts at the end and writes the rows with ``--report``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from prelabel.annotations import Annotations


class Action(str, Enum):
    """What happened to a shape (or to a piece of input that never became one)."""

    DROPPED = "dropped"
    REPAIRED = "repaired"
    SKIPPED = "skipped"
    SPLIT = "split"
    NOTED = "noted"


class Reason(str, Enum):
    """Why a row is in the report: one registry for every stage, one spelling each.

    docs/report.md lists each reason, its action(s), what it means and which stage reports it
    (a test keeps the two the same). A row's variable part (a count, a file's schema) is in its
    ``detail``, never in the reason."""

    # geometry (prelabel.geometry.prepare)
    BAD_FRAME_SIZE = "bad_frame_size"
    NON_FINITE = "non_finite"
    POINT_COUNT = "wrong_point_count"
    REPEATED_POINTS = "repeated_points"
    OUT_OF_FRAME = "out_of_frame"
    NEGATIVE_EXTENT = "negative_extent"
    NOT_AXIS_ALIGNED = "rectangle_not_axis_aligned"
    SELF_INTERSECTION = "self_intersection"
    SELF_INTERSECTION_TOO_COMPLEX = "self_intersection_too_complex"
    ZERO_EXTENT = "zero_extent"
    ZERO_AREA = "zero_area"
    TRACK_MIXED_KINDS = "track_mixed_kinds"
    TRACK_REPEATED_FRAME = "track_repeated_frame"  # also CVAT: a track with a frame twice
    # labels, scores and jobs (prelabel.convert)
    LABEL_UNMAPPED = "label_unmapped"
    LABEL_EMPTY = "label_empty"
    BELOW_MIN_SCORE = "below_min_score"
    JOB_OVER_SOFT_LIMIT = "job_over_soft_limit"
    # traced masks (COCO RLE, CVAT <mask>)
    MASK_SPECKS = "mask_specks"
    MASK_HOLES_FILLED = "mask_holes_filled"
    MASK_EMPTY = "mask_empty"
    SPLIT_INTO_POLYGONS = "split_into_polygons"  # COCO multipart, CVAT mask in several pieces
    MULTIPART_SMALLER_PARTS = "multipart_smaller_parts"
    NO_VISIBLE_KEYPOINTS = "no_visible_keypoints"  # COCO and YOLO pose
    # COCO
    LABEL_STUDIO_LOCAL_FILES = "label_studio_local_files"
    UNREAD_ANNOTATION_KEY = "unread_annotation_key"
    ROTATION_IGNORED = "rotation_ignored"
    KEYPOINT_SEGMENTATION_IGNORED = "keypoint_segmentation_ignored"
    # CVAT
    TAG = "tag"
    SHAPE_OUTSIDE_IMAGE_OR_TRACK = "shape_outside_image_or_track"
    UNSUPPORTED_ELEMENT = "unsupported_element"
    FRAME_NOT_IN_TASK = "frame_not_in_task"
    TRACK_FRAMES_NOT_OFFSET = "track_frames_not_offset"
    TASK_META_DISAGREES = "task_meta_disagrees"
    HELD_NOT_INTERPOLATED = "held_not_interpolated"
    EMPTY_SKELETON = "empty_skeleton"
    BAD_MASK = "bad_mask"
    UNKNOWN_LABEL = "unknown_label"
    MISSING_ATTRIBUTE = "missing_attribute"
    BAD_SIZE = "bad_size"
    BAD_SKELETON = "bad_skeleton"
    BAD_POINTS = "bad_points"
    BAD_COORDINATE = "bad_coordinate"
    BAD_ROTATION = "bad_rotation"
    BAD_FRAME = "bad_frame"
    BAD_TRACK_ID = "bad_track_id"  # also YOLO: a track column that is not a whole number
    # YOLO
    WRONG_COLUMN_COUNT = "wrong_column_count"
    NOT_A_NUMBER = "not_a_number"
    BAD_CLASS = "bad_class"
    CLASS_BEYOND_NAMES = "class_beyond_names"
    BAD_CONFIDENCE = "bad_confidence"
    BAD_LINE = "bad_line"
    ROW_SCHEMA_DECLARED = "row_schema_declared"
    ROW_SCHEMA_INFERRED = "row_schema_inferred"
    LABEL_FILE_WITHOUT_IMAGE = "label_file_without_image"
    IMAGE_NOT_FOUND = "image_not_found"
    HIDDEN_FOLDER = "hidden_folder"
    HIDDEN_LABEL_FILE = "hidden_label_file"
    LABEL_FILE_BESIDE_IMAGE = "label_file_beside_image"
    LABEL_FILE_OUTSIDE_LABELS = "label_file_outside_labels"
    ABSOLUTE_DATA_PATH_IGNORED = "absolute_data_path_ignored"
    SPLIT_NOT_FOUND = "split_not_found"
    LIST_NOT_FOUND = "list_not_found"
    LIST_NOT_A_FILE = "list_not_a_file"
    # MOT
    INVALID_ROW = "invalid_row"
    IGNORED_IN_SOURCE = "ignored_in_source"
    # export (prelabel.export)
    KIND_NOT_IN_FORMAT = "kind_not_in_format"
    LANDMARK_NOT_IN_FORMAT = "landmark_points_not_in_format"
    TRACK_LABEL_CHANGES = "track_label_changes"
    ATTRIBUTES_NOT_IN_FORMAT = "attributes_not_in_format"
    NOT_A_RESULT_FILE = "not_a_result_file"  # also compare's ignored_files


class _Row(TypedDict):
    action: str
    reason: str
    frame: str | None
    label: str | None
    shape: int | None
    source: str | None


class ReportRow(_Row, total=False):
    """One row of the report (and of ``--report``'s ``rows``): ``detail`` only where there is one.

    ``action`` and ``reason`` are the values of :class:`Action` and :class:`Reason`."""

    detail: str


_REPR_COUNTS = 6  # (action, reason) counts a repr shows
# reasons whose summary line names the row's detail (up to a "; "): what the note says
_SUMMARY_DETAIL = {Reason.ROW_SCHEMA_DECLARED.value, Reason.ROW_SCHEMA_INFERRED.value}


def _row(
    action: Action,
    reason: str,
    frame: str | None,
    label: str | None,
    shape: int | None,
    source: str | None,
    detail: str | None,
) -> ReportRow:
    """One report row; ``detail`` only where there is one."""
    row: ReportRow = {
        "action": action.value,
        "reason": reason,
        "frame": frame,
        "label": label,
        "shape": shape,
        "source": source,
    }
    if detail:
        row["detail"] = detail
    return row


@dataclass
class Report:
    """Rows of ``{action, reason, frame, label, shape, source}`` and their counts."""

    rows: list[ReportRow] = field(default_factory=list)

    def add_shapes(
        self,
        action: Action,
        reason: Reason,
        ann: Annotations,
        rows: npt.ArrayLike,
        detail: str | None = None,
    ) -> None:
        """One row per selected shape of ``ann`` (an index or boolean array)."""
        why = Reason(reason).value  # an unregistered reason fails here, not in a reader's test
        sel = np.asarray(rows)
        if sel.dtype == bool:
            sel = np.flatnonzero(sel)
        if sel.size == 0:
            return
        frames = ann.frames
        frame_rows = ann.frame[sel]
        names = frames.name[frame_rows]
        ids = frames.frame_id[frame_rows]
        frame_desc = [i or n for i, n in zip(ids.tolist(), names.tolist(), strict=True)]
        labels = (
            np.asarray(ann.labels, dtype=object)[ann.label[sel]] if ann.labels else [""] * len(sel)
        )
        for shape, frame, label, source in zip(
            sel.tolist(), frame_desc, list(labels), ann.source[sel].tolist(), strict=True
        ):
            self.rows.append(_row(action, why, frame, label, shape, source, detail))

    def add(
        self,
        action: Action,
        reason: Reason,
        *,
        source: str | None = None,
        frame: str | None = None,
        label: str | None = None,
        detail: str | None = None,
    ) -> None:
        """One row for input that is not (or not yet) a shape: a CVAT tag, a skipped line."""
        self.rows.append(_row(action, Reason(reason).value, frame, label, None, source, detail))

    def extend(self, other: Report) -> None:
        self.rows.extend(other.rows)

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        """How many rows per (action, reason)."""
        return Counter((r["action"], r["reason"]) for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        """A summary, not the rows: the count per action and reason, most frequent first.

        ``Report(5 rows: 3 dropped (zero_area), 2 repaired (clipped))``"""
        counts = self.counts.most_common()
        parts = [f"{n:,} {action} ({reason})" for (action, reason), n in counts[:_REPR_COUNTS]]
        if len(counts) > _REPR_COUNTS:
            rest = sum(n for _, n in counts[_REPR_COUNTS:])
            parts.append(f"{rest:,} more ({len(counts) - _REPR_COUNTS} other reasons)")
        rows = f"{len(self.rows):,} row" + ("" if len(self.rows) == 1 else "s")
        return f"Report({rows}: {', '.join(parts)})" if parts else f"Report({rows})"

    def summary_lines(self) -> list[str]:
        """One line per (action, reason), most frequent first; a row schema note names the
        schema (``1 noted (row_schema_inferred: cls,box + cls,poly)``)."""
        details: dict[str, set[str]] = {}
        for r in self.rows:
            if r["reason"] in _SUMMARY_DETAIL:
                details.setdefault(r["reason"], set()).add(r.get("detail", "").split("; ")[0])
        lines = []
        for (action, reason), n in self.counts.most_common():
            shown = details.get(reason, set())
            what = f"{reason}: {next(iter(shown))}" if len(shown) == 1 else reason
            lines.append(f"{n:>9,} {action} ({what})")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": [
                {"action": a, "reason": r, "count": n} for (a, r), n in sorted(self.counts.items())
            ],
            "rows": self.rows,
        }

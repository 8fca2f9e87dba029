"""YOLO label files -> :class:`~prelabel.annotations.Annotations`."""

from prelabel.formats.yolo._layout import TASKS, Schema, parse_columns, read_yolo, schema_for_task

__all__ = ["TASKS", "Schema", "parse_columns", "read_yolo", "schema_for_task"]

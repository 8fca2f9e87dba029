"""YOLO label files -> :class:`~prelabel.annotations.Annotations`.

Layouts: Ultralytics (``data.yaml`` with ``images/`` and ``labels/`` trees that mirror each
other, or image lists), Darknet (``obj.data``, ``obj.names``, ``train.txt``,
``obj_train_data/``) and a bare folder of ``.txt`` files with a names file. Rows are
``cls`` plus a geometry (box, polygon, keypoints, oriented box) plus optional ``conf`` and
``track`` columns. The row schema is declared (``task``, ``columns``, data.yaml's ``task`` or
``kpt_shape``) or, when nothing declares it, read from the rows where only one reading fits
them (5 values a box, an odd number >= 7 a polygon, as Ultralytics' own loader tells them
apart); two readings that give different shapes are refused, naming both.

Reading 10k small files is the cost, so the reader does as little per file as it can: one
``os.read`` per label file, then every file's bytes joined into one buffer that numpy splits
into lines and tokens and ``np.fromstring`` parses in one call. Per-line Python work happens
only for lines that are refused.

The package, one module per idea:

- ``_schema``: the columns of a row (:class:`Schema`, ``--task``, ``--columns``);
- ``_names``: class names (data.yaml, names files);
- ``_layout``: which label file belongs to which image, and the frames;
- ``_datasets``: data.yaml, obj.data, a bare folder and ``--image-dir`` -> a layout;
- ``_lines``: label files -> one table of lines and parsed numbers;
- ``_rows``: which schema reads each row, and which rows are refused;
- ``_shapes``: rows -> shapes;
- ``_reader``: :func:`read_yolo`, the above in order.
"""

from prelabel.formats.yolo._reader import read_yolo
from prelabel.formats.yolo._schema import TASKS, Schema, parse_columns, schema_for_task

__all__ = ["TASKS", "Schema", "parse_columns", "read_yolo", "schema_for_task"]

"""One element's attributes -> the values of its row: pure functions the streaming parse calls.

Each raises :class:`BadElement` (or ``KeyError`` for a missing attribute, which the parse
names) before anything is recorded, so a bad element can be skipped whole.
"""

from __future__ import annotations

from prelabel.formats.cvat._tables import (
    BOX,
    CUBOID,
    ELLIPSE,
    MASK,
    POINTS,
    BadElement,
    Task,
)
from prelabel.paths import safe_relative
from prelabel.report import Reason

# CVAT writes a cuboid as xtl1 ytl1 xbl1 ybl1 xtr1 ytr1 xbr1 ybr1 (face 1, the front) and the
# same for face 2 (the back); see _geometry.CUBOID_CVAT_TO_P for the platform's order.
CUBOID_KEYS = (
    ("xtl1", "ytl1"), ("xbl1", "ybl1"), ("xtr1", "ytr1"), ("xbr1", "ybr1"),
    ("xtl2", "ytl2"), ("xbl2", "ybl2"), ("xtr2", "ytr2"), ("xbr2", "ybr2"),
)  # fmt: skip

MaskText = tuple[str, str, str, str, str]  # rle, left, top, width, height


def missing(path: str, where: str, name: str) -> BadElement:
    return BadElement(path, where, f"missing attribute {name!r}", Reason.MISSING_ATTRIBUTE)


def image_record(
    a: dict[str, str], path: str, where: str, task_by_key: dict[str | None, Task]
) -> tuple[str, str, int, float, float]:
    """``(name, sequence, frame number or -1, width, height)`` of an ``<image>``."""
    try:
        name = a["name"]
        w, h = float(a["width"]), float(a["height"])
    except KeyError as e:
        raise missing(path, where, e.args[0]) from None
    except ValueError:
        raise BadElement(path, where, "width/height is not a number", Reason.BAD_SIZE) from None
    name = safe_relative(name, path=path, location=where)
    folder = name.rpartition("/")[0]
    seq = folder
    # a project export: each image names its task and subset, image names repeat across
    # subsets, and CVAT saves the images under images/<subset>/<name>
    subset, task = a.get("subset"), task_by_key.get(a.get("task_id"))
    if subset:
        name = safe_relative(f"{subset}/{name}", path=path, location=where)
    if task is not None or subset:
        group = task.name if task is not None else str(subset)
        seq = f"{group}/{folder}" if folder else group
    text = a.get("id", "")
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1
    return name, seq, number, w, h


def shape_geometry(code: int, a: dict[str, str]) -> tuple[str | None, int, MaskText | None]:
    """``(run, pairs, mask)`` of a shape element: its ``x,y;x,y`` text and pair count, or
    a mask's attributes; a skeleton has neither (its points follow as children).
    ``KeyError`` names a missing attribute."""
    if code <= POINTS and code != BOX:
        run = a["points"]
        return run, run.count(";") + 1, None
    if code == BOX:
        return a["xtl"] + "," + a["ytl"] + ";" + a["xbr"] + "," + a["ybr"], 2, None
    if code == ELLIPSE:
        return a["cx"] + "," + a["cy"] + ";" + a["rx"] + "," + a["ry"], 2, None
    if code == CUBOID:
        return ";".join(a[x] + "," + a[y] for x, y in CUBOID_KEYS), 8, None
    if code == MASK:
        return None, 0, (a["rle"], a["left"], a["top"], a["width"], a["height"])
    return None, 0, None


SkeletonPoint = tuple[str, str, bool, bool, int]  # label, "x,y", outside, occluded, line


def skeleton_point(tag: str, a: dict[str, str], path: str, where: str, line: int) -> SkeletonPoint:
    """One ``<points>`` child of a ``<skeleton>``."""
    if tag != "points":
        raise BadElement(
            path, where, f"a skeleton holds <points>, not <{tag}>", Reason.BAD_SKELETON
        )
    try:
        name = a["label"]
        run = a["points"]
    except KeyError as e:
        raise missing(path, where, e.args[0]) from None
    if run.count(";") or run.count(",") != 1:
        raise BadElement(
            path, where, f"bad points string {run[:40]!r}: one x,y expected", Reason.BAD_POINTS
        )
    return name, run, a.get("outside") == "1", a.get("occluded") == "1", line


def skeleton_geometry(
    points: list[SkeletonPoint], spec: list[str], skel_label: str, path: str
) -> tuple[str, list[bool], bool]:
    """``(run, visible, occluded)`` of a skeleton: its points in ``spec`` order (``nan,nan``
    for a point it does not list), which are shown, and whether a shown one is occluded."""
    position = {name: i for i, name in enumerate(spec)}
    runs = ["nan,nan"] * len(spec)
    vis = [False] * len(spec)
    occluded = False
    for name, run, outside, occl, line in points:
        i = position.get(name)
        if i is None:
            raise BadElement(
                path,
                f"<points> line {line}",
                f"label {name!r} is not a point of skeleton {skel_label!r}",
                Reason.UNKNOWN_LABEL,
            )
        runs[i] = run
        vis[i] = not outside
        occluded = occluded or (occl and not outside)
    return ";".join(runs), vis, occluded

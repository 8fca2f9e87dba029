"""The tables the stages of the CVAT reader hand each other, and the codes they share.

The streaming parse fills :class:`ParsedFile` (lists, one entry per element, geometry still
text); every later stage is a function of these tables and returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prelabel.errors import InputError
from prelabel.report import Reason

# CVAT shape types, as codes of the raw table (the element names of the XML)
BOX, POLYGON, POLYLINE, POINTS, CUBOID, ELLIPSE, MASK, SKELETON = range(8)
SHAPE_TAGS = ("box", "polygon", "polyline", "points", "cuboid", "ellipse", "mask", "skeleton")
SHAPE_CODES = {tag: code for code, tag in enumerate(SHAPE_TAGS)}
PAIR_RUNS = {"polygon": POLYGON, "polyline": POLYLINE, "points": POINTS}

# Frame numbers, ids and the meta's counts are refused beyond +-2**62 (CVAT's are small
# non-negative integers): every sum and difference of two of them then stays inside int64.
MAX_INT = 1 << 62


def bounded_int(text: str, what: str) -> int:
    """``int(text)`` within +-2**62; ValueError with a message naming ``what`` otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} is not an integer") from None
    if not -MAX_INT <= value <= MAX_INT:
        raise ValueError(f"{what} {text.strip()[:30]} is out of range (beyond 2**62)")
    return value


class BadElement(InputError):
    """A bad element that leaves the rest of the file usable: fatal under
    ``on_invalid="error"`` (and ``"repair"``), skipped and reported under ``"drop"``.
    ``reason`` is the report's reason (``Reason.BAD_POINTS``, ``Reason.UNKNOWN_LABEL``, ...)."""

    def __init__(self, path: str, location: str, message: str, reason: Reason) -> None:
        super().__init__(path, location, message)
        self.reason = reason


def element_source(code: int, line: int) -> str:
    """``"<box> line 40"``: where a shape element is, for errors and the report."""
    return f"<{SHAPE_TAGS[code]}> line {line}"


@dataclass
class Task:
    """What the meta says about one task (or job) of the export."""

    key: str | None
    name: str
    start: int = 0
    stop: int | None = None
    step: int = 1
    size: int | None = None
    width: float | None = None
    height: float | None = None
    subset: str | None = None
    offset: int = 0  # CVAT's frame offset in a project export (see _meta.task_offsets)

    def stop_count(self) -> int | None:
        """The frames ``start_frame .. stop_frame`` (inclusive, as CVAT reads it) hold."""
        if self.stop is None:
            return None
        return max((self.stop - self.start) // self.step + 1, 0)


@dataclass
class Meta:
    tasks: list[Task]
    labels: list[str]  # top-level labels in meta order
    all_labels: set[str]  # every label the meta declares (sub-labels included)
    points_of: dict[str, list[str]]  # skeleton label -> its point labels in spec order
    mode: str | None


@dataclass
class Images:
    """One row per ``<image>``."""

    name: list[str] = field(default_factory=list)
    sequence: list[str] = field(default_factory=list)
    number: list[int] = field(default_factory=list)  # CVAT's frame number (-1: none usable)
    width: list[float] = field(default_factory=list)
    height: list[float] = field(default_factory=list)

    def append(self, name: str, sequence: str, number: int, width: float, height: float) -> int:
        """Add an image; its row."""
        self.name.append(name)
        self.sequence.append(sequence)
        self.number.append(number)
        self.width.append(width)
        self.height.append(height)
        return len(self.name) - 1


@dataclass
class Tracks:
    """One row per ``<track>``: CVAT's id, its task key, its label; track-level attributes."""

    id: list[int] = field(default_factory=list)
    task: list[str | None] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    attrs: dict[int, dict[str, str]] = field(default_factory=dict)

    def append(self, id: int, task: str | None, label: int) -> int:
        """Add a track; its row."""
        self.id.append(id)
        self.task.append(task)
        self.label.append(label)
        return len(self.id) - 1


@dataclass
class ShapeElements:
    """One entry per shape element as read (skeleton points are parts of a skeleton).

    ``frame`` is the image row, or the absolute video frame of a track shape; ``track`` the
    row in :class:`Tracks` (-1 for image shapes); ``geo`` holds the ``"x,y;x,y"`` runs of the
    shapes with ``npairs > 0``, in row order.
    """

    kind: list[int] = field(default_factory=list)
    frame: list[int] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    track: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    npairs: list[int] = field(default_factory=list)
    geo: list[str] = field(default_factory=list)
    attrs: list[dict[str, str] | None] = field(default_factory=list)
    occluded: list[int] = field(default_factory=list)  # rows with occluded="1"
    outside: list[int] = field(default_factory=list)  # rows with outside="1"
    rot_rows: list[int] = field(default_factory=list)
    rot_text: list[str] = field(default_factory=list)
    masks: dict[int, tuple[str, str, str, str, str]] = field(default_factory=dict)
    skel_vis: dict[int, list[bool]] = field(default_factory=dict)

    def append(
        self,
        code: int,
        frame: int,
        label: int,
        track: int,
        line: int,
        a: dict[str, str],
        run: str | None,
        npairs: int,
    ) -> None:
        """Add a shape element (attributes ``a``) with its ``x,y;x,y`` text, if it has one."""
        row = len(self.kind)
        if run is not None:
            self.geo.append(run)
        self.npairs.append(npairs)
        if track >= 0 and a.get("outside") == "1":
            self.outside.append(row)
        if a.get("occluded") == "1":
            self.occluded.append(row)
        rot = a.get("rotation")
        if rot is not None:
            self.rot_rows.append(row)
            self.rot_text.append(rot)
        self.kind.append(code)
        self.frame.append(frame)
        self.label.append(label)
        self.track.append(track)
        self.line.append(line)
        self.attrs.append(None)

    def pop_last(self, row: int) -> None:
        """Remove the row just added (a skeleton: its geometry is not in ``geo`` yet)."""
        assert row == len(self.kind) - 1
        for column in (self.kind, self.frame, self.label, self.track, self.line, self.npairs):
            column.pop()
        self.attrs.pop()
        for rows in (self.occluded, self.outside):
            if rows and rows[-1] == row:
                rows.pop()
        if self.rot_rows and self.rot_rows[-1] == row:
            self.rot_rows.pop()
            self.rot_text.pop()


@dataclass
class ParsedFile:
    """Everything the streaming parse read: data only, no geometry parsed yet."""

    path: str
    meta: Meta | None
    label_names: list[str]
    images: Images
    tracks: Tracks
    shapes: ShapeElements

    def frame_of_element(self, row: int) -> str:
        """A parsed shape's frame for the report: the image name, or CVAT's frame number."""
        return element_frame(self.shapes, self.images, row)


def element_frame(shapes: ShapeElements, images: Images, row: int) -> str:
    """A parsed shape's frame for the report: the image name, or CVAT's frame number."""
    if shapes.track[row] >= 0:
        return str(shapes.frame[row])
    return images.name[shapes.frame[row]]

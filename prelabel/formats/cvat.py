"""CVAT for images 1.1 and CVAT for video 1.1 XML -> :class:`Annotations` in pixels.

The file is streamed through expat with defusedxml's guards (no DTD, no entity declarations, no
external references), so an XXE or billion-laughs file is refused and memory stays bounded: no
element tree is built, each element is turned into a few list entries as it is read, which
also gives the exact line of every element for errors and for the report.

Shapes are collected as text and parsed in bulk: every geometry becomes one run of ``x,y``
pairs (a box ``xtl,ytl;xbr,ybr``, a cuboid its eight corners, an ellipse ``cx,cy;rx,ry``),
the runs are joined once, checked once for the pair syntax and converted by one numpy call.
Tracks are then mapped to task frames (``start_frame``, ``frame_filter`` step, and in a
project export the task's frame offset), keyframe gaps are filled by linear interpolation as
CVAT does, ``outside`` frames removed, and each CVAT type is turned into the platform's
geometry (see docs/formats/cvat.md for the table).
"""

from __future__ import annotations

import math
import re
import xml.parsers.expat as expat
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from typing import Any, Literal
from xml.etree.ElementTree import Element, TreeBuilder

import numpy as np
import numpy.typing as npt
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from prelabel.annotations import Annotations, Frames, Kind
from prelabel.errors import InputError, MissingExtraError
from prelabel.gcpause import paused_gc
from prelabel.paths import safe_relative
from prelabel.report import Action, Report

__all__ = ["read_cvat", "cvat_export_kind"]

# CVAT shape types, as codes of the raw table (the element names of the XML)
_BOX, _POLYGON, _POLYLINE, _POINTS, _CUBOID, _ELLIPSE, _MASK, _SKELETON = range(8)
_SHAPE_TAGS = ("box", "polygon", "polyline", "points", "cuboid", "ellipse", "mask", "skeleton")
_SHAPE_CODES = {tag: code for code, tag in enumerate(_SHAPE_TAGS)}
_PAIR_RUNS = {"polygon": _POLYGON, "polyline": _POLYLINE, "points": _POINTS}

# CVAT writes a cuboid as xtl1 ytl1 xbl1 ybl1 xtr1 ytr1 xbr1 ybr1 (face 1, the front) and the
# same for face 2 (the back). Its canvas names the back edges from the other side: edge
# (tl2, bl2) is "dorsal right" and joins the front's right edge (tr1-tl2, br1-bl2), edge
# (tr2, br2) is "dorsal left" and joins the front's left edge (tl1-tr2, bl1-br2).
_CUBOID_KEYS = (
    ("xtl1", "ytl1"), ("xbl1", "ybl1"), ("xtr1", "ytr1"), ("xbr1", "ybr1"),
    ("xtl2", "ytl2"), ("xbl2", "ybl2"), ("xtr2", "ytr2"), ("xbr2", "ybr2"),
)  # fmt: skip
# CVAT corner index (order above) of p1..p8 = front TL, TR, BR, BL, back TL, TR, BR, BL,
# where "back TL" is the back corner behind the front's top-left one.
CUBOID_CVAT_TO_P = np.array([1, 3, 2, 0, 7, 5, 4, 6])

_MASK_MIN_AREA = 1.0  # px^2; smaller mask parts are noise, not objects
_READ_CHUNK = 1 << 20
# Frame numbers, ids and the meta's counts are refused beyond +-2**62 (CVAT's are small
# non-negative integers): every sum and difference of two of them then stays inside int64.
_MAX_INT = 1 << 62
# The frames one task (one video sequence) may have: the frames table holds a row for each,
# and the count comes from the meta or the largest track frame, not from what the file holds.
MAX_TASK_FRAMES = 1_000_000
# The points interpolation between keyframes (and holding after the last one) may add in one
# file, counted before anything is allocated.
MAX_FILLED_POINTS = 2_000_000


@dataclass
class _Task:
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
    offset: int = 0  # CVAT's frame offset in a project export (see _task_offsets)
    n_frames: int = 0
    base: int = 0  # first row of this task's frames in the frames table
    shift: int = 0  # the offset the file's track frames follow (0 or ``offset``)

    def stop_count(self) -> int | None:
        """The frames ``start_frame .. stop_frame`` (inclusive, as CVAT reads it) hold."""
        if self.stop is None:
            return None
        return max((self.stop - self.start) // self.step + 1, 0)


@dataclass
class _Meta:
    tasks: list[_Task]
    labels: list[str]  # top-level labels in meta order
    all_labels: set[str]  # every label the meta declares (sub-labels included)
    points_of: dict[str, list[str]]  # skeleton label -> its point labels in spec order
    mode: str | None


class _StopParse(Exception):
    """Ends a parse early (used by :func:`cvat_export_kind`)."""


class _BadElement(InputError):
    """A bad element that leaves the rest of the file usable: fatal under
    ``on_bad_element="error"``, skipped and reported under ``"drop"``. ``reason`` is the
    report's reason (``"bad_points"``, ``"unknown_label"``, ``"missing_attribute"``, ...)."""

    def __init__(self, path: str, location: str, message: str, reason: str) -> None:
        super().__init__(path, location, message)
        self.reason = reason


def _bounded_int(text: str, what: str) -> int:
    """``int(text)`` within +-2**62; ValueError with a message naming ``what`` otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} is not an integer") from None
    if not -_MAX_INT <= value <= _MAX_INT:
        raise ValueError(f"{what} {text.strip()[:30]} is out of range (beyond 2**62)")
    return value


def _hardened_parser() -> Any:
    """An expat parser carrying defusedxml's guards, with dict attributes.

    defusedxml installs handlers that raise on a DOCTYPE, on entity declarations and on
    external entity references; the element handlers are ours, so no tree is built.
    """
    guard = DefusedXMLParser(
        target=object(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    parser = guard.parser
    parser.DefaultHandlerExpand = None  # ElementTree's hook; undefined entities stay errors
    parser.ordered_attributes = False
    parser.buffer_text = True
    return parser


def _xml_error(path: str, parser: Any, exc: BaseException) -> InputError:
    if isinstance(exc, expat.ExpatError):
        msg = expat.ErrorString(exc.code) if exc.code else str(exc)
        return InputError(path, f"{exc.lineno}:{exc.offset + 1}", f"malformed XML: {msg}")
    where = f"{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"
    if isinstance(exc, DTDForbidden):
        what = "a DTD (<!DOCTYPE>)"
    elif isinstance(exc, EntitiesForbidden):
        what = "an entity declaration"
    else:
        what = "an external entity reference"
    return InputError(
        path,
        where,
        f"refused: the file holds {what}; CVAT exports have none, and DTDs and entities are "
        "how XXE and entity-expansion (billion laughs) attacks work",
    )


def _run(parser: Any, path: str, source: Any) -> None:
    """Feed ``source`` to ``parser`` with the cyclic GC paused; errors become InputError."""
    # the parse creates many small objects and no cycles
    head = b""
    with paused_gc():
        try:
            while True:
                chunk = source.read(_READ_CHUNK)
                if not chunk:
                    break
                head = head or chunk[:200]
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except (expat.ExpatError, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as e:
            raise _xml_error(path, parser, e) from None
        except (LookupError, ValueError) as e:
            # pyexpat raises these for the encoding named in the XML declaration: LookupError
            # for a name Python does not know, ValueError for a multi-byte codec (Shift_JIS,
            # EUC-JP, UTF-7...) that expat cannot be given; anything else is not ours to catch
            if not _encoding_refused(e):
                raise
            declared = _DECLARED_ENCODING.search(head)
            name = declared.group(1).decode("ascii", "replace") if declared else "?"
            raise InputError(
                path,
                f"{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}",
                f"the XML declaration names encoding {name!r}, which the reader cannot decode "
                f"({e}); CVAT writes UTF-8: save the file as UTF-8",
            ) from None


_DECLARED_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']{0,40})"""
)


def _encoding_refused(exc: BaseException) -> bool:
    """Whether ``exc`` is pyexpat refusing the declared encoding (not an error of ours)."""
    if type(exc) is LookupError:  # codecs.lookup; KeyError and IndexError are bugs
        return str(exc).startswith("unknown encoding")
    return type(exc) is ValueError and "encodings are not supported" in str(exc)


def cvat_export_kind(path: str | PathLike[str]) -> str:
    """``"video"`` for a CVAT for video export (tracks), else ``"images"``.

    Reads only up to the first ``<image>`` or ``<track>`` (or the meta's ``mode``). A file
    that cannot be read counts as images; :func:`read_cvat` then reports the real problem.
    """
    parser = _hardened_parser()
    found: list[str] = []
    mode: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "track":
            found.append("video")
        elif tag == "image":
            found.append("images")
        elif tag == "mode":
            parser.CharacterDataHandler = mode.append
            return
        else:
            return
        raise _StopParse

    def end(tag: str) -> None:
        if tag == "mode":
            parser.CharacterDataHandler = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with open(path, "rb") as f:
            _run(parser, str(path), f)
    except (_StopParse, InputError, OSError):
        pass
    if found:
        return found[0]
    return "video" if "".join(mode).strip() == "interpolation" else "images"


def read_cvat(
    path: str | PathLike[str],
    *,
    interpolate: bool = True,
    ellipse_vertices: int = 32,
    occluded_attribute: str | None = None,
    on_bad_element: Literal["error", "drop"] = "error",
    report: Report | None = None,
) -> Annotations:
    """Read a CVAT 1.1 XML export (images or video, task, job or project) into pixels.

    ``interpolate`` fills the frames between a track's keyframes linearly (and after its last
    keyframe, up to the end of the task, unless it is ``outside``), as CVAT does;
    ``ellipse_vertices`` is the number of polygon vertices an ellipse becomes;
    ``occluded_attribute`` names the attribute that receives CVAT's ``occluded`` flag
    (``"true"``/``"false"``). Skipped tags, dropped frames and split masks go to ``report``.

    A bad element (an unknown label, a bad ``points`` string or coordinate, a missing
    attribute, a frame or rotation that is not a number, a bad mask) raises
    :class:`InputError` naming the element and its line; with ``on_bad_element="drop"`` that
    element is skipped (a shape, one frame of a track; a bad ``<image>`` or ``<track>`` with
    the shapes in it; a bad skeleton point with its skeleton), a ``dropped`` row goes to
    ``report`` and the rest of the file is read. A file that cannot be read as a whole
    (malformed XML, a DTD or entity, a bad ``<meta>``, an image path leaving the dataset
    root) raises in both modes.
    """
    if ellipse_vertices < 3:
        raise ValueError("an ellipse needs at least 3 vertices")
    if on_bad_element not in ("error", "drop"):
        raise ValueError(f"on_bad_element must be 'error' or 'drop', not {on_bad_element!r}")
    rep = report if report is not None else Report()
    reader = _Reader(str(path), rep, drop=on_bad_element == "drop")
    with open(path, "rb") as f:
        reader.parse(f)
    # a coordinate may be inf or NaN (CVAT writes none; prelabel.geometry drops and reports
    # such shapes): the arithmetic on it is not a warning
    with np.errstate(invalid="ignore", over="ignore"):
        return reader.build(
            interpolate=interpolate,
            ellipse_vertices=ellipse_vertices,
            occluded_attribute=occluded_attribute,
        )


# --- the streaming reader --------------------------------------------------------------------


class _Reader:
    """Turns the element stream into a raw shape table (lists), then into Annotations."""

    def __init__(self, path: str, report: Report, drop: bool = False) -> None:
        self.path = path
        self.report = report
        self.drop = drop  # skip and report bad elements instead of raising
        self.dropped: list[int] = []  # rows found bad after parsing (coordinates, rotation)
        self.parser = _hardened_parser()
        self.meta: _Meta | None = None
        self.meta_builder: TreeBuilder | None = None
        # label name -> index into self.label_names
        self.label_ids: dict[str, int] = {}
        self.label_names: list[str] = []
        self.strict_labels = False
        # images
        self.img_name: list[str] = []
        self.img_seq: list[str] = []
        self.img_id: list[int] = []  # CVAT's frame number (-1: none usable)
        self.img_w: list[float] = []
        self.img_h: list[float] = []
        self.task_by_key: dict[str | None, _Task] = {}
        # tracks: CVAT id, task key, track-level attributes
        self.trk_id: list[int] = []
        self.trk_task: list[str | None] = []
        self.trk_label: list[int] = []
        self.trk_attrs: dict[int, dict[str, str]] = {}
        # raw shapes, one entry per shape element (skeleton points are parts of a skeleton)
        self.kind: list[int] = []
        self.frame: list[int] = []  # image row, or the absolute video frame of a track shape
        self.label: list[int] = []
        self.track: list[int] = []  # row in the track lists, -1 for image shapes
        self.line: list[int] = []
        self.npairs: list[int] = []
        self.geo: list[str] = []  # "x,y;x,y" runs of the shapes with npairs > 0
        self.attrs: list[dict[str, str] | None] = []
        self.occluded: list[int] = []  # rows with occluded="1"
        self.outside: list[int] = []  # rows with outside="1"
        self.rot_rows: list[int] = []
        self.rot_text: list[str] = []
        self.masks: dict[int, tuple[str, str, str, str, str]] = {}
        self.skel_vis: dict[int, list[bool]] = {}
        self.dyn_points: dict[str, list[str]] = {}  # skeleton point order seen, without meta
        # parse state
        self.image_row = -1
        self.track_row = -1
        self.shape_row = -1  # the open shape (or skeleton) that owns <attribute> children
        self.in_shape = False
        self.skel: list[tuple[str, str, bool, bool, int]] | None = None
        self.in_element = False
        self.attr_name: str | None = None
        self.attr_text: list[str] = []
        self.attr_owner = "none"
        self.video_tasks: list[_Task] = []
        self._fast_start: Callable[[str, dict[str, str]], None] = self._start
        self._fast_end: Callable[[str], None] = self._end

    # -- errors ---------------------------------------------------------------------------
    def _where(self, tag: str, line: int | None = None) -> str:
        return f"<{tag}> line {self.parser.CurrentLineNumber if line is None else line}"

    def _missing(self, tag: str, name: str) -> _BadElement:
        return _BadElement(
            self.path, self._where(tag), f"missing attribute {name!r}", "missing_attribute"
        )

    # -- parsing --------------------------------------------------------------------------
    def parse(self, source: Any) -> None:
        p = self.parser
        self._fast_start, self._fast_end = self._fast_handlers()
        p.StartElementHandler = self._fast_start
        p.EndElementHandler = self._fast_end
        _run(p, self.path, source)

    def _fast_handlers(self) -> tuple[Callable[[str, dict[str, str]], None], Callable[[str], None]]:
        """Handlers for the common elements (box, polygon, polyline, points of an image or a
        track) with the lists bound to locals; anything else, or anything unusual (a missing
        attribute, an unknown label, a rotation), goes to the general methods, which also
        raise the errors."""
        fast = {"box": 0, "polygon": 1, "polyline": 2, "points": 3}
        kinds = self.kind
        kind_append = kinds.append
        frame_append = self.frame.append
        label_append = self.label.append
        track_append = self.track.append
        line_append = self.line.append
        npairs_append = self.npairs.append
        geo_append = self.geo.append
        attrs_append = self.attrs.append
        occluded_append = self.occluded.append
        outside_append = self.outside.append
        label_get = self.label_ids.get
        trk_label = self.trk_label
        parser = self.parser
        slow_start, slow_end = self._start, self._end

        def start(tag: str, a: dict[str, str]) -> None:
            code = fast.get(tag)
            if code is None or self.skel is not None or "rotation" in a:
                slow_start(tag, a)
                return
            trow = self.track_row
            if trow >= 0:
                text = a.get("frame")
                # str.isdigit() also accepts digits int() refuses (superscripts); up to 18
                # ASCII digits are always within range
                if text is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
                    slow_start(tag, a)
                    return
                frame = int(text)
                label = trk_label[trow]
            else:
                frame = self.image_row
                got = label_get(a.get("label"))  # type: ignore[arg-type]
                if frame < 0 or got is None:
                    slow_start(tag, a)
                    return
                label = got
            if code:
                run = a.get("points")
                if run is None:
                    slow_start(tag, a)
                    return
                n = run.count(";") + 1
            else:
                try:
                    run = f"{a['xtl']},{a['ytl']};{a['xbr']},{a['ybr']}"
                except KeyError:
                    slow_start(tag, a)
                    return
                n = 2
            row = len(kinds)
            if trow >= 0 and a.get("outside") == "1":
                outside_append(row)
            if a.get("occluded") == "1":
                occluded_append(row)
            geo_append(run)
            npairs_append(n)
            kind_append(code)
            frame_append(frame)
            label_append(label)
            track_append(trow)
            line_append(parser.CurrentLineNumber)
            attrs_append(None)
            self.shape_row = row
            self.in_shape = True
            self.attr_owner = "shape"

        def end(tag: str) -> None:
            if tag in fast and self.skel is None and self.in_shape:
                self.in_shape = False
                self.attr_owner = "track" if self.track_row >= 0 else "none"
            else:
                slow_end(tag)

        return start, end

    def _label(self, name: str, tag: str) -> int:
        idx = self.label_ids.get(name)
        if idx is None:
            if self.strict_labels:
                known = self.meta.all_labels if self.meta else set()
                why = "a skeleton point label" if name in known else "not in the meta's labels"
                raise _BadElement(
                    self.path,
                    self._where(tag),
                    f"unknown label {name!r} ({why})",
                    "unknown_label",
                )
            idx = self.label_ids[name] = len(self.label_names)
            self.label_names.append(name)
        return idx

    def _start(self, tag: str, a: dict[str, str]) -> None:
        # the general path only: the common elements never come here (see _fast_handlers),
        # and an element that raises has changed nothing yet, so it can be skipped
        try:
            code = _SHAPE_CODES.get(tag)
            if code is not None and (self.image_row >= 0 or self.track_row >= 0):
                if self.skel is not None:
                    self._skeleton_point(tag, a)
                else:
                    self._shape(tag, code, a)
            elif tag == "attribute":
                self._attribute_start(a)
            elif tag == "image":
                self._image(a)
            elif tag == "track":
                self._track(a)
            elif tag == "tag" and self.image_row >= 0:
                self.report.add(
                    Action.SKIPPED,
                    "tag",
                    source=self._where("tag"),
                    frame=self.img_name[self.image_row],
                    label=a.get("label"),
                    detail="a CVAT tag labels the whole frame: no geometry",
                )
                self.attr_owner = "none"
            elif tag == "meta":
                self._meta_start()
            elif code is not None:
                self.report.add(
                    Action.SKIPPED,
                    "shape outside an image or track",
                    source=self._where(tag),
                    label=a.get("label"),
                    detail=f"a <{tag}> belongs in an <image> or a <track>",
                )
            elif self.image_row >= 0 or self.track_row >= 0:
                self.report.add(
                    Action.SKIPPED,
                    "unsupported element",
                    source=self._where(tag),
                    detail=f"<{tag}> is not a CVAT 1.1 shape",
                )
        except _BadElement as e:
            if not self.drop:
                raise
            self._drop_started(tag, a, e)

    def _end(self, tag: str) -> None:
        if tag == "attribute":
            self._attribute_end()
        elif tag in _SHAPE_CODES:
            if self.in_element:
                self.in_element = False
                self.attr_owner = "shape"
            elif tag == "skeleton" and self.skel is not None:
                try:
                    self._skeleton_end()
                except _BadElement as e:
                    if not self.drop:
                        raise
                    self._drop_skeleton(e)
            elif self.in_shape:
                self.in_shape = False
                self.attr_owner = "track" if self.track_row >= 0 else "none"
        elif tag == "image":
            self.image_row = -1
        elif tag == "track":
            self.track_row = -1
            self.attr_owner = "none"

    # -- dropping bad elements (on_bad_element="drop") -----------------------------------
    def _context(self, a: dict[str, str]) -> tuple[str | None, str | None]:
        """(frame, label) of a shape element about to be dropped, for the report."""
        if self.track_row >= 0:
            return a.get("frame"), self.label_names[self.trk_label[self.track_row]]
        if self.image_row >= 0:
            return self.img_name[self.image_row], a.get("label")
        return None, a.get("label")

    def _drop_started(self, tag: str, a: dict[str, str], e: _BadElement) -> None:
        """Skip the element whose start raised ``e`` (with everything inside it) and report it.

        A bad point of a skeleton takes its skeleton with it (the skeleton's row is the last
        one: its points add none); a bad ``<image>`` or ``<track>`` its shapes.
        """
        frame, label = self._context(a)
        depth = 1
        what = f"the <{tag}>"
        if tag == "image":
            frame, label, what = a.get("name"), None, "the image and its shapes"
        elif tag == "track":
            frame, what = None, f"track {a.get('id')!r} and its shapes"
        elif tag == "attribute":
            what = "the attribute"
        elif self.skel is not None:  # a child of a skeleton
            depth = 2
            skel_row = self.shape_row
            frame, label = self._skeleton_context(skel_row)
            what = f"the <skeleton> at line {self.line[skel_row]}"
            self._pop_last_row(skel_row)

        def done(shapes: int) -> None:
            if tag == "attribute":
                return
            self.skel = None
            self.in_shape = self.in_element = False
            self.attr_owner = "track" if self.track_row >= 0 else "none"
            if tag in ("image", "track") and shapes:
                self.report.rows[row]["detail"] += f" ({shapes} shape element(s))"

        row = len(self.report.rows)
        self._report_drop(e, frame, label, what)
        self._skip(depth, done)

    def _drop_skeleton(self, e: _BadElement) -> None:
        """A skeleton found bad at its end: remove its row."""
        row = self.shape_row
        frame, label = self._skeleton_context(row)
        self._report_drop(e, frame, label, f"the <skeleton> at line {self.line[row]}")
        self._pop_last_row(row)
        self.skel = None
        self.in_shape = False
        self.attr_owner = "track" if self.track_row >= 0 else "none"

    def _skeleton_context(self, row: int) -> tuple[str | None, str | None]:
        label = self.label_names[self.label[row]]
        if self.track[row] >= 0:
            return str(self.frame[row]), label
        return self.img_name[self.frame[row]], label

    def _report_drop(self, e: _BadElement, frame: str | None, label: str | None, what: str) -> None:
        self.report.add(
            Action.DROPPED,
            e.reason,
            source=e.location,
            frame=frame,
            label=label,
            detail=f"{e.message}: {what} is left out",
        )

    def _pop_last_row(self, row: int) -> None:
        """Remove the shape row just added (a skeleton: its geometry is not in ``geo`` yet)."""
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

    def _skip(self, depth: int, done: Callable[[int], None]) -> None:
        """Ignore the next elements until ``depth`` open elements have closed, then call
        ``done`` with the number of shape elements skipped and restore the handlers."""
        p = self.parser
        state = [depth, 0]

        def start(tag: str, a: dict[str, str]) -> None:
            state[0] += 1
            if tag in _SHAPE_CODES:
                state[1] += 1

        def end(tag: str) -> None:
            state[0] -= 1
            if state[0] == 0:
                p.StartElementHandler = self._fast_start
                p.EndElementHandler = self._fast_end
                done(state[1])

        p.StartElementHandler = start
        p.EndElementHandler = end
        p.CharacterDataHandler = None

    def _drop_row(self, row: int, e: InputError, reason: str) -> None:
        """Leave out a shape row found bad after the parse (its coordinates or rotation)."""
        if self.track[row] >= 0:
            frame: str | None = str(self.frame[row])
        else:
            frame = self.img_name[self.frame[row]]
        self.report.add(
            Action.DROPPED,
            reason,
            source=e.location,
            frame=frame,
            label=self.label_names[self.label[row]],
            detail=f"{e.message}: the shape is left out",
        )
        self.dropped.append(row)

    def frame_text(self, track_row: int, frame_row: int) -> str:
        """A built shape's frame for the report: the image name, or CVAT's frame number."""
        if track_row < 0:
            return str(self.img_name[frame_row]) if frame_row < len(self.img_name) else ""
        key = self.trk_task[track_row]
        tasks = self.video_tasks
        task = next((t for t in tasks if t.key == key), tasks[0])
        return str(task.start + task.shift + (frame_row - task.base) * task.step)

    # -- elements -------------------------------------------------------------------------
    def _image(self, a: dict[str, str]) -> None:
        try:
            name = a["name"]
            w, h = float(a["width"]), float(a["height"])
        except KeyError as e:
            raise self._missing("image", e.args[0]) from None
        except ValueError:
            raise _BadElement(
                self.path, self._where("image"), "width/height is not a number", "bad_size"
            ) from None
        where = self._where("image")
        name = safe_relative(name, path=self.path, location=where)
        folder = name.rpartition("/")[0]
        seq = folder
        # a project export: each image names its task and subset, image names repeat across
        # subsets, and CVAT saves the images under images/<subset>/<name>
        subset, task = a.get("subset"), self.task_by_key.get(a.get("task_id"))
        if subset:
            name = safe_relative(f"{subset}/{name}", path=self.path, location=where)
        if task is not None or subset:
            group = task.name if task is not None else str(subset)
            seq = f"{group}/{folder}" if folder else group
        text = a.get("id", "")
        self.image_row = len(self.img_name)
        self.img_name.append(name)
        self.img_seq.append(seq)
        self.img_id.append(
            int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1
        )
        self.img_w.append(w)
        self.img_h.append(h)

    def _track(self, a: dict[str, str]) -> None:
        try:
            label = a["label"]
            tid = _bounded_int(a["id"], "track id")
        except KeyError as e:
            raise self._missing("track", e.args[0]) from None
        except ValueError as e:
            raise _BadElement(self.path, self._where("track"), str(e), "bad_track_id") from None
        label_idx = self._label(label, "track")
        self.track_row = len(self.trk_id)
        self.trk_id.append(tid)
        self.trk_task.append(a.get("task_id"))
        self.trk_label.append(label_idx)
        self.attr_owner = "track"

    def _shape(self, tag: str, code: int, a: dict[str, str]) -> None:
        # everything is read (and may raise) before the first list grows
        row = len(self.kind)
        run: str | None = None
        npairs = 2
        try:
            if self.track_row >= 0:
                frame = _bounded_int(a["frame"], "frame")
                label = self.trk_label[self.track_row]
            else:
                frame = self.image_row
                label = self._label(a["label"], tag)
            if code <= _POINTS and code != _BOX:
                run = a["points"]
                npairs = run.count(";") + 1
            elif code == _BOX:
                run = a["xtl"] + "," + a["ytl"] + ";" + a["xbr"] + "," + a["ybr"]
            elif code == _ELLIPSE:
                run = a["cx"] + "," + a["cy"] + ";" + a["rx"] + "," + a["ry"]
            elif code == _CUBOID:
                run = ";".join(a[x] + "," + a[y] for x, y in _CUBOID_KEYS)
                npairs = 8
            elif code == _MASK:
                mask = (a["rle"], a["left"], a["top"], a["width"], a["height"])
                npairs = 0
            else:  # skeleton: its points follow as children; npairs set when it closes
                npairs = 0
        except KeyError as e:
            raise self._missing(tag, e.args[0]) from None
        except ValueError as e:
            raise _BadElement(self.path, self._where(tag), str(e), "bad_frame") from None
        if run is not None:
            self.geo.append(run)
        elif code == _MASK:
            self.masks[row] = mask
        else:
            self.skel = []
        self.npairs.append(npairs)
        if self.track_row >= 0 and a.get("outside") == "1":
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
        self.track.append(self.track_row)
        self.line.append(self.parser.CurrentLineNumber)
        self.attrs.append(None)
        self.shape_row = row
        self.in_shape = True
        self.attr_owner = "shape"

    def _skeleton_point(self, tag: str, a: dict[str, str]) -> None:
        if tag != "points":
            raise _BadElement(
                self.path,
                self._where(tag),
                f"a skeleton holds <points>, not <{tag}>",
                "bad_skeleton",
            )
        assert self.skel is not None
        try:
            name = a["label"]
            run = a["points"]
        except KeyError as e:
            raise self._missing(tag, e.args[0]) from None
        if run.count(";") or run.count(",") != 1:
            raise _BadElement(
                self.path,
                self._where(tag),
                f"bad points string {run[:40]!r}: one x,y expected",
                "bad_points",
            )
        self.skel.append(
            (
                name,
                run,
                a.get("outside") == "1",
                a.get("occluded") == "1",
                self.parser.CurrentLineNumber,
            )
        )
        self.in_element = True
        self.attr_owner = "element"

    def _skeleton_end(self) -> None:
        assert self.skel is not None
        row = self.shape_row
        skel_label = self.label_names[self.label[row]]
        spec = self.meta.points_of.get(skel_label) if self.meta else None
        if spec is None:
            spec = self.dyn_points.setdefault(skel_label, [])
            for name, *_ in self.skel:
                if name not in spec:
                    spec.append(name)
        position = {name: i for i, name in enumerate(spec)}
        runs = ["nan,nan"] * len(spec)
        vis = [False] * len(spec)
        occluded = False
        for name, run, outside, occl, line in self.skel:
            i = position.get(name)
            if i is None:
                raise _BadElement(
                    self.path,
                    self._where("points", line),
                    f"label {name!r} is not a point of skeleton {skel_label!r}",
                    "unknown_label",
                )
            runs[i] = run
            vis[i] = not outside
            occluded = occluded or (occl and not outside)
        if occluded and (not self.occluded or self.occluded[-1] != row):
            self.occluded.append(row)
        if self.track_row >= 0 and not any(vis) and (not self.outside or self.outside[-1] != row):
            self.outside.append(row)  # in a track, a skeleton with no point shown is outside
        if spec:
            self.geo.append(";".join(runs))
        self.npairs[row] = len(spec)
        self.skel_vis[row] = vis
        self.skel = None
        self.in_shape = False
        self.attr_owner = "track" if self.track_row >= 0 else "none"

    def _attribute_start(self, a: dict[str, str]) -> None:
        name = a.get("name")
        if name is None:
            raise self._missing("attribute", "name")
        self.attr_name = name
        self.attr_text = []
        self.parser.CharacterDataHandler = self.attr_text.append

    def _attribute_end(self) -> None:
        self.parser.CharacterDataHandler = None
        name, value = self.attr_name, "".join(self.attr_text)
        if name is None:
            return
        self.attr_name = None
        if self.attr_owner == "shape":
            d = self.attrs[self.shape_row]
            if d is None:
                d = self.attrs[self.shape_row] = {}
            d[name] = value
        elif self.attr_owner == "track":
            self.trk_attrs.setdefault(self.track_row, {})[name] = value
        # attributes of tags and of single skeleton points have no place in the payload

    # -- meta: a small tree, built by ElementTree's C TreeBuilder -------------------------
    def _meta_start(self) -> None:
        tb = self.meta_builder = TreeBuilder()
        tb.start("meta", {})
        p = self.parser
        p.StartElementHandler = tb.start
        p.CharacterDataHandler = tb.data
        p.EndElementHandler = self._meta_end

    def _meta_end(self, tag: str) -> None:
        assert self.meta_builder is not None
        self.meta_builder.end(tag)
        if tag != "meta":
            return
        p = self.parser
        p.StartElementHandler = self._fast_start
        p.EndElementHandler = self._fast_end
        p.CharacterDataHandler = None
        root = self.meta_builder.close()
        self.meta_builder = None
        self.meta = _parse_meta(root, self.path, p.CurrentLineNumber)
        self.task_by_key = {t.key: t for t in self.meta.tasks if t.key is not None}
        for name in self.meta.labels:
            self._label(name, "meta")
        self.strict_labels = bool(self.meta.all_labels)

    # -- building -------------------------------------------------------------------------
    def build(
        self, *, interpolate: bool, ellipse_vertices: int, occluded_attribute: str | None
    ) -> Annotations:
        raw = _RawShapes.from_reader(self)
        if self.dropped:
            keep = np.ones(len(raw), dtype=bool)
            keep[self.dropped] = False
            raw = raw.take(keep)
        frames, frame_row, keep = self._frames(raw)
        if not keep.all():
            raw = raw.take(keep)
            frame_row = frame_row[keep]
        raw.frame = frame_row
        if len(self.trk_id):
            raw = _track_pass(raw, self, interpolate)
        return _to_annotations(
            raw,
            frames,
            self,
            ellipse_vertices=ellipse_vertices,
            occluded_attribute=occluded_attribute,
        )

    def _frames(
        self, raw: _RawShapes
    ) -> tuple[Frames, npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The frames table; each raw shape's frame row; which shapes lie in the task."""
        parts: list[Frames] = []
        n_img = len(self.img_name)
        if n_img:
            parts.append(
                Frames.build(
                    self.img_w,
                    self.img_h,
                    name=self.img_name,
                    sequence=self.img_seq,
                    index=_image_index(self.img_seq, self.img_id),
                )
            )
        frame_row = raw.frame.copy()
        keep = np.ones(len(raw), dtype=bool)
        tasks = self.video_tasks = self._video_tasks(raw)
        self._note_meta_disagreements()
        base = n_img
        for task in tasks:
            task.base = base
            base += task.n_frames
            parts.append(
                Frames.build(
                    task.width or 0.0,
                    task.height or 0.0,
                    name=[""] * task.n_frames,
                    sequence=task.name,
                    index=np.arange(task.n_frames),
                )
            )
        is_track = raw.track >= 0
        if is_track.any():
            task_of_track = self._task_of_tracks()
            sel = raw.track[is_track]

            def column(values: list[int]) -> npt.NDArray[np.int64]:
                return np.array(values, dtype=np.int64)[sel]

            start = column([t.start + t.shift for t in task_of_track])
            step = column([t.step for t in task_of_track])
            n = column([t.n_frames for t in task_of_track])
            tbase = column([t.base for t in task_of_track])
            absf = raw.frame[is_track]
            rel = absf - start
            k = rel // step
            off_grid = rel % step != 0
            out_of_task = (k < 0) | (k >= n)
            bad = off_grid | out_of_task
            rows = np.flatnonzero(is_track)
            for r, og in zip(rows[bad].tolist(), off_grid[bad].tolist()):
                self.report.add(
                    Action.SKIPPED,
                    "frame not in the task",
                    source=f"<{_SHAPE_TAGS[raw.kind[r]]}> line {raw.line[r]}",
                    label=self.label_names[raw.label[r]],
                    detail=f"frame {raw.frame[r]} is "
                    + ("not on the frame_filter step" if og else "outside start_frame..stop_frame"),
                )
            keep[rows[bad]] = False
            frame_row[rows] = tbase + np.clip(k, 0, None)
        frames = (
            Frames.concat(parts) if len(parts) > 1 else parts[0] if parts else Frames.build([], [])
        )
        return frames, frame_row, keep

    def _task_of_tracks(self) -> list[_Task]:
        """The video task of each track: by its ``task_id``, else the first task."""
        tasks = self.video_tasks
        by_key = {t.key: t for t in tasks}
        return [by_key.get(k, tasks[0]) for k in self.trk_task]

    def _video_tasks(self, raw: _RawShapes) -> list[_Task]:
        meta_tasks = self.meta.tasks if self.meta else []
        has_tracks = bool(self.trk_id)
        mode = self.meta.mode if self.meta else None
        if not has_tracks and not (mode == "interpolation" and not self.img_name):
            return []
        if has_tracks:
            wanted = set(self.trk_task)
            tasks = [t for t in meta_tasks if t.key in wanted] or meta_tasks[:1]
            if not tasks:
                tasks = [_Task(key=None, name="video")]
        else:
            tasks = [t for t in meta_tasks if t.width is not None]
        self.video_tasks = tasks
        for t in tasks:
            if t.width is None or t.height is None:
                raise InputError(
                    self.path,
                    "<meta>",
                    f"task {t.name!r}: no <original_size> width/height, so the video frame size "
                    "is unknown",
                )
        # the absolute frames of each task's tracks
        is_track = raw.track >= 0
        owner = np.full(len(self.trk_id), -1, dtype=np.int64)
        index = {id(t): i for i, t in enumerate(tasks)}
        if has_tracks:
            owner[:] = [index[id(t)] for t in self._task_of_tracks()]
        track_task = owner[raw.track[is_track]] if has_tracks else np.zeros(0, np.int64)
        frames = raw.frame[is_track]
        for i, t in enumerate(tasks):
            self._task_frames(t, frames[track_task == i])
        return tasks

    def _task_frames(self, t: _Task, used: npt.NDArray[np.int64]) -> None:
        """``t.shift`` and ``t.n_frames`` from the meta and the frames ``used`` by its tracks.

        The frames are ``start_frame + shift + k * step``: ``shift`` is CVAT's project offset
        (see :func:`_task_offsets`) unless the tracks' frames only fit without it. The count
        is the meta's; where ``size`` and ``start_frame .. stop_frame`` disagree (datumaro
        writes ``stop_frame = size``, which CVAT reads as the last frame), the smaller one that
        holds every frame the tracks use, else the larger; with neither, up to the last frame
        a track uses.
        """
        by_stop, by_size = t.stop_count(), t.size
        declared = [c for c in (by_stop, by_size) if c is not None]

        def count_needed(shift: int) -> int | None:
            """Task frames the tracks need with ``shift``, or None if a frame is off the grid
            or before the start."""
            if not used.size:
                return 0
            rel = used - (t.start + shift)
            if (rel < 0).any() or (rel % t.step).any():
                return None
            return int(rel.max()) // t.step + 1

        needed = count_needed(t.offset)
        t.shift = t.offset
        if t.offset and (needed is None or (declared and needed > max(declared))):
            plain = count_needed(0)
            if plain is not None and not (declared and plain > max(declared)):
                needed, t.shift = plain, 0
                self.report.add(
                    Action.NOTED,
                    "track frames not offset",
                    source=f"<meta> task {t.name!r}",
                    detail=f"a CVAT project export shifts this task's frames by {t.offset} "
                    "(the frames of the tasks before it in its subset); these tracks' frames "
                    "fit the task only without that shift, so they are read as they are",
                )
        if by_stop is not None and by_size is not None and by_stop != by_size:
            fitting = [c for c in sorted(declared) if needed is not None and needed <= c]
            t.n_frames = fitting[0] if fitting else max(declared)
        elif declared:
            t.n_frames = declared[0]
        else:  # no range in the meta: up to the last frame any of its tracks uses
            last = int(used.max()) if used.size else t.start + t.shift
            t.n_frames = max((last - t.start - t.shift) // t.step + 1, 0)
        if t.n_frames > MAX_TASK_FRAMES:
            raise InputError(
                self.path,
                "<meta>",
                f"task {t.name!r} would have {t.n_frames:,} frames, more than the "
                f"{MAX_TASK_FRAMES:,} one sequence may have (start_frame {t.start}, stop_frame "
                f"{t.stop}, size {t.size}, or the largest track frame)",
            )

    def _note_meta_disagreements(self) -> None:
        """A report row for every task whose ``size`` and ``start_frame .. stop_frame``
        disagree, saying which frames were used."""
        used = {id(t) for t in self.video_tasks}
        for t in self.meta.tasks if self.meta else []:
            by_stop = t.stop_count()
            if by_stop is None or t.size is None or by_stop == t.size:
                continue
            if id(t) in used:
                what = f"the task has the {t.n_frames} frames its tracks fit in"
            else:
                what = "the frames are the file's <image> elements"
            self.report.add(
                Action.NOTED,
                "task meta disagrees",
                source=f"<meta> task {t.name!r}",
                detail=f"size {t.size}, but start_frame {t.start} .. stop_frame {t.stop} "
                f"(step {t.step}) is {by_stop} frames; {what} (datumaro writes "
                "stop_frame = size, CVAT reads stop_frame as the last frame)",
            )


def _image_index(sequences: list[str], ids: list[int]) -> npt.NDArray[np.int64]:
    """Each image's position in its sequence: by its ``id`` (CVAT's frame number) when every
    image of the sequence has one, else in file order; ties keep file order."""
    n = len(sequences)
    if not n:
        return np.zeros(0, dtype=np.int64)
    _, code = np.unique(np.asarray(sequences, dtype=object), return_inverse=True)
    code = code.astype(np.int64)
    frame = np.asarray(ids, dtype=np.int64)  # -1: no usable id
    pos = np.arange(n, dtype=np.int64)
    missing = np.bincount(code, weights=frame < 0) > 0
    key = np.where(missing[code], pos, frame)
    order = np.lexsort((pos, key, code))
    sorted_code = code[order]
    first = np.r_[True, sorted_code[1:] != sorted_code[:-1]]
    starts = np.flatnonzero(first)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = pos - np.repeat(starts, np.diff(np.r_[starts, n]))
    return rank


def _parse_meta(root: Element, path: str, line: int) -> _Meta:
    where = f"<meta> line {line}"

    def number(el: Element, tag: str) -> int | None:
        text = el.findtext(tag)
        if text is None or not text.strip():
            return None
        try:
            value = _bounded_int(text.strip(), f"<{tag}>")
        except ValueError as e:
            what = f"{e}: {text.strip()[:40]!r}" if "not an integer" in str(e) else str(e)
            raise InputError(path, where, what) from None
        if value < 0:
            raise InputError(path, where, f"<{tag}> must be >= 0, not {value}")
        return value

    def size(el: Element, tag: str) -> float | None:
        text = el.findtext(tag)
        if text is None or not text.strip():
            return None
        try:
            return float(text.strip())
        except ValueError:
            raise InputError(path, where, f"<{tag}> is not a number: {text[:40]!r}") from None

    project_tasks = root.findall("project/tasks/task")
    containers = [el for el in (root.find("task"), root.find("job")) if el is not None]
    tasks = []
    mode = None
    for el in containers + project_tasks:
        key = (el.findtext("id") or "").strip() or None  # datumaro writes an empty <id>
        name = (el.findtext("name") or "").strip() or "video"
        mode = mode or (el.findtext("mode") or "").strip() or None
        step = 1
        ff = (el.findtext("frame_filter") or "").strip()
        if ff:
            if not ff.startswith("step="):
                raise InputError(path, where, f"unsupported frame_filter {ff!r}")
            try:
                step = _bounded_int(ff[5:], "frame_filter step")
            except ValueError:
                raise InputError(path, where, f"unsupported frame_filter {ff!r}") from None
            if step < 1:
                raise InputError(path, where, f"frame_filter step must be >= 1, not {step}")
        size_el = el.find("original_size")
        subset = (el.findtext("subset") or "").strip() or None
        tasks.append(
            _Task(
                key=key,
                name=name,
                start=number(el, "start_frame") or 0,
                stop=number(el, "stop_frame"),
                step=step,
                size=number(el, "size"),
                width=size(size_el, "width") if size_el is not None else None,
                height=size(size_el, "height") if size_el is not None else None,
                subset=subset,
            )
        )
    _task_offsets(tasks[len(containers) :], path, where)
    seen: set[str] = set()
    for i, t in enumerate(tasks):  # one sequence per task: repeated names get the task id
        if t.name in seen:
            t.name = f"{t.name} ({t.key or i + 1})"
        seen.add(t.name)
    labels: list[str] = []
    all_labels: set[str] = set()
    points_of: dict[str, list[str]] = {}
    for lab in root.iter("label"):
        label = lab.findtext("name")
        if label is None or label in all_labels:
            continue
        all_labels.add(label)
        parent = lab.findtext("parent")
        if parent:
            points_of.setdefault(parent, []).append(label)
        else:
            labels.append(label)
    return _Meta(tasks=tasks, labels=labels, all_labels=all_labels, points_of=points_of, mode=mode)


def _task_offsets(tasks: list[_Task], path: str, where: str) -> None:
    """CVAT's frame offset of each task of a project export, in meta order.

    CVAT's project export (``ProjectData``) lists the tasks by subset, then id, and writes
    each task's frames shifted by the sum of ``start_frame + step * size`` of the tasks before
    it in the same subset, so that frame numbers do not repeat inside a subset: a track frame
    is ``start_frame + k * step + offset`` for task frame k. An ``<image id>`` carries the
    same number.
    """
    total = 0
    subset: object = object()
    for t in tasks:
        if t.subset != subset:
            subset, total = t.subset, 0
        t.offset = total
        if t.start + total > _MAX_INT:
            raise InputError(
                path, where, f"task {t.name!r}: its frame numbers would be beyond 2**62"
            )
        total += t.start + t.step * (t.size if t.size is not None else (t.stop_count() or 0))


# --- the raw shape table -----------------------------------------------------------------------


@dataclass
class _RawShapes:
    """CVAT shapes as parsed, before geometry conversion: values are CVAT's own parameters."""

    kind: npt.NDArray[np.int64]
    frame: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    track: npt.NDArray[np.int64]
    line: npt.NDArray[np.int64]
    outside: npt.NDArray[np.bool_]
    occluded: npt.NDArray[np.bool_]
    rotation: npt.NDArray[np.float64]  # degrees, clockwise on screen
    offsets: npt.NDArray[np.int64]  # into pairs, per shape
    pairs: npt.NDArray[np.float64]  # (P, 2)
    vis: npt.NDArray[np.bool_]  # (P,) skeleton point visibility (True elsewhere)
    attrs: list[dict[str, str] | None]
    origin: npt.NDArray[np.int64]  # the parsed shape a row comes from (itself unless filled)
    filled: npt.NDArray[np.bool_]  # made by interpolation

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)

    @classmethod
    def from_reader(cls, r: _Reader) -> _RawShapes:
        n = len(r.kind)
        npairs = np.asarray(r.npairs, dtype=np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(npairs, out=offsets[1:])
        pairs = _parse_runs(r, npairs, offsets)
        vis = np.ones(len(pairs), dtype=bool)
        for row, v in r.skel_vis.items():
            vis[offsets[row] : offsets[row + 1]] = v
        rotation = np.zeros(n)
        if r.rot_rows:
            try:
                rotation[r.rot_rows] = np.array(r.rot_text, dtype=np.float64)
            except ValueError:
                already = set(r.dropped)  # left out for their coordinates
                for row, text in zip(r.rot_rows, r.rot_text):
                    if row in already:
                        continue
                    if _is_float(text):
                        rotation[row] = float(text)
                        continue
                    err = InputError(
                        r.path,
                        f"<{_SHAPE_TAGS[r.kind[row]]}> line {r.line[row]}",
                        f"rotation is not a number: {text[:40]!r}",
                    )
                    if not r.drop:
                        raise err from None
                    r._drop_row(row, err, "bad_rotation")
        outside = np.zeros(n, dtype=bool)
        outside[r.outside] = True
        occluded = np.zeros(n, dtype=bool)
        occluded[r.occluded] = True
        return cls(
            kind=np.asarray(r.kind, dtype=np.int64),
            frame=np.asarray(r.frame, dtype=np.int64),
            label=np.asarray(r.label, dtype=np.int64),
            track=np.asarray(r.track, dtype=np.int64),
            line=np.asarray(r.line, dtype=np.int64),
            outside=outside,
            occluded=occluded,
            rotation=rotation,
            offsets=offsets,
            pairs=pairs,
            vis=vis,
            attrs=r.attrs,
            origin=np.arange(n, dtype=np.int64),
            filled=np.zeros(n, dtype=bool),
        )

    def take(self, rows: npt.ArrayLike) -> _RawShapes:
        sel = np.asarray(rows)
        if sel.dtype == bool:
            sel = np.flatnonzero(sel)
        counts = self.counts[sel]
        offsets = np.zeros(len(sel) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        pidx = _ranges(self.offsets[:-1][sel], counts)
        return _RawShapes(
            kind=self.kind[sel],
            frame=self.frame[sel],
            label=self.label[sel],
            track=self.track[sel],
            line=self.line[sel],
            outside=self.outside[sel],
            occluded=self.occluded[sel],
            rotation=self.rotation[sel],
            offsets=offsets,
            pairs=self.pairs[pidx],
            vis=self.vis[pidx],
            attrs=[self.attrs[i] for i in sel.tolist()],
            origin=self.origin[sel],
            filled=self.filled[sel],
        )


def _ranges(starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Concatenated ``arange(s, s + c)`` for every (start, count), without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    shift = np.repeat(starts - (ends - counts), counts)
    return np.arange(total, dtype=np.int64) + shift


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# byte classes for the fast number parser: 0 separator, 1 digit, 2 '.', 3 '-', 9 other
_BYTE_CLASS = np.full(256, 9, dtype=np.uint8)
_BYTE_CLASS[48:58] = 1
_BYTE_CLASS[[44, 59]] = 0
_BYTE_CLASS[46] = 2
_BYTE_CLASS[45] = 3
_POW10 = 10.0 ** np.arange(23)


def _plain_decimals(
    data: npt.NDArray[np.uint8], seps: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64] | None:
    """``[-]digits[.digits]`` tokens between the separators at ``seps`` -> float64.

    Vectorised over tokens, one column of characters at a time (Horner's rule on the
    mantissa); the mantissa (at most 15 digits) and the power of ten are exact in float64, so
    their quotient is the correctly rounded value, the same as ``float(token)``. Returns
    None for anything else (exponents, spaces, ``+``, long tokens); the caller then falls back
    to numpy's text parser.
    """
    if (_BYTE_CLASS[data] == 9).any():
        return None
    starts = np.empty(len(seps) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = seps + 1
    lens = np.empty_like(starts)
    lens[:-1] = seps
    lens[-1] = len(data)
    lens -= starts
    width = int(lens.max())
    if width > 16 or lens.min() < 1:
        return None
    padded = np.full(len(data) + width + 1, 44, dtype=np.uint8)
    padded[: len(data)] = data
    n = len(starts)
    mant = np.zeros(n)
    frac = np.zeros(n, dtype=np.int64)
    ndig = np.zeros(n, dtype=np.int64)
    dots = np.zeros(n, dtype=np.int64)
    seen_dot = np.zeros(n, dtype=bool)
    negative = padded[starts] == 45
    for j in range(width):
        c = padded[starts + j]
        valid = j < lens
        digit = c - np.uint8(48)
        is_digit = (digit < 10) & valid
        mant = np.where(is_digit, mant * 10.0 + digit, mant)
        ndig += is_digit
        frac += is_digit & seen_dot
        dot = (c == 46) & valid
        dots += dot
        seen_dot |= dot
        if j and ((c == 45) & valid).any():
            return None
    if ndig.min() == 0 or ndig.max() > 15 or dots.max() > 1:
        return None
    values = mant / _POW10[frac]
    values[negative] = -values[negative]
    return values


def _parse_runs(
    r: _Reader, npairs: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """All ``x,y;x,y`` runs at once: one join, one syntax check, one numeric conversion.

    The separators must alternate ``,`` ``;`` ``,`` ... so that every pair has two numbers
    and every shape's pairs are where its offsets say; if they do not, or a number does not
    convert, :func:`_parse_runs_one_by_one` finds (and names, or drops) the bad runs.
    """
    total = int(offsets[-1])
    if not r.geo:
        return np.zeros((0, 2))
    text = ";".join(r.geo)
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    seps = np.flatnonzero((data == 44) | (data == 59))
    kinds = data[seps]
    if len(seps) != 2 * total - 1 or (kinds[0::2] != 44).any() or (kinds[1::2] != 59).any():
        return _parse_runs_one_by_one(r, total)
    values = _plain_decimals(data, seps)
    if values is None:
        try:
            values = np.fromstring(text.replace(";", ","), dtype=np.float64, sep=",")
        except ValueError:
            values = None
    if values is None or len(values) != 2 * total:
        return _parse_runs_one_by_one(r, total)
    return values.reshape(-1, 2)


def _run_values(run: str, npairs: int) -> list[float] | None:
    """The numbers of one ``x,y;x,y`` run of ``npairs`` pairs, or None if it is not one."""
    pairs = run.split(";")
    if len(pairs) != npairs or "_" in run:
        return None
    out: list[float] = []
    try:
        for pair in pairs:
            x, y = pair.split(",")
            out.append(float(x))
            out.append(float(y))
    except ValueError:
        return None
    return out


def _parse_runs_one_by_one(r: _Reader, total: int) -> npt.NDArray[np.float64]:
    """The error path of :func:`_parse_runs`: each run on its own. A bad run raises (the
    first one), or under ``drop`` is reported, filled with NaN and its row left out."""
    values: list[float] = []
    rows = [i for i, n in enumerate(r.npairs) if n > 0]
    for row, run in zip(rows, r.geo):
        n = r.npairs[row]
        got = _run_values(run, n)
        if got is None:
            tag = _SHAPE_TAGS[r.kind[row]]
            pair_run = tag in _PAIR_RUNS or tag == "skeleton"
            what = "points string" if pair_run else "coordinate"
            err = InputError(r.path, f"<{tag}> line {r.line[row]}", f"bad {what} {run[:60]!r}")
            if not r.drop:
                raise err
            r._drop_row(row, err, "bad_points" if pair_run else "bad_coordinate")
            got = [math.nan] * (2 * n)
        values.extend(got)
    if len(values) != 2 * total:  # pragma: no cover - npairs and geo always agree
        raise InputError(r.path, None, "bad coordinates")
    return np.array(values, dtype=np.float64).reshape(-1, 2)


# --- tracks: task frames, interpolation, outside -----------------------------------------------


def _track_pass(raw: _RawShapes, r: _Reader, interpolate: bool) -> _RawShapes:
    """Sort track shapes, inherit attributes, fill keyframe gaps, drop ``outside`` frames."""
    is_track = raw.track >= 0
    order = np.lexsort((raw.frame, raw.track, is_track))  # image shapes first, then tracks
    raw = raw.take(order)
    is_track = raw.track >= 0
    t_rows = np.flatnonzero(is_track)
    tr, fr = raw.track[t_rows], raw.frame[t_rows]
    dup = np.zeros(len(t_rows), dtype=bool)
    dup[1:] = (tr[1:] == tr[:-1]) & (fr[1:] == fr[:-1])
    if dup.any():
        for row in t_rows[dup].tolist():
            r.report.add(
                Action.DROPPED,
                "duplicate frame in track",
                source=f"<{_SHAPE_TAGS[raw.kind[row]]}> line {raw.line[row]}",
                label=r.label_names[raw.label[row]],
                detail=f"track {r.trk_id[raw.track[row]]} already has this frame",
            )
        keep = np.ones(len(raw), dtype=bool)
        keep[t_rows[dup]] = False
        raw = raw.take(keep)
        is_track = raw.track >= 0
        t_rows = np.flatnonzero(is_track)
    _inherit_attributes(raw, t_rows, r.trk_attrs)

    if interpolate and len(t_rows):
        raw = _fill_gaps(raw, t_rows, r)
        is_track = raw.track >= 0
        order = np.lexsort((raw.frame, raw.track, is_track))
        return raw.take(order[~raw.outside[order]])
    return raw.take(~raw.outside)


def _inherit_attributes(
    raw: _RawShapes, t_rows: npt.NDArray[np.int64], trk_attrs: dict[int, dict[str, str]]
) -> None:
    """A track shape keeps the attributes of the shape before it that it does not restate.

    CVAT does this when it loads a track (immutable attributes are often written only on
    the first keyframe); attributes written on the ``<track>`` itself apply to every shape.
    """
    attrs = raw.attrs
    prev_track = -1
    prev: dict[str, str] | None = None
    for row, t in zip(t_rows.tolist(), raw.track[t_rows].tolist()):
        cur = attrs[row]
        if t != prev_track:
            prev_track = t
            base = trk_attrs.get(t)
            if base:
                cur = {**base, **cur} if cur else dict(base)
        elif prev and (cur is None or not prev.keys() <= cur.keys()):
            cur = {**prev, **cur} if cur else prev
        attrs[row] = cur
        prev = cur


def _fill_gaps(raw: _RawShapes, t_rows: npt.NDArray[np.int64], r: _Reader) -> _RawShapes:
    """Shapes for the task frames between keyframes (and after the last one), as CVAT does.

    Between a visible keyframe and the next shape of its track every frame gets the linear
    mix ``v0 + (v1 - v0) * t`` of CVAT's parameters (box corners, cuboid corners, ellipse
    centre and radii, polygon/polyline/points vertices, skeleton points; the rotation along
    the shorter arc); shapes of different type or point count are held (copied) instead. After
    a track's last shape, if it is not ``outside``, it is held to the end of the task. An
    ``outside`` shape starts a gap: nothing is made until the track reappears.
    """
    tr = raw.track[t_rows]
    fr = raw.frame[t_rows]
    last = np.ones(len(t_rows), dtype=bool)
    last[:-1] = tr[1:] != tr[:-1]
    src = t_rows
    dst = np.where(last, t_rows, np.roll(t_rows, -1))  # the next shape of the track
    f0 = fr
    # frame rows are task-consecutive, so the end of the task is base + n_frames
    end_row = _task_end_rows(raw, t_rows, r)
    f1 = np.where(last, end_row, np.roll(fr, -1))
    gap = f1 - f0 - 1
    gap[raw.outside[src]] = 0
    gap = np.maximum(gap, 0)
    if not gap.any():
        return raw
    # the work is known before anything is allocated: one copy of each shape per filled frame
    filled_points = float(np.dot(gap.astype(np.float64), raw.counts[src]))
    if filled_points > MAX_FILLED_POINTS:
        worst = int(np.argmax(gap * raw.counts[src]))
        raise InputError(
            r.path,
            f"<{_SHAPE_TAGS[raw.kind[src[worst]]]}> line {raw.line[src[worst]]}",
            f"filling the frames between keyframes would make {filled_points:,.0f} points, "
            f"more than {MAX_FILLED_POINTS:,} (this shape alone is held for {gap[worst]:,} "
            "frames); give --no-interpolate to keep only the frames the tracks list",
        )
    kinds_match = (raw.kind[src] == raw.kind[dst]) & (raw.counts[src] == raw.counts[dst])
    lerp = kinds_match & ~last
    held = ~kinds_match & ~last & (gap > 0)
    for row in src[held].tolist():
        r.report.add(
            Action.NOTED,
            "held, not interpolated",
            source=f"<{_SHAPE_TAGS[raw.kind[row]]}> line {raw.line[row]}",
            label=r.label_names[raw.label[row]],
            detail="the next keyframe has another type or point count",
        )
    pair = np.repeat(np.arange(len(src)), gap)
    step_in = np.arange(len(pair)) - np.repeat(np.cumsum(gap) - gap, gap) + 1  # 1..gap
    span = (f1 - f0)[pair]
    t = np.where(lerp[pair], step_in / np.maximum(span, 1), 0.0)
    s0, s1 = src[pair], dst[pair]
    counts = raw.counts[s0]
    i0 = _ranges(raw.offsets[:-1][s0], counts)
    i1 = _ranges(raw.offsets[:-1][s1], counts)
    tp = np.repeat(t, counts)[:, None]
    p0, p1 = raw.pairs[i0], raw.pairs[i1]
    p1 = np.where(np.isnan(p1), p0, p1)  # a skeleton point missing later: hold it
    pairs = p0 + (p1 - p0) * tp
    r0, r1 = raw.rotation[s0], raw.rotation[s1]
    diff = (r1 - r0 + 180.0) % 360.0 - 180.0
    rotation = (r0 + diff * t + 360.0) % 360.0
    n_new = len(pair)
    offsets = np.zeros(n_new + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    new = _RawShapes(
        kind=raw.kind[s0],
        frame=raw.frame[s0] + step_in,
        label=raw.label[s0],
        track=raw.track[s0],
        line=raw.line[s0],
        outside=np.zeros(n_new, dtype=bool),
        occluded=raw.occluded[s0],
        rotation=rotation,
        offsets=offsets,
        pairs=pairs,
        vis=raw.vis[i0],
        attrs=[raw.attrs[i] for i in s0.tolist()],
        origin=raw.origin[s0],
        filled=np.ones(n_new, dtype=bool),
    )
    return _concat_raw([raw, new])


def _task_end_rows(
    raw: _RawShapes, t_rows: npt.NDArray[np.int64], r: _Reader
) -> npt.NDArray[np.int64]:
    """For each track shape, the frame row just past the end of its task."""
    tasks = r.video_tasks
    ends = {t.key: t.base + t.n_frames for t in tasks}
    default = tasks[0].base + tasks[0].n_frames
    per_track = np.array([ends.get(k, default) for k in r.trk_task], dtype=np.int64)
    return per_track[raw.track[t_rows]]


def _concat_raw(parts: list[_RawShapes]) -> _RawShapes:
    counts = np.concatenate([p.counts for p in parts])
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    attrs: list[dict[str, str] | None] = []
    for p in parts:
        attrs.extend(p.attrs)

    def cat(name: str) -> Any:
        return np.concatenate([getattr(p, name) for p in parts])

    return _RawShapes(
        kind=cat("kind"),
        frame=cat("frame"),
        label=cat("label"),
        track=cat("track"),
        line=cat("line"),
        outside=cat("outside"),
        occluded=cat("occluded"),
        rotation=cat("rotation"),
        offsets=offsets,
        pairs=np.concatenate([p.pairs for p in parts]).reshape(-1, 2),
        vis=cat("vis"),
        attrs=attrs,
        origin=cat("origin"),
        filled=cat("filled"),
    )


# --- CVAT geometry -> platform geometry --------------------------------------------------------


def _rotate(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    cx: npt.NDArray[np.float64],
    cy: npt.NDArray[np.float64],
    deg: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rotate (x, y) about (cx, cy) by ``deg`` degrees, clockwise on screen (y points down)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    dx, dy = x - cx, y - cy
    return cx + c * dx - s * dy, cy + s * dx + c * dy


def box_corners(
    values: npt.ArrayLike, rotation: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """(N, 4, 2) corners TL, TR, BR, BL of ``xtl, ytl, xbr, ybr`` boxes, rotated about their centre."""
    v = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    x0, y0, x1, y1 = v[:, 0:1], v[:, 1:2], v[:, 2:3], v[:, 3:4]
    xs = np.concatenate([x0, x1, x1, x0], axis=1)
    ys = np.concatenate([y0, y0, y1, y1], axis=1)
    if rotation is not None:
        rot = np.asarray(rotation, dtype=np.float64).reshape(-1, 1)
        xs, ys = _rotate(xs, ys, (x0 + x1) / 2, (y0 + y1) / 2, rot)
    return np.stack([xs, ys], axis=2)


def ellipse_polygon(
    values: npt.ArrayLike, rotation: npt.ArrayLike, vertices: int
) -> npt.NDArray[np.float64]:
    """(N, vertices, 2) polygons approximating ``cx, cy, rx, ry`` ellipses (rotation in degrees).

    Vertex k is at parameter angle 2*pi*k/vertices, starting at (cx + rx, cy) before rotation.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    t = 2.0 * np.pi * np.arange(vertices) / vertices
    cx, cy, rx, ry = v[:, 0:1], v[:, 1:2], v[:, 2:3], v[:, 3:4]
    xs = cx + rx * np.cos(t)
    ys = cy + ry * np.sin(t)
    rot = np.asarray(rotation, dtype=np.float64).reshape(-1, 1)
    xs, ys = _rotate(xs, ys, cx, cy, rot)
    return np.stack([xs, ys], axis=2)


def cvat_rle_to_mask(rle: str, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Decode CVAT's mask RLE: run lengths alternating background/foreground, starting with
    background, over the ``height x width`` box in row-major order (CVAT's ``rle2Mask``)."""
    tokens = [c for c in rle.replace(" ", "").split(",") if c]
    digits = "".join(tokens)
    if not (digits.isascii() and digits.isdigit()) and tokens:  # no sign, no superscripts
        raise ValueError("rle is not a list of run lengths (non-negative integers)")
    try:
        counts = np.array(tokens, dtype=np.int64)
    except OverflowError:
        raise ValueError("a run length is beyond 2**63") from None
    area = width * height
    # with no run longer than the box the int64 sum cannot wrap around; else Python's sum
    long_run = bool((counts > area).any())
    total = sum(map(int, tokens)) if long_run else int(counts.sum())
    if total > area:
        raise ValueError(f"the runs cover {total} pixels, the box has {area}")
    flat = np.zeros(width * height, dtype=np.uint8)
    flat[:total] = np.repeat((np.arange(len(counts)) % 2).astype(np.uint8), counts)
    return flat.reshape(height, width)


def _to_annotations(
    raw: _RawShapes,
    frames: Frames,
    r: _Reader,
    *,
    ellipse_vertices: int,
    occluded_attribute: str | None,
) -> Annotations:
    kind = raw.kind
    n = len(raw)
    counts = raw.counts
    out_kind = np.full(n, int(Kind.POLYGON), dtype=np.int8)
    out_count = counts.copy()
    out_kind[kind == _POLYLINE] = Kind.LINE
    out_kind[kind == _POINTS] = Kind.LANDMARK
    out_kind[kind == _SKELETON] = Kind.LANDMARK
    out_kind[kind == _CUBOID] = Kind.CUBOID
    is_box = kind == _BOX
    rotated = is_box & (raw.rotation % 360.0 != 0.0)
    out_kind[is_box & ~rotated] = Kind.RECTANGLE
    out_count[is_box] = 4
    is_ell = kind == _ELLIPSE
    out_count[is_ell] = ellipse_vertices
    is_skel = kind == _SKELETON
    if is_skel.any():
        # only the visible points of a skeleton
        c = counts[is_skel]
        owner = np.repeat(np.arange(len(c)), c)
        visible = raw.vis[_ranges(raw.offsets[:-1][is_skel], c)]
        out_count[is_skel] = np.bincount(owner, weights=visible, minlength=len(c)).astype(np.int64)
    is_mask = kind == _MASK
    keep = ~is_mask & ~(is_skel & (out_count == 0))
    for row in np.flatnonzero(is_skel & (out_count == 0)).tolist():
        r.report.add(
            Action.DROPPED,
            "empty skeleton",
            source=_source(raw, row),
            label=r.label_names[raw.label[row]],
            detail="every point of the skeleton is outside",
        )

    rows = np.flatnonzero(keep)
    oc = out_count[rows]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(oc, out=offsets[1:])
    points = np.empty((int(offsets[-1]), 2), dtype=np.float64)
    point_label = np.zeros(len(points), dtype=np.int32)
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))

    def dest(sel: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        o = pos[sel]
        return _ranges(offsets[:-1][o], oc[o])

    plain = np.isin(kind, (_POLYGON, _POLYLINE, _POINTS, _CUBOID)) & keep
    if plain.any():
        src_idx = _ranges(raw.offsets[:-1][plain], counts[plain])
        pts = raw.pairs[src_idx]
        cub = kind[plain] == _CUBOID
        if cub.any():
            # reorder each cuboid's 8 corners from CVAT's order to p1..p8
            run_start = np.repeat(np.cumsum(counts[plain]) - counts[plain], counts[plain])
            within = np.arange(len(src_idx)) - run_start
            is_cub_pt = np.repeat(cub, counts[plain])
            within_c = within[is_cub_pt]
            reorder = np.arange(len(src_idx))
            reorder[is_cub_pt] = run_start[is_cub_pt] + CUBOID_CVAT_TO_P[within_c]
            pts = pts[reorder]
        d = dest(plain)
        points[d] = pts
        pts_lm = np.repeat((kind[plain] == _POINTS), counts[plain])
        if pts_lm.any():
            run_start = np.repeat(np.cumsum(counts[plain]) - counts[plain], counts[plain])
            point_label[d[pts_lm]] = (np.arange(len(d)) - run_start)[pts_lm] + 1
    if is_box.any():
        v = raw.pairs[_ranges(raw.offsets[:-1][is_box], counts[is_box])].reshape(-1, 4)
        corners = box_corners(v, np.where(rotated[is_box], raw.rotation[is_box], 0.0))
        points[dest(is_box)] = corners.reshape(-1, 2)
    if is_ell.any():
        v = raw.pairs[_ranges(raw.offsets[:-1][is_ell], counts[is_ell])].reshape(-1, 4)
        points[dest(is_ell)] = ellipse_polygon(v, raw.rotation[is_ell], ellipse_vertices).reshape(
            -1, 2
        )
    sk = is_skel & keep
    if sk.any():
        src_idx = _ranges(raw.offsets[:-1][sk], counts[sk])
        run_start = np.repeat(np.cumsum(counts[sk]) - counts[sk], counts[sk])
        number = np.arange(len(src_idx)) - run_start + 1  # position in the label spec
        visible = raw.vis[src_idx]
        d = dest(sk)
        points[d] = raw.pairs[src_idx][visible]
        point_label[d] = number[visible]

    attrs = [raw.attrs[i] for i in rows.tolist()]
    if occluded_attribute is not None:
        occ = raw.occluded[rows].tolist()
        attrs = [
            {**(a or {}), occluded_attribute: "true" if o else "false"} for a, o in zip(attrs, occ)
        ]
    track_ids = np.asarray(r.trk_id + [-1], dtype=np.int64)[raw.track[rows]]
    ann = Annotations.from_runs(
        frames,
        out_kind[rows],
        points,
        offsets,
        raw.label[rows],
        raw.frame[rows],
        names=r.label_names,
        track=track_ids,
        point_label=point_label,
        attributes=attrs,
        source=_sources(raw, rows),
    )
    if is_mask.any():
        ann = _with_masks(ann, raw, r, np.flatnonzero(is_mask), rows, occluded_attribute)
    return ann


def _source(raw: _RawShapes, row: int) -> str:
    s = f"<{_SHAPE_TAGS[raw.kind[row]]}> line {raw.line[row]}"
    return s + " (interpolated)" if raw.filled[row] else s


def _sources(raw: _RawShapes, rows: npt.NDArray[np.int64]) -> list[str]:
    """``"<box> line 40"`` for every row (``" (interpolated)"`` for filled frames)."""
    tags = [f"<{t}> line " for t in _SHAPE_TAGS]
    out = [tags[k] + str(line) for k, line in zip(raw.kind[rows].tolist(), raw.line[rows].tolist())]
    if raw.filled.any():
        for i in np.flatnonzero(raw.filled[rows]).tolist():
            out[i] += " (interpolated)"
    return out


def _masks_module() -> Any:
    """prelabel.formats.masks, imported on the first mask (it needs the ``masks`` extra)."""
    try:
        from prelabel.formats import masks
    except ImportError:  # pragma: no cover - the module ships with the package
        raise MissingExtraError("masks", "a CVAT <mask>") from None
    return masks


def _with_masks(
    ann: Annotations,
    raw: _RawShapes,
    r: _Reader,
    mask_rows: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    occluded_attribute: str | None,
) -> Annotations:
    """Add the polygons traced from each ``<mask>``, in file order with the other shapes.

    A mask of several parts becomes several polygons (a report row says so); in a track only
    the largest part keeps the track id, so one tracker never holds two shapes on one frame.
    """
    masks = _masks_module()
    polys: list[npt.NDArray[np.float64]] = []
    owner: list[int] = []
    tracked: list[bool] = []
    for row in mask_rows.tolist():
        rle, left, top, width, height = r.masks[int(raw.origin[row])]
        where = _source(raw, row)
        label = r.label_names[raw.label[row]]
        try:
            x0, y0 = _bounded_int(left, "left"), _bounded_int(top, "top")
            w, h = _bounded_int(width, "width"), _bounded_int(height, "height")
            if w < 1 or h < 1 or w * h > masks.MAX_MASK_PIXELS:
                raise ValueError(f"a {w} x {h} box is not a mask size")
            mask = cvat_rle_to_mask(rle, w, h)
        except ValueError as e:
            err = InputError(r.path, where, f"bad mask: {e}")
            if not r.drop:
                raise err from None
            r.report.add(
                Action.DROPPED,
                "bad_mask",
                source=where,
                frame=r.frame_text(int(raw.track[row]), int(raw.frame[row])),
                label=label,
                detail=f"{err.message}: the shape is left out",
            )
            continue
        traced = masks.trace_mask(
            mask, min_area=_MASK_MIN_AREA, offset=(float(x0), float(y0)), what="a CVAT <mask>"
        )
        parts = traced.polygons  # largest first
        for action, reason, detail in traced.findings(_MASK_MIN_AREA):
            r.report.add(action, reason, source=where, label=label, detail=detail)
        if not parts:
            continue
        if len(parts) > 1:
            r.report.add(
                Action.SPLIT,
                "mask split into polygons",
                source=where,
                label=label,
                detail=f"{len(parts)} polygons; in a track the largest keeps the track id",
            )
        for i, p in enumerate(parts):
            polys.append(p)
            owner.append(row)
            tracked.append(i == 0)
    if not polys:
        return ann
    own = np.asarray(owner, dtype=np.int64)
    track_ids = np.asarray(r.trk_id + [-1], dtype=np.int64)[raw.track[own]]
    track_ids[~np.asarray(tracked)] = -1
    attrs = [raw.attrs[i] for i in owner]
    if occluded_attribute is not None:
        attrs = [
            {**(a or {}), occluded_attribute: "true" if raw.occluded[i] else "false"}
            for a, i in zip(attrs, owner)
        ]
    part = Annotations.from_polygons(
        ann.frames,
        polys,
        raw.label[own],
        raw.frame[own],
        names=r.label_names,
        track=track_ids,
        attributes=attrs,
        source=_sources(raw, own),
    )
    both = Annotations.concat([ann, part])
    order = np.argsort(np.concatenate([rows, own]), kind="stable")
    return both[order]

"""The streaming parse: CVAT XML elements -> the tables of :class:`ParsedFile`, data only.

expat calls the handlers element by element; each element becomes a few list entries as it
is read (so memory stays bounded and every element's line is known for errors and the
report). The common elements take a fast path with the lists bound to locals; the rest, and
every error, go through the general handlers. A bad element raises :class:`BadElement`
before it has changed anything, so under ``drop`` it can be skipped with what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import TreeBuilder

from prelabel.formats.cvat._elements import (
    SkeletonPoint,
    image_record,
    missing,
    shape_geometry,
    skeleton_geometry,
    skeleton_point,
)
from prelabel.formats.cvat._fast import fast_handlers
from prelabel.formats.cvat._meta import parse_meta
from prelabel.formats.cvat._tables import (
    SHAPE_CODES,
    BadElement,
    Images,
    Meta,
    ParsedFile,
    ShapeElements,
    Task,
    Tracks,
    bounded_int,
    element_frame,
)
from prelabel.formats.cvat._xml import feed, hardened_parser, skip_elements
from prelabel.report import Action, Reason, Report


class StreamParser:
    """The element stream -> a :class:`ParsedFile` (data only: nothing is converted here).

    expat calls the handlers element by element; the parse state (the open image, track,
    shape, skeleton, attribute) lives here, the data in the tables it returns.
    """

    def __init__(self, path: str, report: Report, drop: bool = False) -> None:
        self.path = path
        self.report = report
        self.drop = drop  # skip and report bad elements instead of raising
        self.parser = hardened_parser()
        self.meta: Meta | None = None
        self.meta_builder: TreeBuilder | None = None
        # label name -> index into self.labels
        self.label_ids: dict[str, int] = {}
        self.labels: list[str] = []
        self.strict_labels = False
        self.images = Images()
        self.task_by_key: dict[str | None, Task] = {}
        self.tracks = Tracks()
        self.shapes = ShapeElements()
        self.dyn_points: dict[str, list[str]] = {}  # skeleton point order seen, without meta
        # parse state
        self.image_row = -1
        self.track_row = -1
        self.shape_row = -1  # the open shape (or skeleton) that owns <attribute> children
        self.in_shape = False
        self.skel: list[SkeletonPoint] | None = None
        self.in_element = False
        self.attr_name: str | None = None
        self.attr_text: list[str] = []
        self.attr_owner = "none"
        self._fast_start: Callable[[str, dict[str, str]], None] = self.start_element
        self._fast_end: Callable[[str], None] = self.end_element

    # -- errors ---------------------------------------------------------------------------
    def _where(self, tag: str, line: int | None = None) -> str:
        return f"<{tag}> line {self.parser.CurrentLineNumber if line is None else line}"

    # -- parsing --------------------------------------------------------------------------
    def parse(self, source: Any) -> ParsedFile:
        p = self.parser
        self._fast_start, self._fast_end = fast_handlers(self)
        p.StartElementHandler = self._fast_start
        p.EndElementHandler = self._fast_end
        feed(p, self.path, source)
        return ParsedFile(
            path=self.path,
            meta=self.meta,
            label_names=self.labels,
            images=self.images,
            tracks=self.tracks,
            shapes=self.shapes,
        )

    def _label(self, name: str, tag: str) -> int:
        idx = self.label_ids.get(name)
        if idx is None:
            if self.strict_labels:
                known = self.meta.all_labels if self.meta else set()
                why = "a skeleton point label" if name in known else "not in the meta's labels"
                raise BadElement(
                    self.path,
                    self._where(tag),
                    f"unknown label {name!r} ({why})",
                    Reason.UNKNOWN_LABEL,
                )
            idx = self.label_ids[name] = len(self.labels)
            self.labels.append(name)
        return idx

    def start_element(self, tag: str, a: dict[str, str]) -> None:
        # the general path only: the common elements never come here (see _fast),
        # and an element that raises has changed nothing yet, so it can be skipped
        try:
            code = SHAPE_CODES.get(tag)
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
                    Reason.TAG,
                    source=self._where("tag"),
                    frame=self.images.name[self.image_row],
                    label=a.get("label"),
                    detail="a CVAT tag labels the whole frame: no geometry",
                )
                self.attr_owner = "none"
            elif tag == "meta":
                self._meta_start()
            elif code is not None:
                self.report.add(
                    Action.SKIPPED,
                    Reason.SHAPE_OUTSIDE_IMAGE_OR_TRACK,
                    source=self._where(tag),
                    label=a.get("label"),
                    detail=f"a <{tag}> belongs in an <image> or a <track>",
                )
            elif self.image_row >= 0 or self.track_row >= 0:
                self.report.add(
                    Action.SKIPPED,
                    Reason.UNSUPPORTED_ELEMENT,
                    source=self._where(tag),
                    detail=f"<{tag}> is not a CVAT 1.1 shape",
                )
        except BadElement as e:
            if not self.drop:
                raise
            self._drop_started(tag, a, e)

    def end_element(self, tag: str) -> None:
        if tag == "attribute":
            self._attribute_end()
        elif tag in SHAPE_CODES:
            if self.in_element:
                self.in_element = False
                self.attr_owner = "shape"
            elif tag == "skeleton" and self.skel is not None:
                try:
                    self._skeleton_end()
                except BadElement as e:
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

    # -- dropping bad elements (on_invalid="drop") -----------------------------------
    def _context(self, a: dict[str, str]) -> tuple[str | None, str | None]:
        """(frame, label) of a shape element about to be dropped, for the report."""
        if self.track_row >= 0:
            return a.get("frame"), self.labels[self.tracks.label[self.track_row]]
        if self.image_row >= 0:
            return self.images.name[self.image_row], a.get("label")
        return None, a.get("label")

    def _drop_started(self, tag: str, a: dict[str, str], e: BadElement) -> None:
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
            what = f"the <skeleton> at line {self.shapes.line[skel_row]}"
            self.shapes.pop_last(skel_row)

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
        skip_elements(self.parser, depth, SHAPE_CODES, (self._fast_start, self._fast_end), done)

    def _drop_skeleton(self, e: BadElement) -> None:
        """A skeleton found bad at its end: remove its row."""
        row = self.shape_row
        frame, label = self._skeleton_context(row)
        self._report_drop(e, frame, label, f"the <skeleton> at line {self.shapes.line[row]}")
        self.shapes.pop_last(row)
        self.skel = None
        self.in_shape = False
        self.attr_owner = "track" if self.track_row >= 0 else "none"

    def _skeleton_context(self, row: int) -> tuple[str | None, str | None]:
        return element_frame(self.shapes, self.images, row), self.labels[self.shapes.label[row]]

    def _report_drop(self, e: BadElement, frame: str | None, label: str | None, what: str) -> None:
        self.report.add(
            Action.DROPPED,
            e.reason,
            source=e.location,
            frame=frame,
            label=label,
            detail=f"{e.message}: {what} is left out",
        )

    # -- elements -------------------------------------------------------------------------
    def _image(self, a: dict[str, str]) -> None:
        name, seq, number, w, h = image_record(a, self.path, self._where("image"), self.task_by_key)
        self.image_row = self.images.append(name, seq, number, w, h)

    def _track(self, a: dict[str, str]) -> None:
        try:
            label = a["label"]
            tid = bounded_int(a["id"], "track id")
        except KeyError as e:
            raise missing(self.path, self._where("track"), e.args[0]) from None
        except ValueError as e:
            raise BadElement(self.path, self._where("track"), str(e), Reason.BAD_TRACK_ID) from None
        label_idx = self._label(label, "track")
        self.track_row = self.tracks.append(tid, a.get("task_id"), label_idx)
        self.attr_owner = "track"

    def _shape(self, tag: str, code: int, a: dict[str, str]) -> None:
        # everything is read (and may raise) before the first list grows
        s = self.shapes
        row = len(s.kind)
        try:
            if self.track_row >= 0:
                frame = bounded_int(a["frame"], "frame")
                label = self.tracks.label[self.track_row]
            else:
                frame = self.image_row
                label = self._label(a["label"], tag)
            run, npairs, mask = shape_geometry(code, a)
        except KeyError as e:
            raise missing(self.path, self._where(tag), e.args[0]) from None
        except ValueError as e:
            raise BadElement(self.path, self._where(tag), str(e), Reason.BAD_FRAME) from None
        if run is None and mask is None:  # a skeleton: its points follow as children
            self.skel = []
        s.append(code, frame, label, self.track_row, self.parser.CurrentLineNumber, a, run, npairs)
        if mask is not None:
            s.masks[row] = mask
        self.shape_row = row
        self.in_shape = True
        self.attr_owner = "shape"

    def _skeleton_point(self, tag: str, a: dict[str, str]) -> None:
        assert self.skel is not None
        line = self.parser.CurrentLineNumber
        self.skel.append(skeleton_point(tag, a, self.path, self._where(tag, line), line))
        self.in_element = True
        self.attr_owner = "element"

    def _skeleton_end(self) -> None:
        assert self.skel is not None
        s = self.shapes
        row = self.shape_row
        skel_label = self.labels[s.label[row]]
        spec = self.meta.points_of.get(skel_label) if self.meta else None
        if spec is None:
            spec = self.dyn_points.setdefault(skel_label, [])
            for name, *_ in self.skel:
                if name not in spec:
                    spec.append(name)
        run, vis, occluded = skeleton_geometry(self.skel, spec, skel_label, self.path)
        if occluded and (not s.occluded or s.occluded[-1] != row):
            s.occluded.append(row)
        if self.track_row >= 0 and not any(vis) and (not s.outside or s.outside[-1] != row):
            s.outside.append(row)  # in a track, a skeleton with no point shown is outside
        if spec:
            s.geo.append(run)
        s.npairs[row] = len(spec)
        s.skel_vis[row] = vis
        self.skel = None
        self.in_shape = False
        self.attr_owner = "track" if self.track_row >= 0 else "none"

    def _attribute_start(self, a: dict[str, str]) -> None:
        name = a.get("name")
        if name is None:
            raise missing(self.path, self._where("attribute"), "name")
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
            d = self.shapes.attrs[self.shape_row]
            if d is None:
                d = self.shapes.attrs[self.shape_row] = {}
            d[name] = value
        elif self.attr_owner == "track":
            self.tracks.attrs.setdefault(self.track_row, {})[name] = value
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
        self.meta = parse_meta(root, self.path, p.CurrentLineNumber)
        self.task_by_key = {t.key: t for t in self.meta.tasks if t.key is not None}
        for name in self.meta.labels:
            self._label(name, "meta")
        self.strict_labels = bool(self.meta.all_labels)

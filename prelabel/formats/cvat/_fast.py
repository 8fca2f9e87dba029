"""The fast path of the streaming parse: the elements most files are made of.

A million boxes and polygons cost a million calls of each handler, so these do only what a
plain element needs, with every list method bound to a local; the rest of the parse state
stays on the :class:`StreamParser`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prelabel.formats.cvat._stream import StreamParser


def fast_handlers(
    p: StreamParser,
) -> tuple[Callable[[str, dict[str, str]], None], Callable[[str], None]]:
    """expat handlers for the common elements (box, polygon, polyline, points of an image or
    a track) with the lists bound to locals; anything else, or anything unusual (a missing
    attribute, an unknown label, a rotation, an element inside a skeleton), goes to ``p``'s
    general handlers, which also raise the errors."""
    fast = {"box": 0, "polygon": 1, "polyline": 2, "points": 3}
    kinds = p.shapes.kind
    kind_append = kinds.append
    frame_append = p.shapes.frame.append
    label_append = p.shapes.label.append
    track_append = p.shapes.track.append
    line_append = p.shapes.line.append
    npairs_append = p.shapes.npairs.append
    geo_append = p.shapes.geo.append
    attrs_append = p.shapes.attrs.append
    occluded_append = p.shapes.occluded.append
    outside_append = p.shapes.outside.append
    label_get = p.label_ids.get
    trk_label = p.tracks.label
    xml = p.parser
    slow_start, slow_end = p.start_element, p.end_element

    def start(tag: str, a: dict[str, str]) -> None:
        code = fast.get(tag)
        if code is None or p.skel is not None or "rotation" in a:
            slow_start(tag, a)
            return
        trow = p.track_row
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
            frame = p.image_row
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
        line_append(xml.CurrentLineNumber)
        attrs_append(None)
        p.shape_row = row
        p.in_shape = True
        p.attr_owner = "shape"

    def end(tag: str) -> None:
        if tag in fast and p.skel is None and p.in_shape:
            p.in_shape = False
            p.attr_owner = "track" if p.track_row >= 0 else "none"
        else:
            slow_end(tag)

    return start, end

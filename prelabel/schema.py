"""Pydantic models of the job payload, strict about what the API needs.

One model per object of ``../spec/create-a-job.md``. The builder's output is checked against
these in the tests, and ``prelabel validate`` / the sandbox / ``submit --dry-run`` use them
on any payload file. Cross-references that span the document (tracker frame keys present in
``video_data.frames``, frame ids unique) are checked in :mod:`prelabel.validate`, which can
name the exact JSON path.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    model_validator,
)

from prelabel.text import first_control
from prelabel.urls import is_url


# messages are in prelabel's words: validate prints them after the JSON path
def _unit(v: object) -> float | int:
    """A coordinate: a JSON number (not a boolean), finite and in [0, 1]."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"coordinate must be a number in [0, 1], not {json_type_name(v)}")
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError(f"coordinate must be a finite number in [0, 1], not {v!r}")
    return v


def _url(v: str) -> str:
    if not is_url(v):
        raise ValueError("src must be an http(s)://, s3:// or gs:// URL")
    return v


def _id(v: str) -> str:
    bad = first_control(v)
    if bad:
        raise ValueError(f"id contains a control character ({bad})")
    return v


def _attribute_value(v: object) -> object:
    """A string, number, boolean, null, or a list of strings or of integers."""
    if v is None or isinstance(v, str | int | float):
        return v
    if isinstance(v, list) and (
        all(isinstance(x, str) for x in v)
        or all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    ):
        return v
    raise ValueError(
        "an attribute value must be a string, number, boolean, null, or a list of strings"
        f" or of integers, not {json_type_name(v)}"
    )


def _edge(v: object) -> tuple[str, str]:
    if (
        isinstance(v, list | tuple)
        and len(v) == 2
        and all(isinstance(p, str) and _POINT_NAME.fullmatch(p) for p in v)
    ):
        return (v[0], v[1])
    raise ValueError(f'an edge is two point names such as ["p1", "p2"], not {_json_text(v)}')


def json_type_name(v: object) -> str:
    """The JSON name of a value's type, for messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    return "an object"


def _json_text(v: object, limit: int = 40) -> str:
    try:
        text = json.dumps(v, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


POINT_NAME_PATTERN = r"^p[1-9][0-9]*$"
EDGE_NAME_PATTERN = r"^e[1-9][0-9]*$"
_POINT_NAME = re.compile(POINT_NAME_PATTERN)

Unit = Annotated[float, PlainValidator(_unit)]
NonEmpty = Annotated[str, Field(min_length=1)]
Id = Annotated[str, Field(min_length=1), AfterValidator(_id)]
Url = Annotated[str, AfterValidator(_url)]
PointName = Annotated[str, Field(pattern=POINT_NAME_PATTERN)]
EdgeName = Annotated[str, Field(pattern=EDGE_NAME_PATTERN)]
Edge = Annotated[tuple[str, str], PlainValidator(_edge)]


class _Model(BaseModel):
    # objects may carry fields the platform adds (``state``, a per-frame ``type``)
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Point(_Model):
    x: Unit
    y: Unit


class LandmarkPoint(Point):
    label: StrictInt


class AttributeValue(_Model):
    value: Annotated[object, PlainValidator(_attribute_value)]


class _Object(_Model):
    id: Id = Field(alias="_id")
    label: str = ""
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)


def _check_names(points: dict[str, Any], minimum: int, kind: str) -> None:
    if len(points) < minimum:
        raise ValueError(f"a {kind} needs at least {minimum} points, got {len(points)}")
    expected = [f"p{i + 1}" for i in range(len(points))]
    if sorted(points, key=lambda k: int(k[1:])) != expected:
        raise ValueError(f"{kind} points must be named p1..p{len(points)}")


class RectangleObject(_Object):
    coordinates: list[Point] = Field(min_length=4, max_length=4)

    @model_validator(mode="after")
    def _axis_aligned(self) -> RectangleObject:
        tl, tr, br, bl = self.coordinates
        aligned = tl.y == tr.y and bl.y == br.y and tl.x == bl.x and tr.x == br.x
        if aligned and tr.x > tl.x and bl.y > tl.y:
            return self
        xs = sorted({c.x for c in self.coordinates})
        ys = sorted({c.y for c in self.coordinates})
        if len(xs) < 2 or len(ys) < 2:
            raise ValueError("rectangle has zero width or height")
        order = "top-left, top-right, bottom-right, bottom-left (x grows right, y grows down)"
        if (
            len(xs) == 2
            and len(ys) == 2
            and {(c.x, c.y) for c in self.coordinates} == {(x, y) for x in xs for y in ys}
        ):
            raise ValueError(f"rectangle corners are out of order: the order is {order}")
        raise ValueError(f"rectangle is not axis-aligned: its corners must be {order}")


class _PointsObject(_Object):
    """An object whose geometry is ``points`` named p1..pn, at least ``MIN_POINTS`` of them."""

    MIN_POINTS: ClassVar[int] = 1
    KIND: ClassVar[str] = "shape"
    points: dict[PointName, Point]

    @model_validator(mode="after")
    def _point_names(self) -> _PointsObject:
        _check_names(self.points, self.MIN_POINTS, self.KIND)
        return self


class PolygonObject(_PointsObject):
    """Edges are checked for shape here; that they name existing points is checked in
    :mod:`prelabel.validate`, which reports the edge's own path."""

    MIN_POINTS = 3
    KIND = "polygon"
    edges: dict[EdgeName, Edge]


class LineObject(_PointsObject):
    MIN_POINTS = 2
    KIND = "line"


class Face(_Model):
    coordinates: list[PointName] = Field(min_length=4, max_length=4)


class CuboidObject(_Object):
    points: dict[PointName, Point]
    front: Face
    side: Face
    back: Face

    @model_validator(mode="after")
    def _eight(self) -> CuboidObject:
        if sorted(self.points) != sorted(f"p{i}" for i in range(1, 9)):
            raise ValueError("a cuboid needs exactly the points p1..p8")
        return self


class LandmarkObject(_PointsObject):
    KIND = "landmark"
    points: dict[PointName, LandmarkPoint]  # type: ignore[assignment]


class _Tracker(_Model):
    id: Id = Field(alias="_id")
    label: NonEmpty


class RectangleTracker(_Tracker):
    type: Literal["rectangle"]
    frames: dict[Id, RectangleObject] = Field(min_length=1)


class PolygonTracker(_Tracker):
    type: Literal["polygon"]
    frames: dict[Id, PolygonObject] = Field(min_length=1)


class LineTracker(_Tracker):
    type: Literal["line"]
    frames: dict[Id, LineObject] = Field(min_length=1)


class CuboidTracker(_Tracker):
    type: Literal["cuboid"]
    frames: dict[Id, CuboidObject] = Field(min_length=1)


class LandmarkTracker(_Tracker):
    type: Literal["landmark"]
    frames: dict[Id, LandmarkObject] = Field(min_length=1)


Tracker = Annotated[
    RectangleTracker | PolygonTracker | LineTracker | CuboidTracker | LandmarkTracker,
    Field(discriminator="type"),
]
TRACKER_TAGS = ("rectangle", "polygon", "line", "cuboid", "landmark")


class AnnotationList(_Model):
    annotations: list[Tracker]


class Video2d(_Model):
    data: AnnotationList


class MakerResponse(_Model):
    """``video2d`` is what the spec's JSON examples use; its prose once says ``video_2d``.
    prelabel writes ``video2d`` and accepts either, but not both."""

    video2d: Video2d | None = None
    video_2d: Video2d | None = None

    @model_validator(mode="after")
    def _one_key(self) -> MakerResponse:
        if (self.video2d is None) == (self.video_2d is None):
            raise ValueError("maker_response needs exactly one of video2d or video_2d")
        return self

    @property
    def trackers(self) -> list[Any]:
        v = self.video2d or self.video_2d
        assert v is not None
        return v.data.annotations


class FrameRef(_Model):
    frame_id: Id
    src: Url


class VideoData(_Model):
    frames: list[FrameRef] = Field(min_length=1)


class ReferenceImage(_Model):
    label: NonEmpty
    image_url: Url


class ReferenceFrame(_Model):
    frame_id: Id
    data: list[ReferenceImage]


class ReferenceVector(_Model):
    images: list[ReferenceFrame]


class ReferenceData(_Model):
    vector: ReferenceVector


class JobData(_Model):
    video_data: VideoData
    reference_data: ReferenceData | None = None
    maker_response: MakerResponse | None = None


class Job(BaseModel):
    """A job payload. Unknown top-level keys are refused: ``workflow_id`` (as the spec's
    sample code writes it) is not ``work_flow_id`` and would be ignored by the API."""

    model_config = ConfigDict(extra="forbid")

    reference_id: Id
    work_flow_id: Id | None = None
    batch_id: Id | None = None
    data: JobData

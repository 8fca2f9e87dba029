"""Pydantic models of the job payload, strict about what the API needs.

One model per object of ``../spec/create-a-job.md``. The builder's output is checked against
these in the tests, and ``prelabel validate`` / the sandbox / ``submit --dry-run`` use them
on any payload file. Cross-references that span the document (tracker frame keys present in
``video_data.frames``, frame ids unique) are checked in :mod:`prelabel.validate`, which can
name the exact JSON path.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    model_validator,
)

from prelabel.urls import is_url


def _unit(v: float) -> float:
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError("coordinate must be a finite number in [0, 1]")
    return v


def _url(v: str) -> str:
    if not is_url(v):
        raise ValueError("src must be an http(s)://, s3:// or gs:// URL")
    return v


Unit = Annotated[StrictFloat | StrictInt, AfterValidator(_unit)]
NonEmpty = Annotated[str, Field(min_length=1)]
Url = Annotated[str, AfterValidator(_url)]
PointName = Annotated[str, Field(pattern=r"^p[1-9][0-9]*$")]


class _Model(BaseModel):
    # objects may carry fields the platform adds (``state``, a per-frame ``type``)
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Point(_Model):
    x: Unit
    y: Unit


class LandmarkPoint(Point):
    label: StrictInt


class AttributeValue(_Model):
    value: str | int | float | bool | list[str] | list[int] | None


class _Object(_Model):
    id: NonEmpty = Field(alias="_id")
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
        if not (tl.y == tr.y and bl.y == br.y and tl.x == bl.x and tr.x == br.x):
            raise ValueError(
                "rectangle corners must be top-left, top-right, bottom-right, bottom-left"
            )
        if tr.x <= tl.x or bl.y <= tl.y:
            raise ValueError("rectangle must have a positive width and height")
        return self


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
    MIN_POINTS = 3
    KIND = "polygon"
    edges: dict[Annotated[str, Field(pattern=r"^e[1-9][0-9]*$")], tuple[PointName, PointName]]

    @model_validator(mode="after")
    def _edges(self) -> PolygonObject:
        for name, (a, b) in self.edges.items():
            for p in (a, b):
                if p not in self.points:
                    raise ValueError(f"edge {name} names {p}, which is not a point")
        return self


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
    id: NonEmpty = Field(alias="_id")
    label: NonEmpty


class RectangleTracker(_Tracker):
    type: Literal["rectangle"]
    frames: dict[NonEmpty, RectangleObject] = Field(min_length=1)


class PolygonTracker(_Tracker):
    type: Literal["polygon"]
    frames: dict[NonEmpty, PolygonObject] = Field(min_length=1)


class LineTracker(_Tracker):
    type: Literal["line"]
    frames: dict[NonEmpty, LineObject] = Field(min_length=1)


class CuboidTracker(_Tracker):
    type: Literal["cuboid"]
    frames: dict[NonEmpty, CuboidObject] = Field(min_length=1)


class LandmarkTracker(_Tracker):
    type: Literal["landmark"]
    frames: dict[NonEmpty, LandmarkObject] = Field(min_length=1)


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
    frame_id: NonEmpty
    src: Url


class VideoData(_Model):
    frames: list[FrameRef] = Field(min_length=1)


class ReferenceImage(_Model):
    label: NonEmpty
    image_url: Url


class ReferenceFrame(_Model):
    frame_id: NonEmpty
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

    reference_id: NonEmpty
    work_flow_id: NonEmpty | None = None
    batch_id: NonEmpty | None = None
    data: JobData

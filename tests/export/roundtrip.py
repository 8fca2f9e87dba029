"""Payload comparison for the round trips: the same jobs, frames, trackers and values.

Ids are left out: prelabel's ids are uuid5s of the reference_id and the source's track
numbers (architecture.md, Determinism), which no export format keeps as the payload spells
them; what must survive is everything else. Trackers are compared as a set (a format's
shape order decides the order of trackers that start on the same frame), each reduced to
its type, frames, labels, attributes and coordinates, the coordinates within ``TOL``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Frames, Kind
from tests.strategies import LABELS

TOL = 1e-6


def load_jobs(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _trackers(job: dict[str, Any]) -> list[dict[str, Any]]:
    maker = job["data"]["maker_response"]
    key = "video2d" if "video2d" in maker else "video_2d"
    trackers: list[dict[str, Any]] = maker[key]["data"]["annotations"]
    return trackers


def _numbers(obj: dict[str, Any]) -> list[float]:
    if "coordinates" in obj:
        return [v for p in obj["coordinates"] for v in (p["x"], p["y"])]
    return [v for p in obj["points"].values() for v in (p["x"], p["y"], p.get("label", 0))]


def _shape(tracker: dict[str, Any]) -> tuple[Any, ...]:
    """A tracker without ids: (type, frames, labels, attributes) and its numbers."""
    frames = sorted(tracker["frames"])
    objs = [tracker["frames"][f] for f in frames]
    key = (
        tracker["type"],
        tracker["label"],
        tuple(frames),
        tuple(o["label"] for o in objs),
        orjson.dumps([o.get("attributes") for o in objs], option=orjson.OPT_SORT_KEYS),
    )
    return key, np.array([v for o in objs for v in _numbers(o)])


def assert_same_jobs(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    """Jobs equal but for ids, coordinates within TOL."""
    assert [j["reference_id"] for j in a] == [j["reference_id"] for j in b]
    for ja, jb in zip(a, b, strict=True):
        ref = ja["reference_id"]
        assert ja["data"]["video_data"] == jb["data"]["video_data"], ref
        assert {k: v for k, v in ja.items() if k != "data"} == {
            k: v for k, v in jb.items() if k != "data"
        }
        sa = sorted(
            (_shape(t) for t in _trackers(ja)), key=lambda s: (s[0], s[1].round(4).tolist())
        )
        sb = sorted(
            (_shape(t) for t in _trackers(jb)), key=lambda s: (s[0], s[1].round(4).tolist())
        )
        assert [s[0] for s in sa] == [s[0] for s in sb], (ref, sa, sb)
        for (key, va), (_, vb) in zip(sa, sb, strict=True):
            assert va.shape == vb.shape, key
            np.testing.assert_allclose(va, vb, rtol=0, atol=TOL, err_msg=str(key))


# --- sources for the round trips: pixel tables as a format's reader would return them ----------
PREFIX = "https://images.example.com/"


def png_header(path: Path, w: int, h: int) -> None:
    """A PNG signature and IHDR: all a size reader needs (prelabel.imagesize reads no more)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + ihdr + b"\0" * 4)


def framed(sequences: list[tuple[str, int, int, int]], name: str = "{seq}/f{i:03d}.jpg") -> Frames:
    """Frames of (sequence, frames, width, height) runs, named by ``name``."""
    names, seqs, index, ws, hs = [], [], [], [], []
    for seq, n, w, h in sequences:
        for i in range(n):
            names.append(name.format(seq=seq, i=i))
            seqs.append(seq)
            index.append(i)
            ws.append(w)
            hs.append(h)
    return Frames.build(ws, hs, name=names, sequence=seqs, index=index)


def _coord(draw: Any, limit: float) -> float:
    # from 1.5 px (a table whose every coordinate is within 0..1 reads as fractions) to half
    # a pixel inside the far edge (a YOLO value of exactly 1 could be read as a track id)
    return draw(st.floats(1.5, limit - 0.5, allow_nan=False, allow_subnormal=False))


@st.composite
def _shapes(draw: Any, frames: Frames, kinds: tuple[Kind, ...]) -> Annotations:
    """Up to 8 shapes of ``kinds`` inside their frames, with labels and tracks."""
    n = draw(st.integers(0, 8))
    kind, counts, points, labels, frame, track = [], [], [], [], [], []
    for _ in range(n):
        k = draw(st.sampled_from(kinds))
        f = draw(st.integers(0, len(frames) - 1))
        w, h = float(frames.width[f]), float(frames.height[f])
        c = {Kind.RECTANGLE: 2, Kind.CUBOID: 8, Kind.POLYGON: 3, Kind.LINE: 2}.get(k, 1)
        c = draw(st.integers(c, c + 4)) if k in (Kind.POLYGON, Kind.LINE, Kind.LANDMARK) else c
        # points may repeat the one before, and a ring may end on its first point once or
        # more: prepare removes them all in one pass, so the round trip keeps the shape
        pts: list[list[float]] = []
        for _ in range(c):
            again = bool(pts) and draw(st.integers(0, 3)) == 0
            pts.append(list(pts[-1]) if again else [_coord(draw, w), _coord(draw, h)])
        if k == Kind.POLYGON:
            closing = draw(st.integers(0, 2))
            pts += [list(pts[0]) for _ in range(closing)]
            c += closing
        if k == Kind.RECTANGLE:
            # at least a pixel each way: a box 1e-14 px high survives the checks, but its
            # height written as a fraction rounds to 0, which a reader rightly drops
            x0, y0 = _coord(draw, w - 1.0), _coord(draw, h - 1.0)
            x1 = draw(st.floats(x0 + 1.0, w - 0.5, allow_nan=False))
            y1 = draw(st.floats(y0 + 1.0, h - 0.5, allow_nan=False))
            pts, c = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], 4
        kind.append(k)
        counts.append(c)
        points.extend(pts)
        labels.append(draw(st.sampled_from(LABELS)))
        frame.append(f)
        track.append(draw(st.sampled_from([-1, -1, 0, 1, 2])))
    if not n:
        return Annotations.empty(frames)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    marks = np.repeat(np.asarray(kind) == Kind.LANDMARK, counts)
    within = np.arange(len(points)) - np.repeat(offsets[:-1], counts)
    return Annotations.from_runs(
        frames,
        np.asarray(kind, dtype=np.int8),
        points,
        offsets,
        labels,
        frame,
        track=track,
        point_label=np.where(marks, within + 1, 0),
    )


@st.composite
def sources(
    draw: Any,
    kinds: tuple[Kind, ...],
    *,
    name: str = "{seq}/f{i:03d}.jpg",
    sequence: str = "{seq}",
    label_by_track: bool = False,
    tracks: bool = True,
    attributes: bool = True,
) -> Annotations:
    """Shapes of ``kinds`` (in their frames) over 1-2 sequences of 1-3 frames, with
    attributes; ``label_by_track`` gives every shape of a track the track's label."""
    runs = []
    for s in range(draw(st.integers(1, 2))):
        n = draw(st.integers(1, 3))
        w, h = draw(st.integers(8, 2000)), draw(st.integers(8, 2000))
        runs.append((f"clip{s}", n, w, h))
    frames = framed(runs, name)
    frames = replace(
        frames,
        sequence=np.asarray(
            [sequence.format(seq=s) for s in frames.sequence.tolist()], dtype=object
        ),
    )
    ann = draw(_shapes(frames, kinds))
    label_names = [ann.labels[i] for i in ann.label.tolist()]
    track = ann.track if tracks else np.full(len(ann), -1, dtype=np.int64)
    if label_by_track:
        label_names = [
            LABELS[t] if t >= 0 else n for t, n in zip(track.tolist(), label_names, strict=True)
        ]
    attrs = [
        {"colour": draw(st.sampled_from(["red", "blue"]))}
        if attributes and draw(st.booleans())
        else None
        for _ in range(len(ann))
    ]
    if label_by_track:  # a CVAT track carries its attributes from frame to frame
        attrs = [{"colour": n} for n in label_names]
    return Annotations.from_runs(
        frames,
        ann.kind,
        ann.points,
        ann.offsets,
        label_names if label_names else np.asarray([], dtype=object),
        ann.frame,
        track=track,
        point_label=ann.point_label,
        attributes=attrs,
    )

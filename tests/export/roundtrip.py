"""Payload comparison for the round trips: the same jobs, frames, trackers and values.

Ids are left out: prelabel's ids are uuid5s of the reference_id and the source's track
numbers (architecture.md, Determinism), which no export format keeps as the payload spells
them; what must survive is everything else. Trackers are compared as a set (a format's
shape order decides the order of trackers that start on the same frame), each reduced to
its type, frames, labels, attributes and coordinates, the coordinates within ``TOL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

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
        assert [s[0] for s in sa] == [s[0] for s in sb], ref
        for (key, va), (_, vb) in zip(sa, sb, strict=True):
            assert va.shape == vb.shape, key
            np.testing.assert_allclose(va, vb, rtol=0, atol=TOL, err_msg=str(key))

"""hypothesis strategies shared by the tests: frames, shapes and whole Annotations in pixels."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from prelabel.annotations import Annotations, Frames, Kind

sizes = st.integers(min_value=1, max_value=5000)
LABELS = ("car", "person", "sign", "lane")


@st.composite
def frames_tables(draw: Any, min_frames: int = 1, max_frames: int = 4) -> Frames:
    n = draw(st.integers(min_value=min_frames, max_value=max_frames))
    widths = draw(st.lists(sizes, min_size=n, max_size=n))
    heights = draw(st.lists(sizes, min_size=n, max_size=n))
    n_seq = draw(st.integers(min_value=1, max_value=2))
    seq = [f"video{i % n_seq}" for i in range(n)]
    return Frames.build(
        widths,
        heights,
        frame_id=[f"f{i:03d}" for i in range(n)],
        src=[f"https://example.com/v/{i}.jpg" for i in range(n)],
        sequence=seq,
        index=np.arange(n),
    )


def _coord(draw: Any, limit: float, inside: bool) -> float:
    lo, hi = (0.0, limit) if inside else (-0.5 * limit, 1.5 * limit)
    # pixel coordinates are never subnormal; x / w of one would underflow to 0
    return draw(
        st.floats(
            min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, allow_subnormal=False
        )
    )


@st.composite
def shapes_on(draw: Any, frames: Frames, inside: bool = False, max_shapes: int = 12) -> Annotations:
    """Random shapes of every kind over ``frames``; ``inside`` keeps every point in its frame.

    Built through the unchecked constructors, as the readers build theirs: any pixel geometry
    is a table the core must handle, including a shape that happens to lie within the first
    pixel, which the public constructors take for fractions passed as pixels."""
    n = draw(st.integers(min_value=0, max_value=max_shapes))
    parts = []
    for _ in range(n):
        f = draw(st.integers(min_value=0, max_value=len(frames) - 1))
        w, h = float(frames.width[f]), float(frames.height[f])
        kind = draw(st.sampled_from(list(Kind)))
        count = {Kind.RECTANGLE: 2, Kind.CUBOID: 8}.get(
            kind, draw(st.integers(min_value=1, max_value=8))
        )
        pts = np.array([[_coord(draw, w, inside), _coord(draw, h, inside)] for _ in range(count)])
        label = draw(st.sampled_from(LABELS))
        track = draw(st.sampled_from([-1, -1, 0, 1, 2]))
        score = draw(st.one_of(st.just(float("nan")), st.floats(0, 1)))
        if kind == Kind.RECTANGLE:
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            parts.append(
                Annotations._boxes(
                    frames, [[x0, y0, x1, y1]], [label], [f], track=[track], score=[score]
                )
            )
        else:
            parts.append(
                Annotations._point_lists(
                    frames, kind, [pts], [label], [f], track=[track], score=[score]
                )
            )
    if not parts:
        return Annotations.empty(frames)
    return Annotations.concat(parts)


@st.composite
def annotations(draw: Any, inside: bool = False) -> Annotations:
    frames = draw(frames_tables())
    return draw(shapes_on(frames, inside=inside))


# --- byte mutations of real files, for the readers' fuzz tests ---------------------------------
def byte_mutations(tokens: list[bytes]) -> st.SearchStrategy[tuple[str, float, bytes, int]]:
    """One mutation of a file's bytes: (kind, where 0..1, a token of the format, a count)."""
    return st.tuples(
        st.sampled_from(["insert", "delete", "flip", "duplicate_line", "truncate"]),
        st.floats(0, 1),
        st.sampled_from(tokens),
        st.integers(1, 40),
    )


def mutate_bytes(data: bytes, kind: str, at: float, token: bytes, n: int) -> bytes:
    """``data`` with one mutation drawn by :func:`byte_mutations` applied."""
    i = int(at * len(data))
    if kind == "insert":
        return data[:i] + token + data[i:]
    if kind == "delete":
        return data[:i] + data[i + n :]
    if kind == "flip" and data:
        i = min(i, len(data) - 1)
        return data[:i] + bytes([data[i] ^ (1 << (n % 8))]) + data[i + 1 :]
    if kind == "duplicate_line":
        lines = data.splitlines(keepends=True)
        if lines:
            j = min(int(at * len(lines)), len(lines) - 1)
            lines.insert(j, lines[j] * (n % 4 + 1))
        return b"".join(lines)
    if kind == "truncate":
        return data[:i]
    return data

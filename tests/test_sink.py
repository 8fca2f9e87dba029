"""JobSink: frames appended one at a time give the batch path's bytes, one job at a time.

The reference is always :func:`prelabel.convert` over the same frames and shapes collected up
front (one table, frames in append order), written with the same job options.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import prelabel
from prelabel import Annotations, Frames, JobOptions, JobSink, Kind
from prelabel.errors import GeometryError, InputError, SubmitError
from prelabel.export._input import pixel_jobs
from prelabel.export.sizes import frames_record, sidecar_path
from prelabel.report import Report
from prelabel.submit import Limits, Retries, Submitter
from prelabel.submit.sandbox import Sandbox

from .submit.conftest import KEY

W, H = 640, 480


def frame_ids(n: int) -> list[str]:
    return [f"frame_{i:06d}" for i in range(n)]


def srcs(n: int) -> list[str]:
    return [f"https://images.example.com/cam1/{i + 1:06d}.jpg" for i in range(n)]


def boxes_frame(
    rng: np.random.Generator, k: int, tracks: Sequence[int] | None = None
) -> Annotations:
    """``k`` boxes on one 640x480 frame, some of them partly outside it (clipped, reported)."""
    frames = Frames.build(W, H)
    xy = rng.uniform([-20, -20], [W - 10, H - 10], (k, 2))
    wh = rng.uniform(5, 120, (k, 2))
    return Annotations.from_boxes(
        frames,
        np.hstack([xy, xy + wh]),
        rng.integers(0, 3, k),
        0,
        names=["car", "person", "bike"],
        track=None if tracks is None else list(tracks),
        score=rng.uniform(0, 1, k),
    )


def video(n: int, seed: int = 0, empty_every: int = 5) -> list[Annotations]:
    """``n`` frames of up to 4 tracked boxes; tracks live several frames, so they cross any
    job boundary; every ``empty_every``-th frame has no shapes at all."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if empty_every and i % empty_every == empty_every - 1:
            out.append(Annotations.empty(Frames.build(W, H), ("car",)))
            continue
        k = int(rng.integers(1, 5))
        tracks = [(i // 6) * 4 + t for t in range(k - 1)] + [-1]  # one untracked box each frame
        out.append(boxes_frame(rng, k, tracks))
    return out


def collected(items: Sequence[Annotations], sequence: str = "sequence") -> Annotations:
    """The items as one table, as a batch user would build it: frames in order, ids and srcs."""
    n = len(items)
    frames = Frames.build(
        [float(i.frames.width[0]) for i in items],
        [float(i.frames.height[0]) for i in items],
        frame_id=frame_ids(n),
        src=srcs(n),
        name=[str(i.frames.name[0]) for i in items],
        sequence=sequence,
    )
    return Annotations.concat([replace(it, frames=frames.take([k])) for k, it in enumerate(items)])


def streamed(path: Path, items: Sequence[Annotations], **options: Any) -> tuple[bytes, JobSink]:
    with JobSink(path, **options) as sink:
        for item, fid, src in zip(items, frame_ids(len(items)), srcs(len(items)), strict=True):
            sink.append(item, frame_id=fid, src=src)
    return path.read_bytes(), sink


def batch(
    path: Path,
    items: Sequence[Annotations],
    *,
    frames_per_job: int | None = None,
    workflow_id: str | None = None,
    batch_id: str | None = None,
    reference_id: str = "{sequence}",
    sequence: str = "sequence",
    on_invalid: str = "repair",
) -> tuple[bytes, Report]:
    jobs = JobOptions(
        reference_id=reference_id,
        frames_per_job=frames_per_job,
        workflow_id=workflow_id,
        batch_id=batch_id,
    )
    result = prelabel.convert(collected(items, sequence), path, jobs=jobs, on_invalid=on_invalid)
    return path.read_bytes(), result.report


def rows(report: Report, leave_out: str | None = None) -> list[str]:
    return sorted(str(sorted(r.items())) for r in report.rows if r["reason"] != leave_out)


# --- the batch path's bytes ----------------------------------------------------------------


@pytest.mark.parametrize("frames_per_job", [None, 1, 2, 5, 7, 23, 24, 100])
def test_bytes_and_report_equal_the_batch_path(tmp_path: Path, frames_per_job: int | None) -> None:
    items = video(23)
    options = {"frames_per_job": frames_per_job, "workflow_id": "W", "batch_id": "B"}
    got, sink = streamed(tmp_path / "sink.jsonl", items, **options)
    want, report = batch(tmp_path / "batch.jsonl", items, **options)  # type: ignore[arg-type]
    assert got == want
    assert rows(sink.report) == rows(report)
    assert len(sink.report) > 0  # the clipped boxes: the comparison saw rows
    n_jobs = 1 if frames_per_job is None else -(-23 // frames_per_job)
    assert sink.jobs == n_jobs == got.count(b"\n")
    assert sink.frames == 23
    assert sink.bytes == len(got)


def test_a_track_crossing_a_job_boundary_is_a_tracker_in_each_job(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    items = [boxes_frame(rng, 1, [7]) for _ in range(4)]  # track 7 on frames 0..3
    got, _ = streamed(tmp_path / "s.jsonl", items, frames_per_job=3, sequence="cam")
    jobs = [orjson.loads(line) for line in got.splitlines()]
    assert [j["reference_id"] for j in jobs] == ["cam-001", "cam-002"]
    trackers = [j["data"]["maker_response"]["video2d"]["data"]["annotations"] for j in jobs]
    assert [len(t) for t in trackers] == [1, 1]
    assert [len(t[0]["frames"]) for t in trackers] == [3, 1]
    assert trackers[0][0]["_id"] != trackers[1][0]["_id"]  # ids are per job's reference_id
    want, _ = batch(tmp_path / "b.jsonl", items, frames_per_job=3, sequence="cam")
    assert got == want


def test_empty_frames_and_a_job_of_empty_frames(tmp_path: Path) -> None:
    empty = [Annotations.empty(Frames.build(W, H)) for _ in range(3)]
    items = [*empty, *video(2, empty_every=0)]
    got, sink = streamed(tmp_path / "s.jsonl", items, frames_per_job=3)
    want, _ = batch(tmp_path / "b.jsonl", items, frames_per_job=3)
    assert got == want
    first = orjson.loads(got.splitlines()[0])
    assert len(first["data"]["video_data"]["frames"]) == 3
    assert first["data"]["maker_response"]["video2d"]["data"]["annotations"] == []
    assert sink.jobs == 2


def test_a_reference_id_template_with_its_chunk(tmp_path: Path) -> None:
    items = video(5)
    opts = {"frames_per_job": 2, "reference_id": "{sequence}/part{chunk}", "sequence": "cam"}
    got, _ = streamed(tmp_path / "s.jsonl", items, **opts)
    want, _ = batch(tmp_path / "b.jsonl", items, **opts)  # type: ignore[arg-type]
    assert got == want
    assert [orjson.loads(x)["reference_id"] for x in got.splitlines()] == [
        "cam/part1",
        "cam/part2",
        "cam/part3",
    ]


@pytest.mark.parametrize("on_invalid", ["drop", "repair"])
def test_other_policies_equal_the_batch_path(tmp_path: Path, on_invalid: str) -> None:
    items = video(11, seed=4)
    got, sink = streamed(tmp_path / "s.jsonl", items, frames_per_job=4, on_invalid=on_invalid)
    want, report = batch(tmp_path / "b.jsonl", items, frames_per_job=4, on_invalid=on_invalid)
    assert got == want
    assert rows(sink.report) == rows(report)


def test_error_policy_refuses_the_job_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    inside = Annotations.from_boxes(Frames.build(W, H), [[10, 10, 50, 50]], ["car"], 0)
    outside = boxes_frame(rng, 1)
    outside = replace(outside, points=outside.points + [W, 0])  # wholly right of the frame
    items = [inside, inside, outside]
    path = tmp_path / "s.jsonl"
    with pytest.raises(GeometryError) as info:
        streamed(path, items, frames_per_job=2, on_invalid="error")
    assert path.read_bytes().count(b"\n") == 1  # the first job is written, whole
    assert orjson.loads(path.read_bytes())["reference_id"] == "sequence-001"
    # the problem row counts the shape from the sink's first shape, as the batch path does
    assert [p["shape"] for p in info.value.problems] == [2]


def test_a_job_that_cannot_be_finished_ends_the_sink(tmp_path: Path) -> None:
    """Caught inside the loop, the error of a job leaves the sink ended: a later frame would
    otherwise join a job already over its size."""
    outside = Annotations.from_boxes(Frames.build(W, H), [[700, 10, 750, 50]], ["car"], 0)
    path = tmp_path / "s.jsonl"
    with JobSink(path, frames_per_job=1, on_invalid="error") as sink:
        with pytest.raises(GeometryError):
            sink.append(outside, frame_id="a", src="s3://b/1.jpg")
        with pytest.raises(ValueError, match=r"abandoned \(an exception ended it\)"):
            sink.append(one_box(), frame_id="b", src="s3://b/2.jpg")
    assert path.read_bytes() == b""
    assert sink.unwritten == 1


def test_mixed_labels_across_frames(tmp_path: Path) -> None:
    frames = Frames.build(W, H)
    a = Annotations.from_boxes(frames, [[1, 1, 9, 9]], ["zebra"], 0, track=[3])
    b = Annotations.from_polygons(frames, [[(5, 5), (50, 5), (20, 40)]], ["ant"], 0, track=[3])
    c = Annotations.from_boxes(frames, [[1, 1, 9, 9], [2, 2, 8, 8]], ["", "ant"], 0)
    items = [a, b, c, a]
    got, sink = streamed(tmp_path / "s.jsonl", items, frames_per_job=3)
    want, report = batch(tmp_path / "b.jsonl", items, frames_per_job=3)
    assert got == want
    assert rows(sink.report, "track_mixed_kinds") == rows(report, "track_mixed_kinds")


SIZES = [(16, 16), (640, 480), (1920, 1080)]
POINTS = {Kind.RECTANGLE: 2, Kind.CUBOID: 8}


@st.composite
def frame_items(draw: Any) -> Annotations:
    """One frame of 0-4 shapes of every kind, some out of frame, degenerate or repeated in a
    track; coordinates on a grid that starts left of and above the frame (so that shrinking
    never makes them all fractions, which the constructors refuse as unnormalised)."""
    w, h = draw(st.sampled_from(SIZES))
    frames = Frames.build(w, h)
    parts = [Annotations.empty(frames)]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(list(Kind)))
        n = POINTS.get(kind) or draw(st.integers(1, 6))
        grid = st.integers(0, 8)
        pts = np.array([[draw(grid) * w / 4 - w / 4, draw(grid) * h / 4 - h / 4] for _ in range(n)])
        label = draw(st.sampled_from(["car", "person", ""]))
        track = draw(st.sampled_from([-1, -1, 0, 1, 2]))
        score = draw(st.one_of(st.just(float("nan")), st.sampled_from([0.1, 0.5, 0.9])))
        if kind == Kind.RECTANGLE:
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            one = Annotations.from_boxes(
                frames, [[x0, y0, x1, y1]], [label], 0, track=[track], score=[score]
            )
        else:
            one = Annotations.from_point_lists(
                frames, kind, [pts], [label], 0, track=[track], score=[score]
            )
        parts.append(one)
    return Annotations.concat(parts)


@st.composite
def videos(draw: Any) -> tuple[list[Annotations], int | None]:
    items = draw(st.lists(frame_items(), min_size=1, max_size=9))
    fpj = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=10)))
    return items, fpj


@given(videos())
def test_property_the_sink_writes_the_batch_paths_bytes(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[list[Annotations], int | None]
) -> None:
    """Any frames (every kind, out-of-frame and degenerate shapes, tracks that mix kinds and
    cross jobs) in any job size: the same bytes, and the same report apart from the
    mixed-kind rows of tracks whose kinds change across a job boundary (per job here)."""
    items, fpj = case
    tmp = tmp_path_factory.mktemp("prop")
    got, sink = streamed(tmp / "s.jsonl", items, frames_per_job=fpj, sequence="v")
    want, report = batch(tmp / "b.jsonl", items, frames_per_job=fpj, sequence="v")
    assert got == want
    assert rows(sink.report, "track_mixed_kinds") == rows(report, "track_mixed_kinds")
    if fpj is None:
        assert rows(sink.report) == rows(report)


def test_normalised_items(tmp_path: Path) -> None:
    frames = Frames.build(W, H)
    a = Annotations.from_boxes(frames, [[0.1, 0.1, 0.5, 0.5]], ["car"], 0, normalized=True)
    got, _ = streamed(tmp_path / "s.jsonl", [a, a], frames_per_job=2)
    want, _ = batch(tmp_path / "b.jsonl", [a, a], frames_per_job=2)
    assert got == want


# --- bounded memory ------------------------------------------------------------------------


def test_memory_does_not_grow_with_the_jobs_written(tmp_path: Path) -> None:
    """What a finished job leaves behind is counters and its reference_id: the memory held
    after 40 jobs is that after 8 within 1,000 bytes a job, 40 bytes a frame (one frame's ten
    boxes held would be kilobytes)."""
    xy = np.arange(10)[:, None] * [50.0, 40.0] + 5
    frame = Annotations.from_boxes(  # inside the frame: nothing to report
        Frames.build(W, H), np.hstack([xy, xy + 30]), ["car"] * 10, 0, track=range(10)
    )
    held = []
    tracemalloc.start()
    try:
        with JobSink(tmp_path / "s.jsonl", frames_per_job=25) as sink:
            for i in range(1000):
                sink.append(frame, frame_id=f"f{i % 25}", src="s3://b/x.jpg")
                if i in (199, 999):  # the 8th and the 40th job just written
                    gc.collect()  # what is only garbage in a cycle is not held
                    held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert sink.jobs == 40
    assert len(sink.report) == 0
    assert held[1] - held[0] < 32 * 1000


# --- a crash, a rerun, atomic lines ----------------------------------------------------------


class Stop(Exception):
    pass


def crash(sink: JobSink, items: Sequence[Annotations], at: int, after: Any = None) -> None:
    """The inference loop, crashing before frame ``at``; ``after(sink)`` after each append."""
    n = len(items)
    with sink:
        for i, (item, fid, src) in enumerate(zip(items, frame_ids(n), srcs(n), strict=True)):
            if i == at:
                raise Stop
            sink.append(item, frame_id=fid, src=src)
            if after is not None:
                after(sink)


def test_an_exception_writes_no_partial_job_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    items = video(10)
    path = tmp_path / "s.jsonl"
    sink = JobSink(path, frames_per_job=4)
    with pytest.raises(Stop):
        crash(sink, items, at=9)
    want, _ = batch(tmp_path / "b.jsonl", items, frames_per_job=4)
    lines = want.splitlines(keepends=True)
    assert path.read_bytes() == b"".join(lines[:2])  # frames 8 and 9's job: not written
    assert sink.unwritten == 1
    assert "the last 1 frames (an unfinished job) were not written" in sink.summary()
    with pytest.raises(ValueError, match="abandoned"):
        sink.append(items[0], frame_id="x", src="s3://b/x.jpg")
    # a rerun starts the file afresh and writes it whole
    got, _ = streamed(path, items, frames_per_job=4)
    assert got == want


def test_a_failed_write_is_cut_back_to_the_last_whole_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = video(6)
    path = tmp_path / "s.jsonl"
    real_write = os.write
    calls = {"n": 0}

    def failing(fd: int, data: Any) -> int:
        if fd > 2 and os.path.samefile(f"/proc/self/fd/{fd}", path):
            calls["n"] += 1
            if calls["n"] == 2:  # the second job: half of it, then the disk is full
                real_write(fd, bytes(data[: len(data) // 2]))
                raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(OSError, match="No space"):
        streamed(path, items, frames_per_job=3)
    monkeypatch.undo()
    want, _ = batch(tmp_path / "b.jsonl", items, frames_per_job=3)
    assert path.read_bytes() == want.splitlines(keepends=True)[0]


def test_standard_output(capfdbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    items = video(3)
    with JobSink("-", frames_per_job=2) as sink:
        for item, fid, src in zip(items, frame_ids(3), srcs(3), strict=True):
            sink.append(item, frame_id=fid, src=src)
    want, _ = batch(tmp_path / "b.jsonl", items, frames_per_job=2)
    assert capfdbinary.readouterr().out == want
    assert "to standard output" in sink.summary()


def test_the_summary_counts(tmp_path: Path) -> None:
    got, sink = streamed(tmp_path / "s.jsonl", video(8), frames_per_job=5)
    text = sink.summary()
    assert text.startswith(f"8 frames, {sink.shapes} shapes in 2 jobs ({sink.bytes:,} bytes) to ")
    assert f"{sink.report.counts[('repaired', 'out_of_frame')]} repaired (out_of_frame)" in text
    trackers = [
        t
        for x in got.splitlines()
        for t in orjson.loads(x)["data"]["maker_response"]["video2d"]["data"]["annotations"]
    ]
    assert sink.shapes == sum(len(t["frames"]) for t in trackers)  # one object per frame
    assert repr(sink).startswith("JobSink(")


# --- submitting ----------------------------------------------------------------------------


def submitter(sb: Sandbox, ledger: Path, key: str = KEY) -> Submitter:
    return Submitter(
        "p",
        key,
        base_url=sb.url,
        ledger=ledger,
        limits=Limits(rate=0),
        retries=Retries(backoff=0.001),
    )


def test_each_job_is_submitted_when_finished_and_a_rerun_resumes(tmp_path: Path) -> None:
    items = video(10)
    ledger = tmp_path / "jobs.ledger.sqlite"
    path = tmp_path / "s.jsonl"
    on_server = []
    with Sandbox(KEY, retry_after=0) as sb:
        with submitter(sb, ledger) as s:
            sink = JobSink(path, frames_per_job=3, workflow_id="wf-1", submitter=s)
            with pytest.raises(Stop):  # a crash in the inference loop
                crash(sink, items, at=8, after=lambda _: on_server.append(sb.job_count()))
        # each job was on the server as soon as its last frame was appended
        assert on_server == [0, 0, 1, 1, 1, 2, 2, 2]
        assert sink.submitted is not None
        assert sink.submitted.counts == {"created": 2}
        # the rerun: the same loop, the same ledger
        with submitter(sb, ledger) as s:
            got, sink = streamed(path, items, frames_per_job=3, workflow_id="wf-1", submitter=s)
        assert sink.submitted is not None
        assert sink.submitted.counts == {"done": 2, "created": 2}
        assert sink.submitted.ok
        server = sb.jobs()
    assert sorted(j["reference_id"] for j in server) == [f"sequence-00{k}" for k in (1, 2, 3, 4)]
    want, _ = batch(tmp_path / "b.jsonl", items, frames_per_job=3, workflow_id="wf-1")
    assert got == want
    assert "submitted: 4 jobs: 2 created, 2 done" in sink.summary()


CHILD = """
import sys
import prelabel
from prelabel.submit import load_api_key
url, ledger, path = sys.argv[1:]
frame = prelabel.Frames.build(640, 480)
with prelabel.Submitter("p", load_api_key(), base_url=url, ledger=ledger,
                        limits=prelabel.Limits(rate=0)) as s:
    with prelabel.JobSink(path, frames_per_job=2, workflow_id="wf-1", submitter=s) as sink:
        for i in range(6):
            boxes = prelabel.Annotations.from_boxes(frame, [[10 + i, 10, 90, 90]], ["car"], 0,
                                                    track=[1])
            sink.append(boxes, frame_id=f"frame_{i:06d}", src=f"s3://b/{i + 1:06d}.jpg")
"""


def test_a_killed_loop_loses_nothing_and_its_rerun_resumes(tmp_path: Path) -> None:
    """The process running the loop is killed (SIGKILL) right after the server created its
    second job, before the answer came back; the rerun sends the rest, each job once."""
    import signal
    import subprocess
    import sys

    ledger, path = tmp_path / "l.sqlite", tmp_path / "s.jsonl"
    child: list[subprocess.Popen[bytes]] = []

    def after_create(seq: int) -> None:
        if seq == 2:
            os.kill(child[0].pid, signal.SIGKILL)

    with Sandbox(KEY, retry_after=0, after_create=after_create) as sb:
        child.append(
            subprocess.Popen(
                [sys.executable, "-c", CHILD, sb.url, str(ledger), str(path)],
                stderr=subprocess.PIPE,
                env={**os.environ, "PLAYMENT_API_KEY": KEY},
            )
        )
        _, err = child[0].communicate(timeout=120)
        assert child[0].returncode == -signal.SIGKILL, err.decode()
        assert sb.job_count() == 2
        assert path.read_bytes().count(b"\n") == 2  # both jobs were written before sending
        with submitter(sb, ledger) as s:
            sink = JobSink(path, frames_per_job=2, workflow_id="wf-1", submitter=s)
            with sink:
                frame = Frames.build(640, 480)
                for i in range(6):
                    boxes = Annotations.from_boxes(
                        frame, [[10 + i, 10, 90, 90]], ["car"], 0, track=[1]
                    )
                    sink.append(boxes, frame_id=f"frame_{i:06d}", src=f"s3://b/{i + 1:06d}.jpg")
        assert sink.submitted is not None
        # job 1 was answered before the kill; job 2's answer was lost: the API's duplicate
        # check tells the rerun it exists; job 3 is new
        assert sink.submitted.counts == {"done": 1, "exists": 1, "created": 1}
        assert sorted(sb.reference_counts().values()) == [1, 1, 1]
    assert path.read_bytes().count(b"\n") == 3


def test_a_submitter_that_stops_stops_the_loop(tmp_path: Path) -> None:
    items = video(4)
    path = tmp_path / "s.jsonl"
    with (
        Sandbox("pk_another_key_0123456789", retry_after=0) as sb,
        submitter(sb, tmp_path / "l.sqlite") as s,
        pytest.raises(SubmitError, match="rerun the loop with the same ledger"),
    ):
        streamed(path, items, frames_per_job=2, workflow_id="wf-1", submitter=s)
    assert path.read_bytes().count(b"\n") == 1  # the job is written before it is sent


def test_without_a_file(tmp_path: Path) -> None:
    with Sandbox(KEY, retry_after=0) as sb, submitter(sb, tmp_path / "l.sqlite") as s:
        with JobSink(None, frames_per_job=2, workflow_id="wf-1", submitter=s) as sink:
            for item, fid, src in zip(video(3), frame_ids(3), srcs(3), strict=True):
                sink.append(item, frame_id=fid, src=src)
        assert sb.job_count() == 2
    assert sink.jobs == 2


# --- what append refuses --------------------------------------------------------------------


def one_box() -> Annotations:
    return Annotations.from_boxes(Frames.build(W, H), [[1, 1, 9, 9]], ["car"], 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frame_id": "a", "src": "images/1.jpg"}, r"src= 'images/1.jpg' is not an http"),
        ({"frame_id": 3, "src": "s3://b/1.jpg"}, r"frame_id= must be a non-empty str, not 3"),
        ({"frame_id": "", "src": "s3://b/1.jpg"}, r"frame_id= must be a non-empty str"),
        ({"frame_id": "a\nb", "src": "s3://b/1.jpg"}, r"control character \(U\+000A at 1\)"),
        (
            {"frame_id": "b", "src": "s3://b/1.jpg", "width": 641, "height": 480},
            r"width= 641 disagrees with the item's frame \(640\)",
        ),
        (
            {"frame_id": "b", "src": "s3://b/1.jpg", "width": 640},
            r"width= is given without height=",
        ),
        (
            {"frame_id": "b", "src": "s3://b/1.jpg", "width": -1, "height": 5},
            r"width= must be a positive number of pixels, not -1",
        ),
    ],
)
def test_append_names_the_bad_parameter(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    with JobSink(tmp_path / "s.jsonl") as sink:
        with pytest.raises(InputError, match=message) as info:
            sink.append(one_box(), **kwargs)
        assert info.value.location == "frame 0 (0-based) of sequence 'sequence'"
        sink.append(one_box(), frame_id="ok", src="s3://b/1.jpg")  # the sink goes on
    assert sink.frames == 1


def test_a_frame_id_is_unique_in_its_job(tmp_path: Path) -> None:
    with JobSink(tmp_path / "s.jsonl", frames_per_job=2) as sink:
        sink.append(one_box(), frame_id="a", src="s3://b/1.jpg")
        with pytest.raises(InputError, match=r"frame_id= 'a' is already a frame of this job"):
            sink.append(one_box(), frame_id="a", src="s3://b/2.jpg")
        sink.append(one_box(), frame_id="b", src="s3://b/2.jpg")
        sink.append(one_box(), frame_id="a", src="s3://b/3.jpg")  # the next job: allowed
    assert sink.jobs == 2


def test_items_it_cannot_read(tmp_path: Path) -> None:
    two = Annotations.empty(Frames.build(W, H, frame_id=["a", "b"]))
    with JobSink(tmp_path / "s.jsonl") as sink:
        with pytest.raises(InputError, match=r"item= must be a one-frame prelabel.Annotations"):
            sink.append([[1, 2, 3, 4]], frame_id="a", src="s3://b/1.jpg")
        with pytest.raises(InputError, match=r"item= holds 2 frames; append one frame at a time"):
            sink.append(two, frame_id="a", src="s3://b/1.jpg")
        unsized = Annotations.empty(Frames.build(0, 0))
        with pytest.raises(InputError, match=r"width= and height= are needed"):
            sink.append(unsized, frame_id="a", src="s3://b/1.jpg")
        sink.append(unsized, frame_id="a", src="s3://b/1.jpg", width=W, height=H)
    assert sink.frames == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frames_per_job": 0}, r"frames_per_job= must be a whole number >= 1 or None, not 0"),
        ({"frames_per_job": 2.5}, r"frames_per_job= must be a whole number"),
        ({"frames_per_job": True}, r"frames_per_job= must be a whole number"),
        ({"sequence": ""}, r"sequence= must be a non-empty str"),
        ({"sequence": "a\tb"}, r"sequence= 'a\\tb' contains a control character"),
        ({"workflow_id": 5}, r"workflow_id= must be a str or None, not 5"),
        ({"reference_id": "{seq}"}, r"unknown field \{seq\}"),
        ({"on_invalid": "fix"}, r"on_invalid=: on_invalid must be 'error', 'drop' or 'repair'"),
    ],
)
def test_options_are_checked_before_any_frame(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        JobSink(tmp_path / "s.jsonl", **kwargs)
    assert not (tmp_path / "s.jsonl").exists()


def test_a_path_or_a_submitter_is_needed(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"path= is None: give a file"):
        JobSink(None)
    with pytest.raises(InputError, match=r"is a directory|names a directory"):
        JobSink(tmp_path)
    sink = JobSink(tmp_path / "s.jsonl")
    with pytest.raises(ValueError, match="outside its with block"):
        sink.append(one_box(), frame_id="a", src="s3://b/1.jpg")


def test_frames_appended_are_the_sequence_in_order(tmp_path: Path) -> None:
    """The frames' index is their append order: a job's frames are listed as appended."""
    got, _ = streamed(tmp_path / "s.jsonl", video(4), frames_per_job=4)
    frames = orjson.loads(got)["data"]["video_data"]["frames"]
    assert [f["frame_id"] for f in frames] == frame_ids(4)
    assert [f["src"] for f in frames] == srcs(4)


# --- Ultralytics and supervision items ------------------------------------------------------


class UltralyticsBoxes:
    """``Results.boxes`` with the real attribute names (numpy arrays, as ``.numpy()`` gives)."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray, ids: Any) -> None:
        self.xyxy, self.conf, self.cls, self.id = xyxy, conf, cls, ids


class UltralyticsResults:
    """An Ultralytics ``Results`` of a tracking run: ``orig_shape`` (h, w), ``path``, ``names``,
    ``boxes`` (with ``id``), and no masks, keypoints or OBBs."""

    def __init__(self, boxes: UltralyticsBoxes, shape: tuple[int, int] = (H, W)) -> None:
        self.orig_shape = shape
        self.path = "cam1.mp4"
        self.names = {0: "car", 1: "person", 2: "bike"}
        self.boxes = boxes
        self.masks = self.keypoints = self.obb = None


def tracking_results(n: int, seed: int = 5) -> list[UltralyticsResults]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(0, 4))
        xy = rng.uniform([0, 0], [W - 130, H - 130], (k, 2)).astype(np.float32)
        boxes = UltralyticsBoxes(
            np.hstack([xy, xy + rng.uniform(5, 120, (k, 2)).astype(np.float32)]),
            rng.uniform(0.2, 1, k).astype(np.float32),
            rng.integers(0, 3, k).astype(np.float32),
            (np.arange(k) + i // 3).astype(np.float32) if i % 4 else None,  # lost tracks
        )
        out.append(UltralyticsResults(boxes))
    return out


@pytest.mark.parametrize("frames_per_job", [None, 2, 5])
def test_ultralytics_results_give_the_adapters_batch_bytes(
    tmp_path: Path, frames_per_job: int | None
) -> None:
    results = tracking_results(11)
    path = tmp_path / "s.jsonl"
    with JobSink(path, frames_per_job=frames_per_job, sequence="cam1") as sink:
        for i, r in enumerate(results):
            sink.append(r, frame_id=frame_ids(11)[i], src=srcs(11)[i])
    ann = Annotations.from_ultralytics(
        results, sequence="cam1", frame_id=frame_ids(11), src=srcs(11)
    )
    batch_path = tmp_path / "b.jsonl"
    prelabel.convert(ann, batch_path, jobs=JobOptions(frames_per_job=frames_per_job))
    assert path.read_bytes() == batch_path.read_bytes()
    assert sink.frames == 11
    labels = {t["label"] for x in path.read_bytes().splitlines() for t in _trackers(x)}
    assert labels <= {"car", "person", "bike"}


def _trackers(line: bytes) -> list[dict[str, Any]]:
    job = orjson.loads(line)
    return list(job["data"]["maker_response"]["video2d"]["data"]["annotations"])


def test_an_ultralytics_frame_size_comes_from_the_result(tmp_path: Path) -> None:
    r = tracking_results(1)[0]
    with JobSink(tmp_path / "s.jsonl") as sink:
        with pytest.raises(
            InputError, match=r"height= 1080 disagrees with the item's frame \(480\)"
        ):
            sink.append(r, frame_id="a", src="s3://b/1.jpg", width=W, height=1080)
        sink.append(r, frame_id="a", src="s3://b/1.jpg", width=W, height=H)  # agrees: fine
    assert sink.frames == 1


class SupervisionDetections:
    """A ``supervision.Detections`` with the real attribute names (supervision is not needed)."""

    def __init__(self, xyxy: np.ndarray, class_id: np.ndarray, tracker_id: Any) -> None:
        n = len(xyxy)
        self.xyxy = xyxy
        self.mask = None
        self.confidence = np.linspace(0.3, 0.9, n, dtype=np.float32)
        self.class_id = class_id
        self.tracker_id = tracker_id
        self.data = {"class_name": np.array(["car", "person"])[class_id]}
        self.metadata: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.xyxy)


def test_supervision_detections_give_the_adapters_batch_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    dets = []
    for i in range(7):
        k = int(rng.integers(0, 3))
        xy = rng.uniform(0, 400, (k, 2))
        dets.append(
            SupervisionDetections(
                np.hstack([xy, xy + 50]), rng.integers(0, 2, k), np.arange(k) + i // 2
            )
        )
    path = tmp_path / "s.jsonl"
    with JobSink(path, frames_per_job=3) as sink:
        with pytest.raises(InputError, match=r"width= and height= are needed: a supervision"):
            sink.append(dets[0], frame_id="x", src="s3://b/x.jpg")
        for i, d in enumerate(dets):
            sink.append(d, frame_id=frame_ids(7)[i], src=srcs(7)[i], width=W, height=H)
    ann = Annotations.from_supervision(
        dets, width=W, height=H, sequence="sequence", frame_id=frame_ids(7), src=srcs(7)
    )
    batch_path = tmp_path / "b.jsonl"
    prelabel.convert(ann, batch_path, jobs=JobOptions(frames_per_job=3))
    assert path.read_bytes() == batch_path.read_bytes()


def test_real_supervision_detections(tmp_path: Path) -> None:
    sv = pytest.importorskip("supervision")
    det = sv.Detections(
        xyxy=np.array([[10.0, 20, 110, 220], [300, 40, 380, 90]]),
        confidence=np.array([0.9, 0.6]),
        class_id=np.array([0, 1]),
        tracker_id=np.array([4, 5]),
        data={"class_name": np.array(["car", "person"])},
    )
    with JobSink(tmp_path / "s.jsonl") as sink:
        sink.append(det, frame_id="a", src="s3://b/1.jpg", width=W, height=H)
    (job,) = (tmp_path / "s.jsonl").read_bytes().splitlines()
    assert sorted(t["label"] for t in _trackers(job)) == ["car", "person"]


def test_a_job_over_the_soft_limit_is_reported_as_convert_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = video(6)
    monkeypatch.setattr(prelabel.sink, "JOB_SOFT_LIMIT", 1500)
    got, sink = streamed(tmp_path / "s.jsonl", items, frames_per_job=2)
    result = prelabel.convert(
        collected(items), tmp_path / "b.jsonl", jobs=JobOptions(frames_per_job=2), soft_limit=1500
    )
    big = [k for k, line in enumerate(got.splitlines()) if len(line) > 1500]
    assert big  # some jobs are over, and (see the rows) not all
    assert len(big) < 3
    assert rows(sink.report) == rows(result.report)
    assert [w.split(";")[0] for w in sink.warnings] == [w.split(";")[0] for w in result.warnings]
    assert all("frames_per_job=" in w for w in sink.warnings)


# --- the frame-size sidecar ------------------------------------------------------------------


def named_video(n: int) -> list[Annotations]:
    """:func:`video` with image names and two frame sizes (odd frames 1280x720)."""
    out = []
    for k, item in enumerate(video(n)):
        size = (1280.0, 720.0) if k % 2 else (float(W), float(H))
        frames = replace(
            item.frames,
            name=np.asarray([f"cam1/{k:06d}.jpg"], dtype=object),
            width=np.asarray([size[0]]),
            height=np.asarray([size[1]]),
        )
        out.append(replace(item, frames=frames))
    return out


@pytest.mark.parametrize("frames_per_job", [None, 1, 5, 23])
def test_the_sidecar_is_the_one_convert_writes(tmp_path: Path, frames_per_job: int | None) -> None:
    items = named_video(23)
    options = {"frames_per_job": frames_per_job, "reference_id": "{sequence}-{chunk:02d}"}
    _, sink = streamed(tmp_path / "sink.jsonl", items, sequence="cam1", **options)
    batch(tmp_path / "batch.jsonl", items, sequence="cam1", **options)  # type: ignore[arg-type]
    assert sink.sidecar == sidecar_path(tmp_path / "sink.jsonl")
    got = sink.sidecar.read_bytes()
    assert got == sidecar_path(tmp_path / "batch.jsonl").read_bytes()
    doc = orjson.loads(got)
    n_jobs = 1 if frames_per_job is None else -(-23 // frames_per_job)
    assert len(doc["jobs"]) == n_jobs
    assert sum(len(j["width"]) for j in doc["jobs"].values()) == 23
    assert doc["jobs"]["cam1-01"]["name"][0] == "cam1/000000.jpg"


def test_export_reads_the_sinks_sizes_without_being_told(tmp_path: Path) -> None:
    path = tmp_path / "sink.jsonl"
    streamed(path, named_video(6), frames_per_job=4)
    jobs = list(pixel_jobs(path))  # no sizes= and no images=: the sidecar beside the file
    assert [len(j.frames) for j in jobs] == [4, 2]
    assert jobs[0].frames.width.tolist() == [640, 1280, 640, 1280]
    assert jobs[1].frames.name.tolist() == ["cam1/000004.jpg", "cam1/000005.jpg"]


def test_an_exception_leaves_the_sidecar_of_the_finished_jobs(tmp_path: Path) -> None:
    items = named_video(10)
    path = tmp_path / "s.jsonl"
    sidecar_path(path).write_bytes(b"the sizes of an older run")
    sink = JobSink(path, frames_per_job=4)
    seen = []

    def look(s: JobSink) -> None:
        seen.append(sidecar_path(str(s.path)).exists())

    with pytest.raises(Stop):
        crash(sink, items, at=9, after=look)
    assert seen == [False] * 9  # the old one went with the old jobs; the new one at the end
    batch(tmp_path / "b.jsonl", items[:8], frames_per_job=4)  # the two finished jobs
    assert sidecar_path(path).read_bytes() == sidecar_path(tmp_path / "b.jsonl").read_bytes()


def test_no_sidecar_without_a_file(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    with JobSink("-") as sink:
        sink.append(video(1)[0], frame_id="f", src="s3://b/x.jpg")
    assert capfdbinary.readouterr().out.count(b"\n") == 1
    assert sink.sidecar is None


def test_the_sidecar_written_job_by_job_is_the_one_document(tmp_path: Path) -> None:
    # convert and the sink write the document a job at a time: the bytes are those of
    # orjson.dumps of the whole document (frames_record) and a newline
    items = named_video(9)
    batch(tmp_path / "b.jsonl", items, frames_per_job=4)
    frames = collected(items).frames
    want = orjson.dumps(frames_record(frames, JobOptions(frames_per_job=4))) + b"\n"
    assert sidecar_path(tmp_path / "b.jsonl").read_bytes() == want
    assert list(orjson.loads(want)["jobs"]) == ["sequence-001", "sequence-002", "sequence-003"]


# --- what a new user passes ----------------------------------------------------------------


def test_supervision_fractions_as_pixels_are_refused(tmp_path: Path) -> None:
    # one box given as xyxyn in a Detections was written as a sub-pixel box
    sv = pytest.importorskip("supervision")
    d = sv.Detections(xyxy=np.array([[0.1, 0.2, 0.3, 0.4]]), data={"class_name": np.array(["car"])})
    out = tmp_path / "jobs.jsonl"
    with (
        pytest.raises(InputError, match=r"detections\.xyxy: every coordinate lies in 0\.\.1"),
        JobSink(out) as sink,
    ):
        sink.append(d, frame_id="f1", src=srcs(1)[0], width=W, height=H)
    assert out.read_bytes() == b""
    assert sink.unwritten == 0


def test_a_supervision_class_name_that_is_none_is_refused(tmp_path: Path) -> None:
    sv = pytest.importorskip("supervision")
    d = sv.Detections(
        xyxy=np.array([[10.0, 20, 30, 40]]), data={"class_name": np.array([None], dtype=object)}
    )
    with (
        JobSink(tmp_path / "jobs.jsonl") as sink,
        pytest.raises(InputError, match=r"class_name'\]\[0\]: expected a class name"),
    ):
        sink.append(d, frame_id="f1", src=srcs(1)[0], width=W, height=H)
    assert sink.frames == 0


@pytest.mark.parametrize("keyword", ["frame_id", "src"])
def test_an_items_own_frame_id_or_src_must_agree(tmp_path: Path, keyword: str) -> None:
    # the item's own frame_id / src were replaced silently, as width/height are not
    own = {"frame_id": "frame_000000", "src": srcs(1)[0]}
    frame = Frames.build(W, H, frame_id=[own["frame_id"]], src=[own["src"]])
    item = Annotations.from_boxes(frame, [[10, 20, 30, 40]], "car", 0)
    given = dict(own, **{keyword: "frame_000009" if keyword == "frame_id" else srcs(9)[8]})
    with JobSink(tmp_path / "jobs.jsonl") as sink:
        with pytest.raises(InputError, match=rf"{keyword}= '.*' disagrees with the item's frame"):
            sink.append(item, **given)
        sink.append(item, **own)  # the same: fine
    assert sink.frames == 1


def test_a_bad_reference_id_template_reads_in_plain_words(tmp_path: Path) -> None:
    # the parameter's marker was given where its name is wanted: the message showed the markers
    with pytest.raises(InputError) as err:
        JobSink(tmp_path / "jobs.jsonl", reference_id="{seq}")
    assert str(err.value) == "reference_id='{seq}': unknown field {seq}; use {sequence}, {chunk}"


def test_a_path_that_is_no_path_is_named() -> None:
    with pytest.raises(InputError, match=r"path= must be a file path .*not 123"):
        JobSink(123)  # type: ignore[arg-type]

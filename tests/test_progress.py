"""prelabel.progress: a steady line every interval off a terminal, a tqdm bar on one; driven
by a fake clock (no sleeping)."""

from __future__ import annotations

import io

from prelabel.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_a_steady_interval_and_at_the_end() -> None:
    clock, out = FakeClock(), io.StringIO()
    p = Progress(
        100,
        desc="submit",
        unit="job",
        stream=out,
        tty=False,
        clock=clock,
        heartbeat=False,
        order=("created", "failed"),
    )
    for _ in range(30):  # 30 jobs in 9 s: no line yet (the first is due at 10 s)
        clock.now += 0.3
        p.update(1, created=1)
    assert out.getvalue() == ""
    clock.now += 1.5  # 10.5 s: one line, whatever the number of updates
    p.update(1, failed=1)
    p.count("retries", 2)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    # 31 of 100 in 10.5 s: 2.95 jobs/s, 69 left -> ETA 23 s
    assert lines[0].startswith("submit:  31% 31/100 [00:10<00:23,  2.95job/s, created 30, failed 1")
    clock.now += 5  # next one due 10 s after the last, not after every update
    p.tick()
    assert len(out.getvalue().splitlines()) == 1
    clock.now += 5
    p.tick()
    assert len(out.getvalue().splitlines()) == 2
    p.close()
    last = out.getvalue().splitlines()[-1]
    assert "31/100" in last
    assert "retries 2" in last
    p.close()  # idempotent
    assert len(out.getvalue().splitlines()) == 3


def test_a_stalled_run_still_prints_through_tick() -> None:
    """Nothing completes (every job waiting on retries): tick() alone keeps lines coming,
    which is what the heartbeat thread calls."""
    clock, out = FakeClock(), io.StringIO()
    p = Progress(10, stream=out, tty=False, clock=clock, heartbeat=False, interval=10)
    for _ in range(3):
        clock.now += 10
        p.tick()
    assert len(out.getvalue().splitlines()) == 3
    assert all(" 0/10 " in line for line in out.getvalue().splitlines())


def test_heartbeat_thread_stops_on_close() -> None:
    out = io.StringIO()
    p = Progress(5, stream=out, tty=False, interval=3600)
    assert p._thread is not None
    assert p._thread.is_alive()
    p.close()
    assert not p._thread.is_alive()
    assert out.getvalue().count("\n") == 1  # only the final line


def test_terminal_bar_shows_counts() -> None:
    out = io.StringIO()
    with Progress(4, desc="submit", unit="job", stream=out, tty=True) as p:
        for _ in range(4):
            p.update(1, created=1)
    text = out.getvalue()
    assert "4/4" in text
    assert "created 4" in text
    assert "100%" in text


def test_disabled_writes_nothing() -> None:
    out = io.StringIO()
    with Progress(4, stream=out, enabled=False, tty=False) as p:
        p.update(4, created=4)
        p.tick()
    assert out.getvalue() == ""


def _delayed(desc: str) -> tuple[Progress, FakeClock, io.StringIO]:
    """convert's display: no total, a line every 10 s, nothing in the first second."""
    clock, out = FakeClock(), io.StringIO()
    p = Progress(
        None,
        desc=desc,
        stream=out,
        tty=False,
        clock=clock,
        heartbeat=False,
        interval=10,
        delay=1.0,
        bar_format="{desc} [{elapsed}]",
    )
    return p, clock, out


def test_a_quick_run_with_a_delay_prints_nothing() -> None:
    # convert's display: nothing for a run shorter than the delay, not even the final line
    p, clock, out = _delayed("reading x")
    clock.now += 0.5
    p.tick()
    p.close()
    assert out.getvalue() == ""


def test_a_long_run_names_its_stage_and_elapsed_time() -> None:
    p, clock, out = _delayed("reading x.json")
    clock.now += 12
    p.tick()  # 12 s in: the first line, still reading
    p.set_description("writing jobs")
    p.set_format("{desc}: {n_fmt} {unit}(s) [{elapsed}]")
    p.update(3)
    clock.now += 1
    p.close()
    assert out.getvalue().splitlines() == [
        "reading x.json [00:12]",
        "writing jobs: 3 it(s) [00:13]",
    ]

"""Progress people can read, on a terminal and in logs.

``Progress`` shows done/total, rate, elapsed time, ETA and named counts (created, failed,
retries, ...) through tqdm:

- on a terminal, a tqdm bar redrawn as work is done (at most 5 times a second);
- elsewhere (CI, a log file), one plain line every ``interval`` seconds (10 by default) and
  one at the end, so a long run shows it is alive without flooding the log. A heartbeat
  thread keeps the lines coming while nothing completes (a run waiting on retries).

The clock is injectable: tests drive ``tick()`` with a fake clock and no thread.

Use::

    with Progress(total=len(items), desc="submit", unit="job") as p:
        for item in items:
            ...
            p.update(1, created=1)      # one more done, counted as "created"
            p.count("retries")          # a count that is not a finished item
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

DEFAULT_INTERVAL = 10.0


class Progress:
    """A progress display; see the module docstring. ``enabled=False`` makes every call a
    no-op; ``tty`` overrides the terminal check of ``stream``."""

    def __init__(
        self,
        total: int | None = None,
        *,
        desc: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        enabled: bool = True,
        tty: bool | None = None,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: bool = True,
        order: tuple[str, ...] = (),
        delay: float = 0.0,
        bar_format: str | None = None,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = _isatty(self.stream) if tty is None else tty
        self.interval = interval
        self.clock = clock
        self.order = order  # counts shown first, in this order (the rest after)
        # nothing is shown before ``delay`` seconds: a quick run prints no progress at all
        self.delay = delay
        self.bar_format = bar_format
        self._lines_written = 0
        self.n = 0
        self.counts: Counter[str] = Counter()
        self.started = clock()
        self._next_line = self.started + max(interval, delay)
        self._lock = threading.RLock()
        self._bar: Any = None
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not enabled:
            return
        if self.tty:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                desc=desc or None,
                unit=unit,
                file=self.stream,
                mininterval=0.2,
                dynamic_ncols=True,
                leave=True,
                delay=delay,
                bar_format=bar_format,
            )
        if heartbeat:
            # keeps the elapsed time moving while nothing completes (a long read, retries)
            self._thread = threading.Thread(target=self._beat, name="progress", daemon=True)
            self._thread.start()

    # -- counting -----------------------------------------------------------------------

    def update(self, n: int = 1, **counts: int) -> None:
        """``n`` more items done; ``counts`` add to the named counts."""
        if not self.enabled:
            return
        with self._lock:
            self.n += n
            self.counts.update(counts)
            if self._bar is not None:
                self._bar.set_postfix_str(self.postfix(), refresh=False)
                self._bar.update(n)
        self.tick()

    def set_description(self, desc: str) -> None:
        """Name what is being worked on now (a stage of a longer run)."""
        if not self.enabled:
            return
        with self._lock:
            self.desc = desc
            if self._bar is not None:
                self._bar.set_description_str(desc, refresh=False)

    def set_format(self, bar_format: str | None) -> None:
        """A tqdm ``bar_format`` for what follows (None: tqdm's own)."""
        if not self.enabled:
            return
        with self._lock:
            self.bar_format = bar_format
            if self._bar is not None:
                self._bar.bar_format = bar_format

    def count(self, name: str, n: int = 1) -> None:
        """Add to a named count without advancing the done figure (e.g. retries)."""
        self.update(0, **{name: n})

    # -- output -------------------------------------------------------------------------

    def postfix(self) -> str:
        names = [k for k in self.order if self.counts.get(k)]
        names += sorted(k for k in self.counts if k not in self.order and self.counts[k])
        return ", ".join(f"{k} {self.counts[k]}" for k in names)

    def line(self, now: float | None = None) -> str:
        """The plain line: ``desc:  50% 500/1000 [00:10<00:10, 50.00job/s, created 490, ...]``."""
        from tqdm import tqdm

        elapsed = (self.clock() if now is None else now) - self.started
        with self._lock:
            return str(
                tqdm.format_meter(
                    self.n,
                    self.total,
                    max(0.0, elapsed),
                    ncols=0,
                    prefix=self.desc,
                    unit=self.unit,
                    postfix=self.postfix() or None,
                    bar_format=self.bar_format,
                )
            )

    def tick(self) -> None:
        """Write the plain line when its interval has come (no-op on a terminal)."""
        if not self.enabled or self.tty or self._closed:
            return
        now = self.clock()
        with self._lock:
            if now < self._next_line:
                return
            # steady: the next line is due one interval after this one, whatever the load
            self._next_line = now + self.interval
            text = self.line(now)
        self._write(text)

    def close(self) -> None:
        """The final state: the bar closed, or one last plain line."""
        if not self.enabled or self._closed:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._closed = True
            if self._bar is not None:
                self._bar.set_postfix_str(self.postfix(), refresh=False)
                self._bar.close()
                return
            if self.delay and not self._lines_written and self.clock() - self.started < self.delay:
                return  # a quick run: no progress was shown, and no final line either
            text = self.line()
        self._write(text)

    def _write(self, text: str) -> None:
        self._lines_written += 1
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not stop the work
            pass

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.interval)):
            if self._bar is None:
                self.tick()
                continue
            with self._lock:
                if not self._closed and self.clock() - self.started >= self.delay:
                    self._bar.refresh()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

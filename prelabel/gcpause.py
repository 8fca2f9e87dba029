"""Pausing CPython's cyclic garbage collector around bulk work that makes no cycles.

Parsing a large JSON or XML file, or formatting a million annotation objects, creates many
container objects and no reference cycles. Each allocation burst triggers collections that
walk every live container (the parsed input included), which costs more than the work
itself; reference counting still frees everything.

The collector is process-wide state, so switching it off is the application's decision, not
a library function's: the CLI pauses it around a whole ``convert`` or ``validate`` run, and a
program that calls the library on big inputs can do the same::

    with prelabel.paused_gc():
        ann = prelabel.read_coco("big.json")
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block, restoring its previous state.

    It affects every thread of the process while the block runs: use it around a whole
    batch step of a program, not inside code that others call."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

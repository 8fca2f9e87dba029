"""Pausing CPython's cyclic garbage collector around bulk work that makes no cycles.

Parsing a large JSON or XML file, or formatting a million annotation objects, creates many
container objects and no reference cycles. Each allocation burst triggers collections that
walk every live container (the parsed input included), which costs more than the work
itself; reference counting still frees everything.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block, restoring its previous state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

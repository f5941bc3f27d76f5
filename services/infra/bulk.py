"""Helpers for work on many rows at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Below this many rows the collector's pauses do not matter.
BULK = 1000


@contextmanager
def gc_paused(rows: int) -> Iterator[None]:
    """Hold the cyclic garbage collector while building ``rows`` objects at once: each of
    its full passes walks every live object, and 100,000 new rows trigger dozens of them
    (a fifth of a day's shift generation). Reference counting still frees what is dropped;
    the collector runs again at the end."""
    if rows < BULK or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

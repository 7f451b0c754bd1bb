"""Garbage-collector settings for the bulk runs (import, ingest).

A first sync creates millions of small objects (parsed header fields, rows, pickled batches to and from
the parse worker) and almost no reference cycles, yet CPython's cyclic collector runs every 700
allocations and rescans the surviving objects again and again: a quarter of the CPU of a first sync of
100,000 messages (bench/bench_ingest.py). During a bulk run the objects that exist at its start are
frozen out of the collector's sight, and it runs far less often; reference counting still frees
everything as usual. The settings are restored afterwards, and the parse worker forked meanwhile
inherits them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLD = (50_000, 50, 1_000)  # the defaults are (700, 10, 10)


@contextmanager
def bulk_collection() -> Iterator[None]:
    """Collect cycles rarely while the block runs (see the module docstring)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BULK_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()

"""A pack's own encoder pass, started on another thread beside the shared one.

A pack with an encoder of its own (and a cascade) needs that second transformer pass only for
the messages its quick stage is unsure of. For some messages that is certain before any
transformer runs (``Cascade.cannot_be_sure``, from the TF-IDF member alone); for one such live
message, starting the second pass at once on another thread overlaps the two passes, so the
reader waits for the longer pass instead of their sum. It never adds work: only passes the
cascade would run anyway start early. One runs at a time; when one is still running, the
next message reads sequentially, as before. ``ATTUNE_TEXT_SPECULATE=0`` turns it off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

ENV = "ATTUNE_TEXT_SPECULATE"

_POOL: ThreadPoolExecutor | None = None
_BUSY = threading.Semaphore(1)  # one early pass in flight at a time
_FORCED: list[bool] = []  # innermost ``forced`` value, over the environment
STARTED = {"passes": 0}  # early passes started in this process (the bench reports it)


def enabled() -> bool:
    if _FORCED:
        return _FORCED[-1]
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@contextmanager
def forced(value: bool) -> Iterator[None]:
    """Early passes on or off inside the block, whatever the environment says (the bench
    times both ways in the same run)."""
    _FORCED.append(value)
    try:
        yield
    finally:
        _FORCED.pop()


def start(
    features: Callable[[list[str]], np.ndarray], texts: list[str]
) -> Future[np.ndarray] | None:
    """``features(texts)`` started on another thread, or None: off, or another early pass
    still running (the caller then runs the pass itself, when it needs it)."""
    global _POOL
    if not enabled() or not _BUSY.acquire(blocking=False):
        return None
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attune-pack-pass")
    try:
        future = _POOL.submit(features, texts)
    except RuntimeError:  # interpreter shutting down
        _BUSY.release()
        return None
    future.add_done_callback(lambda _f: _BUSY.release())
    STARTED["passes"] += 1
    return future

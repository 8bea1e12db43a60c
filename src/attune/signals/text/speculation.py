"""The pack's own encoder pass, started beside the shared one for a live message.

A pack with an encoder of its own (and a cascade) needs that second transformer pass only for
the messages its quick stage is unsure of, but the quick stage can decide only after the shared
pass. For one live message on a machine with an idle core, starting the second pass at once,
on another thread, overlaps the two passes: the reader waits for the longer pass instead of
their sum (one Banking77-pack message, generated lines, 2 cores: 3.7 -> 2.2 ms for the two
passes). Where the quick stage turns out sure, the second pass was wasted CPU, so it starts only
while the machine is not saturated (1-minute load average below the core count; the reader and
its own early passes count in it, so "below the core count minus one" would switch a 2-core
machine off by itself) and only one at a time; a saturated machine reads sequentially, as
before. ``ATTUNE_TEXT_SPECULATE=0`` turns it off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

ENV = "ATTUNE_TEXT_SPECULATE"
LOAD_EVERY_S = 1.0  # how often the load average is read again

_POOL: ThreadPoolExecutor | None = None
_BUSY = threading.Semaphore(1)  # one speculative pass in flight at a time
_LOAD = {"at": -LOAD_EVERY_S, "idle": False}
_FORCED: list[bool] = []  # innermost ``forced`` value, over the environment
STARTED = {"passes": 0}  # speculative passes started in this process (the bench reports it)


def enabled() -> bool:
    if _FORCED:
        return _FORCED[-1]
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@contextmanager
def forced(value: bool) -> Iterator[None]:
    """Speculation on or off inside the block, whatever the environment says (the bench
    times both ways in the same run)."""
    _FORCED.append(value)
    try:
        yield
    finally:
        _FORCED.pop()


def idle_core() -> bool:
    """The machine has a core to spare: two cores or more and the 1-minute load average under
    the core count. Read at most once a second."""
    now = time.monotonic()
    if now - _LOAD["at"] >= LOAD_EVERY_S:
        cores = os.cpu_count() or 1
        try:
            load = os.getloadavg()[0]
        except OSError:  # no load average on this platform: do not speculate
            load = float(cores)
        _LOAD["at"], _LOAD["idle"] = now, cores >= 2 and load < cores
    return bool(_LOAD["idle"])


def start(
    features: Callable[[list[str]], np.ndarray], texts: list[str]
) -> Future[np.ndarray] | None:
    """``features(texts)`` started on another thread, or None where that would not pay: off,
    more than one text (batches keep both cores busy already), no idle core, or another
    speculative pass still running."""
    global _POOL
    if len(texts) != 1 or not enabled() or not idle_core():
        return None
    if not _BUSY.acquire(blocking=False):
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

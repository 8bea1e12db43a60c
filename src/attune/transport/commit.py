"""Group commit for the embedded default: a 2xx means the event is in the database.

Requests ingest on the event loop (the engine is in memory) and then await ``committed()``; one
writer task takes everything buffered (``Engine.drain``, on the loop, so it holds every event
ingested before it), writes it in one transaction off the loop, and resolves the future that
all those requests await. Requests arriving during a write share the next transaction, so a
busy server writes large transactions, not one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attune.engine import Engine

log = logging.getLogger("attune.commit")


class NotStored(RuntimeError):
    """The database did not take the transaction: the caller answers 503 (retry is safe)."""


class GroupCommitter:
    def __init__(self, engine: Engine, idle_s: float = 0.25) -> None:
        self.engine = engine
        self.idle_s = idle_s  # without waiters, still write now and then (audit, sessions)
        self._next: asyncio.Future[None] | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def committed(self) -> None:
        """Wait until everything ingested so far is committed (raises ``NotStored``)."""
        if self._task is None or self._wake is None:  # not started (tests without lifespan)
            await asyncio.to_thread(self.engine.flush)
            return
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        future = self._next
        self._wake.set()
        await asyncio.shield(future)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_s)
            self._wake.clear()
            future, self._next = self._next, None
            batch = self.engine.drain()  # on the loop: nothing ingested is missed
            try:
                await asyncio.to_thread(self.engine.write, batch)
            except Exception as exc:  # the engine kept the rows for the next write
                log.warning("commit failed (%s); rows kept for the next try", type(exc).__name__)
                if future is not None and not future.done():
                    future.set_exception(NotStored("the database did not take the events"))
                    future.exception()  # retrieved: waiters may all have gone
                await asyncio.sleep(0.05)
                continue
            if future is not None and not future.done():
                future.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._next is not None and not self._next.done():
            # the shutdown flush writes these rows; their callers are answered after it
            future, self._next = self._next, None
            try:
                await asyncio.to_thread(self.engine.flush)
                future.set_result(None)
            except Exception:
                future.set_exception(NotStored("the database did not take the events"))
                future.exception()

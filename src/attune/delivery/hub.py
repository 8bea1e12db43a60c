"""Live decisions per session for Server-Sent Events and WebSocket subscribers."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class DecisionHub:
    def __init__(self, max_queue: int = 100) -> None:
        self.max_queue = max_queue
        self._subs: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, session_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.max_queue)
        self._subs[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        subs = self._subs.get(session_id)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subs[session_id]

    def publish(self, decision: dict[str, Any]) -> None:
        for queue in self._subs.get(str(decision.get("session_id")), ()):
            if queue.full():  # a slow subscriber loses the oldest, never blocks the engine
                queue.get_nowait()
            queue.put_nowait(decision)

    def subscribers(self, session_id: str) -> int:
        return len(self._subs.get(session_id, ()))

"""Webhooks: escalations (handoff to an agent desktop with context) and announcements such as
experiment hard stops are POSTed as JSON to the configured URLs, with a few retries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

log = logging.getLogger("attune.webhooks")


class Webhooks:
    def __init__(self, urls: list[str], retries: int = 3, timeout_s: float = 5.0) -> None:
        self.urls = urls
        self.retries = retries
        self.timeout_s = timeout_s
        self.sent = 0
        self.failed = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def fire(self, kind: str, body: dict[str, Any]) -> None:
        """Schedule delivery without blocking the caller (needs a running event loop)."""
        if not self.urls:
            return
        task = asyncio.get_running_loop().create_task(self._send({"type": kind, **body}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, body: dict[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            for url in self.urls:
                for attempt in range(self.retries):
                    try:
                        response = await client.post(url, json=body)
                        response.raise_for_status()
                        self.sent += 1
                        break
                    except httpx.HTTPError as exc:
                        if attempt == self.retries - 1:
                            self.failed += 1
                            log.warning("webhook to %s failed: %s", url, type(exc).__name__)
                        else:
                            await asyncio.sleep(0.2 * 2**attempt)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

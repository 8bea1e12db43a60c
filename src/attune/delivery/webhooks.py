"""Webhooks: escalations, handoffs (``handoff.opened|claimed|closed``, schema
``attune.handoff/1``, see docs/handoffs.md) and announcements such as experiment hard stops are
POSTed as JSON to the configured URLs, with a few retries. With a secret set, each carries
``X-Attune-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` so the receiver can
check who sent it and when (reject old timestamps against replays)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from typing import Any

import httpx
import orjson

log = logging.getLogger("attune.webhooks")


class Webhooks:
    def __init__(
        self,
        urls: list[str],
        retries: int = 3,
        timeout_s: float = 5.0,
        secret: str | None = None,
    ) -> None:
        self.urls = urls
        self.secret = secret
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

    def headers(self, content: bytes, now: float | None = None) -> dict[str, str]:
        out = {"Content-Type": "application/json"}
        if self.secret:
            out["X-Attune-Signature"] = sign(self.secret, content, now)
        return out

    async def _send(self, body: dict[str, Any]) -> None:
        content = orjson.dumps(body)
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            for url in self.urls:
                for attempt in range(self.retries):
                    try:
                        headers = self.headers(content)  # a fresh timestamp per attempt
                        response = await client.post(url, content=content, headers=headers)
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


def sign(secret: str, content: bytes, now: float | None = None) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
    t = int(now if now is not None else time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + content, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, content: bytes, header: str, now: float, tolerance_s: float = 300) -> bool:
    """What a receiver does: the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, content, t).split("v1=", 1)[1]
    return abs(now - t) <= tolerance_s and hmac.compare_digest(expected, parts.get("v1", ""))

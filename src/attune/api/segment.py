"""Segment's HTTP conventions, so that the official libraries and analytics.js point at Attune
unchanged (see docs/segment.md).

- analytics.js' short paths: ``/v1/t`` (track), ``/v1/p`` (page), ``/v1/s`` (screen),
  ``/v1/i`` (identify), ``/v1/g`` (group), ``/v1/a`` (alias), ``/v1/b`` (batch).
- analytics.js sends ``text/plain`` with the write key in the body and no auth header: the key
  is lifted into ``Authorization`` and taken out of the body (it is never stored).
- Segment's limits: 32 KB per call, 500 KB per batch; beyond them a 413 that says so.

Compressed bodies (``Content-Encoding: gzip``/``deflate``) are inflated by the guard in front
(``privacy/abuse.py``), which bounds the inflated size, so this sees plain JSON.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from attune.privacy.abuse import ASGIApp, Message, Receive, Scope, Send, answer

SHORT_PATHS = {
    "/v1/t": "/v1/track",
    "/v1/p": "/v1/page",
    "/v1/s": "/v1/screen",
    "/v1/i": "/v1/identify",
    "/v1/g": "/v1/group",
    "/v1/a": "/v1/alias",
    "/v1/b": "/v1/batch",
}
SEGMENT_PATHS = frozenset(SHORT_PATHS.values())
MAX_EVENT_BYTES = 32 * 1024  # Segment: "32KB per call"
MAX_BATCH_BYTES = 500 * 1024  # Segment: "500KB per batch request"


class SegmentCompat:
    def __init__(
        self,
        app: ASGIApp,
        max_event_bytes: int = MAX_EVENT_BYTES,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.app, self.max_event, self.max_batch = app, max_event_bytes, max_batch_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "").rstrip("/")
        path = SHORT_PATHS.get(path, path)
        if path not in SEGMENT_PATHS:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "path": path, "raw_path": path.encode()}
        body = await _read(receive)
        if body is None:
            return
        limit = self.max_batch if path == "/v1/batch" else self.max_event
        if len(body) > limit:
            what = "a batch" if path == "/v1/batch" else "one event"
            await answer(
                send,
                413,
                f"{what} is limited to {limit // 1024} KB (Segment's limit); "
                + ("split the batch" if path == "/v1/batch" else "send less in properties"),
            )
            return
        if b'"writeKey"' in body:
            headers = [
                (k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"
            ]
            has_auth = any(k.lower() in (b"authorization", b"x-api-key") for k, _ in headers)
            body, key = _take_write_key(body, keep_body=path == "/v1/batch")
            if key and not has_auth:  # analytics.js: the key travels in the body
                token = base64.b64encode(f"{key}:".encode()).decode()
                headers.append((b"authorization", f"Basic {token}".encode()))
            headers.append((b"content-length", str(len(body)).encode()))
            scope["headers"] = headers
        await self.app(scope, _replay(body, receive), send)


def _take_write_key(body: bytes, keep_body: bool) -> tuple[bytes, str | None]:
    """The body without its ``writeKey`` (so it is never stored), and the key. A batch's
    top-level fields are not stored, so its body is passed on as it came (no re-encoding)."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None  # the route answers the parse error
    if not isinstance(data, dict):
        return body, None
    key = data.pop("writeKey", None)
    key = key if isinstance(key, str) and key else None
    return (body if keep_body else orjson.dumps(data)), key


async def _read(receive: Receive) -> bytes | None:
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install_segment(app: Any) -> None:
    """Add the Segment conventions (``create_app`` does), inside the guard: the guard's
    size, depth and decompression checks come first."""
    app.add_middleware(SegmentCompat)

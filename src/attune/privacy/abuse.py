"""Abuse guards in front of every route: body size, JSON depth, content type, and a rate limit
per API key. Each refusal is a clear 4xx/429 with a JSON ``detail``; nothing that was already
accepted is touched (the guard answers before the app sees the request).

``install_guards(app)`` adds the middleware (``create_app`` does, with the settings' limits).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
MAX_DEPTH = 32
MAX_DIGITS = 18  # every integer of this length fits in a signed 64-bit column
JSON_TYPES = ("application/json", "application/merge-patch+json")
MEDIA_ROUTES = ("/v1/voice", "/v1/frames")  # audio and images, not JSON
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # a JSON string, escapes included
_DIGITS = re.compile(rb"[0-9]+")
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


def json_scan(body: bytes) -> tuple[int, int]:
    """(deepest nesting of arrays/objects, longest run of digits) outside strings.

    Vectorised with NumPy: a byte loop in Python would cost more than the whole ingest of a
    batch. Without an escaped quote, every quote opens or closes a string, so the parity of the
    running quote count marks what is inside one; a body with ``\\"`` has its strings blanked
    by a regular expression first (slower, still in C).
    """
    if b'\\"' in body:
        body = _STRING.sub(b'""', body)
    codes = np.frombuffer(body, dtype=np.uint8)
    quotes = codes == 0x22
    outside = (np.cumsum(quotes) & 1 == 0) & ~quotes
    steps = np.zeros(codes.shape, dtype=np.int32)
    steps[outside & ((codes == 0x5B) | (codes == 0x7B))] = 1
    steps[outside & ((codes == 0x5D) | (codes == 0x7D))] = -1
    deepest = int(np.cumsum(steps).max(initial=0))
    digits = np.concatenate(([False], outside & (codes >= 0x30) & (codes <= 0x39), [False]))
    edges = np.flatnonzero(digits[1:] != digits[:-1])  # run starts and ends, alternating
    longest = int((edges[1::2] - edges[::2]).max(initial=0))
    return deepest, longest


# What a database refuses in a string (NUL; a lone surrogate is not UTF-8) and what JSON has no
# number for (NaN, Infinity: Python's parser takes them). Searched in the raw bytes first, so a
# clean body costs one scan; the fields are found only when one of them appears.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])|\x00|NaN|Infinity")


def unstorable(body: bytes) -> str | None:
    """``field: why`` for the first value a store would refuse, or None."""
    if not (b"\\u" in body or b"\x00" in body or b"NaN" in body or b"Infinity" in body):
        return None  # plain substring searches: the common case costs almost nothing
    if _SUSPECT.search(body) is None:
        return None
    if b"\x00" in body:
        return "<body>: contains a NUL byte"
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parser answers
    return _first_bad(data, "")


def _first_bad(value: Any, at: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{at or '<body>'}: a number must be finite (no NaN or Infinity)"
    if isinstance(value, str):
        if "\x00" in value:
            return f"{at or '<body>'}: contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{at or '<body>'}: contains an unpaired surrogate (not valid Unicode)"
    elif isinstance(value, dict):
        for k, v in value.items():
            bad = _first_bad(k, at) and f"{at or '<body>'}: a key contains an invalid character"
            if bad or (bad := _first_bad(v, f"{at}.{k}" if at else str(k))):
                return bad
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if bad := _first_bad(v, f"{at}[{i}]"):
                return bad
    return None


def json_depth(body: bytes) -> int:
    return json_scan(body)[0]


class RateLimiter:
    """Token bucket per key: ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate, self.burst, self.clock, self.max_keys = rate, burst, clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 if allowed, else the seconds to wait before the next request may pass."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


def _client_key(scope: Scope) -> str:
    headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
    raw = headers.get("authorization") or headers.get("x-api-key")
    if raw:  # the raw key never stays in memory: only its hash names the bucket
        return "key:" + hashlib.sha256(raw).hexdigest()[:24]
    client = scope.get("client") or ("?", 0)
    return f"ip:{client[0]}"


class GuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = 1_000_000,
        limiter: RateLimiter | None = None,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.app, self.max_body, self.limiter, self.max_depth = (
            app,
            max_body_bytes,
            limiter,
            max_depth,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if self.limiter is not None and path != "/healthz":
            wait = self.limiter.take(_client_key(scope))
            if wait > 0:
                await answer(
                    send,
                    429,
                    "too many requests for this API key; slow down",
                    {"retry-after": str(max(1, math.ceil(wait)))},
                )
                return
        if scope["method"] not in ("POST", "PUT", "PATCH") or path.startswith(MEDIA_ROUTES):
            # media routes check consent before reading a byte, then size and format themselves
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await answer(send, 413, f"request body larger than {self.max_body} bytes")
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await answer(send, 413, f"request body larger than {self.max_body} bytes")
                return
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if body and encoding != "identity":
            try:
                body = inflate(body, encoding, self.max_body)
            except ValueError as exc:
                await answer(send, 413 if "larger" in str(exc) else 400, str(exc))
                return
            scope = dict(scope)
            scope["headers"] = [
                (k, v)
                for k, v in scope.get("headers", [])
                if k.lower() not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if body and ctype == "text/plain":  # Segment's browser library sends JSON as text/plain
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                await answer(send, 415, "a text/plain body must be JSON")
                return
            scope = dict(scope)
            scope["headers"] = [
                (k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-type"
            ]
            scope["headers"].append((b"content-type", b"application/json"))
        elif body and ctype and ctype not in JSON_TYPES:  # no type at all: read as JSON
            await answer(
                send,
                415,
                f"send JSON (Content-Type: application/json), not {ctype or 'no content type'}",
            )
            return
        if body:
            depth, digits = json_scan(body)
            if depth > self.max_depth:
                await answer(send, 422, f"JSON nested deeper than {self.max_depth} levels")
                return
            if digits > MAX_DIGITS:  # such numbers cannot be stored (64-bit) nor mean anything
                await answer(send, 422, f"a number in the JSON has more than {MAX_DIGITS} digits")
                return
            if (bad := unstorable(body)) is not None:  # refused here, never after a 2xx
                await answer(send, 422, bad)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """A gzip or deflate body, inflated to at most ``limit`` bytes (a small compressed body
    may inflate to gigabytes: the limit is checked while inflating, not after)."""
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS  # zlib or raw
    else:
        raise ValueError(f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or none")
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"the body is not valid {encoding}: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ValueError(f"request body larger than {limit} bytes once inflated")
    return out


async def answer(send: Send, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
    payload = orjson.dumps({"detail": detail})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def install_guards(
    app: Any, max_body_bytes: int | None = None, rate: float | None = None, burst: int | None = None
) -> None:
    """Add the guard middleware (``create_app`` does); limits default to the app's settings."""
    settings = app.state.settings
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=max_body_bytes or settings.max_body_bytes,
        limiter=RateLimiter(rate or settings.rate_per_s, burst or settings.rate_burst),
    )

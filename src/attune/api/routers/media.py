"""Voice and video-frame ingest: uploads and live WebSocket streams.

Consent (and the AI disclosure) is checked before a single byte is decoded: without it the
request gets a 403 that says why. Audio and frames live only in memory while they are analysed;
only derived signals are kept.

Nothing here stalls the event loop: bodies are counted as they stream in (a chunked upload
without a length meets the same limit), and decoding and analysis run on a small pool of
threads with a bounded queue (beyond it: 503 with Retry-After). A WebSocket message that does
not fit the protocol closes the socket with code 4400 and a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import numpy as np
import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from starlette.websockets import WebSocketDisconnect

from attune.api.deps import require_scope
from attune.engine import Engine
from attune.events.admitted import AudioChunk, Frame, GatedEvent, Kind
from attune.events.schemas import Message
from attune.policy.decision import Decision

router = APIRouter(prefix="/v1", tags=["voice and video"])
MAX_AUDIO_BYTES = 50_000_000
MAX_FRAME_BYTES = 5_000_000
CHUNK_S = 1.0  # audio is fed to the analyzer a second at a time, as a live call would be
_ids = itertools.count()
# Open live streams per (subject, modality), so that a revocation can close them at once.
OPEN_STREAMS: dict[tuple[str, str], set[WebSocket]] = defaultdict(set)
MEDIA_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="attune-media")
MEDIA_QUEUE = 8  # media jobs running or waiting; more are refused, never queued unboundedly
_in_flight = 0
T = TypeVar("T")


class MediaBusy(RuntimeError):
    pass


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run decoding/analysis on the media pool; refuse when its queue is full."""
    global _in_flight
    if _in_flight >= MEDIA_QUEUE:
        raise MediaBusy("busy with other media")
    _in_flight += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(MEDIA_POOL, partial(fn, *args))
    finally:
        _in_flight -= 1


async def _off_loop_http(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await off_loop(fn, *args)
    except MediaBusy:
        raise HTTPException(
            503, "busy analysing other media; send it again shortly", headers={"Retry-After": "1"}
        ) from None


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The body, counted as it streams: a chunked upload meets the limit like any other."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise HTTPException(413, f"{what} is {length} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"{what} is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _engine(request: Request | WebSocket) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _who(user_id: str | None, anonymous_id: str | None) -> str:
    raw = user_id or anonymous_id
    if not raw:
        raise HTTPException(422, "one of userId or anonymousId is required")
    return raw


def _refuse_without_consent(engine: Engine, raw: str, kind: str) -> None:
    reason = engine.gate.refusal(raw, kind)
    if reason is not None:
        modality = "voice" if kind == "voice" else "face"
        raise HTTPException(403, f"{modality} analysis is not allowed for this subject: {reason}")


def _event(
    engine: Engine,
    kind: Kind,
    raw: str,
    session_id: str | None,
    at: float,
    payload: Any,
    **extra: Any,
) -> GatedEvent:
    ev = engine.gate.media(
        kind, raw, session_id, at, f"{kind}-{time.time_ns()}-{next(_ids)}", payload
    )
    ev.extra.update(extra)
    return ev


def feed_audio(
    engine: Engine,
    raw: str,
    session_id: str | None,
    channels: np.ndarray,
    rate: int,
    customer_channel: int,
    start_at: float,
    final: bool,
) -> Decision | None:
    """Feed decoded audio (channels x samples at ``rate``) to the engine a second at a time."""
    decision = None
    step = int(rate * CHUNK_S)
    total = channels.shape[1]
    for offset in range(0, total, step):
        at = start_at + min(offset + step, total) / rate
        # The agent's channel first: overlap with the customer in this second is then known
        # when the customer's audio is analysed, not a second later.
        order = sorted(range(channels.shape[0]), key=lambda i: i == customer_channel)
        for idx in order:
            role = "customer" if idx == customer_channel or channels.shape[0] == 1 else "agent"
            chunk = AudioChunk(channels[idx, offset : offset + step], rate, role)  # type: ignore[arg-type]
            ev = _event(
                engine,
                "voice",
                raw,
                session_id,
                at,
                chunk,
                seconds=CHUNK_S,
                role=role,
                sample_rate=rate,
            )
            decision = engine.process(ev, engine.gate.may_analyze(ev.subject, "voice"))
    analyzer = engine.analyzers.get("voice")
    if final and analyzer is not None and hasattr(analyzer, "flush") and decision is not None:
        ev = _event(engine, "voice", raw, session_id, start_at + total / rate, None)
        rt = engine.sessions[ev.session_id]
        decision = engine.apply_signals(ev, analyzer.flush(rt.scratch, ev.at))
    return decision


@router.post(
    "/voice",
    summary="Upload call audio (WAV, FLAC, Ogg/Opus); stereo: one channel is the customer",
    dependencies=[Depends(require_scope("ingest"))],
)
async def upload_voice(
    request: Request,
    session_id: str | None = Query(None, alias="sessionId", max_length=200),
    user_id: str | None = Query(None, alias="userId", max_length=200),
    anonymous_id: str | None = Query(None, alias="anonymousId", max_length=200),
    customer_channel: int = Query(0, alias="customerChannel", ge=0, le=1),
    transcript: str | None = Query(None, max_length=20_000),
) -> dict[str, Any]:
    engine = _engine(request)
    raw = _who(user_id, anonymous_id)
    _refuse_without_consent(engine, raw, "voice")
    data = await read_limited(request, MAX_AUDIO_BYTES, "audio")
    if "voice" not in engine.analyzers:
        raise HTTPException(
            503,
            "the voice analyzer is not available: "
            + engine.unavailable.get("voice", "not configured"),
        )
    before = engine.counts["signals"]
    seconds, decision = await _off_loop_http(
        _analyse_upload, engine, raw, session_id, data, customer_channel
    )
    del data
    if transcript:
        msg = Message.model_validate(
            {
                "messageId": f"transcript-{time.time_ns()}",
                "userId": raw,
                "sessionId": session_id,
                "speaker": "customer",
                "text": transcript,
            }
        )
        decision = engine.ingest(msg) or decision
    await request.app.state.transport.durable()
    return {
        "ok": True,
        "seconds": round(seconds, 2),
        "signals": engine.counts["signals"] - before,
        "decision": decision.to_dict() if decision else None,
    }


def _analyse_upload(
    engine: Engine, raw: str, session_id: str | None, data: bytes, customer_channel: int
) -> tuple[float, Decision | None]:
    """Decode (header claims checked against the bytes first) and analyse, on the media pool."""
    from attune.signals.voice.audio_io import AudioDecodeError, decode_audio

    try:
        channels, rate, n_channels = decode_audio(data)  # (channels, n) at 16 kHz
    except AudioDecodeError as exc:
        raise HTTPException(415, f"cannot read the audio: {exc}") from None
    if customer_channel >= n_channels:
        raise HTTPException(
            422, f"customerChannel {customer_channel} but the audio has {n_channels} channel(s)"
        )
    seconds = channels.shape[1] / rate
    decision = feed_audio(
        engine, raw, session_id, channels, rate, customer_channel, time.time() - seconds, True
    )
    return seconds, decision


@router.post(
    "/frames",
    summary="Upload one video frame (JPEG or PNG) of a consented call",
    dependencies=[Depends(require_scope("ingest"))],
)
async def upload_frame(
    request: Request,
    session_id: str | None = Query(None, alias="sessionId", max_length=200),
    user_id: str | None = Query(None, alias="userId", max_length=200),
    anonymous_id: str | None = Query(None, alias="anonymousId", max_length=200),
) -> dict[str, Any]:
    engine = _engine(request)
    raw = _who(user_id, anonymous_id)
    _refuse_without_consent(engine, raw, "frame")
    data = await read_limited(request, MAX_FRAME_BYTES, "frame")
    decision = await _off_loop_http(_frame, engine, raw, session_id, data)
    await request.app.state.transport.durable()
    return {"ok": True, "decision": decision.to_dict()}


def _frame(engine: Engine, raw: str, session_id: str | None, data: bytes) -> Decision:
    if "face" not in engine.analyzers:
        raise HTTPException(
            503,
            "the face analyzer is not available: "
            + engine.unavailable.get("face", "not configured"),
        )
    from attune.signals.face.decode import FrameRejected, decode_frame

    try:
        image = decode_frame(data, max_bytes=MAX_FRAME_BYTES)
    except FrameRejected as exc:  # it knows its status: too large, not an image, broken
        raise HTTPException(exc.status, f"cannot use the frame: {exc}") from None
    ev = _event(engine, "frame", raw, session_id, time.time(), Frame(image))
    return engine.process(ev, engine.gate.may_analyze(ev.subject, "frame"))


# -- live streams ----------------------------------------------------------------------------


async def _start(ws: WebSocket, kind: str) -> tuple[Engine, str, dict[str, Any]] | None:
    """Authenticate, read the start message, check consent. None: the socket was closed."""
    engine = _engine(ws)
    key = ws.query_params.get("key") or ws.headers.get("x-api-key")
    api_key = ws.app.state.keys.verify(key) if key else None
    await ws.accept()
    if api_key is None or not api_key.allows("ingest"):
        await ws.close(4401, "an ingest key is required (?key=...)")
        return None
    try:
        message = await ws.receive()
        if message.get("type") == "websocket.disconnect":
            return None
        if message.get("text") is None:
            raise ValueError("the first message must be the JSON start message (text)")
        start = check_start(orjson.loads(message["text"]))
        raw = str(start.get("userId") or start.get("anonymousId"))
    except orjson.JSONDecodeError as exc:
        await ws.close(4400, f"the start message is not JSON: {exc}"[:120])
        return None
    except ValueError as exc:
        await ws.close(4400, str(exc)[:120])
        return None
    reason = engine.gate.refusal(raw, kind)
    if reason is not None:
        await ws.close(4403, f"not allowed: {reason}"[:120])
        return None
    return engine, raw, start


def check_start(start: Any) -> dict[str, Any]:
    """The start message, checked field by field (ValueError says what is wrong)."""
    if not isinstance(start, dict):
        raise ValueError("the start message must be a JSON object")
    if start.get("type") != "start":
        raise ValueError("send a start message with type 'start' and userId or anonymousId")
    for name in ("userId", "anonymousId", "sessionId"):
        value = start.get(name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 200):
            raise ValueError(f"{name} must be a string of 1..200 characters")
    if not (start.get("userId") or start.get("anonymousId")):
        raise ValueError("the start message needs userId or anonymousId")
    for name, allowed in (
        ("sampleRate", (8000, 16000)),
        ("channels", (1, 2)),
        ("customerChannel", (0, 1)),
    ):
        value = start.get(name)
        if value is not None and (type(value) is not int or value not in allowed):
            raise ValueError(f"{name} must be one of {list(allowed)}")
    if int(start.get("customerChannel", 0)) >= int(start.get("channels", 1)):
        raise ValueError("customerChannel must name one of the channels")
    return start


async def _next_bytes(ws: WebSocket) -> bytes | None:
    """The next binary message; None when the client went away. A text message after the
    start closes the socket with 4400 and says why."""
    message = await ws.receive()
    if message.get("type") == "websocket.disconnect":
        return None
    data = message.get("bytes")
    if data is None:
        await ws.close(4400, "after the start message, send binary messages only")
        return None
    return bytes(data)


async def _send_decision(ws: WebSocket, decision: Decision | None, last: list[str]) -> None:
    if decision is not None and decision.id != (last[0] if last else None):
        last[:] = [decision.id]
        await ws.send_text(orjson.dumps({"type": "decision", **decision.to_dict()}).decode())


@router.websocket("/voice/stream")
async def voice_stream(ws: WebSocket) -> None:
    """Live call audio: a JSON start message {type: "start", sampleRate: 8000|16000,
    channels: 1|2, customerChannel: 0|1, userId|anonymousId, sessionId}, then binary
    16-bit little-endian PCM frames (interleaved if stereo). Decisions come back as JSON."""
    started = await _start(ws, "voice")
    if started is None:
        return
    engine, raw, start = started
    from attune.signals.voice.audio_io import Pcm16Reader

    rate, n_channels = int(start.get("sampleRate", 16000)), int(start.get("channels", 1))
    reader = Pcm16Reader(rate, n_channels)  # both checked by ``check_start``
    stream_key = (engine.gate.pseudonymize(raw), "voice")
    OPEN_STREAMS[stream_key].add(ws)
    last: list[str] = []
    t0 = time.time()
    received = 0
    try:
        while (data := await _next_bytes(ws)) is not None:
            try:
                channels = reader.feed(data)
            except ValueError as exc:  # not whole PCM16 frames, say
                await ws.close(4400, str(exc)[:120])
                break
            if channels.size == 0:
                continue
            try:
                decision = await off_loop(
                    feed_audio,
                    engine,
                    raw,
                    start.get("sessionId"),
                    channels,
                    16000,
                    int(start.get("customerChannel", 0)),
                    t0 + received / 16000,
                    False,
                )
            except MediaBusy:
                await ws.close(1013, "busy analysing other media; reconnect shortly")
                break
            received += channels.shape[1]
            await _send_decision(ws, decision, last)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        OPEN_STREAMS[stream_key].discard(ws)


@router.websocket("/frames/stream")
async def frame_stream(ws: WebSocket) -> None:
    """Live video frames: a JSON start message {type: "start", userId|anonymousId, sessionId},
    then one binary JPEG/PNG frame per message. Decisions come back as JSON."""
    started = await _start(ws, "frame")
    if started is None:
        return
    engine, raw, start = started
    stream_key = (engine.gate.pseudonymize(raw), "face")
    OPEN_STREAMS[stream_key].add(ws)
    last: list[str] = []
    try:
        while (data := await _next_bytes(ws)) is not None:
            try:
                decision = await off_loop(_frame, engine, raw, start.get("sessionId"), data)
            except HTTPException as exc:
                await ws.send_text(orjson.dumps({"type": "error", "detail": exc.detail}).decode())
                continue
            except MediaBusy:
                await ws.close(1013, "busy analysing other media; reconnect shortly")
                break
            await _send_decision(ws, decision, last)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        OPEN_STREAMS[stream_key].discard(ws)


def close_streams(subject: str, modality: str) -> int:
    """Close a subject's open streams of one modality (called when consent is revoked)."""
    streams = list(OPEN_STREAMS.pop((subject, modality), ()))
    for ws in streams:
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(
                ws.close(4403, f"{modality} consent was withdrawn")
            )
    return len(streams)

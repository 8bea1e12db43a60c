"""Voice and video-frame ingest: uploads and live WebSocket streams.

Consent (and the AI disclosure) is checked before a single byte is decoded: without it the
request gets a 403 that says why. Audio and frames live only in memory while they are analysed;
only derived signals are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from typing import Any

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
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_AUDIO_BYTES:
        raise HTTPException(413, f"audio is {length} bytes; the limit is {MAX_AUDIO_BYTES}")
    data = await request.body()
    if "voice" not in engine.analyzers:
        raise HTTPException(
            503,
            "the voice analyzer is not available: "
            + engine.unavailable.get("voice", "not configured"),
        )
    from attune.signals.voice.audio_io import AudioDecodeError, decode_audio

    try:
        samples, rate, n_channels = decode_audio(data)
    except AudioDecodeError as exc:
        raise HTTPException(415, f"cannot read the audio: {exc}") from None
    del data
    channels = samples  # (channels, n) at 16 kHz
    if customer_channel >= n_channels:
        raise HTTPException(
            422, f"customerChannel {customer_channel} but the audio has {n_channels} channel(s)"
        )
    before = engine.counts["signals"]
    decision = feed_audio(
        engine,
        raw,
        session_id,
        channels,
        rate,
        customer_channel,
        time.time() - channels.shape[1] / rate,
        final=True,
    )
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
    return {
        "ok": True,
        "seconds": round(channels.shape[1] / rate, 2),
        "signals": engine.counts["signals"] - before,
        "decision": decision.to_dict() if decision else None,
    }


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
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_FRAME_BYTES:
        raise HTTPException(413, f"frame is {length} bytes; the limit is {MAX_FRAME_BYTES}")
    data = await request.body()
    decision = _frame(engine, raw, session_id, data)
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
        start = orjson.loads(await ws.receive_text())
        raw = str(start.get("userId") or start.get("anonymousId") or "")
        if start.get("type") != "start" or not raw:
            raise ValueError("send a start message with type 'start' and userId or anonymousId")
    except (ValueError, KeyError, orjson.JSONDecodeError) as exc:
        await ws.close(4400, str(exc)[:120])
        return None
    reason = engine.gate.refusal(raw, kind)
    if reason is not None:
        await ws.close(4403, f"not allowed: {reason}"[:120])
        return None
    return engine, raw, start


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

    try:
        rate, n_channels = int(start.get("sampleRate", 16000)), int(start.get("channels", 1))
        if rate not in (8000, 16000) or n_channels not in (1, 2):
            raise ValueError("sampleRate must be 8000 or 16000 and channels 1 or 2")
        reader = Pcm16Reader(rate, n_channels)
    except ValueError as exc:
        await ws.close(4400, str(exc)[:120])
        return
    stream_key = (engine.gate.pseudonymize(raw), "voice")
    OPEN_STREAMS[stream_key].add(ws)
    last: list[str] = []
    t0 = time.time()
    received = 0
    try:
        while True:
            data = await ws.receive_bytes()
            channels = reader.feed(data)
            if channels.size == 0:
                continue
            decision = feed_audio(
                engine,
                raw,
                start.get("sessionId"),
                channels,
                16000,
                int(start.get("customerChannel", 0)),
                t0 + received / 16000,
                final=False,
            )
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
        while True:
            data = await ws.receive_bytes()
            try:
                decision = _frame(engine, raw, start.get("sessionId"), data)
            except HTTPException as exc:
                await ws.send_text(orjson.dumps({"type": "error", "detail": exc.detail}).decode())
                continue
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

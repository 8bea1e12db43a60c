"""The handoff queue for agents (scope ``agent``), its statistics for analysts (no
transcripts), and the agent console page. An agent key reads and works the queue and nothing
else: no sessions, no exports, no consent changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from attune.api.deps import require_scope
from attune.delivery.handoffs import HandoffConflict, HandoffQueue

router = APIRouter(tags=["handoffs"])
agent = [Depends(require_scope("agent"))]
CONSOLE = Path(__file__).resolve().parents[2] / "dashboard" / "static" / "agent.html"
POLL_S = 1.0  # how often a console's stream looks for new turns


class Close(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["resolved", "callback", "not_reachable"]
    note: str | None = Field(None, max_length=500)  # kept out of storage: may hold PII


def _queue(request: Request) -> HandoffQueue:
    queue: HandoffQueue | None = request.app.state.handoffs
    if queue is None:
        raise HTTPException(503, "the handoff queue needs a store")
    return queue


def _actor(request: Request) -> str:
    key = request.state.api_key
    return f"key:{key.name}#{key.id}"


@router.get("/v1/handoffs", summary="The handoff queue, highest priority first", dependencies=agent)
async def list_handoffs(
    request: Request,
    status: Literal["open", "claimed", "closed"] | None = None,
    channel: str | None = None,
    language: str | None = None,
    queue: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    found = _queue(request).list(_actor(request), status, channel, language, queue, limit)
    return {"count": len(found), "handoffs": found}


@router.get(
    "/v1/handoffs/stats",
    summary="Handoff volume, times and outcomes by queue and language (no transcripts)",
    dependencies=[Depends(require_scope("analyst"))],
)
async def handoff_stats(request: Request) -> dict[str, Any]:
    return _queue(request).stats()


@router.get("/v1/handoffs/{handoff_id}", summary="One handoff", dependencies=agent)
async def get_handoff(handoff_id: str, request: Request) -> dict[str, Any]:
    view = _queue(request).get(handoff_id, _actor(request))
    if view is None:
        raise HTTPException(404, f"no handoff {handoff_id!r}")
    return view


@router.post("/v1/handoffs/{handoff_id}/claim", summary="Take a handoff", dependencies=agent)
async def claim(handoff_id: str, request: Request) -> dict[str, Any]:
    try:
        view = _queue(request).claim(handoff_id, _actor(request))
    except HandoffConflict as exc:
        raise HTTPException(409, str(exc)) from None
    if view is None:
        raise HTTPException(404, f"no handoff {handoff_id!r}")
    return view


@router.post("/v1/handoffs/{handoff_id}/close", summary="Close with an outcome", dependencies=agent)
async def close(handoff_id: str, body: Close, request: Request) -> dict[str, Any]:
    try:
        view = _queue(request).close(handoff_id, _actor(request), body.outcome)
    except HandoffConflict as exc:
        raise HTTPException(409, str(exc)) from None
    if view is None:
        raise HTTPException(404, f"no handoff {handoff_id!r}")
    return view


@router.get(
    "/v1/handoffs/{handoff_id}/stream",
    summary="Server-Sent Events: the handoff (turns, state, coaching) as it changes",
    dependencies=agent,
)
async def stream(handoff_id: str, request: Request) -> EventSourceResponse:
    queue, actor = _queue(request), _actor(request)
    if queue.get(handoff_id, actor, transcript=False) is None:
        raise HTTPException(404, f"no handoff {handoff_id!r}")

    async def events() -> AsyncIterator[dict[str, str]]:
        last: tuple[Any, ...] | None = None
        while True:  # the read is audited once per stream, not per poll
            view = queue.get(handoff_id, actor, transcript=True, audit=last is None)
            if view is None:
                return
            key = (len(view["transcript"]), view["status"], view["consent"]["text"])
            if key != last:  # a new turn, a claim or close, a consent change
                last = key
                yield {"event": "handoff", "data": orjson.dumps(view).decode()}
            if view["status"] == "closed":
                return
            await asyncio.sleep(POLL_S)

    return EventSourceResponse(events(), ping=15)


@router.get(
    "/agent", summary="The agent console (asks for a key in the page)", response_class=Response
)
async def console() -> Response:
    # The page holds no data; it reads the keyed API. No CDN: everything is inline.
    return Response(CONSOLE.read_bytes(), media_type="text/html")

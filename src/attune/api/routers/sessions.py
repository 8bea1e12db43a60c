"""Session state, current decision and a Server-Sent-Events stream of decisions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import func, select
from sse_starlette.sse import EventSourceResponse

from attune.api.deps import require_scope
from attune.storage import tables

router = APIRouter(
    prefix="/v1/sessions", tags=["sessions"], dependencies=[Depends(require_scope("read"))]
)


def _view(request: Request, session_id: str) -> dict[str, Any]:
    # in scale-out the workers hold sessions: the transport reads what they left in Redis
    view: dict[str, Any] | None = request.app.state.transport.session_view(session_id)
    if view is None:
        raise HTTPException(404, f"no live session {session_id!r}")
    return view


def _subject(request: Request, session_id: str) -> str | None:
    rt = request.app.state.engine.sessions.get(session_id)
    if rt is not None:
        return str(rt.subject)
    with request.app.state.store.connect() as conn:
        s = tables.sessions
        found = conn.execute(select(s.c.subject).where(s.c.id == session_id)).scalar()
    return str(found) if found is not None else None


@router.get("", summary="Live sessions, most recent first")
async def list_sessions(request: Request, limit: int = 50) -> dict[str, Any]:
    engine = request.app.state.engine
    live = sorted(engine.sessions.values(), key=lambda rt: rt.last_at, reverse=True)
    return {
        "count": len(engine.sessions),
        "sessions": [
            {
                "session_id": rt.id,
                "arm": rt.arm,
                "moment": rt.policy.moment,
                "step": rt.step,
                "top": rt.state.top if rt.state else None,
                "mode": rt.decision.mode if rt.decision else "standard",
                "last_at": rt.last_at,
            }
            for rt in live[: max(1, min(limit, 500))]
        ],
    }


@router.get("/{session_id}", summary="Fused emotional state and current decision")
async def get_session(session_id: str, request: Request) -> dict[str, Any]:
    view = _view(request, session_id)
    # A person's inferred emotional state is personal data: who read it is audited (queued,
    # written with the next batch). Decision reads and the stream are delivery, not audited.
    key = request.state.api_key
    request.app.state.privacy.audit.append(
        "personal_data_read",
        f"key:{key.name}#{key.id}",
        _subject(request, session_id),
        {"what": "session_state"},
        sync=False,
    )
    request.app.state.engine.flush()
    with request.app.state.store.connect() as conn:
        view["signals"] = conn.execute(
            select(func.count())
            .select_from(tables.signals)
            .where(tables.signals.c.session_id == session_id)
        ).scalar_one()
    return view


@router.get("/{session_id}/decision", summary="The session's current decision")
async def get_decision(session_id: str, request: Request) -> dict[str, Any]:
    decision: dict[str, Any] = _view(request, session_id)["decision"]
    return decision


@router.get("/{session_id}/stream", summary="Server-Sent Events: decisions as they change")
async def stream(session_id: str, request: Request) -> EventSourceResponse:
    hub = request.app.state.hub

    async def events() -> AsyncIterator[dict[str, str]]:
        queue = hub.subscribe(session_id)
        try:
            view = request.app.state.transport.session_view(session_id)
            if view is not None:
                yield {"event": "decision", "data": orjson.dumps(view["decision"]).decode()}
            while True:
                try:
                    decision = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield {"event": "ping", "data": "{}"}
                    continue
                yield {"event": "decision", "data": orjson.dumps(decision).decode()}
        finally:
            hub.unsubscribe(session_id, queue)

    return EventSourceResponse(events())

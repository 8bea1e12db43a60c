"""Ingest: Segment-compatible behaviour events, chat/transcript messages, outcomes, feedback.
Each answers with the session's current decision. A batch reports per-event errors and never
loses its good events because of a bad one.

A 2xx means stored: the answer waits for the transport's ``durable()`` (in-process, the group
commit; a stream, its publish acknowledgement), a 503 means nothing was promised. A public
(browser) key reaches only its own visitor's sessions (``attune.api.visitor_tokens``)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import ValidationError

from attune.api import visitor_tokens
from attune.api.deps import require_scope
from attune.api.errors import problems
from attune.api.segment import MAX_EVENT_BYTES
from attune.engine import Engine
from attune.events.schemas import (
    ANY_EVENT,
    Batch,
    Feedback,
    Identify,
    Message,
    Observation,
    Outcome,
    PageView,
    Screen,
    Track,
)
from attune.signals import registry
from attune.transport.base import Transport
from attune.transport.commit import NotStored

router = APIRouter(prefix="/v1", tags=["ingest"], dependencies=[Depends(require_scope("ingest"))])


def _route_key(event: Any) -> str:
    """Partition key: the session, or the caller's id when no session is named."""
    return str(event.session_id or event.context.session_id or event.raw_subject)


async def _submit(
    request: Request,
    event: Any,
    raw: dict[str, Any] | None = None,
    answer: bool = True,
    sent_at: Any = None,
) -> Any:
    transport: Transport = request.app.state.transport
    event.stamp(raw, sent_at)  # receive time: the client's clock counts only within a window
    return await transport.submit(_route_key(event), event, raw, answer)


async def _durable(request: Request) -> None:
    try:
        await request.app.state.transport.durable()
    except NotStored:
        raise HTTPException(
            503, "the event could not be stored yet; send it again (its messageId makes that safe)"
        ) from None


async def _handle(request: Request, event: Any) -> dict[str, Any]:
    refused = visitor_tokens.refusal(request, event)
    if refused is not None:
        raise HTTPException(403, f"{refused[0]}: {refused[1]}")
    engine = _engine(request)
    duplicates = engine.counts["duplicates"]
    start = time.perf_counter()
    decision = await _submit(request, event)
    await _durable(request)
    metrics = request.app.state.metrics
    queued = request.app.state.transport.queues
    if not queued:  # processed here: the time to the decision
        metrics.decision.observe(time.perf_counter() - start)
    duplicate = engine.counts["duplicates"] > duplicates
    metrics.ingested(request.url.path, 1, int(duplicate))
    answer: dict[str, Any] = {"ok": True, "decision": decision}
    if queued:
        answer["queued"] = True
    if duplicate:
        answer["duplicate"] = True  # a replayed messageId: accepted, not processed again
    if visitor_tokens.is_public(request):
        answer["sessionToken"] = visitor_tokens.token_for(request, event.raw_subject)
    return answer


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@router.post("/track", summary="Segment track")
async def track(event: Track, request: Request) -> dict[str, Any]:
    return await _handle(request, event)


@router.post("/page", summary="Segment page")
async def page(event: PageView, request: Request) -> dict[str, Any]:
    return await _handle(request, event)


@router.post("/screen", summary="Segment screen")
async def screen(event: Screen, request: Request) -> dict[str, Any]:
    return await _handle(request, event)


@router.post("/identify", summary="Segment identify (traits are not stored)")
async def identify(event: Identify, request: Request) -> dict[str, Any]:
    return await _handle(request, event)


@router.post("/group", summary="Segment group (accepted, not used)")
@router.post("/alias", summary="Segment alias (accepted, not used)")
async def unused(request: Request) -> dict[str, Any]:
    # Segment's libraries send these; refusing them would make a tracker retry for ever.
    return {"ok": True, "ignored": True, "reason": "Attune does not use group or alias calls"}


@router.post("/messages", summary="A chat message or transcript turn")
async def message(event: Message, request: Request) -> dict[str, Any]:
    answer = await _handle(request, event)
    # Say why a message was not analysed rather than answer a bare ok.
    engine = _engine(request)
    if event.speaker == "agent":
        reason: str | None = "an agent's turn is never analysed"
    elif "text" not in engine.analyzers and not request.app.state.transport.queues:
        why = engine.unavailable.get("text", "text is not in ATTUNE_MODALITIES")
        reason = f"the text analyzer is not running: {why}"
    else:
        reason = engine.gate.refusal(event.raw_subject, "message")
    answer["analysed"] = reason is None and not answer.get("duplicate")
    if reason is not None:
        answer["reason"] = reason
    elif answer.get("duplicate"):
        answer["reason"] = "a replayed messageId: analysed when it first came"
    return answer


@router.post(
    "/observations", summary="A reading for a modality added through the registry (by kind)"
)
async def observation(event: Observation, request: Request) -> dict[str, Any]:
    if registry.modality_of_kind(event.kind) is None:
        raise HTTPException(
            422, f"no registered modality reads observations of kind {event.kind!r}"
        )
    return await _handle(request, event)


@router.post("/outcomes", summary="A KPI event: conversion, abandonment, CSAT ...")
async def outcome(event: Outcome, request: Request) -> dict[str, Any]:
    return await _handle(request, event)


@router.post("/feedback", summary="A person's judgement of a shown state")
async def feedback(event: Feedback, request: Request) -> dict[str, Any]:
    return await _handle(request, event)


BATCH_SCHEMA = Batch.model_json_schema()


@router.post(
    "/batch",
    summary="Segment batch (any event types), per-event errors",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_SCHEMA}}}
    },
)
async def batch(
    request: Request,
    validate_only: bool = Query(
        False,
        alias="validateOnly",
        description="Check every event and answer with per-event errors; process and store "
        "nothing (to test a tracker's payloads).",
    ),
) -> Response:
    # Parsed here with orjson rather than by a body model: a batch is the high-volume path,
    # and each event is validated on its own so that one bad event loses nothing else.
    try:
        body = Batch.model_validate(orjson.loads(await request.body()))
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
    except ValidationError as exc:
        found = problems(exc.errors())
        raise HTTPException(
            422, "invalid batch: " + "; ".join(f"{p['field']}: {p['message']}" for p in found[:5])
        ) from None
    engine = _engine(request)
    queued = request.app.state.transport.queues
    shared_context = body.context or {}
    sent_at = (body.model_extra or {}).get("sentAt")  # Segment sends it per batch
    big = len(await request.body()) > MAX_EVENT_BYTES  # only then can one event be too large
    ignored = 0
    errors: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    tokens: dict[str, str] = {}
    public = visitor_tokens.is_public(request)
    vouched: set[str] = set()
    accepted = 0
    counts_before = {k: engine.counts[k] for k in ("duplicates", "erased")}
    for index, item in enumerate(body.batch):
        if not isinstance(item, dict):
            errors.append(
                {
                    "index": index,
                    "errors": [{"field": "<event>", "message": "an event is a JSON object"}],
                }
            )
            continue
        if shared_context and "context" not in item:
            item = {**item, "context": shared_context}
        if item.get("type") in ("group", "alias"):
            ignored += 1
            continue
        if big and len(orjson.dumps(item)) > MAX_EVENT_BYTES:
            errors.append(
                {
                    "index": index,
                    "errors": [
                        {
                            "field": "<event>",
                            "message": f"an event is limited to {MAX_EVENT_BYTES // 1024} KB "
                            "(Segment's limit)",
                        }
                    ],
                }
            )
            continue
        try:
            event = ANY_EVENT.validate_python(item)
        except ValidationError as exc:
            errors.append({"index": index, "errors": problems(exc.errors(), tagged=True)})
            continue
        if validate_only:
            continue
        refused = visitor_tokens.refusal(request, event, vouched)
        if refused is not None:
            errors.append(
                {"index": index, "errors": [dict(zip(("field", "message"), refused, strict=True))]}
            )
            continue
        decision = await _submit(request, event, item, answer=not queued, sent_at=sent_at)
        accepted += 1
        if decision is not None and not queued:
            latest[decision["session_id"]] = decision
            if public:
                tokens[decision["session_id"]] = visitor_tokens.token_for(
                    request, event.raw_subject
                )
    if accepted:
        await _durable(request)
    duplicates = engine.counts["duplicates"] - counts_before["duplicates"]
    request.app.state.metrics.ingested("/v1/batch", accepted, duplicates, len(errors))
    answer = {
        "ok": not errors,
        "validated_only": validate_only,
        "queued": queued,
        "accepted": accepted,
        # accepted, not processed: replayed ids, and late events of subjects already erased
        "duplicates": duplicates,
        "dropped_erased": engine.counts["erased"] - counts_before["erased"],
        "ignored": ignored,  # group and alias calls: accepted, not used
        "errors": errors,
        "decisions": latest,
    }
    if public:
        answer["sessionTokens"] = tokens
    return Response(orjson.dumps(answer), media_type="application/json")

"""For operators: ``/metrics`` (Prometheus text format) and ``/readyz`` (is every backend this
service needs reachable). Neither needs a key; neither shows an id or personal data."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from attune.storage.problems import describe

router = APIRouter(tags=["system"])


@router.get("/metrics", summary="Prometheus metrics (no key needed; counts only)")
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    body = await asyncio.to_thread(generate_latest, registry)  # reads the database once
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _database(store: Any) -> str | None:
    try:
        with store.connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:
        return describe(store.url, exc)


@router.get("/readyz", summary="Readiness: the database (and NATS, Redis when configured)")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks: dict[str, str] = {}
    problem = await asyncio.to_thread(_database, state.store)
    checks["database"] = problem or "ok"
    transport = state.transport
    nc = getattr(transport, "nc", None)  # the NATS transport's connection
    if transport.queues:
        checks["nats"] = "ok" if nc is not None and nc.is_connected else "not connected to NATS"
    cache = getattr(transport, "cache", None)  # its Redis session cache
    if cache is not None:
        try:
            await asyncio.to_thread(cache.client.ping)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"Redis does not answer: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

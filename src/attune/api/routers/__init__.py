"""Routers of the API, one module per area. Adding an area is one line in ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from attune.api.routers import (
    docs,
    handoffs,
    ingest,
    keys,
    media,
    ops,
    outreach,
    sessions,
    system,
)
from attune.api.routers import measure as measure_routes
from attune.api.routers import privacy as privacy_routes

ROUTERS: list[APIRouter] = [
    system.router,
    ingest.router,
    keys.router,
    sessions.router,
    handoffs.router,
    outreach.router,
    media.router,
    privacy_routes.router,
    measure_routes.router,
    docs.router,
    ops.router,
]

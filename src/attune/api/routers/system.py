"""Health and service information."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from attune import __version__
from attune.api.deps import require_scope

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness (no key needed)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/v1/info",
    summary="Versions, analyzers and playbooks in use",
    dependencies=[Depends(require_scope("read"))],
)
async def info(request: Request) -> dict[str, Any]:
    engine = request.app.state.engine
    return {
        "version": __version__,
        "analyzers": {m: getattr(a, "version", "?") for m, a in engine.analyzers.items()},
        "unavailable": engine.unavailable,
        "playbooks": engine.policy.version,
        "moments": sorted(engine.policy.moments),
        "counts": engine.counts,
        "sandbox": request.app.state.settings.sandbox,
    }


STATIC = Path(__file__).resolve().parents[2] / "dashboard" / "static"
TRACKER = Path(__file__).resolve().parents[2] / "tracker" / "attune.js"


@router.get("/tracker.js", summary="The browser tracker (no key needed)", response_class=Response)
async def tracker() -> Response:
    return Response(
        TRACKER.read_bytes(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get(
    "/dashboard", summary="The web dashboard (asks for a key in the page)", response_class=Response
)
async def dashboard(request: Request) -> Response:
    # The page itself holds no data; every figure it shows comes from the keyed API.
    page = (STATIC / "dashboard.html").read_bytes()
    if request.app.state.settings.sandbox:
        page = page.replace(b"<body>", SANDBOX_BANNER, 1)
    return Response(page, media_type="text/html")


SANDBOX_BANNER = (
    b'<body><div id="sandbox-banner" role="alert" style="background:#b45309;color:#fff;'
    b'padding:8px 16px;font-weight:600">SANDBOX MODE: the example playbooks run without '
    b"approval. Not for real customers; production settings refuse this mode.</div>"
)

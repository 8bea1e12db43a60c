"""API documentation pages that work offline: Swagger UI at /docs and ReDoc at /redoc, their
scripts and styles served from the fastapi-offline package rather than a CDN (Attune runs
air-gapped). The app is created with FastAPI's own CDN-backed pages turned off."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_URL = "/docs/assets"
FILES = frozenset(p.name for p in ASSETS.iterdir() if p.is_file())

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - API",
        swagger_js_url=f"{root}{ASSET_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSET_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSET_URL}/favicon.png",
        # no badge fetched from the public validator
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - API reference",
        redoc_js_url=f"{root}{ASSET_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSET_URL}/favicon.png",
        with_google_fonts=False,
    )


@router.get(ASSET_URL + "/{name}")
async def asset(name: str) -> FileResponse:
    if name not in FILES:  # only the package's own files, never a path
        raise HTTPException(404, "no such documentation asset")
    return FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})

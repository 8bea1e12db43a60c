"""Clear 4xx answers: every validation problem names its field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def problems(errors: Sequence[Any], tagged: bool = False) -> list[dict[str, str]]:
    """Pydantic errors -> [{field, message}]; ``tagged`` drops a discriminated union's tag."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body",)]
        if tagged and len(loc) > 1:
            loc = loc[1:]
        fallback = "type" if tagged and e.get("type", "").startswith("union_tag") else "<body>"
        out.append({"field": ".".join(loc) or fallback, "message": str(e.get("msg", ""))})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        found = problems(exc.errors())
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in found[:5])
        return JSONResponse({"detail": f"invalid request: {summary}", "errors": found}, 422)

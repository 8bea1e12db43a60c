"""Key administration (admin scope) and visitor tokens for a site's back end (server scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from attune.api.deps import require_scope
from attune.api.keys import KeyRing
from attune.api.visitor_tokens import token_for

router = APIRouter(tags=["keys"])
admin = [Depends(require_scope("admin"))]


def _keys(request: Request) -> KeyRing:
    keys: KeyRing = request.app.state.keys
    return keys


@router.get(
    "/v1/keys", summary="API keys: scopes, creation, last use (never the keys)", dependencies=admin
)
async def list_keys(request: Request) -> dict[str, Any]:
    return {"keys": _keys(request).list()}


@router.post(
    "/v1/keys/{key_id}/revoke",
    summary="Revoke a key (every process, within a second)",
    dependencies=admin,
)
async def revoke_key(key_id: str, request: Request) -> dict[str, Any]:
    if len(key_id) > 32 or not _keys(request).revoke(key_id):
        raise HTTPException(404, f"no active key with id {key_id[:32]!r}")
    request.app.state.privacy.audit.append(
        "api_key_revoked", f"key:{request.state.api_key.id}", None, {"key_id": key_id}
    )
    return {"ok": True, "revoked": key_id}


class Visitor(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    user_id: str | None = Field(None, alias="userId", min_length=1, max_length=200)
    anonymous_id: str | None = Field(None, alias="anonymousId", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_id(self) -> Visitor:
        if not (self.user_id or self.anonymous_id):
            raise ValueError("one of userId or anonymousId is required")
        return self


@router.post(
    "/v1/session-tokens",
    summary="A visitor's session token, for the tracker of a signed-in user (server key)",
    dependencies=[Depends(require_scope("server"))],
)
async def session_token(body: Visitor, request: Request) -> dict[str, Any]:
    return {"sessionToken": token_for(request, str(body.user_id or body.anonymous_id))}

"""Authentication for every route: ``Depends(require_scope("read"))``.

A key may come as ``Authorization: Bearer <key>``, as ``X-API-Key``, or as Segment sends its
write key (HTTP Basic with the key as user name and an empty password).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable

from fastapi import HTTPException, Request

from attune.api.keys import ApiKey


def _raw_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        try:
            user, _, _password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user or None
    return request.headers.get("x-api-key")


def require_scope(scope: str) -> Callable[[Request], ApiKey]:
    def check(request: Request) -> ApiKey:
        raw = _raw_key(request)
        if not raw:
            raise HTTPException(
                401,
                "missing API key: send 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = request.app.state.keys.verify(raw)
        if key is None:
            address = request.client.host if request.client else "?"
            wait = request.app.state.auth_failures.take("ip:" + address)
            if wait > 0:  # per address: rotating bogus keys does not get round it
                raise HTTPException(
                    429,
                    "too many failed authentications from this address; slow down",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            raise HTTPException(
                401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not key.allows(scope):
            raise HTTPException(403, f"this key lacks the '{scope}' scope")
        request.state.api_key = key
        return key

    check.__name__ = f"require_{scope}"
    return check

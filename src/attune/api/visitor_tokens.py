"""Session tokens for public (browser) keys: what a web page's key can read is what any visitor
can read, so a public key reaches a visitor's sessions only with that visitor's token.

The token is an HMAC of the visitor's pseudonym under a key derived from the pseudonym key: no
table, the same in every process. Attune hands it out in the first answer for a visitor it has
not seen before (the tracker keeps it and sends it as ``X-Attune-Session-Token``); a site's
back end mints one for a signed-in user with a server key (``POST /v1/session-tokens``).

With a public key:
- an event naming a session that belongs to another visitor is refused (never merged into it);
- an event or a consent change for a visitor already known needs that visitor's token;
- answers carry the decision only for the caller's own sessions (a refused event gets none).
Keys with the ``server``, ``read``, ``privacy`` or ``admin`` scope act for any visitor.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import Request
from sqlalchemy import select

from attune.api.keys import ApiKey
from attune.storage import tables

HEADER = "x-attune-session-token"


class VisitorTokens:
    def __init__(self, pseudonym_key: str) -> None:
        self._key = hmac.new(pseudonym_key.encode(), b"attune-session-token", "sha256").digest()

    def token(self, subject: str) -> str:
        return "ast_" + hmac.new(self._key, subject.encode(), hashlib.sha256).hexdigest()[:40]

    def valid(self, subject: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.token(subject), str(presented))


def is_public(request: Request) -> bool:
    key: ApiKey | None = getattr(request.state, "api_key", None)
    return key is not None and key.public


def presented(request: Request) -> str | None:
    return request.headers.get(HEADER)


def subject_known(request: Request, subject: str) -> bool:
    """Has this visitor a session or a consent record (committed: acknowledged is stored)?"""
    store = request.app.state.store
    with store.connect() as conn:
        for table in (tables.sessions, tables.consents):
            found = conn.execute(
                select(table.c.subject).where(table.c.subject == subject).limit(1)
            ).first()
            if found is not None:
                return True
    return False


def session_owner(request: Request, session_id: str) -> str | None:
    rt = request.app.state.engine.sessions.get(session_id)
    if rt is not None:
        return str(rt.subject)
    with request.app.state.store.connect() as conn:
        owner = conn.execute(
            select(tables.sessions.c.subject).where(tables.sessions.c.id == session_id)
        ).scalar()
    return str(owner) if owner is not None else None


def refusal(
    request: Request, event: Any, vouched: set[str] | None = None
) -> tuple[str, str] | None:
    """(field, why) when a public key may not submit ``event``; None when it may.
    ``vouched``: visitors this same request already admitted (a new visitor's first batch)."""
    if not is_public(request):
        return None
    tokens: VisitorTokens = request.app.state.visitor_tokens
    subject = request.app.state.privacy.subject(event.raw_subject)
    sid = event.session_id or event.context.session_id or f"subject:{subject}"
    owner = session_owner(request, sid)
    if owner is not None and owner != subject:
        return "sessionId", "this session belongs to another visitor"
    allowed = (
        (vouched is not None and subject in vouched)
        or tokens.valid(subject, presented(request))
        or (owner is None and not subject_known(request, subject))
    )
    if not allowed:
        return HEADER, "this visitor's session token is required (see docs/security.md)"
    if vouched is not None:
        vouched.add(subject)
    return None


def consent_refusal(request: Request, raw_subject: str) -> str | None:
    """Why a public key may not change this visitor's consent, or None."""
    if not is_public(request):
        return None
    tokens: VisitorTokens = request.app.state.visitor_tokens
    subject = request.app.state.privacy.subject(raw_subject)
    if tokens.valid(subject, presented(request)) or not subject_known(request, subject):
        return None
    return f"{HEADER}: this visitor's session token is required to change their consent"


def token_for(request: Request, raw_subject: str) -> str:
    tokens: VisitorTokens = request.app.state.visitor_tokens
    return tokens.token(request.app.state.privacy.subject(raw_subject))

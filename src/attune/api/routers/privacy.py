"""Trust API: AI-Act disclosure and its acknowledgement, consent grant and revoke (one call
each, with the ingest key a web page holds), and the privacy officer's routes: consent
history, role flags, identities, export, erase, explain, audit verification.

Raw subject ids only ever travel in request bodies (never in URLs, which end up in access
logs). Every privacy route is audited with the key that called it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attune.api.deps import require_scope
from attune.privacy import rights
from attune.privacy.disclosure import VERSION as DISCLOSURE_VERSION
from attune.privacy.disclosure import disclosure
from attune.privacy.services import PrivacyServices
from attune.signals import registry

ID = Field(None, min_length=1, max_length=200)


def services_of(app: FastAPI) -> PrivacyServices:
    """The privacy services of this app (built with it by the assembly)."""
    svc: PrivacyServices = app.state.privacy
    return svc


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc = services_of(app)
    loop = asyncio.get_running_loop()
    from attune.privacy.redaction import default_redactor

    warm = loop.run_in_executor(None, default_redactor)  # the first message must not wait
    purge = asyncio.create_task(
        svc.retention.run_forever(
            app.state.settings.purge_interval_s, before=app.state.engine.flush
        )
    )
    try:
        yield
    finally:
        purge.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purge
        with contextlib.suppress(Exception):
            await warm


router = APIRouter(tags=["privacy"], lifespan=lifespan)


def _svc(request: Request) -> PrivacyServices:
    return services_of(request.app)


def _actor(request: Request) -> str:
    key = getattr(request.state, "api_key", None)
    return f"key:{key.name}#{key.id}" if key else "anonymous"


class Subject(BaseModel):
    """Who: the caller's raw id (userId or anonymousId, pseudonymised here) or a pseudonym."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    user_id: str | None = Field(None, alias="userId", min_length=1, max_length=200)
    anonymous_id: str | None = Field(None, alias="anonymousId", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_id(self) -> Subject:
        if not (self.user_id or self.anonymous_id):
            raise ValueError("one of userId or anonymousId is required")
        return self

    @property
    def raw(self) -> str:
        return str(self.user_id or self.anonymous_id)


class Ack(Subject):
    version: str = Field(min_length=1, max_length=64)


class ConsentChange(Subject):
    modalities: list[str] = Field(min_length=1, max_length=16)
    purpose: str = Field("cx_adaptation", min_length=1, max_length=64)
    source: str = Field("api", min_length=1, max_length=64)
    text_version: str | None = Field(None, alias="textVersion", min_length=1, max_length=64)

    @field_validator("modalities")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for m in value:
            registry.spec(m)  # ValueError naming the registered modalities
        return value


class RoleFlag(Subject):
    role: Literal["employee", "agent"]


class Identity(Subject):
    identity: str = Field(min_length=1, max_length=500)


# -- for the customer's browser (ingest key) ----------------------------------------------
ingest = [Depends(require_scope("ingest"))]


@router.get(
    "/v1/disclosure", summary="The AI-Act disclosure text (Art. 50(3))", dependencies=ingest
)
async def get_disclosure(locale: str | None = None) -> dict[str, Any]:
    return disclosure((locale or "en")[:35])


@router.post(
    "/v1/disclosure/acknowledge", summary="The customer saw the disclosure", dependencies=ingest
)
async def acknowledge(body: Ack, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    if body.version != DISCLOSURE_VERSION:
        raise HTTPException(
            409,
            f"disclosure version {body.version!r} is not the current one "
            f"({DISCLOSURE_VERSION}); show the current text first",
        )
    subject = svc.subject(body.raw)
    svc.ledger.acknowledge_disclosure(subject, body.version)
    svc.audit.append("disclosure_acknowledged", _actor(request), subject, {"version": body.version})
    return {"ok": True, "version": body.version}


def _change(body: ConsentChange, request: Request, granted: bool) -> dict[str, Any]:
    svc = _svc(request)
    consent = svc.change_consent(
        svc.subject(body.raw),
        body.modalities,
        granted,
        _actor(request),
        purpose=body.purpose,
        source=body.source,
        text_version=body.text_version,
    )
    return {"ok": True, "consent": consent}


@router.post("/v1/consent/grant", summary="Grant consent (one call)", dependencies=ingest)
async def grant(body: ConsentChange, request: Request) -> dict[str, Any]:
    return _change(body, request, True)


@router.post(
    "/v1/consent/revoke",
    summary="Withdraw consent (one call, effective on the next event)",
    dependencies=ingest,
)
async def revoke(body: ConsentChange, request: Request) -> dict[str, Any]:
    return _change(body, request, False)


# -- for the privacy officer ----------------------------------------------------------------
privacy = APIRouter(prefix="/v1/privacy", dependencies=[Depends(require_scope("privacy"))])


def _subjects(svc: PrivacyServices, body: Subject) -> list[str]:
    return svc.pseudonymize.all(body.raw)


@privacy.post("/consent", summary="Consent now and its full history")
async def consent_history(body: Subject, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    subjects = _subjects(svc, body)
    svc.audit.append("personal_data_read", _actor(request), subjects[0], {"what": "consent"})
    return {
        "now": {m: svc.ledger.allows(subjects[0], m) for m in registry.names()},
        "reasons": {m: svc.ledger.reason(subjects[0], m) for m in registry.names()},
        "history": [
            r.to_dict() | {"subject": None} for s in subjects for r in svc.ledger.history(s)
        ],
    }


@privacy.post("/role", summary="Flag a subject as employee or agent: never analysed")
async def flag_role(body: RoleFlag, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    subject = svc.subject(body.raw)
    svc.ledger.flag(subject, body.role)
    svc.audit.append("subject_flagged", _actor(request), subject, {"role": body.role})
    return {"ok": True, "role": body.role}


@privacy.put("/identity", summary="Keep a real identity for a subject (separate table)")
async def put_identity(body: Identity, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    rights.set_identity(svc, svc.subject(body.raw), body.identity, _actor(request))
    return {"ok": True}


@privacy.post("/identity/lookup", summary="Read a subject's kept identity")
async def get_identity(body: Subject, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    value = rights.get_identity(svc, svc.subject(body.raw), _actor(request))
    if value is None:
        raise HTTPException(404, "no identity is kept for this subject")
    return {"identity": value}


@privacy.post("/export", summary="Everything held about a subject (JSON)")
async def export(body: Subject, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    return rights.export(svc, _subjects(svc, body), _actor(request))


@privacy.post("/erase", summary="Erase a subject everywhere; late events are dropped")
async def erase(body: Subject, request: Request) -> dict[str, Any]:
    svc = _svc(request)
    return {"ok": True, "deleted": rights.erase(svc, _subjects(svc, body), _actor(request))}


@privacy.get("/decisions/{decision_id}/explanation", summary="Explain one decision")
async def explain(decision_id: str, request: Request) -> dict[str, Any]:
    if len(decision_id) > 64:
        raise HTTPException(404, "no such decision")
    out = rights.explain(_svc(request), decision_id, _actor(request))
    if out is None:
        raise HTTPException(404, f"no decision {decision_id!r}")
    return out


@privacy.get("/audit/verify", summary="Verify the hash chain of the audit log")
async def verify_audit(
    request: Request, anchor_seq: int | None = None, anchor_hash: str | None = None
) -> dict[str, Any]:
    svc = _svc(request)
    if (anchor_seq is None) != (anchor_hash is None):
        raise HTTPException(422, "give both anchor_seq and anchor_hash, or neither")
    anchor = (anchor_seq, anchor_hash) if anchor_seq is not None and anchor_hash else None
    verdict = svc.audit.verify(anchor)
    seq, head = svc.audit.head()
    return verdict.to_dict() | {"head_seq": seq, "head_hash": head}


router.include_router(privacy)

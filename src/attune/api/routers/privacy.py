"""Trust API: AI-Act disclosure and its acknowledgement, consent grant and revoke (one call
each, with the ingest key a web page holds), and the privacy officer's routes: consent
history, role flags, identities, export, erase, explain, audit verification; and playbook
review: a key with the ``author`` scope submits, a different person's key with the ``approver``
scope approves (the key's name is the person).

Raw subject ids only ever travel in request bodies (never in URLs, which end up in access
logs). Every privacy route is audited with the key that called it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attune.api import visitor_tokens
from attune.api.deps import require_scope
from attune.policy.approval import Governance, GovernanceError
from attune.policy.loader import EXAMPLES, LoadedPlaybook, PlaybookError, load_playbook
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
    _vouch(request, body.raw)
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
    token = visitor_tokens.token_for(request, body.raw)
    return {"ok": True, "version": body.version, "sessionToken": token}


def _vouch(request: Request, raw_subject: str) -> None:
    refused = visitor_tokens.consent_refusal(request, raw_subject)
    if refused is not None:
        raise HTTPException(403, refused)


def _cannot_take_effect(svc: PrivacyServices, subject: str, modalities: list[str]) -> str | None:
    """Why a grant would change nothing, with the step that is missing (None: it can)."""
    ledger = svc.ledger
    if ledger.is_tombstoned(subject):
        return "this subject was erased; nothing about them is analysed again"
    if ledger.role(subject) is not None:
        return f"this subject is flagged as {ledger.role(subject)}: never emotion-analysed"
    opt_in = [m for m in modalities if m in ledger.rules.opt_in]
    if opt_in and ledger.disclosure_acknowledged(subject) is None:
        return (
            f"{' and '.join(opt_in)} consent takes effect only after the AI disclosure is "
            "acknowledged: show GET /v1/disclosure, then POST /v1/disclosure/acknowledge, "
            "then grant again"
        )
    return None


def _change(body: ConsentChange, request: Request, granted: bool) -> dict[str, Any]:
    _vouch(request, body.raw)
    svc = _svc(request)
    subject = svc.subject(body.raw)
    if granted:
        missing = _cannot_take_effect(svc, subject, list(body.modalities))
        if missing:  # a 200 with the modality still off would be a silent no-op
            raise HTTPException(409, missing)
    consent = svc.change_consent(
        subject,
        body.modalities,
        granted,
        _actor(request),
        purpose=body.purpose,
        source=body.source,
        text_version=body.text_version,
    )
    return {
        "ok": True,
        "consent": consent,
        "sessionToken": visitor_tokens.token_for(request, body.raw),
    }


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


# -- playbook review (four eyes: people are keys' names, never the YAML's author) --------------
playbooks = APIRouter(prefix="/v1/playbooks", tags=["governance"])


class PlaybookRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    playbook: str = Field(
        min_length=3, max_length=300, description="name@version, as in GET /v1/playbooks"
    )


def _governance(request: Request) -> Governance:
    svc = _svc(request)
    return Governance(svc.store, svc.audit, svc.clock)


def _person(request: Request) -> tuple[str, str]:
    key = request.state.api_key
    return key.name, f"key:{key.id}"


def _on_disk(request: Request) -> tuple[dict[str, LoadedPlaybook], list[str]]:
    """The playbooks in the configured folder by key, and the files that do not load."""
    folder = Path(request.app.state.settings.playbook_dir or EXAMPLES)
    found: dict[str, LoadedPlaybook] = {}
    broken: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name.endswith(".content.yaml"):
            continue
        try:
            lp = load_playbook(path)
        except (PlaybookError, OSError) as exc:
            broken.append(str(exc))
            continue
        found[lp.playbook.key] = lp
    return found, broken


def _one(request: Request, ref: PlaybookRef) -> LoadedPlaybook:
    found, _ = _on_disk(request)
    if ref.playbook not in found:
        known = ", ".join(sorted(found)) or "none"
        raise HTTPException(404, f"no playbook {ref.playbook!r} in the playbook folder ({known})")
    return found[ref.playbook]


@playbooks.get(
    "", summary="Playbooks on disk and their review", dependencies=[Depends(require_scope("read"))]
)
async def list_playbooks(request: Request) -> dict[str, Any]:
    gov = _governance(request)
    found, broken = _on_disk(request)
    return {
        "playbooks": [
            {
                "playbook": key,
                "yaml_author": lp.playbook.author,
                "review": gov.status(key),
            }
            for key, lp in found.items()
        ],
        "refused": broken,
    }


@playbooks.post(
    "/submit",
    summary="Submit a playbook version for review (the caller's key is the submitter)",
    dependencies=[Depends(require_scope("author"))],
)
async def submit_playbook(body: PlaybookRef, request: Request) -> dict[str, Any]:
    person, via = _person(request)
    try:
        return _governance(request).submit(_one(request, body), person, via=via)
    except GovernanceError as exc:
        raise HTTPException(409, str(exc)) from None


@playbooks.post(
    "/approve",
    summary="Approve a version someone else submitted (approver scope, never implied by admin)",
    dependencies=[Depends(require_scope("approver"))],
)
async def approve_playbook(body: PlaybookRef, request: Request) -> dict[str, Any]:
    person, via = _person(request)
    lp = _one(request, body)
    gov = _governance(request)
    row = gov.status(lp.playbook.key)
    if row is not None and row["author"].strip().casefold() == person.strip().casefold():
        raise HTTPException(403, f"{person} submitted {lp.playbook.key} and cannot approve it")
    try:
        return gov.approve(lp, person, has_role=True, via=via)  # the scope was checked above
    except GovernanceError as exc:
        raise HTTPException(409, str(exc)) from None


router.include_router(playbooks)

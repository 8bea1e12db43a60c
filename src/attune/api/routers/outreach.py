"""Proactive outreach: consent to be contacted per channel (from the customer's side, ingest
key), what is due (read), sending it (admin), and its measured results (analyst)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from attune.api.deps import require_scope
from attune.measure.outreach import OutreachPlanner
from attune.privacy.contact import set_contact

router = APIRouter(tags=["outreach"])


class ContactConsent(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    user_id: str | None = Field(None, alias="userId", min_length=1, max_length=200)
    anonymous_id: str | None = Field(None, alias="anonymousId", min_length=1, max_length=200)
    channel: Literal["email", "sms", "push", "phone"]
    granted: bool
    utc_offset_min: int = Field(0, alias="utcOffsetMin", ge=-720, le=840)  # minutes from UTC

    @model_validator(mode="after")
    def _one_id(self) -> ContactConsent:
        if not (self.user_id or self.anonymous_id):
            raise ValueError("one of userId or anonymousId is required")
        return self


def _planner(request: Request) -> OutreachPlanner:
    planner: OutreachPlanner | None = request.app.state.outreach
    if planner is None:
        raise HTTPException(503, "outreach needs a store")
    return planner


@router.post(
    "/v1/contact/consent",
    summary="Consent to be contacted on a channel (grant or withdraw)",
    dependencies=[Depends(require_scope("ingest"))],
)
async def contact_consent(body: ContactConsent, request: Request) -> dict[str, Any]:
    privacy = request.app.state.privacy
    key = request.state.api_key
    subject = privacy.subject(str(body.user_id or body.anonymous_id))
    set_contact(
        privacy.store,
        privacy.audit,
        subject,
        body.channel,
        body.granted,
        f"key:{key.name}#{key.id}",
        privacy.clock(),
        body.utc_offset_min,
    )
    return {"ok": True, "channel": body.channel, "granted": body.granted}


@router.get(
    "/v1/outreach",
    summary="Proactive contacts planned and due (pseudonymous subjects)",
    dependencies=[Depends(require_scope("read"))],
)
async def outreach_plan(request: Request, min_sessions: int = 4) -> dict[str, Any]:
    request.app.state.engine.flush()
    return _planner(request).plan(min_sessions=max(1, min_sessions))


@router.post(
    "/v1/outreach/dispatch",
    summary="Send what is due to the webhooks (the holdout is logged, not contacted)",
    dependencies=[Depends(require_scope("admin"))],
)
async def outreach_dispatch(request: Request) -> dict[str, Any]:
    request.app.state.engine.flush()
    return _planner(request).dispatch()


@router.get(
    "/v1/outreach/results",
    summary="Outreach against its holdout: conversions after contact (aggregates)",
    dependencies=[Depends(require_scope("analyst"))],
)
async def outreach_results(request: Request) -> dict[str, Any]:
    return _planner(request).results()

"""Consent to be contacted, per channel (email, sms, push, phone): what proactive outreach may
use. Separate from consent to emotion analysis per modality; audited the same way."""

from __future__ import annotations

from sqlalchemy import delete

from attune.privacy.audit import AuditLog
from attune.storage import tables
from attune.storage.store import Store

CHANNELS = ("email", "sms", "push", "phone")


def set_contact(
    store: Store,
    audit: AuditLog,
    subject: str,
    channel: str,
    granted: bool,
    actor: str,
    at: float,
    utc_offset_min: int | None = None,
) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown contact channel {channel!r}; use one of {', '.join(CHANNELS)}")
    t = tables.contact_consents
    with store.begin() as conn:
        conn.execute(delete(t).where(t.c.subject == subject, t.c.channel == channel))
        conn.execute(
            t.insert().values(
                subject=subject,
                channel=channel,
                granted=granted,
                utc_offset_min=utc_offset_min,
                at=at,
            )
        )
    action = "consent_granted" if granted else "consent_revoked"
    audit.append(action, actor, subject, {"contact_channel": channel})

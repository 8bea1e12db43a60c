"""Tables of the handoff area (a conversation handed to a person) and of proactive outreach,
on the core ``metadata``.

A handoff is derived data about a pseudonymous subject: it expires like decisions
(``retention.decisions_s``) and is exported and erased with the subject. Its turns are the
redacted text as the events table stored it, copied while the customer's text consent holds,
so that a later purge of raw text (revocation, retention) leaves the agent the conversation up
to that point and no further.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text

from attune.storage.tables_core import metadata

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("channel", String(32)),
    Column("language", String(8)),
    Column("moment", String(64)),
    Column("queue", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # open | claimed | closed
    Column("reason", String(32), nullable=False),  # requested | frustrated | ...
    Column("intent", String(64)),
    Column("opened_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("claimed_by", String(200)),
    Column("closed_at", Float),
    Column("outcome", String(32)),  # resolved | callback | not_reachable | declined
    Column("consent_withdrawn_at", Float),
    Column("context", JSON),  # state at opening, what was tried, vulnerable, sessions
    Column("expires_at", Float, index=True),
)

handoff_turns = Table(
    "handoff_turns",
    metadata,
    Column("handoff_id", String(32), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("session_id", String(200), nullable=False),
    Column("channel", String(32)),
    Column("speaker", String(16), nullable=False),  # customer | bot | agent
    Column("text", Text, nullable=False),  # redacted as stored
    Column("at", Float, nullable=False),
    Column("intent", String(64)),
    Column("intent_conf", Float),
    Column("state", JSON),  # the customer's fused state after this turn (customer turns)
    Column("expires_at", Float, index=True),
)
Index("ix_handoff_turns_at", handoff_turns.c.handoff_id, handoff_turns.c.at)


# Proactive outreach: on which channels a subject agreed to be contacted (and their UTC offset,
# for quiet hours), and what was planned or sent (frequency caps; the holdout for measurement).
contact_consents = Table(
    "contact_consents",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("channel", String(16), primary_key=True),  # email | sms | push | phone
    Column("granted", Boolean, nullable=False),
    Column("utc_offset_min", Integer),
    Column("at", Float, nullable=False),
)

outreach_log = Table(
    "outreach_log",
    metadata,
    Column("id", String(64), primary_key=True),  # outreach name : subject : day
    Column("subject", String(64), nullable=False, index=True),
    Column("outreach", String(64), nullable=False),
    Column("arm", String(16), nullable=False),  # contact | holdout
    Column("channel", String(16)),
    Column("at", Float, nullable=False),
    Column("expires_at", Float, index=True),
)

HANDOFF_SUBJECT_TABLES = (handoff_turns, handoffs, contact_consents, outreach_log)

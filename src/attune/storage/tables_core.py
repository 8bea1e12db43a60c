"""The relational schema (SQLAlchemy Core), one ``metadata`` for SQLite and PostgreSQL alike.

Raw payloads carry ``expires_at`` so the purge job can enforce retention per data class.
Subjects appear only as pseudonyms. Other areas add tables in their own ``tables_<area>.py`` on
this same metadata; ``attune.storage.tables`` gathers them all.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata: MetaData = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(200), nullable=False),  # space-separated
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("last_used_at", Float),  # updated at most once a minute per key
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("moment", String(64)),
    Column("channel", String(32)),
    Column("arm", String(32)),
    Column("started_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("mode", String(32)),
    Column("top_state", String(32)),
    Column("standard_view", Boolean, nullable=False, default=False),
)

events = Table(
    "events",
    metadata,
    Column("id", String(200), primary_key=True),  # the caller's messageId: dedupe key
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("payload", JSON),  # raw event (text already redacted); kept until expires_at
    Column("expires_at", Float, index=True),
)

signals = Table(
    "signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("event_id", String(200)),
    Column("modality", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("cx", JSON),
    Column("source", String(100)),
    Column("step", String(200)),
    Column("at", Float, nullable=False),
    Column("expires_at", Float, index=True),
)

states = Table(
    "states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("probs", JSON, nullable=False),
    Column("top", String(32), nullable=False),
    Column("intensity", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("uncertain", Boolean, nullable=False),
    Column("step", String(200)),
    Column("expires_at", Float, index=True),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("moment", String(64)),
    Column("mode", String(32), nullable=False),
    Column("tone", String(32)),
    Column("offers_allowed", Boolean, nullable=False),
    Column("escalate", Boolean, nullable=False),
    Column("actions", JSON),
    Column("content", JSON),
    Column("explanation", Text, nullable=False),
    Column("state", JSON),
    Column("playbook_version", String(64)),
    Column("arm", String(32)),
    Column("expires_at", Float, index=True),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("name", String(32), nullable=False),
    Column("value", Float),
    Column("step", String(200)),
    Column("moment", String(64)),
    Column("arm", String(32)),
    Column("at", Float, nullable=False),
    Column("properties", JSON),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("shown_state", String(32), nullable=False),
    Column("correct", Boolean),
    Column("true_state", String(32)),
    Column("rater", String(200)),
    Column("group", String(100)),
    Column("model_version", String(100)),
    Column("at", Float, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("modality", String(16), nullable=False),
    Column("purpose", String(64), nullable=False, default="cx_adaptation"),
    Column("granted", Boolean, nullable=False),
    Column("source", String(64)),
    Column("text_version", String(64)),
    Column("at", Float, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(64), index=True),
    Column("data", JSON),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Rows the database refused after their event was acknowledged: kept (with the refusal) for an
# operator to repair and replay, never silently skipped. Erased with their subject.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("subject", String(64), index=True),
    Column("reason", String(200), nullable=False),
    Column("row", Text, nullable=False),  # JSON with every character escaped
    Column("at", Float, nullable=False),
)

Index("ix_outcomes_name_at", outcomes.c.name, outcomes.c.at)

"""Core tables: keys, sessions, events, signals, states, decisions, outcomes, feedback,
consents, audit.

Revision ID: 0001_core
"""

from __future__ import annotations

from alembic import op

from attune.storage import tables

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

CORE = (
    "api_keys",
    "sessions",
    "events",
    "signals",
    "states",
    "decisions",
    "outcomes",
    "feedback",
    "consents",
    "audit_log",
)


def upgrade() -> None:
    # The first revision creates the tables as they were defined at that time.
    bind = op.get_bind()
    tables.metadata.create_all(bind, tables=[tables.metadata.tables[n] for n in CORE])


def downgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind, tables=[tables.metadata.tables[n] for n in reversed(CORE)])

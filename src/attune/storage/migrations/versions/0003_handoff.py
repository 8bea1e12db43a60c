"""Handoff and outreach tables: handoffs, their turns, contact consents, the outreach log.

Revision ID: 0003_handoff
"""

from __future__ import annotations

from alembic import op

from attune.storage import tables

revision = "0003_handoff"
down_revision = "0001_core"
branch_labels = None
depends_on = None

HANDOFF = ("handoffs", "handoff_turns", "contact_consents", "outreach_log")


def upgrade() -> None:
    bind = op.get_bind()
    tables.metadata.create_all(bind, tables=[tables.metadata.tables[n] for n in HANDOFF])


def downgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind, tables=[tables.metadata.tables[n] for n in reversed(HANDOFF)])

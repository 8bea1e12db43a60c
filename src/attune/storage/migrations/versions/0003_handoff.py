"""Handoff tables: handoffs and their turns.

Revision ID: 0003_handoff
"""

from __future__ import annotations

from alembic import op

from attune.storage import tables

revision = "0003_handoff"
down_revision = "0001_core"
branch_labels = None
depends_on = None

HANDOFF = ("handoffs", "handoff_turns")


def upgrade() -> None:
    bind = op.get_bind()
    tables.metadata.create_all(bind, tables=[tables.metadata.tables[n] for n in HANDOFF])


def downgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind, tables=[tables.metadata.tables[n] for n in reversed(HANDOFF)])

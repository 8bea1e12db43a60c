"""Trust tables: audit subject keys, tombstones, disclosure acks, subject flags, identities,
playbook reviews.

Revision ID: 0002_trust
"""

from __future__ import annotations

from alembic import op

from attune.storage import tables

revision = "0002_trust"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TRUST = (
    "audit_subject_keys",
    "tombstones",
    "disclosure_acks",
    "subject_flags",
    "identities",
    "playbook_reviews",
)


def upgrade() -> None:
    bind = op.get_bind()
    tables.metadata.create_all(bind, tables=[tables.metadata.tables[n] for n in TRUST])


def downgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind, tables=[tables.metadata.tables[n] for n in reversed(TRUST)])

"""Keys record their last use; rows a database refused after acknowledgement go to a
dead-letter table instead of a log line.

Revision ID: 0003_secure
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from attune.storage import tables

revision = "0003_secure"
down_revision = "0002_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("last_used_at", sa.Float))
    bind = op.get_bind()
    tables.metadata.create_all(bind, tables=[tables.metadata.tables["dead_letters"]])


def downgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind, tables=[tables.metadata.tables["dead_letters"]])
    op.drop_column("api_keys", "last_used_at")

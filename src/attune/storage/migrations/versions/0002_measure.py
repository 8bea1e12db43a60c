"""Measure tables: experiments (definitions fixed before start) and exposures.

Revision ID: 0002_measure
"""

from __future__ import annotations

from alembic import op

from attune.storage import tables

revision = "0002_measure"
down_revision = "0001_core"
branch_labels = None
depends_on = None

MEASURE = ("experiments", "experiment_exposures")


def upgrade() -> None:
    bind = op.get_bind()
    tables.metadata.create_all(bind, tables=[tables.metadata.tables[n] for n in MEASURE])


def downgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind, tables=[tables.metadata.tables[n] for n in reversed(MEASURE)])

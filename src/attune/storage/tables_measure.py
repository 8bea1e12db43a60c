"""Tables of the measure area, on the core ``metadata``: experiment definitions (fixed before
start, with their fingerprint), exposures (one row per subject and experiment, at first
exposure) and hard-stop records."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, String, Table, Text

from attune.storage.tables_core import metadata

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("stopped_at", Float),
    Column("status", String(16), nullable=False, default="draft"),  # draft|running|stopped
    Column("stop_reason", Text),
)

experiment_exposures = Table(
    "experiment_exposures",
    metadata,
    Column("experiment_id", String(64), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("arm", String(32), nullable=False),
    Column("session_id", String(200)),
    Column("at", Float, nullable=False),
)
Index(
    "ix_exposures_experiment_arm", experiment_exposures.c.experiment_id, experiment_exposures.c.arm
)

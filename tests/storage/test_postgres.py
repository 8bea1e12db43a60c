"""The same storage path on the real PostgreSQL server: migrations, engine flush, idempotent
re-processing, session upserts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from attune.assembly import build
from attune.config import load_settings
from attune.events.schemas import PageView, Track
from attune.storage import tables
from attune.storage.store import Store

pytestmark = pytest.mark.postgres
T0 = 1_767_000_000.0


def events(session: str) -> list[PageView | Track]:
    out: list[PageView | Track] = [
        PageView(
            messageId=f"{session}-p",
            anonymousId="u",
            sessionId=session,
            timestamp=T0,
            properties={"path": "/checkout/pay"},
        )
    ]
    out += [
        Track(
            messageId=f"{session}-c{i}",
            anonymousId="u",
            sessionId=session,
            timestamp=T0 + 1 + i * 0.2,
            event="click",
            properties={"selector": "#pay", "x": 1, "y": 1},
        )
        for i in range(4)
    ]
    return out


def test_engine_writes_to_postgres_and_reprocessing_counts_nothing_twice(postgres_url: str) -> None:
    settings = load_settings(database_url=postgres_url, modalities=["behaviour"])
    store = Store(postgres_url)
    assert store.dialect == "postgresql"
    engine = build(settings, store=store, approvals=False).engine
    for e in events("pg1"):
        decision = engine.ingest(e)
    assert decision is not None and decision.mode == "fast_track"
    engine.flush()
    # A restarted worker re-processes the same events: nothing is stored twice.
    again = build(settings, store=store, approvals=False).engine
    for e in events("pg1"):
        again.ingest(e)
    again.flush()
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.events)).scalar_one() == 5
        assert conn.execute(select(func.count()).select_from(tables.sessions)).scalar_one() == 1
        row = conn.execute(select(tables.sessions)).one()
        assert row.mode == "fast_track" and row.top_state == "frustrated"
        decisions = conn.execute(select(tables.decisions.c.mode)).scalars().all()
        assert "fast_track" in decisions
    store.close()


def test_migrations_are_idempotent_on_postgres(postgres_url: str) -> None:
    Store(postgres_url).close()
    store = Store(postgres_url)  # second open: upgrade heads is a no-op
    with store.connect() as conn:
        names = set(store.engine.dialect.get_table_names(conn))
    assert {"sessions", "events", "signals", "decisions", "alembic_version"} <= names
    store.close()

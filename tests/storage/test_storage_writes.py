"""Batched writes: one bad row costs only itself, an unreachable database loses nothing, and
session summaries never go back in time when batches land out of order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from attune.assembly import build
from attune.config import Settings
from attune.events.schemas import ANY_EVENT
from attune.storage import tables
from attune.storage.store import Store


def _event(i: int, **properties: object) -> object:
    return ANY_EVENT.validate_python(
        {
            "type": "track",
            "event": "click",
            "messageId": f"w-{i}",
            "anonymousId": "writer",
            "sessionId": "s-writes",
            "timestamp": 1_767_000_000 + i,
            "properties": {"selector": "#pay", **properties},
        }
    )


def _count(store: Store, table: object) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_row_the_database_refuses_costs_only_itself(settings: Settings) -> None:
    store = Store(settings.database_url)
    good = {"session_id": "s", "subject": "x", "kind": "behaviour", "expires_at": 9.0}
    store.write_batch(
        {
            "events": [
                {**good, "id": "a", "at": 1.0, "payload": {"n": 10**30}},  # beyond 64 bits
                {**good, "id": "b", "at": 10**30, "payload": {}},  # no REAL holds this
                {**good, "id": "c", "at": 2.0, "payload": {}},
            ]
        }
    )
    with store.connect() as conn:
        ids = conn.execute(select(tables.events.c.id).order_by(tables.events.c.id)).scalars()
        assert list(ids) == ["a", "c"]


def test_rows_wait_while_the_database_is_away(settings: Settings) -> None:
    pytest.importorskip("psycopg")
    store = Store(settings.database_url)
    engine = build(settings, store=store, approvals=False).engine
    for i in range(5):
        engine.ingest(_event(i))
    engine.store = Store("postgresql://attune@127.0.0.1:1/none", run_migrations=False)
    with pytest.raises(Exception, match=r"connect|refused"):
        engine.flush()  # port 1: nothing listens, the connection is refused
    for i in range(5, 8):
        engine.ingest(_event(i))
    engine.store = store
    engine.flush()
    assert _count(store, tables.events) == 8
    assert _count(store, tables.sessions) == 1


def test_an_older_session_summary_never_overwrites_a_newer_one(settings: Settings) -> None:
    store = Store(settings.database_url)
    row = {"id": "s1", "subject": "x", "started_at": 1.0, "standard_view": False}
    store.upsert_sessions([{**row, "last_at": 5.0, "mode": "simplified"}])
    store.upsert_sessions([{**row, "last_at": 3.0, "mode": "standard"}])  # a late batch
    with store.connect() as conn:
        mode, last = conn.execute(select(tables.sessions.c.mode, tables.sessions.c.last_at)).one()
    assert (mode, last) == ("simplified", 5.0)

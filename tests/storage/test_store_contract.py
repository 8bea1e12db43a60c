"""The contract every store keeps, run on each backend (SQLite, PostgreSQL): migrations reach
the same schema, writes are idempotent by id, a session summary never goes back in time, and
erasing a subject's rows leaves none in any subject table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, inspect, select

from attune.storage import tables
from attune.storage.store import Store

T0 = 1_767_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'contract.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    s = Store(url)
    assert s.dialect == request.param
    yield s
    s.close()


def _count(store: Store, table: Any, *where: Any) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _event(i: int, subject: str = "subj-a") -> dict[str, Any]:
    return {
        "id": f"e{i}",
        "session_id": f"sess-{subject}",
        "subject": subject,
        "kind": "behaviour",
        "at": T0 + i,
        "payload": {"event": "click", "n": i},
        "expires_at": T0 + 3600,
    }


def _session(last_at: float, mode: str, subject: str = "subj-a") -> dict[str, Any]:
    return {
        "id": f"sess-{subject}",
        "subject": subject,
        "moment": "checkout",
        "channel": "web",
        "arm": "adaptive",
        "started_at": T0,
        "last_at": last_at,
        "mode": mode,
        "top_state": "neutral",
        "standard_view": False,
    }


def test_migrations_create_every_table(store: Store) -> None:
    present = set(inspect(store.engine).get_table_names())
    assert set(tables.metadata.tables) <= present


def test_writes_are_idempotent_by_id(store: Store) -> None:
    store.write_batch({"events": [_event(1), _event(2)]})
    store.write_batch({"events": [_event(2), _event(3)]})  # a retried batch overlaps
    assert _count(store, tables.events) == 3
    with store.connect() as conn:
        payload = conn.execute(select(tables.events.c.payload).where(tables.events.c.id == "e3"))
        assert payload.scalar_one() == {"event": "click", "n": 3}  # JSON round trip


def test_a_session_summary_never_goes_back_in_time(store: Store) -> None:
    store.upsert_sessions([_session(T0 + 10, "fast_track")])
    store.upsert_sessions([_session(T0 + 5, "standard")])  # an older batch lands late
    with store.connect() as conn:
        row = conn.execute(select(tables.sessions)).one()
    assert row.mode == "fast_track" and row.last_at == T0 + 10
    store.upsert_sessions([_session(T0 + 20, "trust")])
    with store.connect() as conn:
        assert conn.execute(select(tables.sessions.c.mode)).scalar_one() == "trust"


def test_erasing_a_subject_leaves_nothing_in_any_subject_table(store: Store) -> None:
    store.write_batch(
        {"events": [_event(1), _event(2, "subj-b")]},
        [_session(T0 + 1, "standard"), _session(T0 + 1, "standard", "subj-b")],
    )
    with store.begin() as conn:
        for t in tables.SUBJECT_TABLES:
            conn.execute(delete(t).where(t.c.subject == "subj-a"))
    for t in tables.SUBJECT_TABLES:
        assert _count(store, t, t.c.subject == "subj-a") == 0, t.name
    assert _count(store, tables.events) == 1 and _count(store, tables.sessions) == 1

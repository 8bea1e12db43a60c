"""Retention ages real data with an injected clock, on SQLite and on PostgreSQL: each data class
goes at its own TTL, nothing goes early, and a shortened TTL applies to rows already stored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from attune.assembly import build
from attune.config import RetentionSettings, Settings
from attune.events.schemas import Message, Outcome, PageView, Track
from attune.privacy.retention import DATA_CLASSES, Retention, ttl_table
from attune.storage import tables
from attune.storage.store import Store

T0 = 1_767_000_000.0
TTL = RetentionSettings(
    raw_events_s=600,
    text_s=60,
    audio_features_s=60,
    signals_s=3600,
    states_s=3600,
    decisions_s=7200,
    aggregates_s=86400,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'r.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    s = Store(url)
    yield s
    s.close()


def _count(store: Store, name: str, **where: str) -> int:
    t = tables.metadata.tables[name]
    q = select(func.count()).select_from(t)
    for col, value in where.items():
        q = q.where(t.c[col] == value)
    with store.connect() as conn:
        return int(conn.execute(q).scalar_one())


def _fill(store: Store) -> None:
    settings = Settings(
        database_url=store.url, modalities=["behaviour"], pseudonym_key="k", retention=TTL
    )
    engine = build(settings, store=store, approvals=False).engine
    ids = {"anonymousId": "v1", "sessionId": "s1"}
    engine.ingest(
        PageView.model_validate(
            {"messageId": "p1", "timestamp": T0, "properties": {"path": "/checkout/pay"}, **ids}
        )
    )
    for i in range(5):  # rage clicks give signals, states and a decision
        engine.ingest(
            Track.model_validate(
                {
                    "messageId": f"c{i}",
                    "timestamp": T0 + 1 + 0.2 * i,
                    "event": "click",
                    "properties": {"selector": "#pay", "x": 1, "y": 1},
                    **ids,
                }
            )
        )
    engine.ingest(
        Message.model_validate(
            {"messageId": "t1", "timestamp": T0 + 2, "text": "where is my parcel?", **ids}
        )
    )
    engine.ingest(
        Outcome.model_validate(
            {"messageId": "o1", "timestamp": T0 + 3, "name": "conversion", **ids}
        )
    )
    engine.flush()


def test_each_data_class_goes_at_its_own_ttl(store: Store) -> None:
    _fill(store)
    assert _count(store, "events", kind="message") == 1
    assert _count(store, "signals") > 0 and _count(store, "states") > 0
    assert _count(store, "decisions") > 0
    now = {"t": T0 + 30}
    purged: list[dict[str, int]] = []
    retention = Retention(store, TTL, clock=lambda: now["t"], on_purge=purged.append)

    assert sum(retention.purge().values()) == 0  # nothing is old yet
    now["t"] = T0 + 120  # past text TTL (60 s), before raw events TTL (600 s)
    counts = retention.purge()
    assert counts["message text"] == 1 and _count(store, "events", kind="message") == 0
    assert _count(store, "events", kind="behaviour") == 6
    now["t"] = T0 + 700  # raw behaviour gone; scores stay
    retention.purge()
    assert _count(store, "events") == 0  # the outcome's raw event too; its outcome row stays
    assert _count(store, "outcomes") == 1 and _count(store, "signals") > 0
    now["t"] = T0 + 4000  # scores (signals, states: 1 h) gone; decisions stay (2 h)
    retention.purge()
    assert _count(store, "signals") == 0 and _count(store, "states") == 0
    assert _count(store, "decisions") > 0 and _count(store, "sessions") == 1
    now["t"] = T0 + 8000
    retention.purge()
    assert _count(store, "decisions") == 0 and _count(store, "sessions") == 0
    assert _count(store, "outcomes") == 1  # aggregates live longest
    now["t"] = T0 + 90_000
    retention.purge()
    assert _count(store, "outcomes") == 0
    assert purged and all(isinstance(v, int) for c in purged for v in c.values())


def test_shortened_ttl_applies_to_rows_already_stored(store: Store) -> None:
    _fill(store)
    shorter = TTL.model_copy(update={"signals_s": 10})
    Retention(store, shorter, clock=lambda: T0 + 30).purge()
    assert _count(store, "signals") == 0  # expires_at said 1 h; the current TTL says 10 s
    assert _count(store, "states") > 0


def test_schedule_names_every_data_class() -> None:
    rows = ttl_table(TTL)
    assert [r["data_class"] for r in rows] == [d.name for d in DATA_CLASSES]
    assert {r["table"] for r in rows} >= {"events", "signals", "states", "decisions"}
    assert next(r for r in rows if r["data_class"] == "message text")["ttl_s"] == 60


def test_scheduled_purge_runs_on_its_own(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sched.db'}")
    _fill(store)
    flushed: list[int] = []
    retention = Retention(store, TTL, clock=lambda: T0 + 10**6)

    async def serve_briefly() -> None:
        task = asyncio.create_task(retention.run_forever(0.01, before=lambda: flushed.append(1)))
        for _ in range(200):  # until the purge loop has run at least once
            await asyncio.sleep(0.01)
            if _count(store, "events") == 0:
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(serve_briefly())
    assert flushed and _count(store, "events") == 0 and _count(store, "outcomes") == 0
    store.close()

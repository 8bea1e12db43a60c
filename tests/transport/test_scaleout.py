"""Scale-out on the real servers: the API publishes to NATS JetStream, workers consume,
write to PostgreSQL, keep session state in Redis. A crash between write and acknowledgement
loses nothing and counts nothing twice; another worker picks a session up where one left it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attune.api.app import create_app
from attune.config import Settings, load_settings
from attune.privacy import rights
from attune.sim.server import approve_for_simulation
from attune.storage import tables
from attune.storage.store import Store
from attune.transport.worker import SimulatedCrash, Worker

pytestmark = [pytest.mark.nats, pytest.mark.redis, pytest.mark.postgres]
T0 = 1_767_000_000.0


def events(session: str, start: int, with_page: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if with_page:
        out.append(
            {
                "type": "page",
                "messageId": f"{session}-p{start}",
                "anonymousId": session,
                "sessionId": session,
                "timestamp": T0 + start,
                "properties": {"path": "/checkout/pay"},
            }
        )
    out += [
        {
            "type": "track",
            "messageId": f"{session}-c{start}-{i}",
            "anonymousId": session,
            "sessionId": session,
            "timestamp": T0 + start + 1 + i * 0.2,
            "event": "click",
            "properties": {"selector": "#pay", "x": 1, "y": 1},
        }
        for i in range(4)
    ]
    return out


def count(store: Store, table: Any, *where: Any) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_workers_process_the_stream_exactly_once_across_a_crash(
    postgres_url: str, nats_url: str, redis_url: str, scale_names: dict[str, str]
) -> None:
    settings: Settings = load_settings(
        **scale_names,
        database_url=postgres_url,
        transport="nats",
        nats_url=nats_url,
        redis_url=redis_url,
        partitions=2,
        modalities=["behaviour"],
    )
    app = create_app(settings)
    approve_for_simulation(postgres_url)  # workers, like the API, run approved playbooks only
    key = app.state.keys.create("t", ["admin"])
    auth = {"Authorization": f"Bearer {key}"}
    store = app.state.store
    with TestClient(app) as client:
        batch = events("s-a", 0, True) + events("s-b", 0, True)
        body = client.post("/v1/batch", json={"batch": batch}, headers=auth).json()
        assert body["queued"] is True and body["accepted"] == 10 and body["errors"] == []
        # A replayed batch is dropped by the stream's message-id window.
        client.post("/v1/batch", json={"batch": batch}, headers=auth)
        # An unpaired surrogate cannot be published (not UTF-8): refused at the edge, not a 500
        bad = (
            b'{"messageId": "u1", "anonymousId": "x", "event": "e", "properties": {"a": "\\ud800"}}'
        )
        r = client.post(
            "/v1/track", content=bad, headers={**auth, "Content-Type": "application/json"}
        )
        assert r.status_code == 422 and r.json()["detail"].startswith("properties.a:")

        first = Worker(settings, [0, 1], store=store, ack_wait_s=1.0)
        first.crash_after_write = True
        with pytest.raises(SimulatedCrash):
            asyncio.run(first.run(idle_exit_s=3.0))
        # The first partition's batch was written, then the worker died before acking it.
        assert count(store, tables.events) == 5

        second = Worker(settings, [0, 1], store=store, ack_wait_s=1.0)
        asyncio.run(second.run(idle_exit_s=2.5))  # gets the redelivered messages
        assert second.stats.skipped_done == 5 and second.stats.processed == 5
        assert count(store, tables.events) == 10
        assert count(store, tables.signals, tables.signals.c.name == "rage_click") == 2

        # Session state travels through Redis: a fresh worker continues session s-a.
        client.post("/v1/batch", json={"batch": events("s-a", 50, True)}, headers=auth)
        asyncio.run(second.run(idle_exit_s=3.0))  # room for a loaded machine
        third = Worker(settings, [0, 1], store=store, ack_wait_s=1.0)
        client.post("/v1/batch", json={"batch": events("s-a", 100, False)}, headers=auth)
        asyncio.run(third.run(idle_exit_s=3.0))
        assert third.stats.processed == 4
        rt = third.engine.sessions["s-a"]
        assert rt.policy.moment == "checkout"  # learnt by the second worker, from a page view
        assert rt.step == "/checkout/pay"

        # The API answers with the last decision the workers published.
        r = client.post(
            "/v1/track",
            headers=auth,
            json={
                "messageId": "late",
                "anonymousId": "s-a",
                "sessionId": "s-a",
                "event": "scroll",
                "timestamp": T0 + 200,
                "properties": {"direction": "up"},
            },
        ).json()
        assert r["queued"] is True and r["decision"]["session_id"] == "s-a"


def test_workers_see_erasures_and_consent_made_through_the_api(
    postgres_url: str, redis_url: str, scale_names: dict[str, str]
) -> None:
    settings = load_settings(
        **scale_names,
        database_url=postgres_url,
        redis_url=redis_url,
        modalities=["behaviour"],
        require_playbook_approval=False,
        consent_refresh_s=0.0,  # re-read the ledger before every batch
    )
    worker = Worker(settings, [0])
    first = worker.process([orjson.dumps(e) for e in events("gone", 0, with_page=True)])
    assert "gone" in first and worker.engine.counts["erased"] == 0
    # the API process erases the subject (another process: its own services on the store)
    api = create_app(settings)
    subject = api.state.privacy.subject("gone")
    rights.erase(api.state.privacy, [subject], actor="dpo")
    worker.process([orjson.dumps(e) for e in events("gone", 50, with_page=False)])
    assert worker.engine.counts["erased"] == 4  # late events dropped at the worker's gate
    assert count(worker.store, tables.events, tables.events.c.subject == subject) == 0


def test_an_erased_session_leaves_redis_and_is_never_saved_again(
    postgres_url: str, redis_url: str, scale_names: dict[str, str]
) -> None:
    import redis

    from attune.assembly import build_privacy_only

    settings = load_settings(
        **scale_names,
        database_url=postgres_url,
        redis_url=redis_url,
        modalities=["behaviour"],
        require_playbook_approval=False,
        consent_refresh_s=0.0,
    )
    worker = Worker(settings, [0])
    worker.process([orjson.dumps(e) for e in events("gone2", 0, with_page=True)])
    cache = redis.Redis.from_url(redis_url)
    key = f"{settings.redis_prefix}session:gone2"
    assert cache.exists(key)
    # an erasure made where Redis is out of reach (the embedded CLI): only the store knows
    privacy = build_privacy_only(settings)
    rights.erase(privacy, [privacy.subject("gone2")], actor="dpo")
    worker.process([orjson.dumps(e) for e in events("gone2", 50, with_page=False)])
    assert "gone2" not in worker.engine.sessions
    assert not cache.exists(key)  # removed, and the late events did not re-save it

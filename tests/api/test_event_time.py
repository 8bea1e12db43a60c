"""Event time is the client's only within a window around the server's receive time, after
Segment's sentAt correction: an event dated 2099 or 9999 is kept at its receive time, so it
expires with retention and does not hold the session's clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attune.api.app import create_app
from attune.config import Settings
from attune.events.schemas import MAX_FUTURE_S, Track
from attune.storage import tables


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    key = app.state.keys.create("admin", ["admin"])
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c


def _at(client: TestClient, message_id: str) -> Any:
    app: Any = client.app
    with app.state.store.connect() as conn:
        return conn.execute(
            select(tables.events.c.at, tables.events.c.expires_at).where(
                tables.events.c.id == message_id
            )
        ).first()


def _click(message_id: str, timestamp: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": "u",
        "sessionId": "t1",
        "event": "click",
        "timestamp": timestamp,
        **extra,
    }


def test_far_future_times_are_clamped_to_the_receive_time(client: TestClient) -> None:
    before = time.time()
    for mid, ts in (("y2099", "2099-01-01T00:00:00Z"), ("y9999", "9999-12-31T23:59:59Z")):
        assert client.post("/v1/track", json=_click(mid, ts)).status_code == 200
        at, expires_at = _at(client, mid)
        assert before - 1 <= at <= time.time() + 1
        assert expires_at < datetime(2099, 1, 1, tzinfo=UTC).timestamp()
    app: Any = client.app
    assert app.state.engine.sessions["t1"].last_at <= time.time() + MAX_FUTURE_S
    # a client's own receivedAt is overwritten, not trusted
    forged = _click("forged", "2099-01-01T00:00:00Z", receivedAt="2099-01-01T00:00:00Z")
    assert client.post("/v1/track", json=forged).status_code == 200
    assert _at(client, "forged")[0] <= time.time() + 1


def test_sent_at_corrects_a_skewed_client_clock(client: TestClient) -> None:
    # the client's clock is a day behind; the event happened 10 s before it was sent
    now = time.time()
    skew = 86_400
    sent = datetime.fromtimestamp(now - skew, UTC)
    happened = datetime.fromtimestamp(now - skew - 10, UTC)
    body = {"batch": [_click("skewed", happened.isoformat())], "sentAt": sent.isoformat()}
    assert client.post("/v1/batch", json=body).status_code == 200
    at = _at(client, "skewed")[0]
    assert now - 15 <= at <= time.time()


def test_direct_engine_use_keeps_historical_times() -> None:
    old = Track.model_validate(_click("h", "2001-01-01T00:00:00Z"))
    assert old.epoch == datetime(2001, 1, 1, tzinfo=UTC).timestamp()
    old.stamp()
    assert old.epoch > datetime(2020, 1, 1, tzinfo=UTC).timestamp()  # outside the window

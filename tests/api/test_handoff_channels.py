"""The customer, not the session: a new session on another channel starts from the subject's
recent state, inherits the open escalation, and the agent sees one timeline; a customer who
declines the person closes the handoff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from attune.api.app import create_app
from attune.config import Settings, load_settings

T0 = 1_767_000_000.0


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    text = load_settings(
        database_url=settings.database_url,
        modalities=["behaviour", "text"],
        pseudonym_key="test-key",
        require_playbook_approval=False,
    )
    app = create_app(text)
    admin = app.state.keys.create("test-admin", ["admin"])
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {admin}"}
        r = client.post(
            "/v1/consent/grant", json={"userId": "c9", "modalities": ["text"]}, headers=auth
        )
        assert r.status_code == 200
        yield client, auth


def _say(
    client: TestClient, auth: dict[str, str], i: int, text: str, session: str, channel: str
) -> dict[str, Any]:
    body = {
        "messageId": f"c9-{i}",
        "userId": "c9",
        "sessionId": session,
        "timestamp": T0 + i,
        "text": text,
        "context": {"channel": channel},
    }
    r = client.post("/v1/messages", json=body, headers=auth)
    assert r.status_code == 200, r.text
    decision: dict[str, Any] = r.json()["decision"]
    return decision


def test_the_handoff_follows_the_customer_to_another_channel(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    assert _say(client, auth, 1, "I want to talk to an agent", "web-1", "chat")["escalate"]
    later = _say(client, auth, 20, "Hello, I am calling about my order.", "call-1", "voice")
    assert later["escalate"] is True  # the open escalation came along
    (h,) = client.get("/v1/handoffs", headers=auth).json()["handoffs"]
    assert h["sessions"] == ["web-1", "call-1"]
    assert h["channels"] == ["chat", "voice"]
    assert [t["session_id"] for t in h["transcript"]] == ["web-1", "call-1"]


def test_a_new_session_starts_from_the_recent_state(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    hot = "This is ridiculous, it still hasn't arrived and nobody answers, worst service ever!"
    first = _say(client, auth, 1, hot, "web-2", "chat")
    assert first["state"]["top"] in ("frustrated", "disappointed")
    page = {
        "messageId": "c9-p",
        "userId": "c9",
        "sessionId": "app-2",
        "timestamp": T0 + 6,
        "properties": {"path": "/account"},
        "context": {"channel": "app"},
    }
    carried = client.post("/v1/page", json=page, headers=auth).json()["decision"]["state"]
    assert carried["top"] == first["state"]["top"]
    assert carried["intensity"] <= first["state"]["intensity"] + 1e-9  # decayed, not grown
    fresh = {**page, "messageId": "c9-q", "sessionId": "app-3", "timestamp": T0 + 3 * 86400}
    gone = client.post("/v1/page", json=fresh, headers=auth).json()["decision"]["state"]
    assert gone["top"] == "neutral"  # days later: nothing carried over


def test_declining_the_person_closes_the_handoff(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    assert _say(client, auth, 1, "Can I please speak to a real person?", "web-4", "chat")[
        "escalate"
    ]
    decline = {
        "messageId": "c9-d",
        "userId": "c9",
        "sessionId": "web-4",
        "timestamp": T0 + 5,
        "event": "handoff_declined",
    }
    r = client.post("/v1/track", json=decline, headers=auth)
    assert r.json()["decision"]["escalate"] is False
    (h,) = client.get("/v1/handoffs?status=closed", headers=auth).json()["handoffs"]
    assert h["outcome"] == "declined"

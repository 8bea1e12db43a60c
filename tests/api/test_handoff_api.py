"""The handoff contract on the embedded default with the shipped example playbook: a request
for a person escalates (German and English), the escalation holds over later page views, the
queue lists the session with its transcript, language and intent; an agent key works the queue
and nothing else; consent withdrawal and erasure reach the handoff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attune.api.app import create_app
from attune.config import Settings, load_settings
from attune.storage import tables

T0 = 1_767_000_000.0
ASK = "Ich will sofort mit einem Menschen sprechen!"
GERMAN = (
    "Das ist jetzt das dritte Mal, dass ich nachfrage. Ich will sofort mit einem Menschen sprechen!"
)


@pytest.fixture
def text_settings(settings: Settings) -> Settings:
    return load_settings(
        database_url=settings.database_url,
        modalities=["behaviour", "text"],
        pseudonym_key="test-key",
        require_playbook_approval=False,
    )


@pytest.fixture
def api(text_settings: Settings) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    app = create_app(text_settings)
    admin = app.state.keys.create("test-admin", ["admin"])
    agent = app.state.keys.create("agent-anna", ["agent"])
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {agent}"}


def _consent(client: TestClient, auth: dict[str, str], who: str, granted: bool = True) -> None:
    path = "/v1/consent/grant" if granted else "/v1/consent/revoke"
    r = client.post(path, json={"userId": who, "modalities": ["text"]}, headers=auth)
    assert r.status_code == 200, r.text


def _say(
    client: TestClient, auth: dict[str, str], i: int, text: str, who: str = "kunde-7", **kw: Any
) -> dict[str, Any]:
    body = {
        "messageId": f"{who}-m{i}",
        "userId": who,
        "sessionId": kw.pop("session", f"chat-{who}"),
        "timestamp": T0 + i,
        "text": text,
        "context": {"channel": kw.pop("channel", "chat")},
        **kw,
    }
    r = client.post("/v1/messages", json=body, headers=auth)
    assert r.status_code == 200, r.text
    decision: dict[str, Any] = r.json()["decision"]
    return decision


def test_a_german_request_for_a_person_escalates_and_holds(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, agent = api
    _consent(client, admin, "kunde-7")
    _say(client, admin, 1, "Hallo, meine Bestellung ist immer noch nicht da.")
    decision = _say(client, admin, 2, GERMAN)
    assert decision["escalate"] is True and decision["mode"] == "escalate_to_human"
    assert decision["escalation"]["reason"] == "requested"
    assert "support.handoff" in decision["content"]
    # a following page view of the same session still escalates
    page = {
        "messageId": "kunde-7-p1",
        "userId": "kunde-7",
        "sessionId": "chat-kunde-7",
        "timestamp": T0 + 30,
        "properties": {"path": "/account/orders"},
    }
    r = client.post("/v1/page", json=page, headers=admin)
    assert r.json()["decision"]["escalate"] is True
    # a cooler message does not undo it either
    assert _say(client, admin, 40, "Ok, danke.")["escalate"] is True
    for auth in (admin, agent):
        listed = client.get("/v1/handoffs", headers=auth)
        assert listed.status_code == 200
        handoffs = listed.json()["handoffs"]
        assert [h["session_id"] for h in handoffs] == ["chat-kunde-7"]
        h = handoffs[0]
        assert h["language"] == "de" and h["intent"] == "human" and h["status"] == "open"
        assert h["queue"] == "support-de"
        texts = [t["text"] for t in h["transcript"]]
        # redacted as stored (without a locale, the name redactor may read "Mal" as a name)
        assert texts[0].startswith("Hallo") and texts[1].endswith(ASK)
        assert {t["speaker"] for t in h["transcript"]} == {"customer"}
        assert h["suggested_opener"].startswith("Hallo") and h["priority"] > 0
        assert {
            "session_id",
            "status",
            "priority",
            "language",
            "intent",
            "state",
            "reason",
            "transcript",
            "arc",
            "tried",
            "suggested_opener",
        } <= set(h)
        assert "asked to speak with a person" in h["reason"]


def test_without_a_locale_the_explanation_speaks_the_customers_written_language(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    _consent(client, admin, "kunde-8")
    decision = _say(client, admin, 1, GERMAN, who="kunde-8")  # no context.locale
    assert decision["escalate"] is True
    assert "Shown in English" not in decision["explanation"]
    assert decision["explanation"].startswith("Sie möchten mit einem Menschen sprechen")
    assert "sieht den bisherigen Verlauf" in decision["explanation"]  # with consent, it does
    # an explicit locale still wins over the written language
    _consent(client, admin, "cust-9")
    body_locale = {"context": {"channel": "chat", "locale": "en-GB"}}
    r = client.post(
        "/v1/messages",
        json={
            "messageId": "cust-9-m1",
            "userId": "cust-9",
            "sessionId": "chat-cust-9",
            "timestamp": T0,
            "text": GERMAN,
            **body_locale,
        },
        headers=admin,
    )
    assert r.status_code == 200
    assert "person" in r.json()["decision"]["explanation"]


def test_an_english_request_escalates_and_a_low_confidence_intent_moves_nothing(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    _consent(client, admin, "cust-1")
    decision = _say(client, admin, 1, "Can I please speak to a real person?", who="cust-1")
    assert decision["escalate"] is True and decision["moment"] == "support"
    _consent(client, admin, "cust-2")
    # a message whose intent reads below the pack's threshold stays in the support moment
    decision = _say(client, admin, 1, "hmm ok whatever", who="cust-2")
    assert decision["moment"] == "support"


def test_agent_key_works_the_queue_and_nothing_else(
    api: tuple[TestClient, dict[str, str], dict[str, str]], text_settings: Settings
) -> None:
    client, admin, agent = api
    _consent(client, admin, "kunde-7")
    _say(client, admin, 1, GERMAN)
    hid = client.get("/v1/handoffs", headers=agent).json()["handoffs"][0]["id"]
    for method, path, body in (
        ("GET", "/v1/sessions/chat-kunde-7", None),
        ("POST", "/v1/privacy/export", {"userId": "kunde-7"}),
        ("POST", "/v1/consent/revoke", {"userId": "kunde-7", "modalities": ["text"]}),
        ("GET", "/v1/handoffs/stats", None),
    ):
        r = client.request(method, path, json=body, headers=agent)
        assert r.status_code == 403, (path, r.status_code)
    reader = client.app.state.keys.create("reader", ["read"])  # type: ignore[attr-defined]
    r = client.get(f"/v1/handoffs/{hid}/stream", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403  # a read key does not reach the agents' queue
    other = client.app.state.keys.create("agent-ben", ["agent"])  # type: ignore[attr-defined]
    ben = {"Authorization": f"Bearer {other}"}
    claimed = client.post(f"/v1/handoffs/{hid}/claim", headers=agent)
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    r = client.post(f"/v1/handoffs/{hid}/claim", headers=ben)
    assert r.status_code == 409 and "another agent" in r.json()["detail"]
    r = client.post(f"/v1/handoffs/{hid}/close", json={"outcome": "resolved"}, headers=ben)
    assert r.status_code == 409
    r = client.post(f"/v1/handoffs/{hid}/close", json={"outcome": "fixed"}, headers=agent)
    assert r.status_code == 422
    closed = client.post(f"/v1/handoffs/{hid}/close", json={"outcome": "resolved"}, headers=agent)
    assert closed.status_code == 200 and closed.json()["outcome"] == "resolved"
    r = client.post(f"/v1/handoffs/{hid}/claim", headers=agent)
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    assert client.get("/v1/handoffs", headers=agent).json()["handoffs"] == []
    # closing ended the session's escalation: a calm message decides afresh
    assert _say(client, admin, 50, "Alles klar, danke!")["escalate"] is False
    stats = client.get("/v1/handoffs/stats", headers=admin).json()
    assert stats["closed"] == 1 and stats["by_queue"]["support-de"]["outcomes"] == {"resolved": 1}
    assert "transcript" not in str(stats)
    actions = [e["action"] for e in client.app.state.privacy.audit.entries()]  # type: ignore[attr-defined]
    assert {"handoff_opened", "handoff_claimed", "handoff_closed"} <= set(actions)


def test_revoking_text_consent_stops_the_transcript(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, agent = api
    _consent(client, admin, "kunde-7")
    _say(client, admin, 1, GERMAN)
    _say(client, admin, 2, "Hallo? Ist da jemand?")
    _consent(client, admin, "kunde-7", granted=False)
    _say(client, admin, 3, "Das hier soll niemand mehr lesen.")
    h = client.get("/v1/handoffs", headers=agent).json()["handoffs"][0]
    texts = [t["text"] for t in h["transcript"]]
    assert len(texts) == 2 and texts[0].endswith(ASK) and texts[1] == "Hallo? Ist da jemand?"
    assert h["consent"]["text"] is False and h["consent"]["withdrawn_at"] is not None
    assert "withdrew consent" in h["coaching"]["note"]


def test_erasing_a_subject_erases_their_handoffs(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, agent = api
    _consent(client, admin, "kunde-7")
    _say(client, admin, 1, GERMAN)
    assert client.get("/v1/handoffs", headers=agent).json()["count"] == 1
    exported = client.post("/v1/privacy/export", json={"userId": "kunde-7"}, headers=admin).json()
    assert len(exported["handoffs"]) == 1 and len(exported["handoff_turns"]) == 1
    r = client.post("/v1/privacy/erase", json={"userId": "kunde-7"}, headers=admin)
    assert r.status_code == 200
    assert client.get("/v1/handoffs?status=open", headers=agent).json()["count"] == 0
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        for t in (tables.handoffs, tables.handoff_turns):
            assert conn.execute(select(func.count()).select_from(t)).scalar_one() == 0


def test_a_request_for_a_person_without_text_consent_still_reaches_one(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    """Consent covers reading messages for emotion; asking for a person is asking for a
    service, and the emotion-off journey loses no function: the request escalates, but no
    emotion is read, no words are kept, and the handoff carries no transcript."""
    client, admin, agent = api
    plain = _say(client, admin, 1, "Meine Bestellung ist immer noch nicht da, das nervt.")
    assert plain["escalate"] is False and plain["mode"] == "standard"
    decision = _say(client, admin, 2, "Ich will sofort einen Mitarbeiter sprechen!")
    assert decision["escalate"] is True and decision["mode"] == "escalate_to_human"
    assert decision["state"]["intensity"] == 0.0  # no emotional evidence came of it
    # promised nothing the agent lacks: no transcript, so no "sees the conversation so far"
    assert decision["explanation"].startswith("Sie möchten mit einem Menschen sprechen")
    assert "Verlauf" not in decision["explanation"]
    handoffs = client.get("/v1/handoffs", headers=agent).json()["handoffs"]
    assert len(handoffs) == 1
    h = handoffs[0]
    assert h["intent"] == "human" and h["language"] == "de"
    assert h["transcript"] == [] and h["consent"]["text"] is False
    assert "sehe ich nicht" in h["suggested_opener"]
    assert "no transcript" in h["coaching"]["note"]
    assert not any("transcript" in d for d in h["coaching"]["dont"])
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        payloads = conn.execute(select(tables.events.c.payload)).scalars().all()
        evidence = conn.execute(select(tables.signals.c.evidence)).scalars().all()
    assert payloads and all(p is None for p in payloads)  # withheld: no words stored
    assert not any("Mitarbeiter" in e or "Bestellung" in e for e in evidence)
    # a non-request without consent is still not read at all
    assert not any("nervt" in e for e in evidence) and len(evidence) == 1

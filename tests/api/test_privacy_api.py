"""The trust API through the real app: disclosure and acknowledgement gate voice and face,
consent is one call each way and bites on the next event, the privacy officer's routes work
and are audited, and the abuse guards answer floods, big, deep and mistyped bodies with 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attune.api.app import create_app
from attune.config import Settings
from attune.privacy.abuse import json_depth, json_scan
from attune.privacy.client import TrustClient
from attune.privacy.disclosure import VERSION
from attune.storage import tables

T0 = 1_767_000_000.0
Keys = dict[str, dict[str, str]]


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, Keys]]:
    limits = {"max_body_bytes": 20_000, "rate_per_s": 0.5, "rate_burst": 40}  # slow refill
    app = create_app(settings.model_copy(update=limits))
    keys = {
        s: {"Authorization": f"Bearer {app.state.keys.create(s, [s])}"}
        for s in ("ingest", "read", "analyst", "privacy", "admin")
    }
    with TestClient(app) as client:
        yield client, keys


def _signals(client: TestClient) -> int:
    app: Any = client.app
    app.state.engine.flush()
    with app.state.store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.signals)).scalar_one())


def _visitor(client: TestClient, keys: Keys, user: str = "cust-9") -> dict[str, str]:
    """The ingest key with the visitor's session token (what the tracker sends)."""
    app: Any = client.app
    token = app.state.visitor_tokens.token(app.state.privacy.subject(user))
    return {**keys["ingest"], "X-Attune-Session-Token": token}


def _rage(client: TestClient, keys: Keys, start: int, user: str = "cust-9") -> dict[str, Any]:
    batch = [
        {
            "type": "track",
            "messageId": f"r{start + i}",
            "userId": user,
            "sessionId": "s9",
            "timestamp": T0 + start + 0.2 * i,
            "event": "click",
            "properties": {"selector": "#pay", "x": 3, "y": 3},
        }
        for i in range(5)
    ]
    r = client.post("/v1/batch", json={"batch": batch}, headers=_visitor(client, keys, user))
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_disclosure_and_acknowledgement(api: tuple[TestClient, Keys]) -> None:
    client, keys = api
    r = client.get("/v1/disclosure?locale=de-DE", headers=keys["ingest"])
    assert r.status_code == 200 and r.json()["locale"] == "de"
    assert "Emotionserkennung" in r.json()["text"] and r.json()["version"] == VERSION
    body = {"userId": "cust-9", "version": "old"}
    assert (
        client.post("/v1/disclosure/acknowledge", json=body, headers=keys["ingest"]).status_code
        == 409
    )
    body["version"] = VERSION
    assert (
        client.post("/v1/disclosure/acknowledge", json=body, headers=keys["ingest"]).status_code
        == 200
    )
    grant = {"userId": "cust-9", "modalities": ["voice"], "source": "banner", "textVersion": "c-v2"}
    r = client.post("/v1/consent/grant", json=grant, headers=keys["ingest"])
    assert r.json()["consent"]["voice"] is True and r.json()["consent"]["face"] is False


def test_consent_revoke_is_one_call_and_bites_on_the_next_event(
    api: tuple[TestClient, Keys],
) -> None:
    client, keys = api
    _rage(client, keys, 0)
    assert _signals(client) > 0  # behaviour runs on legitimate interest by default here
    before = _signals(client)
    r = client.post(
        "/v1/consent/revoke",
        json={"userId": "cust-9", "modalities": ["behaviour"]},
        headers=keys["ingest"],
    )
    assert r.status_code == 403  # a public key needs the visitor's token for a known visitor
    r = client.post(
        "/v1/consent/revoke",
        json={"userId": "cust-9", "modalities": ["behaviour"]},
        headers=_visitor(client, keys),
    )
    assert r.status_code == 200 and r.json()["consent"]["behaviour"] is False
    _rage(client, keys, 100)
    assert _signals(client) == before
    history = client.post(
        "/v1/privacy/consent", json={"userId": "cust-9"}, headers=keys["privacy"]
    ).json()
    assert [h["granted"] for h in history["history"]] == [False]
    assert "withdrawn" in history["reasons"]["behaviour"]


def test_privacy_officer_routes_are_audited(api: tuple[TestClient, Keys]) -> None:
    client, keys = api
    _rage(client, keys, 0)
    who = {"userId": "cust-9"}
    out = client.post("/v1/privacy/export", json=who, headers=keys["privacy"]).json()
    assert out["events"] and out["decisions"]
    decision_id = out["decisions"][-1]["id"]
    r = client.get(f"/v1/privacy/decisions/{decision_id}/explanation", headers=keys["privacy"])
    assert r.status_code == 200 and r.json()["signals"]
    assert (
        client.get("/v1/privacy/decisions/nope/explanation", headers=keys["privacy"]).status_code
        == 404
    )
    r = client.post("/v1/privacy/erase", json=who, headers=keys["privacy"])
    assert r.status_code == 200 and r.json()["deleted"]["events"] == 5
    assert (
        client.post("/v1/privacy/export", json=who, headers=keys["privacy"]).json()["events"] == []
    )
    late = _rage(client, keys, 100)  # the page did not know yet: accepted, dropped, said so
    assert (late["accepted"], late["dropped_erased"], late["duplicates"]) == (5, 5, 0)
    verdict = client.get("/v1/privacy/audit/verify", headers=keys["privacy"]).json()
    assert verdict["ok"] and verdict["checked"] >= 4
    actions = [e["action"] for e in client.app.state.privacy.audit.entries()]  # type: ignore[attr-defined]
    for action in ("subject_export", "decision_explain", "subject_erase", "model_in_use"):
        assert action in actions


def test_employee_flag_stops_analysis(api: tuple[TestClient, Keys]) -> None:
    client, keys = api
    r = client.post(
        "/v1/privacy/role", json={"userId": "agent-1", "role": "agent"}, headers=keys["privacy"]
    )
    assert r.status_code == 200
    _rage(client, keys, 0, user="agent-1")
    assert _signals(client) == 0


def test_identity_table_sits_behind_the_privacy_scope(api: tuple[TestClient, Keys]) -> None:
    client, keys = api
    body = {"userId": "cust-9", "identity": "Jane Roe, jane@example.com"}
    assert client.put("/v1/privacy/identity", json=body, headers=keys["read"]).status_code == 403
    assert client.put("/v1/privacy/identity", json=body, headers=keys["privacy"]).status_code == 200
    r = client.post(
        "/v1/privacy/identity/lookup", json={"userId": "cust-9"}, headers=keys["privacy"]
    )
    assert r.json()["identity"].startswith("Jane")


def test_abuse_answers_are_clear_4xx_and_lose_nothing(api: tuple[TestClient, Keys]) -> None:
    client, keys = api
    web = _visitor(client, keys, "u")
    ok = {"messageId": "a1", "userId": "u", "event": "click"}
    assert client.post("/v1/track", json=ok, headers=web).status_code == 200
    big = {**ok, "messageId": "a2", "properties": {"blob": "x" * 30_000}}
    r = client.post("/v1/track", json=big, headers=web)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    deep: Any = {}
    for _ in range(100):
        deep = {"a": deep}
    r = client.post("/v1/track", json={**ok, "messageId": "a3", "properties": deep}, headers=web)
    assert r.status_code == 422 and "nested deeper" in r.json()["detail"]
    # found by the fuzzer: a 30-digit number was accepted, then broke the store's batch write
    huge = {**ok, "messageId": "a5", "properties": {"n": 10**30}}
    r = client.post("/v1/track", json=huge, headers=web)
    assert r.status_code == 422 and "digits" in r.json()["detail"]
    r = client.post(
        "/v1/track",
        content=b"<xml/>",
        headers={**web, "Content-Type": "application/xml"},
    )
    assert r.status_code == 415
    # Segment's browser library posts JSON as text/plain: accepted
    r = client.post(
        "/v1/track",
        content=b'{"messageId":"a4","userId":"u","event":"click"}',
        headers={**web, "Content-Type": "text/plain"},
    )
    assert r.status_code == 200
    codes = [
        client.post("/v1/track", json={**ok, "messageId": f"f{i}"}, headers=web).status_code
        for i in range(80)
    ]
    assert 429 in codes and set(codes) <= {200, 429}
    r = client.post("/v1/track", json={**ok, "messageId": "late"}, headers=web)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # another key is not throttled by this one's flood
    assert client.get("/v1/info", headers=keys["read"]).status_code == 200
    app: Any = client.app
    app.state.engine.flush()
    with app.state.store.connect() as conn:
        stored = set(conn.execute(select(tables.events.c.id)).scalars())
    accepted = {"a1", "a4"} | {f"f{i}" for i, c in enumerate(codes) if c == 200}
    assert stored == accepted  # everything accepted is kept; nothing refused slipped in


def test_json_depth_skips_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth(b'"\\"[["') == 0
    assert json_scan(b'{"id": "12345678901234567890", "n": 123}') == (1, 3)


def test_python_client_one_call_each_way(api: tuple[TestClient, Keys]) -> None:
    client, keys = api
    ingest = TrustClient(http=client, key=keys["ingest"]["Authorization"].split()[1])
    text = ingest.disclosure("en")
    assert ingest.acknowledge("cust-7", text["version"])["ok"] is True
    assert ingest.grant("cust-7", ["text", "voice"], source="ivr")["voice"] is True
    assert ingest.revoke("cust-7", ["voice"])["voice"] is False
    dpo = TrustClient(http=client, key=keys["privacy"]["Authorization"].split()[1])
    history = dpo.export("cust-7")["consents"]
    assert [(h["modality"], h["granted"]) for h in history] == [
        ("text", True),
        ("voice", True),
        ("voice", False),
    ]

"""A public (ingest) key is public: it reaches only the visitor whose session token it holds.
Events naming a victim's session or user id get no state of the victim's and are not merged;
consent changes need the token; a server key acts for anyone and mints tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from attune.api.app import create_app
from attune.config import Settings

T0 = 1_767_000_000.0
TOKEN = "X-Attune-Session-Token"


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    app = create_app(settings)
    keys = {
        s: {"Authorization": f"Bearer {app.state.keys.create(s, [s])}"}
        for s in ("ingest", "server", "read")
    }
    with TestClient(app) as client:
        yield client, keys


def _clicks(start: int, **who: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "messageId": f"c{start + i}",
            **who,
            "timestamp": T0 + start + 0.2 * i,
            "event": "click",
            "properties": {"selector": "#pay", "x": 3, "y": 3},
        }
        for i in range(5)
    ]


def test_a_public_key_reads_and_merges_nothing_of_another_visitor(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = api
    web = keys["ingest"]
    # the victim: a new visitor gets an answer with its decision and a token
    r = client.post(
        "/v1/batch", json={"batch": _clicks(0, userId="victim", sessionId="vs")}, headers=web
    )
    assert r.status_code == 200 and r.json()["decisions"]["vs"]["state"]["probs"]
    victim_token = r.json()["sessionTokens"]["vs"]
    app: Any = client.app
    victim_rt = app.state.engine.sessions["vs"]
    signals_before = len(victim_rt.fusion.recent)

    # the attacker names the victim's session, then the victim's user id, single and batch
    hostile = [
        ("/v1/track", {**_clicks(100, anonymousId="attacker", sessionId="vs")[0]}),
        ("/v1/track", {**_clicks(200, userId="victim")[0]}),
        ("/v1/track", {**_clicks(300, userId="victim", sessionId="fresh")[0]}),
    ]
    for path, body in hostile:
        r = client.post(path, json=body, headers=web)
        assert r.status_code == 403, r.text
        assert "decision" not in r.json() and "probs" not in r.text and "fear" not in r.text
    r = client.post(
        "/v1/batch",
        json={
            "batch": _clicks(400, anonymousId="attacker", sessionId="vs")
            + _clicks(500, userId="victim")
        },
        headers=web,
    )
    body = r.json()
    assert r.status_code == 200 and body["accepted"] == 0 and body["decisions"] == {}
    assert {e["errors"][0]["field"] for e in body["errors"]} == {"sessionId", TOKEN.lower()}
    assert len(victim_rt.fusion.recent) == signals_before  # nothing merged into the victim

    # consent: a public key without the victim's token may not change it
    change = {"userId": "victim", "modalities": ["behaviour"]}
    assert client.post("/v1/consent/revoke", json=change, headers=web).status_code == 403
    ack = {"userId": "victim", "version": "x"}
    assert client.post("/v1/disclosure/acknowledge", json=ack, headers=web).status_code == 403

    # the victim's own page, with its token, carries on
    own = {**web, TOKEN: victim_token}
    r = client.post(
        "/v1/batch", json={"batch": _clicks(600, userId="victim", sessionId="vs")}, headers=own
    )
    assert r.status_code == 200 and r.json()["accepted"] == 5 and "vs" in r.json()["decisions"]
    assert client.post("/v1/consent/revoke", json=change, headers=own).status_code == 200


def test_a_server_key_acts_for_anyone_and_mints_tokens(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = api
    client.post(
        "/v1/batch", json={"batch": _clicks(0, userId="u1", sessionId="a")}, headers=keys["ingest"]
    )
    r = client.post(
        "/v1/track", json=_clicks(10, userId="u1", sessionId="a")[0], headers=keys["server"]
    )
    assert r.status_code == 200 and r.json()["decision"]["state"]["probs"]
    assert "sessionToken" not in r.json()
    minted = client.post("/v1/session-tokens", json={"userId": "u1"}, headers=keys["server"])
    assert minted.status_code == 200
    assert (
        client.post("/v1/session-tokens", json={"userId": "u1"}, headers=keys["ingest"]).status_code
        == 403
    )
    # a signed-in user on a new device: the site's back end passed the minted token on
    device = {**keys["ingest"], TOKEN: minted.json()["sessionToken"]}
    r = client.post("/v1/track", json=_clicks(20, userId="u1", sessionId="b")[0], headers=device)
    assert r.status_code == 200 and r.json()["decision"] is not None

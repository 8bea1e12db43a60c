"""The API through the real app: ingest answers with decisions, errors name fields, a batch
keeps its good events, replays are accepted but not processed twice, keys and scopes hold."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attune.api.app import create_app
from attune.config import Settings
from attune.storage import tables

T0 = 1_767_000_000.0


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(settings)
    key = app.state.keys.create("test-admin", ["admin"])
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def ev(i: int, **body: Any) -> dict[str, Any]:
    return {
        "messageId": f"m{i}",
        "anonymousId": "visitor-42",
        "sessionId": "s1",
        "timestamp": T0 + body.pop("t", i),
        **body,
    }


def rage(start: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            **ev(
                start + i,
                t=10 + i * 0.2,
                event="click",
                properties={"selector": "#pay", "x": 5, "y": 5},
            ),
        }
        for i in range(4)
    ]


def test_ingest_answers_with_the_sessions_decision(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    r = client.post("/v1/page", json=ev(1, properties={"path": "/checkout/pay"}), headers=auth)
    assert r.status_code == 200
    decision = r.json()["decision"]
    assert decision["mode"] == "standard" and decision["moment"] == "checkout"
    assert "standard view" in decision["explanation"]


def test_frustration_adapts_the_checkout_with_an_explanation(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    client.post("/v1/page", json=ev(1, properties={"path": "/checkout/pay"}), headers=auth)
    batch = rage(10) + [
        {
            "type": "track",
            **ev(20 + i, t=12 + i, event="validation_error", properties={"field": "card"}),
        }
        for i in range(2)
    ]
    r = client.post("/v1/batch", json={"batch": batch}, headers=auth)
    body = r.json()
    assert r.status_code == 200 and body["accepted"] == 6 and body["errors"] == []
    decision = body["decisions"]["s1"]
    assert decision["mode"] == "fast_track"
    assert decision["offers_allowed"] is False
    assert decision["explanation"].startswith("3 clicks in 0.4 s on #pay suggest frustration")
    assert decision["content"]["checkout.fast_track"].startswith("We filled in")
    view = client.get("/v1/sessions/s1", headers=auth).json()
    assert view["state"]["top"] == "frustrated" and view["signals"] >= 2
    reads = [
        e
        for e in client.app.state.privacy.audit.entries()  # type: ignore[attr-defined]
        if e["action"] == "personal_data_read" and e["data"] == {"what": "session_state"}
    ]
    assert len(reads) == 1 and reads[0]["subject"]  # who read whose state, as a keyed ref


def test_bad_event_gets_a_422_naming_the_field(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    r = client.post("/v1/track", json={"anonymousId": "a", "messageId": "x"}, headers=auth)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "event", "message": "Field required"}]
    r = client.post("/v1/track", json={"messageId": "x", "event": "click"}, headers=auth)
    assert r.status_code == 422 and "userId or anonymousId" in r.json()["detail"]
    r = client.post("/v1/outcomes", json=ev(1, name="bought-a-boat"), headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


def test_one_bad_event_in_a_batch_does_not_lose_the_good_ones(
    api: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, auth = api
    batch = [
        {"type": "page", **ev(1, properties={"path": "/cart"})},
        {"type": "trak", **ev(2)},
        {"type": "track", "messageId": "m9", "event": "click"},
        {"type": "track", **ev(3, event="click")},
    ]
    checked = client.post(
        "/v1/batch?validateOnly=true", json={"batch": batch}, headers=auth
    ).json()  # a tracker's payloads checked: same errors, nothing processed
    assert checked["validated_only"] and checked["accepted"] == 0
    assert [e["index"] for e in checked["errors"]] == [1, 2]
    body = client.post("/v1/batch", json={"batch": batch}, headers=auth).json()
    assert body["accepted"] == 2 and body["duplicates"] == 0
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert body["errors"][0]["errors"][0]["field"] == "type"
    assert "userId or anonymousId" in body["errors"][1]["errors"][0]["message"]
    client.app.state.engine.flush()  # type: ignore[attr-defined]
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        stored = conn.execute(select(tables.events.c.id)).scalars().all()
    assert sorted(stored) == ["m1", "m3"]


def test_malformed_batch_bodies_get_clear_errors(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    r = client.post("/v1/batch", content=b'{"batch": [', headers=auth)
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    r = client.post("/v1/batch", json={"events": []}, headers=auth)
    assert r.status_code == 422 and "batch" in r.json()["detail"]
    r = client.post("/v1/batch", json={"batch": [42, {"type": "page", **ev(1)}]}, headers=auth)
    assert r.json()["accepted"] == 1 and r.json()["errors"][0]["index"] == 0


def test_replayed_message_id_is_accepted_but_not_processed_twice(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    batch = rage(10)
    first = client.post("/v1/batch", json={"batch": batch}, headers=auth).json()
    again = client.post("/v1/batch", json={"batch": batch}, headers=auth).json()
    assert first["duplicates"] == 0 and again["duplicates"] == 4 and again["accepted"] == 4
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert engine.counts["events"] == 4
    engine.flush()
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        n = conn.execute(
            select(func.count())
            .select_from(tables.signals)
            .where(tables.signals.c.name == "rage_click")
        ).scalar_one()
    assert n == 1


def test_subject_ids_are_pseudonymised_everywhere(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    client.post("/v1/batch", json={"batch": rage(1)}, headers=auth)
    client.post(
        "/v1/messages",
        json=ev(9, text="Mail me at jo@example.com", userId="visitor-42"),
        headers=auth,
    )
    engine = client.app.state.engine  # type: ignore[attr-defined]
    engine.flush()
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        for table in tables.SUBJECT_TABLES:
            for row in conn.execute(select(table)).all():
                assert "visitor-42" not in str(tuple(row))
                assert "jo@example.com" not in str(tuple(row))


def test_segment_write_key_as_basic_auth_and_scopes(settings: Settings) -> None:
    app = create_app(settings)
    ingest = app.state.keys.create("web", ["ingest"])
    with TestClient(app) as client:
        basic = base64.b64encode(f"{ingest}:".encode()).decode()
        r = client.post(
            "/v1/page",
            json=ev(1, properties={"path": "/"}),
            headers={"Authorization": f"Basic {basic}"},
        )
        assert r.status_code == 200
        r = client.get("/v1/sessions/s1", headers={"Authorization": f"Bearer {ingest}"})
        assert r.status_code == 403 and "read" in r.json()["detail"]
        assert client.post("/v1/page", json=ev(2)).status_code == 401
        assert (
            client.post("/v1/page", json=ev(2), headers={"X-API-Key": "atn_wrong"}).status_code
            == 401
        )


def test_standard_view_event_sticks_for_the_session(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    client.post("/v1/page", json=ev(1, properties={"path": "/checkout"}), headers=auth)
    client.post("/v1/track", json=ev(2, event="standard_view"), headers=auth)
    body = client.post("/v1/batch", json={"batch": rage(10)}, headers=auth).json()
    assert body["decisions"]["s1"]["mode"] == "standard"
    assert "chose the standard view" in body["decisions"]["s1"]["explanation"]


def test_outcomes_and_feedback_are_stored_with_the_arm(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    client.post("/v1/page", json=ev(1, properties={"path": "/checkout"}), headers=auth)
    assert (
        client.post(
            "/v1/outcomes", json=ev(2, name="conversion", value=49.9), headers=auth
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/v1/feedback",
            json=ev(3, shownState="confused", correct=False, trueState="anxious"),
            headers=auth,
        ).status_code
        == 200
    )
    client.app.state.engine.flush()  # type: ignore[attr-defined]
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        outcome = conn.execute(select(tables.outcomes)).one()
        feedback = conn.execute(select(tables.feedback)).one()
    assert outcome.name == "conversion" and outcome.value == 49.9 and outcome.arm == "adaptive"
    assert outcome.moment == "checkout"
    assert feedback.true_state == "anxious" and feedback.correct is False


def test_openapi_lists_the_segment_routes(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for route in (
        "/v1/track",
        "/v1/page",
        "/v1/screen",
        "/v1/identify",
        "/v1/batch",
        "/v1/messages",
        "/v1/outcomes",
        "/v1/sessions/{session_id}/stream",
    ):
        assert route in paths

"""What an operator relies on: access logs without personal data, Prometheus metrics,
readiness, answers that say why nothing happened, and the sandbox that production refuses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from attune.api.app import create_app
from attune.config import Settings, load_settings

T0 = 1_767_000_000.0


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(settings)
    key = app.state.keys.create("ops-admin", ["admin"])
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def click(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": f"c{i}",
        "anonymousId": "jane.doe@example.com",
        "sessionId": "sess-secret-1",
        "timestamp": T0 + i,
        "event": "click",
        "properties": {"selector": "#pay", "note": "card 4111 1111 1111 1111"},
        **extra,
    }


def test_access_log_names_the_route_and_key_never_ids_or_bodies(
    api: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, auth = api
    with caplog.at_level(logging.INFO, logger="attune.access"):
        client.post("/v1/track", json=click(1), headers=auth)
        client.get("/v1/sessions/sess-secret-1?userId=jane.doe@example.com", headers=auth)
        client.post("/v1/track", json={"bad": 1}, headers=auth)
    records = [r for r in caplog.records if r.name == "attune.access"]
    fields = [r.fields for r in records]  # type: ignore[attr-defined]
    assert [(f["method"], f["route"], f["status"]) for f in fields] == [
        ("POST", "/v1/track", 200),
        ("GET", "/v1/sessions/{session_id}", 200),
        ("POST", "/v1/track", 422),
    ]
    assert all(f["key"] == "ops-admin" and f["ms"] >= 0 for f in fields)
    text = caplog.text
    assert "jane.doe" not in text and "sess-secret" not in text and "4111" not in text


def test_metrics_in_prometheus_format(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    client.post("/v1/track", json=click(1), headers=auth)
    client.post("/v1/track", json=click(1), headers=auth)  # a replay
    client.post(
        "/v1/batch", json={"batch": [{"type": "track", **click(2)}, {"x": 1}]}, headers=auth
    )
    client.post("/v1/track", json={"bad": 1}, headers=auth)
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    for line in (
        'attune_events_total{outcome="accepted",route="/v1/track"} 1.0',
        'attune_events_total{outcome="duplicate",route="/v1/track"} 1.0',
        'attune_events_total{outcome="accepted",route="/v1/batch"} 1.0',
        'attune_events_total{outcome="refused",route="/v1/batch"} 1.0',
        'attune_events_total{outcome="refused",route="/v1/track"} 1.0',
        "attune_decision_seconds_count 2.0",
        "attune_active_sessions",
        'attune_queue_depth{queue="rows_unwritten"}',
        'attune_dead_letters_total{kind="webhook"} 0.0',
        "attune_consent_changes_total 0.0",
    ):
        assert line in body, line
    assert "jane" not in body and "sess-secret" not in body


def test_readyz_checks_the_database(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ready": True, "checks": {"database": "ok"}}
    client.app.state.store.engine.dispose()  # type: ignore[attr-defined]
    client.app.state.store.url = "sqlite:////nonexistent-dir/x.db"  # type: ignore[attr-defined]
    from sqlalchemy import create_engine

    client.app.state.store.engine = create_engine(  # type: ignore[attr-defined]
        "sqlite:////nonexistent-dir/x.db"
    )
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["ready"] is False
    assert "does not exist" in r.json()["checks"]["database"]


def test_an_ignored_message_says_why(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"modalities": ["behaviour", "text"]}))
    key = app.state.keys.create("k", ["admin"])
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        msg = {"anonymousId": "v", "sessionId": "m1", "text": "this is useless", "timestamp": T0}
        r = client.post("/v1/messages", json={**msg, "messageId": "t1"}, headers=auth).json()
        assert r["analysed"] is False and "text needs consent" in r["reason"]
        agent = {**msg, "messageId": "t2", "speaker": "agent"}
        r = client.post("/v1/messages", json=agent, headers=auth).json()
        assert r["analysed"] is False and "agent" in r["reason"]
        client.post(
            "/v1/consent/grant", json={"anonymousId": "v", "modalities": ["text"]}, headers=auth
        )
        r = client.post("/v1/messages", json={**msg, "messageId": "t3"}, headers=auth).json()
        assert r["analysed"] is True and "reason" not in r


def test_a_grant_that_cannot_take_effect_is_a_409_with_the_missing_step(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    grant = {"userId": "u1", "modalities": ["voice"]}
    r = client.post("/v1/consent/grant", json=grant, headers=auth)
    assert r.status_code == 409 and "/v1/disclosure/acknowledge" in r.json()["detail"]
    version = client.get("/v1/disclosure", headers=auth).json()["version"]
    client.post(
        "/v1/disclosure/acknowledge", json={"userId": "u1", "version": version}, headers=auth
    )
    r = client.post("/v1/consent/grant", json=grant, headers=auth)
    assert r.status_code == 200 and r.json()["consent"]["voice"] is True


def test_sandbox_runs_the_example_and_shows_it_production_refuses_it(tmp_path: Any) -> None:
    with pytest.raises(ValidationError, match="sandbox mode is refused"):
        load_settings(sandbox=True, production=True, pseudonym_key="s3cret")
    with pytest.raises(ValidationError, match="ATTUNE_PSEUDONYM_KEY"):
        load_settings(production=True)
    sandbox = load_settings(
        sandbox=True, database_url=str(tmp_path / "sbx.db"), modalities=["behaviour"]
    )
    assert sandbox.require_playbook_approval is False
    assert sandbox.database_url == f"sqlite:///{tmp_path / 'sbx.db'}"  # a plain path
    app = create_app(sandbox)
    assert app.state.engine.policy.playbooks  # active without an approval
    with TestClient(app) as client:
        page = client.get("/dashboard").text
    assert "SANDBOX MODE" in page

"""What a store would refuse is refused at the edge, with a 4xx naming the field, and nothing of
it is stored: NUL characters, unpaired surrogates, NaN/Infinity, over-long values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attune.api.app import create_app
from attune.config import Settings
from attune.privacy.abuse import unstorable
from attune.storage import tables

T0 = 1_767_000_000.0


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    key = app.state.keys.create("admin", ["admin"])
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c


def _raw(client: TestClient, path: str, body: str) -> Any:
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


def _stored(client: TestClient) -> set[str]:
    app: Any = client.app
    with app.state.store.connect() as conn:
        return set(conn.execute(select(tables.events.c.id)).scalars())


def test_unstorable_values_are_refused_naming_the_field(client: TestClient) -> None:
    base = '"messageId": "m{n}", "userId": "u", "event": "click", "timestamp": 1767000000'
    cases = {
        '{%s, "sessionId": "s\\u0000x"}': "sessionId",
        '{%s, "properties": {"note": "a\\ud800b"}}': "properties.note",
        '{%s, "properties": {"n": Infinity}}': "properties.n",
        '{%s, "properties": {"n": NaN}}': "properties.n",
        '{%s, "properties": {"list": [1, -Infinity]}}': "properties.list[1]",
    }
    for n, (template, field) in enumerate(cases.items()):
        r = _raw(client, "/v1/track", template % base.format(n=n))
        assert r.status_code == 422, (template, r.text)
        assert r.json()["detail"].startswith(field + ":"), r.json()
    # a valid surrogate pair (an emoji) and words that merely contain "NaN" pass
    emoji = "{" + base.format(n="ok") + ', "properties": {"e": "\\ud83d\\ude00 NaNa"}}'
    r = _raw(client, "/v1/track", emoji)
    assert r.status_code == 200, r.text
    r = client.post(
        "/v1/feedback",
        json={"messageId": "f1", "userId": "u", "shownState": "x" * 33, "correct": True},
    )
    assert r.status_code == 422 and "shownState" in r.text
    assert _stored(client) == {"mok"}


def test_a_long_page_path_is_stored_as_a_bounded_step(client: TestClient) -> None:
    path = "/" + "p" * 400
    r = client.post(
        "/v1/page",
        json={"messageId": "p1", "userId": "u", "timestamp": T0, "properties": {"path": path}},
    )
    assert r.status_code == 200
    app: Any = client.app
    assert len(app.state.engine.sessions["subject:" + app.state.privacy.subject("u")].step) == 200


def test_the_scan_is_cheap_on_clean_bodies() -> None:
    assert unstorable(b'{"a": "plain", "n": 1.5}') is None
    assert unstorable(b'{"a": "x\\\\u0000"}') is None  # an escaped backslash, then "u0000"
    assert unstorable(b'{"a": {"b\\u0000": 1}}') == "a: a key contains an invalid character"


def test_an_experiment_with_a_non_string_hypothesis_is_a_4xx(client: TestClient) -> None:
    body = {
        "id": "exp-1",
        "hypothesis": 5,
        "treatment_playbook": "shop@1",
        "primary": {"name": "conversion", "kind": "proportion"},
    }
    r = client.post("/v1/experiments", json=body)
    assert r.status_code == 422 and "hypothesis" in r.json()["detail"]
    r = client.post("/v1/experiments", json={**body, "hypothesis": "h", "id": ["x"]})
    assert r.status_code == 422 and "id" in r.json()["detail"]

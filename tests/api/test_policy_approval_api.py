"""Playbook review through the real app: the submitter is the calling key's person, never the
YAML's author field; the approver must be another person holding the approver scope (admin does
not imply it); both people are in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from attune.api.app import create_app
from attune.config import Settings

BOOK = "shop-journeys@2026.12.2"  # its YAML says author: cx-team@shop.example
Auth = dict[str, dict[str, str]]


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, Auth]]:
    app = create_app(settings)
    people = {
        "alice": ["author", "approver"],  # may submit and approve, but never her own
        "bob": ["approver"],
        "cx-team@shop.example": ["approver"],  # the name the YAML claims as author
        "root": ["admin"],
        "reader": ["read"],
    }
    auth = {
        name: {"Authorization": f"Bearer {app.state.keys.create(name, scopes)}"}
        for name, scopes in people.items()
    }
    with TestClient(app) as client:
        yield client, auth


def _post(client: TestClient, who: dict[str, str], step: str) -> Any:
    return client.post(f"/v1/playbooks/{step}", json={"playbook": BOOK}, headers=who)


def test_submitter_cannot_approve_own_submission_whatever_the_yaml_says(
    api: tuple[TestClient, Auth],
) -> None:
    client, auth = api
    r = _post(client, auth["alice"], "submit")
    assert r.status_code == 200, r.text
    assert r.json()["submitted_by"] == "alice"
    own = _post(client, auth["alice"], "approve")
    assert own.status_code == 403 and "cannot approve" in own.json()["detail"]
    # The YAML's author is not the submitter: a person of that name may review it.
    ok = _post(client, auth["cx-team@shop.example"], "approve")
    assert ok.status_code == 200, ok.text
    assert ok.json()["approved_by"] == "cx-team@shop.example"
    listed = client.get("/v1/playbooks", headers=auth["reader"]).json()["playbooks"]
    review = next(p for p in listed if p["playbook"] == BOOK)["review"]
    assert review["submitted_by"] == "alice" and review["approved_by"] == "cx-team@shop.example"
    app: Any = client.app
    entries = {e["action"]: e for e in app.state.privacy.audit.entries()}
    assert entries["playbook_submitted"]["actor"] == "alice"
    assert entries["playbook_submitted"]["data"]["yaml_author"] == "cx-team@shop.example"
    assert entries["playbook_approved"]["actor"] == "cx-team@shop.example"
    assert entries["playbook_approved"]["data"]["submitted_by"] == "alice"


def test_only_the_approver_role_approves(api: tuple[TestClient, Auth]) -> None:
    client, auth = api
    assert _post(client, auth["reader"], "submit").status_code == 403  # no author scope
    assert _post(client, auth["root"], "submit").status_code == 200  # admin may submit
    for outsider in ("root", "reader"):  # admin does not imply approver
        r = _post(client, auth[outsider], "approve")
        assert r.status_code == 403 and "approver" in r.json()["detail"]
    assert _post(client, auth["bob"], "approve").status_code == 200


def test_unknown_playbook_and_approval_before_submission(api: tuple[TestClient, Auth]) -> None:
    client, auth = api
    r = client.post("/v1/playbooks/submit", json={"playbook": "nope@1"}, headers=auth["alice"])
    assert r.status_code == 404 and BOOK in r.json()["detail"]
    early = _post(client, auth["bob"], "approve")
    assert early.status_code == 409 and "never submitted" in early.json()["detail"]

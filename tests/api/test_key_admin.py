"""Keys: revoked by the API or the CLI, refused by every process once its short cache entry
ages out (``CACHE_S``, under a second); listed with scopes, creation and last use; the
unknown-key cache is bounded; failed authentications are limited per address."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from attune.api.app import create_app
from attune.api.keys import CACHE_S, KeyRing
from attune.cli import app as cli
from attune.config import Settings
from attune.storage.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_revocation_in_one_process_bites_in_another_within_the_cache_time(
    settings: Settings,
) -> None:
    store = Store(settings.database_url)
    clock = Clock()
    admin_side, other_process = KeyRing(store, clock), KeyRing(store, clock)
    raw = admin_side.create("web", ["ingest"])
    key = other_process.verify(raw)
    assert key is not None
    assert admin_side.revoke(key.id)
    clock.now += CACHE_S + 0.01
    assert CACHE_S < 1.0 and other_process.verify(raw) is None


def test_revoke_route_cli_and_listing(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    admin = {"Authorization": f"Bearer {app.state.keys.create('ops', ['admin'])}"}
    web_raw = app.state.keys.create("web", ["ingest"])
    cli_raw = app.state.keys.create("batch-job", ["server"])
    with TestClient(app) as client:
        web = {"Authorization": f"Bearer {web_raw}"}
        assert client.get("/v1/disclosure", headers=web).status_code == 200
        listed = {k["name"]: k for k in client.get("/v1/keys", headers=admin).json()["keys"]}
        assert listed["web"]["scopes"] == ["ingest"] and listed["web"]["created_at"] > 0
        assert (
            listed["web"]["last_used_at"] is not None
            and listed["batch-job"]["last_used_at"] is None
        )
        assert client.get("/v1/keys", headers=web).status_code == 403
        r = client.post(f"/v1/keys/{listed['web']['id']}/revoke", headers=admin)
        assert r.status_code == 200
        assert client.post("/v1/keys/nope/revoke", headers=admin).status_code == 404
        assert client.get("/v1/disclosure", headers=web).status_code == 401  # this process at once
        # the CLI, another process: the server's cache entry ages out within CACHE_S
        runner = CliRunner()
        out = runner.invoke(cli, ["keys", "list", "--db", settings.database_url])
        assert out.exit_code == 0, out.output
        rows: list[dict[str, Any]] = json.loads(out.output)
        job = next(k for k in rows if k["name"] == "batch-job")
        assert next(k for k in rows if k["name"] == "web")["revoked"] is True
        out = runner.invoke(cli, ["keys", "revoke", job["id"], "--db", settings.database_url])
        assert out.exit_code == 0 and "revoked" in out.output
        out = runner.invoke(cli, ["keys", "revoke", job["id"], "--db", settings.database_url])
        assert out.exit_code != 0 and "no active key" in out.output
        app.state.keys.clock = lambda: 1e12  # as if CACHE_S had passed
        job_auth = {"Authorization": f"Bearer {cli_raw}"}
        assert client.get("/v1/disclosure", headers=job_auth).status_code == 401


def test_unknown_key_cache_is_bounded(settings: Settings) -> None:
    keys = KeyRing(Store(settings.database_url), max_cached=100)
    for i in range(1000):
        assert keys.verify(f"atn_bogus_{i}") is None
    assert len(keys._cache) <= 100


def test_failed_authentications_are_limited_per_address(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth_failure_burst": 5}))
    with TestClient(app) as client:
        codes = [
            client.get("/v1/disclosure", headers={"X-API-Key": f"atn_rotating_{i}"}).status_code
            for i in range(20)
        ]
    assert codes[:5] == [401] * 5 and 429 in codes and set(codes) <= {401, 429}

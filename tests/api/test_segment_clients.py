"""The official Segment libraries, unchanged but for their host, against a real running Attune
(uvicorn on a free loopback port): every event they send is accepted and stored. Also the
conventions those libraries and analytics.js rely on, checked from outside over HTTP."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import need_service

from attune.sim.server import RunningServer, child_server
from attune.storage import tables
from attune.storage.store import Store

NODE_DIR = Path(__file__).resolve().parents[1] / "clients" / "node"
T0 = 1_767_000_000.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    url = f"sqlite:///{tmp_path / 'segment.db'}"
    with child_server(url) as running:
        yield running, url


def stored(url: str, session_id: str) -> list[dict[str, object]]:
    store = Store(url)
    try:
        with store.connect() as conn:
            rows = conn.execute(
                select(tables.events.c.id, tables.events.c.kind, tables.events.c.payload).where(
                    tables.events.c.session_id == session_id
                )
            ).all()
        return [{"id": r.id, "kind": r.kind, "payload": r.payload} for r in rows]
    finally:
        store.close()


def wait_stored(url: str, session_id: str, count: int) -> list[dict[str, object]]:
    """The service writes in the background (every 0.25 s); poll until the rows are there."""
    import time

    rows: list[dict[str, object]] = []
    for _ in range(100):
        rows = stored(url, session_id)
        if len(rows) >= count:
            return rows
        time.sleep(0.1)
    return rows


@pytest.mark.parametrize("use_gzip", [False, True], ids=["plain", "gzip"])
def test_official_python_library(server: tuple[RunningServer, str], use_gzip: bool) -> None:
    from segment.analytics import Client

    running, url = server
    failures: list[str] = []
    client = Client(
        write_key=running.admin_key,
        host=running.base_url,
        gzip=use_gzip,
        sync_mode=True,  # each call is sent at once, and an error reaches on_error
        on_error=lambda error, _batch: failures.append(str(error)),
        max_retries=1,
    )
    session = f"py-{'gzip' if use_gzip else 'plain'}"
    ctx = {"sessionId": session}
    client.page(
        anonymous_id="py-visitor", name="Checkout", properties={"path": "/checkout"}, context=ctx
    )
    for _ in range(4):
        client.track(
            anonymous_id="py-visitor",
            event="click",
            properties={"selector": "#pay", "x": 1, "y": 1},
            context=ctx,
        )
    client.screen(anonymous_id="py-visitor", name="Basket", context=ctx)
    client.identify(anonymous_id="py-visitor", traits={"plan": "pro"}, context=ctx)
    client.group(anonymous_id="py-visitor", group_id="acme", context=ctx)  # accepted, unused
    client.flush()
    assert failures == []
    rows = wait_stored(url, session, 7)
    assert len(rows) == 7
    assert {r["kind"] for r in rows} == {"behaviour", "identify"}
    assert not any("writeKey" in json.dumps(r["payload"]) for r in rows)


def _node() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        need_service("node", "node and npm are needed to run @segment/analytics-node")
    if not (NODE_DIR / "node_modules" / "@segment" / "analytics-node").exists():
        # The version is pinned in package-lock.json; npm ci installs exactly it.
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            need_service("npm registry", done.stderr[-500:])


def test_official_node_library(server: tuple[RunningServer, str]) -> None:
    _node()
    running, url = server
    done = subprocess.run(
        ["node", "send.mjs", running.base_url, running.admin_key, "node-s1"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = wait_stored(url, "node-s1", 6)
    assert len(rows) == 6
    assert sorted(r["kind"] for r in rows) == ["behaviour"] * 5 + ["identify"]


def test_http_conventions_from_outside(server: tuple[RunningServer, str]) -> None:
    running, url = server
    key = running.admin_key
    basic = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    click = {
        "anonymousId": "v",
        "sessionId": "http-1",
        "event": "click",
        "timestamp": T0,
        "properties": {"selector": "#a"},
    }
    body = json.dumps({"batch": [{"type": "track", "messageId": "g1", **click}]}).encode()
    # gzip with HTTP Basic, as analytics-python with gzip=True sends it
    r = httpx.post(
        f"{running.base_url}/v1/batch",
        content=gzip.compress(body),
        headers={**basic, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    # deflate (zlib stream)
    body2 = body.replace(b'"g1"', b'"d1"')
    r = httpx.post(
        f"{running.base_url}/v1/batch",
        content=zlib.compress(body2),
        headers={**basic, "Content-Type": "application/json", "Content-Encoding": "deflate"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    # no messageId: accepted, and a retry of the same call is a duplicate (sentAt differs)
    no_id = {**click, "timestamp": T0 + 1}
    r1 = httpx.post(
        f"{running.base_url}/v1/track",
        json={**no_id, "sentAt": "2026-01-01T00:00:00Z"},
        headers=basic,
    )
    r2 = httpx.post(
        f"{running.base_url}/v1/batch",
        json={"batch": [{"type": "track", **no_id}], "sentAt": "2026-01-01T00:00:05Z"},
        headers=basic,
    )
    assert r1.status_code == 200 and r2.status_code == 200
    assert r2.json()["duplicates"] == 1
    # analytics.js: text/plain, writeKey in the body, no auth header, short path
    js = {**click, "messageId": "js1", "timestamp": T0 + 2, "writeKey": key}
    r = httpx.post(
        f"{running.base_url}/v1/t", content=json.dumps(js), headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{running.base_url}/v1/p",
        content=json.dumps(
            {
                "anonymousId": "v",
                "sessionId": "http-1",
                "messageId": "js2",
                "writeKey": key,
                "properties": {"path": "/basket"},
            }
        ),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    rows = wait_stored(url, "http-1", 5)
    assert {r["id"] for r in rows} >= {"g1", "d1", "js1", "js2"} and len(rows) == 5
    assert not any("writeKey" in json.dumps(r["payload"]) for r in rows)


def test_limits_answer_clearly(server: tuple[RunningServer, str]) -> None:
    running, _url = server
    auth = {"Authorization": f"Bearer {running.admin_key}"}
    base = {"type": "track", "anonymousId": "v", "event": "x"}
    fat = {**base, "messageId": "fat", "properties": {"blob": "a" * 40_000}}
    thin = {**base, "messageId": "thin"}
    r = httpx.post(f"{running.base_url}/v1/batch", json={"batch": [fat, thin]}, headers=auth)
    assert r.status_code == 200
    answer = r.json()
    assert answer["accepted"] == 1 and answer["errors"][0]["index"] == 0
    assert "32 KB" in answer["errors"][0]["errors"][0]["message"]
    r = httpx.post(f"{running.base_url}/v1/track", json=fat, headers=auth)
    assert r.status_code == 413 and "32 KB" in r.json()["detail"]
    many = [{**base, "messageId": f"m{i}", "properties": {"blob": "b" * 20_000}} for i in range(30)]
    r = httpx.post(f"{running.base_url}/v1/batch", json={"batch": many}, headers=auth)
    assert r.status_code == 413 and "500 KB" in r.json()["detail"]
    bomb = gzip.compress(b"[" * 1 + b" " * 50_000_000 + b"]")
    r = httpx.post(
        f"{running.base_url}/v1/batch",
        content=bomb,
        headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 413 and "inflated" in r.json()["detail"]
    r = httpx.post(
        f"{running.base_url}/v1/batch",
        content=b"not gzip at all",
        headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 400 and "gzip" in r.json()["detail"]

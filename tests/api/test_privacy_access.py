"""Access control: every route of the app, called with no key and with a key of every scope.

Rules proven here: no route but the public ones answers without a key; every route admits
exactly one scope (plus admin; approving a playbook admits the approver scope alone: four
eyes need a named second person, which admin does not imply; a server key writes what an
ingest key writes, for any visitor); an ingest key is write-only (it
reads nothing but the public disclosure text); an analyst key reaches no per-subject or raw-data
route; subject rights and identities need the privacy scope. A new route is covered automatically.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from attune.api.app import create_app
from attune.api.keys import SCOPES
from attune.config import Settings

# /dashboard and /agent are static pages; every figure they show comes from the keyed API.
PUBLIC_PATHS = {
    "/agent",
    "/healthz",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/docs/assets/{name}",  # Swagger UI and ReDoc scripts, served offline
    "/dashboard",
    "/metrics",  # counts only, for Prometheus
    "/readyz",
}
STATIC = re.compile(r"\.(js|css|map|ico|png|svg)$")  # e.g. the browser tracker: code, no data
PER_SUBJECT = re.compile(r"^/v1/(sessions|privacy|consent|disclosure/acknowledge)")
STREAMING = re.compile(r"/stream$")  # an admitted call would stream forever: not made


def _routes(routes: list[Any]) -> Iterator[tuple[str, str]]:
    for r in routes:
        if hasattr(r, "original_router"):
            yield from _routes(r.original_router.routes)
        elif hasattr(r, "methods") and r.methods:
            for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
                yield m, r.path


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, int]]:
    db = tmp_path_factory.mktemp("acl") / "a.db"
    settings = Settings(database_url=f"sqlite:///{db}", modalities=["behaviour"], pseudonym_key="k")
    app = create_app(settings)
    keys = {s: app.state.keys.create(f"k-{s}", [s]) for s in SCOPES}
    routes = sorted(set(_routes(app.routes)))
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert documented <= set(routes)
    assert {r for r in routes if not public(r[1])} <= documented, "undocumented routes"
    out: dict[tuple[str, str], dict[str, int]] = {}
    with TestClient(app) as client:
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", "x1", path)
            codes: dict[str, int] = {}
            for who in ("none", *SCOPES):
                if STREAMING.search(path) and who in ("read", "agent", "admin"):
                    continue
                headers = {} if who == "none" else {"Authorization": f"Bearer {keys[who]}"}
                kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT") else {}
                codes[who] = client.request(method, url, headers=headers, **kwargs).status_code
            out[(method, path)] = codes
    return out


def public(path: str) -> bool:
    return path in PUBLIC_PATHS or bool(STATIC.search(path))


def _admitted(codes: dict[str, int]) -> set[str]:
    return {who for who, code in codes.items() if code not in (401, 403)}


def test_there_are_routes_to_walk(walked: dict[tuple[str, str], dict[str, int]]) -> None:
    paths = {p for _, p in walked}
    assert {
        "/v1/track",
        "/v1/sessions/{session_id}",
        "/v1/privacy/erase",
        "/v1/consent/revoke",
    } <= paths


def test_no_key_no_entry(walked: dict[tuple[str, str], dict[str, int]]) -> None:
    for (method, path), codes in walked.items():
        if public(path):
            assert method == "GET", (method, path)  # nothing public writes
            continue
        assert codes["none"] == 401, (method, path, codes)


def test_every_route_admits_one_scope_plus_admin(
    walked: dict[tuple[str, str], dict[str, int]],
) -> None:
    for (method, path), codes in walked.items():
        if public(path):
            continue
        admitted = _admitted(codes) - {"none"}
        if STREAMING.search(path):
            assert admitted == set(), (method, path, codes)  # read/admin not called
            continue
        if path == "/v1/playbooks/approve":
            assert admitted == {"approver"}, (method, path, codes)
            continue
        if "ingest" in admitted:  # a back end's server key writes events too
            assert "server" in admitted, (method, path, codes)
        assert "admin" in admitted and len(admitted - {"admin", "server"}) <= 1, (method, path)
        for who in set(SCOPES) - admitted:
            assert codes[who] == 403, (method, path, who, codes)


def test_ingest_key_is_write_only(walked: dict[tuple[str, str], dict[str, int]]) -> None:
    for (method, path), codes in walked.items():
        if "ingest" in _admitted(codes) and not public(path):
            assert method == "POST" or (method, path) == ("GET", "/v1/disclosure"), (method, path)


def test_analyst_sees_no_per_subject_or_raw_data(
    walked: dict[tuple[str, str], dict[str, int]],
) -> None:
    for (method, path), codes in walked.items():
        if PER_SUBJECT.search(path) or path.startswith("/v1/sessions"):
            assert codes["analyst"] == 403, (method, path, codes)
        if method == "POST" and path in ("/v1/track", "/v1/messages", "/v1/batch"):
            assert codes["analyst"] == 403


def test_subject_rights_need_the_privacy_scope(
    walked: dict[tuple[str, str], dict[str, int]],
) -> None:
    rights = [(m, p) for m, p in walked if p.startswith("/v1/privacy/")]
    assert len(rights) >= 8
    for route in rights:
        assert _admitted(walked[route]) - {"none"} == {"privacy", "admin"}, route


T0 = 1_767_000_000.0
KNOWN_PER_SUBJECT_FOR_ANALYST: set[str] = set()  # analyst reads are aggregates, every one
PERMISSIVE = {"min_sessions": 1, "threshold": 0, "min_count": 1}  # so small data shows up


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, str]]:
    db = tmp_path_factory.mktemp("acl-data") / "d.db"
    app = create_app(
        Settings(database_url=f"sqlite:///{db}", modalities=["behaviour"], pseudonym_key="k")
    )
    admin = {"Authorization": f"Bearer {app.state.keys.create('a', ['admin'])}"}
    analyst = app.state.keys.create("b", ["analyst"])
    with TestClient(app) as client:
        for s in range(6):  # weekly sessions, frustrated in the later ones
            at, sid = T0 + s * 7 * 86400, f"seed-session-{s}"
            ids = {"userId": "seed-user", "sessionId": sid}
            batch: list[dict[str, Any]] = [
                {
                    "type": "page",
                    "messageId": f"p{s}",
                    "timestamp": at,
                    "properties": {"path": "/checkout/pay"},
                    **ids,
                }
            ]
            batch += [
                {
                    "type": "track",
                    "messageId": f"c{s}-{i}",
                    "timestamp": at + 1 + 0.2 * i,
                    "event": "click",
                    "properties": {"selector": "#pay", "x": 1, "y": 1},
                    **ids,
                }
                for i in range(6 if s > 2 else 0)
            ]
            batch.append(
                {
                    "type": "outcome",
                    "messageId": f"o{s}",
                    "timestamp": at + 20,
                    "name": "abandonment",
                    **ids,
                }
            )
            assert client.post("/v1/batch", json={"batch": batch}, headers=admin).status_code == 200
        client.app.state.engine.flush()  # type: ignore[attr-defined]
        subject = client.app.state.engine.gate.pseudonymize("seed-user")  # type: ignore[attr-defined]
        yield client, analyst, subject


def _analyst_reads(walked: dict[tuple[str, str], dict[str, int]]) -> list[str]:
    return sorted(
        p
        for (m, p), codes in walked.items()
        if m == "GET" and "analyst" in _admitted(codes) and not public(p) and "{" not in p
    )


def test_analyst_answers_hold_no_subject_or_session(
    walked: dict[tuple[str, str], dict[str, int]], seeded: tuple[TestClient, str, str]
) -> None:
    client, key, subject = seeded
    reads = _analyst_reads(walked)
    assert reads, "no analyst read route to check"
    leaking = set()
    for path in reads:
        r = client.get(path, params=PERMISSIVE, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code < 500 and r.status_code not in (401, 403), (path, r.status_code)
        if subject in r.text or "seed-session-" in r.text or "seed-user" in r.text:
            leaking.add(path)
    assert leaking <= KNOWN_PER_SUBJECT_FOR_ANALYST, leaking


def test_churn_list_is_aggregate_for_analysts(seeded: tuple[TestClient, str, str]) -> None:
    client, key, subject = seeded
    r = client.get(
        "/v1/measure/churn", params=PERMISSIVE, headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 200 and subject not in r.text
    assert r.json()["customers"] >= 1 and r.json()["at_risk_count"] >= 0

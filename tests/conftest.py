"""Shared fixtures. Service-backed tests skip with a reason when the service is absent,
except in CI (CI=true), where an absent service is a failure."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attune.config import Settings, load_settings

IN_CI = os.environ.get("CI", "").lower() == "true"
# The research-licensed models (voice emotion, face expression) are off by default; the suite
# tests them, so it opts in by name as an operator would (tests of the default unset this).
os.environ.setdefault("ATTUNE_ENABLE_MODELS", "voice-emotion,face-expression")
PG_ADMIN_URL = os.environ.get(
    "ATTUNE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def need_service(name: str, reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{name} is required in CI but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'attune.db'}",
        modalities=["behaviour"],
        pseudonym_key="test-key",
        # These tests exercise the engine and API with the shipped playbook; the approval
        # workflow (on by default) has its own tests.
        require_playbook_approval=False,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        need_service("PostgreSQL", f"{PG_ADMIN_URL}: {type(exc).__name__}")
    name = f"attune_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        need_service("Chromium", "install the Debian package 'chromium'")
    return str(path)


@pytest.fixture
def scale_names() -> dict[str, str]:
    """Names of this test's own stream, subjects and Redis keys: test runs that share one NATS
    and one Redis server (a developer's machine, several checkouts) never see each other's."""
    tag = secrets.token_hex(4)
    return {
        "nats_stream": f"ATTUNE_TEST_{tag.upper()}",
        "nats_subject": f"attune-test.{tag}.events",
        "nats_decisions_subject": f"attune-test.{tag}.decisions",
        "redis_prefix": f"attune-test:{tag}:",
    }


@pytest.fixture
def nats_url(scale_names: dict[str, str]) -> Iterator[str]:
    """A reachable NATS server with JetStream; this test's stream is deleted afterwards."""
    import asyncio

    url = os.environ.get("ATTUNE_TEST_NATS_URL", "nats://127.0.0.1:4222")

    async def drop_stream(check: bool) -> None:
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(
            url, connect_timeout=2, max_reconnect_attempts=1, allow_reconnect=False
        )
        with contextlib.suppress(NotFoundError):
            if check:
                await nc.jetstream().account_info()  # JetStream is on
            else:
                await nc.jetstream().delete_stream(scale_names["nats_stream"])
        await nc.close()

    try:
        asyncio.run(drop_stream(check=True))
    except Exception as exc:
        need_service("NATS JetStream", f"{url}: {type(exc).__name__}")
    yield url
    with contextlib.suppress(Exception):
        asyncio.run(drop_stream(check=False))


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis (tests keep to their own key prefix, see ``scale_names``)."""
    url = os.environ.get("ATTUNE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        need_service("Redis", f"{url}: {type(exc).__name__}")
    return url


class Wired:
    """One assembly as the privacy tests use it: the privacy services' attributes, plus the
    engine of the same assembly as ``.engine``."""

    def __init__(self, parts: Any) -> None:
        self.parts = parts
        self.engine = parts.engine
        self.governance = parts.governance

    def __getattr__(self, name: str) -> Any:
        return getattr(self.parts.privacy, name)


def wire(settings: Settings, store: Any, **options: Any) -> Wired:
    from attune.assembly import build

    return Wired(build(settings, store=store, **options))

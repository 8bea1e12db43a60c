"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from attune.storage import tables
from attune.storage.store import Store


def drift(url: str) -> list[object]:
    store = Store(url)
    with store.engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    store.close()
    return list(found)


def test_no_drift_on_sqlite() -> None:
    assert drift("sqlite://") == []


@pytest.mark.postgres
def test_no_drift_on_postgres(postgres_url: str) -> None:
    assert drift(postgres_url) == []

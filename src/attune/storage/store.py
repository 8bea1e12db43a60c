"""One storage interface over SQLite (default) and PostgreSQL (by URL).

``Store`` owns the SQLAlchemy engine, runs Alembic migrations on open and offers batched
writes: the engine buffers rows per table and ``write_batch`` inserts them in one transaction,
ignoring rows whose primary key already exists (idempotent re-processing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, Column, Engine, Table, bindparam, create_engine, event, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from attune.storage import tables

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False},
            "json_serializer": _json,
        }
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, json_serializer=_json)


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def _autoincrement(column: Column[Any]) -> bool:
    return bool(column.primary_key and column.autoincrement is True)


class Store:
    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._inserts: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
        self._positional = self.engine.dialect.positional
        if run_migrations:
            migrate(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def connect(self) -> Connection:
        return self.engine.connect()

    def begin(self) -> Any:
        return self.engine.begin()

    def insert_ignore(self, table: Table) -> Any:
        """INSERT that skips rows whose primary key exists (idempotent writes)."""
        if self.dialect == "sqlite":
            return sqlite_insert(table).on_conflict_do_nothing()
        if self.dialect == "postgresql":
            return pg_insert(table).on_conflict_do_nothing()
        return insert(table)

    def write_batch(self, rows: Mapping[str, Iterable[dict[str, Any]]]) -> None:
        """Insert buffered rows for several tables in one transaction.

        The hot path: the INSERT is compiled once per table and rows go straight to the
        driver's executemany (JSON encoded here), which is several times faster than
        per-row parameter processing and matters at tens of thousands of events per second.
        """
        with self.engine.begin() as conn:
            for name, table_rows in rows.items():
                batch = list(table_rows)
                if not batch:
                    continue
                sql, names, json_cols = self._compiled_insert(name)
                for row in batch:
                    for col in json_cols:
                        if row.get(col) is not None:
                            row[col] = _json(row[col])
                params: list[Any] = [tuple(row.get(n) for n in names) for row in batch]
                conn.exec_driver_sql(
                    sql,
                    params
                    if self._positional
                    else [dict(zip(names, p, strict=True)) for p in params],
                )

    def _compiled_insert(self, name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        cached = self._inserts.get(name)
        if cached is None:
            table = tables.metadata.tables[name]
            columns = [c for c in table.c if not _autoincrement(c)]
            stmt = self.insert_ignore(table).values({c.name: bindparam(c.name) for c in columns})
            compiled = stmt.compile(dialect=self.engine.dialect)
            names = tuple(compiled.positiontup or [c.name for c in columns])
            json_cols = tuple(c.name for c in columns if isinstance(c.type, JSON))
            cached = self._inserts[name] = (str(compiled), names, json_cols)
        return cached

    def close(self) -> None:
        self.engine.dispose()

    def upsert_sessions(self, rows: list[dict[str, Any]]) -> None:
        """Insert or update session summaries (the engine owns the live copy)."""
        table = tables.sessions
        stmt = pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)
        update = {
            c: getattr(stmt.excluded, c)
            for c in ("moment", "channel", "arm", "last_at", "mode", "top_state", "standard_view")
        }
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=update), rows)

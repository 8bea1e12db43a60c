"""One storage interface over SQLite (default) and PostgreSQL (by URL).

``Store`` owns the SQLAlchemy engine, runs Alembic migrations on open and offers batched
writes: the engine buffers rows per table and ``write_batch`` inserts them in one transaction,
ignoring rows whose primary key already exists (idempotent re-processing).
"""

from __future__ import annotations

import json
import logging
import time
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
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, StatementError
from sqlalchemy.pool import StaticPool

from attune.storage import tables
from attune.storage.problems import DatabaseProblem, describe

MIGRATIONS = Path(__file__).parent / "migrations"
SESSION_UPSERT = "upsert:sessions"
SESSION_UPDATED = ("moment", "channel", "arm", "last_at", "mode", "top_state", "standard_view")
log = logging.getLogger("attune.storage")
# The database is unreachable or locked (retry later) vs. it refuses a row (skip that row).
_UNAVAILABLE = (OperationalError, InterfaceError)
_BAD_ROW = (StatementError, OverflowError, ValueError, TypeError)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten, not left in free pages: an erasure leaves no trace.
    cur.execute("PRAGMA secure_delete=ON")
    # Checkpoints (each with an fsync) every 80 MB of WAL rather than every 4 MB: at ingest
    # rates they otherwise dominate the cost of a write (measured: 100 -> 45 ms a batch).
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA wal_autocheckpoint=20000")
    cur.close()


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits, say: the standard library copes
        return json.dumps(value, default=str)


def _dead_letter(name: str, row: Mapping[str, Any], exc: Exception) -> dict[str, Any]:
    """A refused row as plain ASCII JSON: whatever the database refused (a NUL, a lone
    surrogate) is escaped, so the dead letter itself is storable."""
    text = json.dumps(dict(row), default=str, ensure_ascii=True)
    subject = row.get("subject")
    first = (str(exc).splitlines() or [""])[0].split("[SQL")[0]  # never the parameters
    return {
        "table_name": name.removeprefix("upsert:"),
        "subject": subject if isinstance(subject, str) else None,
        "reason": f"{type(exc).__name__}: {first}"[:200],
        "row": text,
        "at": time.time(),
    }


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
        self.dead_letter_count = 0  # rows this process put in ``dead_letters`` (a metric)
        try:
            self.engine = make_engine(url)
            self._inserts: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
            self._positional = self.engine.dialect.positional
            if run_migrations:
                migrate(self.engine)
        except (ArgumentError, ModuleNotFoundError, *_UNAVAILABLE) as exc:
            raise DatabaseProblem(describe(url, exc)) from exc

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

    def write_batch(
        self,
        rows: Mapping[str, Iterable[dict[str, Any]]],
        sessions: list[dict[str, Any]] | None = None,
    ) -> None:
        """Insert buffered rows for several tables, and upsert session summaries, in one
        transaction.

        The hot path: each statement is compiled once per table and rows go straight to the
        driver's executemany (JSON encoded here), several times faster than per-row parameter
        processing. A batch the database refuses (a number too large for its column, say) is
        written again row by row, so one bad row costs only itself.
        """
        batches = [(name, list(r)) for name, r in rows.items()]
        if sessions:
            batches.append((SESSION_UPSERT, sessions))
        prepared = [(name, *self._prepare(name, b)) for name, b in batches if b]
        try:
            with self.engine.begin() as conn:
                for _name, sql, params in prepared:
                    conn.exec_driver_sql(sql, params)
        except _UNAVAILABLE:  # not the rows' fault: the caller keeps them and retries
            raise
        except _BAD_ROW:
            self._write_row_by_row(prepared)

    def _prepare(self, name: str, batch: list[dict[str, Any]]) -> tuple[str, list[Any]]:
        """Driver parameters for ``batch``; the rows themselves are left as they are, so a
        batch whose write failed can be written again."""
        sql, names, json_cols = self._compiled(name)
        json_at = [i for i, n in enumerate(names) if n in json_cols]
        params: list[Any] = []
        for row in batch:
            values: list[Any] = [row.get(n) for n in names]
            for i in json_at:
                if values[i] is not None:
                    values[i] = _json(values[i])
            params.append(tuple(values))
        if not self._positional:
            params = [dict(zip(names, p, strict=True)) for p in params]
        return sql, params

    def _write_row_by_row(self, prepared: list[tuple[str, str, list[Any]]]) -> None:
        """One row at a time; a row the database still refuses goes to ``dead_letters``
        (in the same transaction, so it is kept exactly when the good rows are)."""
        refused: list[dict[str, Any]] = []
        with self.engine.begin() as conn:
            for name, sql, params in prepared:
                _sql, names, _json_cols = self._compiled(name)
                for param in params:
                    try:
                        with conn.begin_nested():
                            conn.exec_driver_sql(sql, [param])
                    except _UNAVAILABLE:
                        raise
                    except _BAD_ROW as exc:
                        row = (
                            param
                            if isinstance(param, dict)
                            else dict(zip(names, param, strict=True))
                        )
                        refused.append(_dead_letter(name, row, exc))
            if refused:
                conn.execute(tables.dead_letters.insert(), refused)
        if refused:  # counts only: the rows may hold personal data
            self.dead_letter_count += len(refused)
            by_table: dict[str, int] = {}
            for r in refused:
                by_table[r["table_name"]] = by_table.get(r["table_name"], 0) + 1
            log.warning("rows the database refused went to dead_letters: %s", by_table)

    def _compiled(self, name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        cached = self._inserts.get(name)
        if cached is None:
            table = tables.metadata.tables[name.removeprefix("upsert:")]
            columns = [c for c in table.c if not _autoincrement(c)]
            values: dict[str, Any] = {c.name: bindparam(c.name) for c in columns}
            if name == SESSION_UPSERT:
                stmt = self._session_upsert().values(values)
            else:
                stmt = self.insert_ignore(table).values(values)
            compiled = stmt.compile(dialect=self.engine.dialect)
            names = tuple(compiled.positiontup or [c.name for c in columns])
            json_cols = tuple(c.name for c in columns if isinstance(c.type, JSON))
            cached = self._inserts[name] = (str(compiled), names, json_cols)
        return cached

    def scrub(self) -> bool:
        """After an erasure: no copy of the deleted rows left in the files. SQLite: move the
        write-ahead log into the database and truncate it (pages were zeroed on delete by
        ``secure_delete``). True when the checkpoint completed (a reader in another process
        can hold it back; the next checkpoint then finishes the job)."""
        if self.dialect != "sqlite":
            return True
        with self.engine.connect() as conn:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        return busy is None or busy[0] == 0

    def recent_event_ids(self, limit: int) -> list[str]:
        """The ids of the ``limit`` latest stored events, oldest first (dedupe survives a
        restart: the gate starts knowing them)."""
        from sqlalchemy import select

        ev = tables.events
        with self.engine.connect() as conn:
            ids = conn.execute(select(ev.c.id).order_by(ev.c.at.desc()).limit(limit)).scalars()
            return list(reversed(list(ids)))

    def close(self) -> None:
        self.engine.dispose()

    def upsert_sessions(self, rows: list[dict[str, Any]]) -> None:
        """Insert or update session summaries (the engine owns the live copy)."""
        self.write_batch({}, rows)

    def _session_upsert(self) -> Any:
        """Upsert of a session summary that never goes back in time: batches written from
        several threads may land out of order, the later ``last_at`` wins."""
        table = tables.sessions
        stmt = pg_insert(table) if self.dialect == "postgresql" else sqlite_insert(table)
        update = {c: getattr(stmt.excluded, c) for c in SESSION_UPDATED}
        return stmt.on_conflict_do_update(
            index_elements=["id"], set_=update, where=stmt.excluded.last_at >= table.c.last_at
        )

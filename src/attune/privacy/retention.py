"""Retention: a time-to-live per data class, enforced by a purge with an injected clock.

Data classes and their settings (``Settings.retention``): raw behaviour events
(``raw_events_s``), message text (``text_s``), audio features (``audio_features_s``), signals
and fused states (``signals_s``, ``states_s``: scores), decisions and session summaries
(``decisions_s``), outcomes and feedback (``aggregates_s``, what measurement reads). A row goes
when its own ``expires_at`` has passed or when the *current* TTL says it is too old, so a
shortened TTL applies to data already stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlalchemy.sql.elements import ColumnElement

from attune.config import RetentionSettings
from attune.storage import tables
from attune.storage.store import Store

log = logging.getLogger("attune.privacy.retention")


@dataclass(frozen=True)
class DataClass:
    name: str
    table: str
    ttl_field: str  # the RetentionSettings field that gives the TTL in seconds
    time_column: str = "at"
    kinds: tuple[str, ...] = ()  # events only: which kinds belong to this class


DATA_CLASSES = (
    DataClass(
        "raw behaviour events",
        "events",
        "raw_events_s",
        kinds=("behaviour", "identify", "outcome", "feedback", "frame"),
    ),
    DataClass("message text", "events", "text_s", kinds=("message",)),
    DataClass("audio features", "events", "audio_features_s", kinds=("voice",)),
    DataClass("signals", "signals", "signals_s"),
    DataClass("states", "states", "states_s"),
    DataClass("decisions", "decisions", "decisions_s"),
    DataClass("session summaries", "sessions", "decisions_s", time_column="last_at"),
    DataClass("handoffs", "handoffs", "decisions_s", time_column="opened_at"),
    DataClass("handoff turns", "handoff_turns", "text_s"),
    DataClass("outreach log", "outreach_log", "decisions_s"),
    DataClass("outcomes", "outcomes", "aggregates_s"),
    DataClass("feedback", "feedback", "aggregates_s"),
)


def ttl_table(settings: RetentionSettings) -> list[dict[str, Any]]:
    """The retention schedule as a table (for the governance report and the CLI)."""
    return [
        {
            "data_class": d.name,
            "table": d.table,
            "ttl_s": getattr(settings, d.ttl_field),
            "setting": f"retention.{d.ttl_field}",
        }
        for d in DATA_CLASSES
    ]


class Retention:
    def __init__(
        self,
        store: Store,
        settings: RetentionSettings,
        clock: Callable[[], float] = time.time,
        on_purge: Callable[[dict[str, int]], object] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.on_purge = on_purge  # e.g. an audit entry with the counts

    def _condition(self, d: DataClass, now: float) -> ColumnElement[bool]:
        table = tables.metadata.tables[d.table]
        cutoff = now - getattr(self.settings, d.ttl_field)
        old = table.c[d.time_column] <= cutoff
        cond: ColumnElement[bool] = old
        if "expires_at" in table.c:
            cond = or_(table.c.expires_at <= now, old)
        if d.kinds:
            cond = and_(table.c.kind.in_(d.kinds), cond)
        return cond

    def purge(self, now: float | None = None) -> dict[str, int]:
        """Delete everything past its TTL; returns rows deleted per data class."""
        now = float(now if now is not None else self.clock())
        counts: dict[str, int] = {}
        with self.store.begin() as conn:
            for d in DATA_CLASSES:
                table = tables.metadata.tables[d.table]
                counts[d.name] = (
                    conn.execute(delete(table).where(self._condition(d, now))).rowcount or 0
                )
        if self.on_purge is not None and any(counts.values()):
            self.on_purge(counts)
        return counts

    async def run_forever(
        self,
        interval_s: float,
        before: Callable[[], Any] | None = None,
    ) -> None:
        """The scheduled purge inside ``serve``: every ``interval_s`` seconds."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                if before is not None:
                    before()  # e.g. flush the engine's buffered rows first
                counts = self.purge()
                if any(counts.values()):
                    log.info("retention purge: %s", counts)
            except Exception:  # keep serving; the next round tries again
                log.exception("retention purge failed")

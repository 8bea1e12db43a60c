"""``attune worker``: consume partitions of the event stream, run the engine, write to the
store, keep hot session state in Redis and publish decisions.

At-least-once with idempotent processing: a batch's rows (events, signals, states, decisions)
are written in one transaction before the messages are acknowledged. A message delivered again
after a crash finds its event id already stored and is acknowledged without being processed,
so nothing is lost and nothing counts twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select

from attune.assembly import build
from attune.config import Settings
from attune.events.schemas import ANY_EVENT
from attune.storage import tables
from attune.storage.session_cache import RedisSessionCache
from attune.storage.store import Store
from attune.transport.nats_bus import ensure_stream, subject_token

log = logging.getLogger("attune.worker")


class SimulatedCrash(RuntimeError):
    """Raised in tests between the write and the acknowledgement."""


@dataclass
class WorkerStats:
    processed: int = 0
    skipped_done: int = 0
    invalid: int = 0
    batches: int = 0
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        settings: Settings,
        partitions: list[int],
        store: Store | None = None,
        cache: RedisSessionCache | None = None,
        batch: int = 500,
        ack_wait_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.partitions = partitions
        self.store = store or Store(settings.database_url)
        # The same assembly as the API's: the stored consent ledger, tombstones, PII redaction,
        # approved playbooks only, decisions audited. Changed decisions are relayed to the
        # stream after their batch is written (the API process delivers them).
        self._changed: dict[str, dict[str, Any]] = {}
        parts = build(settings, store=self.store, deliver=self._collect)
        self.engine = parts.engine
        assert parts.privacy is not None
        self.privacy = parts.privacy
        self._ledger_read_at = time.monotonic()
        self.cache = cache or RedisSessionCache(settings.redis_url, prefix=settings.redis_prefix)
        # an erasure seen by ``privacy.sync`` removes the sessions from Redis too
        self.privacy.session_forgetters.append(self.cache.forget)
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.stats = WorkerStats()
        self.crash_after_write = False  # tests: fail between write and ack

    async def run(
        self, stop: asyncio.Event | None = None, idle_exit_s: float | None = None
    ) -> None:
        import nats
        from nats.js.api import ConsumerConfig

        nc = await nats.connect(self.settings.nats_url, connect_timeout=3)
        js = nc.jetstream()
        s = self.settings
        await ensure_stream(js, s)
        subs = [
            await js.pull_subscribe(
                f"{s.nats_subject}.{p}",
                durable=f"attune-worker-p{p}",
                stream=s.nats_stream,
                config=ConsumerConfig(ack_wait=self.ack_wait_s, max_ack_pending=10 * self.batch),
            )
            for p in self.partitions
        ]
        last_message = time.monotonic()
        try:
            while stop is None or not stop.is_set():
                got = 0
                for sub in subs:
                    got += await self._step(sub, nc)
                if got:
                    last_message = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - last_message >= idle_exit_s:
                    return
        finally:
            await nc.close()  # everything handled was acknowledged

    async def _step(self, sub: Any, nc: Any) -> int:
        from nats.errors import TimeoutError as NatsTimeout

        try:
            msgs = await sub.fetch(self.batch, timeout=0.5)
        except (TimeoutError, NatsTimeout):
            return 0
        self.process([m.data for m in msgs])
        changed, self._changed = self._changed, {}
        for sid, decision in changed.items():  # written already: delivery may act on them
            subject = f"{self.settings.nats_decisions_subject}.{subject_token(sid)}"
            await nc.publish(subject, orjson.dumps(decision))
        for m in msgs:
            await m.ack()
        return len(msgs)

    def _collect(self, decision: dict[str, Any]) -> None:
        self._changed[str(decision["session_id"])] = decision

    def process(self, payloads: list[bytes]) -> dict[str, bytes]:
        """Process one batch; returns the changed decisions per session (JSON)."""
        items = []
        for data in payloads:
            try:
                items.append(orjson.loads(data))
            except orjson.JSONDecodeError:
                self.stats.invalid += 1
        ids = [str(i.get("messageId")) for i in items if isinstance(i, dict)]
        done = self._already_stored(ids)
        sessions = {
            str(i.get("sessionId") or (i.get("context") or {}).get("sessionId") or "")
            for i in items
            if isinstance(i, dict)
        } - {""}
        if time.monotonic() - self._ledger_read_at >= self.settings.consent_refresh_s:
            # consent changes and erasures arrive through the API process or the CLI, via the
            # store: erased sessions leave memory and Redis, withdrawn evidence goes
            self.privacy.sync()
            self._ledger_read_at = time.monotonic()
        missing = [s for s in sessions if s not in self.engine.sessions]
        loaded = self.cache.load(missing)
        erased = [sid for sid, rt in loaded.items() if self._erased(rt.subject)]
        if erased:  # left in Redis by an erasure that could not reach it: remove, never use
            self.cache.forget(erased)
        self.engine.sessions.update({k: v for k, v in loaded.items() if k not in erased})
        touched: dict[str, Any] = {}
        for item in items:
            if not isinstance(item, dict) or str(item.get("messageId")) in done:
                self.stats.skipped_done += 1
                continue
            try:
                event = ANY_EVENT.validate_python(item)
            except ValidationError:
                self.stats.invalid += 1  # the API validated it; only a foreign producer errs
                continue
            decision = self.engine.ingest(event, raw=item)
            self.stats.processed += 1
            if decision is not None:
                touched[decision.session_id] = decision
        self.engine.flush()  # one transaction for the whole batch
        if self.crash_after_write:
            raise SimulatedCrash("crash between write and acknowledgement")
        # an erased subject's session is never saved again (its late events were dropped)
        keep = {
            sid: d
            for sid, d in touched.items()
            if sid in self.engine.sessions and not self._erased(self.engine.sessions[sid].subject)
        }
        bodies = {sid: orjson.dumps(d.to_dict()) for sid, d in keep.items()}
        self.cache.save([self.engine.sessions[s] for s in keep], bodies)
        self.stats.batches += 1
        return bodies

    def _erased(self, subject: str) -> bool:
        return self.privacy.ledger.is_tombstoned(subject)

    def _already_stored(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        with self.store.connect() as conn:
            rows = conn.execute(select(tables.events.c.id).where(tables.events.c.id.in_(ids)))
            return {r[0] for r in rows}

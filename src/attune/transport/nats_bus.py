"""NATS JetStream transport: one stream, one subject per partition, JetStream's own message-id
dedupe window against replays, durable pull consumers per partition for the workers. Workers
publish each changed decision on ``<decisions subject>.<session>``; the API process relays what
it receives there to delivery (SSE subscribers, webhooks). Stream and subject names are
settings, so several deployments can share one NATS server."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson

from attune.transport.base import partition_of

if TYPE_CHECKING:
    from attune.config import Settings
    from attune.delivery.router import Delivery
    from attune.engine import Engine
    from attune.storage.session_cache import RedisSessionCache

log = logging.getLogger("attune.transport")


class NatsTransport:
    queues = True

    def __init__(self, settings: Settings, engine: Engine, delivery: Delivery) -> None:
        self.settings = settings
        self.delivery = delivery
        self.nc: Any = None
        self.js: Any = None
        self.cache: RedisSessionCache | None = None
        self._sub: Any = None
        # answers waiting for a new session's first decision from a worker
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def start(self) -> None:
        try:
            import nats
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the NATS transport needs: pip install 'attune[scale]'") from exc
        from attune.storage.session_cache import RedisSessionCache

        s = self.settings
        self.nc = await nats.connect(s.nats_url, connect_timeout=3, max_reconnect_attempts=3)
        self.js = self.nc.jetstream()
        await ensure_stream(self.js, s)
        self.cache = RedisSessionCache(s.redis_url, prefix=s.redis_prefix)
        self._sub = await self.nc.subscribe(f"{s.nats_decisions_subject}.>", cb=self._relay)

    async def _relay(self, msg: Any) -> None:
        try:
            decision = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            log.warning("a decision on %s was not JSON; dropped", msg.subject)
            return
        waiter = self._waiting.pop(str(decision.get("session_id")), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(decision)
        self.delivery.deliver(decision)

    async def submit(
        self, key: str, event: Any, raw: dict[str, Any] | None, answer: bool = True
    ) -> dict[str, Any] | None:
        if raw is None:
            raw = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        s = self.settings
        subject = f"{s.nats_subject}.{partition_of(key, s.partitions)}"
        await self.js.publish(subject, orjson.dumps(raw), headers={"Nats-Msg-Id": event.message_id})
        assert self.cache is not None
        cached = self.cache.decision(key)
        if cached:
            return dict(orjson.loads(cached))
        if not answer or s.queued_answer_wait_s <= 0:
            return None
        # A session the workers have not seen yet: wait briefly for its first decision, so the
        # first answer carries one when the workers keep up (None when they do not).
        waiter = self._waiting.get(key)
        if waiter is None:
            waiter = self._waiting[key] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), s.queued_answer_wait_s)
        except TimeoutError:
            self._waiting.pop(key, None)
            return None

    async def durable(self) -> None:
        return None  # ``submit`` returned after JetStream acknowledged the publish

    def session_view(self, session_id: str) -> dict[str, Any] | None:
        """What the workers left in Redis: the session's latest decision and its state."""
        if self.cache is None:
            return None
        cached = self.cache.decision(session_id)
        if cached is None:
            return None
        decision = orjson.loads(cached)
        return {
            "session_id": session_id,
            "arm": decision.get("arm"),
            "moment": decision.get("moment"),
            "last_at": decision.get("at"),
            "state": decision.get("state"),
            "decision": decision,
        }

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.flush()
            await self.nc.close()


async def ensure_stream(js: Any, settings: Settings) -> None:
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(settings.nats_stream)
    except NotFoundError:
        await js.add_stream(
            name=settings.nats_stream, subjects=[f"{settings.nats_subject}.*"], duplicate_window=600
        )


def subject_token(session_id: str) -> str:
    """Session ids may hold characters NATS subjects reserve."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in session_id)[:200]

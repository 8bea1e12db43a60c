"""NATS JetStream transport: one stream, one subject per partition, JetStream's own message-id
dedupe window against replays, durable pull consumers per partition for the workers."""

from __future__ import annotations

from typing import Any

import orjson

from attune.transport.base import partition_of

STREAM = "ATTUNE_EVENTS"
SUBJECT = "attune.events"
DECISIONS = "attune.decisions"


class NatsBus:
    def __init__(self, nc: Any, js: Any, partitions: int) -> None:
        self.nc, self.js, self.partitions = nc, js, partitions

    @classmethod
    async def connect(cls, url: str, partitions: int = 8) -> NatsBus:
        try:
            import nats
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the NATS transport needs: pip install 'attune[scale]'") from exc
        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=3)
        js = nc.jetstream()
        await ensure_stream(js)
        return cls(nc, js, partitions)

    async def publish(self, session_id: str, event_id: str, raw: dict[str, Any]) -> None:
        subject = f"{SUBJECT}.{partition_of(session_id, self.partitions)}"
        await self.js.publish(subject, orjson.dumps(raw), headers={"Nats-Msg-Id": event_id})

    async def close(self) -> None:
        await self.nc.flush()
        await self.nc.close()


async def ensure_stream(js: Any) -> None:
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(name=STREAM, subjects=[f"{SUBJECT}.*"], duplicate_window=600)

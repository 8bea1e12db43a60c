"""The transport interface: how accepted events travel from the API to the engine.

``inprocess`` (the embedded default) hands each event straight to the engine in the API
process. ``nats`` publishes it to a partitioned JetStream stream (partition = hash of the
session id, so one session's events stay in order); ``attune worker`` processes consume the
partitions. Adding a transport is one module and one line in TRANSPORTS.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

TRANSPORTS = {
    "nats": "attune.transport.nats_bus:NatsBus",
}


def partition_of(session_id: str, partitions: int) -> int:
    digest = hashlib.blake2b(session_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


class EventBus(Protocol):
    """Where the API puts accepted events when the engine runs elsewhere."""

    async def publish(self, session_id: str, event_id: str, raw: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...

"""The transport interface: how an accepted event reaches an engine, and how its decision comes
back to delivery. Selected by the typed setting ``transport`` (``inprocess`` | ``nats``).

``inprocess`` (the embedded default, and the test double) hands each event straight to the
engine of the API process. ``nats`` publishes it to a partitioned JetStream stream (partition =
hash of the session id, so one session's events stay in order); ``attune worker`` processes
consume the partitions and publish their decisions, which the API process relays to delivery.
Adding a transport is one module and one line in ``TRANSPORTS``.
"""

from __future__ import annotations

import hashlib
import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from attune.config import Settings
    from attune.delivery.router import Delivery
    from attune.engine import Engine

TRANSPORTS = {
    "inprocess": "attune.transport.inprocess:InProcessTransport",
    "nats": "attune.transport.nats_bus:NatsTransport",
}


def partition_of(session_id: str, partitions: int) -> int:
    digest = hashlib.blake2b(session_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


class Transport(Protocol):
    """Where the API puts accepted events."""

    queues: bool  # True: processed elsewhere; answers carry the last decision known here

    async def start(self) -> None: ...

    async def submit(
        self, key: str, event: Any, raw: dict[str, Any] | None, answer: bool = True
    ) -> dict[str, Any] | None:
        """Hand one parsed event over; the session's decision (JSON form) if one is known.
        ``answer=False``: the caller needs no decision (a batch), so none is waited for."""
        ...

    async def durable(self) -> None:
        """Return once every event submitted so far is stored (in-process: committed to the
        database; a stream: acknowledged by it at ``submit``). Raises when it could not be."""
        ...

    def session_view(self, session_id: str) -> dict[str, Any] | None: ...

    async def close(self) -> None: ...


def open_transport(settings: Settings, engine: Engine, delivery: Delivery) -> Transport:
    module_name, _, attr = TRANSPORTS[settings.transport].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    transport: Transport = cls(settings, engine, delivery)
    return transport

"""The embedded default: the API process's own engine processes each event as it arrives, and
``durable()`` waits for the group commit that stores it (see ``attune.transport.commit``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune.transport.commit import GroupCommitter

if TYPE_CHECKING:
    from attune.config import Settings
    from attune.delivery.router import Delivery
    from attune.engine import Engine


class InProcessTransport:
    queues = False

    def __init__(self, settings: Settings, engine: Engine, delivery: Delivery) -> None:
        self.engine = engine  # the engine delivers its changed decisions itself
        self.committer = GroupCommitter(engine, settings.flush_interval_s)

    async def start(self) -> None:
        self.committer.start()

    async def durable(self) -> None:
        await self.committer.committed()

    async def submit(
        self, key: str, event: Any, raw: dict[str, Any] | None, answer: bool = True
    ) -> dict[str, Any] | None:
        decision = self.engine.ingest(event, raw=raw)
        return decision.to_dict() if decision is not None else None

    def session_view(self, session_id: str) -> dict[str, Any] | None:
        return self.engine.session_view(session_id)

    async def close(self) -> None:
        await self.committer.close()

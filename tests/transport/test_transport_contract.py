"""The contract every transport keeps, run on each (in-process; NATS JetStream with a worker):
a submitted event is processed exactly once, its changed decisions reach delivery (and through
it any sink), and the session can be read back through the transport."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from attune.assembly import build
from attune.config import Settings, load_settings
from attune.events.schemas import ANY_EVENT
from attune.sim.server import approve_for_simulation
from attune.transport.base import TRANSPORTS, open_transport

T0 = 1_767_000_000.0


def _events(sid: str) -> list[dict[str, Any]]:
    base = {"anonymousId": "cust", "sessionId": sid}
    page = {"type": "page", "messageId": f"{sid}-p", "timestamp": T0, **base}
    page["properties"] = {"path": "/checkout/pay"}
    clicks = [
        {
            "type": "track",
            "messageId": f"{sid}-c{i}",
            "timestamp": T0 + 1 + 0.2 * i,
            "event": "click",
            "properties": {"selector": "#pay", "x": 1, "y": 1},
            **base,
        }
        for i in range(4)
    ]
    return [page, *clicks]


@pytest.fixture(params=sorted(TRANSPORTS))
def transport_settings(request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    common: dict[str, Any] = {
        "modalities": ["behaviour"],
        "pseudonym_key": "contract",
        "require_playbook_approval": False,
    }
    if request.param == "inprocess":
        return load_settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", **common)
    url = request.getfixturevalue("postgres_url")
    approve_for_simulation(url)  # workers run approved playbooks only
    return load_settings(
        **request.getfixturevalue("scale_names"),
        database_url=url,
        transport="nats",
        nats_url=request.getfixturevalue("nats_url"),
        redis_url=request.getfixturevalue("redis_url"),
        partitions=2,
        **{**common, "require_playbook_approval": True},
    )


async def _run(settings: Settings) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    parts = build(settings)
    delivered: list[dict[str, Any]] = []
    parts.delivery.sinks.append(delivered.append)
    transport = open_transport(settings, parts.engine, parts.delivery)
    await transport.start()
    try:
        for raw in _events("s-contract"):
            event = ANY_EVENT.validate_python(raw)
            await transport.submit("s-contract", event, raw)
        if transport.queues:  # the stream's consumer: a worker in this process
            from attune.transport.worker import Worker

            await Worker(settings, [0, 1], ack_wait_s=1.0).run(idle_exit_s=1.5)
            for _ in range(50):  # the relayed decisions arrive over NATS
                if delivered:
                    break
                await asyncio.sleep(0.1)
        return delivered, transport.session_view("s-contract")
    finally:
        await transport.close()
        parts.engine.flush()


def test_a_submitted_event_reaches_delivery_and_reads_back(transport_settings: Settings) -> None:
    delivered, view = asyncio.run(_run(transport_settings))
    assert [d["mode"] for d in delivered][-1] == "fast_track", delivered
    assert all(d["session_id"] == "s-contract" for d in delivered)
    assert view is not None and view["decision"]["mode"] == "fast_track"
    assert view["state"]["top"] == "frustrated"

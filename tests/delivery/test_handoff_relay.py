"""Scale-out without a broker: a worker's assembly processes and writes the events and
collects its changed decisions (as ``attune worker`` does before publishing them); the API
process's ``Delivery`` receives them as relayed JSON and its handoff queue opens the handoff
from what the worker wrote."""

from __future__ import annotations

from typing import Any

import orjson

from attune.assembly import build
from attune.config import Settings, load_settings
from attune.events.schemas import Message
from attune.storage.store import Store


def test_a_relayed_escalation_opens_a_handoff_in_the_api_process(settings: Settings) -> None:
    s = load_settings(
        database_url=settings.database_url,
        modalities=["text"],
        pseudonym_key="test-key",
        require_playbook_approval=False,
    )
    store = Store(s.database_url)
    published: list[bytes] = []
    worker = build(s, store=store, deliver=lambda d: published.append(orjson.dumps(d)))
    assert worker.privacy is not None
    subject = worker.privacy.subject("relay-1")
    worker.privacy.change_consent(subject, ["text"], True, "test")
    msg = Message.model_validate(
        {
            "messageId": "r1",
            "userId": "relay-1",
            "sessionId": "relay-chat",
            "text": "Can I please speak to a real person?",
            "context": {"channel": "chat"},
        }
    )
    assert worker.engine.ingest(msg) is not None
    worker.engine.flush()  # the worker writes its batch before it publishes
    api = build(s, store=store, analyzers={}, announce=False)
    assert api.handoffs is not None and published
    for body in published:
        decision: dict[str, Any] = orjson.loads(body)
        api.delivery.deliver(decision)
    (h,) = api.handoffs.list("test")
    assert h["session_id"] == "relay-chat" and h["intent"] == "human"
    assert h["transcript"][0]["text"] == "Can I please speak to a real person?"
    assert h["channel"] == "chat" and h["language"] == "en"

"""The audit chain and subject erasure on PostgreSQL (the same code as on SQLite): tampering is
named, and after erasure no table holds the subject."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from tests.conftest import wire

from attune.config import Settings
from attune.events.schemas import Message, Track
from attune.privacy import rights
from attune.signals.behaviour.analyzer import BehaviourAnalyzer
from attune.storage import tables
from attune.storage.store import Store

pytestmark = pytest.mark.postgres
T0 = 1_767_000_000.0


def test_audit_and_erasure_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    settings = Settings(database_url=postgres_url, pseudonym_key="pg", modalities=[])
    svc = wire(settings, store, analyzers={"behaviour": BehaviourAnalyzer()})
    for user in ("alice", "bob"):
        ids = {"userId": user, "sessionId": f"s-{user}"}
        svc.ledger.grant(svc.subject(user), "text", source="banner", text_version="v1")
        for i in range(5):
            svc.engine.ingest(
                Track.model_validate(
                    {
                        "messageId": f"{user}-{i}",
                        "timestamp": T0 + 0.2 * i,
                        "event": "click",
                        "properties": {"selector": "#pay", "x": 1, "y": 1},
                        **ids,
                    }
                )
            )
        svc.engine.ingest(
            Message.model_validate(
                {"messageId": f"{user}-t", "text": "hi", "timestamp": T0 + 2, **ids}
            )
        )
    svc.engine.flush()
    alice = svc.subject("alice")
    rights.erase(svc, [alice], actor="dpo")
    with store.connect() as conn:
        dump = "\n".join(
            str(dict(r._mapping))
            for t in tables.metadata.sorted_tables
            for r in conn.execute(select(t))
        )
    assert alice not in dump and "s-alice" not in dump and svc.subject("bob") in dump
    assert svc.audit.verify().ok
    n = svc.audit.head()[0]
    with store.begin() as conn:
        conn.execute(
            update(tables.audit_log).where(tables.audit_log.c.seq == n - 1).values(actor="forger")
        )
    verdict = svc.audit.verify()
    assert not verdict.ok and verdict.bad_seq == n - 1
    store.close()

"""Subject rights through the real engine and store: export holds everything and says how
scores were made; erase leaves nothing in any table (a scan of every table finds neither the
pseudonym nor the raw id), drops late events, and is audited; explain names the signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import Wired as TrustServices
from tests.conftest import wire

from attune.config import Settings
from attune.events.schemas import Message, Outcome, PageView, Track
from attune.privacy import rights
from attune.signals.behaviour.analyzer import BehaviourAnalyzer
from attune.storage import tables
from attune.storage.store import Store

T0 = 1_767_000_000.0


@pytest.fixture
def trust(tmp_path: Path) -> Iterator[TrustServices]:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    settings = Settings(
        database_url=store.url,
        pseudonym_key="k1",
        modalities=[],
        require_playbook_approval=False,  # governance has its own tests
    )
    yield wire(settings, store, analyzers={"behaviour": BehaviourAnalyzer()}, clock=lambda: T0)
    store.close()


def _journey(trust: TrustServices, user: str, sid: str) -> None:
    engine = trust.engine
    subject = trust.subject(user)
    trust.ledger.grant(subject, "text", source="banner", text_version="c-v1")
    trust.ledger.acknowledge_disclosure(subject, "d-v1")
    ids = {"userId": user, "sessionId": sid}
    engine.ingest(
        PageView.model_validate(
            {
                "messageId": f"{sid}-p",
                "timestamp": T0,
                "properties": {"path": "/checkout/pay"},
                **ids,
            }
        )
    )
    for i in range(5):
        engine.ingest(
            Track.model_validate(
                {
                    "messageId": f"{sid}-c{i}",
                    "timestamp": T0 + 1 + 0.2 * i,
                    "event": "click",
                    "properties": {"selector": "#pay", "x": 1, "y": 1},
                    **ids,
                }
            )
        )
    engine.ingest(
        Message.model_validate(
            {"messageId": f"{sid}-t", "timestamp": T0 + 3, "text": "call me on 0171 1234567", **ids}
        )
    )
    engine.ingest(
        Outcome.model_validate(
            {"messageId": f"{sid}-o", "timestamp": T0 + 4, "name": "abandonment", **ids}
        )
    )
    rights.set_identity(trust, subject, f"{user}@example.com", actor="dpo")
    engine.flush()


def _dump_every_table(store: Store) -> str:
    parts = []
    with store.connect() as conn:
        for table in tables.metadata.sorted_tables:
            parts.extend(str(dict(r._mapping)) for r in conn.execute(select(table)))
    return "\n".join(parts)


def test_export_holds_everything_with_how_it_was_computed(trust: TrustServices) -> None:
    _journey(trust, "alice", "s-a")
    _journey(trust, "bob", "s-b")
    subject = trust.subject("alice")
    out = rights.export(trust, [subject], actor="dpo")
    assert {r["session_id"] for r in out["events"]} == {"s-a"}
    assert len(out["events"]) == 8 and out["signals"] and out["states"] and out["decisions"]
    assert all(s["source"] and s["evidence"] for s in out["signals"])
    assert "0171" not in str(out["events"])  # text was redacted before it was stored
    assert out["consents"][0]["text_version"] == "c-v1"
    assert out["identity"][0]["identity"] == "alice@example.com"
    assert "fused per session" in out["how_scores_are_computed"]
    assert any(e["action"] == "decision" for e in out["audit"])
    assert trust.audit.entries()[-1]["action"] == "subject_export"


def test_erase_leaves_nothing_in_any_table_and_drops_late_events(trust: TrustServices) -> None:
    _journey(trust, "alice", "s-a")
    _journey(trust, "bob", "s-b")
    subject = trust.subject("alice")
    before = _dump_every_table(trust.store)
    assert subject in before and "alice" in before
    counts = rights.erase(trust, [subject], actor="dpo")
    assert counts["events"] == 8 and counts["identities"] == 1
    after = _dump_every_table(trust.store)
    assert subject not in after and "alice" not in after
    assert trust.subject("bob") in after  # others are untouched
    assert "s-a" not in after  # nor the session ids
    assert not any(rt.subject == subject for rt in trust.engine.sessions.values())
    # a late event for the erased subject is dropped at the gate, stored nowhere
    trust.engine.ingest(
        Track.model_validate(
            {"messageId": "late-1", "userId": "alice", "sessionId": "s-a", "event": "click"}
        )
    )
    trust.engine.flush()
    assert trust.dropped == 1 and subject not in _dump_every_table(trust.store)
    assert trust.engine.counts["erased"] == 1 and trust.engine.counts["duplicates"] == 0
    # the audit chain still verifies, and the erase is on it (pointing at no one now)
    assert trust.audit.verify().ok
    assert [e["action"] for e in trust.audit.entries()].count("subject_erase") == 1
    assert trust.audit.entries(subject=subject) == []


def test_explain_names_the_signals_and_playbook(trust: TrustServices) -> None:
    _journey(trust, "alice", "s-a")
    with trust.store.connect() as conn:
        decision_id = (
            conn.execute(select(tables.decisions.c.id).order_by(tables.decisions.c.at.desc()))
            .scalars()
            .first()
        )
    out = rights.explain(trust, decision_id, actor="dpo")
    assert out is not None and out["explanation"] and out["playbook_version"]
    assert out["signals"] and all(s["evidence"] for s in out["signals"])
    assert rights.explain(trust, "no-such-decision", actor="dpo") is None
    assert trust.audit.entries()[-1]["action"] == "decision_explain"


def test_pii_in_behaviour_events_never_reaches_storage(trust: TrustServices) -> None:
    trust.engine.ingest(
        Track.model_validate(
            {
                "messageId": "pii-1",
                "userId": "carol",
                "sessionId": "s-c",
                "event": "form_submit",
                "properties": {
                    "field": "email",
                    "value": "carol.k@example.com",
                    "nested": [{"phone": "+49 171 1234567"}],
                    "selector": "#send",
                },
                "context": {
                    "page": {"url": "https://shop.example/reset?mail=carol.k@example.com"},
                    "traits": {"email": "carol.k@example.com"},
                },
                "email": "carol.k@example.com",
            }
        )
    )
    trust.engine.flush()
    dump = _dump_every_table(trust.store)
    assert "pii-1" in dump and "#send" in dump  # the event is kept, its PII is not
    assert "carol.k" not in dump and "1234567" not in dump and "<EMAIL>" in dump


@pytest.mark.redis
def test_erase_evicts_the_subjects_sessions_from_the_shared_cache(
    trust: TrustServices, redis_url: str, scale_names: dict[str, str]
) -> None:
    from attune.storage.session_cache import RedisSessionCache

    cache = RedisSessionCache(redis_url, prefix=scale_names["redis_prefix"])
    trust.session_forgetters.append(cache.forget)
    _journey(trust, "alice", "s-a")
    _journey(trust, "bob", "s-b")
    cache.save(list(trust.engine.sessions.values()), {"s-a": b"{}", "s-b": b"{}"})
    assert set(cache.load(["s-a", "s-b"])) == {"s-a", "s-b"}
    rights.erase(trust, [trust.subject("alice")], actor="dpo")
    assert set(cache.load(["s-a", "s-b"])) == {"s-b"}
    assert cache.decision("s-a") is None and cache.decision("s-b") == b"{}"

"""Consent through the real engine and gate: a revocation takes effect for the very next event
of each modality (no analyzer receives it), purges that modality's raw data and closes
streams; voice and face need opt-in and the AI disclosure; employees are never analysed;
history survives a restart; key rotation carries consent and tombstones over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from sqlalchemy import func, select
from tests.conftest import Wired as TrustServices
from tests.conftest import wire

from attune.assembly import modality_rules
from attune.config import Settings
from attune.events.admitted import AudioChunk, Frame, GatedEvent
from attune.events.schemas import Message, Track
from attune.privacy.consent import ConsentLedger
from attune.signals import registry
from attune.signals.base import SessionScratch, Signal
from attune.storage import tables
from attune.storage.store import Store

T0 = 1_767_000_000.0


def counting(modality: str) -> Any:
    """The real analyzer of ``modality`` (as the registry builds it), counting what reaches it.
    Falls back to a minimal analyzer only where the real one cannot load here."""
    try:
        base: Any = registry.load_factory(modality)
    except registry.AnalyzerUnavailable:
        base = None

    if base is None or not isinstance(base, type):

        class Minimal:
            version: ClassVar[str] = "test"

            def analyze(self, event: GatedEvent, scratch: SessionScratch) -> list[Signal]:
                return []

        base = Minimal

    class Counting(base):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def analyze(self, event: GatedEvent, scratch: SessionScratch) -> list[Signal]:
            self.seen.append(event.event_id)
            out: list[Signal] = super().analyze(event, scratch)
            return out

    return Counting()


_BUILT: dict[str, Any] = {}


def _analyzer(modality: str) -> Any:
    """Built once per module (the engine, too, builds each analyzer once and reuses it)."""
    if modality not in _BUILT:
        _BUILT[modality] = counting(modality)
    _BUILT[modality].seen.clear()
    return _BUILT[modality]


@pytest.fixture
def trust(tmp_path: Path) -> Iterator[TrustServices]:
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    settings = Settings(database_url=store.url, pseudonym_key="k1", modalities=[])
    analyzers = {m: _analyzer(m) for m in ("behaviour", "text", "voice", "face")}
    yield wire(settings, store, analyzers=analyzers, clock=lambda: T0)
    store.close()


def _send(trust: TrustServices, modality: str, i: int, user: str = "cust-1") -> str:
    """One event of ``modality`` through the gate and engine; returns its event id."""
    engine, eid = trust.engine, f"{modality}-{i}"
    ids = {"messageId": eid, "userId": user, "sessionId": "s1", "timestamp": T0 + i}
    if modality == "behaviour":
        engine.ingest(Track.model_validate({"event": "click", **ids}))
    elif modality == "text":
        engine.ingest(Message.model_validate({"text": "this is taking forever", **ids}))
    else:  # voice and face arrive as streams: the stream path asks the gate per chunk/frame
        subject = trust.subject(user)
        kind = "voice" if modality == "voice" else "frame"
        payload = (
            AudioChunk(np.zeros(16_000, np.float32), 16_000)
            if modality == "voice"
            else Frame(np.zeros((120, 160, 3), np.uint8))
        )
        ev = GatedEvent(
            kind=kind,
            event_id=eid,
            subject=subject,
            session_id="s1",
            at=T0 + i,
            moment=None,
            channel="video",
            payload=payload,
        )
        if engine.gate.may_analyze(subject, kind):
            engine.analyzers[modality].analyze(ev, SessionScratch())
    return eid


def _seen(trust: TrustServices, modality: str) -> list[str]:
    return trust.engine.analyzers[modality].seen  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("modality", ["behaviour", "text", "voice", "face"])
def test_revocation_takes_effect_on_the_next_event(trust: TrustServices, modality: str) -> None:
    subject = trust.subject("cust-1")
    trust.ledger.acknowledge_disclosure(subject, "disc-v1")
    trust.ledger.grant(subject, modality, source="banner", text_version="c-v3")
    first = _send(trust, modality, 1)
    assert _seen(trust, modality) == [first]
    trust.ledger.revoke(subject, modality, source="api")
    _send(trust, modality, 2)
    _send(trust, modality, 3)
    assert _seen(trust, modality) == [first]  # nothing after the revocation
    if modality in ("behaviour", "text"):  # the journey goes on in its standard form
        decision = trust.engine.sessions["s1"].decision
        assert decision is not None and decision.mode == "standard"


def test_revocation_purges_raw_data_of_that_modality_and_closes_streams(
    trust: TrustServices,
) -> None:
    subject = trust.subject("cust-1")
    trust.ledger.grant(subject, "text")
    closed: list[tuple[str, str]] = []
    trust.stream_closers.append(lambda s, m: closed.append((s, m)) or 1)
    _send(trust, "behaviour", 1)
    _send(trust, "text", 2)
    _send(trust, "text", 3)  # still buffered in the engine when the revocation comes
    trust.ledger.revoke(subject, "text")
    with trust.store.connect() as conn:
        kinds = conn.execute(select(tables.events.c.kind)).scalars().all()
    assert kinds == ["behaviour"]
    assert closed == [(subject, "text")]
    revoked = [e for e in trust.audit.entries(subject=subject) if e["action"] == "consent_revoked"]
    assert revoked[0]["data"]["raw_rows_purged"] == 2


def test_voice_and_face_are_opt_in_and_need_the_disclosure(tmp_path: Path) -> None:
    ledger = ConsentLedger(
        legal_basis={"behaviour": "legitimate_interest", "voice": "legitimate_interest"},
        rules=modality_rules(),
    )
    assert ledger.allows("s", "behaviour") and not ledger.allows("s", "text")
    assert not ledger.allows("s", "voice")  # a configured legitimate interest is ignored
    ledger.grant("s", "voice")
    assert not ledger.allows("s", "voice")
    assert "disclosure" in ledger.reason("s", "voice")
    ledger.acknowledge_disclosure("s", "v1")
    assert ledger.allows("s", "voice") and not ledger.allows("s", "face")
    with pytest.raises(ValueError, match="legal basis"):
        ConsentLedger(legal_basis={"text": "because"})


def test_employees_and_agents_are_never_analysed(trust: TrustServices) -> None:
    subject = trust.subject("agent-7")
    for m in ("behaviour", "text", "voice", "face"):
        trust.ledger.grant(subject, m)
    trust.ledger.acknowledge_disclosure(subject, "v1")
    trust.ledger.flag(subject, "agent")
    for i, m in enumerate(("behaviour", "text", "voice", "face")):
        _send(trust, m, i, user="agent-7")
        assert _seen(trust, m) == [], m
    assert "agent" in trust.ledger.reason(subject, "text")


def test_history_is_kept_and_survives_a_restart(trust: TrustServices) -> None:
    subject = trust.subject("cust-1")
    trust.ledger.grant(subject, "text", source="banner", text_version="c-v3", at=T0)
    trust.ledger.revoke(subject, "text", source="tracker", at=T0 + 5)
    trust.ledger.grant(subject, "text", source="api", text_version="c-v4", at=T0 + 9)
    history = trust.ledger.history(subject)
    assert [(r.granted, r.source, r.text_version) for r in history] == [
        (True, "banner", "c-v3"),
        (False, "tracker", None),
        (True, "api", "c-v4"),
    ]
    trust.ledger.revoke(subject, "behaviour")
    fresh = ConsentLedger(
        legal_basis={"behaviour": "legitimate_interest"}, rules=modality_rules(), store=trust.store
    ).load()
    assert fresh.allows(subject, "text") and not fresh.allows(subject, "behaviour")


def test_key_rotation_carries_consent_and_tombstones_over(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'rot.db'}")
    before = wire(
        Settings(database_url=store.url, pseudonym_key="old-key", modalities=[]),
        store,
        analyzers={"text": counting("text")},
    )
    old_a, old_b = before.subject("alice"), before.subject("bob")
    before.ledger.grant(old_a, "text", text_version="c-v3")
    before.ledger.tombstone(old_b)
    counter = counting("text")
    after = wire(
        Settings(database_url=store.url, pseudonym_key="new-key", modalities=[]),
        store,
        analyzers={"text": counter},
        retired_keys=["old-key"],
    )
    engine = after.engine
    new_a = after.subject("alice")
    assert new_a != old_a and after.pseudonymize.aliases("alice") == [old_a]
    engine.ingest(Message.model_validate({"messageId": "m1", "userId": "alice", "text": "hi"}))
    engine.ingest(Message.model_validate({"messageId": "m2", "userId": "bob", "text": "hi"}))
    assert counter.seen == ["m1"]  # alice's consent followed her; bob stays erased
    assert after.ledger.history(new_a)[-1].source == "key_rotation"
    assert after.dropped == 1
    engine.flush()
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.events)).scalar_one() == 1
    # once the old key is retired for good, old pseudonyms no longer link to anyone
    gone = wire(
        Settings(database_url=store.url, pseudonym_key="new-key", modalities=[]),
        store,
        analyzers={},
        retired_keys=[],
    )
    assert gone.pseudonymize.aliases("alice") == []
    store.close()


def test_agent_turns_in_a_transcript_are_never_analysed(trust: TrustServices) -> None:
    subject = trust.subject("cust-1")
    trust.ledger.grant(subject, "text")
    ids = {"userId": "cust-1", "sessionId": "s1"}
    trust.engine.ingest(
        Message.model_validate(
            {"messageId": "a1", "speaker": "agent", "text": "I understand, let me check.", **ids}
        )
    )
    trust.engine.ingest(
        Message.model_validate(
            {"messageId": "c1", "speaker": "customer", "text": "It is still broken.", **ids}
        )
    )
    assert _seen(trust, "text") == ["c1"]

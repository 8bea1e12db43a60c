"""The text analyzer with the shipped models: signals for customer turns only, intents,
escalation across turns, and fusion moving towards frustrated."""

from __future__ import annotations

from typing import Any

import pytest

from attune.events.admitted import GatedEvent
from attune.events.schemas import Message
from attune.signals import registry
from attune.signals.base import SessionScratch, Signal
from attune.signals.taxonomy import CX_STATES
from attune.state.fusion import Fusion, FusionState


@pytest.fixture(scope="module")
def analyzer() -> Any:
    return registry.build("text")


def _event(text: str, speaker: str = "customer", at: float = 1000.0) -> GatedEvent:
    msg = Message.model_validate(
        {"messageId": "m", "userId": "u", "speaker": speaker, "text": text}
    )
    return GatedEvent("message", "e1", "subj", "sess", at, None, "chat", msg)


def _by_name(signals: list[Signal]) -> dict[str, Signal]:
    return {s.name: s for s in signals}


def test_agent_turns_give_no_signal(analyzer: Any) -> None:
    scratch = SessionScratch()
    assert (
        analyzer.analyze(_event("I understand, let me cancel that for you.", "agent"), scratch)
        == []
    )
    assert analyzer.analyze(_event("I want to cancel, this is ridiculous"), scratch) != []


def test_cancel_and_ridiculous(analyzer: Any) -> None:
    signals = analyzer.analyze(_event("I want to cancel, this is ridiculous"), SessionScratch())
    named = _by_name(signals)
    assert {"emotion", "sentiment", "intent"} <= set(named)
    for sig in signals:
        assert 0.0 <= sig.value <= 1.0 and 0.0 <= sig.confidence <= 1.0
        assert sig.modality == "text" and sig.at == 1000.0 and "@" in sig.source
        assert set(sig.cx) <= set(CX_STATES)
    emotion = named["emotion"]
    assert emotion.evidence.startswith("the message reads as ")
    assert max(emotion.cx, key=emotion.cx.get) == "frustrated"
    assert named["sentiment"].details["sentiment"] == "negative"
    intent = named["intent"]
    assert intent.details["intent"] == "cancel"
    assert intent.evidence.startswith("asks to cancel (")


def test_thanks_reads_positive(analyzer: Any) -> None:
    named = _by_name(
        analyzer.analyze(_event("Thank you so much, that was really helpful!"), SessionScratch())
    )
    assert named["sentiment"].details["sentiment"] == "positive"
    assert max(named["emotion"].cx, key=named["emotion"].cx.get) == "satisfied"


def test_escalation_over_three_turns(analyzer: Any) -> None:
    scratch = SessionScratch()
    turns = [
        "Hi, I have a question about my order.",
        "It still hasn't arrived and nobody told me why, that's annoying.",
        "This is absolutely ridiculous, I'm furious, worst service ever!",
    ]
    names = [
        [s.name for s in analyzer.analyze(_event(t, at=1000.0 + i), scratch)]
        for i, t in enumerate(turns)
    ]
    assert "escalation" not in names[0] and "escalation" not in names[1]
    assert "escalation" in names[2]
    calm = SessionScratch()
    for i in range(3):
        sigs = analyzer.analyze(_event("Could you tell me the delivery time?", at=float(i)), calm)
        assert "escalation" not in [s.name for s in sigs]


def test_fusion_moves_towards_frustrated(analyzer: Any) -> None:
    fusion, fs = Fusion(), FusionState()
    neutral = fusion.update(fs, [], 1000.0)
    signals = analyzer.analyze(_event("I want to cancel, this is ridiculous"), SessionScratch())
    state = fusion.update(fs, signals, 1000.0)
    assert state.probs["frustrated"] > neutral.probs["frustrated"] + 0.2
    negative = {k: v for k, v in state.probs.items() if k != "neutral"}
    assert max(negative, key=negative.get) == "frustrated"


def test_empty_or_non_message_events(analyzer: Any) -> None:
    ev = _event("hello")
    ev.kind = "behaviour"
    assert analyzer.analyze(ev, SessionScratch()) == []


def test_the_banking_pack_reads_through_its_own_encoder() -> None:
    """``ATTUNE_TEXT_PACKS=banking``: intents come from the Banking77 pack, whose head reads
    the encoder fine-tuned for it, while emotions still come from the shared encoder."""
    from attune.signals.text.analyzer import TextAnalyzer

    banking = TextAnalyzer(packs=("banking",))
    assert set(banking.models.own_encoders) == {"text-encoder-banking"}
    cases = {
        "I lost my card yesterday, can you block it?": ("lost_or_stolen_card", "security"),
        "Why was I charged twice for the same coffee?": ("transaction_charged_twice", "problem"),
        "How do I close my account?": ("terminate_account", "cancel"),
    }
    for text, (label, generic) in cases.items():
        named = _by_name(banking.analyze(_event(text), SessionScratch()))
        intent = named["intent"]
        assert (intent.details["label"], intent.details["intent"]) == (label, generic), text
        assert intent.details["pack"] == "banking"
        assert intent.source.startswith("text/intent-banking@")
        assert named["emotion"].source.startswith("text/text-emotion@")

"""The text analyzer inside the real engine: a cancel message moves the session into the
cancellation moment, towards frustrated, and that moment's playbook reacts."""

from __future__ import annotations

from pathlib import Path

from attune.assembly import build
from attune.config import Settings
from attune.events.admitted import GatedEvent
from attune.events.schemas import Message
from attune.signals import registry


def _event(i: int, text: str, at: float, speaker: str = "customer") -> GatedEvent:
    msg = Message.model_validate(
        {"messageId": "m", "userId": "u", "speaker": speaker, "text": text}
    )
    return GatedEvent("message", f"m{i}", "subj", "s1", at, None, "chat", msg)


def test_cancel_message_reaches_the_cancellation_playbook(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", modalities=[])
    engine = build(settings, persistent=False, analyzers={"text": registry.build("text")}).engine
    first = engine.process(_event(1, "I want to cancel, this is ridiculous", 1000.0))
    assert first.moment == "cancellation"
    assert first.state.probs["frustrated"] > first.state.probs["satisfied"]
    agent = engine.process(_event(2, "I'm sorry to hear that, let me check.", 1010.0, "agent"))
    assert agent.state.probs == first.state.probs  # agent turns do not move the customer
    second = engine.process(_event(3, "Seriously, just cancel it, I'm fed up with this", 1030.0))
    assert second.moment == "cancellation"
    assert second.state.top == "frustrated"
    third = engine.process(
        _event(4, "This is ridiculous, I'm furious, worst service ever!", 1045.0)
    )
    assert third.state.probs["frustrated"] >= 0.45
    # the cancellation moment watches frustration and hands over to a person
    assert third.mode == "escalate_to_human" and third.escalate, third.explanation

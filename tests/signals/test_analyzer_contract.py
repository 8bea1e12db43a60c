"""The contract every registered analyzer keeps, checked on each one the registry knows: it
reads only its own event kinds, and each signal it gives has a value and confidence in [0, 1],
CX weights on known states only, evidence a person can read, and a versioned source."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from attune.events.admitted import AudioChunk, Frame, GatedEvent
from attune.events.schemas import Message, PageView, Track
from attune.signals import registry
from attune.signals.base import SessionScratch, Signal
from attune.signals.taxonomy import CX_STATES

T0 = 1_767_000_000.0
IDS = {"messageId": "m", "userId": "u", "sessionId": "s"}


def _behaviour() -> list[GatedEvent]:
    page = PageView.model_validate({**IDS, "properties": {"path": "/checkout/pay"}})
    out = [GatedEvent("behaviour", "p", "subj", "s", T0, None, "web", page)]
    for i in range(6):  # rage clicks
        click = Track.model_validate(
            {**IDS, "event": "click", "properties": {"selector": "#pay", "x": 1, "y": 1}}
        )
        out.append(
            GatedEvent("behaviour", f"c{i}", "subj", "s", T0 + 1 + 0.2 * i, None, "web", click)
        )
    return out


def _text() -> list[GatedEvent]:
    msg = Message.model_validate({**IDS, "text": "This is the third time, I am really annoyed!"})
    return [GatedEvent("message", "m1", "subj", "s", T0, None, "chat", msg)]


def _voice() -> list[GatedEvent]:
    from attune.signals.voice.synth import vowel_speech

    speech = vowel_speech(12.0, f0=220, level=0.3).astype(np.float32)
    return [
        GatedEvent(
            "voice", f"v{i}", "subj", "s", T0 + 2 * (i + 1), None, "voice", AudioChunk(part, 16_000)
        )
        for i, part in enumerate(np.array_split(speech, 6))
    ]


def _face() -> list[GatedEvent]:
    from attune.signals.face.bench import sample_frame

    frame = sample_frame()
    return [
        GatedEvent("frame", f"f{i}", "subj", "s", T0 + 0.2 * i, None, "video", Frame(frame))
        for i in range(8)
    ]


SAMPLES: dict[str, Callable[[], list[GatedEvent]]] = {
    "behaviour": _behaviour,
    "text": _text,
    "voice": _voice,
    "face": _face,
}


def test_every_registered_modality_has_a_sample_here() -> None:
    assert set(registry.names()) == set(SAMPLES)


@pytest.fixture(params=sorted(SAMPLES))
def modality(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _signals(modality: str, events: list[GatedEvent]) -> list[Signal]:
    try:
        analyzer = registry.build(modality)
    except registry.AnalyzerUnavailable as exc:
        pytest.skip(f"{modality} analyzer unavailable here: {exc}")
    scratch = SessionScratch()
    return [s for ev in events for s in analyzer.analyze(ev, scratch)]


def test_signals_keep_the_contract(modality: str) -> None:
    signals = _signals(modality, SAMPLES[modality]())
    assert signals, f"the {modality} sample gives no signal"
    for s in signals:
        assert s.modality == modality
        assert 0.0 <= s.value <= 1.0 and 0.0 <= s.confidence <= 1.0, s
        assert set(s.cx) <= set(CX_STATES) and all(0.0 <= w <= 1.0 for w in s.cx.values()), s
        assert s.evidence.strip(), s
        assert "@" in s.source and s.source.split("@")[-1], s  # analyzer/model@version
        assert s.at >= T0


def test_foreign_events_give_nothing(modality: str) -> None:
    kinds = set(registry.spec(modality).event_kinds)
    foreign = [
        ev for m, make in SAMPLES.items() if m != modality for ev in make() if ev.kind not in kinds
    ]
    assert foreign
    assert _signals(modality, foreign) == []

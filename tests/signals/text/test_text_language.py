"""Language identification in the text analyzer: English stays on today's model, German goes
to the multilingual route, any other language comes back uncertain and names itself, and the
fused state never reads a text it could not read as a confident neutral. Bad input too."""

from __future__ import annotations

from typing import Any

import pytest

from attune.events.admitted import GatedEvent
from attune.events.schemas import Message
from attune.signals import registry
from attune.signals.base import SessionScratch
from attune.signals.taxonomy import NEGATIVE_STATES
from attune.signals.text.langid import detect
from attune.state.fusion import Fusion, FusionState

FRENCH = "Je voudrais annuler ma commande, c'est vraiment inadmissible !"
GERMAN = "Das ist jetzt das dritte Mal, dass die Lieferung verschoben wird. Ich bin total genervt!"
ENGLISH = "This is ridiculous, I want a refund now, worst service ever!"


@pytest.fixture(scope="module")
def analyzer() -> Any:
    return registry.build("text")


def _event(text: str, at: float = 1000.0) -> GatedEvent:
    msg = Message.model_validate(
        {"messageId": "m", "userId": "u", "speaker": "customer", "text": text}
    )
    return GatedEvent("message", "e1", "subj", "sess", at, None, "chat", msg)


def test_detect_names_the_language_and_its_route() -> None:
    assert (detect(ENGLISH).code, detect(ENGLISH).route) == ("en", "en")
    assert (detect(GERMAN).code, detect(GERMAN).route) == ("de", "de")
    assert (detect(FRENCH).code, detect(FRENCH).route) == ("fr", "unsupported")
    emoji = detect("😡😡 !!!")
    assert emoji.code == "und" and emoji.route == "en" and not emoji.sure


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("rechnung?", "de"),  # short German lines the detector is unsure of
        ("Passwort vergessen", "de"),
        ("newsletter abbestellen", "de"),
        ("¡Genial, muchas gracias!", "unsupported"),  # unsure, but clearly not en/de
        ("Top geregeld, bedankt!", "unsupported"),
        ("thanks!", "en"),
        ("lol", "en"),
    ],
)
def test_unsure_short_lines_go_to_the_more_probable_language(text: str, route: str) -> None:
    lang = detect(text)
    assert lang.route == route, lang
    if not lang.sure:
        assert "language uncertain" in lang.evidence()
        if lang.route not in (lang.code, "unsupported"):
            assert f"read as {lang.route}" in lang.evidence()


def test_route_rule_on_a_ranking() -> None:
    from attune.signals.text.langid import route_of

    assert route_of([("it", 0.3), ("de", 0.1), ("en", 0.05)]) == "de"
    assert route_of([("it", 0.3), ("de", 0.05), ("en", 0.01)]) == "unsupported"
    assert route_of([("fr", 0.9), ("en", 0.05)]) == "unsupported"
    assert route_of([("de", 0.2), ("en", 0.1)]) == "de"
    assert route_of([("en", 0.2), ("de", 0.19)]) == "en"


def test_unsupported_language_is_uncertain_with_the_reason(analyzer: Any) -> None:
    signals = analyzer.analyze(_event(FRENCH), SessionScratch())
    assert len(signals) == 1
    sig = signals[0]
    assert sig.details["uncertain"] is True
    assert sig.details["uncertain_reason"] == "language not supported: fr"
    assert sig.details["language"] == "fr" and sig.confidence <= 0.1 and sig.cx == {}
    assert "language not supported: fr" in sig.evidence


def test_fused_state_is_never_a_confident_neutral_from_unread_text(analyzer: Any) -> None:
    fusion, fs = Fusion(), FusionState()
    state = fusion.update(fs, analyzer.analyze(_event(FRENCH), SessionScratch()), 1000.0)
    assert state.uncertain and state.confidence < 0.2
    assert state.uncertain_reason == "text not read: language not supported: fr"
    # older evidence does not make an unread newest message look certain either
    fs2, scratch = FusionState(), SessionScratch()
    fusion.update(fs2, analyzer.analyze(_event(ENGLISH, 1000.0), scratch), 1000.0)
    state = fusion.update(fs2, analyzer.analyze(_event(FRENCH, 1001.0), scratch), 1001.0)
    assert state.uncertain and "language not supported: fr" in (state.uncertain_reason or "")
    # a message it can read again clears the flag
    state = fusion.update(fs2, analyzer.analyze(_event(ENGLISH, 1002.0), scratch), 1002.0)
    assert "not read" not in (state.uncertain_reason or "")


def test_english_shows_its_language_in_the_evidence(analyzer: Any) -> None:
    signals = {s.name: s for s in analyzer.analyze(_event(ENGLISH), SessionScratch())}
    emotion = signals["emotion"]
    assert emotion.details["language"] == "en" and emotion.details["route"] == "en"
    assert "language en (" in emotion.evidence
    assert emotion.source.startswith("text/text-emotion@")
    assert signals["sentiment"].details["sentiment"] == "negative"


def test_german_goes_to_the_multilingual_route(analyzer: Any) -> None:
    signals = {s.name: s for s in analyzer.analyze(_event(GERMAN), SessionScratch())}
    emotion = signals["emotion"]
    assert emotion.details["language"] == "de" and emotion.details["route"] == "de"
    assert emotion.source.startswith("text/text-multilingual@")
    assert "language de (" in emotion.evidence
    top = max(emotion.cx, key=emotion.cx.__getitem__)
    assert top in NEGATIVE_STATES  # the example read neutral before (0.71)
    assert signals["sentiment"].details["sentiment"] == "negative"


def test_german_intent_reads_a_cancellation(analyzer: Any) -> None:
    signals = {
        s.name: s
        for s in analyzer.analyze(
            _event("Ich möchte meine Bestellung stornieren, bitte."), SessionScratch()
        )
    }
    assert signals["intent"].details["label"] == "cancel_order"
    assert signals["intent"].details["language"] == "de"


@pytest.mark.parametrize(
    "text",
    [
        "   \n\t ",
        "😡😡😡",
        "🙂",
        "x" * 10_000,
        ("Das Paket ist nicht angekommen. " * 300)[:10_000],
        "My parcel is late, das ist wirklich ärgerlich, please help",
        "\u200b\u200b",
    ],
)
def test_bad_input_gives_a_clear_result(analyzer: Any, text: str) -> None:
    signals = analyzer.analyze(_event(text), SessionScratch())
    if not text.strip():
        assert signals == []
        return
    assert signals, "a non-empty message gives at least one signal"
    for sig in signals:
        assert 0.0 <= sig.value <= 1.0 and 0.0 <= sig.confidence <= 1.0
        assert "language" in sig.details or sig.name == "escalation"

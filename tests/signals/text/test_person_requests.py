"""The request lexicon: asking for a person in the languages served is recognised, and
ordinary sentences mentioning people are not."""

from __future__ import annotations

import pytest

from attune.signals.text.language import guess_language
from attune.signals.text.requests import asks_for_person

ASKS = [
    (
        "de",
        "Das ist jetzt das dritte Mal, dass ich nachfrage. Ich will sofort mit einem Menschen "
        "sprechen!",
    ),
    ("de", "Ich will mit einem Menschen sprechen"),
    ("de", "Bitte verbinden Sie mich mit einem Mitarbeiter"),
    ("de", "Kann ich mit einer echten Person reden?"),
    ("de", "Ich möchte einen Menschen, keinen Bot"),
    ("de", "Ich will sofort einen Mitarbeiter sprechen!"),
    ("de", "Kann ich bitte eine Beraterin sprechen?"),
    ("en", "Can I please speak to a real person?"),
    ("en", "Get me a human NOW, I am done with this bot"),
    ("en", "let me talk to an agent"),
    ("en", "Please transfer me to an agent"),
    ("en", "Can you connect me with a human?"),
    ("en", "I want a human, not this bot"),
    ("fr", "Je voudrais parler à un conseiller"),
    ("es", "Quiero hablar con una persona"),
    ("it", "Vorrei parlare con un operatore"),
    ("nl", "Ik wil met een medewerker spreken"),
]
NOT = [
    "Where is my order?",
    "I talked to my friend about it",
    "Ich habe mit meinem Mann darüber gesprochen",
    "Ich habe gestern einen Mitarbeiter gesprochen, er war sehr nett",
    "Kann ich mit einem Klick kündigen?",
    "The person who delivered it was nice",
    "I need a person to sign for the parcel",
    "Can you transfer me the money back?",
    "How do I connect to the wifi?",
]


@pytest.mark.parametrize(("language", "text"), ASKS)
def test_requests_for_a_person_are_recognised_with_their_language(language: str, text: str) -> None:
    found = asks_for_person(text)
    assert found is not None and found[0] == language


@pytest.mark.parametrize("text", NOT)
def test_other_sentences_are_not_requests(text: str) -> None:
    assert asks_for_person(text) is None


def test_language_guess() -> None:
    assert guess_language(["Hallo, meine Bestellung ist immer noch nicht da."]) == "de"
    assert guess_language(["Hello, my order has still not arrived."]) == "en"
    assert guess_language([]) == "en"


@pytest.mark.parametrize(
    "text",
    [
        ASKS[0][1],  # the model reads "information": the lexicon adds the request
        "Kann ich mit einer echten Person reden?",  # the model reads "human", unsure (0.50)
    ],
)
def test_the_analyzer_yields_a_human_intent_for_german_requests(text: str) -> None:
    from attune.events.admitted import GatedEvent
    from attune.events.schemas import Message
    from attune.signals import registry
    from attune.signals.base import SessionScratch

    msg = Message.model_validate({"messageId": "m", "userId": "u", "text": text})
    event = GatedEvent("message", "e1", "subj", "sess", 1000.0, None, "chat", msg)
    signals = registry.build("text").analyze(event, SessionScratch())
    human = [s for s in signals if s.name == "intent" and s.details["intent"] == "human"]
    assert human and max(s.confidence for s in human) >= 0.9
    assert any(s.details.get("language") == "de" for s in human)

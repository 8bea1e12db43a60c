"""Explicit requests for a person, in the languages the engine serves: a small lexicon beside
the intent model. The intent pack may miss a request in a language it was not trained on
("Ich will sofort mit einem Menschen sprechen!" read as ``information`` with the shipped
English pack), and such a request must still reach a person. A hit yields the generic intent
``human``; the lexicon only ever adds that one intent."""

from __future__ import annotations

import re
from typing import Any

from attune.signals.base import Signal
from attune.signals.taxonomy import INTENT_TO_CX

VERSION = "1"
_PEOPLE = {
    "en": r"(?:real |actual |live |human |)(?:person|human|agent|someone|somebody|representative"
    r"|operator|people|manager|colleague)",
    "de": r"(?:echten |richtigen |realen |)(?:mensch(?:en)?|mitarbeiter(?:in|innen)?|person"
    r"|berater(?:in)?|kundenberater(?:in)?|sachbearbeiter(?:in)?|agenten|jemande[mn]|kollegen"
    r"|kollegin)",
    "fr": r"(?:vrai |vraie |)(?:personne|humain|conseill(?:er|ère)|agent|opérat(?:eur|rice))",
    "es": r"(?:persona|humano|agente|asesor(?:a)?|operador(?:a)?)(?: real)?",
    "it": r"(?:persona|operat(?:ore|rice)|umano|consulente)(?: vera| reale)?",
    "nl": r"(?:echte |)(?:mens|medewerker|persoon)",
}
_PATTERNS = {
    "en": rf"\b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a |an |the |some |your |)"
    rf"{_PEOPLE['en']}\b|\bget me (?:a |an |)(?:human|person|agent)\b"
    rf"|\b(?:transfer|connect|put)\s+me\s+(?:through\s+)?(?:to|with)\s+(?:a |an |the |your |)"
    rf"{_PEOPLE['en']}\b|\bi (?:want|need) (?:a |an )?(?:real |live )?(?:human|representative)\b"
    rf"|\blive agent\b"
    rf"|\b(?:human|real person|agent),? please\b",
    "de": rf"\b(?:mit|an)\s+(?:einem |einer |jemandem |ihrem |ihrer |eine[nm]? |)"
    rf"{_PEOPLE['de']}\b|\beinen (?:echten |richtigen |)menschen\b"
    rf"|\b(?:einen|eine)\s+{_PEOPLE['de']}\s+(?:zu\s+)?sprechen\b",
    "fr": rf"\b(?:parler|discuter)\s+(?:à|a|avec)\s+(?:un |une |quelqu'un|)\s*{_PEOPLE['fr']}",
    "es": rf"\bhablar\s+con\s+(?:una |un |alguien|)\s*{_PEOPLE['es']}",
    "it": rf"\bparlare\s+con\s+(?:una |un |qualcuno|)\s*{_PEOPLE['it']}",
    "nl": rf"\b(?:met|tegen)\s+(?:een |iemand|)\s*{_PEOPLE['nl']}\b",
}
_COMPILED = {lang: re.compile(p, re.IGNORECASE) for lang, p in _PATTERNS.items()}


def asks_for_person(text: str) -> tuple[str, str] | None:
    """(language, the words that asked) when ``text`` asks for a person, else None."""
    for lang, pattern in _COMPILED.items():
        m = pattern.search(text)
        if m:
            return lang, m.group(0).strip()
    return None


def request_signal(language: str, words: str, at: float, consented: bool = True) -> Signal:
    """The generic intent ``human`` from this lexicon. With text consent it carries the words
    that asked and the intent's CX evidence; without, neither (see
    :func:`request_without_consent`)."""
    return Signal(
        modality="text",
        name="intent",
        value=0.9,
        confidence=0.9,
        evidence=f'asks for a person ({language}: "{words[:60]}")'
        if consented
        else f"asks for a person ({language}; read without text consent: request only)",
        at=at,
        cx=dict(INTENT_TO_CX["human"]) if consented else {},
        source=f"text/requests@{VERSION}",
        # the words that asked name the language: the explanation and the queue use it
        details={
            "intent": "human",
            "label": "human",
            "pack": "requests",
            "language": language,
            "language_p": 0.9,
        },
    )


def request_without_consent(event: Any) -> list[Signal]:
    """A customer message without text consent still reaches a person when it asks for one.

    Consent covers reading a message for emotion; asking for a person is asking for a
    service, and the emotion-off journey must lose no function. So only this lexicon looks at
    the text, in memory: no model runs, the signal carries no CX evidence (fusion ignores it)
    and not the customer's words, and the text itself is not stored (the gate withheld it)."""
    msg = getattr(event, "payload", None)
    if getattr(event, "kind", None) != "message" or msg is None:
        return []
    if getattr(msg, "speaker", "customer") != "customer":
        return []
    asked = asks_for_person(getattr(msg, "text", "") or "")
    return [] if asked is None else [request_signal(*asked, at=event.at, consented=False)]

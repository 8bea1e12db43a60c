"""Explicit requests for a person, in the languages the engine serves: a small lexicon beside
the intent model. The intent pack may miss a request in a language it was not trained on
("Ich will sofort mit einem Menschen sprechen!" read as ``information`` with the shipped
English pack), and such a request must still reach a person. A hit yields the generic intent
``human``; the lexicon only ever adds that one intent."""

from __future__ import annotations

import re

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
    rf"|\b(?:human|real person|agent),? please\b",
    "de": rf"\b(?:mit|an)\s+(?:einem |einer |jemandem |ihrem |ihrer |eine[nm]? |)"
    rf"{_PEOPLE['de']}\b|\beinen (?:echten |richtigen |)menschen\b",
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

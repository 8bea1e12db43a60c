"""The AI Act disclosure (Art. 50(3)): what a customer must be told at first exposure to an
emotion recognition system, per locale, with a version that the acknowledgement records."""

from __future__ import annotations

from typing import Any

VERSION = "2026-11-v1"
TEXTS = {
    "en": (
        "This service uses an emotion recognition system. With your permission it estimates "
        "from how you use this page, what you write and - only if you switch them on - your "
        "voice or camera image whether you seem frustrated, confused or anxious, so that the "
        "journey can become simpler or a person can help you. It never changes prices, credit "
        "or what you are eligible for. Saying no changes nothing else: every function works "
        "the same. You can withdraw at any time with one click, and ask for a copy or deletion "
        "of what is held about you."
    ),
    "de": (
        "Dieser Dienst verwendet ein System zur Emotionserkennung. Mit Ihrer Erlaubnis schätzt "
        "es anhand Ihrer Nutzung dieser Seite, Ihrer Nachrichten und - nur wenn Sie diese "
        "einschalten - Ihrer Stimme oder Ihres Kamerabilds, ob Sie verärgert, verunsichert "
        "oder besorgt wirken, damit der Ablauf einfacher wird oder ein Mensch Ihnen hilft. "
        "Preise, Kredite oder Ansprüche ändert es nie. Ein Nein ändert sonst nichts: alle "
        "Funktionen bleiben gleich. Sie können jederzeit mit einem Klick widerrufen und eine "
        "Kopie oder Löschung Ihrer Daten verlangen."
    ),
}


def disclosure(locale: str | None = None) -> dict[str, Any]:
    lang = (locale or "en").lower()[:2]
    lang = lang if lang in TEXTS else "en"
    return {
        "version": VERSION,
        "locale": lang,
        "text": TEXTS[lang],
        "legal_reference": "EU AI Act Art. 50(3)",
        "required_before": ["voice", "face"],
    }

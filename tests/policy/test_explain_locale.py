"""Explanations in the customer's locale: German text for de / de-AT, English with the locale
named for a locale without texts, English for none."""

from __future__ import annotations

from attune.policy.explain import explain_adaptation, explain_standard

MOVED = [{"modality": "text", "evidence": "the message reads as annoyance (0.81)"}]


def test_standard_explanation_in_german() -> None:
    text = explain_standard("checkout", "calm", locale="de-AT")
    assert text.startswith("Bisher kein Zeichen von Schwierigkeiten")
    assert "„checkout“" in text


def test_adaptation_in_german_names_the_sources_in_german() -> None:
    text = explain_adaptation("frustrated", "checkout", "simplified", MOVED, False, False, "de")
    assert text.startswith("Hinweise (was Sie schreiben) deuten auf Frust")
    assert "annoyance" not in text  # the English evidence stays in the English text
    assert "Angebote pausieren" in text
    both = [*MOVED, {"modality": "behaviour", "evidence": "3 clicks in 0.6 s on #pay"}]
    text = explain_adaptation("frustrated", "checkout", "slow", both, False, True, "de")
    assert "(was Sie schreiben und wie Sie die Seite nutzen)" in text
    english = explain_adaptation("frustrated", "checkout", "simplified", MOVED, False, False)
    assert "annoyance (0.81)" in english


def test_unknown_locale_falls_back_to_english_and_says_so() -> None:
    text = explain_standard("checkout", "calm", locale="fr-FR")
    assert text.startswith("No sign of difficulty")
    assert "no text for locale 'fr-FR'" in text
    assert explain_standard("checkout", "calm", locale=None).endswith("standard view.")
    assert "locale" not in explain_adaptation("frustrated", "checkout", "slow", MOVED, True, True)


def test_german_names_the_modalities_that_are_off() -> None:
    text = explain_standard("checkout", "emotion_off", ("text", "voice"), locale="de")
    assert "(was Sie schreiben und Ihre Stimme)" in text

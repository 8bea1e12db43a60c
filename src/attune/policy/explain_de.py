"""German wording of the explanations in ``explain`` (same keys, same sentences)."""

from __future__ import annotations

MODE_PHRASES = {
    "simplified": "die vereinfachte Ansicht mit einer kurzen Zusammenfassung",
    "slow": "ein ruhigeres Tempo, Schritt für Schritt",
    "trust": "eine Ansicht mit mehr Sicherheit und klaren Bedingungen",
    "fast_track": "den schnellen Weg",
    "no_sell": "eine Ansicht ohne Angebote",
    "guided": "eine geführte Hilfe durch jeden Schritt",
    "cooling_off": "eine Bedenkpause ohne Entscheidungsdruck",
    "relief_offer": "eine Ansicht mit Möglichkeiten zu pausieren oder anzupassen statt zu gehen",
    "escalate_to_human": "den Kontakt zu einer Person aus unserem Team, die das bisherige "
    "Gespräch sieht",
    "standard": "die Standardansicht",
}
STATE_WORDS = {
    "frustrated": "Frust",
    "confused": "Verwirrung",
    "anxious": "Sorge",
    "disappointed": "Enttäuschung",
    "satisfied": "Zufriedenheit",
    "neutral": "keine Schwierigkeiten",
}
NO_EVIDENCE = "die bisherigen Signale"


def adaptation(
    state: str, moment: str, mode: str, evidence: str, escalate: bool, offers: bool
) -> str:
    first = (
        f"Hinweise ({evidence}) deuten auf {STATE_WORDS.get(state, state)}, daher zeigt "
        f"„{moment}“ jetzt {MODE_PHRASES.get(mode, mode)}."
    )
    if escalate:
        second = "Eine Person aus unserem Team übernimmt, mit dem bisherigen Verlauf."
    elif not offers:
        second = "Angebote pausieren, bis sich die Lage beruhigt."
    else:
        second = "An Preis oder Anspruch hat sich nichts geändert."
    return f"{first} {second} Sie können jederzeit zur Standardansicht zurückkehren."


def sources(modalities: list[str]) -> str:
    """Where the evidence came from, in German ("was Sie schreiben und Ihre Stimme")."""
    words: list[str] = []
    for name in modalities:
        word = MODALITY_WORDS.get(name)
        if word and word not in words:
            words.append(word)
    return " und ".join(words) if words else NO_EVIDENCE


def request(moment: str | None, sees: bool = True) -> str:
    where = f" in „{moment}“" if moment else ""
    seen = " und sieht den bisherigen Verlauf" if sees else ""
    return (
        f"Sie möchten mit einem Menschen sprechen, daher übernimmt{where} eine Person aus "
        f"unserem Team{seen}. Sie können das jederzeit ablehnen."
    )


MODALITY_WORDS = {
    "behaviour": "wie Sie die Seite nutzen",
    "text": "was Sie schreiben",
    "voice": "Ihre Stimme",
    "face": "Ihr Gesichtsausdruck",
}


def standard(moment: str | None, reason: str, off: tuple[str, ...] = ()) -> str:
    where = f"„{moment}“" if moment else "dieser Ablauf"
    words = [MODALITY_WORDS.get(n, n) for n in off]
    what = (
        f" ({', '.join(words[:-1]) + ' und ' + words[-1] if len(words) > 1 else words[0]})"
        if words
        else ""
    )
    texts = {
        "calm": f"Bisher kein Zeichen von Schwierigkeiten, daher zeigt {where} die "
        "Standardansicht.",
        "eased": f"Die früheren Anzeichen haben nachgelassen, daher zeigt {where} wieder die "
        "Standardansicht.",
        "uncertain": f"Die Signale sind zu schwach oder zu widersprüchlich, daher bleibt {where} "
        "in der Standardansicht.",
        "customer_choice": f"Sie haben die Standardansicht gewählt, daher bleibt {where} so.",
        "control": f"{where} zeigt die Standardansicht (Vergleichsgruppe).",
        "cooldown": f"{where} behält die Ansicht vorerst, um nicht zu oft zu wechseln.",
        "cap": f"{where} hat sich in dieser Sitzung oft genug angepasst und bleibt so.",
        "no_playbook": f"Für {where} gibt es kein Playbook, daher die Standardansicht.",
        "emotion_off": f"Die Emotionsanalyse ist für Sie aus{what}, daher zeigt {where} die "
        "Standardansicht.",
    }
    return texts[reason]

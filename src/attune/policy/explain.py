"""Plain-words explanations a customer could be given: two or three sentences naming the
evidence."""

from __future__ import annotations

from typing import Any

MODE_PHRASES = {
    "simplified": "the simplified view with a short summary",
    "slow": "a calmer, step-by-step pace",
    "trust": "a view with more reassurance and clear terms",
    "fast_track": "the fast track",
    "no_sell": "a view without offers",
    "guided": "guided help through each step",
    "cooling_off": "a cooling-off pause with no pressure to decide",
    "relief_offer": "a view showing ways to pause or adjust instead of leaving",
    "escalate_to_human": "a human agent who sees the conversation so far",
    "standard": "the standard view",
}
STATE_WORDS = {
    "frustrated": "frustration",
    "confused": "confusion",
    "anxious": "worry",
    "disappointed": "disappointment",
    "satisfied": "satisfaction",
    "neutral": "no difficulty",
}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def evidence_phrase(moved_by: list[dict[str, Any]], limit: int = 2) -> str:
    items = [m["evidence"] for m in moved_by[:limit]]
    if not items:
        return "the signals so far"
    return " and ".join(items)


LOCALES = ("en", "de")


def language(locale: str | None) -> str:
    return (locale or "en").replace("_", "-").split("-")[0].lower() or "en"


def _fallback_note(locale: str | None) -> str:
    """English is the fallback: say so, naming the locale asked for."""
    lang = language(locale)
    return "" if lang in LOCALES else f" (Shown in English: no text for locale {locale!r}.)"


def explain_adaptation(
    state: str,
    moment: str,
    mode: str,
    moved_by: list[dict[str, Any]],
    escalate: bool,
    offers: bool,
    locale: str | None = None,
) -> str:
    if language(locale) == "de":
        from attune.policy import explain_de

        # the signals' evidence is English text: a German customer reads where it came from
        # (what they wrote, how they used the page), in German, not a mixed-language sentence
        evidence = explain_de.sources([str(m.get("modality", "")) for m in moved_by[:2]])
        return explain_de.adaptation(state, moment, mode, evidence, escalate, offers)
    first = (
        f"{_sentence(evidence_phrase(moved_by))} suggest {STATE_WORDS.get(state, state)}, "
        f"so the {moment} switched to {MODE_PHRASES.get(mode, mode)}."
    )
    if escalate:
        second = "A person from our team will take over, with the context so far."
    elif not offers:
        second = "Offers are paused until things settle."
    else:
        second = "Nothing about price or eligibility changed."
    note = _fallback_note(locale)
    return f"{first} {second} You can return to the standard view at any time.{note}"


def explain_request(moment: str | None, locale: str | None = None, sees: bool = True) -> str:
    """``sees``: whether the colleague will see the conversation (text consent), so that the
    customer is promised nothing the agent lacks."""
    if language(locale) == "de":
        from attune.policy import explain_de

        return explain_de.request(moment, sees)
    where = f"the {moment}" if moment else "this conversation"
    seen = " and see the conversation so far" if sees else ""
    return (
        f"You asked to speak with a person, so a colleague from our team will take over "
        f"{where}{seen}. You can decline at any time." + _fallback_note(locale)
    )


def _listed(names: tuple[str, ...]) -> str:
    words = [MODALITY_WORDS.get(n, n) for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


MODALITY_WORDS = {
    "behaviour": "how you use the page",
    "text": "what you write",
    "voice": "your voice",
    "face": "your facial expression",
}


def explain_standard(
    moment: str | None, reason: str, off: tuple[str, ...] = (), locale: str | None = None
) -> str:
    if language(locale) == "de":
        from attune.policy import explain_de

        return explain_de.standard(moment, reason, off)
    where = f"the {moment}" if moment else "this journey"
    what = f" ({_listed(off)})" if off else ""
    texts = {
        "calm": f"No sign of difficulty so far, so {where} shows its standard view.",
        "eased": f"The earlier signs have eased, so {where} is back to its standard view.",
        "uncertain": f"The signals are too thin or mixed to act on, so {where} stays standard.",
        "customer_choice": f"You chose the standard view, so {where} stays standard.",
        "control": f"{_sentence(where)} shows its standard view (comparison group).",
        "cooldown": f"{_sentence(where)} keeps its view for now, to avoid changing too often.",
        "cap": f"{_sentence(where)} has adapted often enough in this session; it stays as is.",
        "no_playbook": f"No playbook covers {where}, so it shows its standard view.",
        "emotion_off": f"Emotion analysis is off for you{what}, so {where} shows its standard "
        "view.",
    }
    return texts[reason] + _fallback_note(locale)

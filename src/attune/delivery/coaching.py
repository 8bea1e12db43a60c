"""What an agent taking over should know, in plain words: priority, a suggested opener, the
tone to take, de-escalation moves and what not to do. Pure functions of the *customer's*
state and the handoff; nothing here reads, or may ever read, the agent's own emotions
(emotion recognition of employees is a red line, R3)."""

from __future__ import annotations

from typing import Any

UPSET = frozenset({"frustrated", "anxious"})
NEGATIVE = frozenset({"frustrated", "anxious", "confused", "disappointed"})

_OPENERS = {
    "en": {
        "requested": "Hi, I'm a person from the team, and I can see our conversation so far, "
        "so you won't need to repeat anything. Let's sort this out together.",
        "upset": "Hi, I'm from the team. I can see what happened so far and I'm sorry this "
        "has been hard. I'll take it from here.",
        "other": "Hi, I'm from the team and I can see our conversation so far. How can I help?",
        # no transcript (no text consent): never claim to see what was written
        "unread": "Hi, I'm a person from the team. I can't see your earlier messages, so "
        "tell me in a few words what it's about and we'll sort it out together.",
    },
    "de": {
        "requested": "Hallo, hier ist ein Mensch aus dem Team. Ich sehe unser bisheriges "
        "Gespräch, Sie müssen nichts wiederholen. Wir klären das jetzt gemeinsam.",
        "upset": "Hallo, ich bin aus dem Team. Ich sehe, was bisher passiert ist, und es tut "
        "mir leid, dass es so mühsam war. Ich übernehme ab hier.",
        "other": "Hallo, ich bin aus dem Team und sehe unser bisheriges Gespräch. "
        "Wie kann ich helfen?",
        "unread": "Hallo, hier ist ein Mensch aus dem Team. Ihre bisherigen Nachrichten sehe "
        "ich nicht: Sagen Sie mir kurz, worum es geht, dann klären wir das gemeinsam.",
    },
}
_TONES = {
    "frustrated": "calm and direct: short sentences, own the problem, name the next step",
    "anxious": "reassuring and clear: say what happens next and when, no jargon",
    "confused": "patient and simple: one step at a time, check understanding",
    "disappointed": "warm and honest: acknowledge the letdown, offer a concrete fix",
    "satisfied": "friendly and brief: confirm and close the loop",
    "neutral": "friendly and factual",
}
_MOVES = {
    "frustrated": [
        "Acknowledge the repeated effort once, in their words",
        "Say what you will do now and by when",
        "Offer a direct line back (callback) if it cannot be solved at once",
    ],
    "anxious": [
        "Reassure about what is safe or already done",
        "Give a concrete timeline",
        "Summarise the next step before ending",
    ],
    "confused": [
        "Ask what they are trying to do, then guide one step at a time",
        "Confirm each step worked before the next",
    ],
    "disappointed": [
        "Acknowledge what went wrong without excuses",
        "Offer the fix the policy allows; no pressure to decide",
    ],
}
_DONT_REPEAT = "Do not make them repeat what the transcript already says"  # needs one
_DONT = ["Do not transfer them again without a warm handover"]
_DONT_UPSET = [
    "No upsell, offers or retention pitches while they are upset",
    "Do not tell them to calm down",
]


def _lang(language: str | None) -> str:
    return language if language in _OPENERS else "en"


def opener(language: str | None, reason: str, top: str | None, sees: bool = True) -> str:
    """``sees``: whether the agent sees the conversation (a transcript: text consent)."""
    lines = _OPENERS[_lang(language)]
    if not sees:
        return lines["unread"]
    if reason == "requested":
        return lines["requested"]
    return lines["upset" if top in NEGATIVE else "other"]


def coaching(
    state: dict[str, Any] | None, consent_withdrawn: bool = False, sees: bool = True
) -> dict[str, Any]:
    """Tone, moves and don'ts for the customer's latest state (``EmotionalState.to_dict``);
    ``sees``: whether the agent sees the conversation (a transcript: text consent)."""
    top = (state or {}).get("top") or "neutral"
    uncertain = bool((state or {}).get("uncertain"))
    dont = [*(_DONT_UPSET if top in UPSET else []), *([_DONT_REPEAT] if sees else []), *_DONT]
    moves = list(_MOVES.get(top, ["Confirm what they need, then resolve it"]))
    note = None
    if uncertain:
        note = "The signals are thin or mixed: ask rather than assume how they feel."
    if not sees:
        note = (
            "The customer has not agreed to text analysis: there is no transcript and no "
            "reading of how they feel. Ask what it is about."
        )
    if consent_withdrawn:
        note = "The customer withdrew consent for text analysis: no new turns are read."
    return {
        "state": top,
        "intensity": (state or {}).get("intensity"),
        "tone": _TONES.get(top, _TONES["neutral"]),
        "moves": moves,
        "dont": dont,
        "note": note,
    }


def rising(arc: list[dict[str, Any]]) -> bool:
    """Whether the customer's last turns grew more negative (the trend)."""
    neg = [
        sum(v for k, v in (t.get("probs") or {}).items() if k in NEGATIVE) for t in arc[-3:] if t
    ]
    return len(neg) >= 2 and neg[-1] - neg[0] >= 0.1


def priority(
    state: dict[str, Any] | None,
    reason: str,
    vulnerable: bool,
    trend_rising: bool,
    waiting_s: float,
) -> float:
    """0-100, highest first in the queue: how upset and how intensely, whether it is getting
    worse, an explicit request, a vulnerable moment, and how long they have waited."""
    s = state or {}
    top, intensity = s.get("top"), float(s.get("intensity") or 0.0)
    p = 20.0
    if top in NEGATIVE:
        p += 25.0 * min(1.0, intensity) + (5.0 if top in UPSET else 0.0)
    if reason == "requested":
        p += 15.0
    if trend_rising:
        p += 10.0
    if vulnerable:
        p += 20.0
    p += min(20.0, 2.0 * max(0.0, waiting_s) / 60.0)  # 2 points a minute, up to 20
    return round(min(100.0, p), 1)

"""A small language guess for a conversation (which queue, which opener), from function words.

Good enough to tell the languages the engine serves apart on a sentence or two; a caller's
``context.locale`` always wins over it."""

from __future__ import annotations

import re

_WORDS = {
    "en": "the and is to you i it of a my in that this for not with can please have what me",
    "de": "der die das und ist ich nicht mit ein eine zu sie es dass mal ich will sprechen "
    "bitte mein meine jetzt sofort schon noch wie was",
    "fr": "le la les et est je pas avec un une vous que pour de mon ma c'est merci",
    "es": "el la los las y es yo no con un una usted que para de mi por favor",
    "it": "il lo la gli e è io non con un una lei che per di mio mia grazie",
    "nl": "de het en is ik niet met een u dat voor van mijn wil graag",
}
_SETS = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def guess_language(texts: list[str], default: str = "en") -> str:
    """The language whose function words the texts use most (``default`` on a tie or none)."""
    tokens = [t.lower() for text in texts for t in _TOKEN.findall(text)]
    scores = {lang: sum(t in words for t in tokens) for lang, words in _SETS.items()}
    best = max(scores, key=lambda k: scores[k])
    top = scores[best]
    if top == 0 or (sum(v == top for v in scores.values()) > 1 and scores.get(default) == top):
        return default
    return best

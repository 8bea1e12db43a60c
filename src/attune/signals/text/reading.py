"""How a customer message reads: emotions, CX weights, sentiment, intent, heat.

Shared by the live analyzer (one message at a time) and batch analysis (many at once), so
both say the same thing about the same text.
"""

from __future__ import annotations

import itertools
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from attune.signals.taxonomy import (
    GOEMOTIONS_TO_CX,
    GOEMOTIONS_TO_SENTIMENT,
    NEGATIVE_STATES,
    generic_intent,
    to_cx,
)
from attune.signals.text.models import UNKNOWN, TextModels

SENTIMENTS = ("negative", "neutral", "positive")
# Heat reads negativity aimed outwards (at the company, the product, the wait): not apologies
# ("sorry" reads as remorse), worry (fear, nervousness) or disapproval (a plain "no, I don't"
# answer reads as disapproval), which support chats are full of.
HEAT_LABELS = ("anger", "annoyance", "disgust", "disappointment")
WINDOW = 3  # customer turns
RISE = 0.25  # heat must rise this much over the window...
HOT = 0.45  # ...and end at least this hot, to read as escalating
# A turn may read up to this much cooler than the one before (two hot turns differ by about
# 0.2 from wording alone: "it still hasn't arrived, that's annoying" 0.91, "this is
# ridiculous, I want a refund now, worst service ever!" 0.72 with emotion model
# 20261204-s13-f00a0f1c); a calmer turn reads under 0.05, so a bigger drop is cooling.
DIP = 0.25


@dataclass
class Reading:
    emotions: dict[str, float]  # 28 calibrated probabilities
    decided: list[tuple[str, float]]  # labels over their run-time threshold, strongest first
    cx: dict[str, float]
    sentiment: dict[str, float]  # negative / neutral / positive, sums to 1
    heat: float  # in [0, 1]: noisy-OR of the HEAT_LABELS probabilities (drives escalation)
    intensity: float = 0.0  # in [0, 1]: the strongest label's probability / its threshold
    intent: str | None = None  # the pack's label, None when unknown
    generic: str | None = None  # the generic intent (cancel, complain, refund, human, ...)
    intent_conf: float = 0.0
    pack: str | None = None
    lang: str | None = None  # detected language (None: not identified, e.g. route=False)
    lang_p: float = 0.0
    route: str = "en"  # en (today's model), de (the multilingual one), unsupported
    uncertain_reason: str | None = None  # set when the text could not be read

    @property
    def uncertain(self) -> bool:
        return self.uncertain_reason is not None

    @property
    def sentiment_label(self) -> str:
        return max(self.sentiment, key=lambda k: self.sentiment[k])

    def to_dict(self) -> dict[str, Any]:
        return {
            "emotions": [[k, round(v, 3)] for k, v in self.decided],
            "cx": {k: round(v, 3) for k, v in self.cx.items()},
            "sentiment": self.sentiment_label,
            "heat": round(self.heat, 3),
            "intent": self.intent,
            "generic_intent": self.generic,
            "intent_conf": round(self.intent_conf, 3),
            "lang": self.lang,
            "route": self.route,
            "uncertain_reason": self.uncertain_reason,
        }


def sentiment_of(emotions: dict[str, float]) -> dict[str, float]:
    """Noisy-OR of the labels in each sentiment group, normalised to sum to 1."""
    keep = dict.fromkeys(SENTIMENTS, 1.0)
    for label, p in emotions.items():
        group = GOEMOTIONS_TO_SENTIMENT[label]
        keep[group] *= 1.0 - p
    raw = {g: 1.0 - keep[g] for g in SENTIMENTS}
    total = sum(raw.values()) or 1.0
    return {g: v / total for g, v in raw.items()}


def _one_blas_thread() -> AbstractContextManager[Any]:
    """The heads are tiny matrix products: a multi-threaded BLAS spends more time waking its
    threads than computing (1.5 ms vs 0.15 ms per message measured here), so use one."""
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, run as is
        return nullcontext()


_CONTROLLER: Any = None


def read_texts(
    models: TextModels, texts: list[str], pack: str | None = None, route: bool = True
) -> list[Reading]:
    """Readings in the order of ``texts``. With ``route`` (the default) each text's language
    is identified first: English (and short lines no language is sure of) go to today's
    model, German to the multilingual route, anything else comes back uncertain and unread.
    ``route=False`` is today's English-only path (the English evals and the bench baseline)."""
    if not texts:
        return []
    with _one_blas_thread():
        if not route:
            return _read(models, texts, pack)
        return _read_routed(models, texts, pack)


def _read_routed(models: TextModels, texts: list[str], pack: str | None) -> list[Reading]:
    from attune.signals.text.langid import detect, unsupported_reason

    langs = [detect(t) for t in texts]
    out: list[Reading | None] = [None] * len(texts)
    groups: dict[str, list[int]] = {}
    for i, lang in enumerate(langs):
        groups.setdefault(lang.route, []).append(i)
    for route, index in groups.items():
        if route == "en":
            read = _read(models, [texts[i] for i in index], pack)
        elif route == "unsupported":
            read = [unread(unsupported_reason(langs[i])) for i in index]
        else:
            read = _read_multilingual(
                [texts[i] for i in index], pack or next(iter(models.packs), None)
            )
        for i, reading in zip(index, read, strict=True):
            reading.lang, reading.lang_p, reading.route = langs[i].code, langs[i].p, route
            out[i] = reading
    return [r for r in out if r is not None]


def unread(reason: str) -> Reading:
    """A text Attune could not read: no emotions, no CX evidence, an even sentiment."""
    even = dict.fromkeys(SENTIMENTS, 1.0 / len(SENTIMENTS))
    return Reading({}, [], {}, even, 0.0, uncertain_reason=reason)


def _read_multilingual(texts: list[str], pack: str | None) -> list[Reading]:
    from attune.models.runtime import ModelNotFound
    from attune.signals.text.multilingual import load_multilingual, named

    try:
        ml = load_multilingual()
        feats = ml.encoder.features(texts)
    except (ModelNotFound, ImportError) as exc:  # the route is optional: say so, read nothing
        return [unread(f"multilingual model not available ({type(exc).__name__})") for _ in texts]
    probs = ml.emotion_probs(feats)
    cx, sentiment = ml.cx_probs(feats), ml.sentiment_probs(feats)
    thresholds = np.array(ml.meta["thresholds"], dtype=np.float32)
    labels = ml.labels["emotion"]
    intent_p = ml.intent_probs(pack, feats) if pack else None
    intents = ml.intents(pack, intent_p) if pack and intent_p is not None else None
    out = []
    for i in range(len(texts)):
        emotions = named(labels, probs[i])
        chosen = sorted(
            ((labels[j], float(probs[i, j])) for j in np.flatnonzero(probs[i] >= thresholds)),
            key=lambda kv: -kv[1],
        )
        states = named(ml.labels["cx"], cx[i])
        heat = 1.0 - float(np.prod([1.0 - emotions[lab] for lab in HEAT_LABELS]))
        # intensity: how far the CX head leans away from neutral
        reading = Reading(
            emotions,
            chosen,
            states,
            named(ml.labels["sentiment"], sentiment[i]),
            float(min(1.0, heat)),
            float(1.0 - states.get("neutral", 0.0)),
        )
        if intents is not None and pack is not None:
            label, conf = intents[i]
            reading.pack, reading.intent_conf = pack, conf
            if label is not None:
                reading.intent, reading.generic = label, generic_intent(pack, label)
        out.append(reading)
    return out


def _read(models: TextModels, texts: list[str], pack: str | None) -> list[Reading]:
    pack = pack or next(iter(models.packs), None)
    early = models.start_pack_pass(pack, texts)  # beside the shared pass, where it is needed
    feats = models.encoder.features(texts)
    emo = models.emotion
    probs = emo.probs(feats, texts)
    decided = emo.labels_above(probs)
    thresholds = emo.thresholds
    intents: list[tuple[str, float]] | None = None
    if pack is not None and pack in models.packs:
        model = models.packs[pack]
        intents = model.intents(models.pack_probs(pack, texts, feats, early))
    out = []
    for i in range(len(texts)):
        emotions = {lab: float(p) for lab, p in zip(emo.labels, probs[i], strict=True)}
        chosen = sorted(
            ((emo.labels[j], float(probs[i, j])) for j in np.flatnonzero(decided[i])),
            key=lambda kv: -kv[1],
        )
        # Each label weighs by how far it is towards its own decision threshold (squared), so
        # the many small probabilities of labels far below threshold do not blur the CX mix,
        # and by the share of its sentiment group, so that "ridiculous" read as amusement
        # does not make a furious message look partly satisfied.
        sentiment = sentiment_of(emotions)
        strength = np.minimum(1.0, probs[i] / thresholds)
        cx = to_cx(
            {
                lab: float(v) ** 2 * sentiment[GOEMOTIONS_TO_SENTIMENT[lab]]
                for lab, v in zip(emo.labels, strength, strict=True)
            },
            GOEMOTIONS_TO_CX,
        )
        heat = 1.0 - float(np.prod([1.0 - emotions[lab] for lab in HEAT_LABELS]))
        reading = Reading(
            emotions, chosen, cx, sentiment, float(min(1.0, heat)), float(strength.max())
        )
        if intents is not None and pack is not None:
            label, conf = intents[i]
            reading.pack, reading.intent_conf = pack, conf
            if label != UNKNOWN:
                reading.intent, reading.generic = label, generic_intent(pack, label)
        out.append(reading)
    return out


def negative_share(cx: dict[str, float]) -> float:
    return sum(v for k, v in cx.items() if k in NEGATIVE_STATES)


def escalates(heats: list[float]) -> bool:
    """The last ``WINDOW`` customer turns grew more negative: never falling by more than DIP,
    rising by at least ``RISE`` overall, and ending at ``HOT`` or more."""
    if len(heats) < WINDOW:
        return False
    window = heats[-WINDOW:]
    rising = all(b >= a - DIP for a, b in itertools.pairwise(window))
    return rising and window[-1] - window[0] >= RISE and window[-1] >= HOT

"""The text analyzer: each customer message -> emotion, sentiment, intent and escalation Signals.

Models load lazily, once per process (``attune.signals.text.models``); inference needs only
onnxruntime, tokenizers and numpy. Agent turns give no signal (they will feed coaching, not
the customer's state). The session scratch keeps the last three customer turns' heat, so a
conversation that grows more negative over three turns reads as escalating.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from attune.signals.base import SessionScratch, Signal
from attune.signals.taxonomy import INTENT_TO_CX, SENTIMENT_TO_CX
from attune.signals.text.reading import WINDOW, escalates, read_texts
from attune.signals.text.requests import asks_for_person, request_signal

REQUEST_CONFIDENCE = 0.9  # the lexicon's own: a model reading of "human" above it is enough
PACKS_ENV = "ATTUNE_TEXT_PACKS"  # comma-separated intent packs; the first one is used live
PHRASES = {
    "cancel": "asks to cancel",
    "complain": "complains",
    "refund": "asks for a refund",
    "human": "asks for a person",
    "help": "asks for help",
    "thanks": "says thanks",
    "problem": "reports a problem",
    "security": "reports a security worry",
    "account": "asks about their account",
    "order": "asks about an order",
    "information": "asks for information",
}


UNREAD_CONFIDENCE = 0.05  # a text Attune could not read: low weight, whatever else it says


def _language(reading: Any) -> dict[str, Any]:
    """The language evidence and details of a reading (empty when it was not identified)."""
    if reading.lang is None:
        return {}
    from attune.signals.text.langid import Language

    language = Language(reading.lang, reading.lang_p, reading.route)
    return {"text": language.evidence(), "details": language.to_dict()}


def _fmt(pairs: list[tuple[str, float]]) -> str:
    parts = [f"{k} ({v:.2f})" for k, v in pairs]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class TextAnalyzer:
    modality: ClassVar[str] = "text"
    version: ClassVar[str] = "1"

    def __init__(self, packs: tuple[str, ...] | None = None, threads: int = 1) -> None:
        env = os.environ.get(PACKS_ENV, "customer_service")
        self.packs = packs if packs is not None else tuple(p for p in env.split(",") if p)
        self.threads = threads
        self._models: Any = None

    @property
    def models(self) -> Any:
        if self._models is None:
            from attune.signals.text.models import load_models

            self._models = load_models(self.packs, self.threads)
        return self._models

    def analyze(self, event: Any, scratch: SessionScratch) -> list[Signal]:
        msg = getattr(event, "payload", None)
        if getattr(event, "kind", None) != "message" or msg is None:
            return []
        if getattr(msg, "speaker", "customer") != "customer":
            return []
        text = (getattr(msg, "text", "") or "").strip()
        if not text:
            return []
        reading = read_texts(self.models, [text])[0]
        out = self.signals(reading, event.at, scratch)
        # the lexicon speaks when the model missed the request or read it unsure
        sure = reading.generic == "human" and reading.intent_conf >= REQUEST_CONFIDENCE
        if not sure and (asked := asks_for_person(text)) is not None:
            out.append(request_signal(*asked, at=event.at))
        return out

    def _source(self, model: Any) -> str:
        return f"text/{model.meta['name']}@{model.version}"

    def signals(self, reading: Any, at: float, scratch: SessionScratch) -> list[Signal]:
        if reading.uncertain:
            return [self._unread(reading, at)]
        models = self.models
        lang = _language(reading)
        source = self._source(models.emotion)
        if reading.route != "en":
            from attune.signals.text.multilingual import load_multilingual

            source = f"text/text-multilingual@{load_multilingual().version}"
        # value: how strongly the message carries its emotions (the strongest label against
        # its threshold); confidence: how sure the tone is (the dominant sentiment's share).
        tone = reading.sentiment[reading.sentiment_label]
        out = [
            Signal(
                modality="text",
                name="emotion",
                value=reading.intensity,
                confidence=tone,
                evidence=f"the message reads as {_fmt(reading.decided[:3]) or 'calm'}"
                + (f" ({lang['text']})" if lang else ""),
                at=at,
                cx=reading.cx,
                source=source,
                details={
                    "emotions": {k: round(v, 4) for k, v in reading.decided},
                    **lang.get("details", {}),
                },
            ),
            Signal(
                modality="text",
                name="sentiment",
                value=tone,
                confidence=tone,
                evidence=f"the tone is {reading.sentiment_label} ({tone:.2f})",
                at=at,
                cx={},  # the emotion signal already carries this evidence into fusion
                source=source,
                details={
                    **lang.get("details", {}),
                    "sentiment": reading.sentiment_label,
                    "probs": {k: round(v, 4) for k, v in reading.sentiment.items()},
                    "cx_if_fused": SENTIMENT_TO_CX[reading.sentiment_label],
                },
            ),
        ]
        if reading.generic is not None:
            pack_model = models.packs.get(reading.pack)
            out.append(
                Signal(
                    modality="text",
                    name="intent",
                    value=reading.intent_conf,
                    confidence=reading.intent_conf,
                    evidence=f"{PHRASES.get(reading.generic, 'intent: ' + reading.generic)} "
                    f"({reading.intent_conf:.2f})",
                    at=at,
                    cx=dict(INTENT_TO_CX.get(reading.generic, {})),
                    source=self._source(pack_model) if reading.route == "en" else source,
                    details={
                        **lang.get("details", {}),
                        "intent": reading.generic,
                        "label": reading.intent,
                        "pack": reading.pack,
                    },
                )
            )
        escalation = self._escalation(reading.heat, at, scratch)
        if escalation is not None:
            out.append(escalation)
        return out

    def _unread(self, reading: Any, at: float) -> Signal:
        """The text could not be read: one low-confidence signal that carries no CX evidence
        but tells fusion (and whoever reads the evidence) why this turn says nothing."""
        lang = _language(reading)
        return Signal(
            modality="text",
            name="emotion",
            value=0.0,
            confidence=UNREAD_CONFIDENCE,
            evidence=f"{reading.uncertain_reason}" + (f" ({lang['text']})" if lang else ""),
            at=at,
            cx={},
            source=f"text/langid@{self.version}",
            details={
                "uncertain": True,
                "uncertain_reason": reading.uncertain_reason,
                **lang.get("details", {}),
            },
        )

    def _escalation(self, heat: float, at: float, scratch: SessionScratch) -> Signal | None:
        state = scratch.setdefault("text", {"heat": [], "turns": 0})
        state["turns"] += 1
        window = [*state["heat"], heat][-WINDOW:]
        state["heat"] = window
        if not escalates(window):
            return None
        rise = window[-1] - window[0]
        arc = " → ".join(f"{h:.2f}" for h in window)
        return Signal(
            modality="text",
            name="escalation",
            value=window[-1],
            confidence=min(1.0, 0.5 + rise),
            evidence=f"the customer's last {WINDOW} messages grew more negative ({arc})",
            at=at,
            cx={"frustrated": 0.8, "disappointed": 0.2},
            source=f"text/escalation@{self.version}",
            details={"heat": [round(h, 4) for h in window], "turn": state["turns"]},
        )

"""Plain customer requests must read calm: the shipped emotion model is trained on Reddit
comments, and a candidate encoder fine-tuned with intent data once read a third of such
requests as hot while scoring well on GoEmotions dev (see the text-encoder model card)."""

from __future__ import annotations

from attune.signals.text.models import load_models
from attune.signals.text.reading import HOT, read_texts

REQUESTS = [
    "Can I pay with PayPal?",
    "How do I change my delivery address?",
    "How do I reset my password?",
    "I need to update my billing information",
    "what are your opening hours",
    "Can I get an invoice for my last purchase?",
    "how can I add a second card to my account",
    "I want to switch to the annual plan",
]


def test_plain_requests_read_calm_with_few_emotions() -> None:
    readings = read_texts(load_models(), REQUESTS)
    for text, r in zip(REQUESTS, readings, strict=True):
        assert r.heat < HOT / 1.5, (text, r.heat)  # well under the escalation cut
        assert r.sentiment_label != "negative", (text, r.sentiment)
        assert len(r.decided) <= 3, (text, r.decided)


def test_an_angry_request_still_reads_hot() -> None:
    r = read_texts(load_models(), ["Can I pay with PayPal? Your checkout is a joke, I'm furious"])
    assert r[0].heat >= HOT

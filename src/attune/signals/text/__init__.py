"""Text: chat messages and transcript turns read for emotion, sentiment and intent."""

from attune.signals.spec import ModalitySpec
from attune.signals.taxonomy import GOEMOTIONS_TO_CX, INTENT_TO_CX, SENTIMENT_TO_CX

SPEC = ModalitySpec(
    name="text",
    event_kinds=("message",),
    analyzer="attune.signals.text.analyzer:TextAnalyzer",
    extra="text",
    legal_basis="consent",
    reliability=0.9,
    half_life_s=180.0,
    label_tables={
        "goemotions": GOEMOTIONS_TO_CX,
        "intent": INTENT_TO_CX,
        "sentiment": SENTIMENT_TO_CX,
    },
    raw_kinds=("message",),
    retention="text_s",
    unconsented="attune.signals.text.requests:request_without_consent",
)

"""The customer-experience taxonomy and every mapping from analyzer labels onto it.

This is the one place where model labels (GoEmotions' 28, the speech corpora's emotions,
FER's 7, behaviour detector names, intents) meet the six CX states. Each table maps a label to
weights over CX states; ``to_cx`` turns label probabilities into a CX distribution.
"""

from __future__ import annotations

from collections.abc import Mapping

CX_STATES: tuple[str, ...] = (
    "frustrated",
    "confused",
    "anxious",
    "disappointed",
    "satisfied",
    "neutral",
)
NEGATIVE_STATES: frozenset[str] = frozenset({"frustrated", "confused", "anxious", "disappointed"})

Table = Mapping[str, Mapping[str, float]]

# GoEmotions (Demszky et al. 2020), 27 emotions + neutral.
GOEMOTIONS_TO_CX: Table = {
    "admiration": {"satisfied": 1.0},
    "amusement": {"satisfied": 0.8, "neutral": 0.2},
    "anger": {"frustrated": 1.0},
    "annoyance": {"frustrated": 0.9, "disappointed": 0.1},
    "approval": {"satisfied": 0.8, "neutral": 0.2},
    "caring": {"satisfied": 0.6, "neutral": 0.4},
    "confusion": {"confused": 1.0},
    "curiosity": {"confused": 0.3, "neutral": 0.7},
    "desire": {"neutral": 0.7, "satisfied": 0.3},
    "disappointment": {"disappointed": 1.0},
    "disapproval": {"frustrated": 0.5, "disappointed": 0.5},
    "disgust": {"frustrated": 0.7, "disappointed": 0.3},
    "embarrassment": {"anxious": 0.6, "disappointed": 0.4},
    "excitement": {"satisfied": 1.0},
    "fear": {"anxious": 1.0},
    "gratitude": {"satisfied": 1.0},
    "grief": {"disappointed": 1.0},
    "joy": {"satisfied": 1.0},
    "love": {"satisfied": 1.0},
    "nervousness": {"anxious": 1.0},
    "optimism": {"satisfied": 0.8, "neutral": 0.2},
    "pride": {"satisfied": 1.0},
    "realization": {"neutral": 0.7, "confused": 0.3},
    "relief": {"satisfied": 1.0},
    "remorse": {"disappointed": 0.6, "anxious": 0.4},
    "sadness": {"disappointed": 1.0},
    "surprise": {"neutral": 0.5, "confused": 0.5},
    "neutral": {"neutral": 1.0},
}
GOEMOTIONS_LABELS: tuple[str, ...] = tuple(GOEMOTIONS_TO_CX)
# The CX state each label points at most (ties: table order): what cx_macro_f1 scores.
GOEMOTIONS_TO_PRIMARY_CX: Mapping[str, str] = {
    lab: max(weights, key=lambda s: weights[s]) for lab, weights in GOEMOTIONS_TO_CX.items()
}

# GoEmotions' own Ekman grouping (the paper's ekman_mapping.json, neutral kept apart).
GOEMOTIONS_TO_EKMAN: Mapping[str, str] = {
    **dict.fromkeys(("anger", "annoyance", "disapproval"), "anger"),
    "disgust": "disgust",
    **dict.fromkeys(("fear", "nervousness"), "fear"),
    **dict.fromkeys(
        (
            "joy",
            "amusement",
            "approval",
            "excitement",
            "gratitude",
            "love",
            "optimism",
            "relief",
            "pride",
            "admiration",
            "desire",
            "caring",
        ),
        "joy",
    ),
    **dict.fromkeys(("sadness", "disappointment", "embarrassment", "grief", "remorse"), "sadness"),
    **dict.fromkeys(("surprise", "realization", "confusion", "curiosity"), "surprise"),
    "neutral": "neutral",
}
# The groupings the emotion model is scored on (besides the 28 labels), by metric prefix.
GROUPINGS: Mapping[str, Mapping[str, str]] = {
    "ekman": GOEMOTIONS_TO_EKMAN,
    "cx": GOEMOTIONS_TO_PRIMARY_CX,
}

# Speech-emotion corpora (RAVDESS, EmoDB, CREMA-D style labels).
VOICE_TO_CX: Table = {
    "anger": {"frustrated": 1.0},
    "disgust": {"frustrated": 0.6, "disappointed": 0.4},
    "fear": {"anxious": 1.0},
    "happy": {"satisfied": 1.0},
    "neutral": {"neutral": 1.0},
    "calm": {"neutral": 0.7, "satisfied": 0.3},
    "sad": {"disappointed": 1.0},
    "surprise": {"confused": 0.5, "neutral": 0.5},
    "boredom": {"neutral": 0.6, "disappointed": 0.4},
}

# FER-2013 facial expressions (expression is not emotion; see the face model card).
FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_TO_CX: Table = {
    "angry": {"frustrated": 1.0},
    "disgust": {"frustrated": 0.6, "disappointed": 0.4},
    "fear": {"anxious": 1.0},
    "happy": {"satisfied": 1.0},
    "sad": {"disappointed": 1.0},
    "surprise": {"confused": 0.6, "neutral": 0.4},
    "neutral": {"neutral": 1.0},
}

# Behaviour detectors (attune.signals.behaviour.analyzer); each points at the states it
# usually reveals.
BEHAVIOUR_TO_CX: Table = {
    "rage_click": {"frustrated": 0.85, "confused": 0.15},
    "dead_click": {"confused": 0.6, "frustrated": 0.4},
    "error_click": {"frustrated": 0.6, "confused": 0.4},
    "quick_back": {"confused": 0.7, "disappointed": 0.3},
    "excessive_scroll": {"confused": 0.8, "anxious": 0.2},
    "repeated_reading": {"confused": 0.6, "anxious": 0.4},
    "long_dwell": {"confused": 0.5, "anxious": 0.5},
    "form_thrash": {"frustrated": 0.5, "confused": 0.5},
    "help_seeking": {"confused": 0.6, "anxious": 0.4},
    "cancel_page": {"disappointed": 0.7, "frustrated": 0.3},
    "price_hesitation": {"anxious": 0.85, "confused": 0.15},
    "abandonment_risk": {"disappointed": 0.5, "anxious": 0.3, "confused": 0.2},
    "smooth_progress": {"satisfied": 0.7, "neutral": 0.3},
}

# Customer intents (text analyzer); sentiment too.
INTENT_TO_CX: Table = {
    "cancel": {"disappointed": 0.6, "frustrated": 0.4},
    "complain": {"frustrated": 0.8, "disappointed": 0.2},
    "refund": {"disappointed": 0.7, "frustrated": 0.3},
    "human": {"frustrated": 0.5, "confused": 0.5},
    "help": {"confused": 0.8, "anxious": 0.2},
    "thanks": {"satisfied": 1.0},
    "problem": {"frustrated": 0.5, "anxious": 0.3, "confused": 0.2},  # something went wrong
    "security": {"anxious": 1.0},  # lost/stolen/compromised card or phone
    "account": {"neutral": 1.0},  # routine requests: weight 0 in effect (neutral only)
    "order": {"neutral": 1.0},
    "information": {"neutral": 0.8, "confused": 0.2},
}

# Intent-pack labels (Bitext customer support, Banking77) -> the generic intents above, which
# the engine's playbooks match on (``match.intents``). A company pack's labels that are not
# listed here pass through unchanged (name your labels "cancel", "refund"... to reuse them).
_BITEXT_TO_GENERIC: Mapping[str, str] = {
    "cancel_order": "cancel",
    "delete_account": "cancel",
    "check_cancellation_fee": "cancel",
    "complaint": "complain",
    "review": "complain",
    "get_refund": "refund",
    "track_refund": "refund",
    "check_refund_policy": "refund",
    "contact_human_agent": "human",
    "contact_customer_service": "human",
    "payment_issue": "problem",
    "registration_problems": "problem",
    "recover_password": "help",
    "change_order": "order",
    "place_order": "order",
    "track_order": "order",
    "delivery_options": "information",
    "delivery_period": "information",
    "check_payment_methods": "information",
    "check_invoice": "information",
    "get_invoice": "information",
    "change_shipping_address": "account",
    "set_up_shipping_address": "account",
    "create_account": "account",
    "edit_account": "account",
    "switch_account": "account",
    "newsletter_subscription": "account",
}
_BANKING77_TO_GENERIC: Mapping[str, str] = {
    "terminate_account": "cancel",
    "cancel_transfer": "cancel",
    "request_refund": "refund",
    "Refund_not_showing_up": "refund",
    **dict.fromkeys(
        (
            "lost_or_stolen_card",
            "lost_or_stolen_phone",
            "compromised_card",
            "card_payment_not_recognised",
            "cash_withdrawal_not_recognised",
            "direct_debit_payment_not_recognised",
        ),
        "security",
    ),
    **dict.fromkeys(
        (
            "card_not_working",
            "contactless_not_working",
            "virtual_card_not_working",
            "declined_card_payment",
            "declined_transfer",
            "declined_cash_withdrawal",
            "failed_transfer",
            "top_up_failed",
            "top_up_reverted",
            "reverted_card_payment?",
            "transaction_charged_twice",
            "wrong_amount_of_cash_received",
            "card_swallowed",
            "pin_blocked",
            "unable_to_verify_identity",
            "transfer_not_received_by_recipient",
            "extra_charge_on_statement",
            "card_payment_wrong_exchange_rate",
            "wrong_exchange_rate_for_cash_withdrawal",
            "balance_not_updated_after_bank_transfer",
            "balance_not_updated_after_cheque_or_cash_deposit",
            "beneficiary_not_allowed",
            "card_arrival",
        ),
        "problem",
    ),
    "passcode_forgotten": "help",
}
PACK_INTENT_TO_GENERIC: Mapping[str, Mapping[str, str]] = {
    "customer_service": _BITEXT_TO_GENERIC,
    "banking": _BANKING77_TO_GENERIC,  # the other 50 Banking77 intents -> "information"
}
PACK_DEFAULT_GENERIC: Mapping[str, str] = {"banking": "information"}


def generic_intent(pack: str, label: str) -> str:
    """A pack's intent label -> the generic intent (unlisted labels pass through)."""
    table = PACK_INTENT_TO_GENERIC.get(pack, {})
    return table.get(label, PACK_DEFAULT_GENERIC.get(pack, label))


# GoEmotions' own sentiment grouping (the paper's sentiment_mapping.json); "ambiguous" labels
# (confusion, curiosity, realization, surprise) count towards neutral here.
GOEMOTIONS_TO_SENTIMENT: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "admiration",
            "amusement",
            "approval",
            "caring",
            "desire",
            "excitement",
            "gratitude",
            "joy",
            "love",
            "optimism",
            "pride",
            "relief",
        ),
        "positive",
    ),
    **dict.fromkeys(
        (
            "anger",
            "annoyance",
            "disappointment",
            "disapproval",
            "disgust",
            "embarrassment",
            "fear",
            "grief",
            "nervousness",
            "remorse",
            "sadness",
        ),
        "negative",
    ),
    **dict.fromkeys(("confusion", "curiosity", "realization", "surprise", "neutral"), "neutral"),
}
SENTIMENT_TO_CX: Table = {
    "negative": {"frustrated": 0.4, "disappointed": 0.4, "anxious": 0.2},
    "neutral": {"neutral": 1.0},
    "positive": {"satisfied": 1.0},
}


def to_cx(probs: Mapping[str, float], table: Table) -> dict[str, float]:
    """Label probabilities -> a distribution over CX states (sums to 1 when any label maps)."""
    out = dict.fromkeys(CX_STATES, 0.0)
    for label, p in probs.items():
        for state, weight in table.get(label, {}).items():
            out[state] += p * weight
    total = sum(out.values())
    if total > 0:
        for state in out:
            out[state] /= total
    return out


def validate_table(name: str, table: Table) -> None:
    """A label table names only known CX states, with weights in [0, 1] (checked for every
    modality's tables when it is registered)."""
    for label, weights in table.items():
        for state, weight in weights.items():
            if state not in CX_STATES or not 0.0 <= weight <= 1.0:
                raise ValueError(f"{name}[{label!r}] has a bad entry {state!r}: {weight}")

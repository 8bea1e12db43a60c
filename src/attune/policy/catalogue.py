"""The typed catalogue of what a playbook may do: every action and every mode declares its
effect class, and the red lines (``redlines.py``) run on those classes, never on the names.

A playbook naming an action that is not listed here is refused at load. To add an action, add
one entry to ``ACTIONS`` with the class of what it does to the customer (docs/playbooks.md).
Actions that must never be conditioned on emotion (price, eligibility) or hide the disclosure
are listed too, so a playbook using one is refused with the red line it breaks rather than as
"unknown".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum


class Effect(StrEnum):
    """What an action does to the customer. The red lines read these, not action names."""

    PRICE = "price"  # what the customer pays: prices, tiers, fees, discounts
    ELIGIBILITY = "eligibility"  # what they qualify for: credit, limits, approvals, terms
    OFFER = "offer"  # something to buy or keep buying: upsell, cross-sell, add-ons, retention
    CONTACT = "contact"  # reaching the customer outside this journey: email, SMS, callback
    JOURNEY = "journey"  # layout, pace, steps and help in this journey (fewer offers included)
    ESCALATION = "escalation"  # a person takes over or joins
    CONTENT = "content"  # wording and tone of texts shown
    DISCLOSURE = "disclosure"  # hides or skips the AI disclosure or a consent question


CUSTOMER_CHANNELS = frozenset({"web", "app", "chat", "email", "voice", "sms", "messaging"})
# Channels where the person analysed would be an employee or agent: refused by R3.
STAFF_CHANNELS = frozenset(
    {"agent_desktop", "call_center", "contact_center", "internal", "intranet", "backoffice"}
)


@dataclass(frozen=True)
class Action:
    name: str
    effect: Effect
    description: str


def _catalogue(*entries: tuple[str, Effect, str]) -> dict[str, Action]:
    return {name: Action(name, effect, text) for name, effect, text in entries}


E = Effect
ACTIONS: dict[str, Action] = _catalogue(
    # journey: what the page or bot does in this journey
    ("show_step_hints", E.JOURNEY, "hints next to each step of a form"),
    ("collapse_optional_fields", E.JOURNEY, "optional form fields folded away"),
    ("open_chat_help", E.JOURNEY, "opens the help chat beside the page"),
    ("show_order_summary", E.JOURNEY, "a one-glance summary of the order"),
    ("show_summary", E.JOURNEY, "a one-glance summary of the page"),
    ("show_return_policy", E.JOURNEY, "the return policy shown near the button"),
    ("show_secure_payment_badge", E.JOURNEY, "the secure-payment notice shown"),
    ("prefill_known_fields", E.JOURNEY, "fields the customer already gave are filled in"),
    ("show_help_article_steps", E.JOURNEY, "a help article as numbered steps"),
    ("keep_cancel_button_visible", E.JOURNEY, "the cancel button stays in plain sight"),
    ("hide_cross_sell", E.JOURNEY, "removes cross-sell blocks (fewer offers, never more)"),
    ("hide_upsell", E.JOURNEY, "removes upsell blocks (fewer offers, never more)"),
    ("slow_down_animations", E.JOURNEY, "calmer page: no carousels or moving banners"),
    # content: wording only
    ("use_plain_language", E.CONTENT, "shorter sentences, no jargon"),
    ("show_apology", E.CONTENT, "an apology text above the content"),
    # escalation: a person
    ("handoff_to_agent", E.ESCALATION, "a person takes the conversation, with its history"),
    ("offer_callback", E.ESCALATION, "the customer may ask a person to call back"),
    ("show_phone_number", E.ESCALATION, "the hotline number shown"),
    # contact: outside this journey
    ("send_follow_up_email", E.CONTACT, "an email after the session"),
    ("send_sms_reminder", E.CONTACT, "a text message later"),
    # offer: anything to buy, upgrade or keep paying for (incl. retention offers)
    ("show_pause_option", E.OFFER, "pause the subscription instead of cancelling"),
    ("show_retention_offer", E.OFFER, "an offer to stay"),
    ("show_offers", E.OFFER, "the offers block"),
    ("show_upsell_banner", E.OFFER, "an upsell banner"),
    ("recommend_addons", E.OFFER, "add-on recommendations"),
    ("show_cross_sell", E.OFFER, "cross-sell recommendations"),
    ("suggest_upgrade", E.OFFER, "a plan upgrade suggestion"),
    ("show_bundle", E.OFFER, "a bundle offer"),
    ("show_coupon", E.OFFER, "a coupon or voucher"),
    # price and eligibility: never conditioned on emotion (R1)
    ("raise_cost_tier", E.PRICE, "moves the customer to a dearer price tier"),
    ("lower_cost_tier", E.PRICE, "moves the customer to a cheaper price tier"),
    ("apply_discount", E.PRICE, "a discount on the price"),
    ("add_surcharge", E.PRICE, "a surcharge on the price"),
    ("waive_fee", E.PRICE, "a fee is dropped"),
    ("raise_credit_limit", E.ELIGIBILITY, "a higher credit limit"),
    ("lower_credit_limit", E.ELIGIBILITY, "a lower credit limit"),
    ("change_eligibility", E.ELIGIBILITY, "what the customer qualifies for"),
    ("require_extra_checks", E.ELIGIBILITY, "extra checks before approval"),
    # disclosure: never (R5)
    ("skip_disclosure", E.DISCLOSURE, "the AI disclosure is not shown"),
    ("hide_ai_notice", E.DISCLOSURE, "the AI notice is hidden"),
    ("skip_consent", E.DISCLOSURE, "the consent question is not asked"),
)

# Modes are typed in schema.Mode; each has an effect class too.
MODES: dict[str, Effect] = {
    "standard": E.JOURNEY,
    "simplified": E.JOURNEY,
    "slow": E.JOURNEY,
    "trust": E.JOURNEY,
    "fast_track": E.JOURNEY,
    "no_sell": E.JOURNEY,
    "guided": E.JOURNEY,
    "cooling_off": E.JOURNEY,
    "relief_offer": E.OFFER,
    "escalate_to_human": E.ESCALATION,
}


def unknown_action_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(ACTIONS), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return (
        f"unknown action {name!r}: every action must be in the catalogue "
        f"(attune.policy.catalogue.ACTIONS, one entry with its effect class){hint}"
    )

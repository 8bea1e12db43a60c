"""Red lines, checked when a playbook is loaded. A playbook that crosses one is refused with
the rule it broke and where.

R1 no price, credit or eligibility conditioned on an emotional state.
R2 no offers, upsell or relief offers while a customer is frustrated or anxious.
R3 no emotion analysis aimed at employees or agents.
R4 vulnerable contexts need a human in the loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attune.policy.schema import Playbook

UPSET = frozenset({"frustrated", "anxious"})
_MONEY = re.compile(
    r"(price|pricing|discount|surcharge|credit|loan|eligib|interest|premium|fee)", re.I
)
_SELLING = re.compile(
    r"(upsell|up_sell|cross_?sell|promo|coupon|voucher|upgrade|bundle|special_offer|show_offers?$)",
    re.I,
)
_SUPPRESSING = ("hide_", "no_", "suppress_", "pause_")


@dataclass(frozen=True)
class Violation:
    rule: str
    path: tuple[str | int, ...]
    message: str


def check(pb: Playbook) -> list[Violation]:
    found: list[Violation] = []
    if pb.audience != "customers":
        found.append(
            Violation(
                "R3 no use on employees",
                ("audience",),
                f"audience {pb.audience!r}: emotion recognition of employees or agents "
                "is not allowed",
            )
        )
    for name, moment in pb.moments.items():
        if moment.vulnerable and not moment.human_in_loop:
            found.append(
                Violation(
                    "R4 vulnerable contexts need a human",
                    ("moments", name, "human_in_loop"),
                    f"moment {name!r} is vulnerable but has no human in the loop",
                )
            )
        for i, watch in enumerate(moment.watch):
            a, base = watch.adapt, ("moments", name, "watch", i, "adapt")
            for fld in ("price_change", "credit_change", "eligibility_change"):
                if getattr(a, fld):
                    found.append(
                        Violation(
                            "R1 no price, credit or eligibility conditioned on emotion",
                            (*base, fld),
                            f"{fld} set for state {watch.state!r} in moment {name!r}",
                        )
                    )
            for j, action in enumerate(a.actions):
                if _MONEY.search(action):
                    found.append(
                        Violation(
                            "R1 no price, credit or eligibility conditioned on emotion",
                            (*base, "actions", j),
                            f"action {action!r} for state {watch.state!r} touches price or credit",
                        )
                    )
            if watch.state in UPSET:
                selling = [
                    x for x in a.actions if _SELLING.search(x) and not x.startswith(_SUPPRESSING)
                ]
                if a.offers or a.mode == "relief_offer" or selling:
                    what = (
                        "offers: true"
                        if a.offers
                        else (
                            "mode relief_offer"
                            if a.mode == "relief_offer"
                            else f"action {selling[0]!r}"
                        )
                    )
                    found.append(
                        Violation(
                            "R2 no offers while frustrated or anxious",
                            (*base,),
                            f"{what} while the customer is {watch.state} in moment {name!r}",
                        )
                    )
    return found + trust_rules(pb)


# --- Trust-area additions (issue 4), kept apart from the core rules above --------------------
# R3 also catches staff areas a customer playbook points at; R4 also catches vulnerable contexts
# that are not marked as such; R5 refuses anything that would analyse without the disclosure.
_NO_DISCLOSURE = re.compile(
    r"(skip|hide|no|suppress|without|bypass|disable)_?(ai_?)?(disclosure|notice|consent)", re.I
)
_STAFF = re.compile(
    r"(^|/)(intranet|hr|staff|employees?|agents?|agent-desktop|workforce|backoffice)(/|$|\*)",
    re.I,
)
_STAFF_CHANNELS = frozenset({"agent_desktop", "internal", "intranet", "backoffice"})
_VULNERABLE = re.compile(
    r"(bereave|death|deceased|debt|arrears|hardship|insolven|collections?|illness|medical"
    r"|suicid|gambling|todesfall|trauerfall|schulden|mahnung|inkasso|krankheit)",
    re.I,
)


def trust_rules(pb: Playbook) -> list[Violation]:
    found: list[Violation] = []
    for name, moment in pb.moments.items():
        staff = [p for p in moment.match.paths if _STAFF.search(p)]
        staff += [c for c in moment.match.channels if c.lower() in _STAFF_CHANNELS]
        if staff:
            found.append(
                Violation(
                    "R3 no use on employees",
                    ("moments", name, "match"),
                    f"moment {name!r} matches {staff[0]!r}, an area of employees or agents",
                )
            )
        words = " ".join([name, moment.description, *moment.match.paths, *moment.match.intents])
        hit = _VULNERABLE.search(words)
        if not moment.vulnerable and hit:
            found.append(
                Violation(
                    "R4 vulnerable contexts need a human",
                    ("moments", name, "vulnerable"),
                    f"moment {name!r} looks like a vulnerable context "
                    f"({hit.group(0)!r}) but is not marked vulnerable",
                )
            )
        for i, watch in enumerate(moment.watch):
            for j, action in enumerate(watch.adapt.actions):
                if _NO_DISCLOSURE.search(action):
                    found.append(
                        Violation(
                            "R5 no processing without disclosure",
                            ("moments", name, "watch", i, "adapt", "actions", j),
                            f"action {action!r} would hide the AI disclosure or consent",
                        )
                    )
    return found

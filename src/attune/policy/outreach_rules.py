"""Red lines for proactive outreach, checked when a playbook is loaded (beside
``attune.policy.redlines``, whose catalogue they extend): the customers outreach targets are
flagged because they are upset or leaving, so no offers to them, and no contact while a
distressed state is fresh."""

from __future__ import annotations

from attune.policy.redlines import Violation
from attune.policy.schema import Playbook

MIN_COOLING_OFF_H = 12.0
_SELLING = ("offer", "upsell", "upgrade", "discount", "coupon", "voucher", "promo", "deal")


def check_outreach(pb: Playbook) -> list[Violation]:
    found: list[Violation] = []
    for i, o in enumerate(pb.outreach):
        base = ("outreach", i)
        selling = [w for w in _SELLING if w in o.template.lower()]
        if o.offers or selling:
            what = "offers: true" if o.offers else f"template {o.template!r}"
            found.append(
                Violation(
                    "R2 no offers while frustrated or anxious",
                    base,
                    f"outreach {o.name!r} ({o.trigger}) reaches upset or leaving customers "
                    f"with {what}",
                )
            )
        if o.cooling_off_h < MIN_COOLING_OFF_H:
            found.append(
                Violation(
                    "no outreach that exploits distress",
                    (*base, "cooling_off_h"),
                    f"outreach {o.name!r} may contact within {o.cooling_off_h} h of a "
                    f"distressed state; at least {MIN_COOLING_OFF_H:g} h are required",
                )
            )
    return found

"""Red lines, checked when a playbook is loaded. A playbook that crosses one is refused with
the rule it broke and where.

The rules run on declared meaning, not on names: every action and mode has an effect class in
the catalogue (``catalogue.py``; an unknown action never gets this far), and every moment
declares its audience and channels.

R1 no price, credit or eligibility conditioned on an emotional state.
R2 no offers, upsell or relief offers while a customer is frustrated, anxious or confused.
R3 no emotion analysis aimed at employees or agents (audience, channel or staff area).
R4 vulnerable contexts need a human in the loop.
R5 no processing without the AI disclosure and consent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from attune.policy.catalogue import ACTIONS, MODES, STAFF_CHANNELS, Effect
from attune.policy.schema import Adaptation, Moment, Playbook

# States in which nothing may be sold (R2); the rules at run time switch offers off in them too.
NO_OFFER_STATES = frozenset({"frustrated", "anxious", "confused"})
UPSET = NO_OFFER_STATES  # the name rules.py and older callers use

R1 = "R1 no price, credit or eligibility conditioned on emotion"
R2 = "R2 no offers while frustrated, anxious or confused"
R3 = "R3 no use on employees"
R4 = "R4 vulnerable contexts need a human"
R5 = "R5 no processing without disclosure"


@dataclass(frozen=True)
class Violation:
    rule: str
    path: tuple[str | int, ...]
    message: str


def effects(a: Adaptation) -> Iterator[tuple[Effect, tuple[str | int, ...], str]]:
    """Every effect an adaptation declares: (class, field path below ``adapt``, what)."""
    yield MODES[a.mode], ("mode",), f"mode {a.mode}"
    if a.offers:
        yield Effect.OFFER, ("offers",), "offers: true"
    if a.escalate:
        yield Effect.ESCALATION, ("escalate",), "escalate: true"
    for fld, effect in (
        ("price_change", Effect.PRICE),
        ("credit_change", Effect.ELIGIBILITY),
        ("eligibility_change", Effect.ELIGIBILITY),
    ):
        if getattr(a, fld):
            yield effect, (fld,), fld
    for j, name in enumerate(a.actions):
        yield (
            ACTIONS[name].effect,
            ("actions", j),
            f"action {name!r} ({ACTIONS[name].effect.value})",
        )


def check(pb: Playbook) -> list[Violation]:
    found: list[Violation] = []
    if pb.audience != "customers":
        found.append(
            Violation(
                R3,
                ("audience",),
                f"audience {pb.audience!r}: only customers may be analysed, never employees "
                "or agents",
            )
        )
    for name, moment in pb.moments.items():
        found += _audience(name, moment.audience, moment.match.channels, moment.match.paths)
        found += _vulnerable(name, moment)
        for i, watch in enumerate(moment.watch):
            base: tuple[str | int, ...] = ("moments", name, "watch", i, "adapt")
            for effect, where, what in effects(watch.adapt):
                if effect in (Effect.PRICE, Effect.ELIGIBILITY):
                    changes = "pays" if effect is Effect.PRICE else "qualifies for"
                    found.append(
                        Violation(
                            R1,
                            (*base, *where),
                            f"{what} for state {watch.state!r} in moment {name!r} changes "
                            f"what the customer {changes}",
                        )
                    )
                elif effect is Effect.OFFER and watch.state in NO_OFFER_STATES:
                    found.append(
                        Violation(
                            R2,
                            (*base, *where),
                            f"{what} sells while the customer is {watch.state} in moment {name!r}",
                        )
                    )
                elif effect is Effect.DISCLOSURE:
                    found.append(
                        Violation(
                            R5,
                            (*base, *where),
                            f"{what} would hide the AI disclosure or consent",
                        )
                    )
    return found


# -- R3: who is analysed -----------------------------------------------------------------
# Page paths are the one free-text declaration left: a path segment naming a staff area (read
# per word, separators and case ignored, so "/Call-Center/*" and "/callcenter*" both count).
_STAFF_WORDS = frozenset(
    {
        "hr",
        "crm",
        "staff",
        "agent",
        "agents",
        "employee",
        "employees",
        "internal",
        "supervisor",
        "workforce",
        "intranet",
        "backoffice",
        "mitarbeiter",
        "personalabteilung",
    }
)
_STAFF_PREFIXES = (
    "callcent",
    "contactcent",
    "agentdesk",
    "agentconsole",
    "agentview",
    "agentworkspace",
    "backoffice",
    "intranet",
    "employee",
    "workforce",
    "mitarbeiter",
)


def staff_area(path: str) -> str | None:
    """The segment of ``path`` that names an area of employees or agents, if any."""
    for segment in path.lower().split("/"):
        words = [w for w in re.split(r"[^a-z0-9äöüß]+", segment) if w]
        joined = "".join(words)
        if joined.startswith(_STAFF_PREFIXES) or any(w in _STAFF_WORDS for w in words):
            return segment
    return None


def _audience(
    name: str, audience: str | None, channels: list[str], paths: list[str]
) -> list[Violation]:
    if audience is not None and audience != "customers":
        return [
            Violation(
                R3,
                ("moments", name, "audience"),
                f"moment {name!r} declares audience {audience!r}: only customers may be "
                "analysed, never employees or agents",
            )
        ]
    staff = [c for c in channels if c in STAFF_CHANNELS]
    staff += [p for p in paths if staff_area(p)]
    if staff:
        return [
            Violation(
                R3,
                ("moments", name, "match"),
                f"moment {name!r} matches {staff[0]!r}, an area of employees or agents",
            )
        ]
    return []


# -- R4: vulnerable contexts -----------------------------------------------------------------
# A declared flag; the words below catch a vulnerable context that was not declared.
_VULNERABLE = re.compile(
    r"(bereave|death|deceased|debt|arrears|hardship|insolven|collections?|illness|medical"
    r"|suicid|gambling|todesfall|trauerfall|schulden|mahnung|inkasso|krankheit)",
    re.I,
)


def _vulnerable(name: str, moment: Moment) -> list[Violation]:
    if moment.vulnerable and not moment.human_in_loop:
        return [
            Violation(
                R4,
                ("moments", name, "human_in_loop"),
                f"moment {name!r} is vulnerable but has no human in the loop",
            )
        ]
    words = " ".join([name, moment.description, *moment.match.paths, *moment.match.intents])
    hit = _VULNERABLE.search(words)
    if not moment.vulnerable and hit:
        return [
            Violation(
                R4,
                ("moments", name, "vulnerable"),
                f"moment {name!r} looks like a vulnerable context "
                f"({hit.group(0)!r}) but is not marked vulnerable",
            )
        ]
    return []

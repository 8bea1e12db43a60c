"""The playbook schema: per moment, at most three watched states, thresholds with hysteresis,
dwell, cooldown, a cap on interventions, and the adaptation for each state. Actions and
channels are typed: each must be in the catalogue (``catalogue.py``), which gives its effect."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attune.policy.catalogue import (
    ACTIONS,
    CUSTOMER_CHANNELS,
    STAFF_CHANNELS,
    unknown_action_message,
)
from attune.signals.taxonomy import CX_STATES

Mode = Literal[
    "standard",
    "simplified",
    "slow",
    "trust",
    "fast_track",
    "no_sell",
    "guided",
    "cooling_off",
    "relief_offer",
    "escalate_to_human",
]
Tone = Literal["calming", "motivating", "factual"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Adaptation(_Strict):
    mode: Mode
    tone: Tone = "factual"
    content: list[str] = Field(default_factory=list, description="content variant keys")
    actions: list[str] = Field(default_factory=list)
    offers: bool = False
    escalate: bool = False
    # Anything that would change what the customer pays or qualifies for. Always refused
    # when conditioned on emotion (red line); present so a violation is caught, not ignored.
    price_change: str | None = None
    credit_change: str | None = None
    eligibility_change: str | None = None

    @field_validator("actions")
    @classmethod
    def _catalogued(cls, v: list[str]) -> list[str]:
        unknown = [a for a in v if a not in ACTIONS]
        if unknown:
            raise ValueError(unknown_action_message(unknown[0]))
        return v


class Watch(_Strict):
    state: str
    enter: float = Field(ge=0.0, le=1.0)
    exit: float = Field(ge=0.0, le=1.0)
    adapt: Adaptation

    @field_validator("state")
    @classmethod
    def _known_state(cls, v: str) -> str:
        if v not in CX_STATES or v == "neutral":
            raise ValueError(f"unknown watched state {v!r}; use one of {CX_STATES[:-1]}")
        return v

    @model_validator(mode="after")
    def _hysteresis(self) -> Watch:
        if self.exit >= self.enter:
            raise ValueError(f"exit ({self.exit}) must be below enter ({self.enter})")
        return self


class Match(_Strict):
    paths: list[str] = Field(default_factory=list, description="glob patterns on page paths")
    channels: list[str] = Field(default_factory=list, description="declared channels")
    intents: list[str] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, v: list[str]) -> list[str]:
        # Staff channels pass here so that R3 refuses them by name; anything else is a typo.
        unknown = [c for c in v if c not in CUSTOMER_CHANNELS | STAFF_CHANNELS]
        if unknown:
            raise ValueError(
                f"unknown channel {unknown[0]!r}; customer channels are "
                f"{', '.join(sorted(CUSTOMER_CHANNELS))}"
            )
        return v


class Moment(_Strict):
    description: str = ""
    label: str | None = None  # how explanations name it: "the {label} switched to ..."
    # Who is analysed in this moment; None: the playbook's audience. Only customers (R3).
    audience: str | None = None
    match: Match = Field(default_factory=Match)
    vulnerable: bool = False
    human_in_loop: bool = False
    watch: list[Watch] = Field(default_factory=list, max_length=3)
    min_dwell_s: float = Field(10.0, ge=0)
    cooldown_s: float = Field(30.0, ge=0)
    max_interventions: int = Field(3, ge=0)
    standard_offers: bool = True  # whether offers are shown in the standard journey

    @model_validator(mode="after")
    def _unique_states(self) -> Moment:
        states = [w.state for w in self.watch]
        if len(states) != len(set(states)):
            raise ValueError("a state is watched twice in one moment")
        return self


class Queue(_Strict):
    """A handoff queue and which handoffs it takes (all given conditions must hold)."""

    name: str = Field(min_length=1, max_length=64)
    languages: list[str] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)
    moments: list[str] = Field(default_factory=list)
    vulnerable: bool | None = None  # True: only vulnerable moments


class Handoff(_Strict):
    """Where a person can take over, and which queue a handoff goes to (first match wins)."""

    channels: list[str] = Field(default_factory=list, description="channels with a human")
    # An escalation is sticky, so a model's reading of "human" must be surer than an intent
    # that only picks the moment ("I talked to my friend about it" reads human at 0.50).
    request_confidence: float = Field(0.6, ge=0.0, le=1.0)
    content: str | None = None  # content key the customer sees when a person is coming
    queues: list[Queue] = Field(default_factory=list)
    default_queue: str = "support"


ContactChannel = Literal["email", "sms", "push", "phone"]


class Outreach(_Strict):
    """A proactive contact for customers the churn early warning or an abandoned journey
    flags: channel (consented ones only, in this order of preference), timing (their active
    hours, quiet hours, a cooling-off after a distressed state), tone and template, a cap per
    customer, and a holdout group that gets none (measured as an experiment)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    trigger: Literal["churn_risk", "abandoned"]
    min_risk: float = Field(0.5, ge=0.0, le=1.0)  # churn_risk only
    channels: list[ContactChannel] = Field(min_length=1)
    template: str  # content key, per tone and locale like the journey's content
    tone: Tone = "calming"
    offers: bool = False  # refused by the red lines: the flagged are upset or leaving
    cooling_off_h: float = Field(24.0, ge=0.0)
    quiet_hours: tuple[int, int] = (21, 8)  # local hours [start, end) without contact
    max_per_30d: int = Field(1, ge=0)
    holdout: float = Field(0.1, ge=0.0, le=0.9)


class Playbook(_Strict):
    playbook: str
    version: str
    author: str
    description: str = ""
    audience: str = "customers"  # anything else is refused (R3), with the rule named
    default_locale: str = "en"
    content_file: str | None = None
    # An intent below its pack's threshold may add evidence but never move a session into
    # another moment or escalate it ("default" for packs not named).
    intent_thresholds: dict[str, float] = Field(default_factory=lambda: {"default": 0.6})
    handoff: Handoff = Field(default_factory=Handoff)
    outreach: list[Outreach] = Field(default_factory=list)
    moments: dict[str, Moment]

    @field_validator("intent_thresholds")
    @classmethod
    def _probabilities(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not 0.0 <= x <= 1.0}
        if bad:
            raise ValueError(f"intent thresholds must lie in [0, 1]: {bad}")
        return v

    @property
    def key(self) -> str:
        return f"{self.playbook}@{self.version}"

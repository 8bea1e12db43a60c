"""What the demo's simulated shoppers are assumed to do: every number that decides the demo's
result, in one place, with its default and why. The demo prints these before any result.

The simulator knows each shopper's hidden state; Attune does not. Whether an adaptation helps
is *assumed* here (``scenario``), never measured: the demo shows that the pipeline measures the
assumed effect correctly (and finds none when none was assumed), not that adaptation works.

- ``helpful``: a mode that fits the shopper's hidden state (``FITS``) lowers their trouble
  intensity by ``effect``; a mode that does not fit adds ``misfit_risk`` to that step's dropout
  risk (a slowed-down page annoys a hurried shopper, needless reassurance costs time).
- ``none``: modes change nothing at all; the two arms differ only by chance (an A/A-like check
  of the whole pipeline: the read-out must not be significant, apart from its 5 % false alarms).
- ``harmful``: every mode gets in the way: it raises the shopper's intensity by ``effect`` of
  what is left to 1 and adds ``misfit_risk + effect x 0.25`` to that step's dropout risk. The
  guardrail must stop the adaptive arm and send everyone to the neutral journey.

Customers differ and come back: each has a temperament (the kind of trouble they tend to have,
how often, how strongly) and a patience factor on the base dropout (some browse and leave
whatever the journey does); ``returning_share`` of them visited in the ``pre_period_days``
before the experiment, on the neutral journey.

In every scenario both arms recover on their own: a troubled shopper's intensity falls by
``recovery`` per step whatever the journey does, so control is not a strawman.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Scenario = Literal["helpful", "none", "harmful"]
SCENARIOS: tuple[str, ...] = ("helpful", "none", "harmful")

# Which journey modes fit which hidden state. An assumption about shoppers, written here, not
# read from the playbook: the playbook guesses the state from signals and can guess wrong.
FITS: dict[str, frozenset[str]] = {
    "confused": frozenset({"simplified", "guided", "escalate_to_human"}),
    "frustrated": frozenset({"fast_track", "escalate_to_human"}),
    "anxious": frozenset({"trust", "slow", "escalate_to_human"}),
    "calm": frozenset(),  # a calm shopper needs nothing: any mode is a detour
}


@dataclass(frozen=True)
class Assumptions:
    scenario: Scenario = "helpful"
    effect: float = 0.5  # helpful: intensity x (1 - effect); harmful: + effect x (1 - intensity)
    misfit_risk: float = 0.04  # extra dropout risk in a step whose mode does not fit
    recovery: float = 0.1  # per step, both arms: intensity x (1 - recovery)
    base_dropout: float = 0.035  # per step, for a shopper with no trouble
    trouble_dropout: float = 0.22  # per step, added at intensity 1 (scaled by intensity)
    returning_share: float = 0.5  # customers with earlier sessions (the CUPED pre-period)
    pre_period_days: int = 28  # earlier sessions fall in this window before the experiment
    fits: dict[str, list[str]] = field(
        default_factory=lambda: {k: sorted(v) for k, v in FITS.items()}
    )

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}")
        for name in ("effect", "misfit_risk", "recovery", "base_dropout", "trouble_dropout"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if not 0.0 <= self.returning_share <= 1.0:
            raise ValueError("returning_share must be in [0, 1]")

    @property
    def statement(self) -> str:
        """One plain sentence on what was assumed, for the console and the JSON."""
        if self.scenario == "none":
            return (
                "SIMULATED, scenario 'none': adaptation was assumed to change nothing; any "
                "difference between the arms is chance."
            )
        if self.scenario == "harmful":
            return (
                f"SIMULATED, scenario 'harmful': every adaptation was assumed to hurt "
                f"(intensity up by {self.effect:.0%} of the rest, "
                f"+{self.misfit_risk + 0.25 * self.effect:.1%} dropout risk per adapted step); "
                "the guardrail should stop it."
            )
        return (
            f"SIMULATED, scenario 'helpful': a fitting mode was assumed to ease the shopper's "
            f"trouble by {self.effect:.0%} per step and a misfitting one to add "
            f"{self.misfit_risk:.0%} dropout risk; the measured effect follows from that "
            "assumption, it is not evidence that adaptation works."
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "simulated": True, "statement": self.statement}

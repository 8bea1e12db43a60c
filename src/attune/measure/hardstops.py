"""Hard stops: the adaptive arm stops by itself when a guardrail breaches its threshold.

A guardrail trips when (1) both arms have at least ``min_per_arm`` units, (2) the metric is worse
in the adaptive arm by at least ``max_relative_change`` relative to control, and (3) the
always-valid mSPRT p-value for "the adaptive arm differs" is below ``alpha`` with the estimate in
the harmful direction. Because (3) is valid under continuous monitoring, the check may run after
every batch of outcomes without inflating false stops. The caller (the engine) then routes all
traffic to control, audits the decision and fires the ``experiment.hard_stop`` webhook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from attune.measure.experiments import CONTROL, TREATMENT, ExperimentDefinition, Guardrail
from attune.measure.sequential import msprt_ratio
from attune.measure.stats import Summary
from attune.measure.units import Unit, values


@dataclass(frozen=True)
class GuardrailCheck:
    metric: str
    n_control: int
    n_treatment: int
    control: float
    treatment: float
    relative_change: float  # treatment / control - 1 (signed)
    harm: float  # relative change in the harmful direction (positive = worse)
    p_value: float  # always-valid (mSPRT)
    breached: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HardStopDecision:
    experiment_id: str
    stop: bool
    reasons: list[str] = field(default_factory=list)
    checks: list[GuardrailCheck] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "stop": self.stop,
            "reasons": self.reasons,
            "checks": [c.to_dict() for c in self.checks],
        }


def _check(g: Guardrail, units: Sequence[Unit]) -> GuardrailCheck:
    c, t = values(units, CONTROL, g.metric), values(units, TREATMENT, g.metric)
    nc, nt = len(c), len(t)
    mc = sum(c) / nc if nc else 0.0
    mt = sum(t) / nt if nt else 0.0
    if nc < 2 or nt < 2:
        return GuardrailCheck(
            g.metric,
            nc,
            nt,
            mc,
            mt,
            0.0,
            0.0,
            1.0,
            False,
            f"{g.metric}: waiting for data in both arms",
        )
    rel = mt / mc - 1.0 if mc > 0 else (math.inf if mt > 0 else 0.0)
    harm = rel if g.worse_if == "increase" else -rel
    if g.kind == "proportion":
        var = mc * (1 - mc) / nc + mt * (1 - mt) / nt
    else:
        var = Summary.of(c).var / nc + Summary.of(t).var / nt
    pool = (sum(c) + sum(t) + 1) / (nc + nt + 2)
    var = max(var, 1e-12, pool * (1 - pool) / (nc + nt) if g.kind == "proportion" else 0.0)
    # Mix over lifts of the size the guardrail cares about.
    tau2 = max((abs(mc) * g.max_relative_change) ** 2, 1e-12)
    p = min(1.0, 1.0 / msprt_ratio(mt - mc, var, tau2))
    word = "up" if rel >= 0 else "down"
    if nc < g.min_per_arm or nt < g.min_per_arm:
        reason = (
            f"{g.metric} is {word} {abs(rel):.1%}; not judged before {g.min_per_arm} "
            f"units per arm (have {nc} control, {nt} adaptive)"
        )
        return GuardrailCheck(g.metric, nc, nt, mc, mt, rel, harm, p, False, reason)
    breached = harm >= g.max_relative_change and p < g.alpha
    reason = (
        f"{g.metric} is {word} {abs(rel):.1%} in the adaptive arm "
        f"({mt:.4g} vs {mc:.4g} in control, {nt}/{nc} units; always-valid p = {p:.3g}); "
        f"the limit is {g.max_relative_change:.0%} at alpha {g.alpha}"
    )
    return GuardrailCheck(g.metric, nc, nt, mc, mt, rel, harm, p, breached, reason)


def check_hard_stops(definition: ExperimentDefinition, units: Sequence[Unit]) -> HardStopDecision:
    """Decide from the current data whether the adaptive arm must stop, and why."""
    checks = [_check(g, units) for g in definition.guardrails]
    reasons = [c.reason for c in checks if c.breached]
    return HardStopDecision(definition.id, bool(reasons), reasons, checks)

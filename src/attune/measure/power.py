"""Sample size, power and minimum detectable effect before an experiment starts.

Normal approximation on Cohen's h for proportions and on d = delta / sd for means, both tails
counted (the same quantity statsmodels' ``NormalIndPower`` computes). ``ratio`` is
n_treatment / n_control, so a 50/50 split is ratio 1 and a 20 % treatment share is 0.25.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import optimize, stats


@dataclass(frozen=True)
class PowerPlan:
    effect_size: float  # Cohen's h or d
    alpha: float
    power: float
    ratio: float
    n_control: int
    n_treatment: int

    @property
    def total(self) -> int:
        return self.n_control + self.n_treatment

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def cohens_h(p_control: float, p_treatment: float) -> float:
    for p in (p_control, p_treatment):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"a proportion must be in [0, 1], got {p}")
    return 2 * math.asin(math.sqrt(p_treatment)) - 2 * math.asin(math.sqrt(p_control))


def power_for(
    effect_size: float, n_control: float, alpha: float = 0.05, ratio: float = 1.0
) -> float:
    """Two-sided power of a z-test with ``n_control`` and ``ratio * n_control`` observations."""
    if n_control <= 0 or ratio <= 0:
        raise ValueError("n_control and ratio must be positive")
    crit = float(stats.norm.isf(alpha / 2))
    shift = abs(effect_size) * math.sqrt(1.0 / (1.0 / n_control + 1.0 / (n_control * ratio)))
    return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))


def _n_control(effect_size: float, alpha: float, power: float, ratio: float) -> float:
    if effect_size == 0:
        raise ValueError("a zero effect cannot be detected with any sample size")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be in (0, 1)")
    if power <= alpha:
        raise ValueError("power must exceed alpha")
    return float(
        optimize.brentq(
            lambda n: power_for(effect_size, n, alpha, ratio) - power,
            1e-6,
            1e12,
            xtol=1e-10,
            rtol=1e-12,
        )
    )


def _plan(effect: float, alpha: float, power: float, ratio: float) -> PowerPlan:
    n = _n_control(effect, alpha, power, ratio)
    return PowerPlan(effect, alpha, power, ratio, math.ceil(n), math.ceil(n * ratio))


def sample_size_proportions(
    baseline: float,
    mde_relative: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> PowerPlan:
    """Per-arm sizes to detect ``baseline`` moving by ``mde_relative`` (e.g. -0.2 = 20 % fewer)."""
    target = baseline * (1 + mde_relative)
    if not 0 < baseline < 1 or not 0 <= target <= 1:
        raise ValueError(f"baseline {baseline} with lift {mde_relative} leaves [0, 1]")
    return _plan(cohens_h(baseline, target), alpha, power, ratio)


def sample_size_means(
    sd: float, mde_absolute: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> PowerPlan:
    if sd <= 0:
        raise ValueError("the standard deviation must be positive")
    return _plan(mde_absolute / sd, alpha, power, ratio)


def mde_proportions(
    baseline: float, n_control: int, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> float:
    """Smallest relative increase of ``baseline`` detectable with the given sizes."""
    if not 0 < baseline < 1:
        raise ValueError("baseline must be in (0, 1)")
    top = 1.0 / baseline - 1.0  # up to p = 1
    if power_for(cohens_h(baseline, 1.0), n_control, alpha, ratio) < power:
        raise ValueError("no lift within [0, 1] reaches that power with these sizes")
    return float(
        optimize.brentq(
            lambda r: (
                power_for(cohens_h(baseline, baseline * (1 + r)), n_control, alpha, ratio) - power
            ),
            1e-9,
            top,
            xtol=1e-12,
        )
    )

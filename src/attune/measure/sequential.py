"""Monitoring that stays valid when people look at results every day.

The mixture sequential probability ratio test (mSPRT; Johari et al. 2017, "Always valid
inference") with a normal mixing distribution N(0, tau^2) over the lift. Its p-value and
confidence sequence hold at every look simultaneously, so stopping as soon as p < alpha keeps
the false-positive rate at alpha. ``obf_spent`` gives the O'Brien–Fleming-type spending function
(Lan–DeMets) for teams that pre-plan a few interim looks instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats


@dataclass(frozen=True)
class SequentialLook:
    estimate: float  # lift (treatment - control) at this look
    variance: float  # its sampling variance
    likelihood_ratio: float
    p_value: float  # always-valid: the running minimum over looks so far
    ci: tuple[float, float]  # always-valid confidence sequence at this look
    alpha: float

    @property
    def reject(self) -> bool:
        return self.p_value < self.alpha

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reject": self.reject}


def msprt_ratio(estimate: float, variance: float, tau2: float, null: float = 0.0) -> float:
    """Mixture likelihood ratio of the normal mSPRT for H0: lift = ``null``."""
    if variance <= 0 or tau2 <= 0:
        raise ValueError("variance and tau^2 must be positive")
    d = estimate - null
    log_lr = 0.5 * math.log(variance / (variance + tau2)) + (
        tau2 * d * d / (2.0 * variance * (variance + tau2))
    )
    return math.exp(min(log_lr, 700.0))


def confidence_sequence(
    estimate: float, variance: float, tau2: float, alpha: float
) -> tuple[float, float]:
    """All lifts theta0 whose mixture ratio stays below 1/alpha."""
    radius = math.sqrt(
        2.0
        * variance
        * (variance + tau2)
        / tau2
        * (math.log(1.0 / alpha) + 0.5 * math.log((variance + tau2) / variance))
    )
    return (estimate - radius, estimate + radius)


def monitor(
    looks: Iterable[tuple[float, float]], tau2: float, alpha: float = 0.05
) -> list[SequentialLook]:
    """Running always-valid read-outs for a series of (estimate, variance) looks."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    out: list[SequentialLook] = []
    p_run = 1.0
    lo_run, hi_run = -math.inf, math.inf
    for estimate, variance in looks:
        lr = msprt_ratio(estimate, variance, tau2)
        p_run = min(p_run, 1.0 / lr)
        lo, hi = confidence_sequence(estimate, variance, tau2, alpha)
        lo_run, hi_run = max(lo_run, lo), min(hi_run, hi)  # intersection stays valid
        out.append(SequentialLook(estimate, variance, lr, p_run, (lo_run, hi_run), alpha))
    return out


def proportion_look(
    x_control: int, n_control: int, x_treatment: int, n_treatment: int
) -> tuple[float, float]:
    """(lift, variance) of p_t - p_c, with a floor so an all-zero start is still defined."""
    if n_control <= 0 or n_treatment <= 0:
        raise ValueError("each arm needs observations")
    pc, pt = x_control / n_control, x_treatment / n_treatment
    pool = (x_control + x_treatment + 1) / (n_control + n_treatment + 2)
    floor = pool * (1 - pool) * (1 / n_control + 1 / n_treatment)
    var = pc * (1 - pc) / n_control + pt * (1 - pt) / n_treatment
    return pt - pc, max(var, floor)


def obf_spent(information_fraction: float, alpha: float = 0.05) -> float:
    """Two-sided alpha spent by information fraction t: the Lan–DeMets O'Brien–Fleming-type
    function applied to each side at alpha/2, 4 - 4 Phi(z_{alpha/4} / sqrt(t)) (the usual
    symmetric design in group-sequential software)."""
    if not 0 < information_fraction <= 1:
        raise ValueError("information fraction must be in (0, 1]")
    z = float(stats.norm.isf(alpha / 4))
    return float(4.0 * stats.norm.sf(z / math.sqrt(information_fraction)))


def to_dicts(looks: list[SequentialLook]) -> list[dict[str, Any]]:
    return [look.to_dict() for look in looks]


def obf_boundaries(information_fractions: list[float], alpha: float = 0.05) -> list[float]:
    """Two-sided z boundaries for pre-planned looks, spending alpha by the O'Brien–Fleming-type
    function (Lan–DeMets). Look k rejects when |z_k| >= boundary k. The joint law of the
    z statistics is normal with corr(z_i, z_j) = sqrt(t_i / t_j) for t_i <= t_j."""
    import numpy as np
    from scipy import optimize as opt

    t = list(information_fractions)
    if not t or any(b <= a for a, b in itertools.pairwise(t)) or t[0] <= 0 or t[-1] > 1:
        raise ValueError("information fractions must increase within (0, 1]")
    bounds: list[float] = []
    spent_before = 0.0
    for k, tk in enumerate(t):
        target = obf_spent(tk, alpha) - spent_before  # alpha to spend at this look
        if k == 0:
            b = float(stats.norm.isf(target / 2))
        else:
            tt = np.array(t[: k + 1])
            cov = np.sqrt(np.minimum.outer(tt, tt) / np.maximum.outer(tt, tt))
            mvn = stats.multivariate_normal(mean=np.zeros(k + 1), cov=cov, seed=7)
            prev = np.array(bounds)
            if k == 1:
                stay = float(1 - 2 * stats.norm.sf(prev[0]))  # no crossing at look 1
            else:
                first = mvn.marginal(list(range(k)))
                stay = float(first.cdf(prev, lower_limit=-prev))

            def crossing(
                bk: float,
                prev: Any = prev,
                stay: float = stay,
                mvn: Any = mvn,
                target: float = target,
            ) -> float:
                up = np.append(prev, bk)  # P(no crossing before k) - P(none up to k) = spend
                return stay - float(mvn.cdf(up, lower_limit=-up)) - target

            b = float(opt.brentq(crossing, 0.5, 10.0, xtol=1e-6))
        bounds.append(b)
        spent_before = obf_spent(tk, alpha)
    return bounds

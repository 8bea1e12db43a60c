"""Bayesian read-out: probability that treatment beats control and the expected loss of
shipping it. Proportions use Beta posteriors with exact closed forms (Evan Miller's sum for
P(B > A), Chris Stucchio's expression for the loss); means use a normal approximation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import special, stats


@dataclass(frozen=True)
class BayesResult:
    metric: str
    prob_treatment_better: float
    expected_loss_treatment: float  # expected shortfall if treatment is shipped and is worse
    expected_loss_control: float  # expected shortfall if control is kept and is worse
    higher_is_better: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prob_beta_greater(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X > Y) for X ~ Beta(a1, b1), Y ~ Beta(a2, b2); a1 must be an integer."""
    if a1 != int(a1) or min(a1, b1, a2, b2) <= 0:
        raise ValueError("need a positive integer a1 and positive b1, a2, b2")
    i = np.arange(int(a1), dtype=float)
    terms = (
        special.betaln(a2 + i, b1 + b2)
        - np.log(b1 + i)
        - special.betaln(1 + i, b1)
        - special.betaln(a2, b2)
    )
    return float(np.clip(np.exp(special.logsumexp(terms)), 0.0, 1.0))


def _loss(a_win: int, b_win: int, a_other: int, b_other: int) -> float:
    """E[max(p_other - p_win, 0)]: what is given up by choosing ``win`` when ``other`` is better."""
    mean_other = a_other / (a_other + b_other)
    mean_win = a_win / (a_win + b_win)
    return max(
        0.0,
        mean_other * prob_beta_greater(a_other + 1, b_other, a_win, b_win)
        - mean_win * prob_beta_greater(a_other, b_other, a_win + 1, b_win),
    )


def beta_binomial(
    x_control: int,
    n_control: int,
    x_treatment: int,
    n_treatment: int,
    prior: tuple[int, int] = (1, 1),
    metric: str = "conversion",
    higher_is_better: bool = True,
) -> BayesResult:
    """Beta(prior) + binomial data per arm.

    For a "bad" metric (dropout) pass higher_is_better=False.
    """
    for x, n in ((x_control, n_control), (x_treatment, n_treatment)):
        if n <= 0 or not 0 <= x <= n:
            raise ValueError(f"bad counts for {metric!r}: {x} of {n}")
    a0, b0 = prior
    ac, bc = a0 + x_control, b0 + n_control - x_control
    at, bt = a0 + x_treatment, b0 + n_treatment - x_treatment
    if not higher_is_better:  # compare failure rates' complements: lower rate is better
        ac, bc, at, bt = bc, ac, bt, at
    return BayesResult(
        metric,
        prob_beta_greater(at, bt, ac, bc),
        _loss(at, bt, ac, bc),
        _loss(ac, bc, at, bt),
        higher_is_better,
    )


def normal_means(
    mean_control: float,
    var_control: float,
    n_control: int,
    mean_treatment: float,
    var_treatment: float,
    n_treatment: int,
    metric: str = "value",
    higher_is_better: bool = True,
) -> BayesResult:
    """Flat prior, normal likelihood: the lift is N(diff, se^2)."""
    if n_control < 2 or n_treatment < 2:
        raise ValueError(f"{metric!r} needs at least two observations per arm")
    diff = mean_treatment - mean_control
    if not higher_is_better:
        diff = -diff
    se = math.sqrt(var_control / n_control + var_treatment / n_treatment)
    if se == 0:
        return BayesResult(
            metric, float(diff > 0), max(-diff, 0.0), max(diff, 0.0), higher_is_better
        )
    z = diff / se
    loss_t = se * stats.norm.pdf(z) - diff * stats.norm.cdf(-z)  # E[max(-lift, 0)]
    loss_c = se * stats.norm.pdf(z) + diff * stats.norm.cdf(z)  # E[max(lift, 0)]
    return BayesResult(
        metric, float(stats.norm.cdf(z)), float(loss_t), float(loss_c), higher_is_better
    )

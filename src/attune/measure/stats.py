"""Frequentist read-outs of an A/B comparison: two-proportion z-test and Welch's t-test, each
with confidence intervals on the absolute and the relative lift (treatment vs control).

Pure: plain numbers in, frozen dataclasses out. The absolute-lift interval is the unpooled Wald
interval; the relative-lift interval for proportions is the log-ratio interval (as statsmodels'
``confint_proportions_2indep(compare="ratio", method="log")``), for means the delta method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats


@dataclass(frozen=True)
class LiftResult:
    """Treatment minus control, with intervals; ``relative`` is treatment / control - 1."""

    metric: str
    kind: str  # "proportion" or "mean"
    n_control: int
    n_treatment: int
    control: float
    treatment: float
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float
    relative_ci: tuple[float, float]
    statistic: float
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["significant"] = self.significant
        return out


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def two_proportion_test(
    x_control: int,
    n_control: int,
    x_treatment: int,
    n_treatment: int,
    alpha: float = 0.05,
    metric: str = "conversion",
) -> LiftResult:
    """Pooled two-sided z-test of p_t = p_c, Wald CI on p_t - p_c, log-ratio CI on p_t/p_c - 1."""
    _check_alpha(alpha)
    for x, n, arm in ((x_control, n_control, "control"), (x_treatment, n_treatment, "treatment")):
        if n <= 0:
            raise ValueError(f"{arm} has no observations for {metric!r}")
        if not 0 <= x <= n:
            raise ValueError(f"{arm} successes {x} not within 0..{n} for {metric!r}")
    pc, pt = x_control / n_control, x_treatment / n_treatment
    pooled = (x_control + x_treatment) / (n_control + n_treatment)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_treatment))
    diff = pt - pc
    z = diff / se0 if se0 > 0 else 0.0
    p_value = float(2 * stats.norm.sf(abs(z)))
    q = float(stats.norm.ppf(1 - alpha / 2))
    se = math.sqrt(pc * (1 - pc) / n_control + pt * (1 - pt) / n_treatment)
    abs_ci = (diff - q * se, diff + q * se)
    if x_control > 0 and x_treatment > 0:
        log_ratio = math.log(pt / pc)
        se_log = math.sqrt(1 / x_treatment - 1 / n_treatment + 1 / x_control - 1 / n_control)
        rel = pt / pc - 1
        rel_ci = (math.exp(log_ratio - q * se_log) - 1, math.exp(log_ratio + q * se_log) - 1)
    else:  # a zero count: the ratio is undefined or unbounded
        rel = pt / pc - 1 if pc > 0 else math.inf
        rel_ci = (-1.0, math.inf)
    return LiftResult(
        metric,
        "proportion",
        n_control,
        n_treatment,
        pc,
        pt,
        diff,
        abs_ci,
        rel,
        rel_ci,
        z,
        p_value,
        alpha,
    )


@dataclass(frozen=True)
class Summary:
    """Sufficient statistics of one arm for a mean metric."""

    n: int
    mean: float
    var: float  # sample variance (ddof=1)

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        n = len(values)
        if n < 2:
            raise ValueError("a mean metric needs at least two observations per arm")
        mean = math.fsum(values) / n
        var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
        return cls(n, mean, var)


def welch_test(
    control: Summary, treatment: Summary, alpha: float = 0.05, metric: str = "value"
) -> LiftResult:
    """Welch's t-test with Welch–Satterthwaite df; delta-method CI on the relative lift."""
    _check_alpha(alpha)
    if control.n < 2 or treatment.n < 2:
        raise ValueError(f"{metric!r} needs at least two observations per arm")
    vc, vt = control.var / control.n, treatment.var / treatment.n
    se = math.sqrt(vc + vt)
    diff = treatment.mean - control.mean
    if se == 0:
        t, df, p_value = 0.0, float(control.n + treatment.n - 2), 1.0 if diff == 0 else 0.0
    else:
        t = diff / se
        df = (vc + vt) ** 2 / (vc**2 / (control.n - 1) + vt**2 / (treatment.n - 1))
        p_value = float(2 * stats.t.sf(abs(t), df))
    q = float(stats.t.ppf(1 - alpha / 2, df))
    abs_ci = (diff - q * se, diff + q * se)
    if control.mean != 0:
        rel = treatment.mean / control.mean - 1
        # Var(T/C) by the delta method, T and C independent.
        se_rel = math.sqrt(vt / control.mean**2 + treatment.mean**2 * vc / control.mean**4)
        rel_ci = (rel - q * se_rel, rel + q * se_rel)
    else:
        rel, rel_ci = math.inf, (-math.inf, math.inf)
    return LiftResult(
        metric,
        "mean",
        control.n,
        treatment.n,
        control.mean,
        treatment.mean,
        diff,
        abs_ci,
        rel,
        rel_ci,
        t,
        p_value,
        alpha,
    )


def welch_from_values(
    control: Sequence[float], treatment: Sequence[float], alpha: float = 0.05, metric: str = "value"
) -> LiftResult:
    return welch_test(Summary.of(control), Summary.of(treatment), alpha, metric)

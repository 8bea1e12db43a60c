"""Return on investment from a measured uplift, with a conservative figure from the interval.

benefit in period t = units per period x uplift x (1 - effect decay)^t x value per unit
ROI over the horizon = (benefit - cost) / cost, cost = one-off + running x periods, every
amount of period t discounted by (1 + discount rate)^(t + 1) (the one-off is paid up front);
payback = when the cumulative discounted net turns positive (none if it never does).
With no decay and no discounting that is the plain one-off / (benefit - running).

The value of a unit can be a saved customer's lifetime value: margin per period x the
discounted sum of the chances they are still a customer, CLV = m (1 + d) / (1 + d - r) for
retention r per period (r = 1 - churn), i.e. an uplift in retention saves that much per customer.
The conservative case uses the lower bound of the uplift's confidence interval and twice the
effect decay (an effect that fades faster than hoped), so a result whose interval includes zero
shows a conservative loss rather than a hopeful gain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RoiInput:
    units_per_period: float  # sessions (or customers) exposed per period, e.g. per month
    uplift: float  # gain per unit in the metric, e.g. +0.012 conversions per session
    uplift_ci: tuple[float, float]
    value_per_unit: float  # money per unit of the metric, e.g. margin per conversion
    one_off_cost: float = 0.0
    running_cost: float = 0.0  # per period
    periods: int = 12
    baseline: float | None = None  # the control rate, for the report
    currency: str = "EUR"
    period: str = "month"
    discount_rate: float = 0.0  # per period, e.g. 0.008 a month (about 10 % a year)
    effect_decay: float = 0.0  # share of the uplift lost each period (novelty wears off)
    clv: dict[str, float] | None = None  # how value_per_unit was derived, when it is a CLV

    def __post_init__(self) -> None:
        if not (0.0 <= self.discount_rate <= 1.0 and 0.0 <= self.effect_decay <= 1.0):
            raise ValueError("discount rate and effect decay must lie in [0, 1] per period")
        numbers = (
            self.units_per_period,
            self.uplift,
            *self.uplift_ci,
            self.value_per_unit,
            self.one_off_cost,
            self.running_cost,
        )
        if not all(math.isfinite(v) and abs(v) <= 1e12 for v in numbers):
            raise ValueError("ROI inputs must be finite numbers of at most 1e12")
        if self.units_per_period < 0 or self.value_per_unit < 0:
            raise ValueError("units per period and value per unit cannot be negative")
        if self.one_off_cost < 0 or self.running_cost < 0:
            raise ValueError("costs cannot be negative")
        if self.periods < 1:
            raise ValueError("the horizon needs at least one period")
        lo, hi = self.uplift_ci
        if not lo <= self.uplift <= hi:
            raise ValueError(f"the uplift {self.uplift} lies outside its interval {lo}..{hi}")


@dataclass(frozen=True)
class RoiCase:
    uplift: float
    benefit_per_period: float
    total_benefit: float
    total_cost: float
    net: float
    roi: float | None  # None when nothing was spent
    payback_periods: float | None  # None when it never pays back


@dataclass(frozen=True)
class RoiResult:
    inputs: RoiInput
    expected: RoiCase
    conservative: RoiCase  # from the lower bound of the uplift interval
    optimistic: RoiCase

    @property
    def summary(self) -> str:
        i, c, e = self.inputs, self.conservative, self.expected
        extras = []
        if i.discount_rate:
            extras.append(f"discounted at {i.discount_rate:.2%} a {i.period}")
        if i.effect_decay:
            extras.append(f"the effect fading {i.effect_decay:.1%} a {i.period}")
        if i.clv:
            extras.append(f"a saved customer worth {i.value_per_unit:,.0f} {i.currency} (CLV)")
        note = f" ({'; '.join(extras)})" if extras else ""
        pay = (
            f"pays back in {c.payback_periods:.1f} {i.period}s"
            if c.payback_periods is not None
            else "does not pay back"
        )
        roi = f"{c.roi:+.0%}" if c.roi is not None else "n/a"
        exp = f"{e.roi:+.0%}" if e.roi is not None else "n/a"
        return (
            f"Conservative ROI over {i.periods} {i.period}s{note}: {roi} (net "
            f"{c.net:,.0f} {i.currency}); it {pay}. Expected ROI {exp}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": asdict(self.inputs),
            "expected": asdict(self.expected),
            "conservative": asdict(self.conservative),
            "optimistic": asdict(self.optimistic),
            "cases": {
                "conservative": "uplift at the interval's lower bound, effect decay doubled",
                "expected": "uplift at its estimate, effect decay as given",
                "optimistic": "uplift at the interval's upper bound, effect decay halved",
            },
            "summary": self.summary,
        }


def clv(margin_per_period: float, retention: float, discount_rate: float = 0.0) -> float:
    """Lifetime value of a customer kept today: sum over t >= 0 of m r^t / (1 + d)^t."""
    if not (math.isfinite(margin_per_period) and margin_per_period >= 0):
        raise ValueError("the margin per period must be a finite number >= 0")
    if not 0.0 <= retention < 1.0 or not 0.0 <= discount_rate <= 1.0:
        raise ValueError("retention must lie in [0, 1) and the discount rate in [0, 1]")
    return margin_per_period * (1 + discount_rate) / (1 + discount_rate - retention)


def _case(i: RoiInput, uplift: float, decay: float | None = None) -> RoiCase:
    decay = i.effect_decay if decay is None else min(1.0, decay)
    d = i.discount_rate
    benefit0 = i.units_per_period * uplift * i.value_per_unit

    def flows(t: int) -> tuple[float, float]:
        disc = (1 + d) ** -(t + 1)
        return benefit0 * (1 - decay) ** t * disc, i.running_cost * disc

    total_benefit = total_running = 0.0
    for t in range(i.periods):
        b, c = flows(t)
        total_benefit, total_running = total_benefit + b, total_running + c
    cost = i.one_off_cost + total_running
    net = total_benefit - cost
    roi = net / cost if cost > 0 else None
    payback: float | None = None
    cum = -i.one_off_cost
    if benefit0 - i.running_cost > 0:
        for t in range(max(i.periods, 600)):  # the effect may need longer than the horizon
            b, c = flows(t)
            if b - c <= 0:
                break  # decayed below the running cost: it will not turn
            if cum + b - c >= 0:
                payback = t + (-cum) / (b - c)
                break
            cum += b - c
        if i.one_off_cost == 0:
            payback = 0.0
    return RoiCase(uplift, benefit0, total_benefit, cost, net, roi, payback)


def roi(i: RoiInput) -> RoiResult:
    lo, hi = i.uplift_ci
    return RoiResult(
        i, _case(i, i.uplift), _case(i, lo, 2 * i.effect_decay), _case(i, hi, i.effect_decay / 2)
    )


def value_inputs(
    value_per_unit: float | None,
    margin_per_period: float | None,
    retention: float | None,
    discount_rate: float,
) -> tuple[float, dict[str, float] | None]:
    """The value of a unit: given, or a saved customer's CLV from margin and retention."""
    if margin_per_period is not None:
        if retention is None:
            raise ValueError("a CLV needs the retention per period (1 - churn) with the margin")
        v = clv(margin_per_period, retention, discount_rate)
        return v, {
            "margin_per_period": margin_per_period,
            "retention": retention,
            "discount_rate": discount_rate,
            "clv": v,
        }
    if value_per_unit is None:
        raise ValueError("give the value per unit, or a margin per period with a retention")
    return value_per_unit, None


def uplift_from_lift(
    lift: Mapping[str, Any], higher_is_better: bool = True
) -> tuple[float, tuple[float, float]]:
    """Absolute uplift and its CI from a ``LiftResult.to_dict()``, sign-flipped for metrics
    where lower is better (dropout: fewer dropouts is the gain)."""
    a = float(lift["absolute"])
    lo, hi = (float(v) for v in lift["absolute_ci"])
    if any(math.isnan(v) for v in (a, lo, hi)):
        raise ValueError("the lift has no interval yet")
    return (a, (lo, hi)) if higher_is_better else (-a, (-hi, -lo))

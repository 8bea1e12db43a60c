"""Return on investment from a measured uplift, with a conservative figure from the interval.

benefit per period = units per period x uplift (absolute, per unit) x value per unit
ROI over the horizon = (benefit - cost) / cost, cost = one-off + running x periods
payback = one-off / (benefit - running) periods, when the benefit covers the running cost.
The conservative ROI uses the lower bound of the uplift's confidence interval, so a result
whose interval includes zero shows a conservative loss rather than a hopeful gain.
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

    def __post_init__(self) -> None:
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
        pay = (
            f"pays back in {c.payback_periods:.1f} {i.period}s"
            if c.payback_periods is not None
            else "does not pay back"
        )
        roi = f"{c.roi:+.0%}" if c.roi is not None else "n/a"
        exp = f"{e.roi:+.0%}" if e.roi is not None else "n/a"
        return (
            f"Conservative ROI over {i.periods} {i.period}s: {roi} (net "
            f"{c.net:,.0f} {i.currency}); it {pay}. Expected ROI {exp}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": asdict(self.inputs),
            "expected": asdict(self.expected),
            "conservative": asdict(self.conservative),
            "optimistic": asdict(self.optimistic),
            "summary": self.summary,
        }


def _case(i: RoiInput, uplift: float) -> RoiCase:
    benefit = i.units_per_period * uplift * i.value_per_unit
    total_benefit = benefit * i.periods
    cost = i.one_off_cost + i.running_cost * i.periods
    net = total_benefit - cost
    roi = net / cost if cost > 0 else None
    margin = benefit - i.running_cost
    if margin > 0:
        payback: float | None = i.one_off_cost / margin
    else:
        payback = None
    return RoiCase(uplift, benefit, total_benefit, cost, net, roi, payback)


def roi(i: RoiInput) -> RoiResult:
    lo, hi = i.uplift_ci
    return RoiResult(i, _case(i, i.uplift), _case(i, lo), _case(i, hi))


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

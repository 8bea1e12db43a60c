"""The unit of analysis: one subject (or session) in one arm, with its metric values.

Proportion metrics are 0/1 per unit; mean metrics are numbers. A metric missing on a unit is
not observed there (e.g. CSAT when no survey was answered) and is left out of that metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from attune.measure.experiments import CONTROL, TREATMENT, Metric, MetricKind
from attune.measure.stats import LiftResult, Summary, two_proportion_test, welch_test

# CUPED pre-period: a customer's sessions in the 28 days before their first exposure to the
# experiment. Long enough for returning customers to have one, short enough to still say
# something about them; older sessions are ignored.
PRE_PERIOD_DAYS = 28


@dataclass(frozen=True)
class Unit:
    arm: str
    at: float = 0.0  # first exposure, for ordering sequential looks
    metrics: dict[str, float] = field(default_factory=dict)
    covariates: dict[str, float] = field(default_factory=dict)  # pre-period values for CUPED
    segments: dict[str, str] = field(default_factory=dict)


def values(units: Iterable[Unit], arm: str, metric: str) -> list[float]:
    return [u.metrics[metric] for u in units if u.arm == arm and metric in u.metrics]


def arm_counts(units: Iterable[Unit]) -> dict[str, int]:
    out = {CONTROL: 0, TREATMENT: 0}
    for u in units:
        out[u.arm] = out.get(u.arm, 0) + 1
    return out


def compare(units: Sequence[Unit], name: str, kind: MetricKind, alpha: float) -> LiftResult:
    c, t = values(units, CONTROL, name), values(units, TREATMENT, name)
    if kind == "proportion":
        for v in (*c, *t):
            if v not in (0.0, 1.0):
                raise ValueError(f"proportion metric {name!r} must be 0 or 1 per unit, got {v}")
        return two_proportion_test(int(sum(c)), len(c), int(sum(t)), len(t), alpha, name)
    return welch_test(Summary.of(c), Summary.of(t), alpha, name)


def compare_metric(units: Sequence[Unit], metric: Metric, alpha: float) -> LiftResult:
    return compare(units, metric.name, metric.kind, alpha)

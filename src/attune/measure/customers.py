"""Simulated customers with a known emotional drift, to validate the churn early warning.

Each customer has sessions over ``weeks`` weeks. A stable customer keeps a personal negative
rate; a drifting one's rate climbs by ``drift`` over the period (the ones who will churn).
Deterministic for a seed; pure (no I/O).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from attune.measure.churn import WEEK, CustomerSession


@dataclass(frozen=True)
class SimCustomer:
    id: str
    base_negative: float
    drift: float  # rise of the negative rate over the whole period (0 = stable)

    @property
    def drifting(self) -> bool:
        return self.drift > 0


def _probs(rng: random.Random, bad: bool) -> dict[str, float]:
    if bad:
        top = rng.choice(("frustrated", "confused", "anxious", "disappointed"))
        p = rng.uniform(0.45, 0.8)
        return {top: p, "neutral": (1 - p) * 0.7, "satisfied": (1 - p) * 0.3}
    p = rng.uniform(0.4, 0.8)
    top = rng.choice(("neutral", "satisfied"))
    other = "satisfied" if top == "neutral" else "neutral"
    return {top: p, other: (1 - p) * 0.8, "confused": (1 - p) * 0.2}


def simulate_customers(
    n: int, weeks: int = 12, drift_share: float = 0.25, seed: int = 0, now: float = 1_800_000_000.0
) -> tuple[list[SimCustomer], list[CustomerSession]]:
    rng = random.Random(seed)
    customers, sessions = [], []
    for i in range(n):
        drift = rng.uniform(0.25, 0.55) if rng.random() < drift_share else 0.0
        c = SimCustomer(f"cust-{seed}-{i}", rng.uniform(0.05, 0.35), drift)
        customers.append(c)
        start = now - weeks * WEEK
        for w in range(weeks):
            rate = min(0.95, c.base_negative + c.drift * w / max(1, weeks - 1))
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                at = start + (w + rng.random()) * WEEK
                sessions.append(CustomerSession(c.id, at, _probs(rng, rng.random() < rate)))
    return customers, sessions

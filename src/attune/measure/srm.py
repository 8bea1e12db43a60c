"""Sample-ratio mismatch: are the arms as large as the split says? A mismatch (p < 0.001)
means assignment or logging is broken and the read-out must not be trusted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class SrmCheck:
    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    threshold: float

    @property
    def alert(self) -> bool:
        return self.p_value < self.threshold

    @property
    def message(self) -> str:
        if not self.alert:
            return f"arm sizes match the planned split (chi-square p = {self.p_value:.3g})"
        parts = ", ".join(
            f"{a} {self.observed[a]} vs {self.expected[a]:.0f} expected" for a in self.observed
        )
        return (
            f"sample-ratio mismatch (p = {self.p_value:.2g} < {self.threshold}): {parts}; "
            "check assignment and exposure logging before reading results"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "alert": self.alert, "message": self.message}


def srm_check(
    counts: Mapping[str, int], split: Mapping[str, float], threshold: float = SRM_ALPHA
) -> SrmCheck:
    """Chi-square goodness of fit of arm counts against the planned split (shares sum to 1)."""
    arms = list(split)
    if set(counts) - set(arms):
        raise ValueError(f"counts name arms not in the split: {sorted(set(counts) - set(arms))}")
    total_share = sum(split.values())
    if any(s <= 0 for s in split.values()) or abs(total_share - 1.0) > 1e-9:
        raise ValueError("split shares must be positive and sum to 1")
    observed = {a: int(counts.get(a, 0)) for a in arms}
    n = sum(observed.values())
    if n == 0:
        raise ValueError("no exposures yet")
    expected = {a: n * split[a] for a in arms}
    res = stats.chisquare([observed[a] for a in arms], [expected[a] for a in arms])
    return SrmCheck(observed, expected, float(res.statistic), float(res.pvalue), threshold)

"""CUPED (Deng et al. 2013): subtract the part of the metric a pre-period covariate predicts.

theta is estimated on both arms pooled (assignment is independent of the pre-period), so the
adjustment cannot create a difference between arms; it only removes variance (about rho^2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attune.measure.stats import LiftResult, welch_from_values


@dataclass(frozen=True)
class CupedResult:
    theta: float
    variance_reduction: float  # 1 - var(adjusted) / var(raw), pooled
    adjusted: LiftResult
    raw: LiftResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "theta": self.theta,
            "variance_reduction": self.variance_reduction,
            "adjusted": self.adjusted.to_dict(),
            "raw": self.raw.to_dict(),
        }


def cuped(
    y_control: Sequence[float],
    x_control: Sequence[float],
    y_treatment: Sequence[float],
    x_treatment: Sequence[float],
    alpha: float = 0.05,
    metric: str = "value",
) -> CupedResult:
    yc, xc = np.asarray(y_control, float), np.asarray(x_control, float)
    yt, xt = np.asarray(y_treatment, float), np.asarray(x_treatment, float)
    if yc.shape != xc.shape or yt.shape != xt.shape:
        raise ValueError("each arm needs one pre-period value per subject")
    y, x = np.concatenate([yc, yt]), np.concatenate([xc, xt])
    var_x = float(np.var(x, ddof=1))
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    mx = float(x.mean())
    adj_c, adj_t = yc - theta * (xc - mx), yt - theta * (xt - mx)
    adj_all = np.concatenate([adj_c, adj_t])
    var_y = float(np.var(y, ddof=1))
    reduction = 1.0 - float(np.var(adj_all, ddof=1)) / var_y if var_y > 0 else 0.0
    return CupedResult(
        theta,
        reduction,
        welch_from_values(adj_c.tolist(), adj_t.tolist(), alpha, metric),
        welch_from_values(yc.tolist(), yt.tolist(), alpha, metric),
    )

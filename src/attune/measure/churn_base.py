"""The churn report's base hazard: how likely a customer is to leave in a month at a given
tenure, before anything emotional is known. Calibrated at build time on real churn data (the
IBM Telco sample, read as survival data: ``tenure`` is the months a customer stayed, ``Churn``
says whether that stay ended in leaving or is still going on, i.e. censored) by

    python -m attune.measure.churn_base ../shared/datasets/telco_churn/train.csv

which writes ``churn_base.json`` next to this module: per tenure band the monthly hazard
(piecewise exponential: leavers in the band / customer-months spent in it), fitted on 70 % of
the rows and checked on the other 30 % (observed vs expected leavers per band, and the Poisson
log-likelihood against one constant hazard). That validates the *base hazard* on real
customers of a telecoms contract; it says nothing about the emotional trend (the data set has
no emotion), whose weights are still only checked on simulated customers. A company with its
own churn history should calibrate on that instead (same command, same columns: ``tenure``,
``Churn``).
"""

from __future__ import annotations

import csv
import json
import math
import random
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "churn_base.json"
BANDS = (0, 1, 3, 6, 12, 24, 48)  # band starts, months of tenure
HORIZON_MONTHS = 3  # the report's risk: leaving within the next three months
FALLBACK = 0.02  # monthly hazard when no calibration file ships (a stated guess)


def band_of(months: float) -> int:
    i = 0
    for k, start in enumerate(BANDS):
        if months >= start:
            i = k
    return i


def _read(path: Path) -> list[tuple[float, bool]]:
    rows = []
    with path.open(newline="") as f:
        for r in csv.DictReader(f):
            try:
                tenure = float(r["tenure"])
            except (KeyError, ValueError):
                continue
            left = str(r.get("Churn", "")).strip().lower() in ("yes", "1", "true")
            rows.append((tenure, left))
    return rows


def _bands_end() -> list[float]:
    return [*BANDS[1:], math.inf]


def _tally(rows: list[tuple[float, bool]]) -> tuple[list[float], list[int]]:
    """Customer-months at risk and leavers per band (a customer of tenure T spent the months
    of each band up to T; a leaver left during month T, in the band holding T - 1/2)."""
    exposure, events = [0.0] * len(BANDS), [0] * len(BANDS)
    for tenure, churned in rows:
        t = max(tenure, 0.5)  # tenure 0: half a month at risk
        for b, (lo, hi) in enumerate(zip(BANDS, _bands_end(), strict=True)):
            exposure[b] += max(0.0, min(t, hi) - lo)
        events[band_of(max(0.0, tenure - 0.5))] += churned  # left during the last month
    return exposure, events


def _fit(rows: list[tuple[float, bool]]) -> list[float]:
    exposure, events = _tally(rows)
    return [(events[b] + 0.5) / (exposure[b] + 1.0) for b in range(len(BANDS))]


def _loglik(hazard: list[float], exposure: list[float], events: list[int]) -> float:
    return sum(events[b] * math.log(hazard[b]) - hazard[b] * exposure[b] for b in range(len(BANDS)))


def calibrate(path: Path, seed: int = 13) -> dict[str, Any]:
    rows = _read(path)
    if len(rows) < 100:
        raise ValueError(f"{path}: need at least 100 rows with tenure and Churn")
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    cut = int(len(rows) * 0.7)
    fit = [rows[i] for i in order[:cut]]
    check = [rows[i] for i in order[cut:]]
    hazard = _fit(fit)
    fx, fe = _tally(fit)
    constant = sum(fe) / sum(fx)
    cx, ce = _tally(check)
    per_band = [
        {
            "from_month": start,
            "hazard": round(hazard[b], 5),
            "held_out_customer_months": round(cx[b], 1),
            "held_out_leavers": ce[b],
            "held_out_expected": round(cx[b] * hazard[b], 1),
        }
        for b, start in enumerate(BANDS)
    ]
    return {
        "source": f"{path.parent.name}/{path.name}",
        "rows": len(rows),
        "fitted_on": len(fit),
        "checked_on": len(check),
        "bands": per_band,
        "held_out_loglik": round(_loglik(hazard, cx, ce), 1),
        "held_out_loglik_constant_hazard": round(_loglik([constant] * len(BANDS), cx, ce), 1),
        "validated": "monthly base hazard per tenure band, on real churn (held-out 30 %)",
        "not_validated": "the emotional trend weights (no emotion in this data set); whether a "
        "telecoms contract's hazard fits your customers",
    }


@lru_cache(maxsize=1)
def base() -> dict[str, Any]:
    if HERE.is_file():
        data: dict[str, Any] = json.loads(HERE.read_text())
        return data
    return {
        "source": "none (no calibration file shipped)",
        "bands": [{"from_month": s, "hazard": FALLBACK} for s in BANDS],
        "validated": "nothing: a stated guess of 2 % a month",
        "not_validated": "the base hazard and the emotional trend weights",
    }


def base_risk(tenure_months: float) -> float:
    """Probability of leaving within ``HORIZON_MONTHS`` for a customer of this tenure, from
    the calibrated monthly hazards (tenure grows month by month over the horizon)."""
    bands = base()["bands"]
    stay = 1.0
    t = max(0.0, tenure_months) if math.isfinite(tenure_months) else 0.0
    for m in range(HORIZON_MONTHS):
        stay *= 1.0 - float(bands[band_of(t + m)]["hazard"])
    return 1.0 - stay


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        sys.exit("usage: python -m attune.measure.churn_base TELCO_CSV")
    out = calibrate(Path(args[0]))
    HERE.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

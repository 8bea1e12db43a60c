"""Churn early warning from a customer's emotional trend across sessions, week by week.

Per customer, week by week: the share of negative sessions, the mean valence (satisfied = +1,
negative states = -1, weighted by the session's probabilities) and the behaviour signals of
trouble per session (rage clicks, quick backs, form thrash ... : a customer Attune knows only
from clicks still has a read). A session in which nothing was noticed counts as neutral, not as
missing. The trend is the least-squares slope per week over the *weekly* values, weighted by
sessions per week, so sessions minutes apart cannot make it explode (every slope is bounded).

The risk of leaving within three months is the base risk for the customer's tenure (hazards
calibrated on real churn data, ``attune.measure.churn_base``) shifted on the log-odds scale by
the emotional evidence: a rising share of bad sessions, a falling valence and a high recent
negative share raise it. Those weights were fitted on simulated customers whose drift is known
(``attune.measure.customers``) and are not validated on real churn: no public churn data set
has emotion. Customers with too little data are not scored; the output states the rule.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from attune.measure.churn_base import HORIZON_MONTHS, base, base_risk
from attune.signals.taxonomy import CX_STATES, NEGATIVE_STATES

WEEK = 7 * 86400.0
RECENT_WEEKS = 3
MONTH = 30.44 * 86400.0
MIN_WEEKS = 2  # a trend needs at least two weeks with sessions
HISTORY_WEEKS = 52  # sessions older than a year say little about leaving now: left out
# Log-odds weights on the weekly slopes (per week), the recent negative share and the change in
# behaviour signals per session. Chosen by a logistic fit on simulated customers (seed 11) and
# rounded; checked on other seeds. REFERENCE is the evidence of a steady customer (one session
# in five negative), so a steady customer gets the base risk of their tenure.
W_SLOPE_NEG, W_SLOPE_VAL, W_RECENT, W_FRICTION = 12.0, -10.0, 6.0, 0.5
REFERENCE = W_RECENT * 0.2
MAX_LOGIT = 30.0  # beyond this the risk is 0 or 1 to any printed precision


@dataclass(frozen=True)
class CustomerSession:
    customer: str  # a pseudonymous subject
    at: float  # epoch seconds
    probs: dict[str, float]  # CX state distribution of the session (its mean state); {} = calm
    signals: int = 0  # behaviour signals of trouble in the session


def clean(probs: Any) -> dict[str, float]:
    """Known states only, finite values in [0, 1] (anything else from storage is dropped)."""
    out: dict[str, float] = {}
    if not isinstance(probs, dict):
        return out
    for k in CX_STATES:
        v = probs.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[k] = min(1.0, max(0.0, float(v)))
    return out


def valence(probs: dict[str, float]) -> float:
    neg = sum(probs.get(s, 0.0) for s in NEGATIVE_STATES)
    return max(-1.0, min(1.0, probs.get("satisfied", 0.0) - neg))


def negative(probs: dict[str, float]) -> bool:
    """The session's most likely state is a negative one (each state on its own: five negative
    states summed against neutral would call every behaviour-only session negative)."""
    if not probs:
        return False
    top = max(probs.items(), key=lambda kv: (kv[1], kv[0] == "neutral"))
    return top[0] in NEGATIVE_STATES and top[1] > 0.0


def expit(z: float) -> float:
    """The logistic function without overflow for any z (NaN reads as 0)."""
    if not math.isfinite(z):
        return 1.0 if z == math.inf else 0.0
    z = max(-MAX_LOGIT, min(MAX_LOGIT, z))
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logit(p: float) -> float:
    p = min(1.0 - 1e-9, max(1e-9, p))
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class Week:
    weeks_ago: int
    sessions: int
    negative_share: float
    valence: float
    signals_per_session: float


@dataclass(frozen=True)
class ChurnRisk:
    customer: str
    risk: float  # of leaving within HORIZON_MONTHS
    base_risk: float  # for the tenure alone, from the calibrated hazards
    tenure_months: float  # since the first session seen (a lower bound of the real tenure)
    sessions: int
    weeks: int
    recent_negative_share: float
    earlier_negative_share: float
    negative_share_slope: float  # per week
    valence_slope: float  # per week
    signals_change: float  # behaviour signals per session, recent minus earlier
    weekly_negative_share: list[float]
    evidence: str
    weekly: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _slope(x: list[float], y: list[float], w: list[float] | None = None) -> float:
    """Weighted least-squares slope of y on x; 0 when x does not vary or the fit fails."""
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    wa = np.ones_like(xa) if w is None else np.asarray(w, float)
    if len(xa) < 2 or len(set(xa.tolist())) < 2:
        return 0.0
    sw = float(wa.sum())
    mx, my = float((wa * xa).sum()) / sw, float((wa * ya).sum()) / sw
    sxx = float((wa * (xa - mx) ** 2).sum())
    if sxx <= 0:
        return 0.0
    slope = float((wa * (xa - mx) * (ya - my)).sum()) / sxx
    return slope if math.isfinite(slope) else 0.0


def score_customer(customer: str, sessions: list[CustomerSession], now: float) -> ChurnRisk:
    weeks: dict[int, list[CustomerSession]] = defaultdict(list)
    for s in sessions:
        weeks[int((now - s.at) // WEEK)].append(s)  # 0 = this week
    ago = sorted(weeks, reverse=True)  # oldest first
    read = [
        Week(
            w,
            len(weeks[w]),
            sum(negative(s.probs) for s in weeks[w]) / len(weeks[w]),
            sum(valence(s.probs) for s in weeks[w]) / len(weeks[w]),
            sum(min(s.signals, 1000) for s in weeks[w]) / len(weeks[w]),
        )
        for w in ago
    ]
    recent = [s for w in ago if w < RECENT_WEEKS for s in weeks[w]]
    earlier = [s for w in ago if w >= RECENT_WEEKS for s in weeks[w]]

    def share(ss: list[CustomerSession]) -> float:
        return sum(negative(s.probs) for s in ss) / len(ss)

    def friction(ss: list[CustomerSession]) -> float:
        return sum(min(s.signals, 1000) for s in ss) / len(ss)

    r_neg = share(recent) if recent else 0.0
    e_neg = share(earlier) if earlier else r_neg
    d_sig = friction(recent) - friction(earlier) if recent and earlier else 0.0
    # Slopes over the weekly values (time in weeks), weighted by sessions per week.
    x = [-float(wk.weeks_ago) for wk in read]
    n = [float(wk.sessions) for wk in read]
    s_neg = _slope(x, [wk.negative_share for wk in read], n)
    s_val = _slope(x, [wk.valence for wk in read], n)
    tenure = max(0.0, (now - min(s.at for s in sessions)) / MONTH)
    b = base_risk(tenure)
    lift = (
        W_SLOPE_NEG * s_neg
        + W_SLOPE_VAL * s_val
        + W_RECENT * r_neg
        + W_FRICTION * max(-4.0, min(4.0, d_sig))
        - REFERENCE
    )
    risk = expit(logit(b) + lift)
    evidence = (
        f"{len(sessions)} sessions over {len(ago)} active weeks; negative sessions "
        f"{e_neg:.0%} earlier vs {r_neg:.0%} in the last {RECENT_WEEKS} weeks; "
        f"negative share {s_neg:+.1%} per week, valence {s_val:+.2f} per week; "
        f"behaviour signals per session {d_sig:+.1f}; base risk for "
        f"{tenure:.1f} months' tenure {b:.1%}"
    )
    return ChurnRisk(
        customer,
        risk,
        b,
        tenure,
        len(sessions),
        len(ago),
        r_neg,
        e_neg,
        s_neg,
        s_val,
        d_sig,
        [round(wk.negative_share, 4) for wk in read],
        evidence,
        [asdict(wk) for wk in read],
    )


def rule(min_sessions: int) -> str:
    return (
        f"A customer is scored with at least {min_sessions} sessions in at least {MIN_WEEKS} "
        f"different weeks of the last {HISTORY_WEEKS}; risk = leaving within {HORIZON_MONTHS} "
        "months: the base risk of their tenure (since the first session seen) shifted by the "
        "emotional trend."
    )


def churn_warning(
    sessions: Iterable[CustomerSession], now: float, threshold: float = 0.5, min_sessions: int = 4
) -> dict[str, Any]:
    """Every customer's risk and the list at risk (risk >= threshold), riskiest first."""
    if not math.isfinite(now):
        raise ValueError("the reference time must be a finite number")
    by_customer: dict[str, list[CustomerSession]] = defaultdict(list)
    for s in sessions:
        at = s.at
        if (
            isinstance(at, (int, float))
            and math.isfinite(at)
            and 0 <= now - at <= HISTORY_WEEKS * WEEK
        ):
            by_customer[str(s.customer)].append(
                CustomerSession(s.customer, float(s.at), clean(s.probs), max(0, int(s.signals)))
            )
    few_sessions = few_weeks = 0
    scored = []
    for c, ss in by_customer.items():
        if len(ss) < min_sessions:
            few_sessions += 1
        elif len({int((now - s.at) // WEEK) for s in ss}) < MIN_WEEKS:
            few_weeks += 1
        else:
            scored.append(score_customer(c, ss, now))
    scored.sort(key=lambda r: -r.risk)
    at_risk = [r.to_dict() for r in scored if r.risk >= threshold]
    b = base()
    return {
        "customers": len(scored),
        "threshold": threshold,
        "horizon_months": HORIZON_MONTHS,
        "rule": rule(min_sessions),
        "skipped_few_sessions": few_sessions,
        "skipped_few_weeks": few_weeks,
        "calibration": {
            "base_hazard_source": b.get("source"),
            "validated": b.get("validated"),
            "not_validated": b.get("not_validated"),
        },
        "at_risk": at_risk,
        "all": [r.to_dict() for r in scored],
    }

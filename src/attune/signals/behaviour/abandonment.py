"""Abandonment risk from session-level shopping features (the UCI online-shoppers columns).

A behaviour helper: ``abandonment_risk(features)`` returns the probability that the session
ends without a purchase and a sentence saying why. Feature engineering lives here so training
and run time share it exactly; the model is the shipped ONNX artifact ``abandonment``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

MODEL = "abandonment"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NUMERIC = (
    "Administrative",
    "Administrative_Duration",
    "Informational",
    "Informational_Duration",
    "ProductRelated",
    "ProductRelated_Duration",
    "BounceRates",
    "ExitRates",
    "PageValues",
    "SpecialDay",
)
CATEGORICAL = ("Month", "VisitorType", "Weekend", "TrafficType")
COLUMNS = (*NUMERIC, *CATEGORICAL)
_LOGGED = (
    "Administrative_Duration",
    "Informational_Duration",
    "ProductRelated_Duration",
    "PageValues",
    "ProductRelated",
    "Administrative",
    "Informational",
)
_MONTH_FLAGS = ("Feb", "Mar", "May", "Nov", "Dec", "Oct", "Sep", "Jul", "Aug", "June")
_TRAFFIC_FLAGS = (1, 2, 3, 4, 5, 8, 10, 11, 13, 20)
_MONTH_ALIASES = {m.lower()[:3]: m for m in MONTHS}
# Heavy-tailed counts, durations and page values enter only as log1p: the same splits for the
# boosted trees, and better-placed random cut points for the extremely randomised trees.
_RAW = ("BounceRates", "ExitRates", "SpecialDay")
FEATURE_NAMES: tuple[str, ...] = (
    *_RAW,
    *(f"log_{c}" for c in _LOGGED),
    "pv_pos",
    "log_pages",
    "log_duration",
    "duration_per_page",
    "product_share",
    "exit_minus_bounce",
    "pv_x_exit",
    "pv_per_page",
    *(f"m_{m}" for m in _MONTH_FLAGS),
    "new_visitor",
    "returning_visitor",
    "weekend",
    *(f"tt_{t}" for t in _TRAFFIC_FLAGS),
)


def _num(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key, 0.0)
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"feature {key!r} must be a number, got {value!r}") from exc
    if math.isnan(out) or math.isinf(out):
        raise ValueError(f"feature {key!r} must be finite")
    return max(out, 0.0)


def _flag(value: Any) -> float:
    return 1.0 if str(value).strip().upper() in ("TRUE", "1", "YES") else 0.0


def engineer(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Rows with the dataset's columns (missing ones count as 0 / unknown) -> float32 matrix."""
    out = np.zeros((len(rows), len(FEATURE_NAMES)), dtype=np.float32)
    for i, row in enumerate(rows):
        n = {c: _num(row, c) for c in NUMERIC}
        pages = n["Administrative"] + n["Informational"] + n["ProductRelated"]
        duration = (
            n["Administrative_Duration"]
            + n["Informational_Duration"]
            + n["ProductRelated_Duration"]
        )
        month = _MONTH_ALIASES.get(str(row.get("Month", "")).strip().lower()[:3], "")
        visitor = str(row.get("VisitorType", ""))
        try:
            traffic = int(float(row.get("TrafficType", 0) or 0))
        except (TypeError, ValueError):
            traffic = 0
        values = [
            *(n[c] for c in _RAW),
            *(math.log1p(n[c]) for c in _LOGGED),
            float(n["PageValues"] > 0),
            math.log1p(pages),
            math.log1p(duration),
            math.log1p(duration / (pages + 1)),
            n["ProductRelated"] / (pages + 1),
            n["ExitRates"] - n["BounceRates"],
            math.log1p(n["PageValues"]) * max(0.0, 1 - n["ExitRates"] * 5),
            math.log1p(n["PageValues"] / (n["ProductRelated"] + 1)),
            *(float(month == m) for m in _MONTH_FLAGS),
            float(visitor == "New_Visitor"),
            float(visitor == "Returning_Visitor"),
            _flag(row.get("Weekend", False)),
            *(float(traffic == t) for t in _TRAFFIC_FLAGS),
        ]
        out[i] = values
    return out


@lru_cache(maxsize=1)
def _bundle() -> Any:
    from attune.models.runtime import load_bundle

    return load_bundle(MODEL)


def purchase_probability(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """P(purchase) per row from the shipped ONNX model."""
    bundle = _bundle()
    x = engineer(rows)
    name = bundle.session.get_inputs()[0].name
    outputs = bundle.session.run(None, {name: x})
    probs = np.asarray(outputs[1], dtype=np.float64)
    return calibrate(probs[:, 1], bundle.meta.get("calibration"))


def calibrate(p: np.ndarray, cal: Mapping[str, Any] | None) -> np.ndarray:
    """Platt scaling of the ensemble's score, fitted on out-of-fold predictions at training
    time (``meta.json`` ``calibration``: P = sigmoid(a * logit(score) + b)); identity if absent."""
    if not cal:
        return p
    q = np.clip(p, 1e-6, 1 - 1e-6)
    z = float(cal["a"]) * np.log(q / (1 - q)) + float(cal["b"])
    return 1.0 / (1.0 + np.exp(-z))


def threshold() -> float:
    """Purchase-probability cut-off tuned for purchase-class F1 (stored in meta.json)."""
    return float(_bundle().meta.get("threshold", 0.5))


def _reasons(row: Mapping[str, Any]) -> list[str]:
    n = {c: _num(row, c) for c in NUMERIC}
    reasons = []
    if n["PageValues"] == 0:
        reasons.append("no visited page has led to purchases before (page value 0)")
    else:
        reasons.append(f"visited pages carry value {n['PageValues']:.0f}")
    if n["ExitRates"] >= 0.05:
        reasons.append(f"the pages seen have a high exit rate ({n['ExitRates']:.0%})")
    if n["ProductRelated"] <= 2:
        reasons.append(f"only {n['ProductRelated']:.0f} product pages viewed")
    return reasons


def abandonment_risk(features: Mapping[str, Any]) -> tuple[float, str]:
    """(probability the session ends without a purchase, evidence a person can read)."""
    missing = [c for c in ("PageValues", "ExitRates", "ProductRelated") if c not in features]
    p_buy = float(purchase_probability([features])[0])
    risk = 1.0 - p_buy
    evidence = f"abandonment risk {risk:.0%}: " + "; ".join(_reasons(features))
    if missing:
        evidence += f" (missing {', '.join(missing)}: treated as 0)"
    return risk, evidence


# Path prefixes -> the dataset's page types; a shop maps its own paths with ``page_types``.
DEFAULT_PAGE_TYPES: dict[str, str] = {
    "/account": "Administrative",
    "/login": "Administrative",
    "/checkout": "Administrative",
    "/cart": "Administrative",
    "/help": "Informational",
    "/faq": "Informational",
    "/terms": "Informational",
    "/about": "Informational",
    "/pricing": "Informational",
    "/product": "ProductRelated",
    "/category": "ProductRelated",
    "/search": "ProductRelated",
}


def features_from_pages(
    pages: Sequence[tuple[str, float]],
    page_types: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Session features from (path, dwell seconds) page views, as the behaviour analyzer sees
    them. Bounce/exit rates and page values come from analytics, if at all (``extra``)."""
    types = page_types or DEFAULT_PAGE_TYPES
    out: dict[str, Any] = {
        "Administrative": 0,
        "Administrative_Duration": 0.0,
        "Informational": 0,
        "Informational_Duration": 0.0,
        "ProductRelated": 0,
        "ProductRelated_Duration": 0.0,
    }
    for path, dwell in pages:
        kind = next((t for prefix, t in types.items() if path.startswith(prefix)), "ProductRelated")
        out[kind] += 1
        out[f"{kind}_Duration"] += max(0.0, float(dwell))
    out.update(extra or {})
    return out


def abandonment_signal(features: Mapping[str, Any], at: float) -> Any:
    """A behaviour ``Signal`` named ``abandonment_risk`` (value = risk), for the analyzer."""
    from attune.signals.base import Signal
    from attune.signals.taxonomy import BEHAVIOUR_TO_CX, to_cx

    risk, evidence = abandonment_risk(features)
    known = sum(1 for c in ("PageValues", "ExitRates", "BounceRates") if c in features)
    version = str(_bundle().version)
    return Signal(
        modality="behaviour",
        name="abandonment_risk",
        value=risk,
        confidence=0.4 + 0.15 * known,
        evidence=evidence,
        at=at,
        cx=to_cx({"abandonment_risk": 1.0}, BEHAVIOUR_TO_CX),
        source=f"behaviour/abandonment@{version}",
        details={"purchase_probability": 1.0 - risk},
    )

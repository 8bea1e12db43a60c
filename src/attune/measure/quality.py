"""Model quality from people's feedback on the states Attune showed.

A feedback record says a shown state was right or wrong, or gives the true state. From those:
precision and recall per state, calibration (expected calibration error of the shown state's
confidence), the share of judgements that were uncertain, error rates per group with Wilson
intervals, drift of score distributions between versions of one model (population stability index;
the same analyzers at another version, never one modality against another),
and the lowest confidence threshold that meets a precision target.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from attune.signals.taxonomy import CX_STATES


@dataclass(frozen=True)
class Judgement:
    shown_state: str
    correct: bool | None = None  # the person's verdict on the shown state
    true_state: str | None = None  # or the state they say it was
    confidence: float | None = None  # the system's confidence in the shown state
    uncertain: bool = False  # the system itself marked the state uncertain
    group: str | None = None  # e.g. language, channel, age band (as the caller defines)
    model_version: str | None = None

    @property
    def is_correct(self) -> bool | None:
        if self.true_state is not None:
            return self.true_state == self.shown_state
        return self.correct


def per_state(judgements: Sequence[Judgement]) -> dict[str, dict[str, Any]]:
    """Precision per shown state; recall where people named the true state."""
    out: dict[str, dict[str, Any]] = {}
    for s in CX_STATES:
        shown = [
            j.is_correct for j in judgements if j.shown_state == s and j.is_correct is not None
        ]
        truly = [j for j in judgements if j.true_state == s]
        tp = sum(1 for j in truly if j.shown_state == s)
        prec = sum(shown) / len(shown) if shown else None
        rec = tp / len(truly) if truly else None
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else None
        out[s] = {
            "shown": len(shown),
            "precision": prec,
            "true": len(truly),
            "recall": rec,
            "f1": f1,
        }
    return out


def ece(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error over equal-width confidence bins, with the reliability table."""
    if len(confidence) != len(correct):
        raise ValueError("confidence and correct must have the same length")
    c, y = np.asarray(confidence, float), np.asarray(correct, float)
    if len(c) == 0:
        return {"ece": None, "bins": []}
    if np.any((c < 0) | (c > 1)):
        raise ValueError("confidence values must be in [0, 1]")
    idx = np.minimum((c * bins).astype(int), bins - 1)
    table, total = [], 0.0
    for b in range(bins):
        mask = idx == b
        if not mask.any():
            continue
        conf, acc = float(c[mask].mean()), float(y[mask].mean())
        total += mask.sum() / len(c) * abs(conf - acc)
        table.append({"bin": b, "n": int(mask.sum()), "confidence": conf, "accuracy": acc})
    return {"ece": float(total), "bins": table}


def group_errors(judgements: Sequence[Judgement], alpha: float = 0.05) -> dict[str, Any]:
    by: dict[str, list[bool]] = defaultdict(list)
    for j in judgements:
        if j.is_correct is not None:
            by[j.group or "(none)"].append(not j.is_correct)
    out = {}
    for g, errs in sorted(by.items()):
        k, n = sum(errs), len(errs)
        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
        out[g] = {"n": n, "error_rate": k / n, "ci": (float(lo), float(hi))}
    return out


def psi(expected: Sequence[float], actual: Sequence[float], bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` on the expected deciles.
    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 a real shift."""
    e, a = np.asarray(expected, float), np.asarray(actual, float)
    if len(e) < bins or len(a) == 0:
        raise ValueError(f"PSI needs at least {bins} reference scores and some new ones")
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    pe = np.histogram(e, edges)[0] / len(e)
    pa = np.histogram(a, edges)[0] / len(a)
    pe, pa = np.clip(pe, 1e-4, None), np.clip(pa, 1e-4, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def version_drift(
    scores: Mapping[str, Sequence[float]], reference: str | None = None
) -> dict[str, Any]:
    """PSI of each model version's score distribution against the reference version."""
    if not scores:
        return {}
    ref = reference or next(iter(scores))
    out: dict[str, Any] = {"reference": ref, "versions": {}}
    for v, s in scores.items():
        try:
            value = psi(scores[ref], s)
        except ValueError as exc:
            out["versions"][v] = {"n": len(s), "error": str(exc)}
            continue
        level = "stable" if value < 0.1 else "moderate shift" if value < 0.25 else "shifted"
        out["versions"][v] = {"n": len(s), "psi": value, "level": level}
    return out


def split_version(source: str) -> tuple[str, str]:
    """An analyzer source without its versions is its family: ``face@2/fer@3`` -> ``face/fer``.
    Only versions of one family are compared (behaviour against face is not a version change)."""
    if "@" not in source:  # a bare label ("v2"): versions of the one model
        return "model", source
    return re.sub(r"@[^/,]*", "", source), source


def drift_by_family(scores: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """Per analyzer family with more than one version: PSI of each version against the
    earliest (sorted first)."""
    families: dict[str, dict[str, Sequence[float]]] = defaultdict(dict)
    for version, values in scores.items():
        families[split_version(version)[0]][version] = values
    out: dict[str, Any] = {}
    for family, versions in sorted(families.items()):
        if len(versions) > 1:
            ordered = dict(sorted(versions.items()))
            out[family] = version_drift(ordered, next(iter(ordered)))
    return out


def propose_threshold(
    confidence: Sequence[float],
    correct: Sequence[bool],
    target_precision: float,
    min_support: int = 20,
) -> dict[str, Any]:
    """The lowest confidence threshold whose shown states meet ``target_precision``."""
    if not 0 < target_precision <= 1:
        raise ValueError("the precision target must be in (0, 1]")
    pairs = sorted(zip(confidence, correct, strict=True), key=lambda p: -p[0])
    best: dict[str, Any] | None = None
    hits = 0
    for i, (c, ok) in enumerate(pairs, start=1):
        hits += bool(ok)
        nxt = pairs[i][0] if i < len(pairs) else -math.inf
        if nxt == c:  # ties: a threshold keeps all of them or none
            continue
        if i >= min_support and hits / i >= target_precision:
            best = {
                "threshold": float(c),
                "precision": hits / i,
                "coverage": i / len(pairs),
                "support": i,
            }
    if best is None:
        return {
            "threshold": None,
            "target_precision": target_precision,
            "note": "no threshold reaches the target with enough support",
        }
    return {**best, "target_precision": target_precision}


def quality_report(
    judgements: Iterable[Judgement], target_precision: float = 0.8
) -> dict[str, Any]:
    js = list(judgements)
    judged = [j for j in js if j.is_correct is not None]
    with_conf = [j for j in judged if j.confidence is not None]
    conf = [float(j.confidence) for j in with_conf if j.confidence is not None]
    ok = [bool(j.is_correct) for j in with_conf]
    scores: dict[str, list[float]] = defaultdict(list)
    for j in js:
        if j.confidence is not None:
            scores[j.model_version or "(unknown)"].append(j.confidence)
    return {
        "judgements": len(js),
        "judged": len(judged),
        "agreement": sum(bool(j.is_correct) for j in judged) / len(judged) if judged else None,
        "uncertain_share": sum(j.uncertain for j in js) / len(js) if js else None,
        "per_state": per_state(js),
        "calibration": ece(conf, ok),
        "groups": group_errors(js),
        "drift": drift_by_family(dict(scores)),
        "threshold": propose_threshold(conf, ok, target_precision) if conf else None,
    }

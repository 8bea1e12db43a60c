"""Scores for speech-emotion predictions: accuracy, UAR, macro-F1, per-class recall, calibration,
and the same broken down by a group (speaker sex, corpus); speaker folds for unseen speakers."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

Labels = Sequence[str] | np.ndarray


def scores(y_true: Labels, y_pred: Labels, labels: Sequence[str]) -> dict[str, Any]:
    """Metrics over the classes in ``labels`` that occur in ``y_true`` (UAR = mean recall)."""
    yt, yp = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    present = [c for c in labels if np.any(yt == c)]
    recall = {c: float(np.mean(yp[yt == c] == c)) for c in present}
    f1 = {}
    for c in present:
        tp = float(np.sum((yp == c) & (yt == c)))
        prec = tp / max(float(np.sum(yp == c)), 1.0)
        rec = recall[c]
        f1[c] = 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)
    return {
        "n": len(yt),
        "accuracy": round(float(np.mean(yt == yp)), 4) if len(yt) else 0.0,
        "uar": round(float(np.mean(list(recall.values()))), 4) if recall else 0.0,
        "macro_f1": round(float(np.mean(list(f1.values()))), 4) if f1 else 0.0,
        "per_class_recall": {c: round(v, 4) for c, v in recall.items()},
    }


def confusion(y_true: Labels, y_pred: Labels, labels: Sequence[str]) -> list[list[int]]:
    idx = {c: i for i, c in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), int)
    for t, p in zip(y_true, y_pred, strict=True):
        if t in idx and p in idx:
            m[idx[t], idx[p]] += 1
    return m.tolist()


def ece(probs: np.ndarray, y_idx: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top-class probability."""
    conf = probs.max(axis=1)
    hit = probs.argmax(axis=1) == y_idx
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(hit[m].mean() - conf[m].mean())
    return round(float(total), 4)


def by_group(
    y_true: Labels, y_pred: Labels, groups: Labels, labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Error rate, UAR and n per group value (empty group values are left out)."""
    yt, yp, g = (np.asarray(a, dtype=object) for a in (y_true, y_pred, groups))
    out: dict[str, dict[str, Any]] = {}
    for value in sorted({str(v) for v in g if v}):
        m = g == value
        s = scores(yt[m], yp[m], labels)
        out[value] = {"n": s["n"], "error_rate": round(1 - s["accuracy"], 4), "uar": s["uar"]}
    return out


def sex_gap(by_sex: dict[str, dict[str, Any]]) -> float | None:
    """|UAR female - UAR male| from ``by_group`` over sex; None unless both are present."""
    if not {"female", "male"} <= by_sex.keys():
        return None
    return round(abs(by_sex["female"]["uar"] - by_sex["male"]["uar"]), 4)


def fit_temperature(logits: np.ndarray, y_idx: np.ndarray) -> float:
    """Temperature T minimising the log-loss of softmax(logits / T) on held-out rows."""
    logp = np.asarray(logits, np.float64)
    best, best_t = np.inf, 1.0
    for t in np.exp(np.linspace(np.log(0.05), np.log(8.0), 81)):
        z = logp / t
        z = z - z.max(axis=1, keepdims=True)
        lp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -float(np.mean(lp[np.arange(len(y_idx)), y_idx]))
        if nll < best:
            best, best_t = nll, float(t)
    return round(best_t, 4)


def speaker_folds(
    speakers: np.ndarray, folds: int, seed: int | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold by speaker (deterministic: the same speakers give the same folds).

    ``seed``: shuffle the speakers with it, then split them into folds of equal speaker count
    (``GroupKFold(shuffle=True)``): a fresh assignment per seed. None: folds balanced by clips."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(speakers.tolist()))
    if n_groups < 2:
        raise ValueError("speaker-independent validation needs at least two speakers")
    k = min(folds, n_groups)
    gkf = GroupKFold(n_splits=k) if seed is None else GroupKFold(k, shuffle=True, random_state=seed)
    return list(gkf.split(np.zeros(len(speakers)), groups=speakers))


def uar_of(z: np.ndarray, truth: np.ndarray, classes: Sequence[str]) -> float:
    """Unweighted average recall of argmax(z) over the classes present in ``truth``."""
    pred = np.asarray(classes, dtype=object)[z.argmax(axis=1)]
    rec = [float(np.mean(pred[truth == c] == c)) for c in classes if np.any(truth == c)]
    return float(np.mean(rec)) if rec else 0.0

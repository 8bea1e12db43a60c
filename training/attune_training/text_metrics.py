"""Metrics and calibration for the text models (numpy only: used by training and by eval).

- macro-F1 for multi-label (GoEmotions) and single-label (intents) predictions;
- per-label decision thresholds tuned on dev;
- temperature scaling fitted on dev (one scalar T that minimises the dev log-loss);
- expected calibration error (15 equal-width bins): ``classwise`` averages the binary ECE
  of each label (the multi-label case), ``top_label`` scores the top prediction's confidence
  against whether it was right (the single-label case).
"""

from __future__ import annotations

import numpy as np

from attune.signals.text.probs import (  # noqa: F401  (re-exported)
    group,
    group_probs,
    labels_above,
    sigmoid,
    softmax,
)

BINS = 15


def f1_per_label(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """y, pred: (n, k) booleans -> F1 per column (0 where never true nor predicted)."""
    y, pred = y.astype(bool), pred.astype(bool)
    tp = (y & pred).sum(0).astype(float)
    denom = (y.sum(0) + pred.sum(0)).astype(float)
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    return float(f1_per_label(y, pred).mean())


def one_hot(index: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(index), k), dtype=bool)
    out[np.arange(len(index)), index] = True
    return out


def tune_thresholds(probs: np.ndarray, y: np.ndarray, floor: float = 0.05) -> np.ndarray:
    """The per-label threshold that maximises that label's F1 on dev."""
    grid = np.arange(floor, 0.951, 0.01)
    out = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        yj = y[:, j].astype(bool)
        best = -1.0
        for t in grid:
            p = probs[:, j] >= t
            denom = p.sum() + yj.sum()
            f1 = 2 * (p & yj).sum() / denom if denom else 0.0
            if f1 > best:
                best, out[j] = f1, t
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray, multi_label: bool) -> float:
    """Temperature scaling: the T in [0.25, 8] (log grid, then refined) minimising dev NLL."""

    def nll(t: float) -> float:
        if multi_label:
            p = np.clip(sigmoid(logits / t), 1e-7, 1 - 1e-7)
            return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
        p = softmax(logits / t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)).mean())

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 41))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.9, best * 1.1, 21)
    return float(min(fine, key=nll))


def ece_binary(probs: np.ndarray, y: np.ndarray, bins: int = BINS) -> float:
    probs, y = probs.ravel(), y.ravel().astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.sum() * abs(probs[m].mean() - y[m].mean())
    return float(total / max(1, len(probs)))


def classwise_ece(probs: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean([ece_binary(probs[:, j], y[:, j]) for j in range(probs.shape[1])]))


def top_label_ece(probs: np.ndarray, y_index: np.ndarray) -> float:
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_index
    return ece_binary(conf, correct)

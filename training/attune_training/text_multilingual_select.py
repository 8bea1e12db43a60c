"""Choose the German rows' weight per head of the multilingual route by cross-validation over
the German train rows (k folds: fit on every other row, score the held-out German rows), a
temperature per head and the German `unknown` cut of the intent head from the same
out-of-fold answers.

Every dev set stays untouched, so the dev figures in the card are not tuned on. The emotion
head takes the CX head's weight (its German rows are the same messages, their state read as
an emotion); it is not a goal figure and a 28-label CV per weight costs more than it tells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attune.signals.text.probs import softmax
from attune_training import text_metrics as tm
from attune_training.text_heads import head_logits
from attune_training.text_multilingual import Part, fit
from attune_training.text_train import unknown_threshold

GRID = (10, 30, 100)  # 1 < 3 < 10 for CX in the first run (CV macro-F1 0.58, 0.66, 0.73)
SCORED = ("cx", "sentiment", "intent")


def _score(head: str, probs: np.ndarray, y: np.ndarray) -> float:
    if head == "intent":
        return float((probs.argmax(1) == y).mean())
    k = probs.shape[1]
    return tm.macro_f1(tm.one_hot(y, k), tm.one_hot(probs.argmax(1), k))


def out_of_fold(part: Part, head: str, weight: int, seed: int, k: int) -> np.ndarray:
    """Logits for every German row from a head that never saw its fold."""
    ger = np.flatnonzero(part.german)
    logits = np.zeros((len(ger), int(part.y.max()) + 1), dtype=np.float32)
    for f in range(k):
        fitted = fit(part, head, part.fold != f, weight, seed)
        rows = part.fold[ger] == f
        logits[rows] = head_logits(fitted, part.x[ger[rows]])
    return logits


def select(
    parts: dict[str, Part], seed: int, k: int, log: Any = print
) -> tuple[dict[str, int], dict[str, Any]]:
    """(weight per head, what was measured) for ``train_multilingual``."""
    weights: dict[str, int] = {}
    table: dict[str, dict[int, float]] = {}
    temperatures: dict[str, float] = {}
    ece: dict[str, dict[str, float]] = {}
    oof_intent = np.zeros((0, 0))
    for head in SCORED:
        part = parts[head]
        y = part.y[part.german].astype(int)
        table[head] = {}
        best, best_logits = -1.0, np.zeros((0, 0))
        for w in GRID:
            logits = out_of_fold(part, head, w, seed, k)
            table[head][w] = round(_score(head, softmax(logits), y), 4)
            log(f"{head} w={w}: {table[head][w]}")
            if table[head][w] > best:
                best, weights[head], best_logits = table[head][w], w, logits
        # the German rows weigh 10-100x, so raw softmaxes are sharp: one temperature per
        # head on the out-of-fold German logits of the chosen weight
        t = tm.fit_temperature(best_logits, y, False)
        temperatures[head] = round(t, 4)
        ece[head] = {
            "raw": round(tm.top_label_ece(softmax(best_logits), y), 4),
            "calibrated": round(tm.top_label_ece(softmax(best_logits / t), y), 4),
        }
        if head == "intent":
            oof_intent = softmax(best_logits / t)
    weights["emotion"] = weights["cx"]
    y_it = parts["intent"].y[parts["intent"].german].astype(int)
    selection = {
        "folds": k,
        "grid": list(GRID),
        "cv_scores": {h: {str(w): v for w, v in t.items()} for h, t in table.items()},
        "cv_metric": {"cx": "macro-F1", "sentiment": "macro-F1", "intent": "accuracy"},
        "temperatures": temperatures,
        "cv_top_label_ece": ece,
        # same rule as the English packs (no correct answer withheld), on calibrated German
        # out-of-fold answers
        "intent_unknown_threshold": unknown_threshold(oof_intent, y_it),
    }
    return weights, selection

"""Choosing the cascade threshold on carved-out train rows (numpy only)."""

from __future__ import annotations

import numpy as np

from attune_training.text_cascade import best_weight, cascade_accuracy, choose_threshold


def _probs(rows: list[tuple[int, float]], k: int = 3) -> np.ndarray:
    """One row per (top label, its probability); the rest shared evenly."""
    out = np.zeros((len(rows), k))
    for i, (label, p) in enumerate(rows):
        out[i] = (1 - p) / (k - 1)
        out[i, label] = p
    return out


def test_the_threshold_is_the_lowest_that_costs_no_row_from_there_up() -> None:
    y = np.array([0, 1, 2, 0, 1])
    full = _probs([(0, 0.9), (1, 0.9), (2, 0.9), (0, 0.9), (2, 0.6)])  # 4 of 5 right
    # quick: sure and right (0.97, 0.95), sure and wrong (0.8), unsure and right (0.55, 0.6)
    quick = _probs([(0, 0.97), (1, 0.95), (0, 0.8), (0, 0.55), (1, 0.6)])
    t = choose_threshold(quick, full, y)
    assert t == 0.81  # at 0.80 the quick stage's wrong answer would replace a right one
    assert cascade_accuracy(quick, full, y, t) == 0.8 == cascade_accuracy(quick, full, y, 1.0)
    assert cascade_accuracy(quick, full, y, 0.55) == 0.8  # a lucky low one does not count
    never = _probs([(1, 0.99)] * 5)
    assert choose_threshold(never, full, y) == 1.0


def test_best_weight_scans_a_tenth_grid() -> None:
    y = np.array([0, 1])
    a, b = _probs([(0, 0.9), (1, 0.4)]), _probs([(1, 0.6), (1, 0.6)])
    w, scan = best_weight(a, b, y)
    assert len(scan) == 11 and scan["0.0"] == 0.5
    assert w == 0.4 and scan["0.4"] == 1.0  # the lowest weight on ``a`` that gets both right

"""The German weight of the multilingual heads is chosen on held-out German train folds: the
folds are stratified and fixed by the seed, a fold's rows never train the head that scores
them, and German rows that disagree with the base data pull the weight up."""

from __future__ import annotations

import numpy as np

from attune_training.text_multilingual import German, Part, german_folds
from attune_training.text_multilingual_select import GRID, out_of_fold, select


def _german() -> German:
    cs = [{"text": f"t{i}", "intent": f"i{i % 4}", "state": "neutral"} for i in range(40)]
    fb = [{"text": f"f{i}", "label": ("negative", "neutral")[i % 2]} for i in range(20)]
    return German([], cs, fb)


def test_folds_are_stratified_and_seeded() -> None:
    cs_a, fb_a = german_folds(_german(), 5, 13)
    cs_b, _ = german_folds(_german(), 5, 13)
    assert (cs_a == cs_b).all()
    for f in range(5):  # every fold holds 2 rows of each of the 4 intents
        held = [i % 4 for i in np.flatnonzero(cs_a == f)]
        assert sorted(held) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert sorted(np.bincount(fb_a)) == [4] * 5


def _part(rng: np.random.Generator, n_base: int, n_ger: int, k: int) -> Part:
    """Three classes. Base rows: label = argmax of features 0-2. German rows: label = argmax
    of features 3-5, and features 0-2 point to another class, so only enough German weight
    gets German right."""
    xb = rng.normal(size=(n_base, 6))
    yb = xb[:, :3].argmax(1)
    xg = rng.normal(size=(n_ger, 6))
    yg = xg[:, 3:].argmax(1)
    xg[:, :3] = np.eye(3)[(yg + 1) % 3] * 1.5 + rng.normal(scale=0.3, size=(n_ger, 3))
    fold = np.concatenate([np.full(n_base, -1), np.arange(n_ger) % k])
    return Part(np.concatenate([xb, xg]), np.concatenate([yb, yg]), fold >= 0, fold)


def test_out_of_fold_never_sees_the_fold() -> None:
    rng = np.random.default_rng(0)
    part = _part(rng, 200, 40, 4)
    # poison one fold's labels: if it were trained on, its own rows would score well
    poison = part.german & (part.fold == 0)
    part.y[poison] = (part.y[poison] + 1) % 3
    probs = out_of_fold(part, "intent", 30, 13, 4)
    held = part.fold[part.german] == 0
    y = part.y[part.german]
    assert (probs[held].argmax(1) == y[held]).mean() < 0.5
    assert (probs[~held].argmax(1) == y[~held]).mean() > 0.7


def test_select_raises_the_weight_when_german_rows_disagree() -> None:
    rng = np.random.default_rng(1)
    parts = {h: _part(rng, 600, 60, 5) for h in ("cx", "sentiment", "intent")}
    weights, selection = select(parts, 13, 5, log=lambda _: None)
    assert weights["intent"] == max(GRID) and weights["emotion"] == weights["cx"]
    scores = selection["cv_scores"]["intent"]
    assert scores[str(max(GRID))] > scores[str(min(GRID))]
    assert 0.0 <= selection["intent_unknown_threshold"] < 1.0

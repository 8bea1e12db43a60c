"""Heads on the shared encoder features, stored as plain numpy weights (npz).

``mlp``: one hidden ReLU layer (sklearn MLPClassifier, multi-label with sigmoid outputs);
``linear``: logistic regression (one-vs-rest or multinomial). Features are standardised first.
``encoder``: the linear head fine-tuned together with the encoder (emotions only).
Run time computes the logits with two matrix products, no framework.
"""

from __future__ import annotations

import numpy as np

from attune.signals.text.heads import (  # noqa: F401  (re-exported for training code)
    ENCODER_HEADS,
    HEAD_FILE,
    encoder_head,
    head_logits,
    load_head,
    save_head,
)
from attune_training.text_tfidf import fit_linear


def fit_head(
    x: np.ndarray, y: np.ndarray, multi_label: bool, kind: str, seed: int, c: float = 1.0
) -> dict[str, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    if kind == "linear":
        coef, bias = fit_linear(z, y, multi_label, c, seed)
        return {"mean": mean, "scale": scale, "w1": coef, "b1": bias}
    if kind != "mlp":
        raise ValueError(f"unknown head kind {kind!r} (use mlp or linear)")
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(
        hidden_layer_sizes=(512,),
        alpha=1e-3 / max(c, 1e-6),
        batch_size=256,
        learning_rate_init=1e-3,
        max_iter=40,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=4,
        random_state=seed,
    )
    target = y if multi_label else y.astype(int)
    mlp.fit(z, target)
    w2, b2 = mlp.coefs_[1], mlp.intercepts_[1]
    if not multi_label and w2.shape[1] == 1:
        raise ValueError("an mlp head needs at least three labels")
    return {
        "mean": mean,
        "scale": scale,
        "w1": mlp.coefs_[0].astype(np.float32),
        "b1": mlp.intercepts_[0].astype(np.float32),
        "w2": w2.astype(np.float32),
        "b2": b2.astype(np.float32),
    }
